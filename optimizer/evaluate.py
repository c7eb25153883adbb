"""`evaluate_routes`: a full Solution (times, loads, distances, costs, unassigned requests with
their reasons) from nothing but the order of the stops on each vehicle. Solvers build their
answers with it and tests build solutions to check; the checker verifies the result on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optimizer.cost import route_cost, unserved_cost
from optimizer.problem import Problem, StopRef, Vehicle
from optimizer.reasons import explain_unserved
from optimizer.schedule import route_times
from optimizer.solution import Cost, Route, Solution, Stop, Unassigned

StopOrder = Sequence[StopRef | tuple[str, str]]


def evaluate_routes(problem: Problem, routes: Mapping[str, StopOrder],
                    reasons: Mapping[str, tuple[str, str]] | None = None) -> Solution:
    """`routes` maps a vehicle id to its stops in driving order, `(request_id, "pickup" |
    "dropoff")`; requests already on board when re-planning appear only by their drop-off.
    Vehicles not named drive nothing, except those with a state (re-planning), which always get
    a route. Requests served by no route are listed as unassigned with the reason from
    `reasons` (request id -> (reason code, message)) or, failing that, a diagnosis."""
    unknown = set(routes) - set(problem.vehicle_by_id)
    if unknown:
        raise ValueError(f"routes name unknown vehicles: {sorted(unknown)}")
    built = tuple(
        build_route(problem, vehicle, routes.get(vehicle.id, ()))
        for vehicle in problem.vehicles
        if routes.get(vehicle.id) or vehicle.state is not None
    )
    served = {stop.request_id for route in built for stop in route.stops}
    served |= {item.request_id for v in problem.vehicles if v.state for item in v.state.on_board}
    left_out = [r.id for r in problem.requests if r.id not in served]
    reasons = reasons or {}
    unassigned = tuple(
        Unassigned(rid, *(reasons[rid] if rid in reasons else explain_unserved(problem, rid)))
        for rid in left_out
    )
    total = sum((route.cost for route in built), Cost()) + Cost(
        unserved=unserved_cost(problem, left_out))
    return Solution(built, unassigned, total)


def build_route(problem: Problem, vehicle: Vehicle, order: StopOrder) -> Route:
    refs = [StopRef(*ref) for ref in order]
    times = route_times(problem, vehicle, refs)
    load = sum(problem.request_by_id[item.request_id].passengers
               for item in (vehicle.state.on_board if vehicle.state else ()))
    stops = []
    for ref, (arrival_s, start_s, departure_s) in zip(refs, times.stops, strict=True):
        passengers = problem.request_by_id[ref.request_id].passengers
        load += passengers if ref.kind == "pickup" else -passengers
        stops.append(Stop(ref.request_id, ref.kind, problem.stop_node(ref),
                          arrival_s, start_s, departure_s, load))
    nodes = [vehicle.origin_node, *(stop.node for stop in stops), vehicle.end_node]
    legs = list(zip(nodes, nodes[1:], strict=False))
    dist_m = sum(problem.dist_m[a][b] for a, b in legs)
    driving_s = sum(problem.duration_s[a][b] for a, b in legs)
    cost = route_cost(vehicle, dist_m=dist_m, start_s=times.start_s, end_s=times.end_s,
                      served=bool(stops))
    return Route(vehicle.id, tuple(stops), times.start_s, times.end_s, dist_m, driving_s, cost)
