"""Adaptive large neighbourhood search on the general problem (issue #6). Pure code.

Each iteration takes a few trips out of the current plan (a ruin operator of alns_ruins.py,
picked by adaptive weights), inserts them again with those still left out (regret-k with
noise, alns_recreate.py), swaps route tails while that pays (2-opt*, alns_local.py, on the
routes just changed) and accepts the result by simulated annealing: always when cheaper,
with probability exp(-Δ/T) when dearer. The temperature falls geometrically from `t0_frac` to
`t_end_frac` of the first plan's routing cost, over the time limit, or over the iterations when
`max_iterations` is set (then the run is repeatable whatever the machine's load); the routing
cost it scales by leaves fixed costs out. Operators that
find new best, better or accepted plans gain weight every `segment` iterations. The request
bank (`bank_frac`) lets the annealing judge a leg left out at about the mean cost per leg
rather than its penalty, and the kick (`stagnation`) starts again from the best plan with a
large ruin when no new best has come for a while; the best plan is always chosen by the real
cost.

Feasibility is by construction: every insertion is screened by H5's insertion search
(insertion_route.leg_slots) and confirmed exactly (alns_feasible.fast_times_feasible, the same
answer as schedule.times_feasible, faster); taking trips out is confirmed too (a matrix without the triangle inequality
could make a shorter route late). Committed stops and passengers on board never move.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from optimizer.alns_local import two_opt_star
from optimizer.alns_recreate import recreate
from optimizer.alns_ruins import RUINS, RuinContext, placed_trips
from optimizer.insertion import PlanState
from optimizer.insertion_plan import take_out
from optimizer.problem import Request

SCORE_BEST, SCORE_BETTER, SCORE_ACCEPTED = 33.0, 9.0, 13.0
RECREATES = ((1, 0.0), (2, 0.0), (3, 0.0), (1, 0.1), (2, 0.1))  # (regret k, noise)


@dataclass(frozen=True)
class AlnsConfig:
    ruin_min: int = 4
    ruin_max_frac: float = 0.15  # of the movable trips
    ruin_max: int = 30
    t0_frac: float = 0.003
    t_end_frac: float = 1e-4
    segment: int = 50
    reaction: float = 0.2
    max_iterations: int | None = None
    local_search: bool = True  # 2-opt* between routes after each recreate
    ruins: tuple[str, ...] = ("random", "worst", "related", "string", "route", "near_unplaced")
    # The request bank: when > 0, the annealing judges a movable leg left out at this many
    # times the mean routing cost per served leg (capped by its real penalty), so the search
    # may pass through plans that leave a trip out for a while; the best plan is still chosen
    # by the real cost. 0: a leg left out costs its real penalty in the annealing too.
    bank_frac: float = 0.0
    # A kick after this many iterations without a new best (0: never): back to the best plan,
    # then a ruin of `kick_frac` of the movable trips, its result accepted whatever it costs.
    stagnation: int = 0
    kick_frac: float = 0.4


@dataclass
class AlnsResult:
    routes: dict
    reasons: dict[str, tuple[str, str]]
    cost: int
    iterations: int


def plan_total(state: PlanState, movable: Sequence[str],
               trips: Mapping[str, tuple[Request, ...]]) -> int:
    """Routes plus the penalties of the movable trips left out (fixed ones are served)."""
    return _totals(state, movable, trips, None)[0]


def _totals(state: PlanState, movable: Sequence[str], trips: Mapping[str, tuple[Request, ...]],
            bank_cost: int | None) -> tuple[int, int]:
    """(the real cost, the cost the annealing compares) in one pass: the same routes, the legs
    left out at their penalty, and in the second at no more than `bank_cost` (None: equal)."""
    penalty = state.problem.unserved_penalty
    served = state.served_ids()
    routes = sum(state.route_total(v.id) for v in state.problem.vehicles)
    real = annealed = routes
    for trip in movable:
        for leg in trips[trip]:
            if leg.id not in served:
                cost = penalty.of(leg.priority)
                real += cost
                annealed += cost if bank_cost is None else min(bank_cost, cost)
    return real, annealed


def variable_cost(state: PlanState) -> int:
    """The routes' cost without fixed costs: the scale of the annealing temperature (a fixed
    cost of 10^8 per car would make any distance move look small)."""
    total = 0
    for vehicle in state.problem.vehicles:
        cost = state.route_total(vehicle.id)
        if cost and state.routes.get(vehicle.id) and vehicle.price_plan is not None:
            cost -= vehicle.price_plan.fixed_cost
        total += cost
    return total


def unserved_legs(state: PlanState, movable: Sequence[str],
                  trips: Mapping[str, tuple[Request, ...]]) -> int:
    served = state.served_ids()
    return sum(1 for trip in movable for leg in trips[trip] if leg.id not in served)


def run_alns(state: PlanState, trips: Mapping[str, tuple[Request, ...]], movable: Sequence[str],
             reasons: dict[str, tuple[str, str]], deadline: float, seed: int,
             config: AlnsConfig = AlnsConfig(), pins: Mapping[str, str] | None = None,
             stop_at_unserved: int | None = None) -> AlnsResult:
    """Improves the plan in `state` until `deadline` (time.monotonic) or the iteration cap;
    `state` ends holding the best plan found. With `stop_at_unserved`, it stops as soon as the
    best plan leaves at most that many movable legs out (the fleet reduction's goal)."""
    rng = random.Random(seed)
    first_of = {leg.id: t for t in movable for leg in trips[t]}
    requests = state.problem.request_by_id
    movable_set = set(movable)
    ruins = [RUINS[name] for name in config.ruins]
    w_ruin, w_rec = [1.0] * len(ruins), [1.0] * len(RECREATES)
    sc_ruin, sc_rec = [0.0] * len(ruins), [0.0] * len(RECREATES)
    n_ruin, n_rec = [0] * len(ruins), [0] * len(RECREATES)
    bank_cost = _bank_cost(state, movable, trips, config.bank_frac)
    best_cost, current = _totals(state, movable, trips, bank_cost)
    best_routes, best_reasons = dict(state.routes), dict(reasons)
    routing = variable_cost(state)
    t0 = max(1.0, config.t0_frac * routing)
    t_end = max(1e-3, config.t_end_frac * routing)
    q_max = max(config.ruin_min, min(config.ruin_max, int(config.ruin_max_frac * len(movable))))
    started = time.monotonic()
    iteration = 0
    since_best = 0
    while movable:
        if stop_at_unserved is not None and \
                unserved_legs(state, movable, trips) <= stop_at_unserved:
            break
        now = time.monotonic()
        if now >= deadline or (config.max_iterations is not None
                               and iteration >= config.max_iterations):
            break
        if config.max_iterations is not None:
            progress = iteration / max(1, config.max_iterations)
        else:
            progress = (now - started) / max(1e-9, deadline - started)
        temperature = t0 * (t_end / t0) ** min(1.0, progress)
        iteration += 1
        vehicle_of_trip = placed_trips(state, movable, first_of)
        unplaced = [t for t in movable if t not in vehicle_of_trip]
        ctx = RuinContext(state, trips, list(vehicle_of_trip), vehicle_of_trip, first_of,
                          movable_set, rng, unplaced)
        q = rng.randint(min(config.ruin_min, len(movable)), q_max)
        kick = config.stagnation > 0 and since_best >= config.stagnation
        if kick:
            _restore(state, best_routes)
            vehicle_of_trip = placed_trips(state, movable, first_of)
            ctx = RuinContext(state, trips, list(vehicle_of_trip), vehicle_of_trip, first_of,
                              movable_set, rng, [])
            q = max(q, int(config.kick_frac * len(movable)))
            since_best = 0
        ri = rng.choices(range(len(ruins)), w_ruin)[0]
        ci = rng.choices(range(len(RECREATES)), w_rec)[0]
        chosen = ruins[ri](ctx, q)
        before_routes = dict(state.routes)
        if not take_out(state, trips, chosen):
            continue
        served = state.served_ids()
        pool = list(dict.fromkeys([*chosen, *(t for t in movable
                                              if trips[t][0].id not in served)]))
        k_regret, noise = RECREATES[ci]
        new_reasons = recreate(state, trips, pool, rng, k_regret, noise, pins)
        if config.local_search:
            touched = {v for v in set(state.routes) | set(before_routes)
                       if state.routes.get(v, ()) != before_routes.get(v, ())}
            two_opt_star(state, first_of, requests, touched,
                         None if config.max_iterations is not None else deadline)
        real, cost = _totals(state, movable, trips, bank_cost)
        score = 0.0
        since_best += 1
        if kick:
            current = cost  # accepted whatever it costs (the best plan is kept aside)
            if real < best_cost:
                best_cost, best_routes, best_reasons = real, dict(state.routes), new_reasons
            continue
        if real < best_cost:
            since_best = 0
            best_cost, best_routes = real, dict(state.routes)
            best_reasons = new_reasons
            current, score = cost, SCORE_BEST
        elif cost < current:
            current, score = cost, SCORE_BETTER
        elif cost > current and rng.random() < math.exp(-(cost - current) / temperature):
            current, score = cost, SCORE_ACCEPTED
        elif cost > current:
            _restore(state, before_routes)
        sc_ruin[ri] += score
        sc_rec[ci] += score
        n_ruin[ri] += 1
        n_rec[ci] += 1
        if iteration % config.segment == 0:
            for weights, scores, counts in ((w_ruin, sc_ruin, n_ruin), (w_rec, sc_rec, n_rec)):
                for h in range(len(weights)):
                    if counts[h]:
                        weights[h] = max(0.05, (1 - config.reaction) * weights[h]
                                         + config.reaction * scores[h] / counts[h])
                    scores[h], counts[h] = 0.0, 0
    _restore(state, best_routes)
    return AlnsResult(dict(state.routes), best_reasons, best_cost, iteration)


def _bank_cost(state: PlanState, movable: Sequence[str],
               trips: Mapping[str, tuple[Request, ...]], bank_frac: float) -> int | None:
    """What the annealing charges per movable leg left out (config.bank_frac), or None."""
    if bank_frac <= 0:
        return None
    served = state.served_ids()
    legs = sum(1 for t in movable for leg in trips[t] if leg.id in served)
    return max(1, int(bank_frac * variable_cost(state) / max(1, legs)))


def _restore(state: PlanState, routes: Mapping[str, tuple]) -> None:
    for vehicle_id in set(routes) | set(state.routes):
        if state.routes.get(vehicle_id, ()) != routes.get(vehicle_id, ()):
            state.set_route(vehicle_id, routes.get(vehicle_id, ()))
