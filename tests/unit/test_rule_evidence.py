"""The frozen evidence bundle (supervision/evidence.py): window, track within 1,000 points
with the triggering positions kept, zones with version and GeoJSON, orders, distance."""

from __future__ import annotations

import json

from supervision.evidence import (
    MARGIN_MS,
    Subject,
    Vehicle,
    build,
    distance,
    window,
    zone_ids_of,
)
from supervision.model import Finding, Fix, RuleParams
from tests.rules_fixtures import (
    KTV_AT,
    KTV_ID,
    LOT_CENTRE,
    LOT_ID,
    WUHAN_ID,
    ZONES,
    at,
    ms,
    order,
    places_of,
    vehicle,
)


def drive(start: str, n: int, step_s: int = 5) -> list[Fix]:
    t0 = ms(start)
    return [Fix(t0 + i * step_s * 1000, *reversed(at(10.0 * i, 30.0 * ((i // 50) % 2))), 40.0,
                True, odometer_km=1000.0 + 0.01 * i) for i in range(n)]


def finding(**changes) -> Finding:
    base: dict = {"rule_id": "R1", "key": "v12:trip:1", "severity": "alarm",
                  "start_ms": ms("21:00"), "end_ms": ms("22:00"), "summary": {"km": 12.0},
                  "trigger_ms": (ms("21:00"), ms("22:00")), "zone_ids": (LOT_ID, KTV_ID),
                  "order_ids": (7,), "message_zh": "无单出车", "message_en": "no order"}
    return Finding(**{**base, **changes})


VEHICLE = Vehicle(vehicle(), "市直机关", "City offices")
PARAMS = RuleParams("R1", 3, {"min_trip_m": 1000})


def test_the_bundle_has_the_designs_parts_and_is_json():
    fixes = drive("20:50", 900)                       # 75 min of fixes every 5 s
    bundle = build(Subject.of(finding()), params=PARAMS, vehicle=VEHICLE,
                   driver={"id": 3, "name": "周师傅"}, horizon_ms=ms("23:00"), fixes=fixes,
                   zones=[ZONES[KTV_ID], ZONES[LOT_ID]], orders=[order(7, "20:30", "23:00")])
    assert json.loads(json.dumps(bundle)) == bundle
    assert bundle["format"] == 1
    assert bundle["rule"] == {"id": "R1", "params": {"min_trip_m": 1000}, "params_version": 3}
    assert bundle["vehicle"]["plate"] == "鄂A·12345" and bundle["vehicle"]["org"]["name_zh"] == "市直机关"
    assert bundle["window"] == {"from": "2026-11-24T20:50:00+08:00", "to": "2026-11-24T22:10:00+08:00"}
    assert [z["id"] for z in bundle["zones"]] == [LOT_ID, KTV_ID]
    assert bundle["zones"][0]["version"] == 1 and bundle["zones"][0]["geojson"]["type"] == "Polygon"
    assert bundle["orders"][0]["id"] == 7 and bundle["orders_checked"] is None
    assert [p["ts"] for p in bundle["points"]] == ["2026-11-24T21:00:00+08:00",
                                                   "2026-11-24T22:00:00+08:00"]
    assert bundle["message"] == {"zh": "无单出车", "en": "no order"}
    assert bundle["driver"] == {"id": 3, "name": "周师傅"} and bundle["summary"] == {"km": 12.0}


def test_the_track_keeps_at_most_1000_points_and_the_triggering_ones():
    fixes = drive("20:50", 2000, step_s=2)
    trigger = fixes[777].ts_ms
    bundle = build(Subject.of(finding(start_ms=fixes[0].ts_ms + MARGIN_MS, end_ms=fixes[-1].ts_ms - MARGIN_MS,
                                      trigger_ms=(trigger,))),
                   params=None, vehicle=None, driver=None, horizon_ms=fixes[-1].ts_ms,
                   fixes=fixes, zones=[], orders=[])
    coords = bundle["track"]["coordinates"]
    assert 2 <= len(coords) <= 1000
    assert [fixes[777].lon, fixes[777].lat] in coords
    assert coords[0] == [fixes[0].lon, fixes[0].lat] and coords[-1] == [fixes[-1].lon, fixes[-1].lat]
    assert bundle["vehicle"] is None and bundle["rule"]["params_version"] == 0
    assert bundle["orders"] == [] and bundle["orders_checked"]["from"]


def test_an_ongoing_finding_shows_up_to_the_horizon_and_a_day_at_most():
    live = Subject.of(finding(end_ms=None))
    assert window(live, ms("21:30")) == (ms("21:00") - MARGIN_MS, ms("21:30") + MARGIN_MS)
    assert window(live, ms("21:00", 3)) == (ms("21:00") - MARGIN_MS, ms("21:00", 1) + MARGIN_MS)


def test_distance_from_the_fixes_and_the_odometer():
    fixes = [Fix(ms("21:00") + i * 5000, at(10.0 * i)[1], at(10.0 * i)[0], 40.0, True,
                 odometer_km=1000.0 + 0.01 * i) for i in range(101)]   # 100 legs of 10 m
    d = distance(fixes, fixes[0].ts_ms, fixes[-1].ts_ms)
    assert abs(d["gnss_km"] - 1.0) < 0.02 and d["odometer_km"] == 1.0
    no_fix = [Fix(f.ts_ms, f.lat, f.lon, 0.0, False, fix=False) for f in fixes]
    assert distance(no_fix, fixes[0].ts_ms, fixes[-1].ts_ms) == {"gnss_km": 0.0, "odometer_km": None}
    assert at(0, 0) == LOT_CENTRE


def test_the_bundle_shows_the_cars_lot_and_the_zones_of_the_places_it_names():
    """An R1 finding carries no zones of its own: its bundle still shows the lot and where the
    trip began and ended (the entertainment venue here)."""
    trip = finding(zone_ids=(), summary={"km": 9.0, "from": list(LOT_CENTRE), "to": list(KTV_AT)})
    ids = zone_ids_of(Subject.of(trip), LOT_ID, places_of)
    assert ids[0] == LOT_ID and KTV_ID in ids and len(ids) == len(set(ids))
    assert WUHAN_ID not in ids             # not the city around them: the map stays on the car
    assert zone_ids_of(Subject.of(trip), None, None) == []
    own = finding(zone_ids=(KTV_ID,), summary={"at": list(KTV_AT)})
    assert zone_ids_of(Subject.of(own), LOT_ID, places_of)[:2] == [KTV_ID, LOT_ID]
