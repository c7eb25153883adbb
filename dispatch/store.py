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
    r.precheck_warnings, r.approval_reasons, r.driver_waits, r.contact_phone,
    a.display_name AS applicant_name, o.path AS org_path,
    o.city_code AS home_city, o.name_zh AS org_name_zh, o.name_en AS org_name_en"""

_FROM = """FROM trip_requests r JOIN organisations o ON o.id = r.org_id
    JOIN users a ON a.id = r.applicant_id"""

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
               car_level_wanted, carpool_allowed, driver_waits, contact_phone)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           RETURNING id""",
        applicant_id, org_id, body["trip_type"], body["reason"], body["passengers"],
        body["passenger_count"], body["planned_start"], body["planned_end"], body["origin"],
        body["destinations"], body["round_trip"], body["car_level_wanted"],
        body["carpool_allowed"], body.get("driver_waits", True), body.get("contact_phone", ""),
    )


async def update_draft(
    conn: asyncpg.Connection, request_id: int, version: int, body: dict[str, Any]
) -> int | None:
    """Rewrite a draft's fields; the new version, or None when it is no longer that version."""
    return await conn.fetchval(
        """UPDATE trip_requests SET trip_type = $3, reason = $4, passengers = $5,
               passenger_count = $6, planned_start = $7, planned_end = $8, origin = $9,
               destinations = $10, round_trip = $11, car_level_wanted = $12,
               carpool_allowed = $13, driver_waits = $14, contact_phone = $15,
               version = version + 1
           WHERE id = $1 AND version = $2 AND state = 'draft' RETURNING version""",
        request_id, version, body["trip_type"], body["reason"], body["passengers"],
        body["passenger_count"], body["planned_start"], body["planned_end"], body["origin"],
        body["destinations"], body["round_trip"], body["car_level_wanted"],
        body["carpool_allowed"], body["driver_waits"], body["contact_phone"],
    )


async def fetch_in_scope(
    conn: asyncpg.Connection | asyncpg.Pool, request_id: int, scope_root_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """The request if its unit lies in the user's scope subtree (else None: not found)."""
    sql = f"SELECT {_COLUMNS} {_FROM} WHERE r.id = $1 AND o.path @> ARRAY[$2::int]"
    if lock:
        sql += " FOR UPDATE OF r"
    return await conn.fetchrow(sql, request_id, scope_root_id)


# Waiting for a decision: pending approval, or an emergency being carried out while its
# post-approval (事后补批) is open; never the person's own request. Level 1 belongs to the
# nearest organisation on the unit's path that has an active approver other than the
# applicant (the unit itself when it has one; anyone on the path when nobody has); a later
# level only strictly above the unit; nobody decides two levels of one request
# (dispatch/approval_chain.py says the same in Python). $7: a platform admin, any level.
_LEVEL_ONE_ORG = """(SELECT p.org_id FROM unnest(o.path) WITH ORDINALITY AS p(org_id, depth)
        WHERE EXISTS (SELECT 1 FROM users ap WHERE ap.org_id = p.org_id AND ap.active
                      AND 'approver' = ANY(ap.roles) AND ap.id <> r.applicant_id)
        ORDER BY p.depth DESC LIMIT 1)"""
_AWAITING = f"""($4::int IS NULL OR (
        (r.state = 'pending_approval' OR (r.trip_type = 'emergency'
            AND r.emergency_approved IS NULL AND r.emergency_deadline IS NOT NULL
            AND r.state IN ('dispatching', 'dispatched', 'in_progress', 'completed')))
        AND r.applicant_id <> $4::int AND $5::int = ANY(o.path)
        AND ($7::bool OR CASE WHEN r.approved_levels = 0
                              THEN coalesce({_LEVEL_ONE_ORG} = $5::int, true)
                              ELSE $5::int <> r.org_id END)
        AND NOT EXISTS (SELECT 1 FROM trip_request_events e WHERE e.request_id = r.id
            AND e.actor_id = $4::int AND e.event IN ('approve', 'reject'))))"""
_DECIDED = """($6::int IS NULL OR EXISTS (SELECT 1 FROM trip_request_events e
        WHERE e.request_id = r.id AND e.actor_id = $6::int AND e.event IN ('approve', 'reject')))"""


async def list_in_scope(
    pool: asyncpg.Pool, scope_root_id: int, state: str | None, limit: int, offset: int, *,
    applicant_id: int | None = None, awaiting: tuple[int, int] | None = None,
    awaiting_any_level: bool = False, decided_by: int | None = None,
) -> tuple[list[asyncpg.Record], int]:
    """The requests in the user's scope, optionally only: in a state, filed by `applicant_id`,
    whose next level the approver `awaiting` = (user id, organisation id) may decide (any
    level with `awaiting_any_level`: a platform admin), or that `decided_by` approved or
    rejected."""
    conditions = " AND ".join((
        "o.path @> ARRAY[$1::int]", "($2::text IS NULL OR r.state = $2)",
        "($3::int IS NULL OR r.applicant_id = $3)", _AWAITING, _DECIDED,
    ))
    awaiting_user, awaiting_org = awaiting or (None, None)
    args = (scope_root_id, state, applicant_id, awaiting_user, awaiting_org, decided_by,
            awaiting_any_level)
    order = "r.planned_start ASC, r.id" if awaiting else "r.planned_start DESC, r.id DESC"
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE {conditions} ORDER BY {order} LIMIT $8 OFFSET $9",
        *args, limit, offset,
    )
    total = await pool.fetchval(f"SELECT count(*) {_FROM} WHERE {conditions}", *args)
    return rows, total


async def set_prechecks(
    conn: asyncpg.Connection, request_id: int, warnings: list[str], reasons: list[str]
) -> None:
    """What the submission's pre-checks found: warnings for the approver (车补), and why the
    request has the levels it has (cross_city, night, holiday; chain_capped: fewer, for want
    of approvers)."""
    await conn.execute(
        "UPDATE trip_requests SET precheck_warnings = $2, approval_reasons = $3 WHERE id = $1",
        request_id, warnings, reasons,
    )


async def deciders(conn: asyncpg.Connection, request_id: int) -> set[int]:
    """Who has approved or rejected a level of this request."""
    rows = await conn.fetch(
        """SELECT DISTINCT actor_id FROM trip_request_events
           WHERE request_id = $1 AND event IN ('approve', 'reject') AND actor_id IS NOT NULL""",
        request_id,
    )
    return {r["actor_id"] for r in rows}


async def approvers_on_path(conn: asyncpg.Connection, org_path: list[int]) -> list[tuple[int, int]]:
    """(user id, organisation id) of the active approvers (审批人) of the organisations on a
    unit's path: the people an approval may be asked of."""
    rows = await conn.fetch(
        """SELECT id, org_id FROM users
           WHERE active AND 'approver' = ANY(roles) AND org_id = ANY($1::int[]) ORDER BY id""",
        org_path,
    )
    return [(r["id"], r["org_id"]) for r in rows]


async def transport_subsidy(conn: asyncpg.Connection, user_id: int) -> bool:
    """Does this person receive the transport subsidy (车补)?"""
    return bool(await conn.fetchval("SELECT transport_subsidy FROM users WHERE id = $1", user_id))


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


async def fetch_for_update(conn: asyncpg.Connection, request_id: int) -> asyncpg.Record:
    """The request, locked, whatever the caller's scope (the system acting on its orders)."""
    return await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE r.id = $1 FOR UPDATE OF r", request_id)
