"""The rules worker through the real pipeline: positions published over MQTT, stored by ingest
(which marks the car dirty), folded and judged by the worker's loop functions; violations with
frozen evidence and audit records; a late order and late positions retract with a reason; a
WARN reaches the car's terminal and its acknowledgement lands on the reminders row.
"""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import subprocess
import sys

import pytest

from fleet.db import connect, create_pool
from supervision import reminder_store, rules_store, zone_store
from supervision.episodes import Trackers, fresh_state, open_episodes
from supervision.runner import RulesSettings, RulesWorker
from supervision.vehicle_pass import ZoneSet
from tests.integration.rules_worker_fixtures import (
    Terminal,
    Track,
    back_in_lot,
    evening_out,
    give_order,
    ms,
    offset,
    running_ingest,
    scripted_day,
    seeded_car,
    send,
    settings_for,
    wait_for_trip,
)
from tests.waiting import wait_until
from web.mqtt_publisher import DevicePublisher

NOW = RulesSettings(settle_s=0.0)   # the tests wait for ingest's trips before the worker runs


@pytest.fixture
async def db(seeded_db_url):
    conn = await connect(seeded_db_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(seeded_db_url):
    pool = await create_pool(seeded_db_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


async def drain(worker: RulesWorker) -> None:
    while await worker.run_once():
        pass


async def violation(db, rule_id: str, vehicle_id: int):
    return await db.fetchrow(
        "SELECT * FROM violations WHERE rule_id = $1 AND vehicle_id = $2 ORDER BY id",
        rule_id, vehicle_id)


async def trail(db, violation_id: int) -> list:
    return await db.fetch("SELECT action, from_state, to_state, reason FROM audit_log "
                          "WHERE subject = $1 ORDER BY id", f"violation:{violation_id}")


async def evidence(db, violation_id: int) -> list:
    return await db.fetch("SELECT revision, reason, bundle FROM violation_evidence "
                          "WHERE violation_id = $1 ORDER BY revision", violation_id)


async def test_a_trip_without_an_order_is_an_alarm_until_a_late_order_covers_it(
        services, seeded_db_url, db, pool, unique_prefix, tmp_path):
    car, day = await seeded_car(db), scripted_day()
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    clock = {"now": ms(day, "21:40")}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    async with running_ingest(settings, db, car) as pub:
        await send(pub, settings.mqtt_topic_root, car, evening_out(car, day), db)
        await wait_for_trip(db, car, ms(day, "21:00"), ms(day, "21:26"))
    assert await db.fetchval("SELECT count(*) FROM rule_dirty WHERE vehicle_id = $1", car.vehicle_id)
    await drain(worker)

    r1 = await violation(db, "R1", car.vehicle_id)
    assert r1 is not None, await db.fetch("SELECT rule_id, severity FROM violations")
    assert (r1["severity"], r1["state"], r1["local_day"]) == ("alarm", "open", day)
    assert r1["finding_key"] == f"v{car.vehicle_id}:trip:{ms(day, '21:00')}"
    assert r1["params_version"] == 0 and r1["params"]["min_trip_m"] == 1000
    [rev1] = await evidence(db, r1["id"])
    bundle = rev1["bundle"]
    assert rev1["revision"] == 1 and rev1["reason"] == "detected"
    assert bundle["format"] == 1 and bundle["rule"]["id"] == "R1"
    assert bundle["vehicle"]["plate"] == car.plate and bundle["orders"] == []
    assert bundle["orders_checked"]["from"] and bundle["distance"]["gnss_km"] > 7
    assert 20 < len(bundle["track"]["coordinates"]) <= 1000
    assert [p["ts"][11:16] for p in bundle["points"]] == ["21:00", "21:26"]
    # the zones around it: the car's lot (where the trip began), never none
    lot_id = await db.fetchval("SELECT lot_geofence_id FROM vehicles WHERE id = $1", car.vehicle_id)
    lot = next(z for z in bundle["zones"] if z["id"] == lot_id)
    assert lot["purpose"] == "designated_lot" and lot["geojson"]["type"] == "Polygon"
    assert [(a["action"], a["to_state"]) for a in await trail(db, r1["id"])] == [("detected", "open")]
    r2 = await violation(db, "R2", car.vehicle_id)
    assert r2 is not None and r2["severity"] == "alarm"
    episodes = await db.fetch("SELECT kind, key, end_ts FROM vehicle_episodes WHERE vehicle_id = $1",
                              car.vehicle_id)
    lot_key = str(await db.fetchval("SELECT lot_geofence_id FROM vehicles WHERE id = $1", car.vehicle_id))
    assert any(e["kind"] == "zone" and e["key"] == lot_key and e["end_ts"] for e in episodes)

    # the order is entered afterwards (补录): the trigger marks the car, the worker retracts
    await give_order(db, car, ms(day, "20:50"), ms(day, "21:50"))
    clock["now"] = ms(day, "21:45")
    await drain(worker)
    r1 = await violation(db, "R1", car.vehicle_id)
    assert r1["state"] == "retracted"
    moves = await trail(db, r1["id"])
    assert [(a["action"], a["from_state"], a["to_state"]) for a in moves] == [
        ("detected", None, "open"), ("retract", "open", "retracted")]
    assert "covered by an order" in moves[-1]["reason"]
    revisions = await evidence(db, r1["id"])
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[1]["reason"].startswith("retracted:")
    assert revisions[1]["bundle"]["retraction"]["state_before"] == "open"
    r2 = await violation(db, "R2", car.vehicle_id)
    assert (r2["severity"], r2["state"]) == ("info", "open")      # covered: logged only
    assert [a["action"] for a in await trail(db, r2["id"])] == ["detected", "amended"]


async def test_a_warn_reminds_the_terminal_and_late_positions_retract_it(
        services, seeded_db_url, db, pool, unique_prefix, tmp_path):
    car, day = await seeded_car(db), scripted_day()
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    terminal = Terminal(services.mqtt_url, settings.mqtt_topic_root, car.uid)
    publisher = DevicePublisher(services.mqtt_url, topic_root=settings.mqtt_topic_root)
    publisher.start()
    assert await publisher.wait_connected(10)
    clock = {"now": ms(day, "21:40")}
    worker = RulesWorker(pool, NOW, publisher=publisher, clock=lambda: clock["now"])
    try:
        async with running_ingest(settings, db, car) as pub:
            out = evening_out(car, day)
            await send(pub, settings.mqtt_topic_root, car, out, db)
            await wait_for_trip(db, car, ms(day, "21:00"), ms(day, "21:26"))
            await drain(worker)
            assert await violation(db, "R4", car.vehicle_id) is None      # not 22:00 yet
            # the terminal is silent; the clock passes 22:00 and the tick looks again
            clock["now"] = ms(day, "22:05")
            await worker.tick()
            await drain(worker)
            r4 = await violation(db, "R4", car.vehicle_id)
            assert r4 is not None and (r4["severity"], r4["state"]) == ("warn", "open")
            assert r4["finding_key"] == f"v{car.vehicle_id}:night:{day.isoformat()}"
            assert 7000 < r4["summary"]["distance_to_lot_m"] < 9500

            reminder = await db.fetchrow("SELECT * FROM reminders WHERE violation_id = $1", r4["id"])
            assert reminder is not None and reminder["device_uid"] == car.uid
            assert reminder["published_at"] is not None and reminder["created_by"] is None
            assert "停放点" in reminder["text"] and reminder["tts"] is True

            async def acknowledged() -> bool:
                return await db.fetchval("SELECT acked_at IS NOT NULL FROM reminders WHERE id = $1",
                                         reminder["id"])

            await wait_until(acknowledged, timeout_s=15, interval_s=0.2)
            assert terminal.commands == [{"id": reminder["command_id"], "type": "text",
                                          "text": reminder["text"], "tts": True}]
            row = await db.fetchrow("SELECT ack_ok, ack_detail FROM reminders WHERE id = $1",
                                    reminder["id"])
            assert (row["ack_ok"], row["ack_detail"]) == (True, "shown and spoken")

            # a second pass sends nothing again
            await rules_store.mark_dirty(pool, car.vehicle_id, ms(day, "21:30"))
            await drain(worker)
            assert await db.fetchval("SELECT count(*) FROM reminders") == 1

            # the terminal is back at 22:08 in the lot: its first live fix says little yet
            live = Track(out.seq + 1000).park(ms(day, "22:08"), ms(day, "22:09"), car.lot)
            await send(pub, settings.mqtt_topic_root, car, live, db)
            clock["now"] = ms(day, "22:09")
            await drain(worker)
            assert (await violation(db, "R4", car.vehicle_id))["state"] == "open"
            # then the dead zone's 盲区补报: it was back in its lot before 22:00
            await send(pub, settings.mqtt_topic_root, car, back_in_lot(car, day, out.seq), db)
            await wait_for_trip(db, car, ms(day, "21:35"), ms(day, "21:56"))
        clock["now"] = ms(day, "22:15")
        replays = worker.stats["replays"]
        await drain(worker)
        assert worker.stats["replays"] == replays + 1       # folded again from the day's start
        r4 = await violation(db, "R4", car.vehicle_id)
        assert r4["state"] == "retracted"
        moves = await trail(db, r4["id"])
        assert [a["action"] for a in moves] == ["detected", "retract"]
        assert "in its lot" in moves[-1]["reason"]
        assert len(terminal.commands) == 1
        await assert_as_one_fold(db, car.vehicle_id)
    finally:
        publisher.close()
        terminal.close()


async def test_a_bad_acknowledgement_is_a_dead_letter(services, seeded_db_url, db, unique_prefix,
                                                      tmp_path):
    car = await seeded_car(db)
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    async with running_ingest(settings, db, car) as pub:
        topic = f"{settings.mqtt_topic_root}/devices/{car.uid}/cmd/ack"
        pub.publish(topic, b'{"id": 5, "ok": true}', qos=1)
        pub.publish(topic, b"not json", qos=1)
        pub.publish(topic, b'{"id": "nothing-sent", "ok": false}', qos=1)

        async def dead() -> bool:
            return await db.fetchval("SELECT count(*) FROM dead_letters WHERE topic = $1", topic) == 2

        await wait_until(dead, timeout_s=15, interval_s=0.2)
    reasons = sorted(r["reason"] for r in await db.fetch(
        "SELECT reason FROM dead_letters WHERE topic = $1", topic))
    assert reasons == ["bad_field", "bad_json"]


async def test_two_workers_never_claim_the_same_vehicle(seeded_db_url, db, pool):
    vehicle_ids = [r["id"] for r in await db.fetch("SELECT id FROM vehicles ORDER BY id LIMIT 40")]
    for vehicle_id in vehicle_ids:
        await rules_store.mark_dirty(db, vehicle_id, 1_790_000_000_000)
    other = await create_pool(seeded_db_url, min_size=1, max_size=2)
    try:
        # one worker's claim still in its transaction: the other skips what it locked
        async with db.transaction():
            held = await db.fetch(
                """SELECT vehicle_id FROM rule_dirty ORDER BY marked_at
                   FOR UPDATE SKIP LOCKED LIMIT 10""")
            during = await rules_store.claim(other, 100)
        assert {v for v, _ in during}.isdisjoint({r["vehicle_id"] for r in held})
        assert len(during) == len(vehicle_ids) - 10
        for vehicle_id in vehicle_ids:
            await rules_store.mark_dirty(db, vehicle_id, 1_790_000_000_000)
        claims = await asyncio.gather(*[rules_store.claim(p, 7) for p in (pool, other) * 6])
        taken = [v for claim in claims for v, _ in claim]
        assert len(taken) == len(set(taken)) and set(taken) <= set(vehicle_ids)
        rest = await rules_store.claim(pool, 100)
        assert sorted(taken + [v for v, _ in rest]) == sorted(vehicle_ids)
    finally:
        await other.close()


def start_rules_process(settings, db_url: str) -> subprocess.Popen:
    env = dict(os.environ, FLEET_DATABASE_URL=db_url, FLEET_MQTT_URL=settings.mqtt_url,
               FLEET_REDIS_URL=settings.redis_url, FLEET_MQTT_TOPIC_ROOT=settings.mqtt_topic_root,
               FLEET_DEMO="true", FLEET_RULES_POLL_S="0.2", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "fleet.cli", "rules"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def folded_through(db, vehicle_id: int, ts_ms: int) -> None:
    async def done() -> bool:
        last = await db.fetchval("SELECT last_ts FROM rule_vehicle_state WHERE vehicle_id = $1",
                                 vehicle_id)
        return last is not None and rules_store.to_ms(last) >= ts_ms

    await wait_until(done, timeout_s=30, interval_s=0.2)


async def assert_as_one_fold(db, vehicle_id: int) -> None:
    """What the worker wrote, in pieces and replays, equals one fold of every stored fix."""
    zones = ZoneSet.of(await zone_store.load_zones(db, include_inactive=True))
    fixes = await rules_store.fixes(db, vehicle_id, 0)
    whole = Trackers(zones.index, vehicle_id).fold(fresh_state(), fixes)
    expected = sorted((e.kind, e.key, e.start_ms, e.end_ms, e.data.get("fixes")) for e in
                      whole.episodes + open_episodes(whole.state, min_speeding_s=15))
    stored = await rules_store.episodes_between(db, vehicle_id, 0, 2**42)
    assert sorted((e.kind, e.key, e.start_ms, e.end_ms, e.data.get("fixes"))
                  for e in stored) == expected
    assert await db.fetchval("SELECT state FROM rule_vehicle_state WHERE vehicle_id = $1",
                             vehicle_id) == whole.state


async def test_the_worker_killed_and_restarted_continues_from_its_state(
        services, seeded_db_url, db, unique_prefix, tmp_path):
    car, day = await seeded_car(db), scripted_day()
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    out = evening_out(car, day)
    back = back_in_lot(car, day, out.seq)
    async with running_ingest(settings, db, car) as pub:
        await send(pub, settings.mqtt_topic_root, car, out, db)
        first = start_rules_process(settings, seeded_db_url)
        try:
            await folded_through(db, car.vehicle_id, out.items[-1]["ts"])
        finally:
            first.kill()                                   # kill -9: no goodbye
            first.communicate(timeout=10)
        state_before = await db.fetchrow("SELECT last_ts, state FROM rule_vehicle_state "
                                         "WHERE vehicle_id = $1", car.vehicle_id)
        await send(pub, settings.mqtt_topic_root, car, back, db)
        second = start_rules_process(settings, seeded_db_url)
        try:
            await folded_through(db, car.vehicle_id, back.items[-1]["ts"])
        finally:
            second.send_signal(signal.SIGTERM)
            log, _ = second.communicate(timeout=20)
    assert second.returncode == 0, log.decode()[-2000:]
    stopped = next(line for line in log.decode().splitlines() if "rules stopped:" in line)
    stats = ast.literal_eval(stopped.split("rules stopped: ", 1)[1])
    assert stats["positions_folded"] == len(back.items)     # from its state, not from scratch
    assert rules_store.to_ms(state_before["last_ts"]) == out.items[-1]["ts"]

    await assert_as_one_fold(db, car.vehicle_id)
    assert await db.fetchval("SELECT count(*) FROM rule_day_state WHERE vehicle_id = $1 AND day = $2",
                             car.vehicle_id, day) == 1


async def emergency(db, car, dispatched_ms: int, deadline_ms: int) -> int:
    order_id = await give_order(db, car, dispatched_ms, dispatched_ms + 3_600_000, state="departed")
    request_id = await db.fetchval("SELECT request_id FROM dispatch_orders WHERE id = $1", order_id)
    await db.execute(
        """UPDATE trip_requests SET trip_type = 'emergency', state = 'in_progress',
               emergency_deadline = $2 WHERE id = $1""",
        request_id, rules_store.to_dt(deadline_ms))
    await db.execute("UPDATE dispatch_orders SET created_at = $2 WHERE id = $1", order_id,
                     rules_store.to_dt(dispatched_ms))
    return request_id


async def test_an_emergency_request_not_approved_in_time_and_then_closed(db, pool):
    car, day = await seeded_car(db), scripted_day()
    dispatched, deadline = ms(day, "09:00"), ms(day, "09:00", day_offset=1)
    request_id = await emergency(db, car, dispatched, deadline)
    clock = {"now": deadline - 60_000}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    await worker.emergencies(clock["now"])
    assert await db.fetchval("SELECT count(*) FROM violations WHERE rule_id = 'R14'") == 0
    clock["now"] = deadline + 3_600_000
    await worker.emergencies(clock["now"])
    r14 = await db.fetchrow("SELECT * FROM violations WHERE rule_id = 'R14'")
    assert (r14["request_id"], r14["severity"], r14["state"]) == (request_id, "alarm", "open")
    assert r14["vehicle_id"] == car.vehicle_id and r14["finding_key"] == f"req:{request_id}"
    assert r14["org_id"] == await db.fetchval("SELECT org_id FROM trip_requests WHERE id = $1",
                                              request_id)
    await worker.emergencies(clock["now"] + 60_000)              # nothing new: nothing written
    assert len(await trail(db, r14["id"])) == 1
    # the approval had been given in time (entered late, with its time)
    await db.execute(
        """INSERT INTO trip_request_events (request_id, event, from_state, to_state, at)
           VALUES ($1, 'approve', 'in_progress', 'in_progress', $2)""",
        request_id, rules_store.to_dt(deadline - 600_000))
    await db.execute("UPDATE trip_requests SET emergency_approved = true WHERE id = $1", request_id)
    await worker.emergencies(clock["now"])
    moves = await trail(db, r14["id"])
    assert [(m["action"], m["to_state"]) for m in moves] == [("detected", "open"),
                                                              ("auto_close", "auto_closed")]
    assert "approved in time" in moves[-1]["reason"]


async def test_a_reminder_no_broker_took_is_sent_again_by_the_tick(services, db, pool, unique_prefix):
    car = await seeded_car(db)
    root = f"{unique_prefix}/v1"
    async with db.transaction():
        reminder = await reminder_store.create(db, vehicle_id=car.vehicle_id, device_uid=car.uid,
                                               text="请返回停放点")
    away = DevicePublisher("mqtt://127.0.0.1:1", topic_root=root)      # nobody listens there
    away.start()
    try:
        assert not await reminder_store.publish(pool, away, reminder, timeout_s=1.0)
    finally:
        away.close()
    assert [r.id for r in await reminder_store.unpublished(pool, 600)] == [reminder.id]
    terminal = Terminal(services.mqtt_url, root, car.uid)
    publisher = DevicePublisher(services.mqtt_url, topic_root=root)
    publisher.start()
    try:
        assert await publisher.wait_connected(10)
        worker = RulesWorker(pool, NOW, publisher=publisher)
        await worker.tick()
        assert worker.stats["reminders_published"] == 1
        await wait_until(lambda: asyncio.sleep(0, bool(terminal.commands)), timeout_s=10)
        assert terminal.commands[0]["id"] == reminder.command_id
        assert await reminder_store.unpublished(pool, 600) == []
    finally:
        publisher.close()
        terminal.close()


async def test_speeding_under_an_order_reminds_its_driver(services, seeded_db_url, db, pool,
                                                          unique_prefix, tmp_path):
    car, day = await seeded_car(db), scripted_day()
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    order_id = await give_order(db, car, ms(day, "09:30"), ms(day, "12:00"), state="departed")
    track = Track()
    track.park(ms(day, "09:40"), ms(day, "10:00"), car.lot)
    t, where = ms(day, "10:00"), car.lot
    for i in range(60):                                   # 10 min, 10 s apart: 60, 140 … 60 km/h
        speed = 140.0 if 20 <= i < 26 else 60.0
        where = offset(where, speed / 3.6 * 10)
        track.add(t + i * 10_000, where, speed, True)
    clock = {"now": ms(day, "10:12")}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    async with running_ingest(settings, db, car) as pub:
        await send(pub, settings.mqtt_topic_root, car, track, db)
    await drain(worker)
    r6 = await violation(db, "R6", car.vehicle_id)
    assert r6 is not None and (r6["severity"], r6["state"]) == ("warn", "open")
    assert r6["summary"]["max_speed_kmh"] == 140 and r6["summary"]["limit_kmh"] == 120
    assert r6["summary"]["duration_s"] == 50 and r6["order_ids"] == [order_id]
    assert r6["driver_id"] == 1
    reminder = await db.fetchrow("SELECT * FROM reminders WHERE violation_id = $1", r6["id"])
    driver_user = await db.fetchval("SELECT id FROM users WHERE username = 'driver1'")
    assert (reminder["order_id"], reminder["driver_user_id"]) == (order_id, driver_user)
    assert reminder["published_at"] is None                   # this worker has no broker
    notice = await db.fetchrow("SELECT * FROM notifications WHERE id = $1", reminder["notification_id"])
    assert (notice["user_id"], notice["kind"], notice["text"]) == (driver_user, "reminder",
                                                                   reminder["text"])
    assert "超速" in notice["text"] and notice["data"]["violation_id"] == r6["id"]
    bundle = (await evidence(db, r6["id"]))[0]["bundle"]
    assert bundle["driver"]["id"] == 1 and bundle["orders"][0]["id"] == order_id
    assert [p["speed_kmh"] for p in bundle["points"]] == [140.0]
