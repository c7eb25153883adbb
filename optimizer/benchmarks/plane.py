"""What both benchmark families share: points in a plane, Euclidean travel in double precision.

The Problem needs integers: distances and times are scaled by 1000. Travel *times* are rounded
up (ceil), so a schedule feasible in integers is feasible in real numbers too (the same service
starts work: every real travel time is no longer). Distances are rounded to the nearest unit,
for the cost the solvers minimise; the exact float distances stay available here, so the bench
reports costs and gaps in the benchmark's own units.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from optimizer.problem import Problem, StopRef
from optimizer.solution import Solution

SCALE = 1000  # benchmark unit -> integer unit (distance and time alike)


def scaled(value: float) -> int:
    """A benchmark time or window (integers in the files) in integer units, exactly."""
    result = value * SCALE
    if abs(result - round(result)) > 1e-6:
        raise ValueError(f"{value} does not scale to an integer")
    return round(result)


def plane_matrices(coords: Sequence[tuple[float, float]],
                   ) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """(duration, dist) in integer units: ceil and nearest of 1000 × the Euclidean distance."""
    durations, distances = [], []
    for xa, ya in coords:
        exact = [math.hypot(xa - xb, ya - yb) * SCALE for xb, yb in coords]
        durations.append(tuple(math.ceil(d - 1e-9) for d in exact))
        distances.append(tuple(round(d) for d in exact))
    return tuple(durations), tuple(distances)


@dataclass(frozen=True)
class PlaneInstance:
    """A benchmark instance read into a Problem, with its coordinates for exact costs."""

    name: str
    problem: Problem
    coords: tuple[tuple[float, float], ...]
    stop_at_node: dict[int, StopRef]  # every non-depot node is one request's pickup or drop-off

    def exact_dist(self, a: int, b: int) -> float:
        (xa, ya), (xb, yb) = self.coords[a], self.coords[b]
        return math.hypot(xa - xb, ya - yb)

    def node_path_distance(self, nodes: Iterable[int]) -> float:
        path = list(nodes)
        return sum(self.exact_dist(a, b) for a, b in zip(path, path[1:], strict=False))

    def true_distance(self, solution: Solution) -> float:
        """Total travel of the solution's routes in the benchmark's units (double precision)."""
        total = 0.0
        for route in solution.routes:
            vehicle = self.problem.vehicle_by_id[route.vehicle_id]
            nodes = [vehicle.origin_node, *(s.node for s in route.stops), vehicle.end_node]
            total += self.node_path_distance(nodes)
        return total

    def routes_from_nodes(self, node_routes: Sequence[Sequence[int]]) -> dict[str, list[StopRef]]:
        """Routes given as node (task) sequences, depots left out, onto the first vehicles."""
        if len(node_routes) > len(self.problem.vehicles):
            raise ValueError(f"{len(node_routes)} routes for {len(self.problem.vehicles)} vehicles")
        return {vehicle.id: [self.stop_at_node[node] for node in nodes]
                for vehicle, nodes in zip(self.problem.vehicles, node_routes, strict=False)}
