"""Room for an emergency (issue #6: an emergency request is never dropped while a feasible car
exists). When no car has room for it as the plan stands, try the cars it could take: take the
lower-priority trips off one car (never its committed stops or passengers on board), place the
emergency there, and insert the trips taken off anywhere they fit — on other cars, or back on
the same one; those that fit nowhere are left out. The cheapest outcome (routes plus the
penalties of what is left out) wins. Pure code.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.evaluate import build_route
from optimizer.insertion import PlanState, Proposal, fixed_request_ids, trip_chains
from optimizer.insertion_route import fits_vehicle
from optimizer.problem import PRIORITIES, Request, StopRef
from optimizer.schedule import times_feasible

MAX_CARS = 8  # cars tried, those with the fewest trips to move first


def _rank(legs: Sequence[Request]) -> int:
    return min(PRIORITIES.index(leg.priority) for leg in legs)


def make_room(state: PlanState, legs: Sequence[Request], k: int = 1) -> list[Proposal]:
    problem = state.problem
    chains = trip_chains(problem)
    first_of = {leg.id: first for first, chain in chains.items() for leg in chain}
    fixed = fixed_request_ids(problem)
    rank = _rank(legs)
    options = []
    for vehicle in problem.vehicles:
        if vehicle.id in state.closed or not all(fits_vehicle(vehicle, leg) for leg in legs):
            continue
        refs = state.routes.get(vehicle.id, ())
        trips = dict.fromkeys(first_of[r.request_id] for r in refs if r.request_id in first_of)
        movable = [t for t in trips if _rank(chains[t]) > rank
                   and not any(leg.id in fixed for leg in chains[t])]
        if movable:
            options.append((len(movable), vehicle.id, movable))
    options.sort()
    found = []
    for _, vehicle_id, movable in options[:MAX_CARS]:
        proposal = _try(state, legs, vehicle_id, movable, chains)
        if proposal is not None:
            found.append(proposal)
    found.sort(key=lambda p: (p.added_cost, p.vehicle_id))
    return found[:k]


def _try(state: PlanState, legs: Sequence[Request], vehicle_id: str, movable: list[str],
         chains: dict[str, tuple[Request, ...]]) -> Proposal | None:
    problem = state.problem
    vehicle = problem.vehicle_by_id[vehicle_id]
    taken = {leg.id for trip in movable for leg in chains[trip]}
    kept = tuple(r for r in state.routes[vehicle_id] if r.request_id not in taken)
    if kept and not times_feasible(problem, vehicle, kept):
        return None
    trial = PlanState(problem, state.routes, state.holds)
    trial.set_route(vehicle_id, kept)
    open_ids = [v.id for v in problem.vehicles if v.id not in state.closed] \
        if state.closed else None
    placed = trial.best_insertions(legs, 1, [vehicle_id])
    if not placed:
        return None
    trial.apply(placed[0])
    displaced: list[str] = []
    for trip in sorted(movable, key=lambda t: (_rank(chains[t]), t)):
        again = trial.best_insertions(chains[trip], 1, open_ids)
        if again:
            trial.apply(again[0])
        else:
            displaced += [leg.id for leg in chains[trip]]
    changed = {v for v in set(trial.routes) | set(state.routes)
               if tuple(trial.routes.get(v, ())) != tuple(state.routes.get(v, ()))}
    penalty = sum(problem.unserved_penalty.of(problem.request_by_id[r].priority)
                  for r in displaced)
    added = sum(trial.route_total(v) - state.route_total(v) for v in changed) + penalty
    refs = tuple(trial.routes[vehicle_id])
    ids = [leg.id for leg in legs]
    positions = tuple(refs.index(StopRef(rid, kind)) for rid in ids for kind in ("pickup", "dropoff"))
    others = tuple((v, tuple(trial.routes.get(v, ()))) for v in sorted(changed - {vehicle_id}))
    return Proposal(vehicle_id, positions, added, refs, build_route(problem, vehicle, refs),
                    others, tuple(displaced))
