"""The episode trackers (supervision/episodes.py): zone visits with persistence, jitter, time
windows and bindings, the speeding limit, gaps with ACC on and off, alarm bits, and folding a
day whole or in pieces."""

from __future__ import annotations

import json
import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.episodes import (
    GAP_MIN_S,
    Trackers,
    TrackerSettings,
    anchors,
    fresh_state,
    local_day,
    open_episodes,
)
from supervision.model import Fix
from supervision.zones import ZoneIndex
from tests.rules_fixtures import (
    FUEL_AT,
    FUEL_ID,
    LOT_CENTRE,
    LOT_ID,
    VEHICLE_ID,
    WUHAN_ID,
    ZONES,
    at,
    make_zone,
    ms,
)

INDEX = ZoneIndex(ZONES.values())
OUT_OF_LOT = at(400, 0)


def fx(t: str, where: tuple[float, float] = LOT_CENTRE, speed: float | None = 0.0,
       acc: bool | None = False, *, fix: bool = True, alarm: int = 0, day_offset: int = 0) -> Fix:
    return Fix(ms(t, day_offset), where[1], where[0], speed, acc, fix=fix, alarm=alarm)


def fold(fixes, index=INDEX, state=None):
    return Trackers(index, VEHICLE_ID).fold(state or fresh_state(), fixes)


def zone_episodes(result, zone_id):
    closed = [e for e in result.episodes if e.kind == "zone" and e.key == str(zone_id)]
    ongoing = [e for e in open_episodes(result.state) if e.kind == "zone" and e.key == str(zone_id)]
    return closed + ongoing


# ---- zone visits ---------------------------------------------------------------------------------

def test_two_fixes_inside_enter_and_two_outside_leave():
    fixes = [fx("08:00", OUT_OF_LOT), fx("08:01"), fx("08:02"), fx("08:03"),
             fx("08:04", OUT_OF_LOT), fx("08:05", OUT_OF_LOT), fx("08:06", OUT_OF_LOT)]
    [visit] = zone_episodes(fold(fixes), LOT_ID)
    assert (visit.start_ms, visit.end_ms) == (ms("08:01"), ms("08:04"))
    assert visit.data["enter"] == [LOT_CENTRE[0], LOT_CENTRE[1]]
    assert visit.data["exit"] == [OUT_OF_LOT[0], OUT_OF_LOT[1]]
    assert visit.data["fixes"] == 3 and visit.data["purpose"] == "designated_lot"
    assert visit.data["version"] == 1 and visit.data["zone_id"] == LOT_ID


def test_a_single_jittery_fix_neither_enters_nor_leaves():
    outside = fold([fx("08:00", OUT_OF_LOT), fx("08:01"), fx("08:02", OUT_OF_LOT),
                    fx("08:03", OUT_OF_LOT)])
    assert zone_episodes(outside, LOT_ID) == []
    inside = fold([fx("08:00"), fx("08:01"), fx("08:02", OUT_OF_LOT), fx("08:03"),
                   fx("08:04")])
    [visit] = zone_episodes(inside, LOT_ID)
    assert visit.start_ms == ms("08:00") and visit.end_ms is None
    assert visit.data["fixes"] == 5           # the lone fix outside was jitter


def test_fixes_without_a_gnss_fix_do_not_count_for_geometry():
    result = fold([fx("08:00", OUT_OF_LOT), fx("08:01"), fx("08:02", OUT_OF_LOT, fix=False),
                   fx("08:03")])
    [visit] = zone_episodes(result, LOT_ID)
    assert visit.start_ms == ms("08:01")       # the fix=False one did not break the run


def test_the_city_boundary_visit_goes_on_while_the_car_stays_in_town():
    result = fold([fx("08:00"), fx("09:00", at(20_000, 0), 50, True),
                   fx("10:00", at(-30_000, 0), 50, True)])
    [visit] = zone_episodes(result, WUHAN_ID)
    assert visit.end_ms is None and visit.data["purpose"] == "city_boundary"


def test_time_windows_and_dates_limit_a_zone():
    # a forbidden zone in force on working-day evenings only (Tuesday 2026-11-24)
    night = make_zone(50, "forbidden_zone", LOT_CENTRE, 200,
                      time_windows=[{"weekdays": [1, 2, 3, 4, 5], "from": "20:00", "to": "23:00"}])
    index = ZoneIndex([night])
    result = fold([fx("19:57"), fx("19:58"), fx("19:59"), fx("20:00"), fx("20:01"),
                   fx("22:59"), fx("23:00"), fx("23:01"), fx("23:02")], index)
    [visit] = zone_episodes(result, 50)
    assert (visit.start_ms, visit.end_ms) == (ms("20:00"), ms("23:00"))
    dated = make_zone(51, "forbidden_zone", LOT_CENTRE, 200, valid_from=date(2026, 11, 25))
    assert zone_episodes(fold([fx("08:00"), fx("08:01")], ZoneIndex([dated])), 51) == []


def test_a_zone_bound_to_another_vehicle_is_not_visited():
    mine = make_zone(60, "permitted_area", LOT_CENTRE, 500, applies_to="vehicle",
                     vehicle_id=VEHICLE_ID)
    theirs = make_zone(61, "permitted_area", LOT_CENTRE, 500, applies_to="vehicle",
                       vehicle_id=VEHICLE_ID + 1)
    grouped = make_zone(62, "permitted_area", LOT_CENTRE, 500, applies_to="group",
                        vehicle_group_id=3, vehicle_group_ids=[VEHICLE_ID])
    result = fold([fx("08:00"), fx("08:01")], ZoneIndex([mine, theirs, grouped]))
    keys = {e.key for e in open_episodes(result.state) if e.kind == "zone"}
    assert keys == {"60", "62"}


# ---- speeding ---------------------------------------------------------------------------------------

def road(start: str, speeds: list[float], where=LOT_CENTRE, step_s: int = 10) -> list[Fix]:
    t0 = ms(start)
    return [Fix(t0 + i * step_s * 1000, where[1], where[0], s, True) for i, s in enumerate(speeds)]


def test_speeding_uses_the_default_limit_and_keeps_only_spans_over_it():
    fixes = road("08:00", [100, 125, 140, 130, 110, 121, 100], at(20_000, 0))
    result = fold(fixes)
    first, second = [e for e in result.episodes if e.kind == "speeding"]
    assert (first.start_ms, first.end_ms) == (fixes[1].ts_ms, fixes[3].ts_ms)
    assert first.data["max_speed_kmh"] == 140 and first.data["limit_kmh"] == 120
    assert first.data["limit_source"] == "default" and first.data["fixes"] == 3
    assert (second.start_ms, second.end_ms) == (fixes[5].ts_ms, fixes[5].ts_ms)


def test_the_tightest_speed_zone_sets_the_limit():
    urban = make_zone(70, "speed_zone", LOT_CENTRE, 2000, speed_limit_kmh=60)
    school = make_zone(71, "speed_zone", LOT_CENTRE, 500, speed_limit_kmh=30)
    no_limit = make_zone(72, "speed_zone", at(5000, 0), 500)
    index = ZoneIndex([urban, school, no_limit])
    trackers = Trackers(index, VEHICLE_ID, TrackerSettings(default_limit_kmh=120, urban_limit_kmh=50))
    assert trackers.limit_at(index.containing(*LOT_CENTRE)) == (30.0, "zone", 71)
    assert trackers.limit_at(index.containing(*at(1000, 0))) == (60.0, "zone", 70)
    assert trackers.limit_at(index.containing(*at(5000, 0))) == (50.0, "zone", 72)
    assert trackers.limit_at(index.containing(*at(9000, 0))) == (120.0, "default", None)
    result = trackers.fold(fresh_state(), road("08:00", [40, 45, 20], at(100, 0)))
    [episode] = [e for e in result.episodes if e.kind == "speeding"]
    assert episode.data["limit_kmh"] == 30 and episode.data["zone_id"] == 71


def test_a_pause_in_the_fixes_ends_a_speeding_episode():
    fixes = road("08:00", [130, 135]) + road("08:10", [131, 132])
    result = fold(fixes)
    assert len([e for e in result.episodes if e.kind == "speeding"]) == 1
    [ongoing] = [e for e in open_episodes(result.state) if e.kind == "speeding"]
    assert ongoing.start_ms == ms("08:10") and ongoing.end_ms is None


def test_an_ongoing_speeding_shows_only_once_its_fixes_last_long_enough():
    state = fold(road("08:00", [100, 130])).state
    assert [e for e in open_episodes(state, min_speeding_s=15) if e.kind == "speeding"] == []
    state = fold(road("08:00", [100, 130, 131, 133])).state
    [e] = [e for e in open_episodes(state, min_speeding_s=15) if e.kind == "speeding"]
    assert e.data["max_speed_kmh"] == 133 and e.end_ms is None


# ---- gaps -------------------------------------------------------------------------------------------

def test_a_gap_with_acc_on_starts_at_the_last_fix_before_it():
    fixes = [fx("08:00", at(0, 0), 50, True), fx("08:20", at(9000, 0), 40, True)]
    [gap] = [e for e in fold(fixes).episodes if e.kind == "gap"]
    assert (gap.start_ms, gap.end_ms) == (ms("08:00"), ms("08:20"))
    assert gap.data["acc"] is True and gap.data["speed_kmh"] == 50
    assert gap.data["from"] == list(at(0, 0)) and gap.data["to"] == list(at(9000, 0))
    assert 8900 < gap.data["dist_m"] < 9100


def test_a_terminal_asleep_with_acc_off_is_no_gap_unless_it_woke_far_away():
    asleep = [fx("22:00", LOT_CENTRE, 0, False), fx("23:00", at(20, 10), 0, False)]
    assert [e for e in fold(asleep).episodes if e.kind == "gap"] == []
    moved = [fx("22:00", LOT_CENTRE, 0, False), fx("23:00", at(5000, 0), 0, False)]
    [gap] = [e for e in fold(moved).episodes if e.kind == "gap"]
    assert gap.data["acc"] is False and gap.data["dist_m"] > 4000
    short = [fx("08:00", LOT_CENTRE, 50, True), fx("08:02", at(2000, 0), 50, True)]
    assert GAP_MIN_S > 120 and [e for e in fold(short).episodes if e.kind == "gap"] == []


# ---- alarm bits -------------------------------------------------------------------------------------

def test_power_cut_and_antenna_bits_become_episodes():
    power, antenna, overspeed = 1 << 8, 1 << 5, 1 << 1
    fixes = [fx("08:00", alarm=overspeed), fx("08:01", alarm=power), fx("08:02", alarm=power | antenna),
             fx("08:03", alarm=antenna, fix=False), fx("08:04")]
    result = fold(fixes)
    alarms = sorted((e.key, e.start_ms, e.end_ms) for e in result.episodes if e.kind == "alarm")
    assert alarms == [("5", ms("08:02"), ms("08:04")), ("8", ms("08:01"), ms("08:03"))]
    still = fold(fixes[:3]).state
    assert {(e.key, e.end_ms) for e in open_episodes(still) if e.kind == "alarm"} == {
        ("5", None), ("8", None)}


# ---- state -----------------------------------------------------------------------------------------

def test_day_states_are_taken_at_each_new_local_day_and_anchors_name_what_replays_rewrite():
    fixes = [fx("23:58", at(0, 0), 130, True), fx("23:59", at(1500, 0), 130, True),
             fx("00:01", at(3000, 0), 130, True, day_offset=1),
             fx("00:30", at(30000, 0), 60, True, day_offset=1)]
    result = fold(fixes)
    assert [d for d, _ in result.day_states] == [local_day(ms("23:58")), local_day(ms("00:01", 1))]
    at_midnight = result.day_states[1][1]
    assert at_midnight["last"]["ts"] == ms("23:59")
    kinds = {(k, key, start) for k, key, start in anchors(at_midnight)}
    assert ("speeding", "", ms("23:58")) in kinds and ("gap", "", ms("23:59")) in kinds
    assert ("zone", str(WUHAN_ID), ms("23:58")) in kinds
    assert json.loads(json.dumps(result.state)) == result.state


def test_a_fuel_stop_is_a_visit_of_the_service_site():
    fixes = [fx("08:00", FUEL_AT), fx("08:05", FUEL_AT), fx("08:10", LOT_CENTRE), fx("08:11")]
    [visit] = zone_episodes(fold(fixes), FUEL_ID)
    assert visit.end_ms == ms("08:10") and visit.data["category"] == "fuel"


# ---- whole or in pieces ----------------------------------------------------------------------------

def noisy_day(seed: int, start: str = "22:30") -> list[Fix]:
    """An evening of one car: parked in its lot with jitter, out to the fuel station and
    beyond at speed, gaps, alarm bits, back after midnight."""
    rng = random.Random(seed)
    fixes, t = [], ms(start)
    route = [(LOT_CENTRE, 0, False)] * 20 + [(at(400 * i, 0), 70 + 10 * (i % 7), True)
                                             for i in range(1, 40)]
    route += [(FUEL_AT, 0, False)] * 6 + [(at(3000 + 900 * i, 200 * i), 95 + 6 * (i % 8), True)
                                         for i in range(60)]
    route += [(at(-500 * i, 100), 50, True) for i in range(80)] + [(LOT_CENTRE, 0, False)] * 15
    for i, (where, speed, acc) in enumerate(route):
        jitter = at(rng.uniform(-40, 40), rng.uniform(-40, 40), where)
        t += rng.choice([10_000, 15_000, 30_000, 60_000]) + (900_000 if rng.random() < 0.02 else 0)
        alarm = (1 << 8) if 100 <= i < 104 else 0
        fixes.append(Fix(t, jitter[1], jitter[0], speed, acc, fix=rng.random() > 0.03,
                         alarm=alarm))
    return fixes


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 250), max_size=6))
def test_folding_a_day_in_pieces_equals_folding_it_whole(seed, cuts):
    fixes = noisy_day(seed)
    trackers = Trackers(INDEX, VEHICLE_ID)
    whole = trackers.fold(fresh_state(), fixes)
    state, episodes, day_states = fresh_state(), [], []
    bounds = sorted({c % len(fixes) for c in cuts} | {0, len(fixes)})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        part = trackers.fold(json.loads(json.dumps(state)), fixes[lo:hi])  # stored and reloaded
        state = part.state
        episodes += part.episodes
        day_states += part.day_states
    assert episodes == whole.episodes
    assert state == whole.state
    assert open_episodes(state) == open_episodes(whole.state)
    assert day_states == whole.day_states


def test_replaying_from_a_day_state_gives_the_same_episodes():
    shifted = noisy_day(3)                                       # crosses midnight
    trackers = Trackers(INDEX, VEHICLE_ID)
    whole = trackers.fold(fresh_state(), shifted)
    assert len(whole.day_states) == 2
    day, snapshot = whole.day_states[-1]
    later = [f for f in shifted if local_day(f.ts_ms) >= day]
    replay = trackers.fold(snapshot, later)
    starts_before = {(k, key, s) for k, key, s in anchors(snapshot)}
    kept = [e for e in whole.episodes
            if local_day(e.start_ms) < day and (e.kind, e.key, e.start_ms) not in starts_before]
    rewritten = [e for e in whole.episodes if e not in kept]
    assert sorted(replay.episodes, key=repr) == sorted(rewritten, key=repr)
    assert replay.state == whole.state


def test_a_zone_of_another_organisation_records_no_visit():
    """A zone binds only the cars owned within its organisation's subtree (a 黄石 zone over a
    Wuhan lot records no visit for a Wuhan car)."""
    import dataclasses

    index = ZoneIndex([dataclasses.replace(z, org_id=999_999) for z in ZONES.values()])
    fixes = [fx("08:00"), fx("08:01"), fx("08:02")]
    theirs = Trackers(index, VEHICLE_ID, org_path=(1, 2)).fold(fresh_state(), fixes)
    assert zone_episodes(theirs, LOT_ID) == []
    ours = Trackers(index, VEHICLE_ID, org_path=(1, 999_999)).fold(fresh_state(), fixes)
    assert len(zone_episodes(ours, LOT_ID)) == 1
