"""The independent checker: `check(problem, solution) -> list[Violation]`, empty when the solution
keeps every rule. It trusts nothing the solution reports: arrival times, loads, distances and
costs are recomputed from the problem (the route order and the matrix) and compared; the
reported service starts may be later than the arrivals (waiting), and every rule is judged on
them. Every test and benchmark runs it. Codes are listed in violation.py.

This module judges the solution as a whole (each request served once, pickup and drop-off on one
vehicle in order, linked legs, the unassigned list, the total cost); check_route.py judges each
route on its own.
"""

from __future__ import annotations

from collections import defaultdict

from optimizer.check_route import check_route
from optimizer.cost import unserved_cost
from optimizer.problem import STOP_KINDS, Problem, Request
from optimizer.solution import UNASSIGNED_REASONS, Cost, Route, Solution
from optimizer.violation import Violation

Position = tuple[str, int]  # (vehicle id, index of the stop in its route)


def check(problem: Problem, solution: Solution) -> list[Violation]:
    found: list[Violation] = []
    routes = _known_routes(problem, solution, found)
    total = Cost()
    stops_at: dict[tuple[str, str], list[Position]] = defaultdict(list)
    for vehicle_id, route in routes.items():
        vehicle = problem.vehicle_by_id[vehicle_id]
        route_found, cost = check_route(problem, vehicle, route)
        found += route_found
        total += cost
        for index, stop in enumerate(route.stops):
            stops_at[(stop.request_id, stop.kind)].append((vehicle_id, index))
    carried = {item.request_id: v.id for v in problem.vehicles if v.state
               for item in v.state.on_board}
    served = set(carried) | {rid for rid, _ in stops_at}
    for request in problem.requests:
        found += _check_pairing(request, stops_at, carried)
        found += _check_link(problem, request, stops_at)
    found += _check_unassigned(problem, solution, served)
    left_out = [r.id for r in problem.requests if r.id not in served]
    total += Cost(unserved=unserved_cost(problem, left_out))
    if solution.cost != total:
        found.append(Violation("cost", None, None,
                               f"solution reports {solution.cost}, recomputed {total}"))
    return found


def _known_routes(problem: Problem, solution: Solution, found: list[Violation]) -> dict[str, Route]:
    """The routes that can be judged: known vehicle, one route each, known stops only."""
    routes: dict[str, Route] = {}
    for route in solution.routes:
        if route.vehicle_id not in problem.vehicle_by_id:
            found.append(Violation("unknown_vehicle", route.vehicle_id, None,
                                   f"no vehicle {route.vehicle_id!r} in the problem"))
        elif route.vehicle_id in routes:
            found.append(Violation("duplicate_route", route.vehicle_id, None,
                                   "the vehicle has more than one route"))
        elif bad := [(s.request_id, s.kind) for s in route.stops
                     if s.request_id not in problem.request_by_id or s.kind not in STOP_KINDS]:
            found.append(Violation("unknown_request", route.vehicle_id, None,
                                   f"stops {bad} name no request of the problem; route not judged"))
        else:
            routes[route.vehicle_id] = route
    for vehicle in problem.vehicles:
        if vehicle.state is not None and vehicle.id not in routes:
            found.append(Violation("missing_route", vehicle.id, None,
                                   "a vehicle being re-planned needs its route (on board, "
                                   "committed stops, the way back)"))
    return routes


def _check_pairing(request: Request, stops_at: dict[tuple[str, str], list[Position]],
                   carried: dict[str, str]) -> list[Violation]:
    rid = request.id
    pickups, dropoffs = stops_at.get((rid, "pickup"), []), stops_at.get((rid, "dropoff"), [])
    if rid in carried:  # on board when re-planning: only its drop-off is left, on that car
        if pickups or len(dropoffs) > 1:
            return [Violation("served_twice", carried[rid], rid,
                              "on board already, yet picked up or dropped off again")]
        if not dropoffs:
            return [Violation("incomplete", carried[rid], rid, "on board, never dropped off")]
        pickups = [(carried[rid], -1)]
    if len(pickups) > 1 or len(dropoffs) > 1:
        return [Violation("served_twice", None, rid,
                          f"{len(pickups)} pickups and {len(dropoffs)} drop-offs")]
    if bool(pickups) != bool(dropoffs):
        missing = "drop-off" if pickups else "pickup"
        return [Violation("incomplete", None, rid, f"served without its {missing}")]
    if not pickups:
        return []
    (p_vehicle, p_index), (d_vehicle, d_index) = pickups[0], dropoffs[0]
    if p_vehicle != d_vehicle:
        return [Violation("same_vehicle", d_vehicle, rid,
                          f"picked up by {p_vehicle!r}, dropped off by {d_vehicle!r}")]
    if d_index < p_index:
        return [Violation("precedence", d_vehicle, rid,
                          f"dropped off at stop {d_index}, picked up at stop {p_index}")]
    return []


def _check_link(problem: Problem, request: Request,
                stops_at: dict[tuple[str, str], list[Position]]) -> list[Violation]:
    """A follower leg on the leader's car, picked up after the leader's drop-off (right after
    it when the driver waits). A leg served without the other is the unassigned list's matter."""
    if request.follows is None:
        return []
    lead = stops_at.get((request.follows, "dropoff"), [])
    follow = stops_at.get((request.id, "pickup"), [])
    if len(lead) != 1 or len(follow) != 1:
        return []
    (l_vehicle, l_index), (f_vehicle, f_index) = lead[0], follow[0]
    if l_vehicle != f_vehicle:
        return [Violation("link_vehicle", f_vehicle, request.id,
                          f"follows {request.follows!r}, which rides on {l_vehicle!r}")]
    if f_index < l_index:
        return [Violation("link_order", f_vehicle, request.id,
                          f"picked up before {request.follows!r} is dropped off")]
    if request.driver_waits and f_index != l_index + 1:
        return [Violation("link_wait", f_vehicle, request.id,
                          f"the driver waits after {request.follows!r}, yet "
                          f"{f_index - l_index - 1} stop(s) come between")]
    return []


def _check_unassigned(problem: Problem, solution: Solution, served: set[str]) -> list[Violation]:
    found = []
    listed: dict[str, int] = defaultdict(int)
    for item in solution.unassigned:
        if item.request_id not in problem.request_by_id:
            found.append(Violation("unknown_request", None, item.request_id,
                                   "unassigned entry names no request of the problem"))
            continue
        listed[item.request_id] += 1
        if item.reason not in UNASSIGNED_REASONS or not item.message:
            found.append(Violation("no_reason", None, item.request_id,
                                   f"reason {item.reason!r} / message {item.message!r}"))
    for request in problem.requests:
        count, is_served = listed.get(request.id, 0), request.id in served
        if is_served and count or not is_served and count != 1:
            state = "served" if is_served else "not served"
            found.append(Violation("accounting", None, request.id,
                                   f"{state}, listed unassigned {count} time(s)"))
    return found
