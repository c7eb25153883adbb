"""R10 绕道/里程异常, R13 轨迹与审批不符, R16 疲劳驾驶."""

from __future__ import annotations

from dataclasses import replace

import pytest

from supervision.rules import r10_mileage, r13_mismatch, r16_fatigue
from tests.rules_fixtures import (
    HUANGSHI,
    HUANGSHI_AT,
    LOT_CENTRE,
    at,
    day,
    ms,
    order,
    stop,
    trip,
    vehicle,
)

DEST = at(5000, 5000)


def r10(ctx):
    return r10_mileage.detect(ctx)


def errand(km_out: float, km_back: float, **kw):
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="09:00", returned="11:30",
              planned_km=20.0, **kw)
    return day(trips=(trip("09:05", "09:50", LOT_CENTRE, DEST, km_out),
                      trip("10:40", "11:25", DEST, LOT_CENTRE, km_back)),
               stops=(stop("09:50", "10:40", DEST),), orders=(o,))


def test_a_detour_over_1_3_times_and_10_km_is_a_warning():
    found = r10(errand(25.0, 15.0))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warn" and f.key == "v12:order:7" and f.order_ids == (7,)
    assert f.summary["driven_km"] == 40.0 and f.summary["planned_km"] == 20.0
    assert f.driver_id == 3 and "绕道" in f.message_zh


def test_within_planned_plus_10_km_is_no_detour():
    assert r10(errand(14.0, 15.0)) == []           # 29 km > 1.3 × 20 but < 20 + 10


def test_an_order_not_finished_is_not_judged_yet():
    ctx = errand(25.0, 15.0)
    o = replace(ctx.orders[0], returned_ms=None, state="in_service")
    assert r10(replace(ctx, orders=(o,), horizon_ms=ms("11:40"))) == []


def test_more_than_300_km_in_a_day_without_an_out_of_town_order():
    trips = (trip("07:00", "11:00", LOT_CENTRE, at(20000, 0), 160.0),
             trip("13:00", "17:00", at(20000, 0), LOT_CENTRE, 160.0))
    found = [f for f in r10(day(trips=trips)) if f.key.endswith("2026-11-24")]
    assert len(found) == 1 and found[0].summary["day_km"] == 320.0
    away = order(8, "06:30", "18:00", [(*HUANGSHI_AT, HUANGSHI)], planned_km=250.0,
                 departed="07:00", returned="17:00")
    assert [f for f in r10(day(trips=trips, orders=(away,))) if ":day:" in f.key] == []


def test_special_technical_cars_have_a_higher_daily_threshold():
    trips = (trip("07:00", "11:00", LOT_CENTRE, at(20000, 0), 160.0),
             trip("13:00", "17:00", at(20000, 0), LOT_CENTRE, 160.0))
    ctx = day(trips=trips, vehicle=vehicle(use_category="special_technical"))
    assert r10(ctx) == []


def test_only_the_days_share_of_a_trip_past_midnight_counts():
    def day_findings(km):
        trips = (trip("20:00", "04:00", LOT_CENTRE, at(20000, 0), km, end_offset=1),)
        return [f for f in r10(day(trips=trips)) if ":day:" in f.key]
    assert day_findings(400.0) == []               # half of it (200 km) on this day
    found = day_findings(700.0)
    assert len(found) == 1 and found[0].summary["day_km"] == 350.0


# ---- R13 ----------------------------------------------------------------------------------

def r13(ctx):
    return r13_mismatch.detect(ctx)


def test_a_trip_that_reached_its_destination_on_time_matches():
    assert r13(errand(10.0, 10.0)) == []


def test_never_within_1_km_of_the_destination_is_a_mismatch():
    elsewhere = at(-6000, 3000)
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="09:00", returned="11:30")
    ctx = day(trips=(trip("09:05", "09:50", LOT_CENTRE, elsewhere, 10.0),
                     trip("10:40", "11:25", elsewhere, LOT_CENTRE, 10.0)),
              stops=(stop("09:50", "10:40", elsewhere),), orders=(o,))
    found = r13(ctx)
    assert len(found) == 1 and found[0].summary["reasons"] == ["destination"]
    assert found[0].summary["destination_nearest_m"][0] > 1000 and found[0].severity == "warn"


def test_the_workers_nearest_approach_over_all_fixes_wins():
    elsewhere = at(-6000, 3000)
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="09:00", returned="11:30")
    ctx = day(trips=(trip("09:05", "11:25", LOT_CENTRE, elsewhere, 30.0),), orders=(o,),
              order_nearest_m={7: (120.0,)})
    assert r13(ctx) == []


def test_departing_or_returning_more_than_an_hour_off_plan():
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="10:15", returned="12:30")
    ctx = day(trips=(trip("10:20", "11:00", LOT_CENTRE, DEST, 10.0),
                     trip("11:40", "12:25", DEST, LOT_CENTRE, 10.0)), orders=(o,))
    found = r13(ctx)
    assert found[0].summary["reasons"] == ["departure"]
    assert found[0].summary["departure_off_min"] == 75 and found[0].key == "v12:order:7"


def test_a_late_departure_is_said_before_the_order_ends():
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="10:15", state="in_service")
    ctx = day(trips=(trip("10:20", None, LOT_CENTRE, DEST, 5.0),), orders=(o,),
              horizon=ms("10:40"))
    found = r13(ctx)
    assert found[0].summary["reasons"] == ["departure"] and found[0].end_ms is None


def test_no_positions_is_not_never_within_1_km():
    # the worker found no fix in the order's window: the trips' ends reached the destination
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="09:00", returned="11:30")
    base = errand(10.0, 10.0)
    for nothing in ((None,), None):
        ctx = replace(base, orders=(o,), order_nearest_m={7: nothing})
        assert r13(ctx) == [], nothing
    # and where the trips' ends are far, the finding gives their distance, never null
    elsewhere = at(-6000, 3000)
    ctx = day(trips=(trip("09:05", "09:50", LOT_CENTRE, elsewhere, 10.0),
                     trip("10:40", "11:25", elsewhere, LOT_CENTRE, 10.0)),
              orders=(o,), order_nearest_m={7: (None,)})
    (f,) = r13(ctx)
    assert f.summary["destination_nearest_m"][0] > 1000


def test_a_destination_with_nothing_to_judge_from_is_not_judged():
    o = order(7, "09:00", "12:00", [(*DEST, "420100")], departed="09:00", returned="11:30")
    ctx = day(trips=(trip("09:05", "11:25", LOT_CENTRE, LOT_CENTRE, 30.0),), orders=(o,))
    assert r13_mismatch.nearest_m(ctx, o)[0] is not None      # the trip's ends stand in
    empty = replace(ctx, trips=())
    assert r13_mismatch.nearest_m(empty, o) == [None]
    assert r13(empty) == []


# ---- R10: planned km from the lot ---------------------------------------------------------

def test_planned_km_counts_the_drive_from_the_lot_and_back():
    from supervision.day_store import planned_km
    pickup = (*at(0, 7000), "420100")                  # 7 km north of the lot
    dest = (*at(0, 10500), "420100")                   # 3.5 km further
    alone = planned_km(pickup, (dest,), False)
    assert alone == pytest.approx(3.5 * 1.3, abs=0.05)
    served = planned_km(pickup, (dest,), False, base=LOT_CENTRE)
    assert served == pytest.approx((7 + 3.5 + 10.5) * 1.3, abs=0.1)
    round_trip = planned_km(pickup, (dest,), True, base=LOT_CENTRE)
    assert round_trip == pytest.approx((7 + 3.5 + 3.5 + 7) * 1.3, abs=0.1)


def test_normal_dispatch_with_the_deadhead_legs_planned_is_no_detour():
    # the review's case: planned 4.5 km pickup → destination; driven lot → pickup 9.2 km,
    # 4.6 km with the passenger, back to the lot 11.1 km
    from supervision.day_store import planned_km
    pickup, dest = (*at(0, 7100), "420100"), (*at(0, 10560), "420100")
    o = order(7, "09:00", "12:00", [dest], departed="09:00", returned="11:30",
              planned_km=planned_km(pickup, (dest,), False, base=LOT_CENTRE))
    ctx = day(trips=(trip("09:05", "09:30", LOT_CENTRE, pickup[:2], 9.2),
                     trip("09:40", "10:00", pickup[:2], dest[:2], 4.6),
                     trip("10:10", "10:45", dest[:2], LOT_CENTRE, 11.1)), orders=(o,))
    assert r10(ctx) == []
    unplanned = replace(o, planned_km=planned_km(pickup, (dest,), False))
    assert len(r10(replace(ctx, orders=(unplanned,)))) == 1      # what it said before


# ---- R16 ----------------------------------------------------------------------------------

def r16(ctx):
    return r16_fatigue.detect(ctx)


def long_drive(break_min: int):
    o = order(9, "06:00", "18:00", [(*HUANGSHI_AT, HUANGSHI)], departed="06:00",
              returned="17:30", planned_km=300.0)
    resume = f"{8 + (30 + break_min) // 60:02d}:{(30 + break_min) % 60:02d}"
    return day(trips=(trip("06:00", "08:30", LOT_CENTRE, HUANGSHI_AT, 150.0),
                      trip(resume, "11:00", HUANGSHI_AT, LOT_CENTRE, 150.0)), orders=(o,))


def test_more_than_4_h_driving_without_a_20_min_break_is_a_warning():
    found = r16(long_drive(10))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warn" and f.driver_id == 3
    assert f.key == f"v12:driver:3:{ms('06:00')}"
    assert f.summary["driving_s"] == 150 * 60 + 140 * 60 and f.summary["longest_break_s"] == 600


def test_a_20_min_break_resets_the_count():
    assert r16(long_drive(20)) == []


def test_uncovered_trips_have_no_known_driver():
    ctx = day(trips=(trip("06:00", "11:00", LOT_CENTRE, HUANGSHI_AT, 300.0),))
    assert r16(ctx) == []


def test_fatigue_is_live_during_the_trip():
    o = order(9, "06:00", "18:00", departed="06:00", state="in_service")
    ctx = day(trips=(trip("06:00", None, LOT_CENTRE, HUANGSHI_AT, 300.0),), orders=(o,),
              horizon=ms("10:01"))
    found = r16(ctx)
    assert len(found) == 1 and found[0].end_ms is None
