"""R7 设备离线/断电, R8 长时间停留, R9 敏感区域停留."""

from __future__ import annotations

from supervision.rules import r07_device_dark, r08_long_stop, r09_sensitive_stop
from tests.rules_fixtures import (
    FUEL_AT,
    HOME_AT,
    HOTEL_AT,
    KTV_AT,
    LOT_CENTRE,
    OTHER_LOT_AT,
    alarm,
    at,
    day,
    fix,
    gap,
    ms,
    order,
    stop,
    vehicle,
)


def r7(ctx):
    return r07_device_dark.detect(ctx)


def test_a_tunnel_gap_of_8_min_with_acc_on_is_not_r7():
    assert r7(day(episodes=(gap(ms("10:00"), ms("10:08")),))) == []


def test_dark_12_min_with_acc_on_is_a_warning():
    found = r7(day(episodes=(gap(ms("10:00"), ms("10:12"), dist_m=400.0),)))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warn" and f.key == f"v12:gap:{ms('10:00')}"
    assert f.summary["gap_s"] == 720 and f.summary["threshold_s"] == 600
    assert f.summary["reappear_dist_m"] == 400 and not f.summary["moved_while_dark"]


def test_the_threshold_is_three_report_intervals_when_longer():
    ctx = day(episodes=(gap(ms("10:00"), ms("10:12")),), vehicle=vehicle(report_interval_s=300))
    assert r7(ctx) == []                           # 3 × 300 s = 15 min


def test_sleeping_with_acc_off_is_not_offline():
    ctx = day(episodes=(gap(ms("00:30"), ms("07:30"), acc=False, speed_kmh=0.0, dist_m=30.0),))
    assert r7(ctx) == []


def test_dark_while_moving_and_reappearing_far_away_is_an_alarm():
    ctx = day(episodes=(gap(ms("21:00"), ms("21:40"), speed_kmh=60.0, dist_m=25_000.0),))
    found = r7(ctx)
    assert [f.severity for f in found] == ["alarm"]
    assert found[0].summary["moved_while_dark"] and "疑似离线行驶" in found[0].message_zh


def test_a_car_that_moved_while_its_terminal_slept_is_an_alarm():
    ctx = day(episodes=(gap(ms("01:00"), ms("05:00"), acc=False, speed_kmh=0.0,
                            dist_m=30_000.0),))
    assert [f.severity for f in r7(ctx)] == ["alarm"]


def test_an_implausible_jump_is_not_driving_while_dark():
    ctx = day(episodes=(gap(ms("10:00"), ms("10:15"), speed_kmh=60.0, dist_m=900_000.0),))
    assert [(f.severity, f.summary["moved_while_dark"]) for f in r7(ctx)] == [("warn", False)]


def test_a_long_tunnel_on_an_approved_cross_city_trip_stays_a_warning():
    o = order(4, "09:00", "18:00", planned_km=200)
    ctx = day(episodes=(gap(ms("10:00"), ms("10:20"), speed_kmh=80.0, dist_m=20_000.0),),
              orders=(o,))
    assert [f.severity for f in r7(ctx)] == ["warn"]


def test_an_open_gap_counts_from_the_last_fix_under_the_gap_episodes_key():
    last = fix("10:00", at(3000, 0), acc=True, speed_kmh=50.0)
    assert r7(day(last_fix=last, horizon=ms("10:09"))) == []
    live = r7(day(last_fix=last, horizon=ms("10:11")))
    assert len(live) == 1 and live[0].end_ms is None and live[0].summary["ongoing"]
    closed = r7(day(episodes=(gap(ms("10:00"), ms("10:30")),), last_fix=fix("10:30"),
                    horizon=ms("10:30")))
    assert [f.key for f in closed] == [live[0].key]
    asleep = fix("10:00", acc=False)
    assert r7(day(last_fix=asleep, horizon=ms("18:00"))) == []


def test_power_cut_and_antenna_alarm_bits():
    ctx = day(episodes=(alarm(8, ms("03:00"), ms("03:20")), alarm(5, ms("09:00"), None),
                        alarm(1, ms("10:00"), ms("10:01"))), horizon=ms("12:00"))
    found = r7(ctx)
    assert [(f.severity, f.summary["bit"]) for f in found] == [("alarm", 8), ("warn", 5)]
    assert found[0].key == f"v12:alarm8:{ms('03:00')}" and "主电源" in found[0].message_zh
    assert found[1].end_ms is None and found[1].summary["ongoing"]


# ---- R8 ----------------------------------------------------------------------------------

def r8(ctx):
    return r08_long_stop.detect(ctx)


def test_a_long_stop_away_from_known_places_is_info():
    somewhere = at(-5000, -5000)
    found = r8(day(stops=(stop("13:00", "14:30", somewhere),)))
    assert [(f.severity, f.summary["duration_s"]) for f in found] == [("info", 5400)]
    assert found[0].key == f"v12:stop:{ms('13:00')}"


def test_long_stops_at_lots_sites_and_order_waypoints_are_fine():
    waypoint = at(5000, 5000)                      # the default order destination
    ctx = day(stops=(stop("08:00", "12:00", LOT_CENTRE), stop("12:10", "13:30", FUEL_AT),
                     stop("13:40", "15:00", OTHER_LOT_AT), stop("15:10", "17:00", at(5300, 5200))),
              orders=(order(2, "15:00", "17:30", [(*waypoint, "420100")]),))
    assert r8(ctx) == []


def test_a_59_min_stop_is_not_long():
    assert r8(day(stops=(stop("13:00", "13:59", at(-5000, -5000)),))) == []


# ---- R9 ----------------------------------------------------------------------------------

def r9(ctx):
    return r09_sensitive_stop.detect(ctx)


def test_a_stop_at_a_ktv_is_an_alarm():
    found = r9(day(stops=(stop("20:30", "22:10", KTV_AT),)))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "alarm" and f.summary["category"] == "entertainment"
    assert f.zone_ids == (6,) and f.summary["duration_s"] == 6000
    assert "敏感场所" in f.message_zh


def test_a_short_stop_at_a_sensitive_place_is_not_r9():
    assert r9(day(stops=(stop("20:30", "20:39", KTV_AT),))) == []


def test_an_approved_reception_at_the_place_is_info():
    o = order(5, "18:00", "21:00", [(*HOTEL_AT, "420100")])
    found = r9(day(stops=(stop("18:30", "20:30", HOTEL_AT),), orders=(o,)))
    assert [(f.severity, f.summary["order_destination_inside"]) for f in found] == [("info", True)]


def test_an_order_going_elsewhere_does_not_excuse_it():
    o = order(5, "18:00", "21:00")
    assert [f.severity for f in r9(day(stops=(stop("18:30", "20:30", HOTEL_AT),),
                                       orders=(o,)))] == ["alarm"]


def test_residential_areas_are_not_sensitive_by_default():
    assert r9(day(stops=(stop("20:00", "23:00", HOME_AT),))) == []


def test_an_ongoing_stop_counts_after_ten_minutes():
    assert r9(day(stops=(stop("20:30", None, KTV_AT),), horizon=ms("20:35"))) == []
    found = r9(day(stops=(stop("20:30", None, KTV_AT),), horizon=ms("20:45")))
    assert len(found) == 1 and found[0].end_ms is None


def test_residential_areas_off_hours_when_the_organisation_says_so():
    from supervision.params import ParamRow, resolve_all
    params = resolve_all((1, 2, 9), [ParamRow(9, "R9", 2, {"residential_off_hours": True})])
    night = r9(day(stops=(stop("20:00", "23:00", HOME_AT),), params=params))
    assert [(f.severity, f.summary["category"]) for f in night] == [("alarm", "residential")]
    assert night[0].summary["outside_office_hours"]
    assert r9(day(stops=(stop("10:00", "11:00", HOME_AT),), params=params)) == []
