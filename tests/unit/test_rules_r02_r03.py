"""R2 非工作时间出车 and R3 节假日出车 (with holiday seals)."""

from __future__ import annotations

from supervision.params import ParamRow, resolve_all
from supervision.rules import r02_off_hours, r03_rest_day
from tests.rules_fixtures import HOME_AT, LOT_CENTRE, at, day, ms, order, trip

OUT = at(8000, 4000)


def r2(ctx):
    return r02_off_hours.detect(ctx)


def r3(ctx):
    return r03_rest_day.detect(ctx)


def test_an_uncovered_night_trip_on_a_working_day_is_an_alarm_with_night_km():
    found = r2(day(trips=(trip("19:30", "20:30", LOT_CENTRE, HOME_AT, 20.0),)))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "alarm" and f.key == f"v12:trip:{ms('19:30')}"
    assert f.summary["night_km"] == 10.0 and f.summary["night_s"] == 1800
    assert f.summary["covered"] is False and f.summary["window"] == "20:00–06:00"
    assert "非工作时间" in f.message_zh and "10.0" in f.message_en


def test_an_approved_night_trip_is_info():
    o = order(8, "20:00", "23:00")
    found = r2(day(trips=(trip("20:10", "22:40", LOT_CENTRE, OUT, 30.0),), orders=(o,)))
    assert [(f.severity, f.order_ids, f.driver_id) for f in found] == [("info", (8,), 3)]
    assert "已审批" in found[0].message_zh


def test_a_day_trip_is_not_r2():
    assert r2(day(trips=(trip("09:00", "17:00", LOT_CENTRE, OUT, 80.0),))) == []


def test_a_trip_ending_a_few_seconds_into_the_window_is_not_night_use():
    assert r2(day(trips=(trip("19:30", "20:00:30", LOT_CENTRE, OUT, 10.0),))) == []


def test_early_morning_of_a_working_day_counts():
    found = r2(day(trips=(trip("05:00", "06:30", LOT_CENTRE, OUT, 30.0),)))
    assert len(found) == 1 and found[0].summary["night_km"] == 20.0


def test_a_trip_into_a_working_morning_from_a_rest_day_counts_the_morning():
    ctx = day(trips=(trip("23:00", "01:00", LOT_CENTRE, OUT, 20.0, end_offset=1),),
              working_day=False, tomorrow_working_day=True)
    found = r2(ctx)
    assert len(found) == 1 and found[0].summary["night_km"] == 10.0


def test_no_r2_on_a_rest_day():
    ctx = day(trips=(trip("21:00", "22:00", LOT_CENTRE, OUT),), working_day=False,
              tomorrow_working_day=False)
    assert r2(ctx) == []


def test_the_night_window_is_configurable_per_organisation():
    rows = [ParamRow(9, "R2", 2, {"night_from": "22:00"})]
    ctx = day(trips=(trip("20:30", "21:30", LOT_CENTRE, OUT),),
              params=resolve_all((1, 2, 9), rows))
    assert r2(ctx) == []


def test_a_rest_day_trip_without_order_or_duty_is_an_alarm():
    ctx = day(trips=(trip("10:00", "12:00", LOT_CENTRE, OUT, 40.0),), working_day=False)
    found = r3(ctx)
    assert len(found) == 1
    f = found[0]
    assert f.severity == "alarm" and f.summary["off_day"] and not f.summary["sealed"]
    assert f.summary["off_day_km"] == 40.0 and f.summary["level"] == "normal"
    assert "节假日" in f.message_zh


def test_a_rest_day_trip_with_an_order_or_a_duty_registration_is_logged_as_info():
    trips = (trip("10:00", "12:00", LOT_CENTRE, OUT),)
    covered = r3(day(trips=trips, working_day=False, orders=(order(4, "09:30", "12:30"),)))
    assert [f.severity for f in covered] == ["info"]
    duty = r3(day(trips=trips, working_day=False, duty=((ms("08:00"), ms("20:00")),)))
    assert [(f.severity, f.summary["duty"]) for f in duty] == [("info", True)]


def test_the_calendar_flag_decides_not_the_weekday():
    # 2026-11-24 is a Tuesday; told it is a rest day (a holiday), the trip is R3, not R2.
    ctx = day(trips=(trip("21:00", "21:30", LOT_CENTRE, OUT),), working_day=False)
    assert [f.rule_id for f in r3(ctx)] == ["R3"] and r2(ctx) == []


def test_a_sealed_car_moving_is_a_high_alarm_even_on_a_working_day():
    seal = (ms("18:00"), ms("00:00", 8))
    ctx = day(trips=(trip("18:30", "18:45", LOT_CENTRE, OUT, 2.0),), seals=(seal,))
    found = r3(ctx)
    assert len(found) == 1
    f = found[0]
    assert f.severity == "alarm" and f.summary["sealed"] and f.summary["level"] == "high"
    assert f.summary["sealed_km"] == 2.0 and "封存" in f.message_zh


def test_a_sealed_duty_car_is_exempt_but_logged():
    seal = (ms("00:00"), ms("00:00", 3))
    ctx = day(trips=(trip("10:00", "10:30", LOT_CENTRE, OUT, 5.0),), seals=(seal,),
              working_day=False, duty=((ms("00:00"), ms("00:00", 1)),))
    assert [(f.severity, f.summary["sealed"]) for f in r3(ctx)] == [("info", True)]


def test_outside_the_seal_a_working_day_trip_is_not_r3():
    seal = (ms("00:00", 3), ms("00:00", 5))
    assert r3(day(trips=(trip("10:00", "10:30", LOT_CENTRE, OUT),), seals=(seal,))) == []


def test_friday_night_into_a_rest_saturday_is_r3_for_its_saturday_part():
    ctx = day(trips=(trip("23:00", "01:00", LOT_CENTRE, OUT, 20.0, end_offset=1),),
              working_day=True, tomorrow_working_day=False)
    found = r3(ctx)
    assert len(found) == 1 and found[0].summary["off_day_km"] == 10.0
    assert len(r2(ctx)) == 1                       # and R2 for its Friday part
