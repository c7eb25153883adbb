"""The background re-plan: the whole plan re-optimised from the previous one (the warm start)
within a time limit, never moving what is committed. Pure code.

The insertion improvement (`insertion_plan.improve_plan`) always runs first, for half the
budget when the solver (`optimizer.solve.solve`: the ALNS, with its fleet reduction) is
available and for all of it otherwise. The solver then gets the rest, starting from that plan.
It knows neither the platform's booking holds nor the dispatcher's pins, so its plan is
repaired (a trip that breaks them is taken out and inserted again where the rules allow), and
it is kept only when the independent checker passes it and it is cheaper.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from optimizer.check import check
from optimizer.holds import Holds
from optimizer.insertion import PlanState, fixed_request_ids, trip_chains
from optimizer.insertion_plan import PlanResult, build_plan, improve_plan, plan_cost
from optimizer.problem import Problem, StopRef
from optimizer.schedule import times_feasible

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Replanned:
    result: PlanResult
    solver: str  # "insertion" or "insertion+solve"
    cost: int  # routes and penalties of the requests left out
    elapsed_s: float


def _solver():  # type: ignore[no-untyped-def]
    try:
        module = importlib.import_module("optimizer.solve")
    except ImportError:
        return None
    return module if hasattr(module, "solve") and hasattr(module, "SolveParams") else None


def replan(problem: Problem, warm: PlanResult, *, holds: Holds | None = None,
           pins: Mapping[str, str] | None = None, time_limit_s: float = 5.0,
           seed: int = 0, only: Iterable[str] | None = None) -> Replanned:
    """`only`: plan these trips (first leg ids) and leave the others out (the online bench's
    requests that have not arrived yet); the solver then gets the problem cut down to them."""
    started = time.monotonic()
    only = None if only is None else list(only)
    solver = _solver()
    share = 0.5 if solver is not None else 1.0
    mine = improve_plan(problem, warm, holds=holds, pins=pins,
                        time_limit_s=time_limit_s * share, seed=seed, only=only)
    best, name = mine, "insertion"
    best_cost = plan_cost(PlanState(problem, mine.routes, holds))
    # the solver's plan is repaired and checked after it stops: time kept back for that
    left_s = time_limit_s - (time.monotonic() - started) - max(0.3, 0.1 * time_limit_s)
    if solver is not None and left_s > 0.5:
        try:
            theirs = _solve(solver, problem, mine, holds, pins or {}, left_s, seed, only)
        except Exception:  # the solver is another module's: a failure must not lose the plan
            log.exception("optimizer.solve failed; keeping the insertion plan")
            theirs = None
        if theirs is not None:
            cost = plan_cost(PlanState(problem, theirs.routes, holds))
            if cost < best_cost and not check(problem, theirs.solution(problem)):
                best, name, best_cost = theirs, "insertion+solve", cost
    return Replanned(best, name, best_cost, time.monotonic() - started)


def _solve(solver, problem: Problem, warm: PlanResult, holds: Holds | None,  # type: ignore[no-untyped-def]
           pins: Mapping[str, str], time_limit_s: float, seed: int,
           only: Sequence[str] | None) -> PlanResult:
    sub = problem if only is None else restricted(problem, only)
    params = solver.SolveParams(time_limit_s=time_limit_s, seed=seed,
                                warm_start=warm.solution(problem))
    solution = solver.solve(sub, params)
    return repair(problem, solution.stop_orders(), holds=holds, pins=pins, only=only)


def restricted(problem: Problem, only: Iterable[str]) -> Problem:
    """The problem with only the trips `only` names (first leg ids) and those that may not
    move (committed, on board): what the solver plans when the others are not there yet."""
    trips = trip_chains(problem)
    fixed = fixed_request_ids(problem)
    kept = {leg.id for first in only for leg in trips.get(first, ())}
    kept |= {leg.id for legs in trips.values() if any(leg.id in fixed for leg in legs)
             for leg in legs}
    return replace(problem, requests=tuple(r for r in problem.requests if r.id in kept))


def repair(problem: Problem, routes: Mapping[str, tuple[StopRef, ...]], *,
           holds: Holds | None, pins: Mapping[str, str],
           only: Sequence[str] | None = None) -> PlanResult:
    """Takes out the trips that break a hold or sit on another car than their pin, then
    inserts them again (and whatever else is left out)."""
    trips = trip_chains(problem)
    where = {ref.request_id: vid for vid, refs in routes.items() for ref in refs}
    state = PlanState(problem, {}, holds)
    broken: set[str] = set()
    for vehicle_id, refs in routes.items():
        kept: list[StopRef] = []
        for trip, legs in trips.items():
            if where.get(legs[0].id) != vehicle_id:
                continue
            wrong_car = trip in pins and pins[trip] != vehicle_id
            others = {r.request_id for r in kept}
            if wrong_car or not state.holds_fit(vehicle_id, legs, others):
                broken |= {leg.id for leg in legs}
            else:
                kept += [ref for ref in refs if ref.request_id in {leg.id for leg in legs}]
        state.set_route(vehicle_id, tuple(ref for ref in refs if ref.request_id not in broken))
    return build_plan(problem, holds=holds, warm_start=state.routes, pins=pins, only=only)


def carry_over(problem: Problem, routes: Mapping[str, Sequence[tuple[str, str]]], *,
               holds: Holds | None = None, pins: Mapping[str, str] | None = None
               ) -> dict[str, tuple[StopRef, ...]]:
    """A previous plan's routes made valid for a changed problem (a warm start): stops of
    requests no longer there are dropped with the rest of their trip, trips pinned to another
    car and trips whose hold no longer fits their car (it took an order meanwhile) are taken
    out, and a route that no schedule can keep any more is dropped whole. Routes begin with
    their committed stops again. What is taken out is inserted anew by the caller."""
    pins = pins or {}
    trips = trip_chains(problem)
    first_of = {leg.id: first for first, legs in trips.items() for leg in legs}
    fixed = fixed_request_ids(problem)
    state = PlanState(problem, {}, holds)
    head = dict(state.routes)  # committed stops and passengers on board
    for vehicle_id, refs in routes.items():
        if vehicle_id not in problem.vehicle_by_id:
            continue
        kept: list[StopRef] = list(head.get(vehicle_id, ()))
        placed = {ref.request_id for ref in kept}
        whole = _whole_trips(refs, trips, first_of)
        for trip in dict.fromkeys(first_of[rid] for rid, _ in refs if rid in first_of):
            legs = trips[trip]
            if trip not in whole or any(leg.id in fixed for leg in legs):
                continue
            if pins.get(trip, vehicle_id) != vehicle_id:
                continue
            if not state.holds_fit(vehicle_id, legs, placed):
                continue
            placed |= {leg.id for leg in legs}
        order = [StopRef(*ref) for ref in refs if ref[0] in placed and ref[0] not in fixed]
        candidate = tuple(kept) + tuple(order)
        vehicle = problem.vehicle_by_id[vehicle_id]
        if times_feasible(problem, vehicle, candidate):
            state.set_route(vehicle_id, candidate)
    return dict(state.routes)


def _whole_trips(refs: Sequence[tuple[str, str]], trips, first_of) -> set[str]:  # type: ignore[no-untyped-def]
    """The trips all of whose stops are in `refs`."""
    present = {tuple(ref) for ref in refs}
    return {first for first, legs in trips.items()
            if all((leg.id, kind) in present for leg in legs for kind in ("pickup", "dropoff"))
            and first in {first_of.get(ref[0]) for ref in refs}}
