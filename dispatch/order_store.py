"""PostgreSQL side of dispatch orders (派车单): create, load in the caller's reach, save a
transition with its event row (optimistic version), and the requests an order carries.

A double booking surfaces as asyncpg.ExclusionViolationError from the constraints of
migration 0004; the route answers 409.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from dispatch.store import StaleVersion

_ORDER_COLUMNS = """d.id, d.request_id, d.vehicle_id, d.driver_id, d.rental_company_id, d.state,
    d.planned_start, d.planned_end, d.departed_at, d.returned_at, d.odometer_start_km,
    d.odometer_end_km, d.version, d.created_at, v.plate, dr.name AS driver_name,
    dr.user_id AS driver_user_id"""

_ORDER_FROM = """FROM dispatch_orders d
    JOIN trip_requests r ON r.id = d.request_id
    JOIN organisations o ON o.id = r.org_id
    LEFT JOIN vehicles v ON v.id = d.vehicle_id
    LEFT JOIN drivers dr ON dr.id = d.driver_id"""


async def insert_order(conn: asyncpg.Connection, request_id: int) -> int:
    """A new order (待派车) for the request's planned window, carrying that request."""
    order_id = await conn.fetchval(
        """INSERT INTO dispatch_orders (request_id, planned_start, planned_end)
           SELECT id, planned_start, planned_end FROM trip_requests WHERE id = $1 RETURNING id""",
        request_id,
    )
    await conn.execute(
        """INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count)
           SELECT $1, id, passenger_count FROM trip_requests WHERE id = $2""",
        order_id, request_id,
    )
    return order_id


async def fetch_order_in_scope(
    conn: asyncpg.Connection | asyncpg.Pool, order_id: int, scope_root_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    sql = f"SELECT {_ORDER_COLUMNS} {_ORDER_FROM} WHERE d.id = $1 AND o.path @> ARRAY[$2::int]"
    if lock:
        sql += " FOR UPDATE OF d"
    return await conn.fetchrow(sql, order_id, scope_root_id)


async def orders_of_request(pool: asyncpg.Pool | asyncpg.Connection, request_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"SELECT {_ORDER_COLUMNS} {_ORDER_FROM} WHERE d.request_id = $1 ORDER BY d.id", request_id)


async def save_order(
    conn: asyncpg.Connection, order_id: int, version: int, from_state: str, to_state: str,
    event: str, actor_id: int, note: str, changes: dict[str, Any],
) -> int:
    """New state (and assignment or odometer fields) with its event row; StaleVersion if moved.
    A double booking surfaces as asyncpg.ExclusionViolationError (the caller answers 409)."""
    allowed = {"vehicle_id", "driver_id", "odometer_start_km", "odometer_end_km", "departed_at",
               "returned_at"}
    if set(changes) - allowed:
        raise ValueError(f"not an order field: {sorted(set(changes) - allowed)}")
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=4))
    sql = (f"UPDATE dispatch_orders SET state = $2, version = version + 1"
           f"{', ' + sets if sets else ''} WHERE id = $1 AND version = $3 RETURNING version")
    new_version = await conn.fetchval(sql, order_id, to_state, version, *changes.values())
    if new_version is None:
        raise StaleVersion
    await conn.execute(
        """INSERT INTO dispatch_order_events (order_id, event, from_state, to_state, actor_id, note)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        order_id, event, from_state, to_state, actor_id, note,
    )
    return new_version
