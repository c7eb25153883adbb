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
        """Publish each vehicle's newest fix of the batch if it is newer than what the console
        has; a late fix (older than the vehicle's latest) goes to the database only, never
        moves the marker back."""
        newest_pos: dict[int, Position] = {}
        for pos in positions:
            if not pos.fix:
                continue
            best = newest_pos.get(pos.vehicle_id)
            if pos.ts_ms > (best.ts_ms if best else self._latest_ts_ms.get(pos.vehicle_id, -1)):
                newest_pos[pos.vehicle_id] = pos
        if not newest_pos:
            return
        # one state per vehicle and batch: the console shows where a car is now; a batch holds
        # at most a few hundred milliseconds of a 1 Hz terminal, or a gateway's batch of fixes
        # whose newest is what the marker needs (the track is read from the database)
        states = [live_state(pos) for pos in newest_pos.values()]
        newest = {s["vehicle_id"]: s for s in states}
        newest_ts = {v: p.ts_ms for v, p in newest_pos.items()}
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
