"""Outings (出车): R1 and R2 judge the run of trips from leaving the lot until back at it, once
per outing — not once per leg (a return leg or a stop-to-stop leg is no outing of its own)."""

from __future__ import annotations

from supervision.reconcile import Stored, reconcile
from supervision.rules import evaluate, outings, r01_no_order, r02_off_hours
from tests.rules_fixtures import (
    FUEL_AT,
    HOME_AT,
    KTV_AT,
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

SOMEWHERE = at(8000, 4000)
ELSEWHERE = at(-5000, 6000)


def r1(ctx):
    return r01_no_order.detect(ctx)


def r2(ctx):
    return r02_off_hours.detect(ctx)


def there_and_back():
    """The demo's car: lot → somewhere at 21:32, parked, back at the lot at 23:15."""
    return day(trips=(trip("21:32", "21:58", LOT_CENTRE, SOMEWHERE, 9.0),
                      trip("22:50", "23:15", SOMEWHERE, LOT_CENTRE, 9.4)),
               stops=(stop("18:00", "21:32"), stop("21:58", "22:50", SOMEWHERE),
                      stop("23:15", None)))


def test_there_and_back_is_one_r1_and_one_r2():
    found = evaluate(there_and_back())
    (f1,), (f2,) = only(found, "R1"), only(found, "R2")
    assert f1.key == f2.key == f"v12:trip:{ms('21:32')}"
    assert (f1.start_ms, f1.end_ms) == (ms("21:32"), ms("23:15"))
    assert f1.summary["km"] == 18.4 and f1.summary["uncovered_km"] == 18.4
    assert len(f1.summary["legs"]) == 2 and f1.summary["back_at_lot"] is True
    assert f1.summary["stops"][0]["at"] == list(SOMEWHERE)
    assert f1.summary["duration_s"] == 51 * 60 and "2段" in f1.message_zh
    assert f2.summary["night_km"] == 18.4 and f2.summary["night_s"] == 51 * 60
    assert f2.severity == "alarm" and len(f2.summary["legs"]) == 2


def test_stop_to_stop_legs_belong_to_the_outing():
    ctx = day(trips=(trip("10:00", "10:20", LOT_CENTRE, SOMEWHERE, 8.0),
                     trip("11:00", "11:20", SOMEWHERE, ELSEWHERE, 7.0),
                     trip("12:00", "12:30", ELSEWHERE, LOT_CENTRE, 6.0)),
              stops=(stop("07:00", "10:00"), stop("10:20", "11:00", SOMEWHERE),
                     stop("11:20", "12:00", ELSEWHERE), stop("12:30", None)))
    (f,) = r1(ctx)
    assert f.start_ms == ms("10:00") and f.summary["km"] == 21.0
    assert [leg["km"] for leg in f.summary["legs"]] == [8.0, 7.0, 6.0]
    assert len(f.summary["stops"]) == 2


def test_two_outings_the_same_day_are_two_findings():
    ctx = day(trips=(trip("10:00", "10:20", LOT_CENTRE, SOMEWHERE, 8.0),
                     trip("10:50", "11:10", SOMEWHERE, LOT_CENTRE, 8.0),
                     trip("15:00", "15:20", LOT_CENTRE, ELSEWHERE, 7.0),
                     trip("16:00", "16:20", ELSEWHERE, LOT_CENTRE, 7.0)))
    assert [f.start_ms for f in r1(ctx)] == [ms("10:00"), ms("15:00")]


def test_the_lot_tolerance_and_the_lot_visit_decide_where_an_outing_begins():
    near = at(120, 0)                                  # 70 m from the lot's edge (50 m half side)
    ctx = day(trips=(trip("10:00", "10:20", near, SOMEWHERE, 8.0),
                     trip("10:50", "11:10", SOMEWHERE, at(0, 130), 8.0)))
    (f,) = r1(ctx)
    assert len(f.summary["legs"]) == 2 and f.summary["back_at_lot"] is True
    far = at(400, 0)                                   # outside the tolerance, but the trackers
    inside = visit(LOT_ID, ms("07:00"), ms("10:01"))   # had the car in the lot when it left
    ctx = day(trips=(trip("10:00", "10:20", far, SOMEWHERE, 8.0),), episodes=(inside,))
    assert len(r1(ctx)) == 1


def test_a_return_leg_after_a_night_away_is_not_r1():
    # parked at home since yesterday 21:30 (more than 6 h): the morning trip back to the lot
    # did not leave the lot; yesterday's evaluation judged the outing.
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0, day_offset=-1),
                     trip("07:30", "07:55", HOME_AT, LOT_CENTRE, 12.0)),
              stops=(stop("21:55", "07:30", HOME_AT, day_offset=-1, end_offset=0),
                     stop("07:55", None)))
    assert r1(ctx) == [] and r2(ctx) == []
    alone = day(trips=(trip("07:30", "07:55", HOME_AT, LOT_CENTRE, 12.0),),
                stops=(stop("07:55", None),))
    assert r1(alone) == []                             # its outing began before the loaded data


def test_a_night_trip_from_home_is_still_night_use():
    ctx = day(trips=(trip("05:00", "05:40", HOME_AT, LOT_CENTRE, 12.0),),
              stops=(stop("05:40", None),))
    assert r1(ctx) == []
    (f,) = r2(ctx)
    assert f.severity == "alarm" and f.summary["night_km"] == 12.0


def test_an_outing_across_midnight_is_judged_once_by_the_day_it_began():
    trips = (trip("21:30", "21:55", LOT_CENTRE, KTV_AT, 12.0),
             trip("01:00", "01:25", KTV_AT, LOT_CENTRE, 12.0, day_offset=1))
    stops = (stop("21:55", "01:00", KTV_AT, end_offset=1), stop("01:25", None, day_offset=1))
    tonight = evaluate(day(trips=trips, stops=stops))
    (f,) = only(tonight, "R1")
    assert f.end_ms == ms("01:25", 1) and f.summary["km"] == 24.0
    assert only(tonight, "R2")[0].summary["night_km"] == 24.0
    tomorrow = evaluate(day(trips=trips, stops=stops, the_day=ms_day(1)))
    assert only(tomorrow, "R1") == [] and only(tomorrow, "R2") == []


def ms_day(offset: int):
    from datetime import timedelta

    from tests.rules_fixtures import DAY
    return DAY + timedelta(days=offset)


def test_late_data_extending_an_outing_keeps_its_key_and_amends_it():
    first = evaluate(day(trips=(trip("10:00", "10:20", LOT_CENTRE, SOMEWHERE, 8.0),),
                         stops=(stop("10:20", None, SOMEWHERE),), horizon=ms("10:45")))
    (f,) = only(first, "R1")
    stored = Stored("R1", f.key, f.severity, "open", f.summary, f.end_ms, f.provisional, id=1)
    later = evaluate(day(trips=(trip("10:00", "10:20", LOT_CENTRE, SOMEWHERE, 8.0),
                                trip("11:00", "11:20", SOMEWHERE, LOT_CENTRE, 8.0)),
                         stops=(stop("10:20", "11:00", SOMEWHERE), stop("11:20", None))))
    (g,) = only(later, "R1")
    assert g.key == f.key and g.summary["km"] == 16.0
    (action,) = [a for a in reconcile([stored], later) if a.rule_id == "R1"]
    assert action.kind == "amend" and "end changed" in action.reason


def test_covered_legs_do_not_count_but_an_uncovered_leg_makes_the_outing_r1():
    o = order(7, "09:00", "10:30", departed="09:00", returned="10:30")
    ctx = day(trips=(trip("09:05", "09:40", LOT_CENTRE, SOMEWHERE, 10.0),
                     trip("12:00", "12:30", SOMEWHERE, LOT_CENTRE, 10.0)),
              stops=(stop("09:40", "12:00", SOMEWHERE), stop("12:30", None)), orders=(o,))
    (f,) = r1(ctx)
    assert f.summary["uncovered_km"] == 10.0 and f.summary["legs_uncovered"] == 1
    assert [leg["covered"] for leg in f.summary["legs"]] == [True, False]
    assert f.order_ids == (7,)
    everything = order(7, "09:00", "12:00")
    assert r1(day(trips=ctx.trips, stops=ctx.stops, orders=(everything,))) == []


def test_a_fuel_stop_on_the_way_does_not_hide_the_rest():
    ctx = day(trips=(trip("10:00", "10:10", LOT_CENTRE, FUEL_AT, 3.2),
                     trip("10:20", "10:30", FUEL_AT, LOT_CENTRE, 3.1)),
              stops=(stop("07:00", "10:00"), stop("10:10", "10:20", FUEL_AT),
                     stop("10:30", None)))
    assert r1(ctx) == []                                 # lot → 定点 fuel → lot


def test_a_live_outing_is_provisional_until_something_settles_it():
    ongoing = (trip("10:00", None, LOT_CENTRE, SOMEWHERE, 6.0),)
    assert r1(day(trips=ongoing, horizon=ms("10:08"))) == []
    (live,) = r1(day(trips=ongoing, horizon=ms("10:12")))
    assert live.provisional and live.end_ms is None
    # its first leg ended away from the lot: settled; driving on keeps it, not provisional
    legs = (trip("10:00", "10:20", LOT_CENTRE, SOMEWHERE, 8.0),
            trip("10:40", None, SOMEWHERE, ELSEWHERE, 2.0))
    (g,) = r1(day(trips=legs, stops=(stop("10:20", "10:40", SOMEWHERE),), horizon=ms("10:43")))
    assert not g.provisional and g.end_ms is None and g.key == live.key


def test_a_car_without_a_lot_is_judged_trip_by_trip():
    ctx = day(trips=(trip("10:00", "10:20", LOT_CENTRE, SOMEWHERE, 8.0),
                     trip("10:50", "11:10", SOMEWHERE, LOT_CENTRE, 8.0)),
              vehicle=vehicle(lot_zone_id=None))
    assert [f.start_ms for f in r1(ctx)] == [ms("10:00"), ms("10:50")]
    assert [o.from_lot for o in outings.outings(ctx)] == [None, None]


def test_a_parked_spell_of_six_hours_ends_an_outing():
    ctx = day(trips=(trip("08:00", "08:20", LOT_CENTRE, SOMEWHERE, 8.0),
                     trip("14:30", "14:50", SOMEWHERE, ELSEWHERE, 8.0)))
    runs = outings.outings(ctx)
    assert [(len(o.legs), o.from_lot) for o in runs] == [(1, True), (1, False)]
    assert [f.start_ms for f in r1(ctx)] == [ms("08:00")]
