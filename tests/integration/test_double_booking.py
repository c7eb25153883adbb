"""No double booking, enforced by PostgreSQL: two dispatchers assigning the same car (or the
same driver) to overlapping orders at the same moment — exactly one wins. The states the
database accepts are exactly those of the Python state machines."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from dispatch.orders import OrderState
from dispatch.trip_requests import RequestState
from fleet.db import connect
from tests.integration.minimal_fleet import insert_minimal_fleet

CST = timezone(timedelta(hours=8))
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=CST)


async def setup(conn: asyncpg.Connection) -> tuple[int, int, list[int]]:
    vehicles = await insert_minimal_fleet(conn)
    org_id = await conn.fetchval("SELECT id FROM organisations")
    user_id = await conn.fetchval(
        "INSERT INTO users (username, display_name, org_id, roles) VALUES ('r1', '申请人', $1, "
        "ARRAY['requester']) RETURNING id", org_id)
    driver_ids = [await conn.fetchval(
        "INSERT INTO drivers (code, name, phone, org_id, home_city_code) "
        "VALUES ($1, $2, '13800000000', $3, '420100') RETURNING id", f"D{i}", f"司机{i}", org_id)
        for i in range(2)]
    request_id = await conn.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passenger_count,
               planned_start, planned_end, origin, destinations)
           VALUES ($1, $2, 'official', '调研', 2, $3, $4, '{}'::jsonb, '[]'::jsonb) RETURNING id""",
        user_id, org_id, NINE, NINE + timedelta(hours=8))
    return request_id, next(iter(vehicles.values())), driver_ids


async def order(conn, request_id: int, start: datetime, hours: float) -> int:
    return await conn.fetchval(
        "INSERT INTO dispatch_orders (request_id, planned_start, planned_end) VALUES ($1, $2, $3) RETURNING id",
        request_id, start, start + timedelta(hours=hours))


ASSIGN = "UPDATE dispatch_orders SET vehicle_id = $2, driver_id = $3, state = 'assigned' WHERE id = $1"


async def test_two_dispatchers_assign_the_same_car_at_once_exactly_one_wins(migrated_db_url, db_conn):
    request_id, vehicle_id, drivers = await setup(db_conn)
    first = await order(db_conn, request_id, NINE, 2)
    second = await order(db_conn, request_id, NINE + timedelta(hours=1), 2)  # overlaps
    a, b = await connect(migrated_db_url), await connect(migrated_db_url)
    try:
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        await tb.start()
        await a.execute(ASSIGN, first, vehicle_id, drivers[0])

        async def second_dispatcher() -> str:
            try:
                await b.execute(ASSIGN, second, vehicle_id, drivers[1])  # waits on the first
                await tb.commit()
                return "won"
            except asyncpg.ExclusionViolationError as exc:
                await tb.rollback()
                return f"refused: {exc.constraint_name}"

        racing = asyncio.create_task(second_dispatcher())
        await asyncio.sleep(0.3)
        assert not racing.done()  # blocked by the first dispatcher's uncommitted assignment
        await ta.commit()
        outcome = await asyncio.wait_for(racing, timeout=10)
    finally:
        await a.close()
        await b.close()
    assert outcome == "refused: dispatch_orders_no_double_booked_car"
    rows = await db_conn.fetch("SELECT id, state, vehicle_id FROM dispatch_orders ORDER BY id")
    assert [(r["id"], r["state"]) for r in rows] == [(first, "assigned"), (second, "created")]


async def test_the_30_minute_buffer_and_states_that_free_the_car(db_conn):
    request_id, vehicle_id, drivers = await setup(db_conn)
    first = await order(db_conn, request_id, NINE, 2)  # 09:00-11:00
    await db_conn.execute(ASSIGN, first, vehicle_id, drivers[0])
    too_close = await order(db_conn, request_id, NINE + timedelta(hours=2, minutes=20), 1)
    with pytest.raises(asyncpg.ExclusionViolationError):
        await db_conn.execute(ASSIGN, too_close, vehicle_id, drivers[1])  # 20 min after: refused
    after_buffer = await order(db_conn, request_id, NINE + timedelta(hours=2, minutes=30), 1)
    await db_conn.execute(ASSIGN, after_buffer, vehicle_id, drivers[1])  # 30 min after: fine
    same_driver = await order(db_conn, request_id, NINE + timedelta(minutes=30), 1)
    with pytest.raises(asyncpg.ExclusionViolationError) as refused:
        await db_conn.execute(ASSIGN, same_driver, None, drivers[0])
    assert refused.value.constraint_name == "dispatch_orders_no_double_booked_driver"
    # a cancelled order frees its car and its driver
    await db_conn.execute("UPDATE dispatch_orders SET state = 'cancelled' WHERE id = $1", first)
    await db_conn.execute(ASSIGN, same_driver, vehicle_id, drivers[0])


async def test_database_states_are_the_state_machines_states(db_conn):
    request_id, _, _ = await setup(db_conn)
    order_id = await order(db_conn, request_id, NINE, 1)
    for state in OrderState:
        await db_conn.execute("UPDATE dispatch_orders SET state = $2 WHERE id = $1", order_id, state.value)
    for state in RequestState:
        await db_conn.execute("UPDATE trip_requests SET state = $2 WHERE id = $1", request_id, state.value)
    with pytest.raises(asyncpg.CheckViolationError):
        await db_conn.execute("UPDATE dispatch_orders SET state = 'lost' WHERE id = $1", order_id)
    with pytest.raises(asyncpg.CheckViolationError):
        await db_conn.execute("UPDATE trip_requests SET state = 'maybe' WHERE id = $1", request_id)
