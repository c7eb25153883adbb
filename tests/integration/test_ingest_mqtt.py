"""Real broker in, real PostgreSQL and Redis out: the ingest worker end to end."""

from __future__ import annotations

import asyncio
import time

import orjson
import paho.mqtt.client as mqtt
import pytest
import redis.asyncio as aioredis

from fleet.config import Settings
from fleet.mqtt_url import parse_mqtt_url
from telemetry.worker import run_ingest
from tests.integration.minimal_fleet import DEVICE_UIDS, insert_minimal_fleet
from tests.waiting import wait_until


def publisher(mqtt_url: str) -> mqtt.Client:
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


@pytest.fixture
async def ingest(services, migrated_db_url, db_conn, unique_prefix):
    """A running ingest worker on its own topic root, Redis prefix and database."""
    vehicles = await insert_minimal_fleet(db_conn)
    settings = Settings(
        demo=True,
        database_url=migrated_db_url,
        redis_url=services.redis_url,
        mqtt_url=services.mqtt_url,
        mqtt_topic_root=f"{unique_prefix}/v1",
        redis_prefix=unique_prefix,
        ingest_client_id=f"ingest-{unique_prefix}",
        ingest_flush_ms=50,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_ingest(settings, stop))
    pub = publisher(services.mqtt_url)
    redis_client = aioredis.from_url(services.redis_url)
    # the worker is subscribed once a probe status message shows up in the database
    probe_topic = f"{unique_prefix}/v1/devices/{DEVICE_UIDS[0]}/status"

    async def subscribed() -> bool:
        pub.publish(probe_topic, b"online", qos=1)
        return await db_conn.fetchval("SELECT status FROM devices WHERE uid = $1", DEVICE_UIDS[0]) == "online"

    await wait_until(subscribed, timeout_s=15, interval_s=0.3)
    yield settings, pub, vehicles, redis_client
    stop.set()
    await asyncio.wait_for(task, timeout=15)
    pub.loop_stop()
    pub.disconnect()
    await redis_client.delete(f"{unique_prefix}:latest")
    await redis_client.aclose()


# Only this test's topic root: amqtt (the embedded broker) has been seen to hand a subscriber
# retained messages of other roots, which ingest rightly files as bad_topic.
OURS = "WITH ours AS (SELECT * FROM dead_letters WHERE starts_with(topic, $1))"


def telemetry(uid: str, seq: int, ts_ms: int, **extra) -> bytes:
    # driving north at 40 km/h (1e-4 degree a second): every fix is consistent with the last
    travelled_s = (ts_ms % 86_400_000) / 1000
    body = {"ts": ts_ms, "lat": 30.0 + travelled_s * 1e-4, "lon": 114.30, "speed_kmh": 40.0,
            "heading_deg": 0, "acc": True, "odometer_km": 1000 + travelled_s * 0.011, "seq": seq}
    body.update(extra)
    return orjson.dumps(body)


async def test_published_positions_become_rows_and_latest_state(ingest, db_conn):
    settings, pub, vehicles, redis_client = ingest
    root = settings.mqtt_topic_root
    start_ms = int(time.time() * 1000) - 600_000
    sent = 0
    for uid in DEVICE_UIDS:
        for seq in range(150):
            pub.publish(f"{root}/devices/{uid}/telemetry", telemetry(uid, seq, start_ms + seq * 1000), qos=1)
            sent += 1
    # a gateway-style batch of three positions in one message
    # (bit 31 of the JT/T 808 alarm word is a real alarm: it must fit)
    batch = [orjson.loads(telemetry(DEVICE_UIDS[0], 1000 + i, start_ms + 200_000 + i * 1000, alarm=2**31 + i))
             for i in range(3)]
    pub.publish(f"{root}/devices/{DEVICE_UIDS[0]}/telemetry", orjson.dumps(batch), qos=1)
    sent += 3

    async def all_stored() -> bool:
        return await db_conn.fetchval("SELECT count(*) FROM positions") == sent

    await wait_until(all_stored, timeout_s=20)
    assert await db_conn.fetchval("SELECT alarm FROM positions WHERE seq = 1002") == 2**31 + 2
    latest: dict = {}

    async def redis_caught_up() -> bool:  # Redis follows the commit (publish is the last stage)
        nonlocal latest
        raw = await redis_client.hget(f"{settings.redis_prefix}:latest", str(vehicles[DEVICE_UIDS[0]]))
        latest = orjson.loads(raw) if raw else {}
        return latest.get("ts_ms") == start_ms + 202_000

    await wait_until(redis_caught_up, timeout_s=10)
    assert latest["device_uid"] == DEVICE_UIDS[0]
    row = await db_conn.fetchrow(
        "SELECT ts, odometer_km FROM latest_vehicle_state WHERE vehicle_id = $1", vehicles[DEVICE_UIDS[1]]
    )
    assert int(row["ts"].timestamp() * 1000) == start_ms + 149_000
    letters = await db_conn.fetch(
        "SELECT topic, reason, detail FROM dead_letters WHERE starts_with(topic, $1)", root)
    assert letters == []


async def test_redelivered_message_is_not_a_second_row(ingest, db_conn):
    settings, pub, _, _ = ingest
    topic = f"{settings.mqtt_topic_root}/devices/{DEVICE_UIDS[1]}/telemetry"
    ts_ms = int(time.time() * 1000)
    for _ in range(3):
        pub.publish(topic, telemetry(DEVICE_UIDS[1], 7, ts_ms), qos=1)
    pub.publish(topic, telemetry(DEVICE_UIDS[1], 8, ts_ms + 1000), qos=1)

    async def second_arrived() -> bool:
        return await db_conn.fetchval("SELECT count(*) FROM positions WHERE seq = 8") == 1

    await wait_until(second_arrived, timeout_s=15)
    assert await db_conn.fetchval("SELECT count(*) FROM positions WHERE seq = 7") == 1


async def test_malformed_messages_are_dead_letters_and_ingest_goes_on(ingest, db_conn):
    settings, pub, _, _ = ingest
    root = settings.mqtt_topic_root
    good_topic = f"{root}/devices/{DEVICE_UIDS[0]}/telemetry"
    now_ms = int(time.time() * 1000)
    bad = [
        (good_topic, b"{not json", "bad_json"),
        (good_topic, b'{"lat": 30.5, "lon": 114.3}', "missing_field"),
        (good_topic, orjson.dumps({"ts": now_ms, "lat": 91.0, "lon": 114.3}), "coordinate_out_of_range"),
        (good_topic, orjson.dumps({"ts": now_ms + 3 * 86_400_000, "lat": 30.5, "lon": 114.3}), "future_timestamp"),
        (f"{root}/devices/013877777777/telemetry", telemetry("x", 1, now_ms), "unknown_device"),
        (f"{root}/devices/013899999999/telemetry", telemetry("x", 1, now_ms), "unbound_device"),
        (good_topic, orjson.dumps({"ts": "yesterday", "lat": 30.5, "lon": 114.3}), "bad_timestamp"),
        (good_topic, orjson.dumps({"ts": now_ms, "lat": "30.5", "lon": 114.3}), "bad_field"),
        (f"{root}/devices/{DEVICE_UIDS[0]}/status", b"sleeping", "bad_status"),
        (good_topic, b"[]", "empty_batch"),
        (good_topic, b"42", "not_object"),
        (good_topic, orjson.dumps({"ts": now_ms - 1, "lat": 0.0, "lon": 0.0}), "zero_coordinates"),
        (good_topic, orjson.dumps({"ts": now_ms - 2, "lat": 30.5, "lon": 114.3, "speed_kmh": 400}), "implausible_speed"),
    ]
    for topic, payload, _ in bad:
        pub.publish(topic, payload, qos=1)
    pub.publish(good_topic, telemetry(DEVICE_UIDS[0], 5000, now_ms), qos=1)

    async def all_handled() -> bool:
        letters = await db_conn.fetchval(OURS + " SELECT count(*) FROM ours", root)
        good = await db_conn.fetchval("SELECT count(*) FROM positions WHERE seq = 5000")
        return letters == len(bad) and good == 1

    await wait_until(all_handled, timeout_s=15)
    rows = await db_conn.fetch(OURS + " SELECT topic, payload, reason FROM ours ORDER BY id", root)
    assert sorted(r["reason"] for r in rows) == sorted(reason for _, _, reason in bad)
    by_reason = {r["reason"]: r for r in rows}
    assert bytes(by_reason["bad_json"]["payload"]) == b"{not json"
    assert by_reason["unknown_device"]["topic"].endswith("013877777777/telemetry")
