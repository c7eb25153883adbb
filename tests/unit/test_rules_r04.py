"""R4 未按规定停放: parked outside the designated lot at the check time (22:00) and 23:00."""

from __future__ import annotations

import pytest

from supervision.rules import r04_not_at_lot
from tests.rules_fixtures import (
    HOME_AT,
    HUANGSHI,
    HUANGSHI_AT,
    LOT_CENTRE,
    at,
    day,
    fix,
    ms,
    order,
    stop,
    trip,
    vehicle,
)


def r4(ctx):
    return r04_not_at_lot.detect(ctx)


def home_night(horizon: str, day_offset: int = 0, **kw):
    return day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT, 12.0),),
               stops=(stop("18:00", "21:30"), stop("21:55", None, HOME_AT)),
               horizon=ms(horizon, day_offset), **kw)


def test_nothing_is_said_before_the_check_time():
    assert r4(home_night("21:59")) == []


def test_parked_outside_at_22_is_a_warning_with_the_distance():
    found = r4(home_night("22:00"))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warn" and f.key == "v12:night:2026-11-24"
    assert f.summary["distance_to_lot_m"] == pytest.approx(7745, abs=60)
    assert f.summary["outside_at_check"] and not f.summary["outside_at_alarm"]
    assert f.summary["parked_since"] == "2026-11-24T21:55:00+08:00"
    assert f.start_ms == ms("22:00") and f.end_ms is None and f.zone_ids == (1,)
    assert "请返回停放点" in f.message_zh and "return" in f.message_en


def test_still_outside_at_23_the_same_key_becomes_an_alarm():
    warn = r4(home_night("22:30"))[0]
    alarm = r4(home_night("23:01"))[0]
    assert alarm.key == warn.key and alarm.severity == "alarm"
    assert alarm.summary["outside_at_alarm"] and alarm.trigger_ms == (ms("22:00"), ms("23:00"))


def test_back_in_the_lot_by_23_the_warning_stays_a_warning():
    ctx = day(trips=(trip("21:30", "21:55", LOT_CENTRE, HOME_AT),
                     trip("22:20", "22:45", HOME_AT, LOT_CENTRE)),
              stops=(stop("18:00", "21:30"), stop("21:55", "22:20", HOME_AT),
                     stop("22:45", None)), horizon=ms("23:30"))
    found = r4(ctx)
    assert [(f.severity, f.summary["outside_at_alarm"]) for f in found] == [("warn", False)]


def test_parked_in_the_lot_is_fine():
    assert r4(day(stops=(stop("18:00", None),), horizon=ms("23:30"))) == []


@pytest.mark.parametrize(("east_m", "expected"), [(130, []), (145, []), (165, ["alarm"])])
def test_the_lot_tolerance_is_100_m_from_the_edge(east_m, expected):
    # the lot is a 100 m square around its centre: its edge is 50 m east
    ctx = day(stops=(stop("18:00", None, at(east_m, 0)),), horizon=ms("23:30"))
    assert [f.severity for f in r4(ctx)] == expected


def test_an_order_holding_the_car_exempts_it():
    o = order(5, "19:00", "23:30", departed="19:00")
    assert r4(home_night("23:10", orders=(o,))) == []


def test_a_returned_order_no_longer_holds_the_car():
    o = order(5, "19:00", "21:30", departed="19:00", returned="21:40")
    found = r4(home_night("22:10", orders=(o,)))
    assert [f.severity for f in found] == ["warn"]


def test_an_overnight_out_of_town_order_exempts_near_its_destination_only():
    o = order(6, "08:00", "18:00", [(*HUANGSHI_AT, HUANGSHI)], departed="08:00",
              state="in_service", end_offset=1)
    hotel = at(2000, 1000, HUANGSHI_AT)            # ~2.2 km from the destination
    ctx = day(stops=(stop("20:00", None, hotel),), orders=(o,), horizon=ms("23:30"))
    assert r4(ctx) == []
    far = at(20000, 0, HUANGSHI_AT)
    ctx = day(stops=(stop("20:00", None, far),), orders=(o,), horizon=ms("23:30"))
    assert [f.severity for f in r4(ctx)] == ["alarm"]


def test_driving_at_22_and_parked_outside_at_23_is_an_alarm():
    ctx = day(trips=(trip("21:50", "22:30", LOT_CENTRE, HOME_AT),),
              stops=(stop("18:00", "21:50"), stop("22:30", None, HOME_AT)),
              horizon=ms("23:05"))
    found = r4(ctx)
    assert [(f.severity, f.summary["outside_at_check"]) for f in found] == [("alarm", False)]
    assert found[0].start_ms == ms("23:00")


def test_without_a_stop_row_the_last_fix_with_acc_off_places_the_car():
    ctx = day(last_fix=fix("21:40", HOME_AT, acc=False), horizon=ms("22:05"))
    assert [f.severity for f in r4(ctx)] == ["warn"]
    moving = day(last_fix=fix("21:40", HOME_AT, acc=True, speed_kmh=40), horizon=ms("22:05"))
    assert r4(moving) == []


def test_a_car_without_a_designated_lot_is_not_judged():
    assert r4(home_night("23:30", vehicle=vehicle(lot_zone_id=None))) == []


def test_parked_outside_since_yesterday_is_judged_again_tonight_under_tonights_key():
    ctx = day(stops=(stop("21:00", None, HOME_AT, day_offset=-1),), horizon=ms("22:01"))
    found = r4(ctx)
    assert found[0].key == "v12:night:2026-11-24"
    assert found[0].summary["parked_since"].startswith("2026-11-23T21:00")


def test_the_lots_zone_visit_outweighs_a_stray_first_fix_of_the_stop():
    from tests.rules_fixtures import LOT_ID, visit
    spiked = at(260, 0)                            # a 200 m spike as the car switched off
    ctx = day(stops=(stop("18:00", None, spiked),), horizon=ms("23:30"),
              episodes=(visit(LOT_ID, ms("17:59"), None),))
    assert r4(ctx) == []


def test_an_overnight_order_not_exempting_the_car_is_named():
    o = order(6, "08:00", "18:00", [(*HUANGSHI_AT, HUANGSHI)], departed="08:00",
              state="in_service", end_offset=1)
    ctx = day(stops=(stop("20:00", None, HOME_AT),), orders=(o,), horizon=ms("22:30"))
    found = r4(ctx)
    assert [(f.severity, f.order_ids, f.driver_id) for f in found] == [("warn", (6,), 3)]


def test_a_car_left_at_a_designated_garage_is_in_for_repair_but_not_at_a_fuel_station():
    from tests.rules_fixtures import FUEL_AT, make_zone
    garage_at = at(-2000, -2000)
    garage = make_zone(30, "service_site", garage_at, 60, category="repair", name="定点维修厂")
    index_zones = {30: garage}

    def places(point):
        from supervision.zones import contains
        from tests.rules_fixtures import places_of
        return places_of(point) + [z for z in index_zones.values() if contains(z, *point)]

    ctx = day(stops=(stop("16:00", None, garage_at),), horizon=ms("23:30"), places_of=places)
    assert r4(ctx) == []
    ctx = day(stops=(stop("16:00", None, FUEL_AT),), horizon=ms("23:30"))
    assert [f.severity for f in r4(ctx)] == ["alarm"]
