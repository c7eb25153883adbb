"""PostgreSQL side of approval policies (审批规则, table approval_policies): the policies on a
request unit's organisation path (the pure choice is dispatch.trip_requests.pick_policy), and
their upkeep by admins. Callers own the transaction; a duplicate (org, trip type) raises
asyncpg.UniqueViolationError for the caller to answer."""

from __future__ import annotations

from typing import Any

import asyncpg

from dispatch.trip_requests import ApprovalPolicy, PolicyCandidate, TripType, pick_policy

RULE_FIELDS = ("base_levels", "cross_city_extra", "night_extra", "holiday_extra",
               "allowed_car_levels")

_READ = """SELECT p.id, p.org_id, p.trip_type, p.base_levels, p.cross_city_extra, p.night_extra,
    p.holiday_extra, p.allowed_car_levels, p.updated_at, o.code AS org_code, o.kind AS org_kind,
    o.name_zh AS org_name_zh, o.name_en AS org_name_en, o.path AS org_path
    FROM approval_policies p JOIN organisations o ON o.id = p.org_id"""


def to_policy(row: asyncpg.Record) -> ApprovalPolicy:
    levels = row["allowed_car_levels"]
    return ApprovalPolicy(
        base_levels=row["base_levels"], cross_city_extra=row["cross_city_extra"],
        night_extra=row["night_extra"], holiday_extra=row["holiday_extra"],
        allowed_car_levels=None if levels is None else frozenset(levels),
    )


async def candidates_for_unit(conn: asyncpg.Connection, org_id: int) -> list[PolicyCandidate]:
    """Every policy of an organisation on the unit's path, with the organisation's depth."""
    rows = await conn.fetch(
        """SELECT p.*, array_position(u.path, p.org_id) AS depth
           FROM organisations u JOIN approval_policies p ON p.org_id = ANY(u.path)
           WHERE u.id = $1""",
        org_id,
    )
    return [
        PolicyCandidate(row["depth"], None if row["trip_type"] is None else TripType(row["trip_type"]),
                        to_policy(row))
        for row in rows
    ]


async def policy_for(conn: asyncpg.Connection, org_id: int, trip_type: TripType) -> ApprovalPolicy:
    return pick_policy(await candidates_for_unit(conn, org_id), trip_type)


async def list_visible(pool: asyncpg.Pool, scope_root_id: int) -> list[asyncpg.Record]:
    """The policies of the user's scope node, of the organisations above it (which govern it
    too) and of those below it."""
    return await pool.fetch(
        f"""{_READ}
            WHERE o.path @> ARRAY[$1::int]
               OR EXISTS (SELECT 1 FROM organisations s WHERE s.id = $1 AND o.id = ANY(s.path))
            ORDER BY cardinality(o.path), o.id, p.trip_type NULLS FIRST""",
        scope_root_id,
    )


async def fetch(conn: asyncpg.Connection | asyncpg.Pool, policy_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_READ} WHERE p.id = $1", policy_id)


async def organisation(conn: asyncpg.Connection | asyncpg.Pool, org_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, path FROM organisations WHERE id = $1", org_id)


async def insert(conn: asyncpg.Connection, org_id: int, trip_type: str | None, rules: dict[str, Any]) -> int:
    return await conn.fetchval(
        """INSERT INTO approval_policies (org_id, trip_type, base_levels, cross_city_extra,
               night_extra, holiday_extra, allowed_car_levels)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        org_id, trip_type, *(rules[name] for name in RULE_FIELDS),
    )


async def update(conn: asyncpg.Connection, policy_id: int, rules: dict[str, Any]) -> bool:
    status = await conn.execute(
        """UPDATE approval_policies SET base_levels = $2, cross_city_extra = $3, night_extra = $4,
               holiday_extra = $5, allowed_car_levels = $6, updated_at = now()
           WHERE id = $1""",
        policy_id, *(rules[name] for name in RULE_FIELDS),
    )
    return status.endswith(" 1")


async def delete(conn: asyncpg.Connection, policy_id: int) -> bool:
    status = await conn.execute("DELETE FROM approval_policies WHERE id = $1", policy_id)
    return status.endswith(" 1")
