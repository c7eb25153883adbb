"""R5 越界 (leaving the home city, forbidden zones) and R6 超速."""

from __future__ import annotations

from supervision.rules import r05_left_area, r06_speeding
from tests.rules_fixtures import (
    FORBIDDEN_AT,
    FORBIDDEN_ID,
    HUANGSHI,
    HUANGSHI_AT,
    LOT_CENTRE,
    WUHAN_ID,
    XIAOGAN,
    XIAOGAN_AT,
    XIAOGAN_ID,
    ZONES,
    at,
    day,
    ms,
    order,
    speeding,
    stop,
    trip,
    visit,
)

EXIT = list(at(-30000, 30000))


def to_xiaogan(**kw):
    """Leaves Wuhan at 10:00, in 孝感 10:30–13:30, back in Wuhan from 14:00."""
    episodes = (visit(WUHAN_ID, ms("00:00", -1), ms("10:00"), exit=EXIT),
                visit(XIAOGAN_ID, ms("10:30"), ms("13:30")),
                visit(WUHAN_ID, ms("14:00"), None)) + kw.pop("extra", ())
    return day(trips=(trip("09:00", "11:00", LOT_CENTRE, XIAOGAN_AT, 70.0),
                      trip("13:00", "15:00", XIAOGAN_AT, LOT_CENTRE, 70.0)),
               stops=(stop("11:00", "13:00", XIAOGAN_AT),), episodes=episodes, **kw)


def r5(ctx):
    return r05_left_area.detect(ctx)


def test_leaving_the_city_without_an_order_is_an_alarm():
    found = r5(to_xiaogan())
    assert len(found) == 1
    f = found[0]
    assert f.severity == "alarm" and f.key == f"v12:out:{ms('10:00')}"
    assert (f.start_ms, f.end_ms) == (ms("10:00"), ms("14:00"))
    assert f.summary["cities"] == [XIAOGAN] and f.summary["duration_s"] == 4 * 3600
    assert f.summary["exit"] == EXIT and WUHAN_ID in f.zone_ids
    assert XIAOGAN in f.message_zh


def test_a_covered_cross_city_trip_is_not_r5():
    o = order(3, "08:45", "15:30", [(*XIAOGAN_AT, XIAOGAN)], planned_km=150)
    assert r5(to_xiaogan(orders=(o,))) == []


def test_an_order_to_another_city_does_not_cover_this_one():
    o = order(3, "08:45", "15:30", [(*HUANGSHI_AT, HUANGSHI)], planned_km=150)
    found = r5(to_xiaogan(orders=(o,)))
    assert len(found) == 1 and found[0].summary["order_destinations"] == [HUANGSHI]


def test_an_in_town_order_does_not_cover_leaving_town():
    assert len(r5(to_xiaogan(orders=(order(3, "08:45", "15:30"),)))) == 1


def test_a_brief_crossing_is_not_leaving():
    episodes = (visit(WUHAN_ID, ms("00:00", -1), ms("10:00")),
                visit(WUHAN_ID, ms("10:00:40"), None))
    ctx = day(trips=(trip("09:50", "10:20", LOT_CENTRE, at(30000, 0), 20.0),),
              episodes=episodes)
    assert r5(ctx) == []


def test_no_data_while_outside_is_no_finding():
    episodes = (visit(WUHAN_ID, ms("00:00", -1), ms("10:00")), visit(WUHAN_ID, ms("14:00"), None))
    assert r5(day(episodes=episodes)) == []


def test_a_spell_with_no_known_beginning_belongs_to_another_day():
    ctx = day(trips=(trip("09:00", "11:00", XIAOGAN_AT, XIAOGAN_AT, 20.0),),
              with_home_visit=False)
    assert r5(ctx) == []


def test_still_outside_at_the_horizon():
    episodes = (visit(WUHAN_ID, ms("00:00", -1), ms("10:00")), visit(XIAOGAN_ID, ms("10:30"), None))
    ctx = day(trips=(trip("09:00", "11:00", LOT_CENTRE, XIAOGAN_AT, 70.0),),
              stops=(stop("11:00", None, XIAOGAN_AT),), episodes=episodes, horizon=ms("12:00"))
    found = r5(ctx)
    assert len(found) == 1 and found[0].end_ms is None
    assert found[0].summary["duration_s"] == 2 * 3600


def test_outside_every_known_city_an_out_of_town_order_explains_it():
    far = (112.0, 28.2)                            # 长沙, outside the circle's zones
    episodes = (visit(WUHAN_ID, ms("00:00", -1), ms("10:00")), visit(WUHAN_ID, ms("20:00"), None))
    base = {"trips": (trip("08:00", "12:00", LOT_CENTRE, far, 300.0),),
                "stops": (stop("12:00", "16:00", far),), "episodes": episodes}
    assert len(r5(day(**base))) == 1
    away = order(3, "07:45", "21:00", [(*HUANGSHI_AT, HUANGSHI)], planned_km=600)
    assert r5(day(orders=(away,), **base)) == []


def test_without_a_home_boundary_zone_nothing_is_judged():
    ctx = to_xiaogan()
    zones = {k: z for k, z in ctx.zones.items() if k != WUHAN_ID}
    assert r5(day(trips=ctx.trips, stops=ctx.stops, episodes=ctx.episodes, zones=zones)) == []


def test_a_forbidden_zone_visit_of_a_minute_or_more_is_an_alarm():
    ctx = day(trips=(trip("10:00", "10:40", LOT_CENTRE, FORBIDDEN_AT, 10.0),),
              episodes=(visit(FORBIDDEN_ID, ms("10:20"), ms("10:25")),))
    found = r5(ctx)
    assert [(f.severity, f.key) for f in found] == [("alarm", f"v12:zone8:{ms('10:20')}")]
    assert found[0].summary["zone"]["name_zh"] == ZONES[FORBIDDEN_ID].name_zh
    short = day(episodes=(visit(FORBIDDEN_ID, ms("10:20"), ms("10:20:40")),))
    assert r5(short) == []


def test_an_order_whose_destination_is_in_the_forbidden_zone_allows_it():
    o = order(3, "10:00", "11:00", [(*FORBIDDEN_AT, "420100")])
    ctx = day(episodes=(visit(FORBIDDEN_ID, ms("10:20"), ms("10:25")),), orders=(o,))
    assert r5(ctx) == []


# ---- R6 ----------------------------------------------------------------------------------

def r6(ctx):
    return r06_speeding.detect(ctx)


def test_speeding_over_the_tolerance_for_15_s_is_one_warning_per_episode():
    ctx = day(episodes=(speeding(ms("10:00:00"), ms("10:01:30"), 142.0),
                        speeding(ms("11:00:00"), ms("11:00:20"), 135.0)))
    found = r6(ctx)
    assert [f.severity for f in found] == ["warn", "warn"]
    f = found[0]
    assert f.key == f"v12:speed:{ms('10:00')}"
    assert f.summary["max_speed_kmh"] == 142.0 and f.summary["limit_kmh"] == 120.0
    assert f.summary["duration_s"] == 90 and f.summary["limit_source"] == "default"
    assert "142" in f.message_zh and "120" in f.message_en


def test_within_ten_percent_or_shorter_than_15_s_is_not_r6():
    ctx = day(episodes=(speeding(ms("10:00"), ms("10:02"), 131.0),
                        speeding(ms("11:00:00"), ms("11:00:10"), 160.0)))
    assert r6(ctx) == []


def test_a_zone_limit_is_used_and_named():
    from tests.rules_fixtures import make_zone
    school = make_zone(20, "speed_zone", at(1000, 0), 300, speed_limit_kmh=60.0, name="学校路段")
    ctx = day(episodes=(speeding(ms("10:00"), ms("10:00:30"), 75.0, limit=60.0, zone_id=20),))
    ctx = day(episodes=ctx.episodes, zones={**ctx.zones, 20: school})
    found = r6(ctx)
    assert len(found) == 1 and found[0].zone_ids == (20,)
    assert found[0].summary["zone"]["name_zh"] == "学校路段"


def test_an_ongoing_episode_counts_once_long_enough():
    ep = speeding(ms("10:00:00"), None, 150.0)
    assert r6(day(episodes=(ep,), horizon=ms("10:00:10"))) == []
    found = r6(day(episodes=(ep,), horizon=ms("10:00:20")))
    assert len(found) == 1 and found[0].end_ms is None


def test_speeding_during_an_order_names_the_driver():
    o = order(9, "09:30", "12:00")
    found = r6(day(episodes=(speeding(ms("10:00"), ms("10:01"), 150.0),), orders=(o,)))
    assert found[0].driver_id == 3 and found[0].order_ids == (9,)
