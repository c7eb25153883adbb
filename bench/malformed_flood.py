"""Publish 1,000 malformed messages (bad JSON, missing fields, out-of-range coordinates,
unknown devices ...) interleaved with good positions, against a running ingest worker, and
report what reached dead_letters and positions.

    FLEET_DATABASE_URL=... FLEET_MQTT_URL=... python bench/malformed_flood.py [--count 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter

import orjson
import paho.mqtt.client as mqtt

from fleet.config import Settings
from fleet.db import connect
from fleet.mqtt_url import parse_mqtt_url


def malformed(kind: int, uid: str, now_ms: int) -> tuple[str, bytes, str]:
    """(device uid, payload, expected reason)"""
    good = {"ts": now_ms, "lat": 30.59, "lon": 114.30, "speed_kmh": 10, "seq": kind}
    variants = [
        (uid, b"{\"ts\": 17953", "bad_json"),
        (uid, orjson.dumps({"lat": 30.5, "lon": 114.3}), "missing_field"),
        (uid, orjson.dumps({**good, "lat": 95.5}), "coordinate_out_of_range"),
        (uid, orjson.dumps({**good, "lon": 190.0}), "coordinate_out_of_range"),
        ("019999999999", orjson.dumps(good), "unknown_device"),
        (uid, orjson.dumps({**good, "ts": now_ms + 3 * 86_400_000}), "future_timestamp"),
        (uid, orjson.dumps({**good, "ts": "2026-11-23 08:00"}), "bad_timestamp"),
        (uid, orjson.dumps({**good, "speed_kmh": "fast"}), "bad_field"),
        (uid, b"[]", "empty_batch"),
        (uid, b"\"hello\"", "not_object"),
    ]
    return variants[kind % len(variants)]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--good", type=int, default=200)
    parser.add_argument(
        "--rate", type=float, default=0,
        help="messages per second (0 = as fast as the broker acks); see the note in bench/README.md",
    )
    args = parser.parse_args()
    settings = Settings(demo=True)
    database_url, _, mqtt_url = settings.require_urls()
    conn = await connect(database_url)
    # good positions sit where each car last was, so the jump filter has no reason to refuse them
    cars = await conn.fetch(
        """SELECT d.uid, coalesce(s.lat, c.centre_lat) AS lat, coalesce(s.lon, c.centre_lon) AS lon
           FROM devices d JOIN vehicles v ON v.id = d.vehicle_id
           JOIN cities c ON c.code = v.home_city_code
           LEFT JOIN latest_vehicle_state s ON s.vehicle_id = v.id""")
    uids = [r["uid"] for r in cars]
    where = {r["uid"]: (r["lat"], r["lon"]) for r in cars}
    letters_before = await conn.fetchval("SELECT count(*) FROM dead_letters")
    started = time.time()
    rng = random.Random(7)
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(address.host, address.port)
    client.loop_start()
    root = settings.mqtt_topic_root
    expected: Counter[str] = Counter()
    good_seqs = []
    interval_s = 1 / args.rate if args.rate else 0.0
    next_at = time.monotonic()
    for index in range(args.count):
        if interval_s:
            next_at += interval_s
            time.sleep(max(0.0, next_at - time.monotonic()))
        uid, payload, reason = malformed(index, rng.choice(uids), int(time.time() * 1000))
        client.publish(f"{root}/devices/{uid}/telemetry", payload, qos=1).wait_for_publish(10)
        expected[reason] += 1
        if index % (args.count // args.good) == 0:
            seq = 2_000_000_000 + index
            good_uid = rng.choice(uids)
            lat, lon = where[good_uid]
            good = {"ts": int(time.time() * 1000), "lat": lat, "lon": lon, "seq": seq}
            client.publish(f"{root}/devices/{good_uid}/telemetry", orjson.dumps(good), qos=1).wait_for_publish(10)
            good_seqs.append(seq)
    client.loop_stop()
    client.disconnect()
    deadline = time.time() + 60
    while time.time() < deadline:
        letters = await conn.fetchval("SELECT count(*) FROM dead_letters") - letters_before
        stored = await conn.fetchval("SELECT count(*) FROM positions WHERE seq = ANY($1::int[])", good_seqs)
        if letters >= args.count and stored >= len(good_seqs):
            break
        await asyncio.sleep(0.5)
    rows = await conn.fetch(
        "SELECT reason, count(*) AS n FROM dead_letters WHERE received_at >= to_timestamp($1) GROUP BY 1 ORDER BY 1",
        started - 1,
    )
    await conn.close()
    got = {r["reason"]: r["n"] for r in rows}
    rate = f"{args.rate:g} msg/s" if args.rate else "as fast as the broker acks"
    print(f"malformed published: {args.count} ({rate}); dead letters: {sum(got.values())}")
    for reason in sorted(expected):
        print(f"  {reason:<26} expected {expected[reason]:>4}  in dead_letters {got.get(reason, 0):>4}")
    print(f"good positions published among them: {len(good_seqs)}; stored: {stored}")


if __name__ == "__main__":
    asyncio.run(main())
