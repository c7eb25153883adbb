"""一车一档: documents of the vehicles in a user's scope, and those expiring soon."""

from __future__ import annotations

from datetime import date

import asyncpg

_FROM = """FROM vehicle_documents doc
    JOIN vehicles v ON v.id = doc.vehicle_id
    JOIN organisations o ON o.id = v.owner_org_id
    WHERE o.path @> ARRAY[$1::int] AND v.active"""


async def of_vehicle(pool: asyncpg.Pool, scope_root_id: int, vehicle_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"""SELECT doc.vehicle_id, v.plate, doc.kind, doc.number, doc.expires_on, doc.updated_at
            {_FROM} AND v.id = $2 ORDER BY doc.kind""",
        scope_root_id, vehicle_id,
    )


async def expiring(pool: asyncpg.Pool, scope_root_id: int, until: date) -> list[asyncpg.Record]:
    """Documents expiring on or before `until` (expired ones included), soonest first."""
    return await pool.fetch(
        f"""SELECT doc.vehicle_id, v.plate, v.home_city_code AS city_code, doc.kind, doc.number,
                   doc.expires_on, doc.updated_at
            {_FROM} AND doc.expires_on <= $2 ORDER BY doc.expires_on, v.plate, doc.kind""",
        scope_root_id, until,
    )


async def vehicle_in_scope(pool: asyncpg.Pool, scope_root_id: int, vehicle_id: int) -> bool:
    return bool(await pool.fetchval(
        """SELECT true FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id
           WHERE v.id = $2 AND o.path @> ARRAY[$1::int]""",
        scope_root_id, vehicle_id,
    ))


async def upsert(pool: asyncpg.Pool, vehicle_id: int, kind: str, number: str, expires_on: date) -> asyncpg.Record:
    return await pool.fetchrow(
        """INSERT INTO vehicle_documents (vehicle_id, kind, number, expires_on)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (vehicle_id, kind) DO UPDATE SET number = EXCLUDED.number,
               expires_on = EXCLUDED.expires_on, updated_at = now()
           RETURNING vehicle_id, (SELECT plate FROM vehicles WHERE id = $1) AS plate, kind,
                     number, expires_on, updated_at""",
        vehicle_id, kind, number, expires_on,
    )
