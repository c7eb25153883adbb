"""Dispatch orders over the API: a dispatcher assigns a car and a driver, the driver carries the
trip out on his own account, the requester confirms; the request follows its orders. A second
assignment of the same car within 30 min is a 409 from PostgreSQL's exclusion constraint."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.test_trip_requests_api import START, body, event, users
from tests.integration.web_app import assert_error, login, new_client


async def approved_request(app, client, start=START, hours=6) -> dict:
    r = (await client.post("/api/v1/trip-requests", json=body(start=start, hours=hours))).json()
    r = (await event(client, r["id"], "submit", r["version"])).json()
    async with new_client(app) as approver:
        await login(approver, "approver")
        return (await event(approver, r["id"], "approve", r["version"])).json()


async def order_event(client, order: dict, name: str, **extra):
    return await client.post(f"/api/v1/dispatch-orders/{order['id']}/events",
                             json={"event": name, "version": order["version"], **extra})


async def car_and_drivers(db) -> tuple[int, int, int]:
    vehicle = await db.fetchval(
        "SELECT id FROM vehicles WHERE home_city_code = '420100' AND source = 'platform' ORDER BY id LIMIT 1")
    driver1 = await db.fetchval("SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id "
                                "WHERE u.username = 'driver1'")
    other = await db.fetchval("SELECT id FROM drivers WHERE id <> $1 AND home_city_code = '420100' "
                              "AND rental_company_id IS NULL ORDER BY id LIMIT 1", driver1)
    return vehicle, driver1, other


async def test_assign_carry_out_confirm(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as dispatcher, new_client(app) as driver_phone:
        await login(dispatcher, "dispatcher")
        await login(driver_phone, "driver1")
        created = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})
        assert created.status_code == 201, created.text
        order = created.json()
        assert order["state"] == "created"
        assert_error(await order_event(driver_phone, order, "driver_accept"), 404)  # not his (yet)
        missing = await order_event(dispatcher, order, "assign", vehicle_id=vehicle)
        assert assert_error(missing, 422)["code"] == "missing_assignment"
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        assert order["state"] == "assigned" and order["plate"]
        assert (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()["state"] == "dispatched"
        order = (await order_event(driver_phone, order, "driver_accept")).json()
        assert_error(await order_event(driver_phone, order, "depart"), 422)  # odometer required
        order = (await order_event(driver_phone, order, "depart", odometer_km=12000.5)).json()
        assert (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()["state"] == "in_progress"
        for step in ("arrive_pickup", "start_service", "end_service"):
            order = (await order_event(driver_phone, order, step)).json()
        backwards = await order_event(driver_phone, order, "return", odometer_km=11999.0)
        assert assert_error(backwards, 422)["code"] == "odometer_backwards"
        order = (await order_event(driver_phone, order, "return", odometer_km=12086.3)).json()
        assert order["state"] == "returned" and order["odometer_end_km"] == 12086.3
        assert (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()["state"] == "completed"
        assert_error(await order_event(driver_phone, order, "cancel"), 403)
    confirmed = (await order_event(client, order, "confirm")).json()
    assert confirmed["state"] == "confirmed"
    events = await db.fetch("SELECT event FROM dispatch_order_events WHERE order_id = $1 ORDER BY id",
                            order["id"])
    assert [e["event"] for e in events] == [
        "assign", "driver_accept", "depart", "arrive_pickup", "start_service", "end_service",
        "return", "confirm"]


async def test_the_same_car_twice_within_30_minutes_is_409(app, client, db):
    await users(db)
    await login(client, "requester")
    first = await approved_request(app, client)
    # 15:20-18:20: starts 20 min after the first one ends (and ends before the night window)
    second = await approved_request(app, client, START + timedelta(hours=6, minutes=20), hours=3)
    vehicle, driver, other_driver = await car_and_drivers(db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        a = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": first["id"]})).json()
        b = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": second["id"]})).json()
        assert (await order_event(dispatcher, a, "assign", vehicle_id=vehicle, driver_id=driver)).status_code == 200
        refused = await order_event(dispatcher, b, "assign", vehicle_id=vehicle, driver_id=other_driver)
        error = assert_error(refused, 409)
        assert error["code"] == "double_booked" and "car" in error["message"]
        again = (await dispatcher.get(f"/api/v1/dispatch-orders?request_id={second['id']}")).json()
        assert [o["state"] for o in again] == ["created"]  # nothing half-written
        cancelled = (await order_event(dispatcher, (await dispatcher.get(
            f"/api/v1/dispatch-orders?request_id={first['id']}")).json()[0], "cancel")).json()
        assert cancelled["state"] == "cancelled" and cancelled["vehicle_id"] is None
        freed = await order_event(dispatcher, again[0], "assign", vehicle_id=vehicle, driver_id=other_driver)
        assert freed.status_code == 200, freed.text


async def test_a_request_not_yet_approved_gets_no_car(app, client, db):
    await users(db)
    await login(client, "requester")
    draft = (await client.post("/api/v1/trip-requests", json=body())).json()
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        refused = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": draft["id"]})
        assert assert_error(refused, 409)["code"] == "request_not_dispatchable"
        assert_error(await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": 99999999}), 404)
        assert_error(await dispatcher.post("/api/v1/dispatch-orders/1/events", json={"event": "x", "version": 1}), 422)
