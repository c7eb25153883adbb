"""A request let go after it got a car: withdrawn before any car left, its orders are cancelled
in the same transaction (car and driver freed, the driver, the company and the applicants
told) — unless a carpooled order still carries another request, which keeps it; an emergency
rejected before a car was held is rejected and can get no car any more."""

from __future__ import annotations

from tests.integration.test_dispatch_orders_api import (
    approved_request,
    car_and_drivers,
    order_event,
)
from tests.integration.test_trip_requests_api import (
    START,
    body,
    event,
    notifications,
    submitted,
    users,
)
from tests.integration.web_app import assert_error, login, new_client


async def orders_of(client, request_id: int) -> list[dict]:
    return (await client.get(f"/api/v1/dispatch-orders?request_id={request_id}")).json()


async def order_events(db, order_id: int) -> list[tuple]:
    rows = await db.fetch("""SELECT e.event, e.from_state, e.to_state, u.username, e.note, e.data
                             FROM dispatch_order_events e LEFT JOIN users u ON u.id = e.actor_id
                             WHERE e.order_id = $1 ORDER BY e.id""", order_id)
    return [tuple(r) for r in rows]


async def test_withdrawing_a_request_with_a_car_cancels_its_order(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        order = (await order_event(phone, order, "driver_accept")).json()
        assert order["state"] == "accepted"
        request = (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()
        assert request["state"] == "dispatched" and "withdraw" in request["allowed_events"]
        withdrawn = (await event(client, request["id"], "withdraw", request["version"])).json()
        assert withdrawn["state"] == "withdrawn"
        [after] = await orders_of(dispatcher, request["id"])
    assert after["state"] == "cancelled" and (after["vehicle_id"], after["driver_id"]) == (None, None)
    assert after["version"] == order["version"] + 1
    last = (await order_events(db, order["id"]))[-1]
    assert last[:5] == ("cancel", "accepted", "cancelled", "requester", "申请已撤回 request withdrawn")
    for username in ("driver1", "requester"):
        assert [n["order_id"] for n in await notifications(db, username, "order_cancelled")] == [order["id"]]
    # the car is free again for the same hours
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        other = await approved_request(app, client)
        again = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": other["id"]})).json()
        freed = await order_event(dispatcher, again, "assign", vehicle_id=vehicle, driver_id=driver)
        assert freed.status_code == 200, freed.text


async def test_an_order_sent_to_a_company_is_cancelled_and_the_company_told(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    company = await db.fetchval("SELECT rental_company_id FROM users WHERE username = 'rental1'")
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        sent = await order_event(dispatcher, order, "send_to_rental", rental_company_id=company,
                                 charter_type="full_day", service_mode="with_driver")
        assert sent.json()["state"] == "sent_to_rental", sent.text
        request = (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()
        assert request["state"] == "dispatching"
        assert (await event(client, request["id"], "withdraw", request["version"])).status_code == 200
        [after] = await orders_of(dispatcher, request["id"])
    assert after["state"] == "cancelled"
    assert [n["order_id"] for n in await notifications(db, "rental1", "order_cancelled")] == [order["id"]]


async def test_a_carpooled_order_keeps_going_with_the_other_request(app, client, db):
    await users(db)
    await login(client, "requester")
    first = await approved_request(app, client)  # carpool_allowed is asked below
    await db.execute("UPDATE trip_requests SET carpool_allowed = true WHERE id = $1", first["id"])
    second = (await client.post("/api/v1/trip-requests", json=body(carpool_allowed=True))).json()
    second = (await event(client, second["id"], "submit", second["version"])).json()
    async with new_client(app) as approver:
        await login(approver, "approver")
        second = (await event(approver, second["id"], "approve", second["version"])).json()
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        created = await dispatcher.post("/api/v1/dispatch-orders",
                                        json={"request_ids": [first["id"], second["id"]]})
        assert created.status_code == 201, created.text
        order = (await order_event(dispatcher, created.json(), "assign", vehicle_id=vehicle,
                                   driver_id=driver)).json()
        assert order["request_id"] == first["id"] and order["request_ids"] == [first["id"], second["id"]]
        lead = (await client.get(f"/api/v1/trip-requests/{first['id']}")).json()
        assert (await event(client, lead["id"], "withdraw", lead["version"])).status_code == 200
        kept = (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}")).json()
        assert kept["state"] == "assigned" and kept["vehicle_id"] == vehicle
        assert kept["request_id"] == second["id"] and kept["request_ids"] == [second["id"]]
        assert kept["passenger_count"] == 1 and kept["version"] == order["version"] + 1
        assert await orders_of(dispatcher, first["id"]) == []
        other = (await client.get(f"/api/v1/trip-requests/{second['id']}")).json()
        assert other["state"] == "dispatched"
        events = await order_events(db, order["id"])
        assert [e[0] for e in events] == ["assign", "request_removed"]
        assert events[-1][1:4] == ("assigned", "assigned", "requester")
        assert events[-1][5] == {"request_id": first["id"]}
        assert await notifications(db, "driver1", "order_cancelled") == []
        # the last one withdrawn too: now the order goes
        assert (await event(client, other["id"], "withdraw", other["version"])).status_code == 200
        gone = (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}")).json()
    assert gone["state"] == "cancelled"
    assert [e[0] for e in await order_events(db, order["id"])] == ["assign", "request_removed", "cancel"]


async def test_an_emergency_rejected_before_a_car_is_held_gets_none(app, client, db):
    await users(db)
    await login(client, "requester")
    r = await submitted(client, trip_type="emergency")
    waiting = await submitted(client, trip_type="emergency")
    async with new_client(app) as approver, new_client(app) as dispatcher:
        await login(approver, "approver")
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": waiting["id"]})).json()
        assert order["state"] == "created"
        rejected = (await event(approver, r["id"], "reject", r["version"], "非紧急事项")).json()
        assert (rejected["state"], rejected["emergency_approved"]) == ("rejected", False)
        refused = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": r["id"]})
        assert assert_error(refused, 409)["code"] in ("emergency_rejected", "request_not_dispatchable")
        # an order without a car yet is cancelled with it
        waiting = (await client.get(f"/api/v1/trip-requests/{waiting['id']}")).json()
        second = (await event(approver, waiting["id"], "reject", waiting["version"], "不符合应急条件")).json()
        assert second["state"] == "rejected"
        [cancelled] = await orders_of(dispatcher, waiting["id"])
        assert cancelled["state"] == "cancelled"
    told = await notifications(db, "requester", "request_rejected")
    assert [(n["request_id"], n["rejection_reason"]) for n in told] == [
        (r["id"], "非紧急事项"), (waiting["id"], "不符合应急条件")]
    last = (await order_events(db, order["id"]))[-1]
    assert last[:5] == ("cancel", "created", "cancelled", "approver", "应急申请被驳回 emergency rejected")


async def test_an_emergency_rejected_with_its_car_held_goes_on(app, client, db):
    await users(db)
    await login(client, "requester")
    r = await submitted(client, trip_type="emergency", start=START)
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as approver, new_client(app) as dispatcher:
        await login(approver, "approver")
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": r["id"]})).json()
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        r = (await client.get(f"/api/v1/trip-requests/{r['id']}")).json()
        assert r["state"] == "dispatched"
        rejected = (await event(approver, r["id"], "reject", r["version"], "事后补批不同意")).json()
        assert (rejected["state"], rejected["emergency_approved"]) == ("dispatched", False)
        kept = (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}")).json()
    assert kept["state"] == "assigned"
