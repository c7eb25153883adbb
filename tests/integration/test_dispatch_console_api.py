"""The dispatcher's console API and the rules an assignment keeps: the queue, cars for an
order (best first, each with a driver, every car left out with its reason), carpool proposals
confirmed as one order carrying two requests, and the checks on a car (leased → via its
company, 年检 expired, too few seats), with who is told what."""

from __future__ import annotations

from datetime import date, timedelta

from tests.integration.test_dispatch_orders_api import (
    START,
    approved_request,
    car_and_drivers,
    order_event,
)
from tests.integration.test_driver_api import app_with, next_message, subscribe
from tests.integration.test_trip_requests_api import body, event, users
from tests.integration.web_app import assert_error, login, new_client

# Two requests from the Wuhan government to the same Wuchang venue, 10 minutes apart.
HALL = {"name": "市政府", "lat": 30.5928, "lon": 114.3055, "city_code": "420100"}
NEAR_HALL = {"name": "江汉路", "lat": 30.5870, "lon": 114.2960, "city_code": "420100"}
VENUE = {"name": "洪山礼堂", "lat": 30.5440, "lon": 114.3300, "city_code": "420100"}


async def _approved(app, client, **extra) -> dict:
    r = (await client.post("/api/v1/trip-requests", json=body(**extra))).json()
    r = (await event(client, r["id"], "submit", r["version"])).json()
    async with new_client(app) as approver:
        await login(approver, "approver")
        return (await event(approver, r["id"], "approve", r["version"])).json()


async def _notifications(db, username: str) -> list[str]:
    rows = await db.fetch(
        "SELECT n.kind FROM notifications n JOIN users u ON u.id = n.user_id "
        "WHERE u.username = $1 ORDER BY n.id", username)
    return [r["kind"] for r in rows]


async def test_queue_candidates_and_two_click_assignment(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        queue = (await dispatcher.get("/api/v1/dispatch/queue")).json()
        assert [r["id"] for r in queue["requests"]] == [request["id"]]
        assert queue["requests"][0]["open_orders"] == []
        before = (await dispatcher.get(f"/api/v1/dispatch/candidates?request_id={request['id']}")).json()
        assert before["order_id"] is None and before["request_ids"] == [request["id"]]
        assert_error(await dispatcher.get("/api/v1/dispatch/candidates"), 422)
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        offer = (await dispatcher.get(f"/api/v1/dispatch/candidates?order_id={order['id']}")).json()
        cars = offer["cars"]
        assert [c["vehicle_id"] for c in cars] == [c["vehicle_id"] for c in before["cars"]]
        assert cars and offer["drivers"] and offer["companies"]
        usable = [c for c in cars if c["reason"] is None]
        # best first: lower tier, usable before refused, then nearer
        assert usable[0] == cars[0] and usable[0]["driver_id"] is not None
        tiers = [c["tier"] for c in cars]
        assert tiers == sorted(tiers)
        assert {c["reason"] for c in cars} - {None} <= {
            "seats", "car_level", "booked", "document_annual_inspection", "document_insurance",
            "car_inactive"}
        leased = await db.fetchval("SELECT count(*) FROM vehicles WHERE source = 'leased' "
                                   "AND id = ANY($1::int[])", [c["vehicle_id"] for c in cars])
        assert leased == 0  # leased cars come through their company, not the car list
        best = usable[0]
        assigned = await order_event(dispatcher, offer | {"id": order["id"]}, "assign",
                                     vehicle_id=best["vehicle_id"], driver_id=best["driver_id"])
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["state"] == "assigned"
        queue = (await dispatcher.get("/api/v1/dispatch/queue")).json()
        assert queue["requests"] == []  # 已派车: off the queue
        assert [o["id"] for o in queue["on_the_road"]] == [order["id"]]
        again = (await dispatcher.get(f"/api/v1/dispatch/candidates?order_id={order['id']}")).json()
        mine = next(c for c in again["cars"] if c["vehicle_id"] == best["vehicle_id"])
        assert mine["reason"] == "booked"
        assert best["driver_id"] not in {d["id"] for d in again["drivers"]}


async def test_a_car_that_may_not_take_the_order_is_refused_with_its_reason(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await _approved(app, client, passengers=[], passenger_count=6)
    driver = await db.fetchval("SELECT id FROM drivers WHERE home_city_code = '420100' "
                               "AND rental_company_id IS NULL ORDER BY id LIMIT 1")
    sedan = await db.fetchval("SELECT id FROM vehicles WHERE home_city_code = '420100' "
                              "AND source = 'platform' AND seats = 5 ORDER BY id LIMIT 1")
    leased = await db.fetchval("SELECT id FROM vehicles WHERE home_city_code = '420100' "
                               "AND source = 'leased' ORDER BY id LIMIT 1")
    van = await db.fetchval("SELECT id FROM vehicles WHERE home_city_code = '420100' "
                            "AND source = 'platform' AND seats BETWEEN 7 AND 17 ORDER BY id LIMIT 1")
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        for vehicle, code in ((sedan, "seats"), (leased, "leased_via_company")):
            refused = await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)
            assert assert_error(refused, 409)["code"] == code
        await db.execute("UPDATE vehicle_documents SET expires_on = $2 "
                         "WHERE vehicle_id = $1 AND kind = 'annual_inspection'",
                         van, date.today() - timedelta(days=1))
        refused = await order_event(dispatcher, order, "assign", vehicle_id=van, driver_id=driver)
        error = assert_error(refused, 409)
        assert error["code"] == "document_annual_inspection" and "年检" in error["message"]
        await db.execute("UPDATE vehicle_documents SET expires_on = $2 WHERE vehicle_id = $1",
                         van, date.today() + timedelta(days=365))
        ok = await order_event(dispatcher, order, "assign", vehicle_id=van, driver_id=driver)
        assert ok.status_code == 200, ok.text
    assert await db.fetchval("SELECT count(*) FROM dispatch_order_events WHERE order_id = $1",
                             order["id"]) == 1  # the refusals wrote nothing


async def test_carpool_proposal_confirmed_as_one_order_for_two_requests(app, client, db):
    await users(db)
    await login(client, "requester")
    a = await _approved(app, client, origin=HALL, destinations=[VENUE], carpool_allowed=True)
    b = await _approved(app, client, origin=NEAR_HALL, destinations=[VENUE], carpool_allowed=True,
                        start=START + timedelta(minutes=10))
    alone = await _approved(app, client, origin=HALL, destinations=[VENUE], carpool_allowed=False)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        proposals = (await dispatcher.get("/api/v1/dispatch/carpool-proposals")).json()
        assert [p["request_ids"] for p in proposals] == [[a["id"], b["id"]]]
        assert proposals[0]["saved_km"] > 0 and proposals[0]["passengers"] == 2
        refused = await dispatcher.post("/api/v1/dispatch-orders",
                                        json={"request_ids": [a["id"], alone["id"]]})
        assert assert_error(refused, 409)["code"] == "carpool_not_allowed"
        merged = await dispatcher.post("/api/v1/dispatch-orders", json={"request_ids": [a["id"], b["id"]]})
        assert merged.status_code == 201, merged.text
        order = merged.json()
        assert order["request_ids"] == [a["id"], b["id"]] and order["passenger_count"] == 2
        assert order["planned_start"] < order["planned_end"]
        assert (await dispatcher.get("/api/v1/dispatch/carpool-proposals")).json() == []
        offer = (await dispatcher.get(f"/api/v1/dispatch/candidates?order_id={order['id']}")).json()
        best = next(c for c in offer["cars"] if c["reason"] is None)
        done = await order_event(dispatcher, order, "assign", vehicle_id=best["vehicle_id"],
                                 driver_id=best["driver_id"])
        assert done.status_code == 200, done.text
    for request in (a, b):
        state = (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()["state"]
        assert state == "dispatched"
        orders = (await client.get(f"/api/v1/dispatch-orders?request_id={request['id']}")).json()
        assert [o["id"] for o in orders] == [order["id"]]
    assert (await _notifications(db, "requester")).count("carpool_merged") == 1


async def test_who_is_told_and_the_requester_word(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        assert await _notifications(db, "driver1") == ["order_assigned"]
        assert "order_changed" in await _notifications(db, "requester")
        mine = (await phone.get("/api/v1/notifications?unread=true")).json()
        assert [n["kind"] for n in mine] == ["order_assigned"] and mine[0]["data"]["order_id"] == order["id"]
        marked = (await phone.post("/api/v1/notifications/read", json={"ids": [mine[0]["id"]]})).json()
        assert marked == {"marked": 1}
        assert (await phone.get("/api/v1/notifications?unread=true")).json() == []
        order = (await order_event(phone, order, "driver_accept")).json()
        order = (await order_event(phone, order, "depart", odometer_km=100.0)).json()
        for step in ("arrive_pickup", "start_service", "end_service"):
            order = (await order_event(phone, order, step)).json()
        order = (await order_event(phone, order, "return", odometer_km=180.5, tolls_cny="35.00",
                                   parking_cny="12.50", fuel_cny="120", fuel_l="16.4")).json()
        assert (order["tolls_cny"], order["parking_cny"], order["fuel_l"]) == ("35.00", "12.50", "16.40")
        assert order["arrived_pickup_at"] and order["service_ended_at"] and order["returned_at"]
        history = (await phone.get(f"/api/v1/dispatch-orders/{order['id']}/events")).json()
        assert [h["event"] for h in history][-1] == "return"
        # the requester's word: a dispute needs its reason; a rating 1-5 after confirming
        assert assert_error(await order_event(client, order, "dispute"), 422)["code"] == "missing_reason"
        assert_error(await order_event(phone, order, "confirm"), 403)  # not the driver's to confirm
        order = (await order_event(client, order, "confirm")).json()
        assert assert_error(await order_event(client, order, "rate"), 422)["code"] == "missing_rating"
        assert_error(await order_event(client, order, "rate", rating=6), 422)
        order = (await order_event(client, order, "rate", rating=5, feedback="准时")).json()
        assert (order["state"], order["rating"], order["feedback"]) == ("rated", 5, "准时")


async def test_console_is_for_dispatchers_and_stays_in_the_city(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    assert_error(await client.get("/api/v1/dispatch/queue"), 403)
    async with new_client(app) as dispatcher, new_client(app) as outsider:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        await login(outsider, "outsider")  # a Huangshi requester and approver
        assert_error(await outsider.get(f"/api/v1/dispatch-orders/{order['id']}"), 404)
        assert_error(await outsider.get(f"/api/v1/dispatch-orders/{order['id']}/events"), 404)
        await db.execute("UPDATE users SET roles = '{dispatcher}' WHERE username = 'outsider'")
        assert (await outsider.get("/api/v1/dispatch/queue")).json()["requests"] == []
        assert_error(await outsider.get(f"/api/v1/dispatch/candidates?order_id={order['id']}"), 404)


async def test_remote_reminder_reaches_the_driver(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    vehicle, driver, _ = await car_and_drivers(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        early = await dispatcher.post("/api/v1/dispatch/reminders", json={"order_id": order["id"], "text": "x"})
        assert assert_error(early, 409)["code"] == "order_not_active"  # no car, no driver yet
        await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)
        assert_error(await dispatcher.post("/api/v1/dispatch/reminders",
                                           json={"order_id": order["id"], "text": ""}), 422)
        sent = await dispatcher.post("/api/v1/dispatch/reminders",
                                     json={"order_id": order["id"], "text": "请于22:00前返回停放点"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["driver_notified"] is True
        mine = (await phone.get("/api/v1/notifications?unread=true")).json()
        reminder = next(n for n in mine if n["kind"] == "reminder")
        assert reminder["text"] == "请于22:00前返回停放点" and reminder["data"]["order_id"] == order["id"]
        assert_error(await phone.post("/api/v1/dispatch/reminders",
                                      json={"order_id": order["id"], "text": "hi"}), 403)


async def test_a_reminder_also_goes_to_the_cars_terminal(broker_settings, db, services):
    """远程提醒 as a text command on {root}/devices/{uid}/cmd (docs/device-contract.md)."""
    await users(db)
    vehicle, uid = await db.fetchrow(
        "SELECT v.id, d.uid FROM vehicles v JOIN devices d ON d.vehicle_id = v.id "
        "WHERE v.home_city_code = '420100' AND v.source = 'platform' ORDER BY v.id LIMIT 1")
    driver = await db.fetchval("SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id "
                               "WHERE u.username = 'driver1'")
    topic = f"{broker_settings.mqtt_topic_root}/devices/{uid}/cmd"
    subscriber, received = subscribe(services.mqtt_url, topic)
    try:
        async with app_with(broker_settings) as app, new_client(app) as requester, \
                new_client(app) as dispatcher:
            await login(requester, "requester")
            await login(dispatcher, "dispatcher")
            request = await approved_request(app, requester)
            order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
            await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)
            sent = await dispatcher.post("/api/v1/dispatch/reminders", json={
                "order_id": order["id"], "text": "前方拥堵，请提前出发", "tts": True})
            assert sent.status_code == 200, sent.text
            got_topic, command = await next_message(received)
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert got_topic == topic
    assert command == {"id": sent.json()["device_command_id"], "type": "text",
                       "text": "前方拥堵，请提前出发", "tts": True}


async def test_a_breakdown_on_the_road_changes_the_car(app, client, db):
    """换车: the order keeps its requests and its history; the new car and driver take over."""
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    first, second = [r["id"] for r in await db.fetch(
        "SELECT id FROM vehicles WHERE home_city_code = '420100' AND source = 'platform' "
        "AND seats >= 5 ORDER BY id LIMIT 2")]
    driver1 = await db.fetchval("SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id "
                                "WHERE u.username = 'driver1'")
    other = await db.fetchval("SELECT id FROM drivers WHERE home_city_code = '420100' AND id <> $1 "
                              "AND rental_company_id IS NULL ORDER BY id LIMIT 1", driver1)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = (await order_event(dispatcher, order, "assign", vehicle_id=first, driver_id=driver1)).json()
        assert_error(await order_event(dispatcher, order, "change_car", vehicle_id=second,
                                       driver_id=other), 409)  # not on the road yet: 改派 instead
        order = (await order_event(dispatcher, order, "driver_accept")).json()
        order = (await order_event(dispatcher, order, "depart", odometer_km=500)).json()
        missing = await order_event(dispatcher, order, "change_car", vehicle_id=second)
        assert assert_error(missing, 422)["code"] == "missing_assignment"
        missing = await order_event(dispatcher, order, "change_car", vehicle_id=second, driver_id=other)
        assert assert_error(missing, 422)["code"] == "missing_odometer"  # the broken car's reading
        changed = await order_event(dispatcher, order, "change_car", vehicle_id=second, driver_id=other,
                                    odometer_km=537.5)
        assert changed.status_code == 200, changed.text
        order = changed.json()
        assert (order["state"], order["vehicle_id"], order["driver_id"]) == ("assigned", second, other)
        assert order["departed_at"] is None and order["odometer_start_km"] is None  # its own leg next
        queue = (await dispatcher.get("/api/v1/dispatch/queue")).json()
        assert [(o["id"], o["vehicle_id"]) for o in queue["on_the_road"]] == [(order["id"], second)]
    history = await db.fetch("SELECT event, data FROM dispatch_order_events WHERE order_id = $1 ORDER BY id",
                             order["id"])
    assert [h["event"] for h in history] == ["assign", "driver_accept", "depart", "change_car"]
    leg = history[-1]["data"].pop("leg")
    assert history[-1]["data"] == {"vehicle_id": second, "driver_id": other}
    assert (leg["vehicle_id"], leg["driver_id"], leg["odometer_start_km"], leg["odometer_end_km"]) == (
        first, driver1, 500, 537.5)  # the broken car's leg is kept
    # the request stays on the road (在途) while the new car comes
    assert (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()["state"] == "in_progress"
