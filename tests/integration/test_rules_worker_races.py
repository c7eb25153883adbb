"""The rules worker against the clock and against the inspectors:

- a position stamped far ahead of the clock (ingest takes device times up to a day ahead)
  is not folded before its time: the real fixes after it stay new data, never "late", and
  no pass replays the day for them; the horizon never passes now + 5 min;
- an inspector's move committed between the worker's read of the stored violations and its
  write is seen: the audit trail never records a from-state the violation no longer had.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fleet.db import connect, create_pool
from supervision import rules_store, violation_store
from supervision.day_context import FUTURE_TOLERANCE_MS
from supervision.review import Event, State
from supervision.runner import RulesSettings, RulesWorker
from tests.integration.rules_worker_fixtures import (
    CST,
    evening_out,
    give_order,
    ms,
    running_ingest,
    scripted_day,
    seeded_car,
    send,
    settings_for,
    wait_for_trip,
)
from tests.waiting import wait_until

NOW = RulesSettings(settle_s=0.0)
HOUR_MS = 3_600_000


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


async def store_fixes(db, vehicle_id: int, times_ms: list[int], where: tuple[float, float],
                      seq0: int) -> None:
    """Parked fixes stored as ingest stores them (received now, by the wall clock: the
    worker tells late data by its arrival after the last pass)."""
    device_id = await db.fetchval("SELECT id FROM devices WHERE vehicle_id = $1", vehicle_id)
    days = sorted({datetime.fromtimestamp(t / 1000, CST).date() for t in times_ms})
    await db.execute("SELECT ensure_position_partitions($1, $2)", days[0], days[-1])
    received = datetime.now(UTC)
    await db.copy_records_to_table("positions", records=[
        (vehicle_id, device_id, rules_store.to_dt(t), seq0 + i, received, where[1], where[0],
         0.0, False) for i, t in enumerate(times_ms)],
        columns=["vehicle_id", "device_id", "ts", "seq", "received_at", "lat", "lon",
                 "speed_kmh", "acc"])


async def folded_until(db, vehicle_id: int) -> int:
    return rules_store.to_ms(await db.fetchval(
        "SELECT last_ts FROM rule_vehicle_state WHERE vehicle_id = $1", vehicle_id))


async def test_a_device_time_far_ahead_waits_for_its_time(db, pool):
    car, day = await seeded_car(db), scripted_day()
    clock = {"now": ms(day, "21:00") + 30_000}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    evening = list(range(ms(day, "20:00"), ms(day, "21:00") + 1, 60_000))
    ahead = ms(day, "21:00") + 20 * HOUR_MS          # a terminal's clock 20 h fast
    await store_fixes(db, car.vehicle_id, evening, car.lot, 1)
    await store_fixes(db, car.vehicle_id, [ahead], car.lot, 500)

    first = await worker.process(car.vehicle_id, evening[0])
    assert first.folded == len(evening)                  # not the one from tomorrow
    assert await folded_until(db, car.vehicle_id) == evening[-1]
    assert first.horizon_ms <= clock["now"] + FUTURE_TOLERANCE_MS

    # real time goes on: every fix after the last pass is new data, not a late one
    for minute in range(1, 11):
        clock["now"] = ms(day, "21:00") + minute * 60_000 + 30_000
        fix = ms(day, "21:00") + minute * 60_000
        await store_fixes(db, car.vehicle_id, [fix], car.lot, 10 + minute)
        result = await worker.process(car.vehicle_id, fix)
        assert result.replayed_from_ms is None, minute
        assert result.folded == 1
        assert result.horizon_ms <= clock["now"] + FUTURE_TOLERANCE_MS
    assert worker.stats["replays"] == 0

    # the tick marks the car from now, not from its clock's tomorrow (ingest's latest state
    # only moves forward: it holds the fix from tomorrow)
    await db.execute(
        """INSERT INTO latest_vehicle_state (vehicle_id, device_id, ts, received_at, lat, lon)
           SELECT vehicle_id, device_id, ts, received_at, lat, lon FROM positions
           WHERE vehicle_id = $1 AND ts = $2
           ON CONFLICT (vehicle_id) DO UPDATE SET ts = EXCLUDED.ts""",
        car.vehicle_id, rules_store.to_dt(ahead))
    assert await rules_store.mark_recent(pool, clock["now"] - HOUR_MS, clock["now"]) >= 1
    mark = await db.fetchval("SELECT from_ts FROM rule_dirty WHERE vehicle_id = $1", car.vehicle_id)
    assert rules_store.to_ms(mark) <= clock["now"]

    # its time comes: it is new data then
    clock["now"] = ahead + 60_000
    result = await worker.process(car.vehicle_id, clock["now"])
    assert result.replayed_from_ms is None and result.folded == 1
    assert await folded_until(db, car.vehicle_id) == ahead


async def test_a_state_folded_ahead_of_the_clock_is_refolded_once(db, pool):
    """A state a worker without the bound left ahead of the clock: one replay, then normal."""
    car, day = await seeded_car(db), scripted_day()
    clock = {"now": ms(day, "21:00") + 30_000}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    evening = list(range(ms(day, "20:00"), ms(day, "21:00") + 1, 60_000))
    await store_fixes(db, car.vehicle_id, evening, car.lot, 1)
    await worker.process(car.vehicle_id, evening[0])
    await db.execute("UPDATE rule_vehicle_state SET last_ts = last_ts + interval '20 hours' "
                     "WHERE vehicle_id = $1", car.vehicle_id)
    clock["now"] += 60_000
    fix = ms(day, "21:01")
    await store_fixes(db, car.vehicle_id, [fix], car.lot, 100)
    repaired = await worker.process(car.vehicle_id, fix)
    assert repaired.replayed_from_ms is not None
    assert await folded_until(db, car.vehicle_id) == fix
    clock["now"] += 60_000
    await store_fixes(db, car.vehicle_id, [fix + 60_000], car.lot, 101)
    after = await worker.process(car.vehicle_id, fix + 60_000)
    assert after.replayed_from_ms is None and after.folded == 1


async def blocked_by(db, pid: int) -> bool:
    return bool(await db.fetchval(
        """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
             AND pg_blocking_pids(pid) @> ARRAY[$1::int]""", pid))


async def test_an_inspectors_move_during_a_pass_is_not_overwritten(
        services, seeded_db_url, db, pool, unique_prefix, tmp_path):
    car, day = await seeded_car(db), scripted_day()
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    clock = {"now": ms(day, "21:40")}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    async with running_ingest(settings, db, car) as pub:
        await send(pub, settings.mqtt_topic_root, car, evening_out(car, day), db)
        await wait_for_trip(db, car, ms(day, "21:00"), ms(day, "21:26"))
    while await worker.run_once():
        pass
    r2 = await db.fetchrow("SELECT id, state, severity FROM violations WHERE rule_id = 'R2' "
                           "AND vehicle_id = $1", car.vehicle_id)
    assert (r2["state"], r2["severity"]) == ("open", "alarm")
    inspector = await db.fetchval("SELECT id FROM users WHERE username = 'inspector'")

    # the inspector sends R2 to the unit; before it commits, a late order covers the evening
    # and the worker takes the car
    async with pool.acquire() as web:
        move = web.transaction()
        await move.start()
        row = await violation_store.lock(web, r2["id"])
        await violation_store.move(web, row, Event.SEND, State.AWAITING_EXPLANATION, inspector,
                                   "", due=day + timedelta(days=3))
        await give_order(db, car, ms(day, "20:50"), ms(day, "21:50"))
        clock["now"] = ms(day, "21:45")
        passes = asyncio.create_task(worker.run_once())
        try:
            await wait_until(lambda: blocked_by(db, web.get_server_pid()), timeout_s=20,
                             interval_s=0.05)
        finally:
            await move.commit()
        await passes

    trail = await db.fetch("SELECT action, from_state, to_state FROM audit_log "
                           "WHERE subject = $1 ORDER BY id", f"violation:{r2['id']}")
    assert [t["action"] for t in trail[:2]] == ["detected", "send"]
    for before, after in zip(trail, trail[1:], strict=False):
        assert after["from_state"] == before["to_state"], [tuple(t) for t in trail]
    state = await db.fetchval("SELECT state FROM violations WHERE id = $1", r2["id"])
    assert state == trail[-1]["to_state"]
