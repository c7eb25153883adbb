"""The COPY writer against real PostgreSQL: round trip, idempotency, partitions, latest state."""

from __future__ import annotations

from datetime import UTC, datetime

from fleet.db import create_pool
from telemetry.devices import DeviceBinding
from telemetry.model import Position, Rejection, StatusChange
from telemetry.store import TelemetryStore
from tests.integration.minimal_fleet import DEVICE_UIDS, insert_minimal_fleet


async def test_copy_round_trip_is_exact_and_idempotent(migrated_db_url, db_conn):
    vehicles = await insert_minimal_fleet(db_conn)
    device_id = await db_conn.fetchval("SELECT id FROM devices WHERE uid = $1", DEVICE_UIDS[0])
    vehicle_id = vehicles[DEVICE_UIDS[0]]
    base = {"device_uid": DEVICE_UIDS[0], "device_id": device_id, "vehicle_id": vehicle_id}
    positions = [
        Position(ts_ms=1_795_392_902_123, received_ms=1_795_392_903_000, lat=30.5928123, lon=114.3055456,
                 speed_kmh=42.5, heading_deg=271, acc=True, fix=True, odometer_km=12345.6,
                 fuel_l=31.25, soc_pct=None, alarm=0b100100000, seq=1234, **base),
        Position(ts_ms=1_795_392_912_000, received_ms=1_795_392_913_000, lat=30.6, lon=114.31,
                 fix=False, **base),  # no fix: stored, but not the latest state
        # a different day, years back: lands in a partition made for it
        Position(ts_ms=1_700_000_000_000, received_ms=1_795_392_913_000, lat=30.0, lon=114.0, seq=1, **base),
    ]
    pool = await create_pool(migrated_db_url)
    try:
        store = TelemetryStore(pool)
        inserted, online = await store.write(positions, [], [])
        assert inserted == positions
        assert [(c.status, c.reason) for c, _ in online] == [("online", "data")]  # data: online
        inserted, online = await store.write(positions, [], [])
        assert inserted == [] and online == []  # redelivery: nothing new, no status change
        rows = await db_conn.fetch("SELECT * FROM positions ORDER BY ts DESC")
        assert len(rows) == 3
        first = next(r for r in rows if r["seq"] == 1234)
        assert first["ts"] == datetime.fromtimestamp(1_795_392_902.123, tz=UTC)
        assert (first["lat"], first["lon"]) == (30.5928123, 114.3055456)
        assert (first["speed_kmh"], first["heading_deg"], first["acc"], first["fix"]) == (42.5, 271, True, True)
        assert (first["odometer_km"], first["fuel_l"], first["soc_pct"], first["alarm"]) == (12345.6, 31.25, None, 288)
        old_partition = await db_conn.fetchval(
            "SELECT tableoid::regclass::text FROM positions WHERE seq = 1")
        assert old_partition == "positions_20231115"
        partitions = await db_conn.fetchval(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass")
        assert partitions < 20  # only the stray day was added, not the years in between
        latest = await db_conn.fetchrow("SELECT * FROM latest_vehicle_state WHERE vehicle_id = $1", vehicle_id)
        assert latest["lat"] == 30.5928123  # the no-fix position is newer but not a location
        # an older position must never move the latest state back
        older = Position(ts_ms=1_795_392_000_000, received_ms=1_795_392_999_000, lat=1.0, lon=1.0, seq=9, **base)
        await store.write([older], [], [])
        assert await db_conn.fetchval(
            "SELECT lat FROM latest_vehicle_state WHERE vehicle_id = $1", vehicle_id) == 30.5928123
    finally:
        await pool.close()


async def test_dead_letters_and_status_in_the_same_transaction(migrated_db_url, db_conn):
    await insert_minimal_fleet(db_conn)
    device_id = await db_conn.fetchval("SELECT id FROM devices WHERE uid = $1", DEVICE_UIDS[1])
    pool = await create_pool(migrated_db_url)
    try:
        store = TelemetryStore(pool)
        rejection = Rejection("fleet/v1/devices/x/telemetry", b"\x00\xffraw", "bad_json", "detail", 1_795_392_000_000, "x")
        change = StatusChange(DEVICE_UIDS[1], "offline", 1_795_392_000_000)
        await store.write([], [rejection], [(change, DeviceBinding(device_id, None, 10))])
        letter = await db_conn.fetchrow("SELECT * FROM dead_letters")
        assert bytes(letter["payload"]) == b"\x00\xffraw" and letter["reason"] == "bad_json"
        assert await db_conn.fetchval("SELECT status FROM devices WHERE id = $1", device_id) == "offline"
        # a status older than the one recorded does not win
        stale = StatusChange(DEVICE_UIDS[1], "online", 1_795_391_000_000)
        await store.write([], [], [(stale, DeviceBinding(device_id, None, 10))])
        assert await db_conn.fetchval("SELECT status FROM devices WHERE id = $1", device_id) == "offline"
    finally:
        await pool.close()
