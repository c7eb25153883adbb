"""Zones as the rules see them: containment, circles and corridors in ground metres at 30° N,
distances to a zone's edge against known values, time windows (past midnight, weekdays),
date ranges, bindings, and the index (one position and vectorised) against plain shapely."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
import shapely
from pyproj import Geod

from fleet.scenario.geo import circle_ring
from supervision import local_metric
from supervision.zone_validation import zone_fields
from supervision.zones import (
    SHANGHAI,
    ZoneIndex,
    active,
    binds,
    contains,
    distance_to_m,
    parse_time_windows,
    permitted_area,
    retired,
    zone_from_row,
)

GEOD = Geod(ellps="GRS80")
SQUARE = [[114.30, 30.58], [114.31, 30.58], [114.31, 30.59], [114.30, 30.59], [114.30, 30.58]]


def row(zone_id: int = 1, **fields) -> dict:
    base = {"id": zone_id, "code": f"Z{zone_id}", "name_zh": "区", "name_en": "zone",
            "shape": "polygon", "purpose": "sensitive_place", "category": "club_hotel",
            "geojson": {"type": "Polygon", "coordinates": [SQUARE]}}
    return base | fields


def circle_row(zone_id: int, centre: tuple[float, float], radius_m: float, **fields) -> dict:
    ring = local_metric.display_ring(centre, radius_m)
    return row(zone_id, shape="circle", radius_m=radius_m,
               geojson={"type": "Polygon", "coordinates": [ring]}, **fields)


def moved(lon: float, lat: float, azimuth_deg: float, dist_m: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth_deg, dist_m)
    return lon2, lat2


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=SHANGHAI).timestamp() * 1000)


def test_a_polygon_holds_its_inside_and_its_edge():
    zone = zone_from_row(row())
    assert contains(zone, 114.305, 30.585)
    assert contains(zone, 114.30, 30.585)  # on the edge: inside
    assert not contains(zone, 114.311, 30.585)
    index = ZoneIndex([zone])
    for lon, lat in ((114.30, 30.585), (114.31, 30.59), (114.305, 30.58)):  # edges and a corner
        assert index.containing(lon, lat) == [zone]
        assert index.containing_many([lon], [lat]) == [[1]]
    assert index.containing(114.3101, 30.585) == [] and index.containing(120.0, 30.0) == []


@pytest.mark.parametrize("centre", [(114.30, 30.60), (116.50, 30.20), (111.20, 30.40)])
@pytest.mark.parametrize("radius_m", [60.0, 1_000.0, 20_000.0])
def test_a_circle_is_its_radius_in_ground_metres(centre, radius_m):
    zone = zone_from_row(circle_row(1, centre, radius_m))
    assert zone.centre == pytest.approx(centre, abs=1e-12)
    margin_m = 0.6  # vertices on the geodesic circle, chords at most 0.5 m inside
    for azimuth in range(0, 360, 15):
        assert contains(zone, *moved(*centre, azimuth, radius_m - margin_m))
        assert not contains(zone, *moved(*centre, azimuth, radius_m + margin_m))


def test_a_seeded_circle_is_read_back_from_its_48_gon():
    """The seed stores circles as 48-gons (fleet.scenario.geo): the centre is their mean."""
    ring = [list(p) for p in circle_ring((114.269, 30.601), 120)]
    zone = zone_from_row(row(shape="circle", radius_m=120,
                             geojson={"type": "Polygon", "coordinates": [ring]}))
    assert zone.centre == pytest.approx((114.269, 30.601), abs=1e-12)
    assert distance_to_m(zone, *moved(114.269, 30.601, 90, 220)) == pytest.approx(100, abs=0.05)


def test_a_corridor_is_its_buffer_in_metres_around_the_route():
    line = {"type": "LineString", "coordinates": [[114.25, 30.65], [114.27, 30.70]]}
    zone = zone_from_row(row(shape="corridor", purpose="speed_zone", line_geojson=line,
                             buffer_m=50, speed_limit_kmh=80))
    _, back_az, length_m = GEOD.inv(114.25, 30.65, 114.27, 30.70)
    forward_az = (back_az + 180) % 360
    middle = moved(114.25, 30.65, forward_az, length_m / 2)
    for side in (90, -90):
        assert contains(zone, *moved(*middle, forward_az + side, 49.5))
        assert not contains(zone, *moved(*middle, forward_az + side, 50.5))
    beyond_start = (forward_az + 180) % 360
    assert contains(zone, *moved(114.25, 30.65, beyond_start, 49.5))  # round ends
    assert not contains(zone, *moved(114.25, 30.65, beyond_start, 50.5))
    north = zone_from_row(row(shape="corridor", purpose="speed_zone", buffer_m=50,
                              speed_limit_kmh=80, line_geojson={
                                  "type": "LineString", "coordinates": [[114.26, 30.6], [114.26, 30.7]]}))
    assert distance_to_m(north, *moved(114.26, 30.65, 90, 250)) == pytest.approx(200, abs=0.05)
    assert distance_to_m(north, *moved(114.26, 30.70, 0, 130)) == pytest.approx(80, abs=0.05)


def test_distances_to_an_edge_match_known_lengths_at_30_degrees_north():
    # One degree of latitude centred on 30.5° N: 111132.954 − 559.822 cos 2φ + 1.175 cos 4φ.
    north_of = zone_from_row(row(geojson={"type": "Polygon", "coordinates": [[
        [114.0, 31.0], [114.6, 31.0], [114.6, 31.2], [114.0, 31.2], [114.0, 31.0]]]}))
    assert distance_to_m(north_of, 114.3, 30.0) == pytest.approx(110_860.9, abs=2.0)
    # One degree of longitude on 30.5° N: 111412.84 cos φ − 93.5 cos 3φ + 0.118 cos 5φ, less
    # the 0.3 m by which the geodesic cuts the parallel.
    east_of = zone_from_row(row(geojson={"type": "Polygon", "coordinates": [[
        [115.0, 30.0], [115.2, 30.0], [115.2, 31.0], [115.0, 31.0], [115.0, 30.0]]]}))
    assert distance_to_m(east_of, 114.0, 30.5) == pytest.approx(95_998.4, abs=2.0)
    # A small one: 80 m west of the square's west edge, and inside is 0.
    square = zone_from_row(row())
    assert distance_to_m(square, *moved(114.30, 30.585, 270, 80)) == pytest.approx(80, abs=0.01)
    assert distance_to_m(square, 114.305, 30.585) == 0.0


def test_time_windows_past_midnight_belong_to_the_day_they_start():
    nights = zone_from_row(row(time_windows=[{"weekdays": [1, 2, 3, 4, 5],
                                              "from": "22:00", "to": "06:00"}]))
    # 2026-06-05 is a Friday.
    assert active(nights, ms(2026, 6, 5, 23, 0))
    assert active(nights, ms(2026, 6, 6, 3, 0))       # Saturday night, began on Friday
    assert not active(nights, ms(2026, 6, 6, 23, 0))  # Saturday evening
    assert not active(nights, ms(2026, 6, 8, 3, 0))   # Monday early: Sunday's night
    assert active(nights, ms(2026, 6, 9, 5, 59))      # Tuesday early: Monday's night
    assert not active(nights, ms(2026, 6, 9, 6, 0))
    assert not active(nights, ms(2026, 6, 9, 12, 0))
    office = zone_from_row(row(time_windows=[{"weekdays": [1, 2, 3, 4, 5], "from": "08:30",
                                              "to": "17:30"}, {"from": "00:00", "to": "24:00",
                                                               "weekdays": [7]}]))
    assert active(office, ms(2026, 6, 5, 8, 30)) and not active(office, ms(2026, 6, 5, 17, 30))
    assert not active(office, ms(2026, 6, 6, 12, 0)) and active(office, ms(2026, 6, 7, 23, 59))
    assert active(office)  # no time given: not checked


def test_dates_include_both_ends_in_local_time():
    may_day = zone_from_row(row(valid_from=date(2026, 5, 1), valid_to=date(2026, 5, 5)))
    assert not active(may_day, ms(2026, 4, 30, 23, 59))
    assert active(may_day, ms(2026, 5, 1, 0, 0))
    assert active(may_day, ms(2026, 5, 5, 23, 59))
    assert not active(may_day, ms(2026, 5, 6, 0, 0))
    # 16:30 UTC on 30 April is already 1 May in Shanghai.
    assert active(may_day, int(datetime.fromisoformat("2026-04-30T16:30:00+00:00").timestamp() * 1000))


def test_bindings_all_group_vehicle_and_deleted():
    everyone = zone_from_row(row(1))
    group = zone_from_row(row(2, applies_to="group", vehicle_group_id=7, vehicle_group_ids=[10, 11]))
    one = zone_from_row(row(3, applies_to="vehicle", vehicle_id=12))
    gone = zone_from_row(row(4, active=False))
    assert active(everyone, vehicle_id=99)
    assert active(group, vehicle_id=10) and not active(group, vehicle_id=12)
    assert active(one, vehicle_id=12) and not active(one, vehicle_id=10)
    assert active(group) and active(one)  # no vehicle given: binding not checked
    assert not active(gone)
    index = ZoneIndex([everyone, group, one, gone])
    assert [z.id for z in index.containing(114.305, 30.585, vehicle_id=10)] == [1, 2]
    assert [z.id for z in index.containing(114.305, 30.585, vehicle_id=12)] == [1, 3]
    assert [z.id for z in index.containing(114.305, 30.585)] == [1, 2, 3]
    assert index.containing_many([114.305, 114.4], [30.585, 30.585], vehicle_id=12) == [[1, 3], []]


WUHAN_CAR, HUANGSHI_CAR = (1, 2, 9), (1, 3, 31)   # org paths: province → city → unit


def test_a_zone_of_one_organisation_binds_only_the_cars_of_its_subtree():
    wuhan_only = zone_from_row(row(1, purpose="forbidden_zone", category=None, org_id=2))
    unit_only = zone_from_row(row(2, purpose="forbidden_zone", category=None, org_id=9))
    province = zone_from_row(row(3, purpose="forbidden_zone", category=None))   # org_id NULL
    assert binds(wuhan_only, 12, WUHAN_CAR) and not binds(wuhan_only, 40, HUANGSHI_CAR)
    assert binds(unit_only, 12, WUHAN_CAR) and not binds(unit_only, 13, (1, 2, 10))
    assert binds(province, 12, WUHAN_CAR) and binds(province, 40, HUANGSHI_CAR)
    assert active(wuhan_only, vehicle_id=12, org_path=WUHAN_CAR)
    assert not active(wuhan_only, vehicle_id=40, org_path=HUANGSHI_CAR)
    # a one-vehicle zone of another organisation does not bind that vehicle either
    theirs = zone_from_row(row(4, org_id=3, applies_to="vehicle", vehicle_id=12))
    assert not binds(theirs, 12, WUHAN_CAR)
    index = ZoneIndex([wuhan_only, unit_only, province])
    assert [z.id for z in index.containing(114.305, 30.585, None, 40, HUANGSHI_CAR)] == [3]
    assert [z.id for z in index.containing(114.305, 30.585, None, 12, WUHAN_CAR)] == [1, 2, 3]
    assert index.containing_many([114.305], [30.585], vehicle_id=40,
                                 org_path=HUANGSHI_CAR) == [[3]]


def test_a_permitted_area_of_a_unit_widens_only_its_own_cars_area():
    boundary = zone_from_row(row(1, purpose="city_boundary", category=None, city_code="420200"))
    wide = zone_from_row(row(2, purpose="permitted_area", category=None, org_id=31))
    assert permitted_area([boundary, wide], "420200", 40, HUANGSHI_CAR) == [boundary, wide]
    assert permitted_area([boundary, wide], "420100", 12, WUHAN_CAR) == []


def test_a_deleted_zone_counts_before_its_deactivation_only():
    deleted_at = datetime(2026, 6, 10, 9, 0, tzinfo=SHANGHAI)
    gone = zone_from_row(row(1, active=False, updated_at=deleted_at))
    assert gone.retired_ms == ms(2026, 6, 10, 9, 0) and not gone.always
    assert active(gone, ms(2026, 6, 9, 22, 0)) and not active(gone, ms(2026, 6, 10, 9, 0))
    assert not active(gone)                                  # now: it is gone
    assert not retired(gone, ms(2026, 6, 10, 8, 59)) and retired(gone, ms(2026, 6, 11, 0, 0))
    unknown = zone_from_row(row(2, active=False))            # no time known: never counts
    assert unknown.retired_ms is None and not active(unknown, ms(2026, 6, 1, 0, 0))
    index = ZoneIndex([gone, unknown])
    assert [z.id for z in index.containing(114.305, 30.585, ms(2026, 6, 9, 22, 0), 12)] == [1]
    assert index.containing(114.305, 30.585, ms(2026, 6, 10, 10, 0), 12) == []
    assert index.containing_many([114.305], [30.585], ms(2026, 6, 12, 0, 0)) == [[]]
    assert gone.to_json()["retired_ms"] == gone.retired_ms


def test_the_index_answers_like_plain_shapely():
    rng = np.random.default_rng(5)
    rows = [circle_row(i, (114.3 + rng.uniform(-0.05, 0.05), 30.6 + rng.uniform(-0.05, 0.05)),
                       rng.uniform(50, 800)) for i in range(1, 200)]
    rows.append(row(500, geojson={"type": "Polygon", "coordinates": [[
        [114.25, 30.55], [114.35, 30.55], [114.35, 30.65], [114.25, 30.55]]]}))
    zones = [zone_from_row(r) for r in rows]
    index = ZoneIndex(zones)
    lons = 114.3 + rng.uniform(-0.06, 0.06, 3000)
    lats = 30.6 + rng.uniform(-0.06, 0.06, 3000)
    many = index.containing_many(lons, lats)
    grid_pairs, tree_pairs = index.containing_pairs(lons, lats), index.containing_pairs_strtree(lons, lats)
    assert all(np.array_equal(a, b) for a, b in zip(grid_pairs, tree_pairs, strict=True))
    hits = 0
    for lon, lat, found in zip(lons, lats, many, strict=True):
        naive = [z.id for z in zones if z.geometry.covers(shapely.Point(lon, lat))]
        assert found == naive
        assert [z.id for z in index.containing(lon, lat)] == naive
        hits += bool(naive)
    assert hits > 300


def test_the_permitted_area_defaults_to_the_city_boundary():
    boundary = zone_from_row(row(1, purpose="city_boundary", category=None, city_code="420100"))
    other = zone_from_row(row(2, purpose="city_boundary", category=None, city_code="420200"))
    assert permitted_area([boundary, other], "420100") == [boundary]
    wider = zone_from_row(row(3, purpose="permitted_area", category=None, city_code="420700",
                              applies_to="vehicle", vehicle_id=7))
    assert permitted_area([boundary, other, wider], "420100", 7) == [boundary, wider]
    assert permitted_area([boundary, other, wider], "420100", 8) == [boundary]


def test_windows_and_descriptions_are_checked():
    with pytest.raises(ValueError):
        parse_time_windows([{"weekdays": [0], "from": "08:00", "to": "09:00"}])
    with pytest.raises(ValueError):
        parse_time_windows([{"from": "8:60", "to": "09:00"}])
    with pytest.raises(ValueError):
        parse_time_windows([{"from": "24:00", "to": "01:00"}])
    fields, problems = zone_fields({"shape": "circle", "purpose": "service_site",
                                    "category": "fuel", "centre": [114.3, 30.6], "radius_m": 60})
    assert problems == [] and fields["radius_m"] == 60
    assert len(fields["geojson"]["coordinates"][0]) == 49
    _, problems = zone_fields({"shape": "polygon", "purpose": "speed_zone",
                               "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
                               "speed_limit_kmh": 3, "valid_from": "2026-13-01"})
    assert {p.code for p in problems} == {"bad_speed_limit", "bad_date"}
