"""Every statement that upserts many rows of rule_dirty takes them in vehicle_id order, so two
of them never wait on each other in a cycle (PostgreSQL reported "deadlock detected" between
ingest's mark and the rules tick's).

How it is seen: another transaction holds the row of the LOWEST car; the statement under test
runs and blocks. Taking its rows in vehicle_id order it blocks on that first row and holds no
other; taking them in any other order it already holds some of the others — exactly what
makes a cycle with a statement taking them in yet another order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from fleet.db import connect, create_pool
from supervision import rules_store, settings_store
from telemetry.model import Position
from telemetry.store import TelemetryStore
from tests.waiting import wait_until

CARS = 24


@pytest.fixture
async def db(seeded_db_url):
    conn = await connect(seeded_db_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(seeded_db_url):
    pool = await create_pool(seeded_db_url, min_size=1, max_size=6)
    yield pool
    await pool.close()


async def cars_with_devices(db: asyncpg.Connection) -> list[asyncpg.Record]:
    rows = await db.fetch(
        """SELECT v.id AS vehicle_id, d.id AS device_id, d.uid FROM vehicles v
           JOIN devices d ON d.vehicle_id = v.id ORDER BY v.id LIMIT $1""", CARS)
    assert len(rows) == CARS
    return rows


async def premark(db: asyncpg.Connection, vehicle_ids: list[int]) -> None:
    """Rows exist already: the statements update them (a row lock each), none inserts."""
    for vehicle_id in vehicle_ids:
        await rules_store.mark_dirty(db, vehicle_id, 4_100_000_000_000)  # 2099: any mark is older


async def others_locked_while_blocked(pool: asyncpg.Pool, vehicle_ids: list[int],
                                      statement: Callable[[], Awaitable[object]]) -> list[int]:
    """Runs `statement` while the lowest car's row is held; once it waits on that lock, which
    of the other cars' rows it holds."""
    lowest, others = min(vehicle_ids), sorted(set(vehicle_ids) - {min(vehicle_ids)})
    async with pool.acquire() as holder, pool.acquire() as probe:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("SELECT 1 FROM rule_dirty WHERE vehicle_id = $1 FOR UPDATE", lowest)
        task = asyncio.create_task(statement())
        try:
            async def blocked() -> bool:
                if task.done():
                    task.result()
                    raise AssertionError("the statement did not wait for the held row")
                return bool(await probe.fetchval(
                    """SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database()
                         AND pg_blocking_pids(pid) @> ARRAY[$1::int]""",
                    holder.get_server_pid()))

            await wait_until(blocked, timeout_s=20, interval_s=0.05)
            held = []
            for vehicle_id in others:
                try:
                    async with probe.transaction():
                        await probe.execute("SELECT 1 FROM rule_dirty WHERE vehicle_id = $1 "
                                            "FOR UPDATE NOWAIT", vehicle_id)
                except asyncpg.LockNotAvailableError:
                    held.append(vehicle_id)
        finally:
            await hold.rollback()
            await task
    return held


async def test_ingest_marks_its_cars_in_vehicle_order(db, pool):
    cars = await cars_with_devices(db)
    ids = [c["vehicle_id"] for c in cars]
    await premark(db, ids)
    store = TelemetryStore(pool)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    # one batch with every car, the highest ids first (as a batch arrives)
    batch = [Position(c["uid"], now_ms - 60_000 + i, now_ms, 30.6, 114.3, 0.0, 0, False,
                      seq=i + 1, device_id=c["device_id"], vehicle_id=c["vehicle_id"])
             for i, c in enumerate(reversed(cars))]
    held = await others_locked_while_blocked(pool, ids, lambda: store.write(batch, [], []))
    assert held == []


async def test_the_tick_marks_recent_cars_in_vehicle_order(db, pool):
    cars = await cars_with_devices(db)
    ids = [c["vehicle_id"] for c in cars]
    await premark(db, ids)
    now = datetime.now(UTC)
    # latest_vehicle_state written highest id first: a scan meets the lowest car last
    await db.execute("DELETE FROM latest_vehicle_state WHERE vehicle_id = ANY($1::int[])", ids)
    for i, car in enumerate(sorted(cars, key=lambda c: -c["vehicle_id"])):
        await db.execute(
            """INSERT INTO latest_vehicle_state (vehicle_id, device_id, ts, received_at, lat, lon)
               VALUES ($1, $2, $3, $3, 30.6, 114.3)""",
            car["vehicle_id"], car["device_id"], now - timedelta(seconds=i))
    now_ms = int(now.timestamp() * 1000)
    held = await others_locked_while_blocked(
        pool, ids, lambda: rules_store.mark_recent(pool, now_ms - 3_600_000, now_ms))
    assert held == []


async def test_a_request_marks_its_cars_in_vehicle_order(db, pool):
    ids = [c["vehicle_id"] for c in await cars_with_devices(db)]
    user = await db.fetchrow("SELECT id, org_id FROM users WHERE username = 'requester'")
    start = datetime.now(UTC) - timedelta(days=2)
    place = {"name": "某单位", "lat": 30.6, "lon": 114.3, "city_code": "420100"}
    request_id = await db.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passenger_count,
               planned_start, planned_end, origin, destinations, state)
           VALUES ($1, $2, 'official', '公务', 1, $3, $4, $5, $6, 'in_progress') RETURNING id""",
        user["id"], user["org_id"], start, start + timedelta(hours=2), place, [place])
    for vehicle_id in sorted(ids, reverse=True):    # one order per car, highest id first
        order_id = await db.fetchval(
            """INSERT INTO dispatch_orders (request_id, vehicle_id, state, planned_start,
                   planned_end) VALUES ($1, $2, 'returned', $3, $4) RETURNING id""",
            request_id, vehicle_id, start, start + timedelta(hours=2))
        await db.execute("INSERT INTO dispatch_order_requests (order_id, request_id, "
                         "passenger_count) VALUES ($1, $2, 1)", order_id, request_id)
    await premark(db, ids)

    async def complete() -> None:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE trip_requests SET state = 'completed' WHERE id = $1",
                               request_id)

    assert await others_locked_while_blocked(pool, ids, complete) == []


async def test_an_order_moved_to_another_car_marks_both_lowest_first(db, pool):
    low, high = sorted([c["vehicle_id"] for c in await cars_with_devices(db)])[:2]
    user = await db.fetchrow("SELECT id, org_id FROM users WHERE username = 'requester'")
    start = datetime.now(UTC) - timedelta(days=2)
    place = {"name": "某单位", "lat": 30.6, "lon": 114.3, "city_code": "420100"}
    request_id = await db.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passenger_count,
               planned_start, planned_end, origin, destinations, state)
           VALUES ($1, $2, 'official', '公务', 1, $3, $4, $5, $6, 'completed') RETURNING id""",
        user["id"], user["org_id"], start, start + timedelta(hours=2), place, [place])
    order_id = await db.fetchval(
        """INSERT INTO dispatch_orders (request_id, vehicle_id, state, planned_start, planned_end)
           VALUES ($1, $2, 'returned', $3, $4) RETURNING id""",
        request_id, high, start, start + timedelta(hours=2))
    await premark(db, [low, high])

    async def move() -> None:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE dispatch_orders SET vehicle_id = $2 WHERE id = $1",
                               order_id, low)

    assert await others_locked_while_blocked(pool, [low, high], move) == []
    marks = dict(await db.fetch("SELECT vehicle_id, from_ts FROM rule_dirty "
                                "WHERE vehicle_id = ANY($1::int[])", [low, high]))
    assert marks[low] == marks[high] == start - timedelta(days=1)


async def test_a_parameter_change_marks_its_cars_in_vehicle_order(db, pool):
    ids = [r["id"] for r in await db.fetch("SELECT id FROM vehicles ORDER BY id")]
    await premark(db, ids)
    admin = await db.fetchval("SELECT id FROM users WHERE username = 'admin'")

    async def platform_params() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await settings_store.add_rule_params(conn, None, "R2", {"night_from": "22:00"}, "",
                                                 admin, None)

    assert await others_locked_while_blocked(pool, ids, platform_params) == []
