"""Geofence lists for the zones API and the console's 围栏 mode (plain SQL)."""

from __future__ import annotations

import asyncpg

_COLUMNS = """
    g.id, g.code, g.name_zh, g.name_en, g.shape, g.purpose, g.category, g.city_code, g.org_id,
    g.geojson, g.radius_m, g.buffer_m, g.speed_limit_kmh, g.line_geojson, g.time_windows,
    g.valid_from, g.valid_to, g.applies_to, g.vehicle_group_id, g.vehicle_id, g.version,
    g.updated_at, g.active, coalesce(o.path, '{}') AS org_path
"""


async def list_zones(
    pool: asyncpg.Pool,
    *,
    admin: bool,
    scope_root_id: int,
    scope_path: list[int],
    purpose: str | None = None,
    city_code: str | None = None,
    category: str | None = None,
    active: bool | None = True,
    q: str | None = None,
    limit: int = 5000,
) -> list[asyncpg.Record]:
    """Zones the caller sees: admins all; others the province's (no owner), their subtree's
    and those of the organisations above them."""
    return await pool.fetch(
        f"""
        SELECT {_COLUMNS}
        FROM geofences g LEFT JOIN organisations o ON o.id = g.org_id
        WHERE ($1 OR g.org_id IS NULL OR o.path @> ARRAY[$2::int] OR g.org_id = ANY($3::int[]))
          AND ($4::text IS NULL OR g.purpose = $4)
          AND ($5::text IS NULL OR g.city_code = $5)
          AND ($6::text IS NULL OR g.category = $6)
          AND ($7::boolean IS NULL OR g.active = $7)
          AND ($8::text IS NULL OR g.name_zh ILIKE '%' || $8 || '%' OR g.name_en ILIKE '%' || $8 || '%'
               OR g.code ILIKE '%' || $8 || '%')
        ORDER BY g.purpose, g.city_code NULLS FIRST, g.code
        LIMIT $9
        """,
        admin, scope_root_id, scope_path, purpose, city_code, category, active, q, limit,
    )


async def org_path(conn: asyncpg.Connection | asyncpg.Pool, org_id: int) -> list[int] | None:
    path = await conn.fetchval("SELECT path FROM organisations WHERE id = $1", org_id)
    return list(path) if path is not None else None


async def org_city(conn: asyncpg.Connection | asyncpg.Pool, org_id: int) -> str | None:
    return await conn.fetchval("SELECT city_code FROM organisations WHERE id = $1", org_id)


async def city_exists(conn: asyncpg.Connection | asyncpg.Pool, code: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM cities WHERE code = $1", code))


async def vehicle_in_scope(
    conn: asyncpg.Connection | asyncpg.Pool, scope_root_id: int, vehicle_id: int, admin: bool
) -> bool:
    return bool(await conn.fetchval(
        """SELECT true FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id
           WHERE v.id = $2 AND ($3 OR o.path @> ARRAY[$1::int])""",
        scope_root_id, vehicle_id, admin,
    ))


async def group_in_scope(
    conn: asyncpg.Connection | asyncpg.Pool, scope_root_id: int, group_id: int, admin: bool,
    scope_path: list[int],
) -> bool:
    return bool(await conn.fetchval(
        """SELECT true FROM vehicle_groups g JOIN organisations o ON o.id = g.org_id
           WHERE g.id = $2 AND ($3 OR o.path @> ARRAY[$1::int] OR g.org_id = ANY($4::int[]))""",
        scope_root_id, group_id, admin, scope_path,
    ))


async def zone_in_use(conn: asyncpg.Connection, zone_id: int) -> int:
    """How many vehicles and depots have this zone as their designated lot."""
    return await conn.fetchval(
        """SELECT (SELECT count(*) FROM vehicles WHERE lot_geofence_id = $1 AND active)
                + (SELECT count(*) FROM depots WHERE lot_geofence_id = $1)""",
        zone_id,
    )
