"""The dispatch optimizer's problem: places, trip requests, vehicles and the travel matrix.

Plain frozen dataclasses, pure code. Conventions, stated once for the whole optimizer:

- Coordinates are `[lon, lat]` (WGS-84), in that order, like GeoJSON. Benchmark readers put their
  plane `(x, y)` there instead; the optimizer itself never reads coordinates, only the matrix.
- Times are integer seconds from the problem's time origin (for a day plan: local midnight,
  Asia/Shanghai). Distances are integer metres. Costs are integer cost units: fen (分) for the
  real scenario; the benchmark readers use their scaled distance.
- A time window bounds the *start of service* at a stop: arriving early means waiting, starting
  late is not allowed (hard windows).
- The ride time of a request is the start of service at its drop-off minus the departure from its
  pickup (the start of service there plus the pickup's service time), as in Cordeau (2006).

A round trip (the driver waits at the destination) or a multi-stop trip is several requests
linked by `follows`: the follower is served by the same vehicle, picked up after the drop-off
of the request it follows; with `driver_waits` its pickup is the very next stop.
Validation lives in `validate.py` and runs on construction, so a Problem is always consistent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

Priority = Literal["emergency", "law_enforcement", "ordinary"]
PRIORITIES: tuple[Priority, ...] = ("emergency", "law_enforcement", "ordinary")  # highest first
Source = Literal["platform", "entrusted", "unit_retained", "leased"]
SOURCES: tuple[Source, ...] = ("platform", "entrusted", "unit_retained", "leased")
StopKind = Literal["pickup", "dropoff"]
STOP_KINDS: tuple[StopKind, ...] = ("pickup", "dropoff")

# The carpool detour rule of issue #6: a passenger may ride at most 1.2 × the direct time + 15 min.
RIDE_FACTOR = 1.2
RIDE_ALLOWANCE_S = 15 * 60


def default_max_ride_s(direct_s: int) -> int:
    """Longest ride allowed for a request whose direct drive takes `direct_s` (rounded up)."""
    return math.ceil(direct_s * RIDE_FACTOR) + RIDE_ALLOWANCE_S


class StopRef(NamedTuple):
    """One stop of a route as an order only: which request, picked up or dropped off.
    A NamedTuple so that solvers may pass plain `(request_id, kind)` pairs."""

    request_id: str
    kind: StopKind


@dataclass(frozen=True)
class Node:
    """A place the vehicles drive between; its index in `Problem.nodes` is what the rest uses."""

    coord: tuple[float, float]  # [lon, lat]
    city_code: str = ""  # GB/T 2260, e.g. "420100" 武汉; decides urban or intercity speed
    name: str = ""


@dataclass(frozen=True)
class TimeWindow:
    start_s: int
    end_s: int

    def __contains__(self, time_s: int) -> bool:
        return self.start_s <= time_s <= self.end_s


@dataclass(frozen=True)
class Request:
    """A trip request (or one leg of a round or multi-stop trip)."""

    id: str
    pickup_node: int
    dropoff_node: int
    passengers: int = 1
    pickup_window: TimeWindow | None = None  # None: any time within the vehicle's shift
    dropoff_window: TimeWindow | None = None  # the arrival window ("be there by 09:00")
    max_ride_s: int | None = None  # None: no limit; see default_max_ride_s
    pickup_service_s: int = 0  # boarding, luggage
    dropoff_service_s: int = 0
    priority: Priority = "ordinary"
    car_levels: tuple[str, ...] = ()  # allowed car levels (sedan, business, minibus, bus); () = any
    confidential: bool = False  # 机要: nobody else on board while it is
    shareable: bool = True  # carpool allowed (公务拼车); False: nobody else on board either
    unit_id: str | None = None  # the requesting unit; unit-retained cars serve only their unit
    follows: str | None = None  # id of the request this one follows on the same vehicle
    driver_waits: bool = False  # pickup right after the followed drop-off (the car waits there)


@dataclass(frozen=True)
class PricePlan:
    """What using a car costs beyond its per-km cost (a leased car's contract, or a benchmark's
    weight on the number of vehicles). Overtime and over-km are billed linearly here; the
    rental bill itself (dispatch/billing.py) rounds overtime in steps."""

    fixed_cost: int = 0  # per use: charged once when the route serves anyone
    included_dist_m: int = 0
    included_duration_s: int = 0  # garage-out to garage-in
    overtime_cost_per_h: int = 0
    over_km_cost_per_km: int = 0


@dataclass(frozen=True)
class OnBoard:
    """A passenger group already picked up when re-planning."""

    request_id: str
    picked_up_s: int  # departure from the pickup: the ride time counts from here


@dataclass(frozen=True)
class VehicleState:
    """Where a vehicle stands when the day is re-planned. The route starts at `node` no earlier
    than `time_s`, with `on_board` to drop off and `committed` stops that must come first."""

    node: int
    time_s: int
    on_board: tuple[OnBoard, ...] = ()
    committed: tuple[StopRef, ...] = ()
    departed_s: int | None = None  # garage-out today, if already out: its fixed cost is sunk
    driven_s: int = 0  # driving done today, counted against max_driving_s
    driven_m: int = 0  # distance done today, counted against the price plan's included km


@dataclass(frozen=True)
class Vehicle:
    id: str
    start_node: int  # home depot (city motor pool)
    end_node: int
    capacity: int  # passengers it carries, the driver not counted
    shift: TimeWindow  # leave the start no earlier, be back at the end no later
    car_level: str = "sedan"
    source: Source = "platform"
    unit_id: str | None = None  # owning unit (unit_retained cars serve only it)
    max_driving_s: int | None = None
    range_m: int | None = None  # BEV range left at the route's start; None for fuel cars
    cost_per_km: int = 0
    price_plan: PricePlan | None = None
    state: VehicleState | None = None  # set when re-planning a day already under way

    @property
    def origin_node(self) -> int:
        return self.state.node if self.state else self.start_node

    @property
    def earliest_start_s(self) -> int:
        return max(self.shift.start_s, self.state.time_s) if self.state else self.shift.start_s


@dataclass(frozen=True)
class UnservedPenalty:
    """Cost of leaving a request unserved, by priority. Defaults in fen: above what serving a
    request could cost, and an emergency far above anything else."""

    emergency: int = 100_000_000
    law_enforcement: int = 10_000_000
    ordinary: int = 1_000_000

    def of(self, priority: Priority) -> int:
        return getattr(self, priority)


@dataclass(frozen=True)
class Problem:
    nodes: tuple[Node, ...]
    duration_s: tuple[tuple[int, ...], ...]  # duration_s[i][j]: driving time from node i to j
    dist_m: tuple[tuple[int, ...], ...]
    requests: tuple[Request, ...]
    vehicles: tuple[Vehicle, ...]
    unserved_penalty: UnservedPenalty = field(default_factory=UnservedPenalty)
    name: str = ""

    def __post_init__(self) -> None:
        from optimizer.validate import validate_problem

        validate_problem(self)

    @cached_property
    def request_by_id(self) -> dict[str, Request]:
        return {r.id: r for r in self.requests}

    @cached_property
    def vehicle_by_id(self) -> dict[str, Vehicle]:
        return {v.id: v for v in self.vehicles}

    def stop_node(self, ref: StopRef | tuple[str, str]) -> int:
        request = self.request_by_id[ref[0]]
        return request.pickup_node if ref[1] == "pickup" else request.dropoff_node
