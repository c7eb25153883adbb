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

# Sets a vehicle's latest state only if it is newer (device time) than the one stored, so a
# late fix after a worker restart, or from another worker, never moves a marker back.
_SET_IF_NEWER = """
for i = 1, #ARGV, 3 do
    local current = redis.call('HGET', KEYS[1], ARGV[i])
    if (not current) or cjson.decode(current)['ts_ms'] < tonumber(ARGV[i + 1]) then
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    end
end
return 0
"""


class LivePublisher:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self.latest_key = f"{prefix}:latest"
        self.channel = f"{prefix}:live"
        self._latest_ts_ms: dict[int, int] = {}  # newest device time published per vehicle
        self._set_if_newer = client.register_script(_SET_IF_NEWER)

    async def load_latest(self) -> None:
        """Start from what the console already shows (the hash survives a worker restart)."""
        stored = await self._redis.hgetall(self.latest_key)
        for vehicle_id, state in stored.items():
            try:
                self._latest_ts_ms[int(vehicle_id)] = int(orjson.loads(state)["ts_ms"])
            except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
                continue

    async def publish_positions(self, positions: list[Position]) -> None:
        """Publish every accepted fix that is newer than what the console has; a late fix
        (older than the vehicle's latest) goes to the database only, never moves the marker back."""
        fresh: list[Position] = []
        newest_ts: dict[int, int] = {}
        for pos in sorted(positions, key=lambda p: p.ts_ms):
            known = newest_ts.get(pos.vehicle_id, self._latest_ts_ms.get(pos.vehicle_id, -1))
            if pos.fix and pos.ts_ms > known:
                fresh.append(pos)
                newest_ts[pos.vehicle_id] = pos.ts_ms
        if not fresh:
            return
        states = [live_state(pos) for pos in fresh]
        newest = {s["vehicle_id"]: s for s in states}  # later wins: states are in time order
        args: list[object] = []
        for vehicle_id, state in newest.items():
            args += [str(vehicle_id), state["ts_ms"], orjson.dumps(state)]
        async with self._redis.pipeline(transaction=False) as pipe:
            await self._set_if_newer(keys=[self.latest_key], args=args, client=pipe)
            pipe.publish(self.channel, orjson.dumps({"type": "positions", "items": states}))
            await pipe.execute()
        self._latest_ts_ms.update(newest_ts)  # only once Redis has it

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
