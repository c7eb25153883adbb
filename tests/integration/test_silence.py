"""Devices that go silent are marked offline (reason `silence`), by their expected interval:
the device's report interval with ACC on, the parked interval with ACC off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fleet.db import create_pool
from telemetry.silence import SilenceSettings, sweep
from tests.integration.minimal_fleet import DEVICE_UIDS, insert_minimal_fleet

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


async def test_silence_sweep_by_acc_state(migrated_db_url, db_conn):
    vehicles = await insert_minimal_fleet(db_conn)  # report_interval_s = 5
    running, parked = DEVICE_UIDS
    for uid, acc, silent_s in ((running, True, 120), (parked, False, 120)):
        device_id = await db_conn.fetchval("SELECT id FROM devices WHERE uid = $1", uid)
        await db_conn.execute("UPDATE devices SET status = 'online' WHERE id = $1", device_id)
        await db_conn.execute(
            """INSERT INTO latest_vehicle_state (vehicle_id, device_id, ts, received_at, lat, lon, acc)
               VALUES ($1, $2, $3, $3, 30.59, 114.30, $4)""",
            vehicles[uid], device_id, NOW - timedelta(seconds=silent_s), acc)
    settings = SilenceSettings(intervals=3, parked_interval_s=300, min_silence_s=60)
    pool = await create_pool(migrated_db_url)
    try:
        changes = await sweep(pool, settings, NOW)
        # running: 120 s > max(60, 3 x 5 s); parked: 120 s < 3 x 300 s, it is asleep, not dark
        assert [(c.device_uid, c.status, c.reason, b.vehicle_id) for c, b in changes] == [
            (running, "offline", "silence", vehicles[running])]
        rows = dict(await db_conn.fetch("SELECT uid, status || '/' || status_reason FROM devices "
                                        "WHERE uid = ANY($1)", list(DEVICE_UIDS)))
        assert rows == {running: "offline/silence", parked: "online/"}
        assert await sweep(pool, settings, NOW) == []  # already offline: no second change
        later = await sweep(pool, settings, NOW + timedelta(seconds=900))
        assert [c.device_uid for c, _ in later] == [parked]
    finally:
        await pool.close()
