"""PostgreSQL side of the rules worker's bookkeeping: dirty marks, the trackers' state (per
vehicle and at the start of each local day), the stored positions it folds, and the episodes
it writes (vehicle_episodes).

Transactions belong to the caller (supervision/runner.py): one per vehicle, except `claim`,
which is short on purpose — ingest upserts the same rows in its own transactions, and a claim
held for a whole evaluation would make it wait.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from supervision.model import Episode, Fix

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LOCK_CLASS = zlib.crc32(b"rule_vehicle") & 0x7FFFFFFF
DAY_STATES_KEPT = 10            # days of replay snapshots kept per vehicle


def to_dt(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def to_ms(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)


def opt_ms(value: datetime | None) -> int | None:
    return None if value is None else to_ms(value)


# ---- dirty marks --------------------------------------------------------------------------------

async def claim(pool: asyncpg.Pool, limit: int, settle_s: float = 0.0) -> list[tuple[int, int]]:
    """Takes up to `limit` dirty vehicles, oldest marks first: (vehicle id, from ms). Another
    worker skips the rows this one has locked, so no vehicle is claimed twice. A mark younger
    than `settle_s` waits: ingest writes the trips and stops of the positions it marked for
    just after it committed them. The rows are locked in vehicle_id order, the one order of
    every statement that takes many rule_dirty rows (migration 0012); a row another
    transaction holds (ingest upserting it) is skipped, never waited for."""
    rows = await pool.fetch(
        """DELETE FROM rule_dirty WHERE vehicle_id IN (
               SELECT vehicle_id FROM rule_dirty WHERE vehicle_id IN (
                   SELECT vehicle_id FROM rule_dirty
                   WHERE marked_at <= now() - make_interval(secs => $2)
                   ORDER BY marked_at LIMIT $1)
               ORDER BY vehicle_id FOR UPDATE SKIP LOCKED)
           RETURNING vehicle_id, from_ts""", limit, float(settle_s))
    return sorted(((r["vehicle_id"], to_ms(r["from_ts"])) for r in rows), key=lambda r: r[0])


async def mark_dirty(conn: asyncpg.Connection | asyncpg.Pool, vehicle_id: int,
                     from_ms: int) -> None:
    await conn.execute(
        """INSERT INTO rule_dirty (vehicle_id, from_ts) VALUES ($1, $2)
           ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts,
               EXCLUDED.from_ts), marked_at = now()""", vehicle_id, to_dt(from_ms))


async def mark_recent(pool: asyncpg.Pool, since_ms: int, now_ms: int) -> int:
    """The tick: every vehicle with a fix since `since_ms` is looked at again from its newest
    fix, or from now when that fix is stamped ahead of the clock (timers: R1 live, R4 at its
    check times, R7 silence, R16). Rows in vehicle_id order (see `claim`)."""
    status = await pool.execute(
        """INSERT INTO rule_dirty (vehicle_id, from_ts)
           SELECT vehicle_id, least(ts, $2) FROM latest_vehicle_state WHERE ts >= $1
           ORDER BY vehicle_id
           ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts,
               EXCLUDED.from_ts)""", to_dt(since_ms), to_dt(now_ms))
    return int(status.split()[-1])


async def motion_settled(pool: asyncpg.Pool, vehicle_id: int) -> None:
    """Waits for ingest's trips and stops transaction of the vehicle, if one is under way
    (it holds the vehicle_motion row; a share lock outside a transaction is released at once)."""
    await pool.execute("SELECT 1 FROM vehicle_motion WHERE vehicle_id = $1 FOR SHARE", vehicle_id)


async def lock_vehicle(conn: asyncpg.Connection, vehicle_id: int) -> None:
    """Serialises two workers on one vehicle (claimed by one, marked and claimed again by the
    other meanwhile) until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, vehicle_id)


# ---- trackers' state -------------------------------------------------------------------------------

@dataclass(frozen=True)
class VehicleState:
    last_ms: int               # newest device time folded in
    folded_at_ms: int          # when (the worker's transaction time)
    state: dict[str, Any]


async def load_state(conn: asyncpg.Connection, vehicle_id: int) -> VehicleState | None:
    row = await conn.fetchrow(
        "SELECT last_ts, updated_at, state FROM rule_vehicle_state WHERE vehicle_id = $1",
        vehicle_id)
    if row is None:
        return None
    return VehicleState(to_ms(row["last_ts"]), to_ms(row["updated_at"]), row["state"])


async def save_state(conn: asyncpg.Connection, vehicle_id: int, last_ms: int,
                     state: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO rule_vehicle_state (vehicle_id, last_ts, state, updated_at)
           VALUES ($1, $2, $3, now())
           ON CONFLICT (vehicle_id) DO UPDATE SET last_ts = EXCLUDED.last_ts,
               state = EXCLUDED.state, updated_at = now()""",
        vehicle_id, to_dt(last_ms), state)


async def day_state(conn: asyncpg.Connection, vehicle_id: int,
                    day: date) -> tuple[date, dict[str, Any]] | None:
    """The state at the start of `day`, or of the latest day before it that has one; failing
    that the oldest kept (late data older than every snapshot replays from there)."""
    row = await conn.fetchrow(
        """SELECT day, state FROM rule_day_state WHERE vehicle_id = $1
           ORDER BY day > $2, abs(day - $2) LIMIT 1""", vehicle_id, day)
    return None if row is None else (row["day"], row["state"])


async def save_day_states(conn: asyncpg.Connection, vehicle_id: int,
                          states: Iterable[tuple[date, dict[str, Any]]]) -> None:
    rows = [(vehicle_id, day, state) for day, state in states]
    if not rows:
        return
    await conn.executemany(
        """INSERT INTO rule_day_state (vehicle_id, day, state) VALUES ($1, $2, $3)
           ON CONFLICT (vehicle_id, day) DO UPDATE SET state = EXCLUDED.state""", rows)
    newest = max(day for _, day, _ in rows)
    await conn.execute("DELETE FROM rule_day_state WHERE vehicle_id = $1 AND day < $2",
                       vehicle_id, newest - timedelta(days=DAY_STATES_KEPT))


# ---- positions ----------------------------------------------------------------------------------

_FIX_SELECT = """SELECT (extract(epoch FROM ts) * 1000)::bigint AS ts_ms, lat, lon, speed_kmh,
    acc, fix, alarm, odometer_km FROM positions"""


def _fix(r: asyncpg.Record) -> Fix:
    return Fix(r["ts_ms"], r["lat"], r["lon"],
               None if r["speed_kmh"] is None else float(r["speed_kmh"]), r["acc"],
               fix=r["fix"], alarm=int(r["alarm"]), odometer_km=r["odometer_km"])


async def fixes(conn: asyncpg.Connection | asyncpg.Pool, vehicle_id: int, from_ms: int,
                to_ms_: int | None = None) -> list[Fix]:
    """The stored positions of the vehicle with from_ms <= ts (< to_ms_), by ts, seq."""
    rows = await conn.fetch(
        _FIX_SELECT + """ WHERE vehicle_id = $1 AND ts >= $2 AND ($3::timestamptz IS NULL
            OR ts < $3) ORDER BY ts, seq""",
        vehicle_id, to_dt(from_ms), None if to_ms_ is None else to_dt(to_ms_))
    return [_fix(r) for r in rows]


async def newest_fix(conn: asyncpg.Connection, vehicle_id: int,
                     until_ms: int | None = None) -> Fix | None:
    """The newest stored position (stamped at or before `until_ms`, when given: a device
    clock far ahead must not make the future look known)."""
    row = await conn.fetchrow(
        _FIX_SELECT + """ WHERE vehicle_id = $1 AND ($2::timestamptz IS NULL OR ts <= $2)
            ORDER BY ts DESC, seq DESC NULLS LAST LIMIT 1""",
        vehicle_id, None if until_ms is None else to_dt(until_ms))
    return None if row is None else _fix(row)


async def late_since(conn: asyncpg.Connection, vehicle_id: int, from_ms: int, last_ms: int,
                     received_after_ms: int) -> int | None:
    """The oldest device time in [from_ms, last_ms) of a position received after the given
    time: data the trackers have not folded (盲区补报, or stored while a worker was down). A
    mark for other reasons (the tick, from the newest fix) finds none and costs no replay; one
    from an order change may find positions folded shortly before and replay that day."""
    ts = await conn.fetchval(
        """SELECT min(ts) FROM positions WHERE vehicle_id = $1 AND ts >= $2 AND ts < $3
             AND received_at >= $4""",
        vehicle_id, to_dt(from_ms), to_dt(last_ms), to_dt(received_after_ms))
    return None if ts is None else to_ms(ts)


# ---- episodes -------------------------------------------------------------------------------------

async def replace_episodes(conn: asyncpg.Connection, vehicle_id: int, from_ms: int | None,
                           anchors: Iterable[tuple[str, str, int]],
                           episodes: Iterable[Episode]) -> None:
    """A replay: removes the episodes starting at or after from_ms and the anchored ones (open
    or pending at the replay's start). Then writes `episodes` (upserts: an episode that goes on
    is rewritten with its new end)."""
    if from_ms is not None:
        await conn.execute(
            "DELETE FROM vehicle_episodes WHERE vehicle_id = $1 AND start_ts >= $2",
            vehicle_id, to_dt(from_ms))
        anchored = list(anchors)
        if anchored:
            await conn.execute(
                """DELETE FROM vehicle_episodes e USING unnest($2::text[], $3::text[],
                       $4::timestamptz[]) AS a(kind, key, start_ts)
                   WHERE e.vehicle_id = $1 AND e.kind = a.kind AND e.key = a.key
                     AND e.start_ts = a.start_ts""",
                vehicle_id, [a[0] for a in anchored], [a[1] for a in anchored],
                [to_dt(a[2]) for a in anchored])
    rows = [(vehicle_id, e.kind, e.key, to_dt(e.start_ms),
             None if e.end_ms is None else to_dt(e.end_ms), e.data) for e in episodes]
    if rows:
        await conn.executemany(
            """INSERT INTO vehicle_episodes (vehicle_id, kind, key, start_ts, end_ts, data)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (vehicle_id, kind, key, start_ts) DO UPDATE
               SET end_ts = EXCLUDED.end_ts, data = EXCLUDED.data""", rows)


async def episodes_between(conn: asyncpg.Connection, vehicle_id: int, lo_ms: int,
                           hi_ms: int) -> list[Episode]:
    """Episodes overlapping [lo, hi) (an open one overlaps whatever follows its start)."""
    rows = await conn.fetch(
        """SELECT kind, key, start_ts, end_ts, data FROM vehicle_episodes
           WHERE vehicle_id = $1 AND start_ts < $3 AND (end_ts IS NULL OR end_ts > $2)
           ORDER BY start_ts, kind, key""", vehicle_id, to_dt(lo_ms), to_dt(hi_ms))
    return [Episode(r["kind"], r["key"], to_ms(r["start_ts"]), opt_ms(r["end_ts"]), r["data"])
            for r in rows]
