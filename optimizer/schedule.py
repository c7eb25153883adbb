"""The times of a route whose order is given: when it leaves, when each stop is served, when it
is back. Pure code, used by `evaluate_routes` and the unserved-request diagnosis (the checker
verifies reported times on its own and does not use this).

Serving every stop as early as possible is not enough: a passenger picked up early may ride too
long, so a pickup must sometimes wait. All the timing rules are difference constraints between
service starts (B_j − B_i ≤ c: travel and service, windows, ride times, the shift), a simple
temporal network, solved exactly with Bellman–Ford. Of the feasible schedules we report the one
that is back at the end depot earliest, leaves the start as late as that allows (a leased car's
billed hours run from garage-out), and then, stop by stop in driving order: a pickup made with
the car empty as late as possible (the car waits empty rather than with passengers on board,
e.g. before an "arrive by 09:00" trip), every other stop as early as possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.problem import Problem, StopRef, TimeWindow, Vehicle

INF = float("inf")
Edge = tuple[int, int, int]  # (u, v, w): B_v − B_u ≤ w; node 0 is the time origin


@dataclass(frozen=True)
class RouteTimes:
    start_s: int  # departure from the start node
    stops: tuple[tuple[int, int, int], ...]  # (arrival_s, start_s, departure_s) per stop
    end_s: int  # arrival at the end depot
    feasible: bool  # False: no schedule keeps every rule; the times are the earliest ones


@dataclass(frozen=True)
class _Leg:
    node: int
    service_s: int
    window: TimeWindow | None


def service_and_window(problem: Problem, ref: StopRef | tuple[str, str]) -> _Leg:
    request = problem.request_by_id[ref[0]]
    if ref[1] == "pickup":
        return _Leg(request.pickup_node, request.pickup_service_s, request.pickup_window)
    return _Leg(request.dropoff_node, request.dropoff_service_s, request.dropoff_window)


def route_times(problem: Problem, vehicle: Vehicle,
                refs: Sequence[StopRef | tuple[str, str]]) -> RouteTimes:
    legs = [service_and_window(problem, ref) for ref in refs]
    nodes = [vehicle.origin_node, *(leg.node for leg in legs), vehicle.end_node]
    travel = [problem.duration_s[a][b] for a, b in zip(nodes, nodes[1:], strict=False)]
    edges = _constraints(problem, vehicle, refs, legs, travel)
    end = len(legs) + 2
    earliest = _earliest(end + 1, edges)
    if earliest is None:
        return _forward_pass(vehicle, legs, travel)
    edges.append((0, end, earliest[end]))
    start_s, best = _choose_times(problem, vehicle, refs, edges, end)
    times = []
    departure = start_s
    for i, leg in enumerate(legs):
        arrival = departure + travel[i]
        departure = best[i + 2] + leg.service_s
        times.append((arrival, best[i + 2], departure))
    return RouteTimes(start_s, tuple(times), departure + travel[-1], True)


def times_feasible(problem: Problem, vehicle: Vehicle,
                   refs: Sequence[StopRef | tuple[str, str]]) -> bool:
    """Can some schedule serve `refs` in this order within every time rule (windows, ride times,
    shift)? One Bellman–Ford pass: cheaper than `route_times` when only the answer matters."""
    legs = [service_and_window(problem, ref) for ref in refs]
    nodes = [vehicle.origin_node, *(leg.node for leg in legs), vehicle.end_node]
    travel = [problem.duration_s[a][b] for a, b in zip(nodes, nodes[1:], strict=False)]
    return _earliest(len(legs) + 3, _constraints(problem, vehicle, refs, legs, travel)) is not None


def _choose_times(problem: Problem, vehicle: Vehicle, refs: Sequence[StopRef | tuple[str, str]],
                  edges: list[Edge], end: int) -> tuple[int, list[int]]:
    """Among the feasible schedules back by the earliest end (already in `edges`): the latest
    departure, then stop by stop the latest pickup when the car is empty, else the earliest."""
    start_s = _latest(end + 1, edges)[1]
    edges += [(0, 1, start_s), (1, 0, -start_s)]
    best = _earliest(end + 1, edges)
    assert best is not None  # fixing a variable inside its feasible range keeps it feasible
    load = sum(problem.request_by_id[item.request_id].passengers
               for item in (vehicle.state.on_board if vehicle.state else ()))
    for v, ref in enumerate(refs, start=2):
        passengers = problem.request_by_id[ref[0]].passengers
        if ref[1] == "pickup" and load == 0:
            latest = _latest(end + 1, edges)[v]
            if latest > best[v]:
                edges += [(0, v, latest), (v, 0, -latest)]
                best = _earliest(end + 1, edges)
                assert best is not None
        edges += [(0, v, best[v]), (v, 0, -best[v])]  # fixing at the earliest moves nobody
        load += passengers if ref[1] == "pickup" else -passengers
    return start_s, best


def _constraints(problem: Problem, vehicle: Vehicle, refs: Sequence[StopRef | tuple[str, str]],
                 legs: list[_Leg], travel: list[int]) -> list[Edge]:
    # Variables: 0 time origin, 1 departure from the start, 2..k+1 the stops, k+2 the end arrival.
    end = len(legs) + 2
    edges: list[Edge] = [(1, 0, -vehicle.earliest_start_s), (0, end, vehicle.shift.end_s)]
    services = [0, *(leg.service_s for leg in legs)]
    for i in range(1, end):
        edges.append((i + 1, i, -(services[i - 1] + travel[i - 1])))
    for i, leg in enumerate(legs, start=2):
        if leg.window is not None:
            edges += [(0, i, leg.window.end_s), (i, 0, -leg.window.start_s)]
    pickups: dict[str, int] = {}
    for i, ref in enumerate(refs, start=2):
        request = problem.request_by_id[ref[0]]
        if ref[1] == "pickup":
            pickups[request.id] = i
        elif request.max_ride_s is not None and request.id in pickups:
            p = pickups[request.id]
            edges.append((p, i, request.max_ride_s + request.pickup_service_s))
    if vehicle.state is not None:
        for item in vehicle.state.on_board:
            limit = problem.request_by_id[item.request_id].max_ride_s
            for i, ref in enumerate(refs, start=2):
                if limit is not None and tuple(ref) == (item.request_id, "dropoff"):
                    edges.append((0, i, item.picked_up_s + limit))
    return edges


def _shortest(size: int, edges: list[Edge]) -> list[float] | None:
    """Bellman–Ford from node 0; None when a negative cycle makes the constraints infeasible."""
    dist = [INF] * size
    dist[0] = 0
    for _ in range(size):
        changed = False
        for u, v, w in edges:
            if dist[u] + w < dist[v]:
                dist[v] = dist[u] + w
                changed = True
        if not changed:
            return dist
    return None


def _earliest(size: int, edges: list[Edge]) -> list[int] | None:
    back = _shortest(size, [(v, u, w) for u, v, w in edges])
    return None if back is None else [int(-d) for d in back]


def _latest(size: int, edges: list[Edge]) -> list[int]:
    """Latest times; every variable is bounded once the end arrival is (the caller's edge)."""
    ahead = _shortest(size, edges)
    assert ahead is not None and max(ahead[1:]) < INF
    return [int(d) for d in ahead]


def _forward_pass(vehicle: Vehicle, legs: list[_Leg], travel: list[int]) -> RouteTimes:
    """No schedule keeps every rule: report the earliest times so the checker names the broken
    rule (a late arrival, a long ride) instead of a made-up schedule."""
    departure = vehicle.earliest_start_s
    start_s = departure
    times = []
    for i, leg in enumerate(legs):
        arrival = departure + travel[i]
        begin = max(arrival, leg.window.start_s) if leg.window else arrival
        departure = begin + leg.service_s
        times.append((arrival, begin, departure))
    return RouteTimes(start_s, tuple(times), departure + travel[-1], False)
