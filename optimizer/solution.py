"""The optimizer's answer: a route per vehicle used, the requests left out with their reason, and
the cost. Plain frozen dataclasses; units as in problem.py (integer seconds, metres, cost units).

A route runs from the vehicle's start (its depot, or its current node when re-planning) through
its stops to its end depot. Each stop carries its schedule: arrival, start of service (later
than the arrival when the vehicle waits for a window or to keep a ride short) and departure
(start + service time), and the number of passengers on board once it is served.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.problem import StopKind, StopRef

# Why a request is left out. A solver picks the most specific one it knows.
UNASSIGNED_REASONS = {
    "no_vehicle": "no vehicle may carry it (seats, car level, unit-retained cars, range)",
    "infeasible_time": "no vehicle can keep its time window, ride time or shift even alone",
    "linked_unserved": "a leg of the same trip (round trip, multi-stop) is left out",
    "no_capacity": "feasible alone, but the plan has no room for it",
    "too_costly": "serving it costs more than its unserved penalty",
    "not_planned": "the solver did not place it (time limit)",
}


@dataclass(frozen=True)
class Stop:
    request_id: str
    kind: StopKind
    node: int
    arrival_s: int
    start_s: int  # start of service, >= arrival (waiting allowed)
    departure_s: int  # start_s + the stop's service time
    load: int  # passengers on board after this stop


@dataclass(frozen=True)
class Cost:
    """A cost breakdown in cost units; a route's has no unserved part."""

    fixed: int = 0  # price plans' fixed cost per use
    distance: int = 0  # per-km cost
    overtime: int = 0  # price plans: hours beyond the included ones
    over_km: int = 0  # price plans: km beyond the included ones
    unserved: int = 0  # penalties of the requests left out

    @property
    def total(self) -> int:
        return self.fixed + self.distance + self.overtime + self.over_km + self.unserved

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.fixed + other.fixed, self.distance + other.distance,
                    self.overtime + other.overtime, self.over_km + other.over_km,
                    self.unserved + other.unserved)


@dataclass(frozen=True)
class Route:
    vehicle_id: str
    stops: tuple[Stop, ...]
    start_s: int  # departure from the start node
    end_s: int  # arrival at the end depot
    dist_m: int  # start node -> stops -> end depot
    driving_s: int  # the driving time of the same legs (waiting and service excluded)
    cost: Cost


@dataclass(frozen=True)
class Unassigned:
    request_id: str
    reason: str  # a key of UNASSIGNED_REASONS
    message: str  # for the dispatcher: what exactly was in the way


@dataclass(frozen=True)
class Solution:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    cost: Cost  # the routes' costs plus the unserved penalties

    @property
    def vehicles_used(self) -> int:
        return sum(1 for route in self.routes if route.stops)

    @property
    def dist_m(self) -> int:
        return sum(route.dist_m for route in self.routes)

    def stop_orders(self) -> dict[str, tuple[StopRef, ...]]:
        """Vehicle id -> its stops in driving order, as a solver's warm start takes them."""
        return {route.vehicle_id: tuple(StopRef(s.request_id, s.kind) for s in route.stops)
                for route in self.routes}
