"""Trips and stops through the real pipeline: MQTT in, rows in `trips` and `stops` out.

A recorded day (parked jitter, a tunnel, a short hop, red lights) is published shuffled, with a
stretch held back far beyond the reorder window (盲区补报), in batches of 10 per message; the
stored trips and stops equal those of the same positions folded in order. With two workers on
one shared subscription (Mosquitto hands each message to either), the versioned per-vehicle
state keeps the result the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import urllib.request
from dataclasses import replace

import orjson
import pytest

from fleet.config import Settings
from fleet.stack import pick_port
from telemetry.encode import position_payload
from telemetry.model import Position
from telemetry.motion import Segment
from telemetry.worker import run_ingest
from tests.integration.minimal_fleet import DEVICE_UIDS, insert_minimal_fleet
from tests.integration.test_ingest_mqtt import publisher
from tests.tracks import TrackBuilder
from tests.unit.test_timeline_order import in_order
from tests.waiting import wait_until


def recorded_day(uid: str, with_acc: bool, seed: int) -> list[Position]:
    t = TrackBuilder(with_acc=with_acc, seed=seed, interval_s=15)
    t.park(1800).drive(1500, 45, tunnel=(300, 240)).park(900).drive(100, 10).park(1200)
    t.drive(2400, 35, red_lights_every_s=300).idle(300).park(1800)
    return [replace(p, device_uid=uid) for p in t.positions]


def arrival_order(positions: list[Position], rng: random.Random) -> list[Position]:
    """Shuffled within 4 min of device time; positions 130-149 (inside the first trip) held
    back until the end of the day: hours late."""
    held = set(range(130, 150))
    keyed = [(p.ts_ms + rng.uniform(0, 240_000), p) for i, p in enumerate(positions) if i not in held]
    on_time = [p for _, p in sorted(keyed, key=lambda kp: kp[0])]
    return on_time + [positions[i] for i in sorted(held)]


def settings_for(services, db_url: str, prefix: str, tmp_path, **extra) -> Settings:
    fields = {"ingest_client_id": f"ingest-{prefix}", **extra}
    return Settings(
        demo=True, database_url=db_url, redis_url=services.redis_url, mqtt_url=services.mqtt_url,
        mqtt_topic_root=f"{prefix}/v1", redis_prefix=prefix, data_dir=tmp_path / "data", **fields,
    )


async def publish_day(pub, root: str, days: dict[str, list[Position]], db_conn) -> int:
    total = 0
    for uid, arrivals in days.items():
        for i in range(0, len(arrivals), 10):  # a gateway batching 10 positions per message
            items = [orjson.loads(position_payload(p)) for p in arrivals[i:i + 10]]
            pub.publish(f"{root}/devices/{uid}/telemetry", orjson.dumps(items), qos=1)
            total += len(items)
            if i % 200 == 0:
                await asyncio.sleep(0.05)

    async def stored() -> bool:
        return await db_conn.fetchval("SELECT count(*) FROM positions") >= total

    await wait_until(stored, timeout_s=60, interval_s=0.2)
    return total


async def stored_segments(db_conn, vehicle_id: int) -> list[tuple]:
    trips = await db_conn.fetch(
        """SELECT 'trip' AS kind, start_ts, end_ts, dist_gnss_m FROM trips WHERE vehicle_id = $1
           UNION ALL SELECT 'stop', start_ts, end_ts, 0 FROM stops WHERE vehicle_id = $1
           ORDER BY 2, 1""", vehicle_id)
    return [(r["kind"], int(r["start_ts"].timestamp() * 1000),
             None if r["end_ts"] is None else int(r["end_ts"].timestamp() * 1000),
             round(r["dist_gnss_m"], 3)) for r in trips]


def expected_segments(positions: list[Position]) -> list[tuple]:
    segments: list[Segment] = in_order(positions)
    return [(s.kind, s.start_ts_ms, s.end_ts_ms, round(s.dist_m, 3) if s.kind == "trip" else 0)
            for s in segments]


async def wait_for_segments(db_conn, vehicle_id: int, expected: list[tuple]) -> list[tuple]:
    got: list[tuple] = []

    async def settled() -> bool:
        nonlocal got
        got = await stored_segments(db_conn, vehicle_id)
        return got == expected

    with contextlib.suppress(TimeoutError):  # the caller compares and shows the difference
        await wait_until(settled, timeout_s=20, interval_s=0.3)
    return got


async def start_workers(settings_list: list[Settings], pub, root: str, db_conn):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_ingest(s, stop)) for s in settings_list]
    probe = f"{root}/devices/{DEVICE_UIDS[0]}/status"

    async def subscribed() -> bool:
        pub.publish(probe, b"online", qos=1)
        return await db_conn.fetchval(
            "SELECT status FROM devices WHERE uid = $1", DEVICE_UIDS[0]) == "online"

    await wait_until(subscribed, timeout_s=15, interval_s=0.3)
    await asyncio.sleep(1.0)  # every worker of the group subscribed
    return stop, tasks


async def test_late_and_shuffled_positions_give_the_in_order_trips(services, migrated_db_url, db_conn,
                                                                    unique_prefix, tmp_path):
    vehicles = await insert_minimal_fleet(db_conn)
    rng = random.Random(7)
    days = {DEVICE_UIDS[0]: recorded_day(DEVICE_UIDS[0], True, 1),
            DEVICE_UIDS[1]: recorded_day(DEVICE_UIDS[1], False, 2)}
    port = pick_port(19464)
    settings = settings_for(services, migrated_db_url, unique_prefix, tmp_path, ingest_metrics_port=port)
    pub = publisher(services.mqtt_url)
    stop, tasks = await start_workers([settings], pub, settings.mqtt_topic_root, db_conn)
    try:
        total = await publish_day(pub, settings.mqtt_topic_root,
                                  {uid: arrival_order(p, rng) for uid, p in days.items()}, db_conn)
        for uid, positions in days.items():
            expected = expected_segments(positions)
            got = await wait_for_segments(db_conn, vehicles[uid], expected)
            print(f"{uid}: {total} positions published; stored segments {len(got)}, "
                  f"expected {len(expected)}: {[k for k, *_ in expected]}")
            assert got == expected
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert "fleet_ingest_positions_stored_total" in metrics
        assert 'fleet_ingest_stage_seconds_count{stage="detect"}' in metrics
        recomputed = next(float(line.split()[-1]) for line in metrics.splitlines()
                          if line.startswith("fleet_ingest_motion_recomputed_total"))
        assert recomputed >= 2  # the held-back stretch of each vehicle
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        pub.loop_stop()
        pub.disconnect()


async def test_two_workers_on_a_shared_subscription_agree(services, migrated_db_url, db_conn,
                                                          unique_prefix, tmp_path):
    if not os.environ.get("FLEET_MQTT_URL"):
        pytest.skip("shared subscriptions ($share) need Mosquitto or EMQX (FLEET_MQTT_URL)")
    vehicles = await insert_minimal_fleet(db_conn)
    days = {DEVICE_UIDS[0]: recorded_day(DEVICE_UIDS[0], True, 3),
            DEVICE_UIDS[1]: recorded_day(DEVICE_UIDS[1], False, 4)}
    workers = [
        settings_for(services, migrated_db_url, unique_prefix, tmp_path / f"w{i}",
                     ingest_client_id=f"ingest-{unique_prefix}-{i}",
                     ingest_shared_group=f"g-{unique_prefix}", ingest_metrics_port=0)
        for i in range(2)
    ]
    pub = publisher(services.mqtt_url)
    stop, tasks = await start_workers(workers, pub, workers[0].mqtt_topic_root, db_conn)
    try:
        await publish_day(pub, workers[0].mqtt_topic_root, days, db_conn)
        for uid, positions in days.items():
            expected = expected_segments(positions)
            assert await wait_for_segments(db_conn, vehicles[uid], expected) == expected
    finally:
        stop.set()
        stats = await asyncio.gather(*tasks)
        pub.loop_stop()
        pub.disconnect()
    shares = [s["messages"] for s in stats]
    print(f"messages per worker: {shares}; state reloads {[s['motion.loaded'] for s in stats]}")
    assert all(n > 0 for n in shares)  # the broker did spread the load
    duplicated = await db_conn.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM positions GROUP BY device_id, ts, seq HAVING count(*) > 1) d")
    assert duplicated == 0
