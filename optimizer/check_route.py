"""The checker's rules inside one route: the reported schedule against the matrix, loads and
seats at every moment, windows, ride times, sharing, the vehicle's own rules, and its cost.
Independent of every solver and of `evaluate_routes`: it recomputes from the problem alone."""

from __future__ import annotations

from optimizer.cost import route_cost
from optimizer.problem import Problem, Request, TimeWindow, Vehicle
from optimizer.solution import Cost, Route, Stop
from optimizer.violation import Violation


class _Report:
    def __init__(self, vehicle_id: str) -> None:
        self.vehicle_id = vehicle_id
        self.found: list[Violation] = []
        self._seen: set[tuple[str, str | None]] = set()

    def add(self, code: str, request_id: str | None, message: str, *, once: bool = False) -> None:
        if once and (code, request_id) in self._seen:
            return
        self._seen.add((code, request_id))
        self.found.append(Violation(code, self.vehicle_id, request_id, message))


def check_route(problem: Problem, vehicle: Vehicle, route: Route) -> tuple[list[Violation], Cost]:
    """The violations of one route (whose stops all name known requests) and its true cost."""
    report = _Report(vehicle.id)
    _check_committed(vehicle, route, report)
    _check_stops(problem, vehicle, route, report)
    nodes = [vehicle.origin_node, *(_node_of(problem, s) for s in route.stops), vehicle.end_node]
    legs = list(zip(nodes, nodes[1:], strict=False))
    dist_m = sum(problem.dist_m[a][b] for a, b in legs)
    driving_s = sum(problem.duration_s[a][b] for a, b in legs)
    if (route.dist_m, route.driving_s) != (dist_m, driving_s):
        report.add("route_totals", None, f"reported {route.dist_m} m / {route.driving_s} s, "
                                         f"the matrix gives {dist_m} m / {driving_s} s")
    driven_s = driving_s + (vehicle.state.driven_s if vehicle.state else 0)
    if vehicle.max_driving_s is not None and driven_s > vehicle.max_driving_s:
        report.add("max_driving", None, f"drives {driven_s} s, at most {vehicle.max_driving_s} s")
    if vehicle.range_m is not None and dist_m > vehicle.range_m:
        report.add("range", None, f"drives {dist_m} m with {vehicle.range_m} m of range left")
    cost = route_cost(vehicle, dist_m=dist_m, start_s=route.start_s, end_s=route.end_s,
                      served=bool(route.stops))
    if route.cost != cost:
        report.add("cost", None, f"reported {route.cost}, recomputed {cost}")
    return report.found, cost


def _node_of(problem: Problem, stop: Stop) -> int:
    request = problem.request_by_id[stop.request_id]
    return request.pickup_node if stop.kind == "pickup" else request.dropoff_node


def _check_committed(vehicle: Vehicle, route: Route, report: _Report) -> None:
    committed = [tuple(ref) for ref in vehicle.state.committed] if vehicle.state else []
    head = [(stop.request_id, stop.kind) for stop in route.stops[:len(committed)]]
    if head != committed:
        report.add("committed", None, f"route begins {head}, committed {committed}")


def _check_stops(problem: Problem, vehicle: Vehicle, route: Route, report: _Report) -> None:
    state = vehicle.state
    by_id = problem.request_by_id
    # request id -> departure from its pickup, for everyone on board
    on_board = {item.request_id: item.picked_up_s for item in (state.on_board if state else ())}
    load = sum(by_id[rid].passengers for rid in on_board)
    _check_moment(problem, vehicle, on_board, load, report)
    if route.start_s < vehicle.earliest_start_s:
        report.add("shift", None, f"leaves at {route.start_s} s, not before "
                                  f"{vehicle.earliest_start_s} s allowed")
    here, departure = vehicle.origin_node, route.start_s
    for stop in route.stops:
        request = by_id[stop.request_id]
        node = _node_of(problem, stop)
        if stop.node != node:
            report.add("wrong_node", request.id, f"{stop.kind} reported at node {stop.node}, "
                                                 f"the request's is {node}")
        _check_times(problem, request, stop, departure + problem.duration_s[here][node], report)
        _check_vehicle_fit(vehicle, request, report)
        if stop.kind == "pickup":
            on_board[request.id] = stop.start_s + request.pickup_service_s
            load += request.passengers
        else:  # a drop-off without its pickup before it is the global checker's to report
            if request.id in on_board:
                _check_ride(request, on_board.pop(request.id), stop, report)
            load -= request.passengers
        if stop.load != load:
            report.add("load", request.id, f"reported load {stop.load} after the {stop.kind}, "
                                           f"recomputed {load}")
        _check_moment(problem, vehicle, on_board, load, report)
        here, departure = node, stop.departure_s
    back_s = departure + problem.duration_s[here][vehicle.end_node]
    if route.end_s != back_s:
        report.add("end_depot", None, f"reported back at {route.end_s} s, the return leg "
                                      f"arrives at {back_s} s")
    if route.end_s > vehicle.shift.end_s:
        report.add("shift", None, f"back at {route.end_s} s, shift ends {vehicle.shift.end_s} s")


def _check_times(problem: Problem, request: Request, stop: Stop, arrival_s: int,
                 report: _Report) -> None:
    pickup = stop.kind == "pickup"
    service_s = request.pickup_service_s if pickup else request.dropoff_service_s
    if (stop.arrival_s != arrival_s or stop.start_s < stop.arrival_s
            or stop.departure_s != stop.start_s + service_s):
        report.add("schedule", request.id, (
            f"{stop.kind}: reported arrival/start/departure {stop.arrival_s}/{stop.start_s}/"
            f"{stop.departure_s} s, the matrix gives arrival {arrival_s} s, service {service_s} s"))
    window: TimeWindow | None = request.pickup_window if pickup else request.dropoff_window
    if window is not None and stop.start_s not in window:
        report.add("time_window", request.id, f"{stop.kind} starts at {stop.start_s} s, window "
                                              f"[{window.start_s}, {window.end_s}] s")


def _check_ride(request: Request, picked_up_s: int, stop: Stop, report: _Report) -> None:
    ride_s = stop.start_s - picked_up_s
    if request.max_ride_s is not None and ride_s > request.max_ride_s:
        report.add("ride_time", request.id, f"rides {ride_s} s, at most {request.max_ride_s} s")


def _check_vehicle_fit(vehicle: Vehicle, request: Request, report: _Report) -> None:
    if request.car_levels and vehicle.car_level not in request.car_levels:
        report.add("car_level", request.id, f"car level {vehicle.car_level!r}, the request "
                                            f"allows {list(request.car_levels)}", once=True)
    if vehicle.source == "unit_retained" and request.unit_id != vehicle.unit_id:
        report.add("unit_retained", request.id, f"car retained by unit {vehicle.unit_id!r}, "
                                                f"request of unit {request.unit_id!r}", once=True)


def _check_moment(problem: Problem, vehicle: Vehicle, on_board: dict[str, int], load: int,
                  report: _Report) -> None:
    """Seats and sharing for the time until the next stop."""
    if load > vehicle.capacity:
        report.add("capacity", None, f"{load} passengers on board ({sorted(on_board)}), "
                                     f"{vehicle.capacity} seats")
    if len(on_board) < 2:
        return
    for rid in on_board:
        request = problem.request_by_id[rid]
        others = sorted(set(on_board) - {rid})
        if request.confidential:
            report.add("confidential", rid, f"机要 request rides with {others}", once=True)
        elif not request.shareable:
            report.add("not_shareable", rid, f"rides with {others} without carpooling allowed",
                       once=True)
