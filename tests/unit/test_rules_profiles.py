"""Rule profiles (a.3): 执法/应急 on duty, 机要, leased cars; and evaluate() as a whole."""

from __future__ import annotations

from supervision.params import ParamRow, resolve_all
from supervision.rules import evaluate
from tests.rules_fixtures import (
    HOME_AT,
    KTV_AT,
    LOT_CENTRE,
    at,
    day,
    ms,
    only,
    order,
    speeding,
    stop,
    trip,
    vehicle,
)

OUT = at(8000, 4000)
LAW = vehicle(use_category="law_enforcement")


def severities(found, rule_id):
    return [f.severity for f in only(found, rule_id)]


def test_a_law_enforcement_car_on_registered_duty_gets_info_for_r1_r2_r4():
    duty = ((ms("18:00"), ms("08:00", 1)),)
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
              stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)), vehicle=LAW, duty=duty)
    found = evaluate(ctx)
    for rule in ("R1", "R2", "R4"):
        assert severities(found, rule) == ["info"], rule
        assert only(found, rule)[0].summary["profile"] == "on_duty"
    assert only(found, "R17") == []                # INFO parts make no case


def test_the_same_car_off_duty_at_night_is_judged_like_any_other():
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),), vehicle=LAW)
    assert severities(evaluate(ctx), "R1") == ["alarm"]


def test_office_hours_count_as_duty_for_enforcement_cars_unless_configured_off():
    trips = (trip("10:00", "10:40", LOT_CENTRE, OUT),)
    assert severities(evaluate(day(trips=trips, vehicle=LAW)), "R1") == ["info"]
    params = resolve_all((1, 2, 9), [ParamRow(None, "R1", 2, {"office_hours_on_duty": False})])
    assert severities(evaluate(day(trips=trips, vehicle=LAW, params=params)), "R1") == ["alarm"]
    assert severities(evaluate(day(trips=trips)), "R1") == ["alarm"]   # a general car


def test_emergency_cars_on_duty_on_a_rest_day():
    ctx = day(trips=(trip("10:00", "12:00", LOT_CENTRE, OUT),), working_day=False,
              vehicle=vehicle(use_category="emergency"), duty=((ms("00:00"), ms("00:00", 1)),))
    found = evaluate(ctx)
    assert severities(found, "R3") == ["info"] and severities(found, "R1") == ["info"]


def test_confidential_cars_get_r9_as_info_only():
    ctx = day(stops=(stop("20:30", "22:10", KTV_AT),),
              vehicle=vehicle(use_category="confidential"))
    found = evaluate(ctx)
    assert severities(found, "R9") == ["info"]
    assert only(found, "R9")[0].summary["profile"] == "confidential"


def test_a_leased_car_is_watched_only_under_an_order():
    leased = vehicle(source="leased", rental_company_id=2, lot_zone_id=None)
    free = day(trips=(trip("21:30", "22:30", LOT_CENTRE, OUT, 30.0),),
               episodes=(speeding(ms("21:40"), ms("21:42"), 150.0),), vehicle=leased)
    assert evaluate(free) == []
    o = order(5, "21:00", "23:00")
    held = day(trips=free.trips, episodes=free.episodes, orders=(o,), vehicle=leased)
    found = evaluate(held)
    assert severities(found, "R6") == ["warn"] and severities(found, "R2") == ["info"]
    assert only(found, "R1") == []


def test_evaluate_is_deterministic_and_sorted_by_rule():
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
              stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)),
              episodes=(speeding(ms("21:40"), ms("21:42"), 150.0),))
    first, second = evaluate(ctx), evaluate(ctx)
    assert first == second
    numbers = [int(f.rule_id[1:]) for f in first]
    assert numbers == sorted(numbers)
    assert [f.rule_id for f in first] == ["R1", "R2", "R4", "R6", "R8", "R17"]


def test_a_clean_working_day_has_no_findings():
    o = order(1, "09:00", "11:30", departed="09:05", returned="11:20")
    dest = o.destinations[0][:2]
    ctx = day(trips=(trip("09:05", "09:40", LOT_CENTRE, dest, 10.0),
                     trip("10:45", "11:20", dest, LOT_CENTRE, 10.0)),
              stops=(stop("18:00", "09:05", day_offset=-1, end_offset=0),
                     stop("09:40", "10:45", dest), stop("11:20", None)),
              orders=(o,))
    assert evaluate(ctx) == []
