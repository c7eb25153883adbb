"""The scenario: the static world the platform is seeded with and the simulator drives in.

Plain frozen dataclasses, no I/O. Every point is ``(lon, lat)`` in WGS-84 (GeoJSON order);
every polygon is a closed ring (the last point repeats the first). Codes are the natural keys
the seed upserts by: city and organisation codes follow GB/T 2260 where one exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Literal

LonLat = tuple[float, float]
Ring = tuple[LonLat, ...]

OrgKind = Literal["province", "city", "district", "unit", "platform"]
VehicleSource = Literal["platform", "entrusted", "unit_retained", "leased"]
UseCategory = Literal[
    "confidential", "emergency", "law_enforcement", "special_technical", "general"
]
CarLevel = Literal["sedan", "business", "minibus", "bus"]
EnergyType = Literal["fuel", "bev", "phev"]
CharterType = Literal["trip", "half_day", "full_day", "multi_day"]
CharterMode = Literal["with_driver", "car_only"]
ZonePurpose = Literal["sensitive_place", "service_site", "forbidden_zone", "speed_zone"]

ORG_KINDS = ("province", "city", "district", "unit", "platform")
VEHICLE_SOURCES = ("platform", "entrusted", "unit_retained", "leased")
USE_CATEGORIES = ("confidential", "emergency", "law_enforcement", "special_technical", "general")
CAR_LEVELS = ("sedan", "business", "minibus", "bus")
ENERGY_TYPES = ("fuel", "bev", "phev")
CHARTER_TYPES = ("trip", "half_day", "full_day", "multi_day")
CHARTER_MODES = ("with_driver", "car_only")
ZONE_PURPOSES = ("sensitive_place", "service_site", "forbidden_zone", "speed_zone")
SENSITIVE_CATEGORIES = ("entertainment", "club_hotel", "scenic_area", "golf_resort")
PLACE_KINDS = ("government", "hospital", "railway_station", "airport", "conference", "other")


@dataclass(frozen=True)
class City:
    code: str  # GB/T 2260, e.g. 420100 武汉
    name_zh: str
    name_en: str
    plate_prefix: str  # 鄂A
    centre: LonLat
    boundary: Ring  # simplified prefecture boundary


@dataclass(frozen=True)
class Organisation:
    code: str
    kind: OrgKind
    name_zh: str
    name_en: str
    parent_code: str | None
    city_code: str | None


@dataclass(frozen=True)
class Depot:
    """A platform motor pool (车队) and its designated parking lot (定点停放)."""

    code: str
    city_code: str
    org_code: str
    name_zh: str
    name_en: str
    location: LonLat
    lot: Ring


@dataclass(frozen=True)
class DeviceInfo:
    uid: str  # 12-digit terminal number, the {uid} of fleet/v1/devices/{uid}/...
    model: str
    report_interval_s: int


@dataclass(frozen=True)
class Vehicle:
    plate: str  # 鄂A·12345, new energy 鄂A·D12345
    source: VehicleSource
    use_category: UseCategory
    seats: int
    car_level: CarLevel
    energy_type: EnergyType
    brand_model: str
    city_code: str
    depot_code: str
    owner_org_code: str
    # The GPS terminal. Only a leased car may have none: while under a platform order its
    # driver's phone stands in for it (a devices row of kind 'phone', made on first use).
    device: DeviceInfo | None
    rental_company_code: str | None = None
    tank_l: float | None = None
    battery_kwh: float | None = None
    range_km: float | None = None  # electric range (BEV, PHEV)
    marking: Literal["painted", "exempt"] = "painted"


@dataclass(frozen=True)
class Driver:
    code: str
    name: str
    phone: str
    license_class: str
    org_code: str
    city_code: str
    rental_company_code: str | None = None


@dataclass(frozen=True)
class PricePlan:
    car_level: CarLevel
    charter_type: CharterType  # multi_day: price and inclusions per day
    mode: CharterMode
    base_price_cny: Decimal
    included_hours: Decimal
    included_km: int
    overtime_cny_per_h: Decimal
    over_km_cny_per_km: Decimal
    night_surcharge_cny: Decimal
    out_of_town_cny_per_day: Decimal
    late_penalty_cny: Decimal = Decimal(0)  # SLA: per arrival > 15 min late (the contract's)


@dataclass(frozen=True)
class RentalCompany:
    code: str
    name_zh: str
    name_en: str
    contract_no: str
    contract_start: date
    contract_end: date
    service_city_codes: tuple[str, ...]
    accept_timeout_s: int
    price_plans: tuple[PricePlan, ...]


@dataclass(frozen=True)
class Zone:
    """A geofence other than lots and city boundaries: a polygon, or a circle (centre, radius_m)."""

    code: str
    purpose: ZonePurpose
    category: str | None  # sensitive place: entertainment, club_hotel ...; site: fuel, repair ...
    city_code: str | None
    name_zh: str
    name_en: str
    polygon: Ring | None = None
    centre: LonLat | None = None
    radius_m: float | None = None

    @property
    def shape(self) -> Literal["polygon", "circle"]:
        return "polygon" if self.polygon is not None else "circle"


@dataclass(frozen=True)
class Place:
    """A named destination the simulator drives to (government office, station, hospital ...)."""

    code: str
    city_code: str
    kind: str
    name_zh: str
    name_en: str
    location: LonLat


@dataclass(frozen=True)
class Road:
    """A simplified intercity expressway, driven in either direction."""

    code: str
    from_city_code: str
    to_city_code: str
    name_zh: str
    name_en: str
    points: tuple[LonLat, ...]


@dataclass(frozen=True)
class Scenario:
    name: str
    cities: tuple[City, ...]
    organisations: tuple[Organisation, ...]
    depots: tuple[Depot, ...]
    rental_companies: tuple[RentalCompany, ...]
    vehicles: tuple[Vehicle, ...]
    drivers: tuple[Driver, ...]
    zones: tuple[Zone, ...] = ()
    places: tuple[Place, ...] = ()
    roads: tuple[Road, ...] = ()
    timezone: str = field(default="Asia/Shanghai")

    # Lookups by natural key. cached_property writes the instance __dict__ directly, which a
    # frozen dataclass allows.
    @cached_property
    def city_by_code(self) -> dict[str, City]:
        return {c.code: c for c in self.cities}

    @cached_property
    def org_by_code(self) -> dict[str, Organisation]:
        return {o.code: o for o in self.organisations}

    @cached_property
    def depot_by_code(self) -> dict[str, Depot]:
        return {d.code: d for d in self.depots}

    @cached_property
    def company_by_code(self) -> dict[str, RentalCompany]:
        return {c.code: c for c in self.rental_companies}

    @cached_property
    def vehicle_by_plate(self) -> dict[str, Vehicle]:
        return {v.plate: v for v in self.vehicles}

    @cached_property
    def place_by_code(self) -> dict[str, Place]:
        return {p.code: p for p in self.places}

    def places_in(self, city_code: str) -> tuple[Place, ...]:
        return tuple(p for p in self.places if p.city_code == city_code)


def lot_geofence_code(depot: Depot) -> str:
    """Natural key of a depot's designated-lot geofence."""
    return f"LOT-{depot.code}"


def boundary_geofence_code(city: City) -> str:
    """Natural key of a city's boundary geofence."""
    return f"BOUNDARY-{city.code}"
