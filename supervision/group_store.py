"""Vehicle groups (车辆分组) in PostgreSQL: a zone may bind to a group's members. The caller
owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

_SELECT = """
SELECT g.id, g.code, g.name_zh, g.name_en, g.org_id, o.path AS org_path,
       coalesce((SELECT json_agg(json_build_object('id', v.id, 'plate', v.plate) ORDER BY v.plate)
                 FROM vehicle_group_members m JOIN vehicles v ON v.id = m.vehicle_id
                 WHERE m.group_id = g.id), '[]'::json) AS members,
       (SELECT count(*) FROM geofences z WHERE z.vehicle_group_id = g.id AND z.active) AS zone_count
FROM vehicle_groups g JOIN organisations o ON o.id = g.org_id
"""


async def list_groups(
    conn: asyncpg.Connection | asyncpg.Pool, *, admin: bool, scope_root_id: int,
    scope_path: list[int],
) -> list[asyncpg.Record]:
    """Groups the caller sees: admins all; others their subtree's and those above them."""
    return await conn.fetch(
        _SELECT + """ WHERE $1 OR o.path @> ARRAY[$2::int] OR g.org_id = ANY($3::int[])
                      ORDER BY g.code""",
        admin, scope_root_id, scope_path,
    )


async def fetch(
    conn: asyncpg.Connection | asyncpg.Pool, group_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        _SELECT + " WHERE g.id = $1" + (" FOR UPDATE OF g" if lock else ""), group_id)


async def vehicles_outside(
    conn: asyncpg.Connection, vehicle_ids: Sequence[int], scope_root_id: int, admin: bool
) -> list[int]:
    """Of these ids, those that are no vehicle the caller sees."""
    seen = await conn.fetch(
        """SELECT v.id FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id
           WHERE v.id = ANY($1::int[]) AND ($3 OR o.path @> ARRAY[$2::int])""",
        list(vehicle_ids), scope_root_id, admin,
    )
    found = {r["id"] for r in seen}
    return sorted(set(vehicle_ids) - found)


async def insert(
    conn: asyncpg.Connection, code: str, name_zh: str, name_en: str, org_id: int
) -> int:
    return await conn.fetchval(
        """INSERT INTO vehicle_groups (code, name_zh, name_en, org_id) VALUES ($1, $2, $3, $4)
           RETURNING id""",
        code, name_zh, name_en, org_id,
    )


async def rename(conn: asyncpg.Connection, group_id: int, name_zh: str, name_en: str) -> None:
    await conn.execute(
        "UPDATE vehicle_groups SET name_zh = $2, name_en = $3 WHERE id = $1",
        group_id, name_zh, name_en,
    )


async def set_members(conn: asyncpg.Connection, group_id: int, vehicle_ids: Sequence[int]) -> None:
    await conn.execute(
        "DELETE FROM vehicle_group_members WHERE group_id = $1 AND NOT vehicle_id = ANY($2::int[])",
        group_id, list(vehicle_ids),
    )
    await conn.execute(
        """INSERT INTO vehicle_group_members (group_id, vehicle_id)
           SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING""",
        group_id, list(vehicle_ids),
    )


async def bound_zones(conn: asyncpg.Connection, group_id: int) -> int:
    """Zones (active or not: their versions cite it) bound to the group."""
    return await conn.fetchval(
        "SELECT count(*) FROM geofences WHERE vehicle_group_id = $1", group_id)


async def delete(conn: asyncpg.Connection, group_id: int) -> None:
    await conn.execute("DELETE FROM vehicle_groups WHERE id = $1", group_id)
