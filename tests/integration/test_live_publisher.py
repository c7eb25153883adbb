"""The live state in real Redis never moves back in device time, even across a worker restart."""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis

from telemetry.live import LivePublisher
from telemetry.model import Position


def fix(ts_ms: int, lat: float) -> Position:
    return Position(device_uid="d1", ts_ms=ts_ms, received_ms=ts_ms, lat=lat, lon=114.3,
                    device_id=1, vehicle_id=7)


async def test_a_late_fix_after_a_restart_does_not_move_the_marker_back(services, unique_prefix):
    client = aioredis.from_url(services.redis_url)
    key = f"{unique_prefix}:latest"
    try:
        first = LivePublisher(client, unique_prefix)
        await first.publish_positions([fix(2_000, 30.6)])
        pubsub = client.pubsub()
        await pubsub.subscribe(f"{unique_prefix}:live")
        await pubsub.get_message(timeout=1)  # the subscribe confirmation

        restarted = LivePublisher(client, unique_prefix)  # a new worker: empty memory
        await restarted.load_latest()
        await restarted.publish_positions([fix(1_000, 30.1)])  # late: an hour-old catch-up
        assert orjson.loads(await client.hget(key, "7"))["lat"] == 30.6
        assert await pubsub.get_message(timeout=0.5) is None  # nothing published

        # another worker that never loaded the hash still cannot overwrite a newer state
        stray = LivePublisher(client, unique_prefix)
        await stray.publish_positions([fix(1_500, 30.3)])
        assert orjson.loads(await client.hget(key, "7"))["lat"] == 30.6

        await restarted.publish_positions([fix(3_000, 30.7)])
        assert orjson.loads(await client.hget(key, "7"))["lat"] == 30.7
        await pubsub.aclose()
    finally:
        await client.delete(key)
        await client.aclose()
