"""Track playback reads: a vehicle's fixes, trips and stops over a window, the fixes simplified
to a point budget.

Fetching is capped: a window holding more than RAW_POINT_CAP fixes (a month of a car that
reports every few seconds) is sampled in SQL — every k-th fix in device-time order, plus the
last one and every fix at a trip or stop boundary — before it is simplified; the response says
so (`sample_stride` > 1, `truncated`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import asyncpg

from web.simplify import simplify_to_budget
from web.tracks import (
    aware,
    boundary_times_ms,
    clip,
    epoch_ms,
    nearest_indices,
    polyline_length_m,
)

RAW_POINT_CAP = 100_000

_POINT_COLUMNS = """(extract(epoch FROM ts) * 1000)::bigint AS ts_ms, lat, lon, speed_kmh,
    heading_deg, acc"""
_POINT_WHERE = "vehicle_id = $1 AND ts >= $2 AND ts <= $3 AND fix"

# A vehicle's segments do not overlap, so at most one starts before the window and reaches
# into it: the latest one before it. Both halves walk the (vehicle_id, start_ts) key.
_SEGMENTS_SQL = """
SELECT * FROM (
    (SELECT {columns} FROM {table} WHERE vehicle_id = $1 AND start_ts < $2
     ORDER BY start_ts DESC LIMIT 1)
    UNION ALL
    (SELECT {columns} FROM {table} WHERE vehicle_id = $1 AND start_ts >= $2 AND start_ts <= $3)
) s
WHERE end_ms IS NULL OR end_ms >= $4
ORDER BY start_ms
"""

_TIMES = """(extract(epoch FROM start_ts) * 1000)::bigint AS start_ms,
    (extract(epoch FROM end_ts) * 1000)::bigint AS end_ms"""

_TRIP_COLUMNS = f"""{_TIMES}, start_lat, start_lon, end_lat, end_lon, dist_gnss_m AS dist_m,
    duration_s, max_speed_kmh, mean_speed_kmh, odo_start_km, odo_end_km, odo_source,
    detected_by, position_count"""

_STOP_COLUMNS = f"{_TIMES}, lat, lon, duration_s"


def _segment(row: asyncpg.Record) -> dict[str, Any]:
    segment = dict(row)
    segment["open"] = segment["end_ms"] is None
    for name in ("max_speed_kmh", "mean_speed_kmh"):
        if name in segment:
            segment[name] = round(segment[name], 1)
    if "dist_m" in segment:
        segment["dist_m"] = round(segment["dist_m"], 1)
    return segment


async def _segments(
    pool: asyncpg.Pool, table: str, columns: str, vehicle_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    sql = _SEGMENTS_SQL.format(table=table, columns=columns)
    start, end = aware(start), aware(end)
    from_ms, to_ms = epoch_ms(start), epoch_ms(end)
    rows = await pool.fetch(sql, vehicle_id, start, end, from_ms)
    return [clip(_segment(row), from_ms, to_ms) for row in rows]


async def load_trips(
    pool: asyncpg.Pool, vehicle_id: int, start: datetime, end: datetime
) -> list[dict]:
    """Trips overlapping [start, end], the open one included (`open`, `end_ms` null), each with
    the part inside the window (`clip_start_ms`, `clip_end_ms`, `clipped_start/_end`). A time
    without an offset is Asia/Shanghai."""
    return await _segments(pool, "trips", _TRIP_COLUMNS, vehicle_id, start, end)


async def load_stops(
    pool: asyncpg.Pool, vehicle_id: int, start: datetime, end: datetime
) -> list[dict]:
    """Stops overlapping [start, end], like `load_trips`."""
    return await _segments(pool, "stops", _STOP_COLUMNS, vehicle_id, start, end)


async def _fetch_points(
    pool: asyncpg.Pool, vehicle_id: int, start: datetime, end: datetime, keep_ms: set[int]
) -> tuple[list[asyncpg.Record], int, int]:
    """(fixes in device-time order, how many the window holds, the sampling stride)."""
    rows = await pool.fetch(
        f"SELECT {_POINT_COLUMNS} FROM positions WHERE {_POINT_WHERE} ORDER BY ts, seq LIMIT $4",
        vehicle_id,
        start,
        end,
        RAW_POINT_CAP + 1,
    )
    if len(rows) <= RAW_POINT_CAP:
        return rows, len(rows), 1
    raw_count = await pool.fetchval(
        f"SELECT count(*) FROM positions WHERE {_POINT_WHERE}", vehicle_id, start, end
    )
    stride = math.ceil(raw_count / RAW_POINT_CAP)
    rows = await pool.fetch(
        f"""SELECT ts_ms, lat, lon, speed_kmh, heading_deg, acc FROM (
                SELECT {_POINT_COLUMNS}, ts, seq,
                       row_number() OVER (ORDER BY ts, seq) AS rn
                FROM positions WHERE {_POINT_WHERE}
            ) p
            WHERE (rn - 1) % $4 = 0 OR rn = $5 OR ts_ms = ANY($6::bigint[])
            ORDER BY ts, seq""",
        vehicle_id,
        start,
        end,
        stride,
        raw_count,
        sorted(keep_ms),
    )
    return rows, raw_count, stride


def _point(row: asyncpg.Record) -> dict[str, Any]:
    speed_kmh = row["speed_kmh"]
    return {
        "ts_ms": row["ts_ms"],
        "lat": row["lat"],
        "lon": row["lon"],
        "speed_kmh": None if speed_kmh is None else round(speed_kmh, 1),
        "heading_deg": row["heading_deg"],
        "acc": row["acc"],
    }


async def load_track(
    pool: asyncpg.Pool, vehicle_id: int, start: datetime, end: datetime, max_points: int
) -> dict:
    """Fixes (simplified to at most `max_points`, trip and stop boundaries kept), trips and
    stops of one vehicle over [start, end]: the track response without the vehicle's data.
    A time without an offset is Asia/Shanghai."""
    start, end = aware(start), aware(end)
    from_ms, to_ms = epoch_ms(start), epoch_ms(end)
    trips = await load_trips(pool, vehicle_id, start, end)
    stops = await load_stops(pool, vehicle_id, start, end)
    keep_ms = boundary_times_ms(trips, from_ms, to_ms) | boundary_times_ms(stops, from_ms, to_ms)
    rows, raw_count, stride = await _fetch_points(pool, vehicle_id, start, end, keep_ms)
    lats = [row["lat"] for row in rows]
    lons = [row["lon"] for row in rows]
    keep = nearest_indices([row["ts_ms"] for row in rows], keep_ms)
    simplified = simplify_to_budget(lats, lons, max_points, keep=keep)
    return {
        "points": [_point(rows[i]) for i in simplified.indices],
        "trips": trips,
        "stops": stops,
        "simplify_tolerance_m": round(simplified.tolerance_m, 2),
        "raw_point_count": raw_count,
        "point_count": len(simplified.indices),
        "sample_stride": stride,
        "truncated": stride > 1,
        "distance_m": round(polyline_length_m(zip(lats, lons, strict=True)), 1),
    }
