"""The scenario's named places (常用地点) for the map picker, upserted by code: a row is only
rewritten when a value differs, so a second seed writes nothing."""

from __future__ import annotations

import asyncpg

from fleet.scenario.model import Scenario


async def seed_places(conn: asyncpg.Connection, scenario: Scenario) -> int:
    rows = [
        (p.code, p.city_code, p.kind, p.name_zh, p.name_en, p.location[1], p.location[0])
        for p in scenario.places
    ]
    await conn.executemany(
        """INSERT INTO places (code, city_code, kind, name_zh, name_en, lat, lon)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (code) DO UPDATE SET city_code = EXCLUDED.city_code, kind = EXCLUDED.kind,
               name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, lat = EXCLUDED.lat,
               lon = EXCLUDED.lon
           WHERE (places.city_code, places.kind, places.name_zh, places.name_en, places.lat,
                  places.lon) IS DISTINCT FROM (EXCLUDED.city_code, EXCLUDED.kind,
                  EXCLUDED.name_zh, EXCLUDED.name_en, EXCLUDED.lat, EXCLUDED.lon)""",
        rows,
    )
    return len(rows)
