"""R1 无派车单出车: trips without a covering order, the 定点 service run, live findings."""

from __future__ import annotations

from supervision.rules import evaluate, r01_no_order
from tests.rules_fixtures import (
    FUEL_AT,
    HOME_AT,
    LOT_CENTRE,
    LOT_ID,
    at,
    day,
    ms,
    only,
    order,
    stop,
    trip,
    vehicle,
    visit,
)

OUT = at(8000, 4000)


def r1(ctx):
    return r01_no_order.detect(ctx)


def test_a_trip_without_an_order_is_an_alarm_with_its_figures():
    found = r1(day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT, 12.3),)))
    assert len(found) == 1
    f = found[0]
    assert (f.rule_id, f.severity, f.provisional) == ("R1", "alarm", False)
    assert f.key == f"v12:trip:{ms('10:00')}"
    assert (f.start_ms, f.end_ms) == (ms("10:00"), ms("10:40"))
    assert f.summary["km"] == 12.3 and f.summary["duration_s"] == 2400
    assert f.summary["orders_checked"]["orders_seen"] == []
    assert "鄂A·12345" in f.message_zh and "无派车单" in f.message_zh
    assert "without a dispatch order" in f.message_en
    assert f.order_ids == () and f.driver_id is None


def test_a_covered_trip_is_not_r1():
    o = order(7, "09:45", "11:00")
    assert r1(day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT),), orders=(o,))) == []


def test_coverage_margins_thirty_minutes_before_and_sixty_after():
    early = order(7, "10:40", "12:00")             # planned start − 30 min = 10:10
    assert r1(day(trips=(trip("10:00", "10:30", LOT_CENTRE, OUT),), orders=(early,))) == []
    too_early = order(7, "11:20", "12:00")         # − 30 min = 10:50, after the trip
    assert len(r1(day(trips=(trip("10:00", "10:30", LOT_CENTRE, OUT),), orders=(too_early,)))) == 1
    before = order(7, "08:00", "09:00")            # + 60 min = 10:00
    assert r1(day(trips=(trip("09:55", "10:30", LOT_CENTRE, OUT),), orders=(before,))) == []
    assert len(r1(day(trips=(trip("10:05", "10:30", LOT_CENTRE, OUT),), orders=(before,)))) == 1


def test_the_actual_departure_and_return_cover_too():
    o = order(7, "14:00", "15:00", departed="10:00", returned="11:00")
    assert r1(day(trips=(trip("10:05", "10:50", LOT_CENTRE, OUT),), orders=(o,))) == []


def test_a_cancelled_or_unassigned_order_covers_nothing():
    for state in ("cancelled", "created"):
        o = order(7, "09:45", "11:00", state=state)
        assert len(r1(day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT),), orders=(o,)))) == 1


def test_an_emergency_order_awaiting_approval_covers_its_trips():
    o = order(7, "09:45", "11:00", emergency=True, trip_types=("emergency",))
    assert r1(day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT),), orders=(o,))) == []


def test_short_trips_are_ignored_unless_long_in_time():
    assert r1(day(trips=(trip("10:00", "10:04", LOT_CENTRE, OUT, 0.8),))) == []
    assert len(r1(day(trips=(trip("10:00", "10:06", LOT_CENTRE, OUT, 0.8),)))) == 1  # ≥ 5 min
    assert len(r1(day(trips=(trip("10:00", "10:04", LOT_CENTRE, OUT, 1.2),)))) == 1  # ≥ 1 km


def test_moving_inside_the_lot_never_left_it():
    inside = visit(LOT_ID, ms("08:00"), ms("12:00"))
    ctx = day(trips=(trip("10:00", "10:06", LOT_CENTRE, at(20, 10), 0.6),), episodes=(inside,))
    assert r1(ctx) == []


def test_a_fuel_run_to_a_designated_station_is_not_r1():
    ctx = day(trips=(trip("10:00", "10:10", LOT_CENTRE, FUEL_AT, 3.2),
                     trip("10:25", "10:35", FUEL_AT, LOT_CENTRE, 3.1)),
              stops=(stop("07:00", "10:00"), stop("10:10", "10:25", FUEL_AT),
                     stop("10:35", None)))
    assert r1(ctx) == []


def test_a_long_stay_at_the_station_is_not_a_fuel_run():
    ctx = day(trips=(trip("10:00", "10:10", LOT_CENTRE, FUEL_AT, 3.2),
                     trip("11:40", "11:50", FUEL_AT, LOT_CENTRE, 3.1)),
              stops=(stop("07:00", "10:00"), stop("10:10", "11:40", FUEL_AT),
                     stop("11:50", None)))
    (f,) = r1(ctx)                                 # one outing, not one finding per leg
    assert f.start_ms == ms("10:00") and f.end_ms == ms("11:50")
    assert [s["service_site"] for s in f.summary["stops"]] == [False]


def test_fuel_then_home_is_one_outing_with_its_stops():
    ctx = day(trips=(trip("17:40", "17:50", LOT_CENTRE, FUEL_AT, 3.2),
                     trip("18:00", "18:30", FUEL_AT, HOME_AT, 9.0)),
              stops=(stop("07:00", "17:40"), stop("17:50", "18:00", FUEL_AT),
                     stop("18:30", None, HOME_AT)))
    (f,) = r1(ctx)
    assert f.key == f"v12:trip:{ms('17:40')}" and f.summary["km"] == 12.2
    assert [s["service_site"] for s in f.summary["stops"]] == [True, False]
    assert len(f.summary["legs"]) == 2 and f.summary["back_at_lot"] is False


def test_live_after_ten_minutes_of_driving_with_the_final_key():
    ongoing = trip("10:00", None, LOT_CENTRE, OUT, 6.0)
    assert r1(day(trips=(ongoing,), horizon=ms("10:08"))) == []
    live = r1(day(trips=(ongoing,), horizon=ms("10:12")))
    assert len(live) == 1 and live[0].provisional and live[0].end_ms is None
    assert live[0].severity == "alarm" and "行驶中" in live[0].message_zh
    final = r1(day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT, 12.0),)))
    assert final[0].key == live[0].key and not final[0].provisional


def test_a_live_trip_under_an_order_is_quiet():
    o = order(7, "09:45", "11:00")
    assert r1(day(trips=(trip("10:00", None, LOT_CENTRE, OUT),), orders=(o,),
                  horizon=ms("10:30"))) == []


def test_a_trip_belongs_to_the_day_it_starts():
    ctx = day(trips=(trip("23:50", "00:30", LOT_CENTRE, OUT, day_offset=-1, end_offset=0),))
    assert r1(ctx) == []


def test_a_car_without_a_lot_is_still_judged():
    ctx = day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT),),
              vehicle=vehicle(lot_zone_id=None))
    found = r1(ctx)
    assert len(found) == 1 and found[0].summary["distance_from_lot_m"] is None


def test_evaluate_returns_r1_among_the_others():
    found = only(evaluate(day(trips=(trip("10:00", "10:40", LOT_CENTRE, OUT),))), "R1")
    assert len(found) == 1
