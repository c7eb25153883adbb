"""PostgreSQL side of trip requests: load, save with optimistic concurrency, event history.

The adapter of the dispatch domain (the only dispatch module that imports asyncpg). A command
handler owns its transaction: it loads the request FOR UPDATE, applies the pure transition
(dispatch.trip_requests.apply) and saves it with its event row, all or nothing.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from dispatch.trip_requests import RequestState, TripRequest, TripType

_COLUMNS = """r.id, r.trip_type, r.reason, r.passengers, r.passenger_count, r.planned_start,
    r.planned_end, r.origin, r.destinations, r.round_trip, r.car_level_wanted,
    r.carpool_allowed, r.state, r.approval_levels, r.approved_levels, r.emergency_deadline,
    r.emergency_approved, r.version, r.created_at, r.applicant_id, r.org_id,
    o.city_code AS home_city, o.name_zh AS org_name_zh, o.name_en AS org_name_en"""

_FROM = "FROM trip_requests r JOIN organisations o ON o.id = r.org_id"

# The domain reasons in local time (night windows, holidays): PostgreSQL hands back UTC.
LOCAL = ZoneInfo("Asia/Shanghai")


class StaleVersion(Exception):
    """Someone changed the request since the caller read it."""


def to_domain(row: asyncpg.Record) -> TripRequest:
    return TripRequest(
        id=row["id"],
        trip_type=TripType(row["trip_type"]),
        home_city=row["home_city"] or "",
        destination_cities=tuple(d.get("city_code", "") for d in row["destinations"]),
        planned_start=row["planned_start"].astimezone(LOCAL),
        planned_end=row["planned_end"].astimezone(LOCAL),
        state=RequestState(row["state"]),
        approval_levels=row["approval_levels"],
        approved_levels=row["approved_levels"],
        emergency_deadline=row["emergency_deadline"],
        emergency_approved=row["emergency_approved"],
    )


async def insert(conn: asyncpg.Connection, applicant_id: int, org_id: int, body: dict[str, Any]) -> int:
    return await conn.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passengers,
               passenger_count, planned_start, planned_end, origin, destinations, round_trip,
               car_level_wanted, carpool_allowed)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id""",
        applicant_id, org_id, body["trip_type"], body["reason"], body["passengers"],
        body["passenger_count"], body["planned_start"], body["planned_end"], body["origin"],
        body["destinations"], body["round_trip"], body["car_level_wanted"],
        body["carpool_allowed"],
    )


async def fetch_in_scope(
    conn: asyncpg.Connection | asyncpg.Pool, request_id: int, scope_root_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """The request if its unit lies in the user's scope subtree (else None: not found)."""
    sql = f"SELECT {_COLUMNS} {_FROM} WHERE r.id = $1 AND o.path @> ARRAY[$2::int]"
    if lock:
        sql += " FOR UPDATE OF r"
    return await conn.fetchrow(sql, request_id, scope_root_id)


async def list_in_scope(
    pool: asyncpg.Pool, scope_root_id: int, state: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    where = "o.path @> ARRAY[$1::int] AND ($2::text IS NULL OR r.state = $2)"
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE {where} ORDER BY r.planned_start DESC, r.id DESC "
        "LIMIT $3 OFFSET $4",
        scope_root_id, state, limit, offset,
    )
    total = await pool.fetchval(f"SELECT count(*) {_FROM} WHERE {where}", scope_root_id, state)
    return rows, total


async def save(
    conn: asyncpg.Connection, before: TripRequest, after: TripRequest, version: int,
    event: str, actor_id: int, note: str,
) -> int:
    """Write the new state and its event; returns the new version (StaleVersion if moved)."""
    new_version = await conn.fetchval(
        """UPDATE trip_requests SET state = $2, approval_levels = $3, approved_levels = $4,
               emergency_deadline = $5, emergency_approved = $6, version = version + 1
           WHERE id = $1 AND version = $7 RETURNING version""",
        after.id, after.state.value, after.approval_levels, after.approved_levels,
        after.emergency_deadline, after.emergency_approved, version,
    )
    if new_version is None:
        raise StaleVersion
    await conn.execute(
        """INSERT INTO trip_request_events (request_id, event, from_state, to_state, actor_id, note)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        after.id, event, before.state.value, after.state.value, actor_id, note,
    )
    return new_version


async def history(pool: asyncpg.Pool, request_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT e.event, e.from_state, e.to_state, e.at, e.note, u.display_name AS actor
           FROM trip_request_events e LEFT JOIN users u ON u.id = e.actor_id
           WHERE e.request_id = $1 ORDER BY e.id""",
        request_id,
    )


# -- dispatch orders (派车单) ---------------------------------------------------------------

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
