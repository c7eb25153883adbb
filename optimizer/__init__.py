"""The dispatch optimizer (issue #6): the problem and solution model, the independent checker
and `evaluate_routes`. Import-light on purpose: the solver (the one module importing OR-Tools)
and the HTTP matrix provider are imported from their own modules."""

from optimizer.check import check
from optimizer.evaluate import evaluate_routes
from optimizer.problem import (
    Node,
    OnBoard,
    PricePlan,
    Problem,
    Request,
    StopRef,
    TimeWindow,
    UnservedPenalty,
    Vehicle,
    VehicleState,
    default_max_ride_s,
)
from optimizer.solution import Cost, Route, Solution, Stop, Unassigned
from optimizer.violation import Violation

__all__ = [
    "Cost",
    "Node",
    "OnBoard",
    "PricePlan",
    "Problem",
    "Request",
    "Route",
    "Solution",
    "Stop",
    "StopRef",
    "TimeWindow",
    "Unassigned",
    "UnservedPenalty",
    "Vehicle",
    "VehicleState",
    "Violation",
    "check",
    "default_max_ride_s",
    "evaluate_routes",
]
