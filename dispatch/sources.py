"""Which cars may serve a request, in the order a dispatcher should look at them. Pure code.

domain.md §4, source priority: the unit's own retained cars (保留车辆, only for its own
requests) → platform and entrusted cars (平台/托管) of the same city → rental companies whose
service area covers the trip. A car is out when it has too few seats, is not the class asked
for, has an expired 年检 or 保险 (一车一档), or is booked within 30 min of the trip.
Every car left out keeps its reason, so the dispatcher sees why a car is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

BOOKING_BUFFER = timedelta(minutes=30)
REQUIRED_DOCUMENTS = ("annual_inspection", "insurance")  # 年检, 保险: expired → not assignable
REMIND_DAYS = 30


@dataclass(frozen=True)
class Car:
    id: int
    source: str  # platform | entrusted | unit_retained | leased
    owner_org_id: int
    home_city: str
    seats: int
    car_level: str
    documents: dict[str, date] = field(default_factory=dict)  # kind -> expiry date
    booked: tuple[tuple[datetime, datetime], ...] = ()  # planned windows of its live orders


@dataclass(frozen=True)
class RentalCompany:
    id: int
    service_cities: frozenset[str]


@dataclass(frozen=True)
class Need:
    org_id: int  # the requesting unit
    city: str  # where the trip starts
    cities: frozenset[str]  # every city the trip touches
    start: datetime
    end: datetime
    passengers: int
    car_level: str | None = None


@dataclass(frozen=True)
class Offer:
    tier: int  # 1 own retained, 2 platform/entrusted of the city, 3 rental company
    kind: str  # car | rental_company
    id: int


def why_not(car: Car, need: Need, today: date) -> str | None:
    if car.seats - 1 < need.passengers:  # the driver takes a seat
        return "seats"
    if need.car_level is not None and car.car_level != need.car_level:
        return "car_level"
    for kind in REQUIRED_DOCUMENTS:
        expiry = car.documents.get(kind)
        if expiry is None or expiry < max(today, need.end.date()):
            return f"document_{kind}"
    for start, end in car.booked:
        if need.start < end + BOOKING_BUFFER and start < need.end + BOOKING_BUFFER:
            return "booked"
    return None


def tier(car: Car, need: Need) -> int | None:
    if car.source == "unit_retained":
        return 1 if car.owner_org_id == need.org_id else None
    if car.source in ("platform", "entrusted") and car.home_city == need.city:
        return 2
    return None  # leased cars come through their company's acceptance


def offers(
    need: Need, cars: list[Car], companies: list[RentalCompany], today: date
) -> tuple[list[Offer], dict[int, str]]:
    """Cars and rental companies in priority order, and the reason each car in reach is out."""
    found: list[Offer] = []
    left_out: dict[int, str] = {}
    for car in sorted(cars, key=lambda c: (tier(c, need) or 9, c.seats, c.id)):
        level = tier(car, need)
        if level is None:
            continue
        reason = why_not(car, need, today)
        if reason is None:
            found.append(Offer(level, "car", car.id))
        else:
            left_out[car.id] = reason
    for company in sorted(companies, key=lambda c: c.id):
        if need.cities <= company.service_cities:
            found.append(Offer(3, "rental_company", company.id))
    return found, left_out


def expiring(car: Car, today: date, days: int = REMIND_DAYS) -> list[tuple[str, date]]:
    """Documents that expire within `days` (the 30-day reminder), soonest first."""
    horizon = today + timedelta(days=days)
    return sorted(((kind, d) for kind, d in car.documents.items() if d <= horizon), key=lambda x: x[1])
