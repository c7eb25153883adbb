"""The scenario's cars and drivers as a generated month books them (for
fleet/month_generator.py). Pure code.

Every booking holds its car and its driver from the earlier of planned start and departure to
the later of planned end and return; another booking must keep 30 min away on both sides
(the rule the database enforces with its exclusion constraints). Rental companies get drivers
in every city they serve (the scenario lists only a few): they are part of the month.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from dispatch.months import LOCAL, Month
from fleet.month_requests import GIVEN, SURNAMES, Spec, level_for
from fleet.month_routes import GenTrip, Point
from fleet.scenario.model import Scenario, Vehicle

BUFFER = timedelta(minutes=30)
RENTAL_DRIVERS_PER_CITY = 3


@dataclass(frozen=True)
class GenDriver:
    code: str
    name: str
    phone: str
    org_code: str
    city_code: str
    company_code: str | None


@dataclass(frozen=True)
class Booking:
    plate: str
    driver_code: str
    company_code: str | None = None  # a rental order
    plan_level: str | None = None  # the price plan: car level × charter type × mode
    charter_type: str | None = None
    mode: str | None = None
    rejected_by: str | None = None  # a company that said no before this one accepted


class Calendar:
    """Busy intervals per car or driver, sorted; free() keeps the 30 min buffer."""

    def __init__(self) -> None:
        self.starts: dict[str, list[datetime]] = {}
        self.spans: dict[str, list[tuple[datetime, datetime]]] = {}

    def free(self, key: str, start: datetime, end: datetime) -> bool:
        starts = self.starts.get(key, [])
        spans = self.spans.get(key, [])
        i = bisect.bisect_left(starts, start)
        if i > 0 and spans[i - 1][1] + BUFFER > start:
            return False
        return not (i < len(spans) and spans[i][0] < end + BUFFER)

    def book(self, key: str, start: datetime, end: datetime) -> None:
        starts = self.starts.setdefault(key, [])
        i = bisect.bisect_left(starts, start)
        starts.insert(i, start)
        self.spans.setdefault(key, []).insert(i, (start, end))


def _charter(start: datetime, end: datetime, nights: int) -> str:
    hours = (end - start).total_seconds() / 3600
    if nights:
        return "multi_day"
    return "trip" if hours <= 3 else "half_day" if hours <= 4.5 else "full_day"


class Fleet:
    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.rng = rng
        self.s = scenario
        self.vehicles = {v.plate: v for v in scenario.vehicles}
        self.calendar = Calendar()
        self.efficiency = {v.plate: rng.uniform(0.85, 1.2) for v in scenario.vehicles}
        self.odometer = {v.plate: round(rng.uniform(8_000, 90_000), 1) for v in scenario.vehicles}
        self.drivers = [GenDriver(d.code, d.name, d.phone, d.org_code, d.city_code,
                                  d.rental_company_code) for d in scenario.drivers]
        self.extra_drivers = self._rental_drivers()
        self.drivers += self.extra_drivers
        orgs = scenario.org_by_code
        self.platform_drivers: dict[str, list[str]] = {}
        self.unit_drivers: dict[str, list[str]] = {}
        self.company_drivers: dict[tuple[str, str], list[str]] = {}
        for d in self.drivers:
            if d.company_code:
                self.company_drivers.setdefault((d.company_code, d.city_code), []).append(d.code)
            elif orgs[d.org_code].kind == "platform":
                self.platform_drivers.setdefault(d.city_code, []).append(d.code)
            else:
                self.unit_drivers.setdefault(d.org_code, []).append(d.code)

    def _rental_drivers(self) -> list[GenDriver]:
        extra = []
        for company in self.s.rental_companies:
            short = company.code.removeprefix("RC-")
            for city in company.service_city_codes:
                for i in range(1, RENTAL_DRIVERS_PER_CITY + 1):
                    name = self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=2))
                    phone = f"13{self.rng.randrange(10**9):09d}"
                    extra.append(GenDriver(f"DRV-{short}-{city}-{i:02d}", name, phone,
                                           f"{city}-PF", city, company.code))
        return [d for d in extra if d.org_code in self.s.org_by_code]

    def depot_of(self, plate: str) -> Point:
        depot = self.s.depot_by_code[self.vehicles[plate].depot_code]
        return Point(depot.name_zh, depot.location[1], depot.location[0], depot.city_code)

    # --- choosing a car -----------------------------------------------------------------------
    def _platform_cars(self, lead: Spec, seats: int, level: str | None) -> list[Vehicle]:
        fitting = [v for v in self.s.vehicles if v.city_code == lead.city and v.seats >= seats
                   and (level is None or v.car_level == level)
                   and ((v.source == "unit_retained" and v.owner_org_code == lead.org_code)
                        or v.source in ("platform", "entrusted"))]
        wanted_category = {"confidential": "confidential", "emergency": "emergency",
                           "law_enforcement": "law_enforcement"}.get(lead.trip_type, "general")
        keyed = [((v.source != "unit_retained", v.use_category != wanted_category,
                   v.use_category != "general", v.seats, self.rng.random()), v) for v in fitting]
        return [v for _, v in sorted(keyed, key=lambda kv: kv[0])]

    def _drivers_for(self, car: Vehicle, lead: Spec) -> list[str]:
        if car.source == "unit_retained":
            return self.unit_drivers.get(car.owner_org_code, []) + self.platform_drivers.get(lead.city, [])
        return self.platform_drivers.get(lead.city, []) + self.unit_drivers.get(car.owner_org_code, [])

    def _rental_options(self, group: list[Spec], seats: int, level: str | None) -> list[tuple[Vehicle, str, str | None]]:
        lead = group[0]
        cities = {lead.city} | {d.city_code for s in group for d in s.destinations}
        companies = [c for c in self.s.rental_companies if cities <= set(c.service_city_codes)]
        self.rng.shuffle(companies)  # rotation among the tendered companies
        options = []
        for company in companies:
            others = [c.code for c in companies if c.code != company.code]
            rejected_by = others[0] if others and self.rng.random() < 0.08 else None
            for car in self.s.vehicles:
                if (car.rental_company_code == company.code and car.city_code == lead.city
                        and car.seats >= seats and (level is None or car.car_level == level)):
                    options.append((car, company.code, rejected_by))
        return options

    def assign(self, group: list[Spec], start: datetime, end: datetime,
               unfold: Callable[[Booking], Any], hold: bool = True,
               fits: Callable[[Any], bool] | None = None) -> tuple[Booking, Any] | None:
        """The first car and driver free for the whole of the order, booked (unless `hold` is
        False: a car assigned and then released by a cancellation), with what `unfold` made;
        None when none is free, or when what `unfold` made does not pass `fits` (the
        generator's clock: an order that would not be back yet is not dispatched)."""
        lead = group[0]
        passengers = sum(s.passenger_count for s in group)
        seats = passengers + 1
        level = lead.car_level_wanted
        rental_first = lead.nights > 0 or lead.prefers_rental or (passengers >= 7 and self.rng.random() < 0.8)
        tries = ("rental", "platform") if rental_first else ("platform", "rental")
        for source in tries:
            if source == "platform":
                options = [(car, None, None) for car in self._platform_cars(lead, seats, level)]
            else:
                options = self._rental_options(group, seats, level)
            for car, company, rejected_by in options:
                if not self.calendar.free(car.plate, start, end):
                    continue
                drivers = (self.company_drivers.get((company, lead.city), []) if company
                           else self._drivers_for(car, lead))
                booking = self._booking(car, company, rejected_by, group, start, end, passengers)
                made = unfold(booking)
                if fits is not None and not fits(made):
                    return None
                timeline = made[0]
                lo, hi = min(start, timeline.departed_at), max(end, timeline.returned_at)
                if not self.calendar.free(car.plate, lo, hi):
                    continue
                driver = next((d for d in drivers if self.calendar.free(d, lo, hi)), None)
                if driver is None:
                    continue
                booking = replace(booking, driver_code=driver)
                if hold:
                    self.calendar.book(car.plate, lo, hi)
                    self.calendar.book(driver, lo, hi)
                return booking, made
        return None

    def _booking(self, car: Vehicle, company: str | None, rejected_by: str | None,
                 group: list[Spec], start: datetime, end: datetime, passengers: int) -> Booking:
        if company is None:
            return Booking(car.plate, "")
        mode = "car_only" if self.rng.random() < 0.15 else "with_driver"
        return Booking(car.plate, "", company, group[0].car_level_wanted or level_for(passengers),
                       _charter(start, end, group[0].nights), mode, rejected_by)

    # --- trips without an order -------------------------------------------------------------
    def private_trips(self, rng: random.Random, month: Month, count: int) -> list[GenTrip]:
        """Evening drives no order covers (20:00-22:30 out, back within two hours)."""
        cars = [v for v in self.s.vehicles if v.source in ("platform", "entrusted")]
        days = list(month.days())
        trips: list[GenTrip] = []
        for _ in range(count * 5):
            if len(trips) >= 2 * count:
                break
            car = rng.choice(cars)
            out_at = datetime.combine(rng.choice(days), time(20), LOCAL) + timedelta(minutes=rng.uniform(0, 150))
            depot = self.depot_of(car.plate)
            km = rng.uniform(3, 12)
            bearing = rng.uniform(0, 2 * math.pi)
            there = Point("", depot.lat + km / 111 * math.cos(bearing),
                          depot.lon + km / (111 * math.cos(math.radians(depot.lat))) * math.sin(bearing),
                          depot.city_code)
            drive = timedelta(minutes=km * 1.3 / 30 * 60 + 3)
            back_at = out_at + drive + timedelta(minutes=rng.uniform(30, 120))
            if not self.calendar.free(car.plate, out_at, back_at + drive):
                continue
            self.calendar.book(car.plate, out_at, back_at + drive)
            road_m = km * 1.3 * 1000
            trips.append(GenTrip(car.plate, out_at, out_at + drive, depot, there, road_m, True))
            trips.append(GenTrip(car.plate, back_at, back_at + drive, there, depot, road_m, True))
        return trips
