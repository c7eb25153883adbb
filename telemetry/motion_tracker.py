"""The detect stage: fold newly stored positions into each vehicle's timeline, write trips/stops.

One transaction per batch. It locks the batch's vehicle_motion rows (in id order) and compares
their versions with the ones this worker wrote last: a vehicle another worker handled since
(shared subscriptions spread one vehicle's messages over workers), or one this worker has not
seen since it started, is loaded from its stored state and caught up on stored positions it
has not folded yet. So per-vehicle state is safe wherever the vehicle's messages land; with a
broker that keeps one device on one worker (EMQX `hash_topic`) it never has to be reloaded.

A position older than the reorder window is replayed from stored positions starting at the
stop before the trip it falls into (timeline.rebuild_anchor), and the trips and stops from
there on are rewritten: late data never leaves a stale trip behind.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import asyncpg

from telemetry import motion_store
from telemetry.model import Position
from telemetry.motion import MotionSettings, fresh_state, state_from_json, state_to_json
from telemetry.timeline import Changes, VehicleTimeline, order_key, rebuild, rebuild_anchor

log = logging.getLogger(__name__)

# A vehicle seen for the first time is caught up on at most this much stored history.
FIRST_CATCH_UP_MS = 86_400_000


class MotionTracker:
    def __init__(
        self, pool: asyncpg.Pool, settings: MotionSettings, stats: Counter[str], flush_s: float = 30.0
    ) -> None:
        self._pool = pool
        self._flush_ms = flush_s * 1000
        self._flushed_ms: dict[int, int] = {}
        self._settings = settings
        self._stats = stats
        self._timelines: dict[int, VehicleTimeline] = {}
        self._versions: dict[int, int] = {}

    def forget(self, vehicle_ids: list[int]) -> None:
        """Drop cached state (after a failed write): reloaded from storage next time."""
        for vehicle_id in vehicle_ids:
            self._timelines.pop(vehicle_id, None)
            self._versions.pop(vehicle_id, None)
            self._flushed_ms.pop(vehicle_id, None)

    async def track(self, positions: list[Position]) -> dict[int, Changes]:
        """Fold `positions` (newly stored, any order) and write what is due."""
        by_vehicle: dict[int, list[Position]] = defaultdict(list)
        for pos in positions:
            by_vehicle[pos.vehicle_id].append(pos)
        vehicle_ids = sorted(by_vehicle)
        if not vehicle_ids:
            return {}
        new_ids = [v for v in vehicle_ids if v not in self._versions]
        async with self._pool.acquire() as conn, conn.transaction():
            versions = await motion_store.lock_versions(conn, vehicle_ids, new_ids)
            stale = [v for v in vehicle_ids if self._versions.get(v) != versions.get(v)]
            loaded = await self._load_many(conn, stale, by_vehicle) if stale else {}
            changes: dict[int, Changes] = {}
            for vehicle_id in vehicle_ids:
                if vehicle_id in loaded:
                    timeline = loaded[vehicle_id]
                else:
                    batch = sorted(by_vehicle[vehicle_id], key=order_key)
                    timeline = await self._fold(conn, self._timelines[vehicle_id], batch)
                self._timelines[vehicle_id] = timeline
                if vehicle_id in loaded or self._due(vehicle_id, timeline):
                    got = timeline.take_changes()
                    if got is not None:
                        changes[vehicle_id] = got
                        self._flushed_ms[vehicle_id] = timeline.newest_ms
            states = {v: state_to_json(c.state) for v, c in changes.items()}
            last_ts = {v: self._timelines[v].newest_ms for v in vehicle_ids}
            await motion_store.write_changes(conn, changes, states, last_ts)
        for vehicle_id in vehicle_ids:
            self._versions[vehicle_id] = versions.get(vehicle_id, 0) + 1
        self._stats["motion.segments_written"] += sum(len(c.segments) for c in changes.values())
        return changes

    async def flush_all(self) -> None:
        """Write every vehicle's pending segments (at shutdown: the tables are then current)."""
        pending = [v for v, t in self._timelines.items() if t.dirty_from_ms is not None]
        if not pending:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            versions = await motion_store.lock_versions(conn, sorted(pending), [])
            mine = [v for v in sorted(pending) if self._versions.get(v) == versions.get(v)]
            changes = {v: c for v in mine if (c := self._timelines[v].take_changes()) is not None}
            states = {v: state_to_json(c.state) for v, c in changes.items()}
            last_ts = {v: self._timelines[v].newest_ms for v in mine}
            await motion_store.write_changes(conn, changes, states, last_ts)
        for vehicle_id in mine:
            self._versions[vehicle_id] = versions[vehicle_id] + 1

    def _due(self, vehicle_id: int, timeline: VehicleTimeline) -> bool:
        """Write a vehicle's segments and state when a segment closed, late data rewrote
        history, or `flush_s` of device time passed: the open trip in the table may lag that
        much, and a worker that takes the vehicle over replays stored positions since the
        state it finds (the version is bumped every batch regardless)."""
        if timeline.closed or timeline.dirty_from_ms is None:
            return timeline.dirty_from_ms is not None
        open_since = timeline.state.open_since_ms()
        if open_since is None or timeline.dirty_from_ms < open_since:
            return True
        return timeline.newest_ms - self._flushed_ms.get(vehicle_id, 0) >= self._flush_ms

    async def _fold(
        self, conn: asyncpg.Connection, timeline: VehicleTimeline, batch: list[Position]
    ) -> VehicleTimeline:
        for pos in batch:
            if not timeline.add(pos):
                # too late for the window; storage holds this batch already: replay from there
                self._stats["motion.recomputed"] += 1
                return await self._replay(conn, timeline, pos)
        return timeline

    async def _replay(
        self, conn: asyncpg.Connection, current: VehicleTimeline, late: Position
    ) -> VehicleTimeline:
        stops = await motion_store.stops_before(conn, late.vehicle_id, late.ts_ms)
        start = rebuild_anchor(stops)
        if start is None:  # no stop stored before it: from a day before the late position
            start = fresh_state()
            after_ms = late.ts_ms - FIRST_CATCH_UP_MS
            dirty_from_ms = after_ms
        else:
            after_ms = start.last_ts_ms
            dirty_from_ms = start.last_ts_ms
        positions = await motion_store.positions_after(conn, late.vehicle_id, after_ms)
        timeline = rebuild(self._settings, start, positions)
        timeline.dirty_from_ms = min(dirty_from_ms, timeline.dirty_from_ms or dirty_from_ms)
        timeline.rewinds += current.rewinds
        return timeline

    async def _load_many(
        self, conn: asyncpg.Connection, vehicle_ids: list[int], by_vehicle: dict[int, list[Position]]
    ) -> dict[int, VehicleTimeline]:
        """Timelines from the stored states, caught up on stored positions they have not
        folded (this batch's, and any a crashed or other worker stored without folding)."""
        self._stats["motion.loaded"] += len(vehicle_ids)
        stored = await motion_store.load_states(conn, vehicle_ids)
        timelines: dict[int, VehicleTimeline] = {}
        catch_up: dict[int, int] = {}
        for vehicle_id in vehicle_ids:
            batch = by_vehicle[vehicle_id]
            newest_ms = max(p.ts_ms for p in batch)
            if vehicle_id in stored:
                state = state_from_json(stored[vehicle_id])
                after_ms = state.last_ts_ms
            else:  # never seen: from this batch (at most a day back)
                state = fresh_state()
                after_ms = max(min(p.ts_ms for p in batch) - 1, newest_ms - FIRST_CATCH_UP_MS)
            timeline = VehicleTimeline(self._settings, state)
            oldest_ms = min(p.ts_ms for p in batch)
            if oldest_ms < state.last_ts_ms:  # older than what the state has folded: replay
                self._stats["motion.recomputed"] += 1
                late = min(batch, key=order_key)
                timelines[vehicle_id] = await self._replay(conn, timeline, late)
            else:
                timelines[vehicle_id] = timeline
                catch_up[vehicle_id] = after_ms
        if catch_up:
            pending = await motion_store.positions_after_many(conn, catch_up)
            for vehicle_id in catch_up:
                for pos in pending[vehicle_id]:
                    timelines[vehicle_id].add(pos)
        return timelines
