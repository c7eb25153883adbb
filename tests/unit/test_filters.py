"""Position filters, each with its edge cases; the jump filter never locks a vehicle out."""

from __future__ import annotations

from telemetry.filters import FilterSettings, VehicleFilterState, check, distance_m
from telemetry.model import Position

NOW_MS = 1_795_392_000_000
SETTINGS = FilterSettings()


def fix(t_s: float, lat: float = 30.59, lon: float = 114.30, **kw) -> Position:
    return Position(device_uid="d", ts_ms=NOW_MS + int(t_s * 1000), received_ms=NOW_MS,
                    lat=lat, lon=lon, vehicle_id=1, device_id=1, seq=kw.pop("seq", int(t_s)), **kw)


def run(positions, settings=SETTINGS):
    state = VehicleFilterState()
    return [check(p, state, settings, NOW_MS) for p in positions]


def reasons(positions, settings=SETTINGS):
    return [None if r is None else r[0] for r in run(positions, settings)]


def test_distance_is_right_at_wuhan_latitude():
    # one degree of longitude at 30.59 N is about 95.8 km; one of latitude about 111.2 km
    assert abs(distance_m(30.59, 114.0, 30.59, 115.0) - 95_800) < 300
    assert abs(distance_m(30.0, 114.3, 31.0, 114.3) - 111_190) < 100


def test_zero_coordinates_refused_unless_switched_off():
    assert reasons([fix(0, lat=0.0, lon=0.0)]) == ["zero_coordinates"]
    assert reasons([fix(0, lat=0.0, lon=0.0)], FilterSettings(zero_coordinates=False)) == [None]
    assert reasons([fix(0, lat=0.0, lon=0.0001)]) == [None]  # only the exact (0, 0)


def test_too_old_horizon():
    old = fix(-31 * 86_400)
    assert reasons([old]) == ["too_old"]
    assert reasons([fix(-29 * 86_400)]) == [None]
    assert reasons([old], FilterSettings(max_age_s=None)) == [None]


def test_reported_speed_plausibility():
    assert reasons([fix(0, speed_kmh=220.0)]) == [None]  # the limit itself passes
    assert reasons([fix(0, speed_kmh=220.1)]) == ["implausible_speed"]
    assert reasons([fix(0, speed_kmh=999.0)], FilterSettings(max_reported_speed_kmh=None)) == [None]


def test_duplicates_by_ts_and_seq():
    a = fix(0, seq=7)
    same_ts_other_seq = fix(0, seq=8)
    assert reasons([a, a, same_ts_other_seq]) == [None, "duplicate", None]
    assert reasons([a, a], FilterSettings(duplicates=False)) == [None, None]


def test_duplicate_memory_is_bounded():
    settings = FilterSettings(duplicate_memory=3)
    positions = [fix(t, lat=30.59 + t * 1e-5) for t in range(5)]
    state = VehicleFilterState()
    for p in positions:
        assert check(p, state, settings, NOW_MS) is None
    assert len(state.recent_keys) == 3


def test_no_fix_positions_pass_but_do_not_move_the_reference():
    wild_no_fix = fix(10, lat=35.0, fix=False)  # 500 km away, but no fix: not geometry
    after = fix(20, lat=30.5901)
    assert reasons([fix(0), wild_no_fix, after]) == [None, None, None]


def test_one_wild_fix_is_refused_and_does_not_lock_the_vehicle_out():
    track = [fix(0), fix(10, lat=30.5903), fix(20, lat=31.5), fix(30, lat=30.5909), fix(40, lat=30.5912)]
    assert reasons(track) == [None, None, "impossible_jump", None, None]


def test_a_bad_first_fix_is_outvoted_by_two_that_agree():
    # the first accepted fix is the outlier (a cold start far away); the real ones agree
    track = [fix(0, lat=35.0), fix(10), fix(20, lat=30.5902), fix(30, lat=30.5905)]
    assert reasons(track) == [None, "impossible_jump", None, None]


def test_a_real_long_move_after_a_gap_is_not_a_jump():
    # 60 km in an hour (tunnel, device off): 60 km/h implied
    assert reasons([fix(0), fix(3600, lat=30.59 + 60_000 / 111_190)]) == [None, None]


def test_jumps_faster_than_the_limit_but_close_in_time_are_refused():
    # 1 km in 10 s = 360 km/h
    assert reasons([fix(0), fix(10, lat=30.59 + 1000 / 111_190)]) == [None, "impossible_jump"]
    off = FilterSettings(max_implied_speed_kmh=None)
    assert reasons([fix(0), fix(10, lat=30.59 + 1000 / 111_190)], off) == [None, None]
