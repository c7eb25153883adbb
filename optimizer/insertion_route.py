"""One vehicle's route prepared for insertions: per position the earliest and latest start of
service, the load, who is on board, distance and driving so far. Inserting a request's pickup
and drop-off is then screened in O(1) per position pair with necessary conditions (windows
and shift pushed through the route, seats, 机要 and no-carpool riders, ride time without
waiting, range and driving time); the survivors are confirmed exactly by the caller
(`schedule.times_feasible`). Pure code.

Positions: 0 is the route's start (the depot, or where the vehicle stands when re-planning),
1..n its stops, n+1 the end depot. "Pickup after position i" puts the new pickup between
positions i and i+1. Earliest times ignore ride-time limits and latest times ignore them too,
so both are bounds every feasible schedule keeps: a pair rejected here is infeasible. The
ride-time limits of the passengers already on the route enter as a room per stretch (the
detour a new stop may add to the rides across it), also a necessary condition.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from optimizer.problem import Problem, Request, StopRef, Vehicle

NEG = -(10**12)
POS = 10**12


class LegSlot(NamedTuple):
    """A screened placement of one request: pickup after position `i`, drop-off after
    position `j` (j == i: right after the pickup), with the distance and driving it adds.
    A NamedTuple: the insertion search makes hundreds of thousands of them."""

    i: int
    j: int
    add_dist_m: int
    add_drive_s: int


class RouteView:
    """Read-only arrays of one route; build a new one after changing the route."""

    __slots__ = ("vehicle", "refs", "nodes", "service", "open_s", "close_s", "earliest",
                 "latest", "load", "riders", "exclusive", "dist_m", "drive_s", "fixed",
                 "request_ids", "waits", "ride_room")

    def __init__(self, problem: Problem, vehicle: Vehicle,
                 refs: Sequence[StopRef | tuple[str, str]]) -> None:
        by_id = problem.request_by_id
        state = vehicle.state
        self.vehicle = vehicle
        self.refs = tuple(StopRef(*ref) for ref in refs)
        self.fixed = len(state.committed) if state else 0
        nodes = [vehicle.origin_node]
        service = [0]
        open_s = [vehicle.earliest_start_s]
        close_s = [vehicle.shift.end_s]
        aboard = [by_id[item.request_id] for item in (state.on_board if state else ())]
        load = [sum(r.passengers for r in aboard)]
        riders = [len(aboard)]
        exclusive = [sum(1 for r in aboard if r.confidential or not r.shareable)]
        for request_id, kind in self.refs:
            request = by_id[request_id]
            pickup = kind == "pickup"
            window = request.pickup_window if pickup else request.dropoff_window
            nodes.append(request.pickup_node if pickup else request.dropoff_node)
            service.append(request.pickup_service_s if pickup else request.dropoff_service_s)
            open_s.append(window.start_s if window else NEG)
            close_s.append(window.end_s if window else POS)
            sign = 1 if pickup else -1
            load.append(load[-1] + sign * request.passengers)
            riders.append(riders[-1] + sign)
            exclusive.append(exclusive[-1] + (sign if request.confidential or not request.shareable
                                              else 0))
        nodes.append(vehicle.end_node)
        service.append(0)
        open_s.append(NEG)
        close_s.append(vehicle.shift.end_s)
        load.append(0)
        riders.append(0)
        exclusive.append(0)
        duration = problem.duration_s
        n = len(nodes)
        earliest = [open_s[0]] * n
        for k in range(1, n):
            arrive = earliest[k - 1] + service[k - 1] + duration[nodes[k - 1]][nodes[k]]
            earliest[k] = arrive if arrive > open_s[k] else open_s[k]
        latest = [close_s[-1]] * n
        for k in range(n - 2, -1, -1):
            back = latest[k + 1] - service[k] - duration[nodes[k]][nodes[k + 1]]
            latest[k] = back if back < close_s[k] else close_s[k]
        dist = problem.dist_m
        self.nodes, self.service, self.open_s, self.close_s = nodes, service, open_s, close_s
        self.earliest, self.latest = earliest, latest
        self.load, self.riders, self.exclusive = load, riders, exclusive
        self.dist_m = sum(dist[a][b] for a, b in zip(nodes, nodes[1:], strict=False))
        self.drive_s = sum(duration[a][b] for a, b in zip(nodes, nodes[1:], strict=False))
        self.request_ids = frozenset(ref.request_id for ref in self.refs)
        # waits[k]: the driver waits between position k and the next (a linked leg's pickup
        # right after the drop-off it follows): nothing may be inserted there
        waits = [False] * n
        for k in range(1, n - 2):
            (rid, kind), (next_id, next_kind) = self.refs[k - 1], self.refs[k]
            follower = by_id[next_id]
            waits[k] = (kind == "dropoff" and next_kind == "pickup" and follower.driver_waits
                        and follower.follows == rid)
        self.waits = waits
        # ride_room[k]: how much longer the stretch from position k to k+1 may get before a
        # passenger riding across it breaks their ride-time limit. A ride lasts at least the
        # driving and service between its pickup and drop-off (waiting only adds), and a stop
        # inserted there lengthens it by its detour: a detour above the room is infeasible.
        # Passengers already on board when re-planning are left out (no room limit: looser).
        room = [POS] * n
        if any(by_id[rid].max_ride_s is not None for rid, _ in self.refs):
            chain = [0] * n  # driving and service from the start to each position, no waiting
            for k in range(1, n):
                chain[k] = chain[k - 1] + service[k - 1] + duration[nodes[k - 1]][nodes[k]]
            picked: dict[str, int] = {}
            for k, (rid, kind) in enumerate(self.refs, start=1):
                if kind == "pickup":
                    picked[rid] = k
                    continue
                limit = by_id[rid].max_ride_s
                at = picked.get(rid)
                if limit is None or at is None:
                    continue
                left = limit - (chain[k] - chain[at] - service[at])
                for edge in range(at, k):
                    if left < room[edge]:
                        room[edge] = left
        self.ride_room = room

    @property
    def stop_count(self) -> int:
        return len(self.refs)

    def with_leg(self, request_id: str, slot: LegSlot) -> tuple[StopRef, ...]:
        """The stop order with the request inserted at `slot`."""
        refs = self.refs
        pickup, dropoff = StopRef(request_id, "pickup"), StopRef(request_id, "dropoff")
        return (*refs[:slot.i], pickup, *refs[slot.i:slot.j], dropoff, *refs[slot.j:])


def leg_slots(problem: Problem, view: RouteView, request: Request, first: int,
              last: int) -> Iterator[LegSlot]:
    """Every placement of `request` with its pickup after a position in [first, last] that
    passes the necessary conditions (module docstring)."""
    vehicle = view.vehicle
    duration, dist = problem.duration_s, problem.dist_m
    nodes, service, open_s = view.nodes, view.service, view.open_s
    earliest, latest = view.earliest, view.latest
    load, riders, exclusive, waits = view.load, view.riders, view.exclusive, view.waits
    room = view.ride_room
    n = len(nodes) - 2  # stops
    p, d = request.pickup_node, request.dropoff_node
    p_open, p_close = _window(request, "pickup")
    d_open, d_close = _window(request, "dropoff")
    p_service, d_service = request.pickup_service_s, request.dropoff_service_s
    seats = vehicle.capacity - request.passengers
    alone = request.confidential or not request.shareable
    ride_limit = request.max_ride_s if request.max_ride_s is not None else POS
    dist_room = (vehicle.range_m - view.dist_m) if vehicle.range_m is not None else POS
    drive_room = POS
    if vehicle.max_driving_s is not None:
        done = vehicle.state.driven_s if vehicle.state else 0
        drive_room = vehicle.max_driving_s - done - view.drive_s
    for i in range(first, min(last, n) + 1):
        if waits[i] or load[i] > seats or (riders[i] if alone else exclusive[i]):
            continue
        a, b = nodes[i], nodes[i + 1]
        pickup_s = earliest[i] + service[i] + duration[a][p]
        if pickup_s < p_open:
            pickup_s = p_open
        if pickup_s > p_close:
            continue
        base_dist = dist[a][b]
        base_drive = duration[a][b]
        # drop-off right after the pickup
        drop_s = pickup_s + p_service + duration[p][d]
        if drop_s < d_open:
            drop_s = d_open
        if (drop_s <= d_close and duration[p][d] <= ride_limit
                and drop_s + d_service + duration[d][b] <= latest[i + 1]
                and duration[a][p] + p_service + duration[p][d] + d_service + duration[d][b]
                - base_drive <= room[i]):
            add_dist = dist[a][p] + dist[p][d] + dist[d][b] - base_dist
            add_drive = duration[a][p] + duration[p][d] + duration[d][b] - base_drive
            if add_dist <= dist_room and add_drive <= drive_room:
                yield LegSlot(i, i, add_dist, add_drive)
        # drop-off further on: push the stops between through their windows
        first_dist = dist[a][p] + dist[p][b] - base_dist
        first_drive = duration[a][p] + duration[p][b] - base_drive
        if first_drive + p_service > room[i]:
            continue
        at_s = pickup_s + p_service + duration[p][b]
        ride_s = duration[p][b]  # driving and service on board, without waiting
        for j in range(i + 1, n + 1):
            if at_s < open_s[j]:
                at_s = open_s[j]
            if at_s > latest[j] or load[j] > seats or (riders[j] if alone else exclusive[j]):
                break
            if ride_s > ride_limit:
                break
            c, e = nodes[j], nodes[j + 1]
            drop_s = at_s + service[j] + duration[c][d]
            if drop_s < d_open:
                drop_s = d_open
            if (not waits[j] and drop_s <= d_close
                    and ride_s + service[j] + duration[c][d] <= ride_limit
                    and drop_s + d_service + duration[d][e] <= latest[j + 1]
                    and duration[c][d] + d_service + duration[d][e] - duration[c][e]
                    <= room[j]):
                add_dist = first_dist + dist[c][d] + dist[d][e] - dist[c][e]
                add_drive = first_drive + duration[c][d] + duration[d][e] - duration[c][e]
                if add_dist <= dist_room and add_drive <= drive_room:
                    yield LegSlot(i, j, add_dist, add_drive)
            at_s += service[j] + duration[c][e]
            ride_s += service[j] + duration[c][e]


def _window(request: Request, kind: str) -> tuple[int, int]:
    window = request.pickup_window if kind == "pickup" else request.dropoff_window
    return (window.start_s, window.end_s) if window else (NEG, POS)


def fits_vehicle(vehicle: Vehicle, request: Request) -> bool:
    """The rules that do not depend on the plan: seats, car level, unit-retained cars."""
    if request.passengers > vehicle.capacity:
        return False
    if request.car_levels and vehicle.car_level not in request.car_levels:
        return False
    return not (vehicle.source == "unit_retained" and request.unit_id != vehicle.unit_id)
