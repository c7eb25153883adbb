"""Which zones judge a car: a zone of one organisation binds only the cars of its subtree
(a 黄石 zone never judges a 武汉 car), and a deleted zone still counts for the times before
its deletion (re-judging a past day finds what was found then)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from supervision.model import Episode
from supervision.reconcile import Stored, reconcile
from supervision.rules import evaluate, r01_no_order, r05_left_area, r09_sensitive_stop
from supervision.zones import ZoneIndex
from tests.rules_fixtures import (
    CST,
    DAY,
    FORBIDDEN_ID,
    FUEL_AT,
    FUEL_ID,
    KTV_AT,
    KTV_ID,
    LOT_CENTRE,
    WUHAN_ID,
    XIAOGAN_AT,
    XIAOGAN_ID,
    ZONES,
    at,
    day,
    make_zone,
    ms,
    only,
    stop,
    trip,
    visit,
)

HUANGSHI_ORG, WUHAN_ORG, OWN_UNIT = 3, 2, 9          # the car's org path is (1, 2, 9)
PERMIT_ID = 20


def with_zones(ctx, *changed):
    """The vehicle-day with these zones in place of the fixtures' (same ids)."""
    zones = {**ctx.zones, **{z.id: z for z in changed}}
    index = ZoneIndex(zones.values())
    return replace(ctx, zones=zones,
                   places_of=lambda p: index.containing(p[0], p[1], None, ctx.vehicle.id))


def owned_by(zone_id: int, org_id: int | None, **extra):
    base = ZONES[zone_id]
    half = {FORBIDDEN_ID: 500, FUEL_ID: 60, KTV_ID: 80}[zone_id]
    centre = {FORBIDDEN_ID: at(0, 9000), FUEL_ID: FUEL_AT, KTV_ID: KTV_AT}[zone_id]
    return make_zone(zone_id, base.purpose, centre, half, category=base.category,
                     name=base.name_zh, org_id=org_id, **extra)


# ---- organisations --------------------------------------------------------------------------

def forbidden_visit():
    return day(trips=(trip("10:00", "10:40", LOT_CENTRE, at(0, 9000), 10.0),),
               episodes=(visit(FORBIDDEN_ID, ms("10:30"), ms("11:00")),))


def test_a_forbidden_zone_of_another_city_does_not_judge_the_car():
    assert only(r05_left_area.detect(with_zones(forbidden_visit(),
                                                owned_by(FORBIDDEN_ID, HUANGSHI_ORG))), "R5") == []
    for org in (WUHAN_ORG, OWN_UNIT, None):
        found = r05_left_area.detect(with_zones(forbidden_visit(), owned_by(FORBIDDEN_ID, org)))
        assert len(found) == 1, org


def to_xiaogan():
    episodes = (visit(WUHAN_ID, ms("00:00", -1), ms("10:00")),
                visit(XIAOGAN_ID, ms("10:30"), ms("13:30")),
                Episode("zone", str(PERMIT_ID), ms("10:00"), ms("14:00"),
                        {"zone_id": PERMIT_ID, "purpose": "permitted_area"}),
                visit(WUHAN_ID, ms("14:00"), None))
    return day(trips=(trip("09:00", "11:00", LOT_CENTRE, XIAOGAN_AT, 70.0),
                      trip("13:00", "15:00", XIAOGAN_AT, LOT_CENTRE, 70.0)),
               stops=(stop("11:00", "13:00", XIAOGAN_AT),), episodes=episodes)


def test_a_permitted_area_of_another_unit_does_not_widen_this_cars_area():
    def permit(org):
        return make_zone(PERMIT_ID, "permitted_area", XIAOGAN_AT, 60_000, city_code=None,
                         org_id=org)
    assert len(r05_left_area.detect(with_zones(to_xiaogan(), permit(HUANGSHI_ORG)))) == 1
    assert r05_left_area.detect(with_zones(to_xiaogan(), permit(OWN_UNIT))) == []
    assert r05_left_area.detect(with_zones(to_xiaogan(), permit(None))) == []


def fuel_run():
    return day(trips=(trip("10:00", "10:10", LOT_CENTRE, FUEL_AT, 3.2),
                      trip("10:25", "10:35", FUEL_AT, LOT_CENTRE, 3.1)),
               stops=(stop("07:00", "10:00"), stop("10:10", "10:25", FUEL_AT),
                      stop("10:35", None)))


def test_a_service_site_of_another_city_is_no_service_run_for_this_car():
    assert len(r01_no_order.detect(with_zones(fuel_run(), owned_by(FUEL_ID, HUANGSHI_ORG)))) == 1
    assert r01_no_order.detect(with_zones(fuel_run(), owned_by(FUEL_ID, WUHAN_ORG))) == []


def ktv_evening():
    return day(trips=(trip("19:00", "19:30", LOT_CENTRE, KTV_AT, 8.0),),
               stops=(stop("19:30", "21:30", KTV_AT),))


def test_a_sensitive_place_of_another_city_does_not_judge_the_car():
    assert r09_sensitive_stop.detect(with_zones(ktv_evening(), owned_by(KTV_ID, HUANGSHI_ORG))) == []
    assert len(r09_sensitive_stop.detect(with_zones(ktv_evening(), owned_by(KTV_ID, None)))) == 1


# ---- deleted zones ---------------------------------------------------------------------------

def deleted(zone_id: int, at_local: datetime):
    return owned_by(zone_id, None, active=False, updated_at=at_local)


def test_a_zone_deleted_afterwards_still_counts_for_the_day_before():
    found_then = evaluate(ktv_evening())
    (r9,) = only(found_then, "R9")
    gone = deleted(KTV_ID, datetime(2026, 11, 26, 9, 0, tzinfo=CST))
    again = evaluate(with_zones(ktv_evening(), gone))
    assert [f.key for f in only(again, "R9")] == [r9.key]
    stored = [Stored(f.rule_id, f.key, f.severity, "open", f.summary, f.end_ms, f.provisional,
                     id=i) for i, f in enumerate(found_then)]
    assert {a.kind for a in reconcile(stored, again)} == {"keep"}     # nothing retracted


def test_a_deleted_zone_judges_nothing_after_its_deletion():
    gone = deleted(KTV_ID, datetime(2026, 11, 24, 12, 0, tzinfo=CST))
    assert only(evaluate(with_zones(ktv_evening(), gone)), "R9") == []


def test_a_forbidden_zone_visit_before_its_deletion_still_counts():
    gone = deleted(FORBIDDEN_ID, datetime.combine(DAY + timedelta(days=3), datetime.min.time(),
                                                  tzinfo=CST))
    assert len(r05_left_area.detect(with_zones(forbidden_visit(), gone))) == 1
