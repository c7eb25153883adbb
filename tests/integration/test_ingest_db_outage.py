"""Stop PostgreSQL while positions stream in, start it again: nothing is lost.

The worker puts what it cannot write into its local spool (acknowledged: durable on disk) and
drains the spool once PostgreSQL is back; without a spool it keeps the batch, retries and
acknowledges nothing, so the broker holds the rest for its persistent session. Needs its own
PostgreSQL (the embedded one, in a temporary directory) since the test stops it."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from fleet.config import Settings
from fleet.db import connect
from fleet.migrate import migrate
from fleet.stack import EmbeddedPostgres
from telemetry.worker import run_ingest
from tests.integration.minimal_fleet import TwoCarStream, insert_minimal_fleet
from tests.integration.test_ingest_mqtt import publisher
from tests.waiting import wait_until

BEFORE, AFTER = 300, 200
# Without a spool the broker must hold what arrives during the outage: stay under Mosquitto's
# default queue of 1000. The spool has no such limit: send more than the broker would keep.
DURING_BROKER_HOLDS, DURING_SPOOL = 500, 2500


async def count_rows(database_url: str) -> int:
    conn = await connect(database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM positions")
    finally:
        await conn.close()


@pytest.mark.embedded
@pytest.mark.parametrize("spool", [True, False], ids=["spool", "broker-holds"])
async def test_postgres_outage_loses_nothing(services, tmp_path, unique_prefix, spool):
    if not spool and not os.environ.get("FLEET_MQTT_URL"):
        pytest.skip("needs a broker that holds unacknowledged QoS 1 messages (FLEET_MQTT_URL)")
    pg = EmbeddedPostgres(tmp_path)
    database_url = await asyncio.to_thread(pg.start)
    try:
        conn = await connect(database_url)
        await migrate(conn)
        await insert_minimal_fleet(conn)
        await conn.close()
        root = f"{unique_prefix}/v1"
        during = DURING_SPOOL if spool else DURING_BROKER_HOLDS
        settings = Settings(
            demo=True, database_url=database_url, redis_url=services.redis_url,
            mqtt_url=services.mqtt_url, mqtt_topic_root=root, redis_prefix=unique_prefix,
            ingest_client_id=f"ingest-{unique_prefix}", ingest_spool=spool,
            data_dir=tmp_path / "data", ingest_metrics_port=0,
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(run_ingest(settings, stop))
        pub = publisher(services.mqtt_url)
        stream = TwoCarStream(pub, root, int(time.time() * 1000) - 3_600_000)
        send = stream.send

        await asyncio.sleep(2)  # subscribed
        await send(BEFORE)
        await wait_until(lambda: _at_least(database_url, BEFORE), timeout_s=30, interval_s=0.3)
        await asyncio.to_thread(pg.stop)
        await send(during)
        await asyncio.sleep(3)  # the worker fails, keeps its batch, retries
        await asyncio.to_thread(pg.start)
        await send(AFTER)
        total = BEFORE + during + AFTER
        await wait_until(lambda: _at_least(database_url, total), timeout_s=60, interval_s=0.5)
        await asyncio.sleep(1)
        rows = await count_rows(database_url)
        stop.set()
        stats = await asyncio.wait_for(worker, timeout=30)
        print(f"published {total} ({during} while PostgreSQL was down); stored {rows}; "
              f"spooled {stats['spooled']}, drained from the spool {stats['unspooled']}, "
              f"write retries {stats['write_retries']}")
        assert rows == total
        assert stats["write_retries"] >= 1  # it did meet the outage
        if spool:
            assert stats["spooled"] >= 1 and stats["unspooled"] == stats["spooled"]
        pub.loop_stop()
        pub.disconnect()
    finally:
        await asyncio.to_thread(pg.stop)


async def _at_least(database_url: str, n: int) -> bool:
    try:
        return await count_rows(database_url) >= n
    except OSError:
        return False
