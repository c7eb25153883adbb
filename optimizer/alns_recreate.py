"""The ALNS's recreate step: the trips taken out (and those still left out) inserted again by
regret with noise, on top of H5's insertion search (`PlanState.best_insertions`: O(1) screening
of every placement, exact confirmation cheapest first). Pure code.

Order: by priority first (an emergency before anything else), then the largest regret (the
k-th best car's cost minus the best one's; a trip with fewer than k cars goes first), so trips
that are hard to place get their car before easy ones take it. Each trip's best placement per
car is cached and recomputed only for the car that just changed. Identical unused cars (same
depots, seats, shift, level, source, costs) are tried once: one stands for all of them.

An emergency that fits nowhere gets room made for it (insertion_room.make_room: lower-priority
trips moved off a car); a trip that costs more than its unserved penalty is left out.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from operator import itemgetter

from optimizer.alns_feasible import fast_times_feasible
from optimizer.cost import distance_total
from optimizer.insertion import PlanState, Proposal, is_emergency
from optimizer.insertion_room import make_room
from optimizer.insertion_route import leg_slots
from optimizer.problem import PRIORITIES, Request, StopRef, Vehicle

BIG = 10**15
PLACEMENT_CACHE_MAX = 50_000  # remembered placements (each holds a stop order)


def vehicle_kind(vehicle: Vehicle) -> tuple:
    """What makes two unused cars interchangeable for the plan."""
    return (vehicle.start_node, vehicle.end_node, vehicle.capacity, vehicle.shift,
            vehicle.car_level, vehicle.source, vehicle.unit_id, vehicle.max_driving_s,
            vehicle.range_m, vehicle.cost_per_km, vehicle.price_plan)


def candidate_vehicles(state: PlanState) -> list[str]:
    """Every car in use (or re-planned) and one unused car of each kind; none closed."""
    seen: set[tuple] = set()
    out = []
    for vehicle in state.problem.vehicles:
        if vehicle.id in state.closed:
            continue
        if state.routes.get(vehicle.id) or vehicle.state is not None:
            out.append(vehicle.id)
            continue
        kind = vehicle_kind(vehicle)
        if kind not in seen:
            seen.add(kind)
            out.append(vehicle.id)
    return out


def best_on_vehicle(state: PlanState, vehicle_id: str, legs: Sequence[Request]
                    ) -> Proposal | None:
    """The cheapest feasible placement of the trip on this car: screened placements confirmed
    cheapest first (the screening's price is exact but for a price plan's overtime, which
    only grows: a lower bound), like `PlanState.best_insertions` without building the route.
    Remembered per (car, its stop order, trip): most routes come through an ALNS iteration
    unchanged, and so do the answers for them."""
    key = (vehicle_id, state.routes.get(vehicle_id, ()), legs[0].id)
    cache = state.placement_cache
    if key in cache:
        return cache[key]
    if len(cache) >= PLACEMENT_CACHE_MAX:
        cache.clear()
    found = cache[key] = _best_on_vehicle(state, vehicle_id, legs)
    return found


def _best_on_vehicle(state: PlanState, vehicle_id: str, legs: Sequence[Request]
                     ) -> Proposal | None:
    vehicle = state.problem.vehicle_by_id[vehicle_id]
    if not state.may_carry(vehicle, legs):
        return None
    if len(legs) == 1:
        found = _single_leg(state, vehicle, legs[0])
    else:
        found = [(c.estimate, c.positions, c.refs) for c in state.candidates(vehicle, legs)]
    if not found:
        return None
    exact = vehicle.price_plan is None or not vehicle.price_plan.overtime_cost_per_h
    view = state.view(vehicle_id)
    key = itemgetter(0, 1)
    if exact:  # the cheapest screened placement is usually feasible: try it before sorting
        estimate, positions, refs = min(found, key=key)
        if refs is None:
            refs = _with_leg(view.refs, legs[0].id, positions)
        if fast_times_feasible(state.problem, vehicle, refs):
            return Proposal(vehicle_id, positions, estimate, refs, None)  # type: ignore[arg-type]
    found.sort(key=key)
    old = None if exact else state.route_total(vehicle_id)
    best: tuple[int, tuple[StopRef, ...], tuple[int, ...]] | None = None
    for estimate, positions, refs in found:
        if best is not None and estimate >= best[0]:
            break
        if refs is None:
            refs = _with_leg(view.refs, legs[0].id, positions)
        if not fast_times_feasible(state.problem, vehicle, refs):
            continue
        if exact:
            best = (estimate, refs, positions)
            break
        added = state.route_total(vehicle_id, refs) - old
        if best is None or added < best[0]:
            best = (added, refs, positions)
    if best is None:
        return None
    return Proposal(vehicle_id, best[2], best[0], best[1], None)  # type: ignore[arg-type]


def _with_leg(refs: tuple[StopRef, ...], request_id: str, positions: tuple[int, ...]
              ) -> tuple[StopRef, ...]:
    i, j = positions[0], positions[1] - 1  # back to the slot: pickup after i, drop-off after j
    pickup, dropoff = StopRef(request_id, "pickup"), StopRef(request_id, "dropoff")
    return (*refs[:i], pickup, *refs[i:j], dropoff, *refs[j:])


def _single_leg(state: PlanState, vehicle: Vehicle, leg: Request) -> list:
    """(lower-bound cost, positions, None) for every screened placement of a one-leg trip; the
    stop order is built only for the placements that get confirmed."""
    view = state.view(vehicle.id)
    unused = not view.refs and vehicle.state is None
    base = view.dist_m
    plan = vehicle.price_plan
    slots = leg_slots(state.problem, view, leg, view.fixed, view.stop_count)
    old = 0 if unused else distance_total(vehicle, base, bool(view.refs))
    if plan is None or not plan.over_km_cost_per_km:
        # cost = per-km part + the fixed cost once the car serves anyone: linear in distance
        rate = vehicle.cost_per_km
        const = distance_total(vehicle, 0, True) - old
        return [(((base + s.add_dist_m) * rate + 500) // 1000 + const, (s.i, s.j + 1), None)
                for s in slots]
    return [(distance_total(vehicle, base + s.add_dist_m, True) - old, (s.i, s.j + 1), None)
            for s in slots]


def recreate(state: PlanState, trips: Mapping[str, tuple[Request, ...]], pool: Sequence[str],
             rng: random.Random, k_regret: int, noise: float,
             pins: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Inserts the trips of `pool` (first leg ids) into the plan; returns the reasons of those
    left out (request id -> (code, message))."""
    pins = pins or {}
    problem = state.problem
    reasons: dict[str, tuple[str, str]] = {}
    factor = {t: 1.0 + noise * (2.0 * rng.random() - 1.0) if noise else 1.0 for t in pool}
    rank = {t: min(PRIORITIES.index(leg.priority) for leg in trips[t]) for t in pool}
    penalty = {t: sum(problem.unserved_penalty.of(leg.priority) for leg in trips[t])
               for t in pool}
    cache: dict[str, dict[str, Proposal | None]] = {t: {} for t in pool}
    waiting = list(pool)
    while waiting:
        cars = candidate_vehicles(state)
        best_key = None
        best_trip = ""
        best_prop: Proposal | None = None
        for trip in waiting:
            own = cache[trip]
            allowed = [pins[trip]] if trip in pins and pins[trip] not in state.closed \
                else [] if trip in pins else cars
            options = []
            for vehicle_id in allowed:
                if vehicle_id not in own:
                    own[vehicle_id] = best_on_vehicle(state, vehicle_id, trips[trip])
                proposal = own[vehicle_id]
                if proposal is not None:
                    options.append(proposal)
            if not options:
                key = (-rank[trip], 1, BIG, 0.0, trip)  # nowhere to go: settle it first
                prop = None
            else:
                options.sort(key=lambda p: p.added_cost)
                first = options[0].added_cost * factor[trip]
                if len(options) < k_regret or k_regret <= 1:
                    regret = BIG if len(options) < k_regret else 0
                else:
                    regret = factor[trip] * sum(options[h].added_cost - options[0].added_cost
                                                for h in range(1, k_regret))
                key = (-rank[trip], 0, regret, -first, trip)
                prop = options[0]
            if best_key is None or key > best_key:
                best_key, best_trip, best_prop = key, trip, prop
        waiting.remove(best_trip)
        legs = trips[best_trip]
        if best_prop is None and best_trip not in pins and is_emergency(legs):
            made = make_room(state, legs, 1)
            if made:
                best_prop = made[0]
                for rid in best_prop.displaced:
                    reasons[rid] = ("no_capacity", f"taken off its car for emergency request "
                                    f"{best_trip}; no other car has room")
        if best_prop is None:
            why = state.why_not(legs, [pins[best_trip]] if best_trip in pins else None)
            for leg in legs:
                reasons[leg.id] = why
            continue
        if best_prop.added_cost > penalty[best_trip]:
            for leg in legs:
                reasons[leg.id] = ("too_costly", f"serving it adds {best_prop.added_cost} cost "
                                   f"units, more than leaving it out ({penalty[best_trip]})")
            continue
        state.apply(best_prop)
        changed = {best_prop.vehicle_id, *(v for v, _ in best_prop.changes)}
        for own in cache.values():
            for vehicle_id in changed:
                own.pop(vehicle_id, None)
        for rid in best_prop.displaced:  # make_room left them out: they are not in the pool
            reasons.setdefault(rid, ("no_capacity", "no car has room"))
        for leg in legs:
            reasons.pop(leg.id, None)
    return reasons
