"""Geofences in PostgreSQL: loading zones (with their groups' members) for the rules worker
and the API, and writing them with versions.

Every create, update and delete (which only deactivates) bumps `version` and writes the whole
zone, as it now is, to `geofence_versions`; a violation cites the version it was judged
against, so history is never rewritten. Transactions belong to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from supervision.zones import Zone, zone_from_row

# Every column a Zone needs, the owner's org path and the members of a bound group.
_COLUMNS = """
SELECT g.id, g.code, g.name_zh, g.name_en, g.shape, g.purpose, g.category, g.city_code,
       g.geojson, g.radius_m, g.buffer_m, g.speed_limit_kmh, g.active, g.org_id,
       g.line_geojson, g.time_windows, g.valid_from, g.valid_to, g.applies_to,
       g.vehicle_group_id, g.vehicle_id, g.version, g.updated_at,
       o.path AS org_path,
       (SELECT coalesce(array_agg(m.vehicle_id ORDER BY m.vehicle_id), '{}')
          FROM vehicle_group_members m WHERE m.group_id = g.vehicle_group_id) AS vehicle_group_ids"""
_FROM = """
FROM geofences g LEFT JOIN organisations o ON o.id = g.org_id
"""
_SELECT = _COLUMNS + _FROM

# Columns the API writes (besides code, which is set on insert only).
WRITABLE = (
    "name_zh", "name_en", "shape", "purpose", "category", "city_code", "org_id", "geojson",
    "wkb", "radius_m", "buffer_m", "speed_limit_kmh", "line_geojson", "time_windows",
    "valid_from", "valid_to", "applies_to", "vehicle_group_id", "vehicle_id", "active",
)


# A deleted (deactivated) zone's retirement: when its current inactive run began — the first
# version saved inactive after its last active one (a later edit of the deleted zone does not
# move it) — else its last change. As epoch ms: zone_from_row takes it as Zone.retired_ms.
_RETIRED = """,
       CASE WHEN NOT g.active THEN (extract(epoch FROM coalesce(
           (SELECT min(v.changed_at) FROM geofence_versions v
             WHERE v.geofence_id = g.id AND v.zone ->> 'active' = 'false'
               AND v.version > coalesce((SELECT max(w.version) FROM geofence_versions w
                                          WHERE w.geofence_id = g.id
                                            AND w.zone ->> 'active' = 'true'), 0)),
           g.updated_at)) * 1000)::bigint END AS retired_ms"""


async def load_zones(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    include_inactive: bool = False,
    retired_after: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[Zone]:
    """The zones (active ones unless asked), ready for a ZoneIndex. With `include_inactive`
    the deleted ones come too, each with its deactivation time (Zone.retired_ms: it still
    counts for the times before, so that re-judging a past day finds what was found then);
    `retired_after` leaves out those deleted before that time (no day judged now needs them)."""
    rows = await conn.fetch(
        _COLUMNS + _RETIRED + _FROM
        + """ WHERE ($1 OR g.active) AND ($2::int[] IS NULL OR g.id = ANY($2::int[]))
              AND (g.active OR $3::timestamptz IS NULL OR g.updated_at >= $3)
            ORDER BY g.id""",
        include_inactive, list(ids) if ids is not None else None, retired_after,
    )
    return [zone_from_row(row) for row in rows]


async def fetch_row(
    conn: asyncpg.Connection | asyncpg.Pool, zone_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    sql = _SELECT + " WHERE g.id = $1"
    if lock:
        sql += " FOR UPDATE OF g"
    return await conn.fetchrow(sql, zone_id)


async def fetch_by_code(conn: asyncpg.Connection, code: str, *, lock: bool = False):
    sql = _SELECT + " WHERE g.code = $1"
    if lock:
        sql += " FOR UPDATE OF g"
    return await conn.fetchrow(sql, code)


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """The zone as stored, for geofence_versions (no WKB: the GeoJSON says the same)."""
    skip = {"wkb", "org_path", "vehicle_group_ids"}
    return {key: _json_value(row[key]) for key in row.keys() if key not in skip}  # noqa: SIM118 (a Record iterates values)


async def _record_version(conn: asyncpg.Connection, zone_id: int, user_id: int | None) -> asyncpg.Record:
    row = await fetch_row(conn, zone_id)
    assert row is not None
    await conn.execute(
        """INSERT INTO geofence_versions (geofence_id, version, changed_by, zone)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        zone_id, row["version"], user_id, snapshot(row),
    )
    return row


async def _keep_first_version(conn: asyncpg.Connection, row: Mapping[str, Any]) -> None:
    """A zone written before versions were kept (the seed's): its current state becomes the
    version it carries, before it changes."""
    await conn.execute(
        """INSERT INTO geofence_versions (geofence_id, version, changed_at, changed_by, zone)
           VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING""",
        row["id"], row["version"], row["updated_at"], snapshot(row),
    )


async def insert_zone(
    conn: asyncpg.Connection, code: str, fields: Mapping[str, Any], user_id: int | None
) -> asyncpg.Record:
    """A new zone at version 1 (and its version row)."""
    columns = ["code", *WRITABLE]
    values = [code, *(fields.get(c, True if c == "active" else None) for c in WRITABLE)]
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    zone_id = await conn.fetchval(
        f"INSERT INTO geofences ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",
        *values,
    )
    return await _record_version(conn, zone_id, user_id)


async def update_zone(
    conn: asyncpg.Connection, current: Mapping[str, Any], fields: Mapping[str, Any],
    user_id: int | None,
) -> asyncpg.Record:
    """The locked zone `current` rewritten with `fields` as its next version."""
    await _keep_first_version(conn, current)
    names = [c for c in WRITABLE if c in fields]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE geofences SET {assignments}, version = version + 1, updated_at = now()"
        " WHERE id = $1",
        current["id"], *(fields[n] for n in names),
    )
    return await _record_version(conn, current["id"], user_id)


async def versions(conn: asyncpg.Connection | asyncpg.Pool, zone_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT v.version, v.changed_at, v.changed_by, u.display_name AS changed_by_name, v.zone
           FROM geofence_versions v LEFT JOIN users u ON u.id = v.changed_by
           WHERE v.geofence_id = $1 ORDER BY v.version DESC""",
        zone_id,
    )


async def zone_version(
    conn: asyncpg.Connection | asyncpg.Pool, zone_id: int, version: int
) -> dict[str, Any] | None:
    """One past version as it was (the evidence of an old violation cites it)."""
    return await conn.fetchval(
        "SELECT zone FROM geofence_versions WHERE geofence_id = $1 AND version = $2",
        zone_id, version,
    )
