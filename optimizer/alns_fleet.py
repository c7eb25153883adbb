"""Fleet reduction: empty a car outright when each car used has a fixed cost. Pure code.

A car's fixed cost (a leased car's day rate, or the Li & Lim benchmark's "vehicles first")
is paid whole or not at all, so the plain ALNS rarely saves it: emptying a car takes every
trip on it moved at once, and each partial step costs more on the way. This phase does it on
purpose, before the ALNS spends the rest of the time on distance:

1. pick a used car with a fixed cost (fewest trips first: the cheapest to rehome);
2. take all its trips out and close it and every unused car (`PlanState.closed`): the trips
   may only go to the cars still in use;
3. run the ALNS on that smaller fleet until no more legs are left out than before (its
   objective puts the unserved penalty far above distance, so it first places them), for a
   slice of the time;
4. success: the car is saved, go on with the next; failure: restore the plan and try the next
   candidate car, up to `attempts` failures in a row.

Committed stops, passengers on board and pinned trips never move: cars holding any of them are
never emptied.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from optimizer.alns import AlnsConfig, run_alns, unserved_legs
from optimizer.alns_ruins import placed_trips
from optimizer.insertion import PlanState
from optimizer.insertion_plan import take_out
from optimizer.problem import Request


def reducible_cars(state: PlanState, vehicle_of_trip: Mapping[str, str],
                   movable_legs: set[str], pins: Mapping[str, str]) -> list[str]:
    """Used cars with a fixed cost whose every stop belongs to a movable, unpinned trip, fewest
    trips first (then the shortest route)."""
    trips_on: dict[str, int] = {}
    for vehicle_id in vehicle_of_trip.values():
        trips_on[vehicle_id] = trips_on.get(vehicle_id, 0) + 1
    pinned = {vehicle_of_trip.get(trip) for trip in pins}
    out = []
    for vehicle in state.problem.vehicles:
        refs = state.routes.get(vehicle.id, ())
        plan = vehicle.price_plan
        if refs and vehicle.state is None and vehicle.id not in pinned and plan is not None \
                and plan.fixed_cost > 0 and all(r.request_id in movable_legs for r in refs):
            out.append(vehicle.id)
    out.sort(key=lambda v: (trips_on.get(v, 0), state.view(v).dist_m, v))
    return out


def reduce_fleet(state: PlanState, trips: Mapping[str, tuple[Request, ...]],
                 movable: Sequence[str], reasons: dict[str, tuple[str, str]], deadline: float,
                 seed: int, config: AlnsConfig, pins: Mapping[str, str] | None = None,
                 attempt_s: float = 1.0, attempts: int = 3) -> dict[str, tuple[str, str]]:
    """Empties cars while it can before `deadline`; each try gets `attempt_s` seconds at most.
    Returns the reasons of the legs left out of the plan `state` ends with."""
    pins = pins or {}
    first_of = {leg.id: t for t in movable for leg in trips[t]}
    movable_legs = set(first_of)
    failures = 0
    tried: set[str] = set()
    round_no = 0
    while failures < attempts and time.monotonic() < deadline:
        vehicle_of_trip = placed_trips(state, movable, first_of)
        candidates = [v for v in reducible_cars(state, vehicle_of_trip, movable_legs, pins)
                      if v not in tried]
        if not candidates or sum(1 for refs in state.routes.values() if refs) <= 1:
            break
        target = candidates[0]
        tried.add(target)
        before = dict(state.routes)
        goal = unserved_legs(state, movable, trips)
        on_target = [t for t, v in vehicle_of_trip.items() if v == target]
        if not take_out(state, trips, on_target):
            failures += 1
            continue
        state.closed = {v.id for v in state.problem.vehicles
                        if v.id == target or (not state.routes.get(v.id) and v.state is None)}
        round_no += 1
        try:
            result = run_alns(state, trips, movable, dict(reasons),
                              min(deadline, time.monotonic() + attempt_s),
                              seed * 7919 + round_no, config, pins, stop_at_unserved=goal)
        finally:
            state.closed = set()
        if unserved_legs(state, movable, trips) <= goal:
            reasons = result.reasons
            failures = 0
            tried.clear()
        else:
            for vehicle_id in set(before) | set(state.routes):
                if state.routes.get(vehicle_id, ()) != before.get(vehicle_id, ()):
                    state.set_route(vehicle_id, before.get(vehicle_id, ()))
            failures += 1
    return reasons
