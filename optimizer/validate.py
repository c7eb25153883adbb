"""Consistency of a Problem, checked when it is built: every message names the thing at fault,
so a bad JSON document or a bad generator is caught at the door, not inside a solver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.problem import PRIORITIES, SOURCES, STOP_KINDS, TimeWindow

if TYPE_CHECKING:
    from optimizer.problem import Problem, Request, Vehicle


def validate_problem(problem: Problem) -> None:
    """Raise ValueError on the first inconsistency found."""
    _check_matrix("duration_s", problem.duration_s, len(problem.nodes))
    _check_matrix("dist_m", problem.dist_m, len(problem.nodes))
    _check_unique("request", [r.id for r in problem.requests])
    _check_unique("vehicle", [v.id for v in problem.vehicles])
    request_ids = {r.id for r in problem.requests}
    for request in problem.requests:
        _check_request(request, len(problem.nodes), request_ids)
    _check_follow_chains(problem.requests)
    taken: dict[str, str] = {}
    for vehicle in problem.vehicles:
        _check_vehicle(vehicle, len(problem.nodes), request_ids, taken)
    for priority in PRIORITIES:
        if problem.unserved_penalty.of(priority) < 0:
            raise ValueError(f"unserved_penalty.{priority} is negative")


def _check_matrix(name: str, matrix: tuple[tuple[int, ...], ...], size: int) -> None:
    if len(matrix) != size:
        raise ValueError(f"{name} has {len(matrix)} rows for {size} nodes")
    for i, row in enumerate(matrix):
        if len(row) != size:
            raise ValueError(f"{name} row {i} has {len(row)} entries for {size} nodes")
        if all(type(value) is int for value in row) and (not row or min(row) >= 0):
            continue  # the fast path: problems of a thousand nodes are built online
        for j, value in enumerate(row):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}[{i}][{j}] = {value!r}: expected an integer >= 0")


def _check_unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{what} id {item!r}: expected a non-empty string")
        if item in seen:
            raise ValueError(f"duplicate {what} id {item!r}")
        seen.add(item)


def _check_node(where: str, node: int, size: int) -> None:
    if not isinstance(node, int) or isinstance(node, bool) or not 0 <= node < size:
        raise ValueError(f"{where} = {node!r} is not a node index (0..{size - 1})")


def _check_window(where: str, window: TimeWindow | None) -> None:
    if window is None:
        return
    if not isinstance(window, TimeWindow):
        raise ValueError(f"{where}: expected a TimeWindow")
    if window.start_s > window.end_s:
        raise ValueError(f"{where}: start {window.start_s} s is after end {window.end_s} s")


def _check_non_negative(where: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"{where} = {value!r}: expected an integer >= 0")


def _check_request(request: Request, size: int, request_ids: set[str]) -> None:
    where = f"request {request.id!r}"
    _check_node(f"{where} pickup_node", request.pickup_node, size)
    _check_node(f"{where} dropoff_node", request.dropoff_node, size)
    if not isinstance(request.passengers, int) or request.passengers < 1:
        raise ValueError(f"{where} passengers = {request.passengers!r}: expected at least 1")
    _check_window(f"{where} pickup_window", request.pickup_window)
    _check_window(f"{where} dropoff_window", request.dropoff_window)
    for name in ("max_ride_s", "pickup_service_s", "dropoff_service_s"):
        _check_non_negative(f"{where} {name}", getattr(request, name))
    if request.priority not in PRIORITIES:
        raise ValueError(f"{where} priority {request.priority!r}: expected one of {PRIORITIES}")
    if request.follows is not None and request.follows not in request_ids:
        raise ValueError(f"{where} follows unknown request {request.follows!r}")
    if request.follows == request.id:
        raise ValueError(f"{where} follows itself")
    if request.driver_waits and request.follows is None:
        raise ValueError(f"{where} has driver_waits without follows")


def _check_follow_chains(requests: tuple[Request, ...]) -> None:
    follows = {r.id: r.follows for r in requests if r.follows is not None}
    followers: dict[str, str] = {}
    for request_id, leader in follows.items():
        if leader in followers:
            raise ValueError(f"requests {followers[leader]!r} and {request_id!r} both follow "
                             f"{leader!r}: a trip's legs form one chain")
        followers[leader] = request_id
    for start in follows:
        seen = {start}
        current = follows.get(start)
        while current is not None:
            if current in seen:
                raise ValueError(f"request {start!r}: the follows links form a cycle")
            seen.add(current)
            current = follows.get(current)


def _check_vehicle(vehicle: Vehicle, size: int, request_ids: set[str],
                   taken: dict[str, str]) -> None:
    where = f"vehicle {vehicle.id!r}"
    _check_node(f"{where} start_node", vehicle.start_node, size)
    _check_node(f"{where} end_node", vehicle.end_node, size)
    if not isinstance(vehicle.capacity, int) or vehicle.capacity < 0:
        raise ValueError(f"{where} capacity = {vehicle.capacity!r}: expected an integer >= 0")
    if not isinstance(vehicle.shift, TimeWindow):
        raise ValueError(f"{where} shift: expected a TimeWindow")
    _check_window(f"{where} shift", vehicle.shift)
    if vehicle.source not in SOURCES:
        raise ValueError(f"{where} source {vehicle.source!r}: expected one of {SOURCES}")
    if vehicle.source == "unit_retained" and not vehicle.unit_id:
        raise ValueError(f"{where} is unit_retained but names no unit_id")
    for name in ("max_driving_s", "range_m", "cost_per_km"):
        _check_non_negative(f"{where} {name}", getattr(vehicle, name))
    if vehicle.price_plan is not None:
        for name in ("fixed_cost", "included_dist_m", "included_duration_s",
                     "overtime_cost_per_h", "over_km_cost_per_km"):
            _check_non_negative(f"{where} price_plan.{name}", getattr(vehicle.price_plan, name))
    state = vehicle.state
    if state is None:
        return
    _check_node(f"{where} state.node", state.node, size)
    for name in ("time_s", "driven_s", "driven_m"):
        _check_non_negative(f"{where} state.{name}", getattr(state, name))
    for item in state.on_board:
        if item.request_id not in request_ids:
            raise ValueError(f"{where} has unknown request {item.request_id!r} on board")
        _claim(taken, item.request_id, vehicle.id)
    on_board = {item.request_id for item in state.on_board}
    for ref in state.committed:
        if ref.request_id not in request_ids or ref.kind not in STOP_KINDS:
            raise ValueError(f"{where} committed stop {tuple(ref)!r} is not a request's stop")
        if ref.request_id not in on_board:
            _claim(taken, ref.request_id, vehicle.id)


def _claim(taken: dict[str, str], request_id: str, vehicle_id: str) -> None:
    """A request on board or committed belongs to one vehicle only."""
    owner = taken.setdefault(request_id, vehicle_id)
    if owner != vehicle_id:
        raise ValueError(f"request {request_id!r} is held by vehicles {owner!r} and {vehicle_id!r}")
