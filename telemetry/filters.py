"""Position filters: which decoded positions are unusable, and why. Pure code.

Each filter is a setting and counts its rejections by reason; a rejected position becomes a
dead letter (nothing is silently lost). A position without a GNSS fix is not rejected: it is
stored, flagged `fix=false`, and kept out of geometry (latest state, distances, trips).

The jump filter compares a fix with the vehicle's last accepted fix. It must not lock a
vehicle out after one bad fix: if the last *accepted* fix was itself the outlier, every later
good fix would look like a jump. So a rejected jump is remembered as a candidate, and the next
fix that is consistent with the candidate (but not with the last accepted one) is accepted:
two fixes agreeing outvote one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from fleet.geodesy import haversine_m
from telemetry.model import Position


@dataclass(frozen=True)
class FilterSettings:
    zero_coordinates: bool = True  # (0, 0): a terminal with no fix that still reports
    duplicates: bool = True  # same device, ts and seq as a recent position
    max_age_s: float | None = 30 * 86_400  # older than this (device time) is refused
    max_implied_speed_kmh: float | None = 250.0  # distance / time from the last accepted fix
    max_reported_speed_kmh: float | None = 220.0  # the terminal's own speed_kmh
    jump_min_gap_s: float = 1.0  # below this gap the implied speed is noise, not a jump
    duplicate_memory: int = 512  # recent (ts, seq) keys remembered per vehicle


@dataclass
class VehicleFilterState:
    last_fix: Position | None = None  # last accepted position with a fix
    jump_candidate: Position | None = None  # a rejected jump, which a next fix may confirm
    recent_keys: OrderedDict[tuple[int, int | None], None] = field(default_factory=OrderedDict)


distance_m = haversine_m  # (lat1, lon1, lat2, lon2) -> metres


def implied_speed_kmh(a: Position, b: Position) -> float:
    gap_s = abs(b.ts_ms - a.ts_ms) / 1000
    return distance_m(a.lat, a.lon, b.lat, b.lon) / max(gap_s, 1e-3) * 3.6


def check(
    pos: Position, state: VehicleFilterState, settings: FilterSettings, now_ms: int
) -> tuple[str, str] | None:
    """(reason, detail) if `pos` must be refused; None if it is usable. Updates `state`."""
    if settings.zero_coordinates and pos.lat == 0.0 and pos.lon == 0.0:
        return "zero_coordinates", "lat = lon = 0"
    if settings.max_age_s is not None and now_ms - pos.ts_ms > settings.max_age_s * 1000:
        age_d = (now_ms - pos.ts_ms) / 86_400_000
        return "too_old", f"device time is {age_d:.1f} days old (limit {settings.max_age_s / 86400:g})"
    limit = settings.max_reported_speed_kmh
    if limit is not None and pos.speed_kmh is not None and pos.speed_kmh > limit:
        return "implausible_speed", f"speed_kmh={pos.speed_kmh:g} above {limit:g}"
    if settings.duplicates:
        key = (pos.ts_ms, pos.seq)
        if key in state.recent_keys:
            return "duplicate", f"ts={pos.ts_ms} seq={pos.seq} seen already"
        state.recent_keys[key] = None
        if len(state.recent_keys) > settings.duplicate_memory:
            state.recent_keys.popitem(last=False)
    if pos.fix:
        return _check_jump(pos, state, settings)
    return None


def _check_jump(
    pos: Position, state: VehicleFilterState, settings: FilterSettings
) -> tuple[str, str] | None:
    last = state.last_fix
    limit = settings.max_implied_speed_kmh
    if limit is None or last is None or abs(pos.ts_ms - last.ts_ms) < settings.jump_min_gap_s * 1000:
        _accept_fix(pos, state)
        return None
    speed = implied_speed_kmh(last, pos)
    if speed <= limit:
        _accept_fix(pos, state)
        return None
    candidate = state.jump_candidate
    if candidate is not None and implied_speed_kmh(candidate, pos) <= limit:
        # two fixes agree against the last accepted one: that one was the outlier
        _accept_fix(pos, state)
        return None
    state.jump_candidate = pos
    return "impossible_jump", f"implied {speed:.0f} km/h from the last fix (limit {limit:g})"


def _accept_fix(pos: Position, state: VehicleFilterState) -> None:
    if state.last_fix is None or pos.ts_ms >= state.last_fix.ts_ms:
        state.last_fix = pos
    state.jump_candidate = None
