"""The documented JSON form of a Problem and a Solution (docs/optimizer.md): plain objects, integer
seconds, metres and cost units, coordinates `[lon, lat]`, time windows `[start_s, end_s]`.

`*_to_json` writes every field; `*_from_json` accepts the optional ones left out (their defaults
apply), refuses unknown ones, and raises ValueError naming the place at fault
(`requests[3].pickup_window: ...`). `from_json(to_json(x)) == x` exactly.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

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
)
from optimizer.solution import Cost, Route, Solution, Stop, Unassigned

_MISSING = object()


class _Reader:
    """One JSON object being read: typed field access with its path in every error."""

    def __init__(self, data: Any, where: str, allowed: set[str]) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{where or 'the document'}: expected an object, "
                             f"got {type(data).__name__}")
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
        self.data, self.where = data, where

    def get(self, name: str, kind: str, default: Any = _MISSING) -> Any:
        where = f"{self.where}.{name}" if self.where else name
        if name not in self.data:
            if default is _MISSING:
                raise ValueError(f"{where}: missing field")
            return default
        return _typed(self.data[name], kind, where)


def _typed(value: Any, kind: str, where: str) -> Any:
    if kind.endswith("?"):
        return None if value is None else _typed(value, kind[:-1], where)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "num" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "str" and isinstance(value, str) or kind == "bool" and isinstance(value, bool):
        return value
    if kind == "list" and isinstance(value, list) or kind == "obj" and isinstance(value, dict):
        return value
    if kind == "window":
        pair = _typed(value, "list", where)
        if len(pair) != 2:
            raise ValueError(f"{where}: expected [start_s, end_s]")
        start, end = (_typed(v, "int", where) for v in pair)
        if start > end:
            raise ValueError(f"{where}: start {start} s is after end {end} s")
        return TimeWindow(start, end)
    raise ValueError(f"{where}: expected {kind}, got {value!r}")


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _window(window: TimeWindow | None) -> list[int] | None:
    return None if window is None else [window.start_s, window.end_s]


# ---- Problem -------------------------------------------------------------------------------

def problem_to_json(problem: Problem) -> dict[str, Any]:
    return {
        "name": problem.name,
        "nodes": [{"coord": list(n.coord), "city_code": n.city_code, "name": n.name}
                  for n in problem.nodes],
        "duration_s": [list(row) for row in problem.duration_s],
        "dist_m": [list(row) for row in problem.dist_m],
        "requests": [_request_to_json(r) for r in problem.requests],
        "vehicles": [_vehicle_to_json(v) for v in problem.vehicles],
        "unserved_penalty": asdict(problem.unserved_penalty),
    }


def _request_to_json(request: Request) -> dict[str, Any]:
    out = asdict(request)
    out["pickup_window"] = _window(request.pickup_window)
    out["dropoff_window"] = _window(request.dropoff_window)
    out["car_levels"] = list(request.car_levels)
    return out


def _vehicle_to_json(vehicle: Vehicle) -> dict[str, Any]:
    out = asdict(vehicle)
    out["shift"] = _window(vehicle.shift)
    if vehicle.state is not None:
        out["state"]["on_board"] = [asdict(item) for item in vehicle.state.on_board]
        out["state"]["committed"] = [list(ref) for ref in vehicle.state.committed]
    return out


def problem_from_json(data: Any) -> Problem:
    top = _Reader(data, "", _names(Problem))
    nodes = []
    for i, item in enumerate(top.get("nodes", "list")):
        node = _Reader(item, f"nodes[{i}]", {"coord", "city_code", "name"})
        coord = node.get("coord", "list")
        if len(coord) != 2:
            raise ValueError(f"nodes[{i}].coord: expected [lon, lat]")
        lon, lat = (_typed(v, "num", f"nodes[{i}].coord") for v in coord)
        nodes.append(Node((lon, lat), node.get("city_code", "str", ""), node.get("name", "str", "")))
    matrices = {name: _matrix(top.get(name, "list"), name) for name in ("duration_s", "dist_m")}
    penalty = UnservedPenalty()
    if top.get("unserved_penalty", "obj?", None) is not None:
        p = _Reader(data["unserved_penalty"], "unserved_penalty", _names(UnservedPenalty))
        penalty = UnservedPenalty(**{k: p.get(k, "int", getattr(penalty, k))
                                     for k in _names(UnservedPenalty)})
    return Problem(
        nodes=tuple(nodes),
        duration_s=matrices["duration_s"],
        dist_m=matrices["dist_m"],
        requests=tuple(_request_from_json(item, f"requests[{i}]")
                       for i, item in enumerate(top.get("requests", "list"))),
        vehicles=tuple(_vehicle_from_json(item, f"vehicles[{i}]")
                       for i, item in enumerate(top.get("vehicles", "list"))),
        unserved_penalty=penalty,
        name=top.get("name", "str", ""),
    )


def _matrix(rows: list[Any], where: str) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(_typed(v, "int", f"{where}[{i}][{j}]") for j, v in
                       enumerate(_typed(row, "list", f"{where}[{i}]")))
                 for i, row in enumerate(rows))


_REQUEST_KINDS = {
    "id": "str", "pickup_node": "int", "dropoff_node": "int", "passengers": "int",
    "pickup_window": "window?", "dropoff_window": "window?", "max_ride_s": "int?",
    "pickup_service_s": "int", "dropoff_service_s": "int", "priority": "str",
    "car_levels": "list", "confidential": "bool", "shareable": "bool", "unit_id": "str?",
    "follows": "str?", "driver_waits": "bool",
}
_REQUIRED_REQUEST = {"id", "pickup_node", "dropoff_node"}


def _request_from_json(data: Any, where: str) -> Request:
    reader = _Reader(data, where, set(_REQUEST_KINDS))
    values = {name: reader.get(name, kind) for name, kind in _REQUEST_KINDS.items()
              if name in _REQUIRED_REQUEST or name in data}
    if "car_levels" in values:
        values["car_levels"] = tuple(_typed(v, "str", f"{where}.car_levels")
                                     for v in values["car_levels"])
    return Request(**values)


_VEHICLE_KINDS = {
    "id": "str", "start_node": "int", "end_node": "int", "capacity": "int", "shift": "window",
    "car_level": "str", "source": "str", "unit_id": "str?", "max_driving_s": "int?",
    "range_m": "int?", "cost_per_km": "int",
}
_REQUIRED_VEHICLE = {"id", "start_node", "end_node", "capacity", "shift"}


def _vehicle_from_json(data: Any, where: str) -> Vehicle:
    reader = _Reader(data, where, set(_VEHICLE_KINDS) | {"price_plan", "state"})
    values = {name: reader.get(name, kind) for name, kind in _VEHICLE_KINDS.items()
              if name in _REQUIRED_VEHICLE or name in data}
    if data.get("price_plan") is not None:
        plan = _Reader(data["price_plan"], f"{where}.price_plan", _names(PricePlan))
        values["price_plan"] = PricePlan(**{k: plan.get(k, "int", 0) for k in _names(PricePlan)})
    if data.get("state") is not None:
        values["state"] = _state_from_json(data["state"], f"{where}.state")
    return Vehicle(**values)


def _state_from_json(data: Any, where: str) -> VehicleState:
    reader = _Reader(data, where, _names(VehicleState))
    on_board = []
    for i, item in enumerate(reader.get("on_board", "list", [])):
        entry = _Reader(item, f"{where}.on_board[{i}]", {"request_id", "picked_up_s"})
        on_board.append(OnBoard(entry.get("request_id", "str"), entry.get("picked_up_s", "int")))
    committed = []
    for i, item in enumerate(reader.get("committed", "list", [])):
        pair = _typed(item, "list", f"{where}.committed[{i}]")
        if len(pair) != 2 or pair[1] not in ("pickup", "dropoff"):
            raise ValueError(f"{where}.committed[{i}]: expected [request_id, pickup|dropoff]")
        committed.append(StopRef(_typed(pair[0], "str", f"{where}.committed[{i}]"), pair[1]))
    return VehicleState(
        node=reader.get("node", "int"), time_s=reader.get("time_s", "int"),
        on_board=tuple(on_board), committed=tuple(committed),
        departed_s=reader.get("departed_s", "int?", None),
        driven_s=reader.get("driven_s", "int", 0), driven_m=reader.get("driven_m", "int", 0))


# ---- Solution ------------------------------------------------------------------------------

def _cost_to_json(cost: Cost) -> dict[str, int]:
    return {**asdict(cost), "total": cost.total}


def solution_to_json(solution: Solution) -> dict[str, Any]:
    return {
        "routes": [{**{k: v for k, v in asdict(route).items() if k not in ("stops", "cost")},
                    "cost": _cost_to_json(route.cost),
                    "stops": [asdict(stop) for stop in route.stops]}
                   for route in solution.routes],
        "unassigned": [asdict(item) for item in solution.unassigned],
        "cost": _cost_to_json(solution.cost),
    }


def _cost_from_json(data: Any, where: str) -> Cost:
    reader = _Reader(data, where, _names(Cost) | {"total"})
    cost = Cost(**{k: reader.get(k, "int") for k in _names(Cost)})
    total = reader.get("total", "int", cost.total)
    if total != cost.total:
        raise ValueError(f"{where}.total: {total} is not the sum of the parts ({cost.total})")
    return cost


def solution_from_json(data: Any) -> Solution:
    top = _Reader(data, "", {"routes", "unassigned", "cost"})
    routes = []
    for i, item in enumerate(top.get("routes", "list")):
        where = f"routes[{i}]"
        reader = _Reader(item, where, _names(Route))
        stops = []
        for j, raw in enumerate(reader.get("stops", "list")):
            stop = _Reader(raw, f"{where}.stops[{j}]", _names(Stop))
            kind = stop.get("kind", "str")
            if kind not in ("pickup", "dropoff"):
                raise ValueError(f"{where}.stops[{j}].kind: expected pickup or dropoff")
            stops.append(Stop(stop.get("request_id", "str"), kind, *(
                stop.get(k, "int") for k in ("node", "arrival_s", "start_s", "departure_s",
                                              "load"))))
        routes.append(Route(reader.get("vehicle_id", "str"), tuple(stops), *(
            reader.get(k, "int") for k in ("start_s", "end_s", "dist_m", "driving_s")),
            _cost_from_json(reader.get("cost", "obj"), f"{where}.cost")))
    unassigned = []
    for i, raw in enumerate(top.get("unassigned", "list")):
        entry = _Reader(raw, f"unassigned[{i}]", _names(Unassigned))
        unassigned.append(Unassigned(*(entry.get(k, "str")
                                       for k in ("request_id", "reason", "message"))))
    return Solution(tuple(routes), tuple(unassigned), _cost_from_json(top.get("cost", "obj"), "cost"))
