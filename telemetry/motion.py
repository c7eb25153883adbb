"""Trips (行程) and stops (停车) from one vehicle's positions in device-time order. Pure code.

A vehicle's timeline alternates stops and trips (domain.md §6):
- with an ACC wire, a trip is an ACC-on interval: it starts at the first fix with ACC on and
  ends at the first fix with ACC off. A gap in the data (a tunnel, a dead zone) with ACC on at
  both ends does not split it;
- without one, speed ≥ 5 km/h for 60 s starts a trip (back-dated to the first fast fix; red
  lights of up to 90 s on the way do not reset the minute, jitter within 100 m does not start) and
  speed < 3 km/h for 5 min ends it (back-dated to the first slow fix; a fast fix within
  100 m of where it slowed is multipath jitter and does not reset that). A gap of 5 min or more
  over which the car cannot have moved (implied speed below the stop speed) ends it at the
  last fix before the gap, so that a car parked with its terminal asleep gets its stop;
- trips shorter than 500 m or 3 min are ignored: the stop around them goes on.

GPS jitter while parked cannot make a trip: with ACC it is ignored altogether, without ACC it
would need 60 s of continuous speed and then 500 m and 3 min.

Distances sum great-circle legs between fixes (no fix, no geometry). The GNSS odometer of a
vehicle grows by the distance of its confirmed trips, and stands in for the device odometer
where a terminal has none.

`step` is the detector, a fold: (state, position, settings) -> (state, closed segments). It
updates the state in place (it runs for every position, and copying frozen objects cost most
of its time); `MotionState.copy()` takes the snapshots the reorder window rewinds to.
`VehicleTimeline` (timeline.py) puts late positions in order before they reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleet.geodesy import haversine_m
from telemetry.model import Position


@dataclass(frozen=True)
class MotionSettings:
    start_speed_kmh: float = 5.0  # no ACC: this fast ...
    start_after_s: int = 60  # ... for this long starts a trip
    start_grace_s: int = 90  # no ACC: slower than that for up to this (a red light) before it starts
    stop_speed_kmh: float = 3.0  # no ACC: this slow ...
    stop_after_s: int = 300  # ... for this long ends it
    stop_radius_m: float = 100.0  # no ACC: a fast fix this close to where it slowed is jitter
    min_trip_dist_m: float = 500.0  # shorter trips are ignored
    min_trip_s: int = 180
    reorder_window_s: int = 300  # late positions within this are put in order in memory


@dataclass(slots=True)
class Segment:
    """A trip or a stop. `end_ts_ms` is None while it is open."""

    kind: str  # trip | stop
    start_ts_ms: int
    end_ts_ms: int | None
    start_lat: float
    start_lon: float
    end_lat: float
    end_lon: float
    last_ts_ms: int  # newest position folded into it (the end so far)
    gnss_odometer_m: float  # the vehicle's GNSS odometer at the start
    dist_m: float = 0.0
    odo_start_km: float | None = None  # the device odometer at the start, if it has one
    odo_end_km: float | None = None
    max_speed_kmh: float = 0.0
    position_count: int = 1
    detected_by: str = "speed"  # acc | speed

    def copy(self) -> Segment:
        return Segment(
            self.kind, self.start_ts_ms, self.end_ts_ms, self.start_lat, self.start_lon,
            self.end_lat, self.end_lon, self.last_ts_ms, self.gnss_odometer_m, self.dist_m,
            self.odo_start_km, self.odo_end_km, self.max_speed_kmh, self.position_count,
            self.detected_by,
        )

    @property
    def duration_s(self) -> int:
        end = self.end_ts_ms if self.end_ts_ms is not None else self.last_ts_ms
        return max(0, (end - self.start_ts_ms) // 1000)

    @property
    def mean_speed_kmh(self) -> float:
        return self.dist_m / self.duration_s * 3.6 if self.duration_s else 0.0

    @property
    def odo_source(self) -> str:
        return "device" if self.odo_start_km is not None else "gnss"

    @property
    def odometer_start_km(self) -> float:
        """The device odometer where there is one, else the GNSS odometer."""
        if self.odo_start_km is not None:
            return self.odo_start_km
        return self.gnss_odometer_m / 1000

    @property
    def odometer_end_km(self) -> float:
        if self.odo_start_km is not None and self.odo_end_km is not None:
            return self.odo_end_km
        return (self.gnss_odometer_m + self.dist_m) / 1000


@dataclass(frozen=True, slots=True)
class Fix:
    """Where and when (a Position has the same attributes and stands in for one)."""

    ts_ms: int
    lat: float
    lon: float
    odometer_km: float | None = None


@dataclass(slots=True)
class MotionState:
    stop: Segment | None = None  # the open stop (also while a trip is still tentative)
    trip: Segment | None = None  # the open trip, tentative until `trip_confirmed`
    trip_started: bool = False  # speed rule: 60 s of speed reached (ACC trips start at once)
    trip_confirmed: bool = False  # long enough to count (500 m and 3 min)
    trip_at_slow: Segment | None = None  # speed rule: the trip as it was at the first slow fix
    slow_since: Fix | None = None
    last_fix: Fix | Position | None = None
    last_ts_ms: int = 0
    has_acc: bool = False  # the terminal reports ACC: the ACC rule decides
    acc_on: bool = False
    gnss_odometer_m: float = 0.0  # sum of confirmed trips

    def copy(self) -> MotionState:
        return MotionState(
            None if self.stop is None else self.stop.copy(),
            None if self.trip is None else self.trip.copy(),
            self.trip_started, self.trip_confirmed,
            None if self.trip_at_slow is None else self.trip_at_slow.copy(),
            self.slow_since, self.last_fix, self.last_ts_ms, self.has_acc, self.acc_on,
            self.gnss_odometer_m,
        )

    def open_segments(self) -> list[Segment]:
        """Copies of what is open now and worth storing: the stop, and the trip once it counts."""
        out = [self.stop.copy()] if self.stop is not None else []
        if self.trip is not None and self.trip_confirmed:
            out.append(self.trip.copy())
        return out

    def open_since_ms(self) -> int | None:
        """Start of the earliest open segment (stored ones from here on may still change)."""
        if self.stop is not None:
            return self.stop.start_ts_ms  # a stop open beside a trip is the older one
        return None if self.trip is None else self.trip.start_ts_ms


def fresh_state(gnss_odometer_m: float = 0.0) -> MotionState:
    return MotionState(gnss_odometer_m=gnss_odometer_m)


def state_at_stop(start_ts_ms: int, lat: float, lon: float, gnss_odometer_m: float) -> MotionState:
    """The detector's state at the start of a stored stop: nothing open but that stop."""
    where = Fix(start_ts_ms, lat, lon)
    stop = _new_segment("stop", start_ts_ms, where, gnss_odometer_m, "speed")
    return MotionState(stop=stop, last_fix=where, last_ts_ms=start_ts_ms,
                       gnss_odometer_m=gnss_odometer_m)


def step(
    state: MotionState, pos: Position, settings: MotionSettings
) -> tuple[MotionState, list[Segment]]:
    """Fold one position (not older than the state's newest) into the state, in place.
    Returns the state and the segments this position closed."""
    closed: list[Segment] = []
    if pos.acc is not None:
        state.has_acc = True
    fix = pos if pos.fix else None
    speed_kmh = _speed_kmh(state, pos, fix)
    if state.has_acc:
        acc_on = state.acc_on if pos.acc is None else pos.acc
        _step_acc(state, pos, fix, acc_on, speed_kmh, settings, closed)
    else:
        _step_speed(state, pos, fix, speed_kmh, settings, closed)
    if fix is not None:
        state.last_fix = fix
    _stay(state, pos)
    if pos.ts_ms > state.last_ts_ms:
        state.last_ts_ms = pos.ts_ms
    return state, closed


def _speed_kmh(state: MotionState, pos: Position, fix: Position | None) -> float:
    if pos.speed_kmh is not None:
        return pos.speed_kmh
    last = state.last_fix
    if fix is None or last is None or fix.ts_ms <= last.ts_ms:
        return 0.0
    return _leg_m(last, fix) / ((fix.ts_ms - last.ts_ms) / 1000) * 3.6


def _leg_m(a: Fix | Position, b: Fix | Position) -> float:
    return haversine_m(a.lat, a.lon, b.lat, b.lon)


def _ensure_stop(state: MotionState, pos: Position, fix: Position | None) -> None:
    """The first position of a vehicle opens a stop (needs a fix to place it)."""
    if state.stop is not None or state.trip is not None:
        return
    where = fix or state.last_fix
    if where is not None:
        state.stop = _new_segment("stop", pos.ts_ms, where, state.gnss_odometer_m, "speed")


def _new_segment(kind: str, ts_ms: int, where: Fix | Position, gnss_m: float, by: str) -> Segment:
    odometer_km = where.odometer_km if kind == "trip" else None
    return Segment(kind, ts_ms, None, where.lat, where.lon, where.lat, where.lon, ts_ms, gnss_m,
                   0.0, odometer_km, odometer_km, 0.0, 1, by)


def _extend_trip(trip: Segment, prev: Fix | Position | None, fix: Position | None,
                 pos: Position, speed_kmh: float) -> None:
    if fix is not None:
        if prev is not None and fix.ts_ms >= trip.start_ts_ms:
            trip.dist_m += _leg_m(prev, fix)
        trip.end_lat, trip.end_lon = fix.lat, fix.lon
        if fix.odometer_km is not None:
            trip.odo_end_km = fix.odometer_km
    if pos.ts_ms > trip.last_ts_ms:
        trip.last_ts_ms = pos.ts_ms
    if speed_kmh > trip.max_speed_kmh:
        trip.max_speed_kmh = speed_kmh
    trip.position_count += 1


def _counts(trip: Segment, settings: MotionSettings) -> bool:
    return trip.dist_m >= settings.min_trip_dist_m and trip.duration_s >= settings.min_trip_s


def _confirm_if_long_enough(state: MotionState, settings: MotionSettings, closed: list[Segment]) -> None:
    """A started trip that reached 500 m and 3 min counts: the stop before it closes."""
    trip = state.trip
    if trip is None or state.trip_confirmed or not state.trip_started or not _counts(trip, settings):
        return
    if state.slow_since is not None:  # standing still: jitter must not make it count
        return
    if state.stop is not None:
        closed.append(_close(state.stop, trip.start_ts_ms))
    state.stop = None
    state.trip_confirmed = True


def _close(segment: Segment, end_ts_ms: int) -> Segment:
    done = segment.copy()
    done.end_ts_ms = done.last_ts_ms = end_ts_ms
    return done


def _end_trip(
    state: MotionState, trip: Segment, end_ts_ms: int, where: Fix | Position | None,
    settings: MotionSettings, closed: list[Segment],
) -> None:
    """The trip ends at `end_ts_ms`: a trip that counts is closed and a stop opens where it
    ended; one that does not is forgotten and the stop before it goes on."""
    counts = state.trip_started and _counts(_close(trip, end_ts_ms), settings)
    state.trip = state.trip_at_slow = state.slow_since = None
    state.trip_started = state.trip_confirmed = False
    if not counts:
        if state.stop is None:  # the vehicle's first movement was too short: it stood there
            start = Fix(trip.start_ts_ms, trip.start_lat, trip.start_lon)
            state.stop = _new_segment("stop", trip.start_ts_ms, start, state.gnss_odometer_m, "speed")
            state.stop.last_ts_ms = end_ts_ms
        return
    if state.stop is not None:  # confirmed only now
        closed.append(_close(state.stop, trip.start_ts_ms))
    closed.append(_close(trip, end_ts_ms))
    state.gnss_odometer_m += trip.dist_m
    at = where or Fix(end_ts_ms, trip.end_lat, trip.end_lon)
    state.stop = _new_segment("stop", end_ts_ms, Fix(end_ts_ms, at.lat, at.lon),
                              state.gnss_odometer_m, trip.detected_by)


def _step_acc(
    state: MotionState, pos: Position, fix: Position | None, acc_on: bool, speed_kmh: float,
    settings: MotionSettings, closed: list[Segment],
) -> None:
    if not acc_on:
        _ensure_stop(state, pos, fix)
    trip = state.trip
    if trip is not None:
        _extend_trip(trip, state.last_fix, fix, pos, speed_kmh)
        if acc_on:
            _confirm_if_long_enough(state, settings, closed)
        else:
            _end_trip(state, trip, pos.ts_ms, fix, settings, closed)
    elif acc_on:
        where = fix or state.last_fix
        if where is not None:
            trip = _new_segment("trip", pos.ts_ms, where, state.gnss_odometer_m, "acc")
            trip.max_speed_kmh = speed_kmh
            state.trip, state.trip_started, state.trip_confirmed = trip, True, False
    state.acc_on = acc_on


def _stay(state: MotionState, pos: Position) -> None:
    if state.stop is not None and state.stop.last_ts_ms < pos.ts_ms:
        state.stop.last_ts_ms = pos.ts_ms


def _step_speed(
    state: MotionState, pos: Position, fix: Position | None, speed_kmh: float,
    settings: MotionSettings, closed: list[Segment],
) -> None:
    if speed_kmh < settings.start_speed_kmh:
        _ensure_stop(state, pos, fix)
    last = state.last_fix
    trip = state.trip
    if trip is not None and state.trip_started and fix is not None and last is not None:
        # parked with the terminal asleep: a long gap the car cannot have moved over
        gap_s = (fix.ts_ms - last.ts_ms) / 1000
        if gap_s >= settings.stop_after_s and _leg_m(last, fix) / gap_s * 3.6 < settings.stop_speed_kmh:
            ended_at = state.trip_at_slow or trip
            end = state.slow_since or last
            _end_trip(state, ended_at, end.ts_ms, end, settings, closed)
            trip = None
    if trip is None:
        if speed_kmh >= settings.start_speed_kmh and fix is not None:
            trip = _new_segment("trip", pos.ts_ms, last or fix, state.gnss_odometer_m, "speed")
            trip.position_count = 0
            _extend_trip(trip, last, fix, pos, speed_kmh)
            state.trip, state.trip_started, state.trip_confirmed = trip, False, False
        return
    _extend_trip(trip, last, fix, pos, speed_kmh)
    if not state.trip_started:
        _step_tentative(state, trip, last, pos, fix, speed_kmh, settings)
        _confirm_if_long_enough(state, settings, closed)
        return
    if speed_kmh < settings.stop_speed_kmh:
        if state.slow_since is None:
            where = fix or last
            if where is not None:
                state.slow_since = Fix(pos.ts_ms, where.lat, where.lon)
            state.trip_at_slow = trip.copy()
        slow = state.slow_since
        if slow is not None and (pos.ts_ms - slow.ts_ms) / 1000 >= settings.stop_after_s:
            _end_trip(state, state.trip_at_slow or trip, slow.ts_ms, slow, settings, closed)
            return
        _confirm_if_long_enough(state, settings, closed)
        return
    slow = state.slow_since
    if slow is not None and fix is not None and _leg_m(slow, fix) > settings.stop_radius_m:
        state.slow_since = state.trip_at_slow = None  # it drives on
    _confirm_if_long_enough(state, settings, closed)


def _step_tentative(
    state: MotionState, trip: Segment, last: Fix | Position | None, pos: Position,
    fix: Position | None, speed_kmh: float, settings: MotionSettings,
) -> None:
    """Speed rule, before the trip has started: a red light (slow for less than
    `start_grace_s`) does not cancel it; it starts at a fast fix 60 s after the first one, once
    the car is more than `stop_radius_m` from where it started. Speed that goes nowhere
    (jitter, a spurious speed while parked) begins the minute again where it is."""
    if speed_kmh < settings.start_speed_kmh:
        if state.slow_since is None:
            state.slow_since = Fix(pos.ts_ms, trip.end_lat, trip.end_lon)
        elif (pos.ts_ms - state.slow_since.ts_ms) / 1000 > settings.start_grace_s:
            state.trip = state.slow_since = None  # it stood still: no trip
        return
    paused_at, state.slow_since = state.slow_since, None
    if fix is None:
        return
    start = Fix(trip.start_ts_ms, trip.start_lat, trip.start_lon)
    if paused_at is not None and _leg_m(start, paused_at) <= settings.stop_radius_m:
        trip = _new_segment("trip", pos.ts_ms, last or fix, state.gnss_odometer_m, "speed")
        trip.position_count = 0
        _extend_trip(trip, last, fix, pos, speed_kmh)
        state.trip = trip
        return
    if (pos.ts_ms - trip.start_ts_ms) / 1000 < settings.start_after_s:
        return
    if _leg_m(start, fix) > settings.stop_radius_m:
        state.trip_started = True


# -- JSON form, for the vehicle_motion table ---------------------------------------------------

_FIX_FIELDS = list(Fix.__dataclass_fields__)


def _seg_out(s: Segment | None) -> list[Any] | None:
    if s is None:
        return None
    return [s.kind, s.start_ts_ms, s.end_ts_ms, s.start_lat, s.start_lon, s.end_lat, s.end_lon,
            s.last_ts_ms, s.gnss_odometer_m, s.dist_m, s.odo_start_km, s.odo_end_km,
            s.max_speed_kmh, s.position_count, s.detected_by]


def _seg_in(v: list[Any] | None) -> Segment | None:
    return None if v is None else Segment(*v)


def _fix_out(f: Fix | Position | None) -> list[Any] | None:
    return None if f is None else [getattr(f, n) for n in _FIX_FIELDS]


def _fix_in(v: list[Any] | None) -> Fix | None:
    return None if v is None else Fix(*v)


def state_to_json(state: MotionState) -> dict[str, Any]:
    return {
        "v": 1,
        "stop": _seg_out(state.stop),
        "trip": _seg_out(state.trip),
        "trip_started": state.trip_started,
        "trip_confirmed": state.trip_confirmed,
        "trip_at_slow": _seg_out(state.trip_at_slow),
        "slow_since": _fix_out(state.slow_since),
        "last_fix": _fix_out(state.last_fix),
        "last_ts_ms": state.last_ts_ms,
        "has_acc": state.has_acc,
        "acc_on": state.acc_on,
        "gnss_odometer_m": state.gnss_odometer_m,
    }


def state_from_json(data: dict[str, Any]) -> MotionState:
    return MotionState(
        stop=_seg_in(data["stop"]),
        trip=_seg_in(data["trip"]),
        trip_started=data["trip_started"],
        trip_confirmed=data["trip_confirmed"],
        trip_at_slow=_seg_in(data["trip_at_slow"]),
        slow_since=_fix_in(data["slow_since"]),
        last_fix=_fix_in(data["last_fix"]),
        last_ts_ms=data["last_ts_ms"],
        has_acc=data["has_acc"],
        acc_on=data["acc_on"],
        gnss_odometer_m=data["gnss_odometer_m"],
    )
