"""Consistency checks of a parsed scenario: references, uniqueness, enums and geometry.

The first problem found raises ``ScenarioError`` naming the entry ("vehicle 鄂A·12345: ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import combinations

from shapely import Point, Polygon

from fleet.scenario.errors import ScenarioError
from fleet.scenario.geo import distance_m
from fleet.scenario.model import (
    CAR_LEVELS,
    CHARTER_MODES,
    CHARTER_TYPES,
    ENERGY_TYPES,
    ORG_KINDS,
    PLACE_KINDS,
    SENSITIVE_CATEGORIES,
    USE_CATEGORIES,
    VEHICLE_SOURCES,
    ZONE_PURPOSES,
    Ring,
    Scenario,
    Vehicle,
    boundary_geofence_code,
    lot_geofence_code,
)

# 鄂A·12345 (fuel), 鄂A·D12345 / 鄂A·F12345 (small new-energy), 鄂A·12345D (large new-energy).
PLATE_RE = re.compile(r"^(?P<prefix>[\u4e00-\u9fff][A-Z])·(?P<body>[A-HJ-NP-Z0-9]{5,6})$")
NEV_BODY_RE = re.compile(r"^(?:[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])$")
DEVICE_UID_RE = re.compile(r"^\d{12}$")
MOBILE_RE = re.compile(r"^1\d{10}$")
LOT_SIZE_M = (20.0, 400.0)  # a designated lot is tens of metres across, not a district


def validate_scenario(s: Scenario) -> None:
    _unique("city", (c.code for c in s.cities))
    _unique("organisation", (o.code for o in s.organisations))
    _unique("depot", (d.code for d in s.depots))
    _unique("rental company", (c.code for c in s.rental_companies))
    _unique("vehicle plate", (v.plate for v in s.vehicles))
    _unique("device uid", (v.device.uid for v in s.vehicles if v.device is not None))
    _unique("driver", (d.code for d in s.drivers))
    _unique("driver phone", (d.phone for d in s.drivers))
    _unique("place", (p.code for p in s.places))
    _unique("road", (r.code for r in s.roads))
    _unique(
        "geofence",
        [boundary_geofence_code(c) for c in s.cities]
        + [lot_geofence_code(d) for d in s.depots]
        + [z.code for z in s.zones],
    )
    _check_cities(s)
    _check_organisations(s)
    _check_depots(s)
    _check_companies(s)
    for vehicle in s.vehicles:
        _check_vehicle(s, vehicle)
    _check_drivers(s)
    _check_zones(s)
    _check_places_and_roads(s)


def _unique(what: str, keys: Iterable[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ScenarioError(f"{what} {key}: duplicate")
        seen.add(key)


def _polygon(name: str, ring: Ring) -> Polygon:
    if len(ring) < 4:
        raise ScenarioError(
            f"{name}: a polygon needs at least 3 distinct points and a closing point"
        )
    if ring[0] != ring[-1]:
        raise ScenarioError(f"{name}: polygon is not closed (the last point must repeat the first)")
    polygon = Polygon(ring)
    if not polygon.is_valid or polygon.area <= 0:
        raise ScenarioError(f"{name}: polygon is not valid (self-intersecting or empty)")
    return polygon


def _check_cities(s: Scenario) -> None:
    shapes = {}
    for city in s.cities:
        name = f"city {city.code}"
        boundary = _polygon(f"{name} boundary", city.boundary)
        if not boundary.contains(Point(city.centre)):
            raise ScenarioError(f"{name}: centre {city.centre} is outside its boundary")
        shapes[city.code] = boundary
    for (a, pa), (b, pb) in combinations(shapes.items(), 2):
        # Shared edges are fine; a real overlap is not (tolerance: 0.1 % of the smaller city).
        if pa.intersection(pb).area > 0.001 * min(pa.area, pb.area):
            raise ScenarioError(f"city {a}: boundary overlaps city {b}")


def _check_organisations(s: Scenario) -> None:
    orgs = s.org_by_code
    roots = [o.code for o in s.organisations if o.parent_code is None]
    if len(roots) != 1:
        raise ScenarioError(f"organisations: exactly one root expected, found {roots}")
    for org in s.organisations:
        name = f"organisation {org.code}"
        if org.kind not in ORG_KINDS:
            raise ScenarioError(f"{name}: kind '{org.kind}' is not one of {ORG_KINDS}")
        if org.parent_code is not None and org.parent_code not in orgs:
            raise ScenarioError(f"{name}: parent '{org.parent_code}' does not exist")
        if org.city_code is not None and org.city_code not in s.city_by_code:
            raise ScenarioError(f"{name}: city '{org.city_code}' does not exist")
        if org.kind != "province" and org.city_code is None:
            raise ScenarioError(f"{name}: a {org.kind} needs a city")
        seen = {org.code}
        parent = org.parent_code
        while parent is not None:
            if parent in seen:
                raise ScenarioError(f"{name}: the parent chain loops through '{parent}'")
            seen.add(parent)
            parent = orgs[parent].parent_code


def _check_depots(s: Scenario) -> None:
    for depot in s.depots:
        name = f"depot {depot.code}"
        city = s.city_by_code.get(depot.city_code)
        if city is None:
            raise ScenarioError(f"{name}: city '{depot.city_code}' does not exist")
        org = s.org_by_code.get(depot.org_code)
        if org is None:
            raise ScenarioError(f"{name}: organisation '{depot.org_code}' does not exist")
        lot = _polygon(f"{name} lot", depot.lot)
        if not lot.contains(Point(depot.location)):
            raise ScenarioError(f"{name}: location {depot.location} is outside its lot")
        minx, miny, maxx, maxy = lot.bounds
        across_m = distance_m((minx, miny), (maxx, maxy))
        if not LOT_SIZE_M[0] <= across_m <= LOT_SIZE_M[1]:
            raise ScenarioError(f"{name}: lot is {across_m:.0f} m across, expected {LOT_SIZE_M} m")
        if not Polygon(city.boundary).contains(lot):
            raise ScenarioError(f"{name}: lot is not inside the boundary of city {city.code}")


def _check_companies(s: Scenario) -> None:
    for company in s.rental_companies:
        name = f"rental company {company.code}"
        for code in company.service_city_codes:
            if code not in s.city_by_code:
                raise ScenarioError(f"{name}: service city '{code}' does not exist")
        if company.contract_end <= company.contract_start:
            raise ScenarioError(f"{name}: contract ends before it starts")
        keys = set()
        for plan in company.price_plans:
            key = (plan.car_level, plan.charter_type, plan.mode)
            pname = f"{name} price plan {'/'.join(key)}"
            if key in keys:
                raise ScenarioError(f"{pname}: duplicate")
            keys.add(key)
            for value, allowed in zip(key, (CAR_LEVELS, CHARTER_TYPES, CHARTER_MODES), strict=True):
                if value not in allowed:
                    raise ScenarioError(f"{pname}: '{value}' is not one of {allowed}")
            if plan.base_price_cny < 0 or plan.included_hours <= 0:
                raise ScenarioError(f"{pname}: price and included hours must be positive")


def _check_vehicle(s: Scenario, v: Vehicle) -> None:
    name = f"vehicle {v.plate}"

    def fail(message: str) -> ScenarioError:
        return ScenarioError(f"{name}: {message}")

    for field, value, allowed in (
        ("source", v.source, VEHICLE_SOURCES),
        ("use", v.use_category, USE_CATEGORIES),
        ("level", v.car_level, CAR_LEVELS),
        ("energy", v.energy_type, ENERGY_TYPES),
        ("marking", v.marking, ("painted", "exempt")),
    ):
        if value not in allowed:
            raise fail(f"{field} '{value}' is not one of {allowed}")
    city = s.city_by_code.get(v.city_code)
    if city is None:
        raise fail(f"city '{v.city_code}' does not exist")
    depot = s.depot_by_code.get(v.depot_code)
    if depot is None:
        raise fail(f"depot '{v.depot_code}' does not exist")
    if depot.city_code != v.city_code:
        raise fail(f"depot '{v.depot_code}' is in city {depot.city_code}, not {v.city_code}")
    if v.owner_org_code not in s.org_by_code:
        raise fail(f"organisation '{v.owner_org_code}' does not exist")
    if (v.source == "leased") != (v.rental_company_code is not None):
        raise fail("a leased vehicle needs a rental company, and only a leased one")
    if v.rental_company_code is not None:
        company = s.company_by_code.get(v.rental_company_code)
        if company is None:
            raise fail(f"rental company '{v.rental_company_code}' does not exist")
        if v.city_code not in company.service_city_codes:
            raise fail(f"rental company '{company.code}' does not serve city {v.city_code}")
    if not 2 <= v.seats <= 60:
        raise fail(f"seats {v.seats} out of 2..60")
    _check_energy(v, fail)
    match = PLATE_RE.match(v.plate)
    if match is None:
        raise fail("plate must look like 鄂A·12345 (new energy 鄂A·D12345)")
    if match["prefix"] != city.plate_prefix:
        raise fail(
            f"plate prefix {match['prefix']} does not match city {city.code} ({city.plate_prefix})"
        )
    body = match["body"]
    if (v.energy_type != "fuel") != bool(NEV_BODY_RE.match(body)):
        raise fail("new-energy vehicles (and only they) carry a 6-character D/F plate")
    marker = body[0] if body[0] in "DF" else body[-1]
    if v.energy_type != "fuel" and (marker == "D") != (v.energy_type == "bev"):
        raise fail("battery-electric plates carry D, plug-in hybrid plates F")
    if v.device is None:
        # Only a leased car may come without a terminal: the driver's phone reports for it
        # while it serves a platform order; an own car is watched all the time (domain.md §6).
        if v.source != "leased":
            raise fail("needs a device (only leased cars may have none)")
        return
    if not DEVICE_UID_RE.match(v.device.uid):
        raise fail(f"device uid '{v.device.uid}' must be 12 digits")
    if not 1 <= v.device.report_interval_s <= 3600:
        raise fail(f"device report interval {v.device.report_interval_s} s out of 1..3600")


def _check_energy(v: Vehicle, fail: Callable[[str], ScenarioError]) -> None:
    has_tank = v.tank_l is not None and v.tank_l > 0
    has_battery = v.battery_kwh is not None and v.battery_kwh > 0
    has_range = v.range_km is not None and v.range_km > 0
    needs = {"fuel": (True, False), "bev": (False, True), "phev": (True, True)}[v.energy_type]
    if has_tank != needs[0]:
        raise fail(f"a {v.energy_type} vehicle {'needs' if needs[0] else 'has no'} tank_l")
    if has_battery != needs[1] or (needs[1] and not has_range):
        raise fail(
            f"a {v.energy_type} vehicle "
            f"{'needs battery_kwh and range_km' if needs[1] else 'has no battery_kwh'}"
        )


def _check_drivers(s: Scenario) -> None:
    for driver in s.drivers:
        name = f"driver {driver.code}"
        if driver.org_code not in s.org_by_code:
            raise ScenarioError(f"{name}: organisation '{driver.org_code}' does not exist")
        if driver.city_code not in s.city_by_code:
            raise ScenarioError(f"{name}: city '{driver.city_code}' does not exist")
        if driver.rental_company_code and driver.rental_company_code not in s.company_by_code:
            raise ScenarioError(
                f"{name}: rental company '{driver.rental_company_code}' does not exist"
            )
        if not MOBILE_RE.match(driver.phone):
            raise ScenarioError(f"{name}: phone '{driver.phone}' is not an 11-digit mobile number")


def _check_zones(s: Scenario) -> None:
    for zone in s.zones:
        name = f"zone {zone.code}"
        if zone.purpose not in ZONE_PURPOSES:
            raise ScenarioError(f"{name}: purpose '{zone.purpose}' is not one of {ZONE_PURPOSES}")
        if zone.purpose == "sensitive_place" and zone.category not in SENSITIVE_CATEGORIES:
            raise ScenarioError(
                f"{name}: category '{zone.category}' is not one of {SENSITIVE_CATEGORIES}"
            )
        if zone.city_code is not None and zone.city_code not in s.city_by_code:
            raise ScenarioError(f"{name}: city '{zone.city_code}' does not exist")
        if zone.polygon is not None:
            _polygon(name, zone.polygon)
        elif zone.radius_m is None or zone.radius_m <= 0:
            raise ScenarioError(f"{name}: circle radius must be positive")


def _check_places_and_roads(s: Scenario) -> None:
    boundaries = {c.code: Polygon(c.boundary) for c in s.cities}
    for place in s.places:
        name = f"place {place.code}"
        if place.city_code not in boundaries:
            raise ScenarioError(f"{name}: city '{place.city_code}' does not exist")
        if place.kind not in PLACE_KINDS:
            raise ScenarioError(f"{name}: kind '{place.kind}' is not one of {PLACE_KINDS}")
        if not boundaries[place.city_code].contains(Point(place.location)):
            raise ScenarioError(f"{name}: {place.location} is outside city {place.city_code}")
    for road in s.roads:
        name = f"road {road.code}"
        for end, code, point in (
            ("from", road.from_city_code, road.points[0]),
            ("to", road.to_city_code, road.points[-1]),
        ):
            if code not in boundaries:
                raise ScenarioError(f"{name}: {end} city '{code}' does not exist")
            if not boundaries[code].contains(Point(point)):
                raise ScenarioError(f"{name}: its {end} end {point} is outside city {code}")
        if len(road.points) < 2 or road.from_city_code == road.to_city_code:
            raise ScenarioError(f"{name}: needs two or more points between two different cities")
