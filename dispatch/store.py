"""PostgreSQL side of trip requests (用车申请): load, save with optimistic concurrency, history.

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
