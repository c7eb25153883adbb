"""A graceful restart of the ingest worker (SIGTERM, rolling update) loses nothing: the worker
disconnects without unsubscribing, so the broker keeps collecting for its persistent session
while it is down, and the restarted worker gets it all."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from fleet.config import Settings
from telemetry.worker import run_ingest
from tests.integration.minimal_fleet import DEVICE_UIDS, TwoCarStream, insert_minimal_fleet
from tests.integration.test_ingest_mqtt import publisher
from tests.waiting import wait_until

BEFORE, WHILE_STOPPED, AFTER = 200, 300, 200


async def test_graceful_restart_loses_nothing(services, migrated_db_url, db_conn, unique_prefix, tmp_path):
    if not os.environ.get("FLEET_MQTT_URL"):
        pytest.skip("needs a broker that queues for an offline persistent session (FLEET_MQTT_URL)")
    await insert_minimal_fleet(db_conn)
    root = f"{unique_prefix}/v1"
    settings = Settings(
        demo=True, database_url=migrated_db_url, redis_url=services.redis_url,
        mqtt_url=services.mqtt_url, mqtt_topic_root=root, redis_prefix=unique_prefix,
        ingest_client_id=f"ingest-{unique_prefix}", data_dir=tmp_path, ingest_metrics_port=0,
    )
    pub = publisher(services.mqtt_url)
    stream = TwoCarStream(pub, root, int(time.time() * 1000) - 3_600_000)
    send = stream.send

    async def stored(n: int) -> bool:
        return await db_conn.fetchval("SELECT count(*) FROM positions") >= n

    async def run_worker() -> tuple[asyncio.Event, asyncio.Task]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_ingest(settings, stop))
        probe = f"{root}/devices/{DEVICE_UIDS[0]}/status"

        async def subscribed() -> bool:
            pub.publish(probe, b"online", qos=1)
            return await db_conn.fetchval(
                "SELECT status_at > now() - interval '2 s' FROM devices WHERE uid = $1", DEVICE_UIDS[0]) is True

        await wait_until(subscribed, timeout_s=15, interval_s=0.3)
        return stop, task

    try:
        stop, task = await run_worker()
        await send(BEFORE)
        await wait_until(lambda: stored(BEFORE), timeout_s=20, interval_s=0.2)
        stop.set()  # what SIGTERM does in `fleet ingest`
        await asyncio.wait_for(task, timeout=20)
        await send(WHILE_STOPPED)
        await asyncio.sleep(0.5)
        stop, task = await run_worker()
        await send(AFTER)
        total = BEFORE + WHILE_STOPPED + AFTER
        await wait_until(lambda: stored(total), timeout_s=30, interval_s=0.2)
        rows = await db_conn.fetchval("SELECT count(*) FROM positions")
        print(f"published {total} ({WHILE_STOPPED} while the worker was stopped); stored {rows}")
        assert rows == total
        stop.set()
        await asyncio.wait_for(task, timeout=20)
    finally:
        pub.loop_stop()
        pub.disconnect()
