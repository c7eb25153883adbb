"""A tiny world for optimizer tests: places on a line, 1 unit = 60 s of driving = 1 km."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optimizer import Node, Problem, Request, Solution, TimeWindow, Vehicle

POSITIONS = (0, 10, 20, 30, 40)  # node 0 is the depot
UNIT_S = 60
UNIT_M = 1000


def vehicle(vehicle_id: str = "v", **fields: Any) -> Vehicle:
    base = {"start_node": 0, "end_node": 0, "capacity": 4, "shift": TimeWindow(0, 36_000)}
    return Vehicle(id=vehicle_id, **{**base, **fields})


def request(request_id: str, pickup: int, dropoff: int, **fields: Any) -> Request:
    return Request(id=request_id, pickup_node=pickup, dropoff_node=dropoff, **fields)


def line_problem(requests: list[Request], vehicles: list[Vehicle] | None = None,
                 **fields: Any) -> Problem:
    nodes = tuple(Node((114.0 + x / 100, 30.5), "420100", f"p{x}") for x in POSITIONS)
    duration = tuple(tuple(abs(a - b) * UNIT_S for b in POSITIONS) for a in POSITIONS)
    dist = tuple(tuple(abs(a - b) * UNIT_M for b in POSITIONS) for a in POSITIONS)
    return Problem(nodes, duration, dist, tuple(requests), tuple(vehicles or [vehicle()]),
                   **fields)


def with_route(solution: Solution, index: int, **fields: Any) -> Solution:
    routes = list(solution.routes)
    routes[index] = replace(routes[index], **fields)
    return replace(solution, routes=tuple(routes))


def with_stop(solution: Solution, route: int, stop: int, **fields: Any) -> Solution:
    stops = list(solution.routes[route].stops)
    stops[stop] = replace(stops[stop], **fields)
    return with_route(solution, route, stops=tuple(stops))
