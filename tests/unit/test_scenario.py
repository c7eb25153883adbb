"""The bundled Wuhan-circle scenario and the loader's validation."""

from __future__ import annotations

import copy
from collections import Counter
from importlib import resources
from typing import Any

import pytest
import yaml
from shapely import Point, Polygon

from fleet.scenario.geo import distance_m
from fleet.scenario.load import ScenarioError, load_scenario, parse_scenario

CITY_CODES = {
    "420100",
    "420200",
    "420700",
    "420900",
    "421100",
    "421200",
    "429004",
    "429005",
    "429006",
}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


@pytest.fixture(scope="module")
def raw_yaml() -> dict[str, Any]:
    text = resources.files("fleet.scenario").joinpath("wuhan.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@pytest.fixture
def raw(raw_yaml) -> dict[str, Any]:
    return copy.deepcopy(raw_yaml)


def test_bundled_scenario_has_the_nine_cities_and_about_200_vehicles(scenario):
    assert {c.code for c in scenario.cities} == CITY_CODES
    assert 190 <= len(scenario.vehicles) <= 210
    per_city = Counter(v.city_code for v in scenario.vehicles)
    assert set(per_city) == CITY_CODES
    assert per_city["420100"] >= 60
    assert all(10 <= n <= 25 for code, n in per_city.items() if code != "420100")


def test_every_source_energy_and_use_category_is_present(scenario):
    assert {v.source for v in scenario.vehicles} == {
        "platform",
        "entrusted",
        "unit_retained",
        "leased",
    }
    assert {v.energy_type for v in scenario.vehicles} == {"fuel", "bev", "phev"}
    assert {v.use_category for v in scenario.vehicles} == {
        "confidential",
        "emergency",
        "law_enforcement",
        "special_technical",
        "general",
    }
    for v in scenario.vehicles:
        if v.energy_type != "fuel":
            assert v.battery_kwh and v.range_km, v.plate
            assert len(v.plate.split("·")[1]) == 6, v.plate  # new-energy plate
        if v.source == "leased":
            company = scenario.company_by_code[v.rental_company_code]
            assert v.city_code in company.service_city_codes


def test_plates_devices_and_drivers(scenario):
    prefixes = {c.code: c.plate_prefix for c in scenario.cities}
    assert (
        prefixes["420100"] == "鄂A" and prefixes["421100"] == "鄂J" and prefixes["429006"] == "鄂R"
    )
    for v in scenario.vehicles:
        assert v.plate.startswith(prefixes[v.city_code] + "·"), v.plate
        if v.device is not None:
            assert len(v.device.uid) == 12 and v.device.uid.isdigit()
    # a few leased cars have no terminal: their drivers' phones report for them
    bare = [v for v in scenario.vehicles if v.device is None]
    assert 2 <= len(bare) <= 3 and all(v.source == "leased" for v in bare)
    non_leased = sum(v.source != "leased" for v in scenario.vehicles)
    own_drivers = [d for d in scenario.drivers if d.rental_company_code is None]
    assert abs(len(own_drivers) - non_leased) <= 10


def test_depots_lie_in_their_lot_and_city(scenario):
    assert len(scenario.depots) == 9
    for depot in scenario.depots:
        lot = Polygon(depot.lot)
        assert lot.contains(Point(depot.location)), depot.code
        city = scenario.city_by_code[depot.city_code]
        assert Polygon(city.boundary).contains(lot), depot.code
        minx, miny, maxx, maxy = lot.bounds
        assert 60 <= distance_m((minx, miny), (maxx, maxy)) <= 150, depot.code


def test_city_boundaries_are_plausible(scenario):
    shapes = {c.code: Polygon(c.boundary) for c in scenario.cities}
    for city in scenario.cities:
        assert 8 <= len(city.boundary) - 1 <= 20, city.code
        assert shapes[city.code].contains(Point(city.centre)), city.code
    minx, miny, maxx, maxy = shapes["420100"].bounds
    assert 113.6 < minx < 113.8 and 115.0 < maxx < 115.2
    assert 29.9 < miny < 30.05 and 31.3 < maxy < 31.45
    # neighbours share edges, nobody overlaps
    assert shapes["420100"].boundary.intersection(shapes["420700"].boundary).length > 0.1
    assert shapes["429004"].boundary.intersection(shapes["429005"].boundary).length > 0.1
    assert shapes["420100"].intersection(shapes["421100"]).area < 1e-9


def test_places_zones_roads_and_price_plans(scenario):
    for code in CITY_CODES:
        assert 5 <= len(scenario.places_in(code)) <= 11, code
    assert any(p.kind == "airport" and "天河" in p.name_zh for p in scenario.places)
    sensitive = [z for z in scenario.zones if z.purpose == "sensitive_place"]
    assert 6 <= len(sensitive) <= 10
    assert {z.shape for z in sensitive} == {"polygon", "circle"}
    assert any(z.purpose == "service_site" for z in scenario.zones)
    linked = {r.to_city_code for r in scenario.roads if r.from_city_code == "420100"}
    assert linked == CITY_CODES - {"420100"}
    assert len(scenario.rental_companies) == 3
    for company in scenario.rental_companies:
        assert len(company.price_plans) == 4 * 4 * 2
        trip = next(
            p
            for p in company.price_plans
            if (p.car_level, p.charter_type, p.mode) == ("sedan", "trip", "with_driver")
        )
        day = next(
            p
            for p in company.price_plans
            if (p.car_level, p.charter_type, p.mode) == ("sedan", "full_day", "with_driver")
        )
        assert 100 <= trip.base_price_cny < day.base_price_cny <= 1500


def _vehicle(raw: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return raw["vehicles"][index]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: _vehicle(r).update(depot="DEP-NOPE"), "depot 'DEP-NOPE' does not exist"),
        (lambda r: _vehicle(r).update(city="429999"), "city '429999' does not exist"),
        (lambda r: _vehicle(r).update(org="NO-ORG"), "organisation 'NO-ORG' does not exist"),
        (lambda r: _vehicle(r).update(source="leased"), "needs a rental company"),
        (
            lambda r: _vehicle(r).update(source="leased", company="RC-NOPE"),
            "'RC-NOPE' does not exist",
        ),
        (lambda r: _vehicle(r).update(use="private"), "use 'private' is not one of"),
        (lambda r: _vehicle(r).update(plate="鄂B·12345"), "does not match city 420100"),
        (lambda r: _vehicle(r)["device"].update(uid="12AB"), "must be 12 digits"),
    ],
)
def test_invalid_vehicle_references_name_the_vehicle(raw, mutate, expected):
    plate = _vehicle(raw)["plate"]
    mutate(raw)
    with pytest.raises(ScenarioError) as error:
        parse_scenario(raw)
    message = str(error.value)
    assert expected in message
    assert plate in message or "鄂B·12345" in message


def test_only_a_leased_car_may_have_no_device(raw):
    leased = next(v for v in raw["vehicles"] if v["source"] == "leased" and "device" in v)
    del leased["device"]
    parse_scenario(raw)  # fine: its driver's phone stands in
    own = _vehicle(raw)
    assert own["source"] != "leased"
    del own["device"]
    with pytest.raises(ScenarioError, match=f"vehicle {own['plate']}: needs a device"):
        parse_scenario(raw)


def test_duplicate_plate_and_uid_are_refused(raw):
    duplicate = copy.deepcopy(_vehicle(raw, 0))
    raw["vehicles"].append(duplicate)
    with pytest.raises(ScenarioError, match=f"vehicle plate {duplicate['plate']}: duplicate"):
        parse_scenario(raw)
    duplicate["plate"] = "鄂A·99999"
    with pytest.raises(ScenarioError, match=f"device uid {duplicate['device']['uid']}: duplicate"):
        parse_scenario(raw)


def test_geometry_errors_name_the_entry(raw):
    depot = raw["depots"][0]
    depot["location"] = [depot["location"][0] + 0.01, depot["location"][1]]
    with pytest.raises(ScenarioError, match=f"depot {depot['code']}: location .* outside its lot"):
        parse_scenario(raw)


def test_unclosed_polygon_and_misplaced_place(raw_yaml):
    raw = copy.deepcopy(raw_yaml)
    raw["cities"][1]["boundary"] = raw["cities"][1]["boundary"][:-1]
    with pytest.raises(ScenarioError, match=r"city 420200 boundary: polygon is not closed"):
        parse_scenario(raw)
    raw = copy.deepcopy(raw_yaml)
    place = raw["places"][0]
    place["at"] = [116.5, 29.0]  # far outside Wuhan
    with pytest.raises(ScenarioError, match=f"place {place['code']}: .* outside city 420100"):
        parse_scenario(raw)


def test_organisation_with_missing_parent_is_named(raw):
    raw["organisations"][3]["parent"] = "999999"
    code = raw["organisations"][3]["code"]
    with pytest.raises(ScenarioError, match=f"organisation {code}: parent '999999' does not exist"):
        parse_scenario(raw)


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")
