"""Which cars to offer the dispatcher for an order, best first, each with a driver to go with
it — so that assigning takes two clicks (pick the order, pick the car). Pure code.

Order of the offer: the source tiers of dispatch/sources.py (the unit's own retained cars,
then the city's platform and entrusted cars); within a tier, cars that may take the order
before those that may not (each with its reason), then by how far the car is from the pickup
now (its live position, else its depot), then the smallest car that seats everyone.
The driver suggested with a car is the one who drove it last if he is free, else the free
driver with the fewest orders that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dispatch.sources import Car, Need, tier, why_not
from fleet.geodesy import haversine_m

ROAD_FACTOR = 1.3  # road km ≈ 1.3 × great-circle (domain.md §9)
URBAN_KMH = 30.0


@dataclass(frozen=True)
class CarOnMap:
    car: Car
    plate: str
    active: bool
    lat: float | None  # live position (None: no fix yet)
    lon: float | None
    depot_lat: float | None
    depot_lon: float | None
    last_driver_id: int | None = None


@dataclass(frozen=True)
class FreeDriver:
    id: int
    name: str
    orders_that_day: int


@dataclass(frozen=True)
class Candidate:
    vehicle_id: int
    plate: str
    tier: int
    reason: str | None  # None: may take the order
    dist_m: float | None  # from where it is (or its depot) to the pickup
    eta_min: float | None
    from_depot: bool
    driver_id: int | None  # the suggested driver
    driver_name: str | None


def _distance(item: CarOnMap, pickup_lat: float, pickup_lon: float) -> tuple[float | None, bool]:
    if item.lat is not None and item.lon is not None:
        return haversine_m(item.lat, item.lon, pickup_lat, pickup_lon), False
    if item.depot_lat is not None and item.depot_lon is not None:
        return haversine_m(item.depot_lat, item.depot_lon, pickup_lat, pickup_lon), True
    return None, False


def suggest_driver(item: CarOnMap, drivers: list[FreeDriver], taken: set[int]) -> FreeDriver | None:
    free = [d for d in drivers if d.id not in taken]
    for driver in free:
        if driver.id == item.last_driver_id:
            return driver
    return min(free, key=lambda d: (d.orders_that_day, d.id), default=None)


def rank(
    need: Need, cars: list[CarOnMap], drivers: list[FreeDriver], pickup_lat: float,
    pickup_lon: float, today: date,
) -> list[Candidate]:
    """Every car within reach of the order (tiers 1 and 2), best first."""
    scored = []
    for item in cars:
        level = tier(item.car, need)
        if level is None:
            continue
        reason = "car_inactive" if not item.active else why_not(item.car, need, today)
        dist_m, from_depot = _distance(item, pickup_lat, pickup_lon)
        scored.append((level, reason is not None, dist_m if dist_m is not None else float("inf"),
                       item.car.seats, item.car.id, item, reason, dist_m, from_depot))
    scored.sort(key=lambda s: s[:5])
    out = []
    for level, _, _, _, _, item, reason, dist_m, from_depot in scored:
        driver = suggest_driver(item, drivers, set()) if reason is None else None
        eta = None if dist_m is None else dist_m / 1000 * ROAD_FACTOR / URBAN_KMH * 60
        out.append(Candidate(
            vehicle_id=item.car.id, plate=item.plate, tier=level, reason=reason,
            dist_m=None if dist_m is None else round(dist_m),
            eta_min=None if eta is None else round(eta, 1), from_depot=from_depot,
            driver_id=driver.id if driver else None, driver_name=driver.name if driver else None,
        ))
    return out
