"""A whole plan from insertions: a first solution by regret-2 insertion, and a time-limited
improvement from a previous plan (the warm start), never moving what is committed. Pure code.

`build_plan`: trips pinned to a car first (on that car only), then every other trip by
priority (emergency, law enforcement, ordinary) and, within a priority, the trip whose best
car is hardest to replace first (the largest regret: the second-best car's cost minus the best
one's; a trip with one car left goes at once). Each trip watches the `GRANULAR` cars where it
was cheapest; inserting into a car re-prices only the trips that watch it, and a trip whose
cars all fill up looks at the whole fleet again. A trip that costs more to serve than leaving
it out (its priority's penalty) is left out as `too_costly`.

`improve_plan`: relocate moves (take a trip out, put it back where it is cheapest, keep the
change if the plan got cheaper), then ruin-and-recreate rounds (take out a trip and its
nearest neighbours in time and place, re-insert them by regret, keep the result only if it is
cheaper), until the time limit or until many rounds in a row gained nothing. Committed stops and passengers on board never move; pinned
trips stay on their car.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from optimizer.alns_feasible import fast_times_feasible
from optimizer.evaluate import evaluate_routes
from optimizer.holds import Holds
from optimizer.insertion import Plan, PlanState, fixed_request_ids, is_emergency, trip_chains
from optimizer.insertion_room import make_room
from optimizer.problem import PRIORITIES, Problem, Request, StopRef
from optimizer.solution import Solution

GRANULAR = 25  # cars a trip watches while the plan is built
RUIN_SIZE = (2, 6)  # trips taken out per ruin-and-recreate round
STALL_ROUNDS_PER_TRIP = 3  # rounds without a gain (per movable trip) before giving up early
INF = float("inf")


@dataclass(frozen=True)
class PlanResult:
    routes: dict[str, tuple[StopRef, ...]]
    reasons: dict[str, tuple[str, str]]  # left-out request id -> (reason code, message)

    def solution(self, problem: Problem) -> Solution:
        return evaluate_routes(problem, self.routes, self.reasons)


class _Builder:
    def __init__(self, state: PlanState, trips: Mapping[str, tuple[Request, ...]],
                 pins: Mapping[str, str]) -> None:
        self.state = state
        self.trips = trips
        self.pins = pins
        self.reasons: dict[str, tuple[str, str]] = {}
        self.estimates: dict[str, dict[str, int]] = {}
        self.watchers: dict[str, set[str]] = {}

    def run(self, todo: Iterable[str]) -> None:
        todo = list(todo)
        for trip in sorted((t for t in todo if t in self.pins), key=self._start):
            self._place(trip, [self.pins[trip]])
        rest = [t for t in todo if t not in self.pins]
        for trip in rest:
            self._scan(trip, granular=True)
        waiting = set(rest)
        while waiting:
            trip = max(waiting, key=self._urgency)
            waiting.discard(trip)
            cars = sorted(self.estimates.get(trip, {}), key=self.estimates[trip].get)
            vehicle_id = self._place(trip, cars) if cars else None
            if vehicle_id is None and (len(cars) >= GRANULAR or is_emergency(self.trips[trip])):
                vehicle_id = self._place(trip, None)  # its watched cars are full: all of them
            self._forget(trip)
            if vehicle_id is not None:
                for other in list(self.watchers.get(vehicle_id, ())):
                    self._reprice(other, vehicle_id)

    def _start(self, trip: str) -> tuple[int, str]:
        window = self.trips[trip][0].pickup_window
        return (window.start_s if window else 0), trip

    def _urgency(self, trip: str) -> tuple[int, float, int, str]:
        costs = sorted(self.estimates.get(trip, {}).values())
        regret = INF if len(costs) < 2 else costs[1] - costs[0]
        rank = PRIORITIES.index(self.trips[trip][0].priority)
        start, _ = self._start(trip)
        return -rank, regret, -start, trip

    def _scan(self, trip: str, granular: bool) -> None:
        legs = self.trips[trip]
        found = {}
        for vehicle in self.state.problem.vehicles:
            if self.state.may_carry(vehicle, legs):
                placements = self.state.candidates(vehicle, legs)
                if placements:
                    found[vehicle.id] = min(c.estimate for c in placements)
        if granular and len(found) > GRANULAR:
            found = dict(sorted(found.items(), key=lambda item: item[1])[:GRANULAR])
        self.estimates[trip] = found
        for vehicle_id in found:
            self.watchers.setdefault(vehicle_id, set()).add(trip)

    def _reprice(self, trip: str, vehicle_id: str) -> None:
        legs = self.trips[trip]
        vehicle = self.state.problem.vehicle_by_id[vehicle_id]
        placements = self.state.candidates(vehicle, legs) if self.state.may_carry(
            vehicle, legs) else []
        if placements:
            self.estimates[trip][vehicle_id] = min(c.estimate for c in placements)
            return
        self.estimates[trip].pop(vehicle_id, None)
        self.watchers[vehicle_id].discard(trip)
        if not self.estimates[trip]:
            self._scan(trip, granular=True)

    def _forget(self, trip: str) -> None:
        for vehicle_id in self.estimates.pop(trip, {}):
            self.watchers[vehicle_id].discard(trip)

    def _place(self, trip: str, vehicle_ids: Sequence[str] | None) -> str | None:
        legs = self.trips[trip]
        proposals = self.state.best_insertions(legs, 1, vehicle_ids)
        if not proposals and vehicle_ids is None and trip not in self.pins and is_emergency(legs):
            proposals = make_room(self.state, legs, 1)  # never drop an emergency a car can take
            for rid in proposals[0].displaced if proposals else ():
                self.reasons[rid] = ("no_capacity", f"taken off its car for emergency request "
                                     f"{trip}; no other car has room")
        if not proposals:
            if vehicle_ids is None or trip in self.pins:
                reason = self.state.why_not(legs, vehicle_ids if trip in self.pins else None)
                for leg in legs:
                    self.reasons[leg.id] = reason
            return None
        best = proposals[0]
        penalty = sum(self.state.problem.unserved_penalty.of(leg.priority) for leg in legs)
        if best.added_cost > penalty:
            for leg in legs:
                self.reasons[leg.id] = ("too_costly", f"serving it adds {best.added_cost} cost "
                                        f"units, more than leaving it out ({penalty})")
            return None
        self.state.apply(best)
        return best.vehicle_id


def build_plan(problem: Problem, *, holds: Holds | None = None, warm_start: Plan | None = None,
               pins: Mapping[str, str] | None = None,
               only: Iterable[str] | None = None) -> PlanResult:
    """Every trip not in `warm_start` inserted (module docstring), or only the trips `only`
    names (first leg ids: the others stay out, without a reason). `pins` maps a trip's first
    leg id to the car it must go on."""
    state = PlanState(problem, warm_start, holds)
    trips = trip_chains(problem)
    placed = state.served_ids() | fixed_request_ids(problem)
    wanted = set(trips) if only is None else set(only)
    todo = [t for t, legs in trips.items()
            if t in wanted and not any(leg.id in placed for leg in legs)]
    builder = _Builder(state, trips, pins or {})
    builder.run(todo)
    reasons = {rid: why for rid, why in builder.reasons.items() if rid not in state.served_ids()}
    return PlanResult(dict(state.routes), reasons)


def improve_plan(problem: Problem, start: PlanResult, *, holds: Holds | None = None,
                 pins: Mapping[str, str] | None = None, time_limit_s: float = 5.0,
                 seed: int = 0, only: Iterable[str] | None = None) -> PlanResult:
    """A cheaper plan from `start` within `time_limit_s` (module docstring); with `only`, the
    other trips are left alone (neither moved nor inserted)."""
    deadline = time.monotonic() + time_limit_s
    rng = random.Random(seed)
    pins = dict(pins or {})
    state = PlanState(problem, start.routes, holds)
    trips = trip_chains(problem)
    fixed = fixed_request_ids(problem)
    wanted = set(trips) if only is None else set(only)
    movable = [t for t, legs in trips.items()
               if t in wanted and not any(leg.id in fixed for leg in legs)]
    reasons = dict(start.reasons)
    _insert_left_out(state, trips, movable, pins, reasons)  # a trip left out costs the most
    improved = True
    while improved and time.monotonic() < deadline:
        improved = _relocate_pass(state, trips, movable, pins, rng, deadline)
        if time.monotonic() < deadline:
            improved |= _insert_left_out(state, trips, movable, pins, reasons)
    stalled, patience = 0, max(10, STALL_ROUNDS_PER_TRIP * len(movable))
    while time.monotonic() < deadline and stalled < patience:
        stalled = 0 if _ruin_and_recreate(state, trips, movable, pins, rng, reasons) else \
            stalled + 1
    served = state.served_ids()
    return PlanResult(dict(state.routes),
                      {rid: why for rid, why in reasons.items() if rid not in served})


def plan_cost(state: PlanState) -> int:
    """The routes' cost plus the penalties of the requests left out."""
    problem = state.problem
    served = state.served_ids() | fixed_request_ids(problem)
    routes = sum(state.route_total(v.id) for v in problem.vehicles)
    left = sum(problem.unserved_penalty.of(r.priority) for r in problem.requests
               if r.id not in served)
    return routes + left


def _without(refs: Sequence[StopRef], ids: set[str]) -> tuple[StopRef, ...]:
    return tuple(ref for ref in refs if ref.request_id not in ids)


def take_out(state: PlanState, trips: Mapping[str, tuple[Request, ...]],
             chosen: Iterable[str], vehicle_of: Mapping[str, str] | None = None) -> bool:
    """Removes the trips from their routes; False (nothing changed) if a shortened route would
    break a time rule (possible only where the matrix breaks the triangle inequality).
    `vehicle_of` (request id -> vehicle id) saves looking the routes up when the caller has it."""
    where = state.vehicle_of() if vehicle_of is None else vehicle_of
    ids = {leg.id for trip in chosen for leg in trips[trip]}
    changed = {}
    for vehicle_id in {where[rid] for rid in ids if rid in where}:
        refs = _without(state.routes[vehicle_id], ids)
        vehicle = state.problem.vehicle_by_id[vehicle_id]
        if refs and not fast_times_feasible(state.problem, vehicle, refs):
            return False
        changed[vehicle_id] = refs
    for vehicle_id, refs in changed.items():
        state.set_route(vehicle_id, refs)
    return True


def _relocate_pass(state: PlanState, trips, movable: list[str], pins: Mapping[str, str],
                   rng: random.Random, deadline: float) -> bool:
    order = movable[:]
    rng.shuffle(order)
    improved = False
    for trip in order:
        if time.monotonic() >= deadline:
            break
        where = state.vehicle_of()
        vehicle_id = where.get(trips[trip][0].id)
        if vehicle_id is None:
            continue
        before = state.routes[vehicle_id]
        if not take_out(state, trips, [trip]):
            continue
        saved = state.route_total(vehicle_id, before) - state.route_total(vehicle_id)
        cars = [pins[trip]] if trip in pins else None
        best = state.best_insertions(trips[trip], 1, cars)
        if best and best[0].added_cost < saved:
            state.apply(best[0])
            improved = True
        else:
            state.set_route(vehicle_id, before)
    return improved


def _insert_left_out(state: PlanState, trips, movable: list[str], pins: Mapping[str, str],
                     reasons: dict[str, tuple[str, str]]) -> bool:
    served = state.served_ids()
    improved = False
    for trip in movable:
        legs = trips[trip]
        if legs[0].id in served:
            continue
        best = state.best_insertions(legs, 1, [pins[trip]] if trip in pins else None)
        penalty = sum(state.problem.unserved_penalty.of(leg.priority) for leg in legs)
        if best and best[0].added_cost <= penalty:
            state.apply(best[0])
            for leg in legs:
                reasons.pop(leg.id, None)
            improved = True
    return improved


def _related(state: PlanState, trips, movable: list[str], rng: random.Random) -> list[str]:
    """A random placed trip and its nearest neighbours (pickup time and place)."""
    served = state.served_ids()
    placed = [t for t in movable if trips[t][0].id in served]
    if not placed:
        return []
    seed_trip = rng.choice(placed)
    first = trips[seed_trip][0]
    duration = state.problem.duration_s

    def distance(trip: str) -> float:
        leg = trips[trip][0]
        a = first.pickup_window.start_s if first.pickup_window else 0
        b = leg.pickup_window.start_s if leg.pickup_window else 0
        return abs(a - b) + duration[first.pickup_node][leg.pickup_node] + rng.random()

    size = rng.randint(*RUIN_SIZE)
    return sorted(placed, key=distance)[:size]


def _ruin_and_recreate(state: PlanState, trips, movable: list[str], pins: Mapping[str, str],
                       rng: random.Random, reasons: dict[str, tuple[str, str]]) -> bool:
    """One round; True when it made the plan cheaper."""
    chosen = _related(state, trips, movable, rng)
    if not chosen:
        return False
    before_routes = dict(state.routes)
    before = plan_cost(state)
    if not take_out(state, trips, chosen):
        return False
    builder = _Builder(state, trips, {t: pins[t] for t in chosen if t in pins})
    builder.run(chosen)
    if plan_cost(state) < before:
        for rid, why in builder.reasons.items():
            reasons[rid] = why
        return True
    for vehicle_id in set(before_routes) | set(state.routes):
        if state.routes.get(vehicle_id, ()) != before_routes.get(vehicle_id, ()):
            state.set_route(vehicle_id, before_routes.get(vehicle_id, ()))
    return False
