"""PostgreSQL side of ingest: positions by binary COPY, dead letters, device status.

Positions are COPYed into a per-connection temporary table and moved with
INSERT ... ON CONFLICT DO NOTHING, so a message the broker redelivers (QoS 1 is
at-least-once) never becomes a second row. The same transaction refreshes
latest_vehicle_state, only ever forwards in device time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg

from telemetry.contract import CommandAck
from telemetry.devices import DeviceBinding
from telemetry.model import Position, Rejection, StatusChange

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# A value PostgreSQL (or asyncpg's encoder) cannot take: retrying cannot help, isolate the row.
DATA_ERRORS = (asyncpg.DataError, OverflowError, ValueError, TypeError)

POSITION_COLUMNS = (
    "vehicle_id", "device_id", "ts_ms", "seq", "received_ms", "lat", "lon", "speed_kmh",
    "heading_deg", "acc", "fix", "odometer_km", "fuel_l", "soc_pct", "alarm",
)

# Staged with times as epoch milliseconds: turning them into timestamps in SQL, exactly (integer
# arithmetic), costs less than building a Python datetime per value on ingest's hot path.
_STAGING = """CREATE TEMP TABLE IF NOT EXISTS positions_in (
    vehicle_id integer, device_id integer, ts_ms bigint, seq integer, received_ms bigint,
    lat double precision, lon double precision, speed_kmh real, heading_deg smallint,
    acc boolean, fix boolean, odometer_km double precision, fuel_l real, soc_pct real,
    alarm bigint) ON COMMIT DELETE ROWS"""

_EPOCH_MS = "timestamptz 'epoch' + {} * interval '1 millisecond'"

# RETURNING: the positions that are new rows go on to the detectors, redeliveries do not.
_MOVE = f"""WITH moved AS (
    INSERT INTO positions (vehicle_id, device_id, ts, seq, received_at, lat, lon, speed_kmh,
        heading_deg, acc, fix, odometer_km, fuel_l, soc_pct, alarm)
    SELECT vehicle_id, device_id, {_EPOCH_MS.format("ts_ms")}, seq,
        {_EPOCH_MS.format("received_ms")}, lat, lon, speed_kmh, heading_deg, acc, fix,
        odometer_km, fuel_l, soc_pct, alarm
    FROM positions_in
    ON CONFLICT DO NOTHING RETURNING device_id, ts, seq)
SELECT device_id, (extract(epoch FROM ts) * 1000)::bigint AS ts_ms, seq FROM moved"""

# The rules worker (`fleet rules`) looks at these cars again from the oldest device time
# stored now: late data (盲区补报) makes it replay from there (supervision/runner.py).
# Rows in vehicle_id order, like every multi-row upsert of rule_dirty (the worker's tick,
# migration 0012's triggers): two such statements never lock the same cars in opposite orders.
_RULES_DIRTY = f"""
INSERT INTO rule_dirty (vehicle_id, from_ts)
SELECT vehicle_id, {_EPOCH_MS.format("min(ts_ms)")} FROM positions_in GROUP BY vehicle_id
ORDER BY vehicle_id
ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
    marked_at = now()"""

# A device that sends data is online, whatever its last will or a silence said before.
_ONLINE_BY_DATA = """UPDATE devices SET status = 'online', status_reason = 'data', status_at = $2
    WHERE id = ANY($1::int[]) AND status <> 'online' RETURNING id, uid, vehicle_id"""

_LATEST = f"""
INSERT INTO latest_vehicle_state AS cur (vehicle_id, device_id, ts, received_at, lat, lon,
    speed_kmh, heading_deg, acc, odometer_km, fuel_l, soc_pct, alarm)
SELECT DISTINCT ON (vehicle_id) vehicle_id, device_id, {_EPOCH_MS.format("ts_ms")},
    {_EPOCH_MS.format("received_ms")}, lat, lon, speed_kmh, heading_deg, acc, odometer_km,
    fuel_l, soc_pct, alarm
FROM positions_in WHERE fix
ORDER BY vehicle_id, ts_ms DESC
ON CONFLICT (vehicle_id) DO UPDATE SET device_id = EXCLUDED.device_id, ts = EXCLUDED.ts,
    received_at = EXCLUDED.received_at, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
    speed_kmh = EXCLUDED.speed_kmh, heading_deg = EXCLUDED.heading_deg, acc = EXCLUDED.acc,
    odometer_km = EXCLUDED.odometer_km, fuel_l = EXCLUDED.fuel_l, soc_pct = EXCLUDED.soc_pct,
    alarm = EXCLUDED.alarm
WHERE cur.ts < EXCLUDED.ts
"""

# A terminal's answer to a command (远程提醒): the first one counts, and only from the device
# the command went to.
_ACKS = """
UPDATE reminders r SET acked_at = a.at, ack_ok = a.ok, ack_detail = a.detail
FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::timestamptz[])
    AS a(command_id, uid, ok, detail, at)
WHERE r.command_id = a.command_id AND (r.device_uid IS NULL OR r.device_uid = a.uid)
  AND r.acked_at IS NULL"""

_DAY_MS = 86_400_000
_SHANGHAI_OFFSET_MS = 8 * 3_600_000  # Asia/Shanghai has no daylight saving time


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _day_number(ms: int) -> int:
    return (ms + _SHANGHAI_OFFSET_MS) // _DAY_MS


def position_record(p: Position) -> tuple:
    return (
        p.vehicle_id, p.device_id, p.ts_ms, p.seq, p.received_ms, p.lat, p.lon,
        p.speed_kmh, p.heading_deg, p.acc, p.fix, p.odometer_km, p.fuel_l, p.soc_pct, p.alarm,
    )


class TelemetryStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._days_ready: set[int] = set()  # Asia/Shanghai day numbers with a partition

    async def load_devices(self) -> dict[str, DeviceBinding]:
        rows = await self._pool.fetch("SELECT id, uid, vehicle_id, report_interval_s FROM devices")
        return {
            r["uid"]: DeviceBinding(r["id"], r["vehicle_id"], r["report_interval_s"]) for r in rows
        }

    async def write(
        self,
        positions: list[Position],
        rejections: list[Rejection],
        statuses: list[tuple[StatusChange, DeviceBinding]],
    ) -> tuple[list[Position], list[tuple[StatusChange, DeviceBinding]]]:
        """Everything from one batch in one transaction. Returns the positions that became
        new rows and the devices that came online by sending data.

        Raises a DATA_ERRORS exception when a value cannot be stored at all (the caller
        isolates the row); anything else is a connection or server problem worth a retry."""
        inserted: list[Position] = []
        online: list[tuple[StatusChange, DeviceBinding]] = []
        days = {_day_number(p.ts_ms) for p in positions} - self._days_ready
        async with self._pool.acquire(timeout=10) as conn, conn.transaction():
            if days:
                # one day at a time: a stray old fix must not create every partition in between
                await conn.execute(
                    "SELECT ensure_position_partitions(d, d) FROM unnest($1::date[]) AS d",
                    [date.fromordinal(EPOCH_ORDINAL + d) for d in sorted(days)],
                )
            if positions:
                await conn.execute(_STAGING)
                await conn.copy_records_to_table(
                    "positions_in",
                    records=[position_record(p) for p in positions],
                    columns=POSITION_COLUMNS,
                )
                new_keys = {(r["device_id"], r["ts_ms"], r["seq"]) for r in await conn.fetch(_MOVE)}
                inserted = [p for p in positions if (p.device_id, p.ts_ms, p.seq) in new_keys]
                await conn.execute(_LATEST)
                await conn.execute(_RULES_DIRTY)
                now = datetime.now(UTC)
                for row in await conn.fetch(_ONLINE_BY_DATA, sorted({p.device_id for p in positions}), now):
                    change = StatusChange(row["uid"], "online", int(now.timestamp() * 1000), "data")
                    online.append((change, DeviceBinding(row["id"], row["vehicle_id"], 0)))
            if rejections:
                await conn.copy_records_to_table(
                    "dead_letters",
                    records=[
                        (_dt(r.received_ms), r.topic, r.payload, r.reason, r.detail, r.device_uid)
                        for r in rejections
                    ],
                    columns=("received_at", "topic", "payload", "reason", "detail", "device_uid"),
                )
            for change, binding in statuses:
                await conn.execute(
                    """UPDATE devices SET status = $2, status_at = $3, status_reason = $4
                       WHERE id = $1 AND (status_at IS NULL OR status_at <= $3)""",
                    binding.device_id,
                    change.status,
                    _dt(change.received_ms),
                    change.reason,
                )
        # only now: a rolled-back transaction took its new partitions with it
        self._days_ready |= days
        return inserted, online

    async def record_acks(self, acks: list[CommandAck]) -> int:
        """Records command acknowledgements on their reminders rows; how many matched one
        (an unknown command id, another device's, or a repeat matches none)."""
        first: dict[str, CommandAck] = {}
        for ack in acks:
            first.setdefault(ack.command_id, ack)
        if not first:
            return 0
        rows = list(first.values())
        status = await self._pool.execute(
            _ACKS, [a.command_id for a in rows], [a.device_uid for a in rows],
            [a.ok for a in rows], [a.detail for a in rows], [_dt(a.received_ms) for a in rows])
        return int(status.split()[-1])
