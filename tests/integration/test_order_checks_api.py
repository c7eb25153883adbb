"""What an order event must not let through (found by review): a second car for a request by
accident, an emergency whose approval was refused, another city's driver, absurd dates, an
odometer below the car's last return, nights away on an in-city trip; and a dispute that
reaches the dispatcher, who resolves it with corrected readings."""

from __future__ import annotations

import asyncio

from tests.integration.test_dispatch_orders_api import (
    approved_request,
    car_and_drivers,
    order_event,
)
from tests.integration.test_trip_requests_api import body, event, users
from tests.integration.web_app import assert_error, login, new_client


async def _kinds(db, username: str) -> list[str]:
    return [r["kind"] for r in await db.fetch(
        "SELECT n.kind FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = $1 "
        "ORDER BY n.id", username)]


async def test_two_dispatchers_opening_orders_for_one_request_get_one(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    async with new_client(app) as one, new_client(app) as two:
        await login(one, "dispatcher")
        await login(two, "admin")
        a, b = await asyncio.gather(
            one.post("/api/v1/dispatch-orders", json={"request_id": request["id"]}),
            two.post("/api/v1/dispatch-orders", json={"request_id": request["id"]}))
        assert sorted([a.status_code, b.status_code]) == [201, 409]
        refused = a if a.status_code == 409 else b
        assert refused.json()["error"]["code"] == "request_has_order"
        more = await one.post("/api/v1/dispatch-orders", json={"request_id": request["id"], "additional": True})
        assert more.status_code == 201  # a second car on purpose (a large group)
    assert await db.fetchval("SELECT count(*) FROM dispatch_order_requests WHERE request_id = $1",
                             request["id"]) == 2


async def test_a_refused_emergency_gets_no_car(app, client, db):
    await users(db)
    await login(client, "requester")
    r = (await client.post("/api/v1/trip-requests", json=body(trip_type="emergency"))).json()
    r = (await event(client, r["id"], "submit", r["version"])).json()
    assert r["state"] == "dispatching"  # dispatched first, approved afterwards
    async with new_client(app) as approver, new_client(app) as dispatcher:
        await login(approver, "approver")
        await login(dispatcher, "dispatcher")
        rejected = await event(approver, r["id"], "reject", r["version"], "并非紧急情况")
        assert rejected.status_code == 200, rejected.text
        refused = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": r["id"]})
        assert assert_error(refused, 409)["code"] in {"emergency_rejected", "request_not_dispatchable"}


async def test_cars_drivers_dates_and_readings_that_do_not_fit(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    vehicle, driver, _ = await car_and_drivers(db)
    huangshi_driver = await db.fetchval("SELECT id FROM drivers WHERE home_city_code = '420200' "
                                        "AND rental_company_id IS NULL ORDER BY id LIMIT 1")
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        other_city = await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=huangshi_driver)
        assert assert_error(other_city, 409)["code"] == "driver_other_city"
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        for bad in ("0001-01-01", "9999-12-31"):
            doc = await dispatcher.put(f"/api/v1/vehicle-documents/{vehicle}/insurance", json={"expires_on": bad})
            assert_error(doc, 422)
        await db.execute("UPDATE vehicle_documents SET expires_on = 'infinity' WHERE vehicle_id = $1 "
                         "AND kind = 'registration'", vehicle)  # written behind the API's back
        candidates = await dispatcher.get(f"/api/v1/dispatch/candidates?order_id={order['id']}")
        assert candidates.status_code == 200, candidates.text
        # the car came back from an earlier order at 20 000 km
        await db.execute(
            """INSERT INTO dispatch_orders (request_id, vehicle_id, state, planned_start, planned_end,
                   departed_at, returned_at, odometer_start_km, odometer_end_km)
               SELECT request_id, vehicle_id, 'confirmed', planned_start - interval '3 days',
                      planned_end - interval '3 days', planned_start - interval '3 days',
                      planned_end - interval '3 days', 19900, 20000 FROM dispatch_orders WHERE id = $1""",
            order["id"])
        order = (await order_event(dispatcher, order, "driver_accept")).json()
        low = await order_event(dispatcher, order, "depart", odometer_km=12000)
        error = assert_error(low, 422)
        assert error["code"] == "odometer_below_last_return" and error["details"]["last_km"] == 20000
        order = (await order_event(dispatcher, order, "depart", odometer_km=20000.4)).json()
        for step in ("arrive_pickup", "start_service", "end_service"):
            order = (await order_event(dispatcher, order, step)).json()
        nights = await order_event(dispatcher, order, "return", odometer_km=20050, nights_out_of_town=1)
        assert assert_error(nights, 422)["code"] == "nights_not_plausible"  # an in-city day
        back = await order_event(dispatcher, order, "return", odometer_km=20050)
        assert back.status_code == 200, back.text
    async with new_client(app) as phone:
        await login(phone, "driver1")
        assert_error(await phone.get("/api/v1/driver/orders?day=9999-12-31"), 422)
        assert_error(await phone.get("/api/v1/driver/orders?day=9999-12-31&later=true"), 422)


async def test_a_dispute_reaches_the_dispatcher_who_resolves_it(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        for name, extra in (("driver_accept", {}), ("depart", {"odometer_km": 100}), ("arrive_pickup", {}),
                            ("start_service", {}), ("end_service", {}),
                            ("return", {"odometer_km": 300, "tolls_cny": "80"})):
            order = (await order_event(dispatcher, order, name, **extra)).json()
        order = (await order_event(client, order, "dispute", note="实际只跑了约40公里")).json()
        assert order["state"] == "disputed"
        assert "order_disputed" in await _kinds(db, "dispatcher")
        queue = (await dispatcher.get("/api/v1/dispatch/queue")).json()
        [disputed] = queue["disputed"]
        assert (disputed["id"], disputed["dispute_reason"]) == (order["id"], "实际只跑了约40公里")
        no_note = await order_event(dispatcher, order, "resolve_dispute", odometer_km=140)
        assert assert_error(no_note, 422)["code"] == "missing_reason"
        resolved = await order_event(dispatcher, order, "resolve_dispute", odometer_km=140,
                                     tolls_cny="20", note="核对轨迹后按140公里计")
        assert resolved.status_code == 200, resolved.text
        order = resolved.json()
        assert (order["state"], order["odometer_end_km"], order["tolls_cny"]) == ("confirmed", 140, "20.00")
        assert float(order["billed_km"]) == 40.0  # priced again
        assert (await dispatcher.get("/api/v1/dispatch/queue")).json()["disputed"] == []
    assert "dispute_resolved" in await _kinds(db, "requester")
