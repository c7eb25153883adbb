"""R14 应急补单超时 and R17 疑似公车私用 cases."""

from __future__ import annotations

from supervision.model import EmergencyView
from supervision.params import ParamRow, resolve
from supervision.rules import evaluate, evaluate_request
from tests.rules_fixtures import (
    HOME_AT,
    KTV_AT,
    LOT_CENTRE,
    at,
    day,
    ms,
    only,
    stop,
    trip,
)

HOUR = 3_600_000


def emergency(**kw) -> EmergencyView:
    base = {"request_id": 41, "dispatched_ms": ms("09:00"), "deadline_ms": None, "approved": None,
                "order_ids": (7,), "driver_id": 3, "plate": "鄂A·12345"}
    base.update(kw)
    return EmergencyView(**base)


def test_no_r14_before_the_deadline():
    assert evaluate_request(emergency(), ms("09:00") + 23 * HOUR) == []


def test_not_approved_within_24_h_is_an_alarm_keyed_by_the_request():
    found = evaluate_request(emergency(), ms("09:00") + 25 * HOUR)
    assert len(found) == 1
    f = found[0]
    assert (f.rule_id, f.key, f.severity, f.request_id) == ("R14", "req:41", "alarm", 41)
    assert f.summary["outcome"] == "overdue" and f.summary["overdue_s"] == 3600
    assert f.order_ids == (7,) and f.start_ms == ms("09:00") + 24 * HOUR
    assert "应急" in f.message_zh


def test_the_stored_deadline_wins_over_the_default():
    view = emergency(deadline_ms=ms("09:00", 1) + 12 * HOUR)  # next working day, say
    assert evaluate_request(view, ms("09:00") + 25 * HOUR) == []


def test_approved_in_time_is_nothing_late_is_still_an_alarm():
    assert evaluate_request(emergency(approved=True, decided_ms=ms("20:00")),
                            ms("09:00", 3)) == []
    late = evaluate_request(emergency(approved=True, decided_ms=ms("12:00", 1)), ms("09:00", 3))
    assert [(f.summary["outcome"], f.end_ms) for f in late] == [("approved_late", ms("12:00", 1))]


def test_a_refused_emergency_is_an_alarm():
    found = evaluate_request(emergency(approved=False, decided_ms=ms("15:00")), ms("15:01"))
    assert [f.summary["outcome"] for f in found] == ["refused"]


def test_the_approval_window_is_a_parameter():
    params = resolve("R14", (1, 2, 9), [ParamRow(None, "R14", 3, {"approve_within_s": 7200})])
    assert evaluate_request(emergency(), ms("11:30"), params)[0].summary["outcome"] == "overdue"


# ---- R17 ----------------------------------------------------------------------------------

def test_r1_with_r9_the_same_day_makes_a_case_bundling_both():
    ctx = day(trips=(trip("19:00", "19:30", LOT_CENTRE, KTV_AT, 8.0),
                     trip("21:30", "21:55", KTV_AT, LOT_CENTRE, 8.0)),
              stops=(stop("18:00", "19:00"), stop("19:30", "21:30", KTV_AT), stop("21:55", None)))
    found = evaluate(ctx)
    cases = only(found, "R17")
    assert len(cases) == 1
    case = cases[0]
    assert case.severity == "alarm" and case.key == "v12:case:2026-11-24"
    assert "r1_r9" in case.summary["patterns"]
    r1_keys = {("R1", f.key) for f in only(found, "R1")}
    r9_keys = {("R9", f.key) for f in only(found, "R9")}
    assert r1_keys | r9_keys <= set(case.part_keys) and len(r1_keys) == 1   # one outing


def test_a_night_trip_ending_at_home_makes_a_case_with_its_r1_and_r4():
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
              stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)))
    case = only(evaluate(ctx), "R17")[0]
    assert case.summary["patterns"] == ["night_home"]
    assert [r for r, _ in case.part_keys] == ["R1", "R2", "R4"]


def test_an_approved_night_trip_home_is_no_case():
    from tests.rules_fixtures import order
    o = order(3, "20:00", "23:30", [(*HOME_AT, "420100")], departed="21:25")
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
              stops=(stop("18:00", "21:30"), stop("21:55", "22:40", HOME_AT), stop("23:00", None)),
              orders=(o,))
    assert only(evaluate(ctx), "R17") == []


def test_the_same_place_three_nights_in_a_week_makes_a_case():
    spot = at(-7000, 2000)
    base = {"stops": (stop("18:30", None, spot),)}
    assert only(evaluate(day(**base, recent_night_stops=((ms("22:00", -3), *spot),))), "R17") == []
    nights = ((ms("22:00", -3), *spot), (ms("22:00", -1), *at(50, 40, spot)))
    case = only(evaluate(day(**base, recent_night_stops=nights)), "R17")
    assert case and case[0].summary["same_place_nights"] == 3
    assert [r for r, _ in case[0].part_keys] == ["R4"]


def test_nights_elsewhere_or_long_ago_do_not_count():
    spot = at(-7000, 2000)
    nights = ((ms("22:00", -8), *spot), (ms("22:00", -2), *at(2000, 0, spot)))
    assert only(evaluate(day(stops=(stop("18:30", None, spot),), recent_night_stops=nights)),
                "R17") == []


def test_a_case_counts_an_outings_km_once():
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
              stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)))
    case = only(evaluate(ctx), "R17")[0]
    assert case.summary["km"] == 12.0                # its R1 and R2 are one outing
