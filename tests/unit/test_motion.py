"""Trips and stops on recorded-like tracks: jitter while parked makes no trip, a tunnel does
not split one, short hops are ignored, the speed rule back-dates both ends."""

from __future__ import annotations

from telemetry.model import Position
from telemetry.motion import (
    MotionSettings,
    Segment,
    fresh_state,
    state_from_json,
    state_to_json,
    step,
)
from tests.tracks import T0_MS, TrackBuilder

SETTINGS = MotionSettings()


def fold(positions: list[Position], settings: MotionSettings = SETTINGS) -> list[Segment]:
    """Closed segments in order, then the open ones."""
    state = fresh_state()
    closed: list[Segment] = []
    for pos in positions:
        state, out = step(state, pos, settings)
        closed += out
    return closed + state.open_segments()


def kinds(segments: list[Segment]) -> list[str]:
    return [s.kind + ("" if s.end_ts_ms is not None else "*") for s in segments]


def test_acc_trip_between_two_stops():
    track = TrackBuilder().park(1800).drive(1200, 40).park(1800)
    segments = fold(track.positions)
    assert kinds(segments) == ["stop", "trip", "stop*"]
    stop, trip, last = segments
    assert stop.start_ts_ms == T0_MS and stop.end_ts_ms == trip.start_ts_ms
    assert trip.detected_by == "acc" and trip.end_ts_ms == last.start_ts_ms
    # 20 min at about 40 km/h: ~13 km; the device odometer agrees with the GNSS distance
    assert 11_000 < trip.dist_m < 15_500
    odo_km = trip.odometer_end_km - trip.odometer_start_km
    assert abs(odo_km * 1000 - trip.dist_m) < 0.03 * trip.dist_m
    assert trip.odo_source == "device"
    assert 40 < trip.max_speed_kmh <= 46
    assert 30 < trip.mean_speed_kmh < 45
    assert 1180 <= trip.duration_s <= 1210


def test_jitter_while_parked_makes_no_phantom_trip():
    # a night in the lot: 12 h of wandering fixes and multipath speed spikes
    with_acc = TrackBuilder(seed=3).park(12 * 3600, jitter_m=30, spike_kmh=12, spike_every=3)
    assert kinds(fold(with_acc.positions)) == ["stop*"]
    no_acc = TrackBuilder(seed=4, with_acc=False).park(12 * 3600, jitter_m=30, spike_kmh=12,
                                                      spike_every=3)
    assert kinds(fold(no_acc.positions)) == ["stop*"]


def test_a_tunnel_does_not_split_a_trip():
    for with_acc in (True, False):
        track = TrackBuilder(with_acc=with_acc).park(600).drive(1800, 60, tunnel=(600, 420)).park(900)
        segments = fold(track.positions)
        assert kinds(segments) == ["stop", "trip", "stop*"], with_acc
        trip = segments[1]
        # the straight line across the 7 min gap is counted: ~30 km in all
        assert 26_000 < trip.dist_m < 34_000


def test_short_hops_are_ignored_and_the_stop_goes_on():
    # moving the car across the lot: 2 min, a few hundred metres
    track = TrackBuilder().park(1200).drive(120, 10).park(1200)
    assert kinds(fold(track.positions)) == ["stop*"]
    # engine idling for 10 min without moving: not a trip either (distance)
    idle = TrackBuilder().park(600).idle(600).park(600)
    assert kinds(fold(idle.positions)) == ["stop*"]


def test_speed_rule_back_dates_start_and_end():
    track = TrackBuilder(with_acc=False, odometer_km=None).park(1200).drive(1500, 40).park(1800)
    segments = fold(track.positions)
    assert kinds(segments) == ["stop", "trip", "stop*"]
    stop, trip, last = segments
    first_moving = next(p for p in track.positions if p.speed_kmh and p.speed_kmh >= 20)
    assert trip.detected_by == "speed"
    assert trip.start_ts_ms == first_moving.ts_ms  # back-dated to the first fast fix
    last_moving = max(p.ts_ms for p in track.positions if p.speed_kmh and p.speed_kmh >= 20)
    assert last_moving < trip.end_ts_ms <= last_moving + 20_000  # back-dated to the first slow fix
    # no device odometer: the GNSS odometer stands in
    assert trip.odo_source == "gnss"
    assert abs((trip.odometer_end_km - trip.odometer_start_km) * 1000 - trip.dist_m) < 1
    assert last.gnss_odometer_m == trip.dist_m


def test_speed_rule_red_lights_do_not_end_a_trip():
    track = TrackBuilder(with_acc=False).park(600).drive(2400, 35, red_lights_every_s=240).park(1200)
    assert kinds(fold(track.positions)) == ["stop", "trip", "stop*"]


def test_speed_rule_asleep_terminal_ends_the_trip_at_the_last_fix():
    # parked and the terminal went to sleep right away: no slow fixes, then 2 h of silence
    track = TrackBuilder(with_acc=False).park(600).drive(1200, 40)
    last_fix_ms = track.positions[-1].ts_ms
    track.silent(7200).park(600)
    segments = fold(track.positions)
    assert kinds(segments) == ["stop", "trip", "stop*"]
    assert segments[1].end_ts_ms == last_fix_ms


def test_positions_without_fix_keep_out_of_geometry():
    track = TrackBuilder().park(600).drive(1200, 40).park(600)
    blind = [p if i % 5 else Position(**{**{f: getattr(p, f) for f in p.__slots__},
                                         "fix": False, "lat": 0.0, "lon": 0.0})
             for i, p in enumerate(track.positions)]
    trip = fold(blind)[1]
    assert 0 < trip.dist_m < 16_000  # no leg to (0, 0)


def test_state_json_round_trip():
    track = TrackBuilder(with_acc=False).park(600).drive(900, 40)
    state = fresh_state()
    for pos in track.positions:
        state, _ = step(state, pos, SETTINGS)
    assert state.trip is not None
    assert state_to_json(state_from_json(state_to_json(state))) == state_to_json(state)
    assert state_from_json(state_to_json(state)).trip == state.trip
