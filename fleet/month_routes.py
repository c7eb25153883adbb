"""How a generated order unfolds on the road (for fleet/month_generator.py). Pure code.

A car leaves its depot, drives to the pickup, through the destinations (waiting where the trip
waits), back to the origin on a round trip, and home. Each leg is a GNSS trip the terminal
would have produced; distances are great-circle × 1.3 (road factor), speeds 30 km/h in a city
and 90 km/h between cities (domain.md §9). Multi-day trips stay away overnight and drive a
little around the destination each day. Fuel and charge follow the car's class and its own
efficiency (so that the L/100 km ranking has a spread); tolls follow intercity km.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.carpool import INTERCITY_KMH, ROAD_FACTOR, URBAN_KMH
from fleet.geodesy import haversine_m

FUEL_L_PER_100KM = {"sedan": 8.5, "business": 10.5, "minibus": 14.0, "bus": 24.0}
KWH_PER_100KM = {"sedan": 15.0, "business": 19.0, "minibus": 28.0, "bus": 60.0}
FUEL_CNY_PER_L = 7.9
POWER_CNY_PER_KWH = 1.1
TOLL_CNY_PER_INTERCITY_KM = 0.45


@dataclass(frozen=True)
class Point:
    name: str
    lat: float
    lon: float
    city_code: str

    def as_json(self) -> dict:
        return {"name": self.name, "lat": round(self.lat, 6), "lon": round(self.lon, 6),
                "city_code": self.city_code}


@dataclass(frozen=True)
class GenTrip:
    """A GNSS trip (an ACC-on interval) as the terminal would have reported it."""

    plate: str
    start: datetime
    end: datetime
    start_point: Point
    end_point: Point
    dist_m: float
    private: bool = False  # no order covers it

    @property
    def duration_s(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class Leg:
    start: Point
    end: Point
    depart: datetime
    arrive: datetime
    km: float  # road km as driven


@dataclass
class Timeline:
    departed_at: datetime
    arrived_pickup_at: datetime
    service_started_at: datetime
    service_ended_at: datetime
    returned_at: datetime
    legs: list[Leg] = field(default_factory=list)

    @property
    def km(self) -> float:
        return sum(leg.km for leg in self.legs)

    @property
    def intercity_km(self) -> float:
        return sum(leg.km for leg in self.legs if leg.start.city_code != leg.end.city_code)


def road_km(a: Point, b: Point) -> float:
    return haversine_m(a.lat, a.lon, b.lat, b.lon) / 1000 * ROAD_FACTOR


COUNTY_ROAD_KMH = 60.0  # within a prefecture, past the city's streets (to a county seat)
URBAN_KM = 15.0


def drive_min(a: Point, b: Point) -> float:
    km = road_km(a, b)
    if a.city_code != b.city_code:
        hours = km / INTERCITY_KMH
    else:
        hours = min(km, URBAN_KM) / URBAN_KMH + max(km - URBAN_KM, 0) / COUNTY_ROAD_KMH
    return hours * 60 + 4  # + parking and traffic lights at both ends


def route_min(stops: list[Point]) -> float:
    return sum(drive_min(a, b) for a, b in zip(stops, stops[1:], strict=False))


class _Driver:
    """Drives the legs one after the other, keeping the clock."""

    def __init__(self, rng: random.Random, clock: datetime) -> None:
        self.rng = rng
        self.clock = clock
        self.legs: list[Leg] = []

    def go(self, a: Point, b: Point) -> None:
        minutes = drive_min(a, b) * self.rng.uniform(0.9, 1.2)
        km = road_km(a, b) * self.rng.uniform(1.0, 1.06)
        arrive = self.clock + timedelta(minutes=minutes)
        if km >= 0.5:
            self.legs.append(Leg(a, b, self.clock, arrive, km))
        self.clock = arrive

    def wait(self, minutes: float) -> None:
        self.clock += timedelta(minutes=max(minutes, 0))

    def wait_until(self, when: datetime) -> None:
        self.clock = max(self.clock, when)


def unfold(
    rng: random.Random, depot: Point, pickups: list[Point], destinations: list[Point],
    round_trip: bool, planned_start: datetime, planned_end: datetime, lateness_min: float,
    nights: int,
) -> Timeline:
    """The order's actual times and legs, from the plan and how late the car was."""
    arrived = planned_start + timedelta(minutes=lateness_min)
    departed = arrived - timedelta(minutes=drive_min(depot, pickups[0]) + rng.uniform(5, 15))
    car = _Driver(rng, departed)
    car.go(depot, pickups[0])
    car.wait_until(arrived)
    arrived = car.clock  # a slow drive makes it later than meant
    for a, b in zip(pickups, pickups[1:], strict=False):
        car.wait(rng.uniform(2, 5))
        car.go(a, b)
    car.wait(rng.uniform(2, 5))
    started = car.clock
    here = pickups[-1]
    for index, stop in enumerate(destinations):
        car.go(here, stop)
        here = stop
        if index < len(destinations) - 1:
            car.wait(rng.uniform(15, 45))
    back = [pickups[0]] if round_trip else []
    if nights:
        for night in range(1, nights + 1):  # around the destination on the days away
            morning = (started + timedelta(days=night)).replace(hour=8, minute=30) + \
                timedelta(minutes=rng.uniform(0, 60))
            car.wait_until(morning)
            nearby = Point(f"{here.name}附近", here.lat + rng.uniform(-0.05, 0.05),
                           here.lon + rng.uniform(-0.05, 0.05), here.city_code)
            car.go(here, nearby)
            car.wait(rng.uniform(60, 180))
            car.go(nearby, here)
    if round_trip:
        # wait there until it is time to drive back and be on time for the planned end
        car.wait_until(planned_end - timedelta(minutes=route_min([here, *back]) + rng.uniform(-20, 10)))
    for stop in back:
        car.go(here, stop)
        here = stop
    ended = car.clock
    car.wait(rng.uniform(1, 5))
    car.go(here, depot)
    return Timeline(departed, arrived, started, ended, car.clock, car.legs)


@dataclass(frozen=True)
class Costs:
    tolls_cny: float
    parking_cny: float
    fuel_cny: float
    fuel_l: float
    charge_kwh: float


def costs(rng: random.Random, timeline: Timeline, car_level: str, energy_type: str,
          efficiency: float, nights: int, pays_fuel: bool) -> Costs:
    """行车日志: tolls (expressway km), parking, and the fuel or charge bought for the trip."""
    km = timeline.km
    fuel_l = charge_kwh = 0.0
    if energy_type == "fuel":
        fuel_l = km * FUEL_L_PER_100KM[car_level] * efficiency / 100
    elif energy_type == "bev":
        charge_kwh = km * KWH_PER_100KM[car_level] * efficiency / 100
    else:  # PHEV: about half the fuel, the rest from the battery
        fuel_l = km * FUEL_L_PER_100KM[car_level] * 0.5 * efficiency / 100
        charge_kwh = km * KWH_PER_100KM[car_level] * 0.5 * efficiency / 100
    tolls = round(timeline.intercity_km * TOLL_CNY_PER_INTERCITY_KM)
    if not tolls and rng.random() < 0.12:
        tolls = rng.choice((5, 10, 15, 20, 25))
    parking = rng.choice((5, 10, 15, 20, 30)) if rng.random() < 0.35 else 0
    parking += 30 * nights
    fuel_cny = fuel_l * FUEL_CNY_PER_L + charge_kwh * POWER_CNY_PER_KWH if pays_fuel else 0.0
    return Costs(float(tolls), float(parking), round(fuel_cny, 2), round(fuel_l, 2),
                 round(charge_kwh, 2))
