"""One vehicle's motion timeline with a reorder window (盲区补报 put back in order). Pure code.

Positions are folded into the detector (telemetry.motion) as they come, so trips show live. A
position older than the newest one but within the reorder window (default 5 min of device
time) rewinds: the state is restored from the last checkpoint before it and the buffered
positions are folded again with the late one in its place. The outcome is the same as if
everything had arrived in order. A position older than the window cannot be placed in memory:
`add` says so, and the caller rebuilds the timeline from stored positions (`rebuild`).

What changed is handed out by `take_changes()`: stored segments that start at or after
`from_ms` are replaced by `segments` (closed ones and the open ones).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from telemetry.model import Position
from telemetry.motion import MotionSettings, MotionState, Segment, fresh_state, state_at_stop, step

CHECKPOINT_EVERY = 16  # positions between saved states: memory against replay length


def order_key(pos: Position) -> tuple[int, int]:
    return (pos.ts_ms, pos.seq if pos.seq is not None else -1)


@dataclass
class Changes:
    from_ms: int  # stored segments starting at or after this are replaced ...
    segments: list[Segment]  # ... by these (closed and open)
    state: MotionState


@dataclass
class VehicleTimeline:
    settings: MotionSettings
    state: MotionState = field(default_factory=fresh_state)
    tail: list[Position] = field(default_factory=list)  # newest positions, in order
    keys: list[tuple[int, int]] = field(default_factory=list)  # order_key of each tail item
    checkpoints: dict[int, MotionState] = field(default_factory=dict)  # tail index -> state before
    closed: list[Segment] = field(default_factory=list)  # closed since the last take_changes
    dirty_from_ms: int | None = None
    rewinds: int = 0

    @property
    def newest_ms(self) -> int:
        return self.state.last_ts_ms

    def add(self, pos: Position) -> bool:
        """Fold `pos` in its place; False if it is older than the window (rebuild needed).
        A position equal to one in the window (same ts and seq) is a no-op."""
        key = order_key(pos)
        if not self.tail and pos.ts_ms < self.state.last_ts_ms:
            return False
        if not self.tail or key > self.keys[-1]:
            self._fold(pos)
            if len(self.tail) % CHECKPOINT_EVERY == 1:  # a checkpoint was just taken
                self._trim()
            return True
        index = bisect.bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            return True  # a redelivered duplicate
        start = max((i for i in self.checkpoints if i <= index), default=None)
        if start is None or pos.ts_ms < self.checkpoints[start].last_ts_ms:
            return False
        self.rewinds += 1
        replay = self.tail[start:]
        replay.insert(index - start, pos)
        self.state = self.checkpoints[start].copy()
        del self.tail[start:], self.keys[start:]
        for i in [i for i in self.checkpoints if i > start]:
            del self.checkpoints[i]
        since = self.state.open_since_ms()
        self.closed = [s for s in self.closed if since is None or s.start_ts_ms < since]
        self._mark(self.state)
        for item in replay:
            self._fold(item)
        self._trim()
        return True

    def take_changes(self) -> Changes | None:
        """What to write since the last call; None if nothing was folded."""
        if self.dirty_from_ms is None:
            return None
        segments = [s for s in self.closed if s.start_ts_ms >= self.dirty_from_ms]
        segments += self.state.open_segments()
        changes = Changes(self.dirty_from_ms, segments, self.state)
        self.closed = []
        self.dirty_from_ms = None
        return changes

    def _mark(self, state: MotionState) -> None:
        since = state.open_since_ms()
        if since is not None and (self.dirty_from_ms is None or since < self.dirty_from_ms):
            self.dirty_from_ms = since

    def _fold(self, pos: Position) -> None:
        if len(self.tail) % CHECKPOINT_EVERY == 0:
            self.checkpoints[len(self.tail)] = self.state.copy()
        self.tail.append(pos)
        self.keys.append(order_key(pos))
        self._mark(self.state)  # its open segments are about to change
        self.state, closed = step(self.state, pos, self.settings)
        self.closed += closed
        self._mark(self.state)  # a segment opened by this position
        for segment in closed:
            if self.dirty_from_ms is None or segment.start_ts_ms < self.dirty_from_ms:
                self.dirty_from_ms = segment.start_ts_ms

    def _trim(self) -> None:
        """Forget what is older than the window, keeping the tail starting at a checkpoint."""
        horizon_ms = self.tail[-1].ts_ms - self.settings.reorder_window_s * 1000
        cut = max((i for i in self.checkpoints if self.tail[i].ts_ms <= horizon_ms), default=0)
        if cut == 0:
            return
        del self.tail[:cut], self.keys[:cut]
        self.checkpoints = {i - cut: s for i, s in self.checkpoints.items() if i >= cut}


def rebuild(
    settings: MotionSettings, start: MotionState, positions: list[Position]
) -> VehicleTimeline:
    """A timeline from `start` (a fresh state at a stop's start, or one loaded from storage)
    folded over stored positions in order."""
    timeline = VehicleTimeline(settings, start)
    for pos in sorted(positions, key=order_key):
        timeline.add(pos)
    return timeline


def rebuild_anchor(stops_before: list[Segment]) -> MotionState | None:
    """Where to replay from for a position too late for the window.

    `stops_before`: the last two stored stops that start at or before the late position,
    newest first. Replaying from the older one is safe: a late position inside the newer
    stop's slow run (speed rule) can move that stop's start, but not the start of the stop
    before the trip that led there. The state there holds nothing but that stop; positions
    after its start are replayed. None: no stored stop, replay from the first position."""
    if not stops_before:
        return None
    stop = stops_before[-1]
    return state_at_stop(stop.start_ts_ms, stop.start_lat, stop.start_lon, stop.gnss_odometer_m)
