"""Stop PostgreSQL while positions stream in, start it again: nothing is lost.

The worker keeps the batch it could not write and retries; it acknowledges nothing meanwhile,
so the broker holds the rest for its persistent session. Needs its own PostgreSQL (the
embedded one, in a temporary directory) since the test stops it."""

from __future__ import annotations

import asyncio
import os
import time

import orjson
import pytest

from fleet.config import Settings
from fleet.db import connect
from fleet.migrate import migrate
from fleet.stack import EmbeddedPostgres
from telemetry.worker import run_ingest
from tests.integration.minimal_fleet import DEVICE_UIDS, insert_minimal_fleet
from tests.integration.test_ingest_mqtt import publisher
from tests.waiting import wait_until

BEFORE, DURING, AFTER = 300, 500, 200  # DURING stays under Mosquitto's default queue of 1000


async def count_rows(database_url: str) -> int:
    conn = await connect(database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM positions")
    finally:
        await conn.close()


@pytest.mark.embedded
async def test_postgres_outage_loses_nothing(services, tmp_path, unique_prefix):
    if not os.environ.get("FLEET_MQTT_URL"):
        pytest.skip("needs a broker that holds unacknowledged QoS 1 messages (FLEET_MQTT_URL)")
    pg = EmbeddedPostgres(tmp_path)
    database_url = await asyncio.to_thread(pg.start)
    try:
        conn = await connect(database_url)
        await migrate(conn)
        await insert_minimal_fleet(conn)
        await conn.close()
        root = f"{unique_prefix}/v1"
        settings = Settings(
            demo=True, database_url=database_url, redis_url=services.redis_url,
            mqtt_url=services.mqtt_url, mqtt_topic_root=root, redis_prefix=unique_prefix,
            ingest_client_id=f"ingest-{unique_prefix}",
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(run_ingest(settings, stop))
        pub = publisher(services.mqtt_url)
        start_ms = int(time.time() * 1000) - 3_600_000
        seq = 0

        def send(n: int) -> None:
            nonlocal seq
            for _ in range(n):
                body = {"ts": start_ms + seq * 1000, "lat": 30.0 + seq * 1e-5, "lon": 114.3, "seq": seq}
                pub.publish(f"{root}/devices/{DEVICE_UIDS[seq % 2]}/telemetry", orjson.dumps(body), qos=1)
                seq += 1

        await asyncio.sleep(2)  # subscribed
        send(BEFORE)
        await wait_until(lambda: _at_least(database_url, BEFORE), timeout_s=30, interval_s=0.3)
        await asyncio.to_thread(pg.stop)
        send(DURING)
        await asyncio.sleep(3)  # the worker fails, keeps its batch, retries
        await asyncio.to_thread(pg.start)
        send(AFTER)
        total = BEFORE + DURING + AFTER
        await wait_until(lambda: _at_least(database_url, total), timeout_s=60, interval_s=0.5)
        await asyncio.sleep(1)
        rows = await count_rows(database_url)
        print(f"published {total} ({DURING} while PostgreSQL was down); stored {rows}")
        assert rows == total
        stop.set()
        stats = await asyncio.wait_for(worker, timeout=30)
        assert stats["write_retries"] >= 1  # it did meet the outage
        pub.loop_stop()
        pub.disconnect()
    finally:
        await asyncio.to_thread(pg.stop)


async def _at_least(database_url: str, n: int) -> bool:
    try:
        return await count_rows(database_url) >= n
    except OSError:
        return False
