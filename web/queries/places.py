"""Cities, their boundaries and the named places (常用地点) of the map picker: plain SQL."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg


async def city_codes(conn: asyncpg.Connection | asyncpg.Pool, codes: Iterable[str]) -> set[str]:
    """Which of these GB/T 2260 codes are cities the platform serves."""
    rows = await conn.fetch("SELECT code FROM cities WHERE code = ANY($1::text[])", list(codes))
    return {r["code"] for r in rows}


async def cities(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT code, name_zh, name_en, centre_lat, centre_lon FROM cities ORDER BY code")


async def city_boundaries(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Each city's boundary geofence as WKB, with the city's names."""
    return await pool.fetch(
        """SELECT c.code, c.name_zh, c.name_en, g.wkb
           FROM geofences g JOIN cities c ON c.code = g.city_code
           WHERE g.purpose = 'city_boundary' AND g.active ORDER BY c.code"""
    )


async def named_places(
    pool: asyncpg.Pool, city_code: str | None, query: str | None, limit: int
) -> list[asyncpg.Record]:
    """Named places of a city (or all), whose Chinese or English name contains `query`."""
    pattern = None
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return await pool.fetch(
        """SELECT p.code, p.city_code, p.kind, p.name_zh, p.name_en, p.lat, p.lon,
                  c.name_zh AS city_name_zh, c.name_en AS city_name_en
           FROM places p JOIN cities c ON c.code = p.city_code
           WHERE ($1::text IS NULL OR p.city_code = $1)
             AND ($2::text IS NULL OR p.name_zh ILIKE $2 OR p.name_en ILIKE $2)
           ORDER BY p.city_code, p.kind, p.code LIMIT $3""",
        city_code, pattern, limit,
    )
