"""What the checker reports: one Violation per broken rule, with a stable code."""

from __future__ import annotations

from dataclasses import dataclass

VIOLATION_CODES = {
    # the solution's bookkeeping
    "unknown_vehicle": "a route names a vehicle the problem does not have",
    "unknown_request": "a stop or an unassigned entry names an unknown request or stop kind",
    "duplicate_route": "a vehicle has more than one route",
    "missing_route": "a vehicle being re-planned (it has a state) has no route",
    "served_twice": "a request's pickup or drop-off appears more than once",
    "accounting": "a request is neither served nor unassigned, or both, or unassigned twice",
    "no_reason": "an unassigned request has no known reason code or no message",
    # pairing and order
    "wrong_node": "a stop's node is not its request's pickup or drop-off node",
    "incomplete": "a request is picked up but not dropped off, or the reverse",
    "same_vehicle": "a request's pickup and drop-off are on different vehicles",
    "precedence": "a request is dropped off before it is picked up",
    "link_vehicle": "linked requests (legs of one trip) are on different vehicles",
    "link_order": "a linked request is picked up before the leg it follows is dropped off",
    "link_wait": "the driver waits: the linked pickup must be the very next stop",
    "committed": "a re-planned route does not begin with its committed stops",
    # vehicle rules
    "capacity": "more passengers on board than the vehicle carries",
    "car_level": "the vehicle's car level is not one the request allows",
    "unit_retained": "a unit-retained car serves another unit's request",
    "confidential": "a confidential (机要) request shares the car with someone else",
    "not_shareable": "a request that does not allow carpooling shares the car",
    # time and distance
    "time_window": "service starts outside the stop's time window",
    "ride_time": "a passenger rides longer than the request's maximum ride time",
    "shift": "the route leaves before the shift (or current time) or returns after it",
    "end_depot": "the reported return to the end depot disagrees with the last leg",
    "max_driving": "the driving time exceeds the vehicle's maximum",
    "range": "the distance exceeds the BEV's remaining range",
    # the reported figures
    "schedule": "reported arrival/start/departure disagree with the matrix and service times",
    "load": "a reported load disagrees with the passengers picked up and dropped off",
    "route_totals": "a route's reported distance or driving time disagrees with the matrix",
    "cost": "a reported cost disagrees with the recomputed one",
}


@dataclass(frozen=True)
class Violation:
    code: str  # a key of VIOLATION_CODES
    vehicle_id: str | None
    request_id: str | None
    message: str
