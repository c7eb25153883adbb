"""The product solver (issue #6): `solve(problem, SolveParams) -> Solution`. Pure code.

1. First plan: the warm start (a previous Solution) made valid for this problem by
   `replan.carry_over` (committed stops first again, vanished requests dropped), then every trip
   it lacks inserted by H5's regret-2 insertion (`insertion_plan.build_plan`); without a warm
   start, that insertion alone.
2. When cars have a fixed cost (leased cars' day rates; the Li & Lim "vehicles first"): the
   fleet reduction (`optimizer.alns_fleet`), up to `fleet_share` of the time, empties cars
   the plain search would keep.
3. ALNS (`optimizer.alns`) until the time limit (or `max_iterations`).
4. The answer built by `evaluate_routes` (times, loads, costs), with the reason of every request
   left out.

Never moved: committed stops and passengers on board (the plan always starts from them). An
emergency is never dropped while a car can take it: emergencies are inserted before anything
else, room is made for them by moving lower-priority trips (insertion_room.make_room), and
their penalty dwarfs any routing cost, so the best plan (the one returned, chosen by the real
cost) never leaves one out for a cheaper route; the annealing's request bank may pass through
such plans, never end on one.
The result is deterministic for a seed when `max_iterations` bounds the search (with only a
time limit, how far the search gets depends on the machine). The first insertion plan counts
against the time limit but is not interrupted; the last ALNS iteration may overrun it a little.
Other engines (`SolveParams.engine`): "ortools", the OR-Tools model alone
(optimizer/ortools_solver.py: the issue's baseline, kept runnable to measure against), and
"alns+ortools", the ALNS for 1 − `polish_share` of the time, then OR-Tools' guided local search
from its plan, the cheaper of the two kept (not for a day under way: OR-Tools plans from the
depots only). bench/optimizer_darp.py --engines compares them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from optimizer.alns import AlnsConfig, run_alns
from optimizer.alns_feasible import fast_times_feasible
from optimizer.alns_fleet import reduce_fleet
from optimizer.evaluate import evaluate_routes
from optimizer.insertion import PlanState, base_plan, fixed_request_ids, trip_chains
from optimizer.insertion_plan import build_plan
from optimizer.problem import Problem, StopRef
from optimizer.solution import Solution

ENGINES = ("alns", "ortools", "alns+ortools")


@dataclass(frozen=True)
class SolveParams:
    time_limit_s: float = 10.0
    seed: int = 0
    warm_start: Solution | None = None
    max_iterations: int | None = None  # an iteration cap (repeatable runs); None: time only
    ruin_min: int = 4  # trips taken out per iteration: from ruin_min to
    ruin_max_frac: float = 0.15  # this share of the movable trips, at most ruin_max
    ruin_max: int = 30
    t0_frac: float = 0.003  # annealing temperature, as a share of the first plan's cost
    t_end_frac: float = 1e-4
    bank_frac: float = 1.0  # AlnsConfig.bank_frac: the request bank's charge in the annealing
    stagnation: int = 800  # AlnsConfig.stagnation: iterations without a new best before a kick
    fleet_share: float = 0.4  # at most this share of the time on emptying fixed-cost cars
    fleet_attempt_frac: float = 0.08  # each try to empty one car: this share of the time
    fleet_attempts: int = 3  # failed tries in a row that end the fleet reduction
    fleet_after: float = 0.0  # the share of the time the ALNS runs before the fleet reduction
    # "alns" (the default), "ortools" (the OR-Tools model alone, the baseline) or
    # "alns+ortools" (ALNS, then OR-Tools GLS from its plan for `polish_share` of the time)
    engine: str = "alns"
    polish_share: float = 0.3

    def alns_config(self) -> AlnsConfig:
        return AlnsConfig(ruin_min=self.ruin_min, ruin_max_frac=self.ruin_max_frac,
                          ruin_max=self.ruin_max, t0_frac=self.t0_frac,
                          t_end_frac=self.t_end_frac, max_iterations=self.max_iterations,
                          bank_frac=self.bank_frac, stagnation=self.stagnation)


def solve(problem: Problem, params: SolveParams) -> Solution:
    if params.engine not in ENGINES:
        raise ValueError(f"unknown engine {params.engine!r}: one of {', '.join(ENGINES)}")
    if params.engine == "ortools":
        from optimizer.ortools_solver import solve_ortools

        warm = None if params.warm_start is None else params.warm_start.stop_orders()
        return solve_ortools(problem, params.time_limit_s, warm)
    if params.engine == "alns+ortools":
        from optimizer.ortools_solver import solve_ortools

        alns_s = params.time_limit_s * (1.0 - params.polish_share)
        first = _solve_alns(problem, replace(params, time_limit_s=alns_s))
        if any(v.state is not None for v in problem.vehicles):
            return first  # OR-Tools does not model a day under way
        polished = solve_ortools(problem, params.time_limit_s - alns_s, first.stop_orders())
        better = (len(polished.unassigned), polished.cost.total) < \
            (len(first.unassigned), first.cost.total)
        return polished if better else first
    return _solve_alns(problem, params)


def _solve_alns(problem: Problem, params: SolveParams) -> Solution:
    deadline = time.monotonic() + params.time_limit_s
    warm = None
    if params.warm_start is not None:
        from optimizer.replan import carry_over  # replan imports this module lazily

        warm = carry_over(problem, params.warm_start.stop_orders())
    warm = _with_committed_dropoffs(problem, warm)
    first = build_plan(problem, warm_start=warm)
    trips = trip_chains(problem)
    fixed = fixed_request_ids(problem)
    movable = [t for t, legs in trips.items() if not any(leg.id in fixed for leg in legs)]
    state = PlanState(problem, first.routes)
    reasons = dict(first.reasons)
    config = params.alns_config()
    if params.fleet_share > 0 and any(v.price_plan and v.price_plan.fixed_cost > 0
                                      for v in problem.vehicles):
        if params.fleet_after > 0:  # a good structure first: cars emptied from it fit better
            before_config = config if config.max_iterations is None else \
                replace(config, max_iterations=int(config.max_iterations * params.fleet_after))
            reasons = run_alns(state, trips, movable, reasons,
                               time.monotonic() + params.fleet_after * params.time_limit_s,
                               params.seed + 1, before_config).reasons
        now = time.monotonic()
        fleet_config = config if config.max_iterations is None else \
            replace(config, max_iterations=max(50, config.max_iterations // 10))
        reasons = reduce_fleet(
            state, trips, movable, reasons,
            min(deadline, now + params.fleet_share * params.time_limit_s), params.seed,
            fleet_config, attempt_s=params.fleet_attempt_frac * params.time_limit_s,
            attempts=params.fleet_attempts)
    result = run_alns(state, trips, movable, reasons, deadline, params.seed, config)
    served = state.served_ids()
    reasons = {rid: why for rid, why in result.reasons.items() if rid not in served}
    return evaluate_routes(problem, state.routes, reasons)


def _with_committed_dropoffs(problem: Problem, warm: dict | None) -> dict:
    """A committed pickup whose drop-off is not committed still needs that drop-off on the same
    car: placed where it adds the least distance (after the committed stops), unless the warm
    start has it already. Nothing else moves it, as the request is fixed."""
    routes = dict(base_plan(problem))
    routes.update(warm or {})
    dist = problem.dist_m
    for vehicle in problem.vehicles:
        state = vehicle.state
        if state is None:
            continue
        refs = tuple(routes.get(vehicle.id, ()))
        head = len(state.committed)
        for ref in state.committed:
            drop = StopRef(ref[0], "dropoff")
            if ref[1] != "pickup" or drop in refs:
                continue
            node = problem.request_by_id[ref[0]].dropoff_node
            path = [vehicle.origin_node, *(problem.stop_node(r) for r in refs), vehicle.end_node]
            slots = sorted(range(head, len(refs) + 1), key=lambda k: (
                dist[path[k]][node] + dist[node][path[k + 1]] - dist[path[k]][path[k + 1]], k))
            for k in slots:
                trial = (*refs[:k], drop, *refs[k:])
                if fast_times_feasible(problem, vehicle, trial) or k == slots[-1]:
                    refs = trial  # infeasible everywhere: the checker will say so
                    break
        routes[vehicle.id] = refs
    return routes
