"""The OR-Tools engine (optimizer/ortools_solver.py) and the ALNS's fleet reduction
(optimizer/alns_fleet.py): each answer judged by the independent checker."""

from __future__ import annotations

import pytest

from optimizer import PricePlan, StopRef, TimeWindow, VehicleState, check
from optimizer.alns import AlnsConfig
from optimizer.alns_fleet import reduce_fleet
from optimizer.benchmarks import benchmarks_dir, cordeau
from optimizer.insertion import PlanState, trip_chains
from optimizer.solve import SolveParams, solve
from tests.optimizer_world import line_problem, request, vehicle

ORTOOLS = SolveParams(time_limit_s=2.0, engine="ortools")


def _served(solution) -> dict[str, str]:
    return {stop.request_id: route.vehicle_id for route in solution.routes
            for stop in route.stops}


def test_ortools_honours_the_maximum_ride_time():
    # sharing the car would save distance, but the long ride would break the short one's limit:
    # the depot is at 0, "long" goes 1 -> 4 and "short" 2 -> 3 with at most 11 min on board
    long_ride = request("long", 1, 4, pickup_window=TimeWindow(600, 900))
    short_ride = request("short", 2, 3, pickup_window=TimeWindow(1200, 1500), max_ride_s=660)
    problem = line_problem([long_ride, short_ride], [vehicle("a"), vehicle("b")])
    solution = solve(problem, ORTOOLS)
    assert check(problem, solution) == []
    assert set(_served(solution)) == {"long", "short"}
    stops = {(s.request_id, s.kind): s for route in solution.routes for s in route.stops}
    ride_s = stops[("short", "dropoff")].start_s - stops[("short", "pickup")].start_s
    assert ride_s <= 660


def test_ortools_keeps_a_confidential_rider_alone_and_round_trips_on_one_car():
    secret = request("secret", 1, 3, confidential=True, pickup_window=TimeWindow(600, 700))
    other = request("other", 1, 3, pickup_window=TimeWindow(600, 700))
    out = request("out", 2, 4, pickup_window=TimeWindow(600, 3000))
    back = request("back", 4, 2, follows="out", driver_waits=True)
    problem = line_problem([secret, other, out, back],
                           [vehicle("a"), vehicle("b"), vehicle("c")])
    solution = solve(problem, ORTOOLS)
    assert check(problem, solution) == []
    served = _served(solution)
    assert set(served) == {"secret", "other", "out", "back"}
    assert served["secret"] != served["other"]
    assert served["out"] == served["back"]


def test_ortools_leaves_out_what_no_car_may_take_and_pays_for_the_rest():
    big = request("big", 1, 2, passengers=9)
    small = request("small", 1, 2)
    problem = line_problem([big, small], [vehicle("a", capacity=4, cost_per_km=100)])
    solution = solve(problem, ORTOOLS)
    assert check(problem, solution) == []
    assert [item.request_id for item in solution.unassigned] == ["big"]
    assert solution.routes[0].cost.distance == 100 * 40  # 0 -> 10 -> 20 -> 0 on the line


def test_ortools_refuses_a_day_under_way():
    state = VehicleState(node=1, time_s=600)
    problem = line_problem([request("r", 1, 2)], [vehicle("a", state=state)])
    with pytest.raises(ValueError, match="ALNS"):
        solve(problem, ORTOOLS)


def test_the_ortools_polish_never_returns_worse_than_the_alns_alone():
    riders = [request(f"r{n}", n % 4 + 1, (n + 2) % 4 + 1,
                      pickup_window=TimeWindow(300 * n, 300 * n + 1800)) for n in range(10)]
    problem = line_problem(riders, [vehicle("a", cost_per_km=100), vehicle("b", cost_per_km=120)])
    # an iteration cap makes the ALNS part the same in both runs
    alone = solve(problem, SolveParams(time_limit_s=30.0, seed=0, max_iterations=40))
    polished = solve(problem, SolveParams(time_limit_s=4.0, seed=0, max_iterations=40,
                                          engine="alns+ortools", polish_share=0.25))
    assert check(problem, polished) == []
    assert polished.cost.total <= alone.cost.total


def test_an_unknown_engine_is_refused():
    problem = line_problem([request("r", 1, 2)])
    with pytest.raises(ValueError, match="unknown engine"):
        solve(problem, SolveParams(engine="gurobi"))


DARP = benchmarks_dir() / "cordeau2006_darp"


@pytest.mark.skipif(not DARP.is_dir(), reason=f"no benchmarks at {DARP}")
def test_ortools_solves_cordeau_a2_16_checker_clean():
    instance = cordeau.read_instance(DARP / "instances" / "a2-16")
    solution = solve(instance.problem, SolveParams(time_limit_s=3.0, engine="ortools"))
    assert check(instance.problem, solution) == []
    assert not solution.unassigned
    assert instance.true_distance(solution) <= 294.25 * 1.05


# -- fleet reduction ---------------------------------------------------------------------------

def _two_cars_one_needed():
    """Three short rides, each car with a day rate: one car can drive them all in a row."""
    plan = PricePlan(fixed_cost=50_000)
    rides = [request(f"r{n}", 1, 2, pickup_window=TimeWindow(1000 * n, 1000 * n + 600))
             for n in range(3)]
    cars = [vehicle(f"c{k}", cost_per_km=100, price_plan=plan) for k in range(3)]
    return line_problem(rides, cars)


def test_fleet_reduction_empties_cars_one_car_can_replace():
    problem = _two_cars_one_needed()
    spread = {f"c{k}": (StopRef(f"r{k}", "pickup"), StopRef(f"r{k}", "dropoff"))
              for k in range(3)}  # each ride on its own car: three day rates
    state = PlanState(problem, spread)
    trips = trip_chains(problem)
    reasons = reduce_fleet(state, trips, list(trips), {}, deadline=float("inf"), seed=0,
                           config=AlnsConfig(max_iterations=30))
    used = [v for v, refs in state.routes.items() if refs]
    assert len(used) == 1
    assert reasons == {}
    assert state.closed == set()  # open again for the search that follows


def test_solve_with_day_rates_uses_as_few_cars_as_it_can():
    problem = _two_cars_one_needed()
    solution = solve(problem, SolveParams(time_limit_s=5.0, seed=0, max_iterations=50))
    assert check(problem, solution) == []
    assert sum(1 for route in solution.routes if route.stops) == 1
    assert not solution.unassigned


def test_fleet_reduction_gives_up_and_restores_when_no_car_can_go():
    # two rides at the same moment at places far apart: both cars are needed
    plan = PricePlan(fixed_cost=50_000)
    rides = [request("east", 4, 3, pickup_window=TimeWindow(2400, 2460)),
             request("west", 1, 0, pickup_window=TimeWindow(600, 660),
                     dropoff_window=TimeWindow(1200, 1260))]
    cars = [vehicle("a", cost_per_km=100, price_plan=plan),
            vehicle("b", cost_per_km=100, price_plan=plan, start_node=4, end_node=4,
                    shift=TimeWindow(0, 36_000))]
    problem = line_problem(rides, cars)
    routes = {"a": (StopRef("west", "pickup"), StopRef("west", "dropoff")),
              "b": (StopRef("east", "pickup"), StopRef("east", "dropoff"))}
    state = PlanState(problem, routes)
    trips = trip_chains(problem)
    reduce_fleet(state, trips, list(trips), {}, deadline=float("inf"), seed=0,
                 config=AlnsConfig(max_iterations=20))
    assert state.routes == routes
