"""Devices that went silent: online → offline when no data came for longer than expected.

The expected interval depends on ACC (domain.md §3, R7): a running car reports every
`report_interval_s` of its device; a parked one (ACC off) sleeps and reports every
`parked_interval_s`. Silent for `intervals` times that (at least `min_silence_s`): offline,
reason `silence`. The next data sets it online again (telemetry.store). One worker sweeps at a
time (a transaction-level advisory lock), whichever gets there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from telemetry.devices import DeviceBinding
from telemetry.model import StatusChange

SWEEP_LOCK_KEY = 0x5F1E_0C3  # pg_try_advisory_xact_lock key of the silence sweep


@dataclass(frozen=True)
class SilenceSettings:
    intervals: float = 3.0
    parked_interval_s: int = 300
    min_silence_s: int = 60
    sweep_every_s: float = 15.0


_SWEEP = """
UPDATE devices d SET status = 'offline', status_reason = 'silence', status_at = $1::timestamptz
FROM latest_vehicle_state s
WHERE s.device_id = d.id AND d.status = 'online'
  AND s.received_at < $1::timestamptz - make_interval(secs => greatest($4::float8,
        $2::float8 * CASE WHEN s.acc IS FALSE THEN $3::float8 ELSE d.report_interval_s END))
RETURNING d.id, d.uid, d.vehicle_id, d.report_interval_s
"""


async def sweep(
    pool: asyncpg.Pool, settings: SilenceSettings, now: datetime
) -> list[tuple[StatusChange, DeviceBinding]]:
    async with pool.acquire(timeout=10) as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SWEEP_LOCK_KEY):
            return []
        rows = await conn.fetch(
            _SWEEP, now, settings.intervals, settings.parked_interval_s, settings.min_silence_s
        )
    ts_ms = int(now.timestamp() * 1000)
    return [
        (StatusChange(r["uid"], "offline", ts_ms, "silence"),
         DeviceBinding(r["id"], r["vehicle_id"], r["report_interval_s"]))
        for r in rows
    ]
