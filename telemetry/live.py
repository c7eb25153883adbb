"""Redis side of ingest: each vehicle's latest state and the live channel for the console.

Keys: `{prefix}:latest` is a hash vehicle id -> JSON state (telemetry.encode.live_state);
`{prefix}:live` carries {"type": "positions", "items": [...]} per batch and
{"type": "status", "items": [...]} for device status changes.
"""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis

from telemetry.devices import DeviceBinding
from telemetry.encode import live_state
from telemetry.model import Position, StatusChange


class LivePublisher:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self.latest_key = f"{prefix}:latest"
        self.channel = f"{prefix}:live"
        self._latest_ts_ms: dict[int, int] = {}  # what this worker last put in the hash

    async def publish_positions(self, positions: list[Position]) -> None:
        """Publish every accepted fix that is newer than what the console has; a late fix
        (older than the vehicle's latest) goes to the database only, never moves the marker back."""
        fresh: list[Position] = []
        for pos in sorted(positions, key=lambda p: p.ts_ms):
            if pos.fix and pos.ts_ms > self._latest_ts_ms.get(pos.vehicle_id, -1):
                fresh.append(pos)
                self._latest_ts_ms[pos.vehicle_id] = pos.ts_ms
        if not fresh:
            return
        states = [live_state(pos) for pos in fresh]
        newest = {s["vehicle_id"]: s for s in states}  # later wins: states are in time order
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(self.latest_key, mapping={str(v): orjson.dumps(s) for v, s in newest.items()})
            pipe.publish(self.channel, orjson.dumps({"type": "positions", "items": states}))
            await pipe.execute()

    async def publish_status(self, statuses: list[tuple[StatusChange, DeviceBinding]]) -> None:
        items = [
            {
                "vehicle_id": binding.vehicle_id,
                "device_uid": change.device_uid,
                "status": change.status,
                "ts_ms": change.received_ms,
            }
            for change, binding in statuses
        ]
        if items:
            await self._redis.publish(self.channel, orjson.dumps({"type": "status", "items": items}))
