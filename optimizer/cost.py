"""What a route costs: per-km cost plus the price plan (fixed cost per use, overtime, over-km),
and what leaving requests out costs. Integer arithmetic, rounded half up once per route, so the
solvers, `evaluate_routes` and the checker agree to the unit.

Costs already sunk when re-planning are not counted: the fixed cost of a car that has left its
depot today, and the km behind it (they still count against the plan's included km and hours).
"""

from __future__ import annotations

from collections.abc import Iterable

from optimizer.problem import Problem, Vehicle
from optimizer.solution import Cost


def _rate(quantity: int, rate: int, per: int) -> int:
    """quantity × rate / per, rounded half up (all non-negative)."""
    return (quantity * rate + per // 2) // per


def route_cost(vehicle: Vehicle, *, dist_m: int, start_s: int, end_s: int, served: bool) -> Cost:
    """The cost of one route: `dist_m` driven from its start to its end depot, leaving at
    `start_s` and back at `end_s`; `served` when it has at least one stop."""
    state = vehicle.state
    departed_s = state.departed_s if state else None
    distance = _rate(dist_m, vehicle.cost_per_km, 1000)
    plan = vehicle.price_plan
    if plan is None or not (served or departed_s is not None):
        return Cost(distance=distance)
    fixed = plan.fixed_cost if served and departed_s is None else 0
    billed_s = end_s - (departed_s if departed_s is not None else start_s)
    billed_m = dist_m + (state.driven_m if state else 0)
    overtime = _rate(max(0, billed_s - plan.included_duration_s), plan.overtime_cost_per_h, 3600)
    over_km = _rate(max(0, billed_m - plan.included_dist_m), plan.over_km_cost_per_km, 1000)
    return Cost(fixed=fixed, distance=distance, overtime=overtime, over_km=over_km)


def distance_total(vehicle: Vehicle, dist_m: int, served: bool) -> int:
    """`route_cost(vehicle, dist_m=dist_m, start_s=0, end_s=0, served=served).total`, without
    building the Cost: what a route costs but for overtime (the solvers' inner loop)."""
    total = (dist_m * vehicle.cost_per_km + 500) // 1000
    plan = vehicle.price_plan
    if plan is None:
        return total
    state = vehicle.state
    departed = state is not None and state.departed_s is not None
    if not (served or departed):
        return total
    if served and not departed:
        total += plan.fixed_cost
    if plan.over_km_cost_per_km:
        over_m = dist_m + (state.driven_m if state else 0) - plan.included_dist_m
        if over_m > 0:
            total += (over_m * plan.over_km_cost_per_km + 500) // 1000
    return total


def unserved_cost(problem: Problem, request_ids: Iterable[str]) -> int:
    by_id = problem.request_by_id
    return sum(problem.unserved_penalty.of(by_id[rid].priority) for rid in request_ids)
