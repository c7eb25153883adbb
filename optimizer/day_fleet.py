"""The fleet of a generated Wuhan-circle day (for optimizer/day_generator.py). Pure, seeded.

The cars are the scenario's own (fleet/scenario/wuhan.yaml: 200 cars of four sources over the
nine cities), sampled city by city in proportion when fewer are asked for, and repeated with a
suffixed id when more are. Each becomes an optimizer `Vehicle`:

- platform and entrusted cars start and end at their city's motor pool; a unit-retained car
  at its unit's office (保留车辆 are kept and dispatched by the unit itself), serving only
  that unit; leased cars at the motor pool they are contracted to.
- seats − 1 passengers (the driver's seat is not counted); the scenario's car level.
- shifts: platform and entrusted drivers 06:30–07:30 until 18:30–20:00 (long days are the
  norm for pool drivers), unit drivers 07:30–18:30, rental drivers 07:00–21:00 (the contract
  bills the hours); at most 8 h at the wheel.
- a BEV's range: the scenario's range × a state of charge of 55–100 % × 0.9 (a 10 % reserve
  nobody plans into); PHEVs and fuel cars have no range limit.
- own cars cost per km (fen): energy (8.5/10.5/14/24 L per 100 km at 7.90 CNY/L, or 15/19/28/60
  kWh at 1.10 CNY/kWh, the figures fleet/month_routes.py uses) plus wear, tyres and
  maintenance (0.30/0.40/0.60/1.00 CNY/km by class). Drivers are salaried: no hourly cost.
- leased cars carry their rental company's with-driver price plan for their class (trip,
  half-day or full-day charter, seeded), fuel included: no per-km cost of their own.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from decimal import Decimal

from fleet.scenario.model import Scenario
from fleet.scenario.model import Vehicle as ScenarioVehicle
from optimizer.problem import PricePlan, TimeWindow, Vehicle

HOUR_S = 3600
MAX_DRIVING_S = 8 * HOUR_S
FUEL_L_PER_100KM = {"sedan": 8.5, "business": 10.5, "minibus": 14.0, "bus": 24.0}
KWH_PER_100KM = {"sedan": 15.0, "business": 19.0, "minibus": 28.0, "bus": 60.0}
FUEL_FEN_PER_L = 790
POWER_FEN_PER_KWH = 110
WEAR_FEN_PER_KM = {"sedan": 30, "business": 40, "minibus": 60, "bus": 100}
RANGE_RESERVE = 0.9
# The charter a leased car is booked on for the day (trip 趟 2 h, half day 4 h, full day 8 h).
CHARTER_WEIGHTS = (("trip", 0.2), ("half_day", 0.5), ("full_day", 0.3))


def cost_per_km_fen(car_level: str, energy_type: str) -> int:
    """What a kilometre costs an own car: energy plus wear, in fen (rounded half up)."""
    fuel = FUEL_L_PER_100KM[car_level] / 100 * FUEL_FEN_PER_L
    power = KWH_PER_100KM[car_level] / 100 * POWER_FEN_PER_KWH
    energy = {"fuel": fuel, "bev": power}.get(energy_type, (fuel + power) / 2)  # PHEV: half each
    return math.floor(energy + WEAR_FEN_PER_KM[car_level] + 0.5)


def sample_cars(rng: random.Random, scenario: Scenario, count: int) -> list[tuple[str, ScenarioVehicle]]:
    """`count` (id, car) pairs: each city's share of the scenario's fleet kept (largest
    remainders), the cars of a city drawn at random; beyond the scenario's size the cars repeat
    with a suffixed id (a bigger fleet of the same make-up)."""
    cars = sorted(scenario.vehicles, key=lambda v: v.plate)
    picked: list[tuple[str, ScenarioVehicle]] = []
    rounds, rest = divmod(count, len(cars))
    for k in range(rounds):
        picked += [(car.plate if k == 0 else f"{car.plate}-{k + 1}", car) for car in cars]
    by_city: dict[str, list[ScenarioVehicle]] = {}
    for car in cars:
        by_city.setdefault(car.city_code, []).append(car)
    quotas = {city: rest * len(group) / len(cars) for city, group in by_city.items()}
    taken = {city: int(q) for city, q in quotas.items()}
    for city in sorted(quotas, key=lambda c: (taken[c] - quotas[c], c))[:rest - sum(taken.values())]:
        taken[city] += 1
    suffix = f"-{rounds + 1}" if rounds else ""
    for city in sorted(by_city):
        picked += [(car.plate + suffix, car) for car in rng.sample(by_city[city], taken[city])]
    return picked


def build_vehicles(rng: random.Random, scenario: Scenario, count: int,
                   depot_node: Callable[[str], int],
                   office_node: Callable[[str], int]) -> tuple[Vehicle, ...]:
    """The day's fleet. `depot_node(depot_code)` and `office_node(unit_code)` give node indices."""
    vehicles = []
    for vehicle_id, car in sample_cars(rng, scenario, count):
        home = office_node(car.owner_org_code) if car.source == "unit_retained" \
            else depot_node(car.depot_code)
        plan = _price_plan(rng, scenario, car) if car.source == "leased" else None
        vehicles.append(Vehicle(
            id=vehicle_id, start_node=home, end_node=home, capacity=car.seats - 1,
            shift=_shift(rng, car.source), car_level=car.car_level, source=car.source,
            unit_id=car.owner_org_code if car.source == "unit_retained" else None,
            max_driving_s=MAX_DRIVING_S, range_m=_range_m(rng, car),
            cost_per_km=0 if plan else cost_per_km_fen(car.car_level, car.energy_type),
            price_plan=plan))
    return tuple(vehicles)


def _shift(rng: random.Random, source: str) -> TimeWindow:
    half_hour = HOUR_S // 2
    if source == "leased":
        return TimeWindow(7 * HOUR_S, 21 * HOUR_S)
    if source == "unit_retained":
        return TimeWindow(15 * half_hour, 37 * half_hour)
    return TimeWindow(rng.choice((13, 14, 15)) * half_hour, rng.choice((37, 38, 39, 40)) * half_hour)


def _range_m(rng: random.Random, car: ScenarioVehicle) -> int | None:
    if car.energy_type != "bev" or car.range_km is None:
        return None
    state_of_charge = rng.uniform(0.55, 1.0)
    return round(car.range_km * state_of_charge * RANGE_RESERVE) * 1000


def _fen(cny: Decimal) -> int:
    return int((cny * 100).to_integral_value())


def _price_plan(rng: random.Random, scenario: Scenario, car: ScenarioVehicle) -> PricePlan:
    company = scenario.company_by_code[car.rental_company_code or ""]
    charter = _weighted(rng, CHARTER_WEIGHTS)
    plan = next(p for p in company.price_plans if p.car_level == car.car_level
                and p.charter_type == charter and p.mode == "with_driver")
    return PricePlan(fixed_cost=_fen(plan.base_price_cny),
                     included_dist_m=plan.included_km * 1000,
                     included_duration_s=int(plan.included_hours * HOUR_S),
                     overtime_cost_per_h=_fen(plan.overtime_cny_per_h),
                     over_km_cost_per_km=_fen(plan.over_km_cny_per_km))


def _weighted(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    names, weights = zip(*choices, strict=True)
    return rng.choices(names, weights=weights)[0]
