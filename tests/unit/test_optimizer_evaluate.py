"""evaluate_routes: schedules (waiting, ride-time limits that delay a pickup), loads, costs under
price plans, and the reasons given for requests left out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer import (
    Cost,
    OnBoard,
    PricePlan,
    TimeWindow,
    VehicleState,
    check,
    default_max_ride_s,
    evaluate_routes,
)
from optimizer.cost import distance_total, route_cost
from optimizer.reasons import explain_unserved
from tests.optimizer_world import line_problem, request, vehicle

PLAN = PricePlan(fixed_cost=30_000, included_dist_m=20_000, included_duration_s=3600,
                 overtime_cost_per_h=5000, over_km_cost_per_km=300)
A_THEN_B = {"v": [("a", "pickup"), ("a", "dropoff"), ("b", "pickup"), ("b", "dropoff")]}


def test_default_max_ride_is_the_carpool_rule():
    assert default_max_ride_s(3600) == 3600 * 1.2 + 900
    assert default_max_ride_s(1001) == 1202 + 900  # rounded up


def test_a_ride_limit_delays_the_pickup_instead_of_waiting_with_the_passenger_on_board():
    problem = line_problem([request("a", 1, 2, dropoff_window=TimeWindow(3000, 3100),
                                    max_ride_s=900)])
    route = evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]}).routes[0]
    pickup, dropoff = route.stops
    # back at the depot as early as possible (3000 + 1200), leaving as late as that allows
    assert (route.start_s, route.end_s) == (1800, 4200)
    assert (pickup.arrival_s, pickup.start_s, pickup.departure_s) == (2400, 2400, 2400)
    assert (dropoff.arrival_s, dropoff.start_s) == (3000, 3000)
    assert check(problem, evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]})) \
        == []


def test_the_ride_limit_can_make_a_waiting_pickup_wait_longer():
    """Served as early as possible, `a` would be picked up at 600 and ride 2340 s (it must be
    dropped at 3000): the pickup moves as late as `b`'s window allows, and the car leaves later."""
    problem = line_problem([
        request("a", 1, 3, pickup_window=TimeWindow(600, 5000), pickup_service_s=60,
                dropoff_window=TimeWindow(3000, 3000), max_ride_s=1800),
        request("b", 2, 4, pickup_window=TimeWindow(1900, 2000)),
    ])
    order = {"v": [("a", "pickup"), ("b", "pickup"), ("a", "dropoff"), ("b", "dropoff")]}
    solution = evaluate_routes(problem, order)
    route = solution.routes[0]
    assert route.start_s == 740
    assert [s.start_s for s in route.stops] == [1340, 2000, 3000, 3600]
    assert route.stops[2].start_s - route.stops[0].departure_s == 1600
    assert check(problem, solution) == []


def test_the_car_waits_empty_rather_than_with_the_passenger_on_board():
    """`a` must arrive at 6000; picked up as early as possible (1800) it would sit in the car
    for an hour. The pickup is made with the car empty, so it is as late as possible."""
    problem = line_problem([request("b", 1, 2, pickup_window=TimeWindow(600, 600)),
                            request("a", 3, 4, dropoff_window=TimeWindow(6000, 6100))])
    order = {"v": [("b", "pickup"), ("b", "dropoff"), ("a", "pickup"), ("a", "dropoff")]}
    solution = evaluate_routes(problem, order)
    route = solution.routes[0]
    assert [(s.arrival_s, s.start_s) for s in route.stops] == [
        (600, 600), (1200, 1200), (1800, 5400), (6000, 6000)]
    assert (route.start_s, route.end_s) == (0, 8400)
    assert check(problem, solution) == []


def test_loads_count_the_passengers_on_board_at_replan():
    state = VehicleState(node=2, time_s=1000, on_board=(OnBoard("a", 900),))
    problem = line_problem([request("a", 1, 3, passengers=2), request("b", 3, 4, passengers=1)],
                           [vehicle("v", state=state)])
    solution = evaluate_routes(problem, {"v": [("b", "pickup"), ("a", "dropoff"),
                                               ("b", "dropoff")]})
    route = solution.routes[0]
    assert [s.load for s in route.stops] == [3, 1, 0]
    assert route.start_s == 1000 and route.stops[0].arrival_s == 1600  # from node 2, not the depot
    assert check(problem, solution) == []


def test_a_price_plan_bills_fixed_overtime_and_over_km():
    problem = line_problem(
        [request("a", 1, 2, pickup_window=TimeWindow(600, 600)),
         request("b", 3, 4, pickup_window=TimeWindow(7200, 7200))],
        [vehicle("v", cost_per_km=100, price_plan=PLAN)])
    route = evaluate_routes(problem, A_THEN_B).routes[0]
    assert (route.start_s, route.end_s, route.dist_m) == (0, 10_200, 80_000)
    # 80 km × 100; 10,200 s billed − 3600 included at 5000/h; 60 km over at 300/km
    assert route.cost == Cost(fixed=30_000, distance=8000, overtime=9167, over_km=18_000)
    assert route.cost.total == 65_167


def test_a_leased_car_leaves_as_late_as_its_first_window_allows():
    problem = line_problem([request("a", 1, 2, dropoff_window=TimeWindow(7200, 7300))],
                           [vehicle("v", price_plan=PLAN)])
    route = evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]}).routes[0]
    assert (route.start_s, route.end_s) == (6000, 8400)
    assert route.cost == Cost(fixed=30_000, over_km=6000)  # 40 km: 20 over the 20 included


def test_sunk_costs_of_a_car_already_out_are_not_counted():
    state = VehicleState(node=1, time_s=1000, departed_s=400, driven_m=15_000)
    problem = line_problem([request("a", 1, 2)], [vehicle("v", price_plan=PLAN, state=state)])
    route = evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]}).routes[0]
    # no fixed cost; from node 1: 10 + 20 km, plus 15 km already driven = 45 km, 25 over
    assert route.cost == Cost(over_km=7500)
    assert route.end_s - 400 <= PLAN.included_duration_s


def test_unknown_vehicles_are_refused():
    problem = line_problem([request("a", 1, 2)])
    with pytest.raises(ValueError, match="unknown vehicles"):
        evaluate_routes(problem, {"ghost": [("a", "pickup"), ("a", "dropoff")]})


def test_reasons_a_solver_gives_are_kept():
    problem = line_problem([request("a", 1, 2)])
    solution = evaluate_routes(problem, {}, {"a": ("not_planned", "time limit reached")})
    assert [(u.reason, u.message) for u in solution.unassigned] == [
        ("not_planned", "time limit reached")]
    assert solution.cost == Cost(unserved=problem.unserved_penalty.ordinary)


@pytest.mark.parametrize(("fields", "vehicle_fields", "reason", "words"), [
    ({"passengers": 5}, {}, "no_vehicle", "seats: 1"),
    ({"car_levels": ("bus",)}, {}, "no_vehicle", "car level: 1"),
    ({"unit_id": "u2"}, {"source": "unit_retained", "unit_id": "u1"}, "no_vehicle", "unit"),
    ({}, {"range_m": 30_000}, "no_vehicle", "range: 1"),
    ({"pickup_window": TimeWindow(0, 100)}, {}, "infeasible_time", "time windows"),
    ({"dropoff_window": TimeWindow(5000, 5000), "pickup_window": TimeWindow(0, 1000),
      "max_ride_s": 900}, {}, "infeasible_time", "ride time"),
    ({}, {}, "no_capacity", "could serve it alone"),
])
def test_explain_unserved(fields, vehicle_fields, reason, words):
    problem = line_problem([request("a", 1, 2, **fields)], [vehicle("v", **vehicle_fields)])
    code, message = explain_unserved(problem, "a")
    assert code == reason and words in message


def test_explain_unserved_names_the_leg_of_the_trip_that_cannot_be_served():
    problem = line_problem([request("out", 1, 2),
                            request("back", 2, 1, follows="out", passengers=9)])
    assert explain_unserved(problem, "out") == (
        "linked_unserved", "leg 'back' of the same trip cannot be served")


@given(dist_m=st.integers(0, 2_000_000), served=st.booleans(), rate=st.integers(0, 500),
       fixed=st.integers(0, 100_000), included_m=st.integers(0, 500_000),
       over_km=st.integers(0, 300), driven_m=st.integers(0, 100_000),
       departed=st.sampled_from([None, 3600]), plan=st.booleans())
def test_the_fast_route_total_agrees_with_route_cost(dist_m, served, rate, fixed, included_m,
                                                     over_km, driven_m, departed, plan):
    price = PricePlan(fixed_cost=fixed, included_dist_m=included_m, overtime_cost_per_h=5000,
                      over_km_cost_per_km=over_km) if plan else None
    state = VehicleState(node=0, time_s=7200, departed_s=departed, driven_m=driven_m)
    for car_state in (None, state):
        car = vehicle("v", cost_per_km=rate, price_plan=price, state=car_state)
        assert distance_total(car, dist_m, served) == route_cost(
            car, dist_m=dist_m, start_s=0, end_s=0, served=served).total
