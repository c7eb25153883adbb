"""Reads a scenario YAML file into the model and validates it.

``load_scenario()`` with no path reads the bundled Wuhan-circle scenario (wuhan.yaml). Every
problem raises ``ScenarioError`` naming the offending entry, e.g.
``vehicle 鄂A·12345: depot 'DEP-999' does not exist``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from fleet.scenario.errors import ScenarioError
from fleet.scenario.model import (
    City,
    Depot,
    DeviceInfo,
    Driver,
    LonLat,
    Organisation,
    Place,
    PricePlan,
    RentalCompany,
    Ring,
    Road,
    Scenario,
    Vehicle,
    Zone,
)
from fleet.scenario.validate import validate_scenario

__all__ = ["ScenarioError", "load_scenario", "parse_scenario"]

T = TypeVar("T")
# libyaml's safe loader when PyYAML was built with it: 8x faster on the 800-line scenario.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_scenario(path: Path | None = None) -> Scenario:
    """The scenario in ``path`` (default: the bundled wuhan.yaml), parsed and validated."""
    if path is None:
        text = resources.files("fleet.scenario").joinpath("wuhan.yaml").read_text("utf-8")
        source = "wuhan.yaml (bundled)"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario file {path}: {exc}") from exc
        source = str(path)
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the top level must be a mapping")
    return parse_scenario(data)


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """A validated scenario from the YAML document's structure (also handy in tests)."""
    scenario = Scenario(
        name=str(data.get("name", "scenario")),
        timezone=str(data.get("timezone", "Asia/Shanghai")),
        cities=_each(data, "cities", "city", "code", _city),
        organisations=_each(data, "organisations", "organisation", "code", _organisation),
        depots=_each(data, "depots", "depot", "code", _depot),
        rental_companies=_each(data, "rental_companies", "rental company", "code", _company),
        vehicles=_each(data, "vehicles", "vehicle", "plate", _vehicle),
        drivers=_each(data, "drivers", "driver", "code", _driver),
        zones=_each(data, "zones", "zone", "code", _zone, required=False),
        places=_each(data, "places", "place", "code", _place, required=False),
        roads=_each(data, "roads", "road", "code", _road, required=False),
    )
    validate_scenario(scenario)
    return scenario


def _each(
    data: Mapping[str, Any],
    key: str,
    what: str,
    id_key: str,
    build: Callable[[_Entry], T],
    *,
    required: bool = True,
) -> tuple[T, ...]:
    items = data.get(key)
    if items is None and not required:
        return ()
    if not isinstance(items, list) or (required and not items):
        raise ScenarioError(f"'{key}' must be a non-empty list")
    built = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ScenarioError(f"{what} #{index + 1}: must be a mapping")
        name = f"{what} {item.get(id_key, f'#{index + 1}')}"
        built.append(build(_Entry(item, name)))
    return tuple(built)


class _Entry:
    """One YAML mapping plus its name, so that every error names the entry."""

    def __init__(self, raw: Mapping[str, Any], name: str) -> None:
        self.raw = raw
        self.name = name

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(f"{self.name}: {message}")

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None or value == "":
            raise self.error(f"missing '{key}'")
        return str(value)

    def opt_text(self, key: str) -> str | None:
        value = self.raw.get(key)
        return None if value is None else str(value)

    def num(self, key: str, *, default: float | None = None) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"'{key}' must be a number, got {value!r}")
        return float(value)

    def opt_num(self, key: str) -> float | None:
        return None if self.raw.get(key) is None else self.num(key)

    def money(self, key: str, default: float | None = None) -> Decimal:
        return Decimal(str(self.num(key, default=default)))

    def day(self, key: str) -> date:
        value = self.raw.get(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise self.error(f"'{key}' must be a date (YYYY-MM-DD), got {value!r}") from exc

    def point(self, key: str) -> LonLat:
        return self._point(self.raw.get(key), key)

    def _point(self, value: Any, key: str) -> LonLat:
        if (
            not isinstance(value, list | tuple)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise self.error(f"'{key}' must be a [lon, lat] pair, got {value!r}")
        lon, lat = float(value[0]), float(value[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise self.error(f"'{key}' point {value!r} is out of range (is it [lon, lat]?)")
        return (lon, lat)

    def points(self, key: str, value: Any = None) -> Ring:
        value = self.raw.get(key) if value is None else value
        if not isinstance(value, list) or not value:
            raise self.error(f"'{key}' must be a list of [lon, lat] points")
        return tuple(self._point(p, key) for p in value)

    def child(self, key: str) -> _Entry:
        value = self.raw.get(key)
        if not isinstance(value, dict):
            raise self.error(f"'{key}' must be a mapping")
        return _Entry(value, f"{self.name} {key}")


def _city(e: _Entry) -> City:
    return City(
        code=e.text("code"),
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        plate_prefix=e.text("plate_prefix"),
        centre=e.point("centre"),
        boundary=e.points("boundary"),
    )


def _organisation(e: _Entry) -> Organisation:
    return Organisation(
        code=e.text("code"),
        kind=e.text("kind"),  # type: ignore[arg-type]  # checked by validate
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        parent_code=e.opt_text("parent"),
        city_code=e.opt_text("city"),
    )


def _depot(e: _Entry) -> Depot:
    return Depot(
        code=e.text("code"),
        city_code=e.text("city"),
        org_code=e.text("org"),
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        location=e.point("location"),
        lot=e.points("lot"),
    )


def _price_plan(e: _Entry, late_penalty_cny: Decimal) -> PricePlan:
    return PricePlan(
        car_level=e.text("level"),  # type: ignore[arg-type]
        charter_type=e.text("charter"),  # type: ignore[arg-type]
        mode=e.text("mode"),  # type: ignore[arg-type]
        base_price_cny=e.money("base_cny"),
        included_hours=e.money("included_hours"),
        included_km=int(e.num("included_km")),
        overtime_cny_per_h=e.money("overtime_cny_h"),
        over_km_cny_per_km=e.money("over_km_cny"),
        night_surcharge_cny=e.money("night_cny", 0),
        out_of_town_cny_per_day=e.money("out_of_town_cny_day", 0),
        late_penalty_cny=e.money("late_penalty_cny", float(late_penalty_cny)),
    )


def _company(e: _Entry) -> RentalCompany:
    cities = e.raw.get("service_cities")
    if not isinstance(cities, list) or not cities:
        raise e.error("'service_cities' must be a non-empty list of city codes")
    plans = e.raw.get("price_plans") or []
    if not isinstance(plans, list):
        raise e.error("'price_plans' must be a list")
    return RentalCompany(
        code=e.text("code"),
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        contract_no=e.text("contract_no"),
        contract_start=e.day("contract_start"),
        contract_end=e.day("contract_end"),
        service_city_codes=tuple(str(c) for c in cities),
        accept_timeout_s=int(e.num("accept_timeout_s", default=600)),
        price_plans=tuple(
            _price_plan(_Entry(p, f"{e.name} price plan #{i + 1}"), e.money("late_penalty_cny", 0))
            for i, p in enumerate(plans)
        ),
    )


def _device(e: _Entry) -> DeviceInfo | None:
    if e.raw.get("device") is None:
        return None  # validate.py allows this for leased cars only
    device = e.child("device")
    return DeviceInfo(
        uid=device.text("uid"),
        model=device.opt_text("model") or "",
        report_interval_s=int(device.num("interval_s", default=10)),
    )


def _vehicle(e: _Entry) -> Vehicle:
    return Vehicle(
        plate=e.text("plate"),
        source=e.text("source"),  # type: ignore[arg-type]
        use_category=e.text("use"),  # type: ignore[arg-type]
        seats=int(e.num("seats")),
        car_level=e.text("level"),  # type: ignore[arg-type]
        energy_type=e.text("energy"),  # type: ignore[arg-type]
        brand_model=e.opt_text("model") or "",
        city_code=e.text("city"),
        depot_code=e.text("depot"),
        owner_org_code=e.text("org"),
        rental_company_code=e.opt_text("company"),
        tank_l=e.opt_num("tank_l"),
        battery_kwh=e.opt_num("battery_kwh"),
        range_km=e.opt_num("range_km"),
        marking=e.opt_text("marking") or "painted",  # type: ignore[arg-type]
        device=_device(e),
    )


def _driver(e: _Entry) -> Driver:
    return Driver(
        code=e.text("code"),
        name=e.text("name"),
        phone=e.text("phone"),
        license_class=e.opt_text("license") or "C1",
        org_code=e.text("org"),
        city_code=e.text("city"),
        rental_company_code=e.opt_text("company"),
    )


def _zone(e: _Entry) -> Zone:
    polygon = e.points("polygon") if "polygon" in e.raw else None
    centre = radius_m = None
    if "circle" in e.raw:
        circle = e.child("circle")
        centre, radius_m = circle.point("centre"), circle.num("radius_m")
    if (polygon is None) == (centre is None):
        raise e.error("needs exactly one of 'polygon' or 'circle'")
    return Zone(
        code=e.text("code"),
        purpose=e.text("purpose"),  # type: ignore[arg-type]
        category=e.opt_text("category"),
        city_code=e.opt_text("city"),
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        polygon=polygon,
        centre=centre,
        radius_m=radius_m,
    )


def _place(e: _Entry) -> Place:
    return Place(
        code=e.text("code"),
        city_code=e.text("city"),
        kind=e.opt_text("kind") or "other",
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        location=e.point("at"),
    )


def _road(e: _Entry) -> Road:
    return Road(
        code=e.text("code"),
        from_city_code=e.text("from"),
        to_city_code=e.text("to"),
        name_zh=e.text("name_zh"),
        name_en=e.text("name_en"),
        points=e.points("points"),
    )
