"""PostgreSQL side of trips and stops: detector states (vehicle_motion), segment rows.

All calls take a connection inside the caller's transaction (the tracker owns it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from telemetry.model import Position
from telemetry.motion import Segment
from telemetry.timeline import Changes


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


TRIP_COLUMNS = (
    "vehicle_id", "start_ts", "end_ts", "start_lat", "start_lon", "end_lat", "end_lon",
    "dist_gnss_m", "odo_start_km", "odo_end_km", "odo_source", "max_speed_kmh",
    "mean_speed_kmh", "duration_s", "detected_by", "position_count",
)
STOP_COLUMNS = ("vehicle_id", "start_ts", "end_ts", "lat", "lon", "duration_s", "gnss_odometer_m")


def trip_record(vehicle_id: int, s: Segment) -> tuple:
    return (
        vehicle_id, _dt(s.start_ts_ms), None if s.end_ts_ms is None else _dt(s.end_ts_ms),
        s.start_lat, s.start_lon, s.end_lat, s.end_lon, s.dist_m, s.odometer_start_km,
        s.odometer_end_km, s.odo_source, s.max_speed_kmh, s.mean_speed_kmh, s.duration_s,
        s.detected_by, s.position_count,
    )


def stop_record(vehicle_id: int, s: Segment) -> tuple:
    return (
        vehicle_id, _dt(s.start_ts_ms), None if s.end_ts_ms is None else _dt(s.end_ts_ms),
        s.start_lat, s.start_lon, s.duration_s, s.gnss_odometer_m,
    )


async def lock_versions(
    conn: asyncpg.Connection, vehicle_ids: list[int], new_ids: list[int]
) -> dict[int, int]:
    """Lock the vehicles' state rows (in id order: two workers never deadlock) and return
    their versions; rows are created for `new_ids` (vehicles this worker has not seen)."""
    if new_ids:
        await conn.execute(
            """INSERT INTO vehicle_motion (vehicle_id, version, last_ts, state)
               SELECT v, 0, 'epoch', '{}'::jsonb FROM unnest($1::int[]) AS v
               ON CONFLICT (vehicle_id) DO NOTHING""",
            new_ids,
        )
    rows = await conn.fetch(
        """SELECT vehicle_id, version FROM vehicle_motion WHERE vehicle_id = ANY($1::int[])
           ORDER BY vehicle_id FOR UPDATE""",
        vehicle_ids,
    )
    return {r["vehicle_id"]: r["version"] for r in rows}


async def load_states(conn: asyncpg.Connection, vehicle_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT vehicle_id, state FROM vehicle_motion WHERE vehicle_id = ANY($1::int[]) AND version > 0",
        vehicle_ids,
    )
    return {r["vehicle_id"]: r["state"] for r in rows}


_POSITION_SELECT = """SELECT device_id, ts, seq, received_at, lat, lon, speed_kmh, heading_deg,
    acc, fix, odometer_km FROM positions WHERE vehicle_id = $1 AND ts > $2 ORDER BY ts, seq"""


async def positions_after(conn: asyncpg.Connection, vehicle_id: int, after_ms: int) -> list[Position]:
    rows = await conn.fetch(_POSITION_SELECT, vehicle_id, _dt(after_ms))
    return [_position(r, vehicle_id) for r in rows]


def _position(r: asyncpg.Record, vehicle_id: int) -> Position:
    """A stored position, as much of it as the detectors read."""
    return Position(
        device_uid="", ts_ms=_ms(r["ts"]), received_ms=_ms(r["received_at"]), lat=r["lat"],
        lon=r["lon"], speed_kmh=r["speed_kmh"], heading_deg=r["heading_deg"], acc=r["acc"],
        fix=r["fix"], odometer_km=r["odometer_km"], seq=r["seq"], device_id=r["device_id"],
        vehicle_id=vehicle_id,
    )


async def positions_after_many(
    conn: asyncpg.Connection, after_ms: dict[int, int]
) -> dict[int, list[Position]]:
    """positions_after for several vehicles in one query (a worker that reloads many states
    at once: after a restart, or when shared subscriptions spread vehicles over workers)."""
    vehicle_ids = list(after_ms)
    rows = await conn.fetch(
        """SELECT p.vehicle_id, p.device_id, p.ts, p.seq, p.received_at, p.lat, p.lon,
                  p.speed_kmh, p.heading_deg, p.acc, p.fix, p.odometer_km
           FROM unnest($1::int[], $2::timestamptz[]) AS c(v, after)
           JOIN positions p ON p.vehicle_id = c.v AND p.ts > c.after
           ORDER BY p.vehicle_id, p.ts, p.seq""",
        vehicle_ids, [_dt(after_ms[v]) for v in vehicle_ids],
    )
    out: dict[int, list[Position]] = {v: [] for v in vehicle_ids}
    for r in rows:
        out[r["vehicle_id"]].append(_position(r, r["vehicle_id"]))
    return out


async def stops_before(conn: asyncpg.Connection, vehicle_id: int, ts_ms: int) -> list[Segment]:
    """The last two stored stops starting at or before `ts_ms`, newest first."""
    rows = await conn.fetch(
        """SELECT start_ts, lat, lon, gnss_odometer_m FROM stops
           WHERE vehicle_id = $1 AND start_ts <= $2 ORDER BY start_ts DESC LIMIT 2""",
        vehicle_id, _dt(ts_ms),
    )
    return [
        Segment("stop", _ms(r["start_ts"]), None, r["lat"], r["lon"], r["lat"], r["lon"],
                _ms(r["start_ts"]), r["gnss_odometer_m"])
        for r in rows
    ]


async def write_changes(
    conn: asyncpg.Connection,
    changes: dict[int, Changes],
    states: dict[int, dict[str, Any]],
    last_ts_ms: dict[int, int],
) -> None:
    """Replace the flushed vehicles' segments from `from_ms` on and store their detector
    state; every vehicle of the batch gets its version bumped and `last_ts` moved."""
    flushed = list(changes)
    if flushed:
        froms = [_dt(changes[v].from_ms) for v in flushed]
        for table in ("trips", "stops"):
            await conn.execute(
                f"""DELETE FROM {table} t USING unnest($1::int[], $2::timestamptz[]) AS d(v, f)
                    WHERE t.vehicle_id = d.v AND t.start_ts >= d.f""",
                flushed, froms,
            )
        trips = [trip_record(v, s) for v, c in changes.items() for s in c.segments if s.kind == "trip"]
        stops = [stop_record(v, s) for v, c in changes.items() for s in c.segments if s.kind == "stop"]
        if trips:
            await conn.copy_records_to_table("trips", records=trips, columns=TRIP_COLUMNS)
        if stops:
            await conn.copy_records_to_table("stops", records=stops, columns=STOP_COLUMNS)
    vehicle_ids = list(last_ts_ms)
    await conn.execute(
        """UPDATE vehicle_motion m SET version = m.version + 1, last_ts = d.last_ts,
               state = coalesce(d.state, m.state), updated_at = now()
           FROM unnest($1::int[], $2::timestamptz[], $3::jsonb[]) AS d(v, last_ts, state)
           WHERE m.vehicle_id = d.v""",
        vehicle_ids,
        [_dt(last_ts_ms[v]) for v in vehicle_ids],
        [states.get(v) for v in vehicle_ids],
    )
