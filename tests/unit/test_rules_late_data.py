"""Late data (盲区补报, an order entered afterwards): re-evaluating on fuller inputs corrects
the verdict, and reconcile retracts or amends with a reason under stable keys."""

from __future__ import annotations

from dataclasses import replace

from supervision.model import Finding
from supervision.reconcile import Stored, reconcile
from supervision.rules import evaluate
from tests.rules_fixtures import (
    FUEL_AT,
    HOME_AT,
    LOT_CENTRE,
    WUHAN_ID,
    XIAOGAN_AT,
    XIAOGAN_ID,
    at,
    day,
    fix,
    gap,
    ms,
    order,
    stop,
    trip,
    visit,
)


def as_stored(findings: list[Finding], state: str = "open") -> list[Stored]:
    return [Stored(f.rule_id, f.key, f.severity, state, f.summary, f.end_ms, f.provisional)
            for f in findings]


def actions_for(before, after, rule_id):
    return [a for a in reconcile(as_stored(before), after) if a.rule_id == rule_id]


def test_the_car_was_in_its_lot_after_all():
    early = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
                stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)), horizon=ms("22:05"))
    before = evaluate(early)
    assert [f.severity for f in before if f.rule_id == "R4"] == ["warn"]
    # the terminal's buffered positions: it drove on, back into the lot by 21:58
    fuller = day(trips=(trip("21:30", "21:58", LOT_CENTRE, LOT_CENTRE, 14.0),),
                 stops=(stop("18:00", "21:30"), stop("21:58", None)), horizon=ms("22:06"))
    after = evaluate(fuller)
    assert not [f for f in after if f.rule_id == "R4"]
    (a,) = actions_for(before, after, "R4")
    assert a.kind == "retract" and "in its lot" in a.reason
    (r1,) = actions_for(before, after, "R1")
    assert r1.kind == "amend" and r1.key == f"v12:trip:{ms('21:30')}"   # same trip, more km


def test_an_order_entered_afterwards_covers_the_trip():
    trips = (trip("10:00", "10:40", LOT_CENTRE, at(8000, 4000), 12.0),)
    before = evaluate(day(trips=trips))
    after = evaluate(day(trips=trips, orders=(order(7, "09:45", "11:00"),)))
    (a,) = actions_for(before, after, "R1")
    assert a.kind == "retract" and "covered by an order" in a.reason


def test_a_late_order_turns_a_night_alarm_into_info():
    trips = (trip("21:00", "21:40", LOT_CENTRE, at(8000, 4000), 12.0),
             trip("22:30", "23:00", at(8000, 4000), LOT_CENTRE, 12.0))
    before = evaluate(day(trips=trips))
    after = evaluate(day(trips=trips, orders=(order(7, "20:45", "23:00"),)))
    r2 = actions_for(before, after, "R2")
    assert [a.kind for a in r2] == ["amend"]       # one outing: lot → out → back
    assert all("severity alarm → info" in a.reason for a in r2)


def test_a_live_r1_that_ends_as_a_fuel_run_is_retracted():
    live = evaluate(day(trips=(trip("10:00", None, LOT_CENTRE, FUEL_AT, 3.2),),
                        stops=(stop("07:00", "10:00"),), horizon=ms("10:12")))
    assert [(f.rule_id, f.provisional) for f in live] == [("R1", True)]
    done = evaluate(day(trips=(trip("10:00", "10:14", LOT_CENTRE, FUEL_AT, 3.2),
                               trip("10:25", "10:35", FUEL_AT, LOT_CENTRE, 3.1)),
                        stops=(stop("07:00", "10:00"), stop("10:14", "10:25", FUEL_AT),
                               stop("10:35", None))))
    (a,) = actions_for(live, done, "R1")
    assert a.kind == "retract" and "not confirmed" in a.reason


def test_a_live_r1_confirmed_at_the_trip_end_keeps_its_key():
    live = evaluate(day(trips=(trip("10:00", None, LOT_CENTRE, HOME_AT, 5.0),),
                        stops=(stop("07:00", "10:00"),), horizon=ms("10:12")))
    done = evaluate(day(trips=(trip("10:00", "10:30", LOT_CENTRE, HOME_AT, 12.0),),
                        stops=(stop("07:00", "10:00"), stop("10:30", "11:00", HOME_AT))))
    (a,) = actions_for(live, done, "R1")
    assert a.kind == "amend" and "confirmed" in a.reason


def test_backfilled_positions_close_a_dark_spell():
    dark = evaluate(day(last_fix=fix("10:00", at(3000, 0), acc=True, speed_kmh=50.0),
                        horizon=ms("10:12")))
    assert [f.rule_id for f in dark] == ["R7"]
    # 盲区补报: fixes every 30 s arrive for 10:00–10:12; the longest gap was 2 min
    filled = evaluate(day(episodes=(), last_fix=fix("10:12", at(9000, 0), acc=True,
                                                      speed_kmh=50.0), horizon=ms("10:12")))
    (a,) = actions_for(dark, filled, "R7")
    assert a.kind == "retract" and "filled the gap" in a.reason


def test_a_gap_that_ends_far_away_upgrades_to_an_alarm_under_the_same_key():
    dark = evaluate(day(last_fix=fix("21:00", at(3000, 0), acc=True, speed_kmh=60.0),
                        horizon=ms("21:15")))
    back = evaluate(day(episodes=(gap(ms("21:00"), ms("21:40"), speed_kmh=60.0,
                                      dist_m=25_000.0),),
                        last_fix=fix("21:40", at(28000, 0), acc=True), horizon=ms("21:40")))
    (a,) = actions_for(dark, [f for f in back if f.rule_id == "R7"], "R7")
    assert a.kind == "amend" and "severity warn → alarm" in a.reason


def test_a_car_back_in_town_ends_its_r5_spell():
    def ctx(back: bool):
        episodes = [visit(WUHAN_ID, ms("00:00", -1), ms("10:00")),
                    visit(XIAOGAN_ID, ms("10:30"), ms("13:30") if back else None)]
        if back:
            episodes.append(visit(WUHAN_ID, ms("14:00"), None))
        return day(trips=(trip("09:00", "11:00", LOT_CENTRE, XIAOGAN_AT, 70.0),),
                   stops=(stop("11:00", "13:00" if back else None, XIAOGAN_AT),),
                   episodes=tuple(episodes), horizon=ms("15:00") if back else ms("12:00"))
    before = [f for f in evaluate(ctx(False)) if f.rule_id == "R5"]
    after = [f for f in evaluate(ctx(True)) if f.rule_id == "R5"]
    (a,) = actions_for(before, after, "R5")
    assert a.kind == "amend" and "ended" in a.reason and a.finding.end_ms == ms("14:00")


def test_r4_warning_then_alarm_is_one_violation_amended():
    night = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
                stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)))
    warn = [f for f in evaluate(replace(night, horizon_ms=ms("22:10"))) if f.rule_id == "R4"]
    alarm = [f for f in evaluate(replace(night, horizon_ms=ms("23:10"))) if f.rule_id == "R4"]
    (a,) = actions_for(warn, alarm, "R4")
    assert a.kind == "amend" and "severity warn → alarm" in a.reason


def test_keys_do_not_depend_on_the_order_of_the_inputs():
    trips = (trip("10:00", "10:40", LOT_CENTRE, at(8000, 4000), 12.0),
             trip("21:30", "21:55", at(8000, 4000), HOME_AT, 12.0))
    stops = (stop("07:00", "10:00"), stop("10:40", "21:30", at(8000, 4000)),
             stop("21:55", None, HOME_AT))
    one = evaluate(day(trips=trips, stops=stops))
    other = evaluate(day(trips=trips[::-1], stops=stops[::-1]))
    assert [(f.rule_id, f.key) for f in one] == [(f.rule_id, f.key) for f in other]
    assert reconcile(as_stored(one), other) and all(
        a.kind == "keep" for a in reconcile(as_stored(one), other))
