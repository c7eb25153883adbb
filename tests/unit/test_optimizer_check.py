"""The checker rejects each kind of broken solution: one test per rule, each breaking exactly that
rule in a tiny problem and expecting exactly that violation code."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from optimizer import (
    Cost,
    OnBoard,
    PricePlan,
    Route,
    StopRef,
    TimeWindow,
    Unassigned,
    VehicleState,
    check,
    evaluate_routes,
)
from optimizer.violation import VIOLATION_CODES
from tests.optimizer_world import line_problem, request, vehicle, with_route, with_stop

A_THEN_B = {"v": [("a", "pickup"), ("a", "dropoff"), ("b", "pickup"), ("b", "dropoff")]}
OVERLAP = {"v": [("a", "pickup"), ("b", "pickup"), ("a", "dropoff"), ("b", "dropoff")]}


def codes(problem, solution) -> list[str]:
    found = check(problem, solution)
    assert all(v.code in VIOLATION_CODES and v.message for v in found)
    return [v.code for v in found]


def two_requests(**a_fields):
    return [request("a", 1, 2, **a_fields), request("b", 3, 4)]


def test_a_valid_solution_passes():
    problem = line_problem(two_requests(max_ride_s=600), [vehicle("v"), vehicle("w")])
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == []


def test_a_rich_valid_solution_passes():
    """Round trip with the driver waiting, a leased car with a price plan, a car being re-planned
    with a passenger on board and a committed stop, an unserved request with its reason."""
    requests = [
        request("out", 1, 3, pickup_window=TimeWindow(600, 900), pickup_service_s=60),
        request("back", 3, 1, follows="out", driver_waits=True,
                pickup_window=TimeWindow(7200, 7500), dropoff_service_s=60),
        request("ride", 2, 4, max_ride_s=1500),
        request("seated", 4, 1, passengers=2),
        request("far", 4, 2, passengers=9),
    ]
    plan = PricePlan(fixed_cost=30_000, included_dist_m=20_000, included_duration_s=3600,
                     overtime_cost_per_h=5000, over_km_cost_per_km=300)
    moving = VehicleState(node=2, time_s=900, on_board=(OnBoard("seated", 600),),
                          committed=(StopRef("ride", "pickup"),), departed_s=300,
                          driven_s=300, driven_m=5000)
    vehicles = [vehicle("lease", source="leased", price_plan=plan, cost_per_km=100),
                vehicle("w", state=moving, cost_per_km=200)]
    problem = line_problem(requests, vehicles)
    solution = evaluate_routes(problem, {
        "lease": [("out", "pickup"), ("out", "dropoff"), ("back", "pickup"), ("back", "dropoff")],
        "w": [("ride", "pickup"), ("ride", "dropoff"), ("seated", "dropoff")],
    })
    assert codes(problem, solution) == []
    assert [u.reason for u in solution.unassigned] == ["no_vehicle"]
    assert solution.routes[0].cost.fixed == 30_000 and solution.routes[0].cost.overtime > 0


def test_unknown_vehicle():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    ghost = Route("ghost", (), 0, 0, 0, 0, Cost())
    assert codes(problem, replace(solution, routes=(*solution.routes, ghost))) == [
        "unknown_vehicle"]


def test_unknown_request():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    extra = Unassigned("nope", "no_vehicle", "no such request")
    assert codes(problem, replace(solution, unassigned=(extra,))) == ["unknown_request"]


def test_duplicate_route():
    problem = line_problem(two_requests(), [vehicle("v"), vehicle("w")])
    solution = evaluate_routes(problem, A_THEN_B)
    idle = Route("w", (), 0, 0, 0, 0, Cost())
    assert codes(problem, replace(solution, routes=(*solution.routes, idle, idle))) == [
        "duplicate_route"]


def test_missing_route():
    parked = vehicle("w", state=VehicleState(node=0, time_s=0))
    problem = line_problem(two_requests(), [vehicle("v"), parked])
    solution = evaluate_routes(problem, A_THEN_B)
    assert [r.vehicle_id for r in solution.routes] == ["v", "w"]
    assert codes(problem, replace(solution, routes=solution.routes[:1])) == ["missing_route"]


def test_served_twice():
    problem = line_problem(two_requests(), [vehicle("v"), vehicle("w")])
    solution = evaluate_routes(problem, {**A_THEN_B, "w": [("a", "pickup"), ("a", "dropoff")]})
    assert codes(problem, solution) == ["served_twice"]


def test_accounting():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]})
    assert [u.request_id for u in solution.unassigned] == ["b"]
    assert codes(problem, replace(solution, unassigned=())) == ["accounting"]


def test_no_reason():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]})
    vague = replace(solution.unassigned[0], reason="because")
    assert codes(problem, replace(solution, unassigned=(vague,))) == ["no_reason"]


def test_wrong_node():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    assert codes(problem, with_stop(solution, 0, 0, node=3)) == ["wrong_node"]


def test_incomplete():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, {"v": [("a", "dropoff"), ("b", "pickup"),
                                               ("b", "dropoff")]})
    assert codes(problem, solution) == ["incomplete"]


def test_same_vehicle():
    problem = line_problem(two_requests(), [vehicle("v"), vehicle("w")])
    solution = evaluate_routes(problem, {"v": [("a", "pickup"), ("b", "pickup"),
                                               ("b", "dropoff")], "w": [("a", "dropoff")]})
    assert codes(problem, solution) == ["same_vehicle"]


def test_precedence():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, {"v": [("a", "dropoff"), ("a", "pickup"),
                                               ("b", "pickup"), ("b", "dropoff")]})
    assert codes(problem, solution) == ["precedence"]


def test_link_vehicle():
    problem = line_problem([request("a", 1, 2), request("b", 2, 1, follows="a")],
                           [vehicle("v"), vehicle("w")])
    solution = evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")],
                                         "w": [("b", "pickup"), ("b", "dropoff")]})
    assert codes(problem, solution) == ["link_vehicle"]


def test_link_order():
    problem = line_problem([request("a", 1, 2), request("b", 2, 1, follows="a")])
    solution = evaluate_routes(problem, {"v": [("b", "pickup"), ("b", "dropoff"),
                                               ("a", "pickup"), ("a", "dropoff")]})
    assert codes(problem, solution) == ["link_order"]


def test_link_wait():
    problem = line_problem([request("a", 1, 2), request("b", 2, 1, follows="a", driver_waits=True),
                            request("c", 3, 4)])
    solution = evaluate_routes(problem, {"v": [
        ("a", "pickup"), ("a", "dropoff"), ("c", "pickup"), ("c", "dropoff"),
        ("b", "pickup"), ("b", "dropoff")]})
    assert codes(problem, solution) == ["link_wait"]


def test_committed():
    state = VehicleState(node=0, time_s=0, committed=(StopRef("a", "pickup"),))
    problem = line_problem(two_requests(), [vehicle("v", state=state)])
    reordered = {"v": [("b", "pickup"), ("b", "dropoff"), ("a", "pickup"), ("a", "dropoff")]}
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == []
    assert codes(problem, evaluate_routes(problem, reordered)) == ["committed"]


def test_capacity():
    problem = line_problem([request("a", 1, 2, passengers=3), request("b", 3, 4, passengers=2)])
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == []
    assert codes(problem, evaluate_routes(problem, OVERLAP)) == ["capacity"]


def test_capacity_counts_passengers_on_board_at_replan():
    state = VehicleState(node=0, time_s=0, on_board=(OnBoard("a", 0),))
    problem = line_problem([request("a", 1, 2, passengers=3), request("b", 3, 4, passengers=2)],
                           [vehicle("v", state=state)])
    solution = evaluate_routes(problem, {"v": [("b", "pickup"), ("a", "dropoff"),
                                               ("b", "dropoff")]})
    assert codes(problem, solution) == ["capacity"]


def test_car_level():
    problem = line_problem(two_requests(car_levels=("business",)))
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["car_level"]


def test_unit_retained():
    car = vehicle("v", source="unit_retained", unit_id="u1")
    problem = line_problem([request("a", 1, 2, unit_id="u1"), request("b", 3, 4, unit_id="u2")],
                           [car])
    assert codes(problem, evaluate_routes(problem, {"v": A_THEN_B["v"][:2]})) == []
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["unit_retained"]


def test_confidential():
    problem = line_problem(two_requests(confidential=True))
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == []
    assert codes(problem, evaluate_routes(problem, OVERLAP)) == ["confidential"]


def test_not_shareable():
    problem = line_problem(two_requests(shareable=False))
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == []
    assert codes(problem, evaluate_routes(problem, OVERLAP)) == ["not_shareable"]


def test_time_window():
    problem = line_problem(two_requests(pickup_window=TimeWindow(0, 300)))  # node 1 is 600 s away
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["time_window"]


def test_ride_time():
    problem = line_problem(two_requests(max_ride_s=600))  # the direct ride takes 600 s
    assert codes(problem, evaluate_routes(problem, OVERLAP)) == ["ride_time"]


def test_shift():
    problem = line_problem(two_requests(), [vehicle("v", shift=TimeWindow(0, 3600))])
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["shift"]  # 4800 s of driving


def test_shift_start():
    problem = line_problem(two_requests(), [vehicle("v", shift=TimeWindow(3600, 36_000))])
    solution = evaluate_routes(problem, A_THEN_B)
    early = solution.routes[0]
    shifted = tuple(replace(s, arrival_s=s.arrival_s - 100, start_s=s.start_s - 100,
                            departure_s=s.departure_s - 100) for s in early.stops)
    moved = with_route(solution, 0, stops=shifted, start_s=early.start_s - 100,
                       end_s=early.end_s - 100)
    assert codes(problem, moved) == ["shift"]


def test_end_depot():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    assert codes(problem, with_route(solution, 0, end_s=solution.routes[0].end_s - 60)) == [
        "end_depot"]


def test_max_driving():
    problem = line_problem(two_requests(), [vehicle("v", max_driving_s=4000)])
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["max_driving"]


def test_max_driving_counts_the_driving_already_done():
    state = VehicleState(node=0, time_s=0, driven_s=600)
    problem = line_problem(two_requests(), [vehicle("v", max_driving_s=5000, state=state)])
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["max_driving"]  # 4800 + 600


def test_range():
    problem = line_problem(two_requests(), [vehicle("v", range_m=79_000)])  # 80 km to drive
    assert codes(problem, evaluate_routes(problem, A_THEN_B)) == ["range"]


def test_schedule():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    stop = solution.routes[0].stops[1]
    late = with_stop(solution, 0, 1, arrival_s=stop.arrival_s + 30)
    assert codes(problem, late) == ["schedule"]


def test_load():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    assert codes(problem, with_stop(solution, 0, 0, load=2)) == ["load"]


def test_route_totals():
    problem = line_problem(two_requests())
    solution = evaluate_routes(problem, A_THEN_B)
    assert codes(problem, with_route(solution, 0, dist_m=1000)) == ["route_totals"]


def test_cost_of_a_route():
    problem = line_problem(two_requests(), [vehicle("v", cost_per_km=150)])
    solution = evaluate_routes(problem, A_THEN_B)
    assert solution.routes[0].cost == Cost(distance=12_000)  # 80 km × 150
    cheap = with_route(solution, 0, cost=Cost(distance=11_000))
    assert codes(problem, cheap) == ["cost"]


def test_cost_of_the_unserved():
    problem = line_problem(two_requests(priority="emergency"))
    solution = evaluate_routes(problem, {"v": [("b", "pickup"), ("b", "dropoff")]})
    assert solution.cost.unserved == problem.unserved_penalty.emergency
    assert codes(problem, replace(solution, cost=Cost(unserved=1_000_000))) == ["cost"]


def test_every_code_has_a_test():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert {code for code in VIOLATION_CODES if code not in tested} == {"cost"}  # two tests


def test_the_package_imports_no_solver_and_no_http_client():
    probe = "import sys, optimizer; print(sorted({'ortools', 'httpx'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "[]"
