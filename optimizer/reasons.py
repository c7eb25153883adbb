"""Why a request is left out, for the dispatcher: tried against every vehicle as its only stops.
Pure code; `evaluate_routes` uses it for the requests a solver gave no reason for."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from optimizer.problem import Problem, Request, Vehicle
from optimizer.schedule import route_times


def vehicle_misfit(problem: Problem, vehicle: Vehicle, request: Request) -> str | None:
    """What rules `vehicle` out for `request` whatever the plan, or None."""
    if request.passengers > vehicle.capacity:
        return "seats"
    if request.car_levels and vehicle.car_level not in request.car_levels:
        return "car level"
    if vehicle.source == "unit_retained" and request.unit_id != vehicle.unit_id:
        return "unit-retained car of another unit"
    nodes = (vehicle.origin_node, request.pickup_node, request.dropoff_node, vehicle.end_node)
    legs = list(zip(nodes, nodes[1:], strict=False))
    if vehicle.range_m is not None and sum(problem.dist_m[a][b] for a, b in legs) > vehicle.range_m:
        return "range"
    driven_s = vehicle.state.driven_s if vehicle.state else 0
    driving_s = driven_s + sum(problem.duration_s[a][b] for a, b in legs)
    if vehicle.max_driving_s is not None and driving_s > vehicle.max_driving_s:
        return "driving time"
    return None


def fits_alone(problem: Problem, vehicle: Vehicle, request: Request) -> bool:
    """Can `vehicle`, with nothing else to do, serve `request` within every time rule?"""
    state = vehicle.state
    idle = replace(vehicle, state=replace(state, on_board=(), committed=())) if state else vehicle
    refs = [(request.id, "pickup"), (request.id, "dropoff")]
    return route_times(problem, idle, refs).feasible


def explain_unserved(problem: Problem, request_id: str) -> tuple[str, str]:
    """(reason code, message) for a request no route serves; codes as in UNASSIGNED_REASONS."""
    request = problem.request_by_id[request_id]
    misfits: Counter[str] = Counter()
    candidates = []
    for vehicle in problem.vehicles:
        why = vehicle_misfit(problem, vehicle, request)
        if why is None:
            candidates.append(vehicle)
        else:
            misfits[why] += 1
    if not candidates:
        detail = ", ".join(f"{why}: {count}" for why, count in misfits.most_common())
        return "no_vehicle", f"no vehicle may carry it ({detail or 'no vehicles'})"
    fitting = [v for v in candidates if fits_alone(problem, v, request)]
    if not fitting:
        unlimited = replace(request, max_ride_s=None)
        relaxed = replace(problem, requests=tuple(
            unlimited if r.id == request_id else r for r in problem.requests))
        if request.max_ride_s is not None and any(
                fits_alone(relaxed, v, unlimited) for v in candidates):
            return "infeasible_time", "its maximum ride time cannot be kept by any vehicle"
        return "infeasible_time", ("no vehicle reaches it within its time windows and back "
                                   "within its shift")
    for leg in _trip_legs(problem, request):
        if leg.id != request.id and not any(
                vehicle_misfit(problem, v, leg) is None and fits_alone(problem, v, leg)
                for v in problem.vehicles):
            return "linked_unserved", f"leg {leg.id!r} of the same trip cannot be served"
    return "no_capacity", (f"{len(fitting)} vehicle(s) could serve it alone; "
                           "the plan has no room for it")


def _trip_legs(problem: Problem, request: Request) -> list[Request]:
    """Every request of the trip `request` belongs to (linked by follows, either way)."""
    by_id = problem.request_by_id
    followers = {r.follows: r for r in problem.requests if r.follows is not None}
    first = request
    while first.follows is not None:
        first = by_id[first.follows]
    legs = [first]
    while legs[-1].id in followers:
        legs.append(followers[legs[-1].id])
    return legs
