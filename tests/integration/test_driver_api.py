"""The driver's page API: his orders of a day with what he needs, his steps through to the
return with the 行车日志, reassignment with a reason, and his phone's position relayed on MQTT
for a leased car without a terminal — exactly the device contract's payload, on the real
broker (a plain paho client subscribes to the topic)."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone

import httpx
import orjson
import paho.mqtt.client as mqtt

from fleet.mqtt_url import parse_mqtt_url
from fleet.stack import pick_port
from fleet.users import upsert_user
from telemetry.contract import decode_position
from tests.integration.test_trip_requests_api import body, event, users
from tests.integration.web_app import PASSWORD, assert_error, login, make_settings, new_client
from tests.trip_dates import working_day_at
from web.app import create_app

CST = timezone(timedelta(hours=8))
START = working_day_at(9)  # the next working day
DAY = START.date()


async def approved(app, requester, start=START, hours=6, **extra) -> dict:
    r = (await requester.post("/api/v1/trip-requests", json=body(start=start, hours=hours, **extra))).json()
    r = (await event(requester, r["id"], "submit", r["version"])).json()
    for approver_name in ("approver", "leader"):  # the city's leader: a second level, if any
        if r["state"] != "pending_approval":
            break
        async with new_client(app) as approver:
            await login(approver, approver_name)
            r = (await event(approver, r["id"], "approve", r["version"])).json()
    assert r["state"] == "approved", r
    return r


async def order_for(app, dispatcher, request_id: int) -> dict:
    created = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request_id})
    assert created.status_code == 201, created.text
    return created.json()


async def send(client, order: dict, name: str, **extra) -> dict:
    response = await client.post(f"/api/v1/dispatch-orders/{order['id']}/events",
                                 json={"event": name, "version": order["version"], **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def step(client, order: dict, name: str, **extra):
    return await client.post(f"/api/v1/driver/orders/{order['id']}/events",
                             json={"event": name, "version": order["version"], **extra})


async def platform_car_and_driver1(db) -> tuple[int, int]:
    vehicle = await db.fetchval(
        "SELECT id FROM vehicles WHERE home_city_code = '420100' AND source = 'platform' ORDER BY id LIMIT 1")
    driver = await db.fetchval(
        "SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id WHERE u.username = 'driver1'")
    return vehicle, driver


async def test_the_driver_sees_his_day_and_carries_the_order_out(app, client, db):
    await users(db)
    await db.execute("UPDATE users SET phone = '13900001111' WHERE username = 'requester'")
    await login(client, "requester")
    request = await approved(app, client, passengers=["张三", "李四"], passenger_count=2,
                             contact_phone="13800002222", driver_waits=False)
    earlier = await approved(app, client, start=START - timedelta(days=1), hours=3)
    vehicle, driver = await platform_car_and_driver1(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        order = await order_for(app, dispatcher, request["id"])
        assert_error(await step(phone, order, "driver_accept"), 404)  # not his yet
        order = await send(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)
        old = await send(dispatcher, await order_for(app, dispatcher, earlier["id"]), "assign",
                         vehicle_id=vehicle, driver_id=driver)

        listed = await phone.get(f"/api/v1/driver/orders?day={DAY}")
        assert listed.status_code == 200, listed.text
        day = listed.json()
        assert day["day"] == str(DAY)
        # yesterday's order, never finished, comes first; then today's
        assert [o["id"] for o in day["orders"]] == [old["id"], order["id"]]
        mine = day["orders"][1]
        assert mine["state"] == "assigned" and mine["version"] == order["version"]
        assert mine["allowed_events"] == ["driver_accept", "request_reassignment"]
        assert mine["plate"] == order["plate"] and mine["car_level"] and mine["has_terminal"]
        assert mine["shares_phone_location"] is False and mine["passenger_count"] == 2
        assert mine["origin"] == {"name": "市政府", "lat": 30.5928, "lon": 114.3055,
                                  "city_code": "420100", "city_name_zh": "武汉",
                                  "city_name_en": mine["origin"]["city_name_en"]}
        assert mine["origin"]["city_name_en"].startswith("Wuhan")
        assert [d["name"] for d in mine["destinations"]] == ["目的地"]
        assert mine["pickups"] == [mine["origin"]]
        [carried] = mine["requests"]
        assert carried["passengers"] == ["张三", "李四"] and carried["reason"] == "赴基层调研"
        assert carried["applicant_name"].startswith("用车人") and carried["applicant_phone"] == "13900001111"
        assert carried["contact_phone"] == "13800002222" and carried["driver_waits"] is False
        assert carried["unit_name_zh"] and carried["round_trip"] is True
        async def ids_on(day: date) -> list[int]:
            return [o["id"] for o in (await phone.get(f"/api/v1/driver/orders?day={day}")).json()["orders"]]

        assert await ids_on(DAY - timedelta(days=1)) == [old["id"]]
        assert await ids_on(DAY - timedelta(days=2)) == []
        assert await ids_on(DAY + timedelta(days=1)) == [old["id"], order["id"]]  # not finished
        later = (await phone.get(f"/api/v1/driver/orders?day={DAY - timedelta(days=2)}&later=true")).json()
        assert [o["id"] for o in later["orders"]] == [old["id"], order["id"]]  # 以后: held, ahead
        later = (await phone.get(f"/api/v1/driver/orders?day={DAY - timedelta(days=1)}&later=true")).json()
        assert [o["id"] for o in later["orders"]] == [order["id"]]

        # the steps, through to the return with the 行车日志
        order = (await step(phone, mine, "driver_accept")).json()
        assert order["state"] == "accepted"
        assert assert_error(await step(phone, order, "depart"), 422)["code"] == "missing_odometer"
        assert_error(await step(phone, order, "confirm"), 422)  # not a driver's step
        order = (await step(phone, order, "depart", odometer_km=12000.5)).json()
        stale = await step(phone, {**order, "version": order["version"] - 1}, "arrive_pickup")
        assert assert_error(stale, 409)["code"] == "stale_version"
        for name in ("arrive_pickup", "start_service", "end_service"):
            order = (await step(phone, order, name)).json()
        wrong = await step(phone, order, "end_service")
        assert assert_error(wrong, 409)["code"] == "illegal_transition"
        order = (await step(phone, order, "return", odometer_km=12086.3, tolls_cny="45.00",
                            parking_cny="10.00", fuel_cny="120.50", fuel_l="16.2",
                            nights_out_of_town=0)).json()
        assert order["state"] == "returned"
        back = next(o for o in (await phone.get(f"/api/v1/driver/orders?day={DAY}")).json()["orders"]
                    if o["id"] == order["id"])
        assert back["allowed_events"] == [] and back["odometer_end_km"] == 12086.3
        assert back["tolls_cny"] == "45.00" and back["fuel_l"] == "16.20"
        assert back["last_odometer_km"] == 12000.5  # its own departure (no terminal reading)
        nxt = next(o for o in (await phone.get(f"/api/v1/driver/orders?day={DAY}")).json()["orders"]
                   if o["id"] == old["id"])
        assert nxt["last_odometer_km"] == 12086.3  # the car's last return prefills the next
        assert await ids_on(DAY + timedelta(days=1)) == [old["id"]]  # back: that day's only
    assert (await client.get(f"/api/v1/trip-requests/{request['id']}")).json()["state"] == "completed"


async def test_reassignment_needs_a_reason_and_takes_the_order_away(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved(app, client)
    vehicle, driver = await platform_car_and_driver1(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        order = await send(dispatcher, await order_for(app, dispatcher, request["id"]), "assign",
                           vehicle_id=vehicle, driver_id=driver)
        refused = await step(phone, order, "request_reassignment", note="  ")
        assert assert_error(refused, 422)["code"] == "missing_reason"
        order = (await step(phone, order, "request_reassignment", note="车辆故障")).json()
        assert order["state"] == "created" and order["driver_id"] is None
        assert (await phone.get(f"/api/v1/driver/orders?day={DAY}")).json()["orders"] == []
        note = await db.fetchval(
            "SELECT note FROM dispatch_order_events WHERE order_id = $1 AND event = 'request_reassignment'",
            order["id"])
        assert note == "车辆故障"
        # only drivers use the drivers' API
        assert assert_error(await dispatcher.get("/api/v1/driver/orders"), 403)["code"] == "forbidden"
        assert_error(await client.post("/api/v1/driver/location", json=fix()), 403)
        assert_error(await phone.get("/api/v1/driver/orders?day=2026-13-01"), 422)
        today = (await phone.get("/api/v1/driver/orders")).json()
        assert today["day"] == str(datetime.now(CST).date())
    async with new_client(app) as anonymous:
        assert_error(await anonymous.get("/api/v1/driver/orders"), 401)


async def test_a_carpooled_order_shows_every_request_and_pickup(app, client, db):
    await users(db)
    await login(client, "requester")
    first = await approved(app, client, carpool_allowed=True, passengers=["张三"])
    second = await approved(
        app, client, start=START + timedelta(minutes=20), carpool_allowed=True,
        passengers=["王五", "赵六"], passenger_count=2,
        origin={"name": "市民之家", "lat": 30.6004, "lon": 114.2567, "city_code": "420100"},
        destinations=[{"name": "鄂州市政府", "lat": 30.3908, "lon": 114.895, "city_code": "420700"}])
    vehicle, driver = await platform_car_and_driver1(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        merged = await dispatcher.post("/api/v1/dispatch-orders",
                                       json={"request_ids": [first["id"], second["id"]]})
        assert merged.status_code == 201, merged.text
        await send(dispatcher, merged.json(), "assign", vehicle_id=vehicle, driver_id=driver)
        [order] = (await phone.get(f"/api/v1/driver/orders?day={DAY}")).json()["orders"]
    assert [r["id"] for r in order["requests"]] == [first["id"], second["id"]]
    assert order["passenger_count"] == 3
    assert [p["name"] for p in order["pickups"]] == ["市政府", "市民之家"]
    assert [(d["name"], d["city_name_zh"]) for d in order["destinations"]] == [
        ("目的地", "武汉"), ("鄂州市政府", "鄂州")]


def fix(**extra) -> dict:
    return {"lat": 30.5801, "lon": 114.2802, "accuracy_m": 8.5, "speed_kmh": 36.04,
            "heading_deg": 271.6, "ts": datetime.now(CST).replace(microsecond=250_000).isoformat(),
            **extra}


async def test_location_of_a_car_with_a_terminal_or_off_the_road_is_409(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved(app, client)
    vehicle, driver = await platform_car_and_driver1(db)
    async with new_client(app) as dispatcher, new_client(app) as phone:
        await login(dispatcher, "dispatcher")
        await login(phone, "driver1")
        order = await send(dispatcher, await order_for(app, dispatcher, request["id"]), "assign",
                           vehicle_id=vehicle, driver_id=driver)
        order = (await step(phone, order, "driver_accept")).json()
        off_road = await phone.post("/api/v1/driver/location", json=fix())
        assert assert_error(off_road, 409)["code"] == "no_active_order"
        await step(phone, order, "depart", odometer_km=100)
        has_terminal = await phone.post("/api/v1/driver/location", json=fix())
        error = assert_error(has_terminal, 409)
        assert error["code"] == "car_has_terminal" and error["details"]["device_uid"]
        ahead = await phone.post("/api/v1/driver/location",
                                 json=fix(ts=(datetime.now(CST) + timedelta(hours=1)).isoformat()))
        assert assert_error(ahead, 422)["code"] == "future_timestamp"
        assert_error(await phone.post("/api/v1/driver/location", json=fix(lat=91)), 422)
        naive = await phone.post("/api/v1/driver/location", json=fix(ts=START.replace(tzinfo=None).isoformat()))
        assert_error(naive, 422)
    assert await db.fetchval("SELECT count(*) FROM devices WHERE kind = 'phone'") == 0


# -- a leased car without a terminal, driven by a rental company's driver --------------------

@asynccontextmanager
async def app_with(settings) -> AsyncIterator:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def leased_car_on_the_road(app, db) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    """A request sent to RC-JIANGHAN, accepted with its car that has no terminal and its driver
    (who logs in as `driver_rc`), accepted and departed: yields his phone's client and the car."""
    await users(db)
    await upsert_user(db, username="driver_rc", display_name="唐鑫", org_code="420100-PF",
                      roles=["driver"], password=PASSWORD)
    company = await db.fetchval("SELECT id FROM rental_companies WHERE code = 'RC-JIANGHAN'")
    driver = await db.fetchval(
        """UPDATE drivers SET user_id = (SELECT id FROM users WHERE username = 'driver_rc')
           WHERE code = 'DRV-JIANGHAN-001' RETURNING id""")
    vehicle = await db.fetchval(
        """SELECT v.id FROM vehicles v WHERE v.rental_company_id = $1 AND v.home_city_code = '420100'
           AND v.car_level = 'sedan' AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.vehicle_id = v.id)
           ORDER BY v.id LIMIT 1""", company)
    assert vehicle is not None, "the scenario has a leased Wuhan sedan without a terminal"
    async with (new_client(app) as requester, new_client(app) as dispatcher,
                new_client(app) as admin, new_client(app) as phone):
        await login(requester, "requester")
        await login(dispatcher, "dispatcher")
        await login(admin, "admin")
        await login(phone, "driver_rc")
        request = await approved(app, requester)
        order = await send(dispatcher, await order_for(app, dispatcher, request["id"]),
                           "send_to_rental", rental_company_id=company, charter_type="trip",
                           service_mode="with_driver")
        order = await send(admin, order, "rental_accept", vehicle_id=vehicle, driver_id=driver)
        listed = (await phone.get(f"/api/v1/driver/orders?day={DAY}")).json()["orders"]
        assert [(o["has_terminal"], o["shares_phone_location"]) for o in listed] == [(False, True)]
        order = (await step(phone, order, "driver_accept")).json()
        (await step(phone, order, "depart", odometer_km=30500)).raise_for_status()
        yield phone, vehicle


def subscribe(url: str, topic: str) -> tuple[mqtt.Client, queue.Queue]:
    """A plain paho client on the topic (subscription acknowledged before it returns)."""
    address = parse_mqtt_url(url)
    received: queue.Queue = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:10]}",
                         protocol=mqtt.MQTTv311)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda c, u, message: received.put((message.topic, message.payload))
    client.connect(address.host, address.port)
    client.loop_start()
    assert subscribed.wait(10), "no SUBACK"
    return client, received


async def next_message(received: queue.Queue) -> tuple[str, dict]:
    topic, payload = await asyncio.to_thread(received.get, True, 10)
    return topic, orjson.loads(payload)


async def test_the_phone_reports_for_a_car_without_a_terminal(broker_settings, db, services):
    root = broker_settings.mqtt_topic_root
    async with app_with(broker_settings) as app:
        assert await app.state.resources.publisher.wait_connected(10)
        async with leased_car_on_the_road(app, db) as (phone, vehicle):
            topic = f"{root}/devices/phone-v{vehicle}/telemetry"
            subscriber, received = subscribe(services.mqtt_url, topic)
            try:
                sent = fix()
                accepted = await phone.post("/api/v1/driver/location", json=sent)
                assert accepted.status_code == 202, accepted.text
                assert accepted.json()["device_uid"] == f"phone-v{vehicle}"
                got_topic, payload = await next_message(received)
                local_ts = datetime.fromisoformat(sent["ts"]).strftime("%Y-%m-%dT%H:%M:%S.250+08:00")
                assert got_topic == topic
                assert payload == {"ts": local_ts, "lat": 30.5801, "lon": 114.2802, "fix": True,
                                   "speed_kmh": 36.0, "heading_deg": 272}
                # and the ingest's own decoder takes it
                position = decode_position(payload, f"phone-v{vehicle}", int(time.time() * 1000))
                assert (position.lat, position.lon, position.fix) == (30.5801, 114.2802, True)

                coarse = await phone.post("/api/v1/driver/location",
                                          json=fix(accuracy_m=1500, speed_kmh=None, heading_deg=None))
                assert coarse.status_code == 202, coarse.text
                _, payload = await next_message(received)
                assert payload["fix"] is False and "speed_kmh" not in payload
            finally:
                subscriber.disconnect()
                subscriber.loop_stop()
    phones = await db.fetch("SELECT uid, vehicle_id, kind, report_interval_s FROM devices WHERE kind = 'phone'")
    assert [tuple(r) for r in phones] == [(f"phone-v{vehicle}", vehicle, "phone", 10)]


async def test_no_broker_is_503(seeded_db_url, services, unique_prefix, db):
    settings = make_settings(seeded_db_url, services.redis_url, unique_prefix)
    async with app_with(settings.model_copy(update={"mqtt_url": None})) as app:
        assert app.state.resources.publisher is None
        async with new_client(app) as phone:
            await login(phone, "driver1")
            error = assert_error(await phone.post("/api/v1/driver/location", json=fix()), 503)
            assert error["code"] == "telemetry_unavailable"
    unreachable = f"mqtt://127.0.0.1:{pick_port(0)}"  # nothing listens there
    async with (app_with(settings.model_copy(update={"mqtt_url": unreachable})) as app,
                leased_car_on_the_road(app, db) as (phone, _)):
        error = assert_error(await phone.post("/api/v1/driver/location", json=fix()), 503)
        assert error["code"] == "telemetry_unavailable"
