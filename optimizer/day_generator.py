"""A realistic day of trip requests over the nine cities of the Wuhan circle, as a `Problem`.
Pure and seeded: the same seed and sizes give the same problem, on any machine.

`generate_day(seed, vehicles=120, requests=250)` builds:

- the fleet (day_fleet.py): the scenario's platform, entrusted, unit-retained and leased cars
  at the nine motor pools (unit-retained cars at their unit), shifts, BEV ranges, per-km costs
  in fen, leased cars' price plans (fixed cost per use, included km and hours, overtime and
  over-km rates, from the rental companies' contracts in the scenario);
- the places (day_places.py): the motor pools, the scenario's named places, the units' offices
  and the sites the trips go to;
- `requests` trip requests (day_trips.py): morning peak and afternoon wave, cross-city round
  trips with waits, multi-stop trips, carpool candidates, transfers, emergencies, law
  enforcement, 机要, car classes;
- the travel matrix of the default great-circle provider (optimizer/matrix.py).

Every trip can be driven by at least one car of the fleet alone (seats, class, unit, windows,
ride times, shift, driving time, range: `greedy.serves_alone`); the few that cannot (a party
of six in a town whose business cars are all BEVs short of range…) are replaced by one-way
trips, so that what a plan leaves out it leaves out for want of cars at that hour.

The fleet is drawn from its own stream (seed, vehicles) and the requests from another (seed,
requests, fleet): asking for more requests does not change the cars. The online latency bench
uses `generate_day(seed, vehicles=200, requests=400)`.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import lru_cache

from fleet.scenario.load import load_scenario
from fleet.scenario.model import Scenario
from optimizer.day_fleet import build_vehicles
from optimizer.day_places import NodeBook
from optimizer.day_trips import TripMaker
from optimizer.greedy import serves_alone, trips_of
from optimizer.problem import Problem, Request, Vehicle

DEFAULT_VEHICLES = 120
DEFAULT_REQUESTS = 250
RETAINED_UNIT_WEIGHT = 3.0  # a unit with cars of its own files that many times the requests
MAX_REDRAWS = 5


@lru_cache(maxsize=1)
def _bundled_scenario() -> Scenario:
    return load_scenario()


def generate_day(seed: int = 1, *, vehicles: int = DEFAULT_VEHICLES,
                 requests: int = DEFAULT_REQUESTS, scenario: Scenario | None = None) -> Problem:
    """The day `seed` with `vehicles` cars and exactly `requests` requests (legs of round and
    multi-stop trips counted one by one). `scenario` defaults to the bundled Wuhan circle."""
    if vehicles < 1 or requests < 1:
        raise ValueError("a day needs at least one vehicle and one request")
    scenario = scenario or _bundled_scenario()
    book = NodeBook(scenario)
    for depot in scenario.depots:  # nodes 0..8: the motor pools, then the named places
        book.depot(depot.code)
    for place in scenario.places:
        book.place(place)
    fleet = build_vehicles(random.Random(f"day:{seed}:fleet:{vehicles}"), scenario, vehicles,
                           book.depot, book.office)
    city_weights = Counter(book.home_city[v.start_node] for v in fleet)
    unit_weights = {v.unit_id: RETAINED_UNIT_WEIGHT for v in fleet if v.unit_id}
    maker = TripMaker(random.Random(f"day:{seed}:trips:{vehicles}:{requests}"), book,
                      dict(city_weights), unit_weights)
    day_requests = maker.day(requests)
    name = f"wuhan-day-{seed}-{vehicles}v-{requests}r"
    for _ in range(MAX_REDRAWS):
        problem = _problem(book, fleet, day_requests, name)
        unservable = {r.id for trip in trips_of(problem)
                      if not any(serves_alone(problem, v, trip) for v in fleet) for r in trip}
        if not unservable:
            break
        day_requests = [r for r in day_requests if r.id not in unservable]
        day_requests += maker.one_ways(requests - len(day_requests))
    return problem


def _problem(book: NodeBook, fleet: tuple[Vehicle, ...], requests: list[Request],
             name: str) -> Problem:
    size = len(book.nodes)
    legs = [[book.leg(a, b) for b in range(size)] for a in range(size)]
    return Problem(nodes=tuple(book.nodes),
                   duration_s=tuple(tuple(d for d, _ in row) for row in legs),
                   dist_m=tuple(tuple(m for _, m in row) for row in legs),
                   requests=tuple(requests), vehicles=fleet, name=name)
