"""The Wuhan-circle day generator and the greedy baseline (issue #6): a deterministic, valid,
feature-complete day, and a by-hand plan the checker accepts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer import Node, Problem, Request, TimeWindow, Vehicle, check
from optimizer.day_fleet import cost_per_km_fen
from optimizer.day_generator import generate_day
from optimizer.greedy import greedy_dispatch, serves_alone, trips_of
from optimizer.json_form import problem_from_json, problem_to_json
from optimizer.matrix import GreatCircleProvider
from optimizer.problem import PricePlan


@pytest.fixture(scope="module")
def day() -> Problem:
    return generate_day(1)


@pytest.fixture(scope="module")
def day_plan(day):
    return greedy_dispatch(day)


def _city(problem: Problem, node: int) -> str:
    return problem.nodes[node].city_code


def test_the_same_seed_gives_the_same_day():
    first = generate_day(7, vehicles=40, requests=60)
    assert generate_day(7, vehicles=40, requests=60) == first
    other = generate_day(8, vehicles=40, requests=60)
    assert other.requests != first.requests and other.vehicles != first.vehicles
    assert problem_from_json(problem_to_json(first)) == first


def test_sizes_are_as_asked(day):
    assert (len(day.vehicles), len(day.requests)) == (120, 250)
    big = generate_day(2, vehicles=250, requests=40)  # more cars than the scenario has
    assert len(big.vehicles) == 250 and len({v.id for v in big.vehicles}) == 250
    assert len(big.requests) == 40
    assert len(generate_day(3, vehicles=5, requests=1).requests) == 1


def test_more_requests_keep_the_same_fleet():
    assert generate_day(4, requests=30).vehicles == generate_day(4, requests=80).vehicles


def test_every_trip_can_be_driven_by_some_car_alone(day):
    for trip in trips_of(day):
        assert any(serves_alone(day, v, trip) for v in day.vehicles), trip[0].id


def test_the_day_has_every_kind_of_trip(day):
    trips = trips_of(day)
    crossing = [t for t in trips if len(t) >= 2
                and _city(day, t[0].pickup_node) != _city(day, t[0].dropoff_node)
                and t[-1].dropoff_node == t[0].pickup_node]
    assert any(t[1].driver_waits for t in crossing)  # cross-city round trip, the driver waits
    assert any(not t[1].driver_waits for t in crossing)  # the car is free meanwhile
    assert any(len(t) == 3 and all(leg.driver_waits for leg in t[1:]) for t in trips)  # tour
    by_priority = {r.priority for r in day.requests}
    assert by_priority == {"emergency", "law_enforcement", "ordinary"}
    assert all(not r.shareable for r in day.requests if r.priority != "ordinary")
    secret = [r for r in day.requests if r.confidential]
    assert secret and all(not r.shareable for r in secret)
    assert {"sedan", "business", "minibus"} <= {level for r in day.requests for level in r.car_levels}
    assert all(r.max_ride_s and r.max_ride_s >= day.duration_s[r.pickup_node][r.dropoff_node]
               for r in day.requests)


def test_carpool_candidates_share_a_destination_and_a_time(day):
    """Two units' parties to the same place, shareable, their arrival windows within 30 min."""
    shareable = [r for r in day.requests if r.shareable and r.dropoff_window and r.follows is None]
    pairs = [(a, b) for a in shareable for b in shareable
             if a.id < b.id and a.dropoff_node == b.dropoff_node and a.unit_id != b.unit_id
             and abs(a.dropoff_window.start_s - b.dropoff_window.start_s) <= 1800]
    assert len(pairs) >= 3


def test_morning_peak_and_afternoon_wave(day):
    starts = [r.pickup_window.start_s if r.pickup_window else r.dropoff_window.start_s
              for r in (t[0] for t in trips_of(day))]
    hours = [s // 3600 for s in starts]
    morning = sum(8 <= h < 10 for h in hours)
    assert morning > len(hours) / 3
    assert sum(14 <= h < 16 for h in hours) > sum(12 <= h < 14 for h in hours)
    assert min(starts) >= 7 * 3600 + 30 * 60 - 45 * 60  # a send-off may be due at 06:45
    assert max(starts) < 18 * 3600


def test_the_fleet_has_every_source_and_realistic_costs(day):
    by_source = {v.source for v in day.vehicles}
    assert by_source == {"platform", "entrusted", "unit_retained", "leased"}
    for vehicle in day.vehicles:
        if vehicle.source == "leased":
            plan = vehicle.price_plan
            assert plan and vehicle.cost_per_km == 0
            assert 20_000 <= plan.fixed_cost <= 300_000  # ¥200–3,000 per use, fuel included
            assert plan.included_dist_m >= 40_000 and plan.included_duration_s >= 2 * 3600
            assert plan.overtime_cost_per_h > 0 and plan.over_km_cost_per_km > 0
        else:
            assert vehicle.price_plan is None and 30 <= vehicle.cost_per_km <= 300
        if vehicle.source == "unit_retained":
            assert vehicle.unit_id
        assert vehicle.capacity >= 4 and vehicle.max_driving_s == 8 * 3600
    assert any(v.range_m for v in day.vehicles) and any(v.range_m is None for v in day.vehicles)
    assert cost_per_km_fen("sedan", "fuel") == 97  # 8.5 L × 7.90 + 0.30 wear
    assert cost_per_km_fen("sedan", "bev") == 47  # 15 kWh × 1.10 + 0.30 wear


def test_greedy_is_checker_clean_on_a_few_days(day, day_plan):
    assert check(day, day_plan.solution) == []
    assert not day_plan.solution.unassigned
    for seed in (2, 3, 4):
        problem = generate_day(seed, vehicles=50, requests=120)
        assert check(problem, greedy_dispatch(problem).solution) == []


def test_greedy_never_puts_two_parties_in_one_car(day, day_plan):
    for route in day_plan.solution.routes:
        on_board: set[str] = set()
        for stop in route.stops:
            if stop.kind == "pickup":
                assert not on_board, (route.vehicle_id, stop.request_id, on_board)
                on_board.add(stop.request_id)
            else:
                on_board.discard(stop.request_id)


def test_greedy_uses_unit_cars_for_their_unit_only(day, day_plan):
    served = 0
    for route in day_plan.solution.routes:
        vehicle = day.vehicle_by_id[route.vehicle_id]
        if vehicle.source == "unit_retained":
            units = {day.request_by_id[s.request_id].unit_id for s in route.stops}
            assert units == {vehicle.unit_id}
            served += 1
    assert served > 0


def test_greedy_counts_the_returns_to_the_pool(day, day_plan):
    """Between a same-city trip's legs the car goes home (the model's route drives straight
    on, so the km as driven are more)."""
    assert day_plan.as_driven_dist_m > day_plan.solution.dist_m
    assert day_plan.as_driven_cost > day_plan.solution.cost.total
    assert sum(len(t) for t in day_plan.trips.values()) == len(trips_of(day))


def test_greedy_lets_a_car_serve_others_while_its_party_is_busy():
    """A same-city round trip with a long meeting: the car goes home and takes another trip
    before fetching the party back."""
    shift = TimeWindow(7 * 3600, 19 * 3600)
    car = Vehicle("car", 0, 0, 4, shift, cost_per_km=97)
    out = Request("out", 1, 2, pickup_window=TimeWindow(8 * 3600, 8 * 3600 + 900))
    back = Request("back", 2, 1, follows="out", pickup_window=TimeWindow(12 * 3600, 12 * 3600 + 900))
    between = Request("between", 1, 2, pickup_window=TimeWindow(10 * 3600, 10 * 3600 + 900))
    problem = _tiny([car], [out, back, between])
    result = greedy_dispatch(problem)
    assert check(problem, result.solution) == []
    assert result.trips == {"car": (("out", "back"), ("between",))}
    stops = [(s.request_id, s.kind) for s in result.solution.routes[0].stops]
    assert stops == [("out", "pickup"), ("out", "dropoff"), ("between", "pickup"),
                     ("between", "dropoff"), ("back", "pickup"), ("back", "dropoff")]


def test_greedy_leaves_the_impossible_out_with_a_reason(day):
    pool = day.vehicles[0].start_node
    too_big = Request("bus-of-60", pool, 10, passengers=60)
    at_night = Request("night", pool, 10, pickup_window=TimeWindow(3 * 3600, 3 * 3600 + 600))
    back = Request("night-back", 10, pool, follows="night")
    problem = replace(day, requests=(*day.requests, too_big, at_night, back))
    solution = greedy_dispatch(problem).solution
    assert check(problem, solution) == []
    reasons = {u.request_id: u.reason for u in solution.unassigned}
    assert reasons == {"bus-of-60": "no_vehicle", "night": "infeasible_time",
                       "night-back": "linked_unserved"}
    assert all(u.message for u in solution.unassigned)


def _tiny(vehicles: list[Vehicle], requests: list[Request]) -> Problem:
    nodes = [Node((114.2968, 30.6012), "420100", "武汉车队"), Node((114.299, 30.59), "420100", "市政府"),
             Node((114.424, 30.607), "420100", "武汉站"), Node((114.8865, 30.3862), "420700", "鄂州车队")]
    matrix = GreatCircleProvider().matrix(nodes)
    return Problem(tuple(nodes), matrix.duration_s, matrix.dist_m, tuple(requests),
                   tuple(vehicles))


def test_greedy_takes_the_nearest_own_car_and_leases_only_when_none_is_free():
    shift = TimeWindow(7 * 3600, 19 * 3600)
    leased = Vehicle("leased", 0, 0, 4, shift, source="leased",
                     price_plan=PricePlan(30_000, 80_000, 4 * 3600, 6_000, 250))
    far = Vehicle("far", 3, 3, 4, shift, cost_per_km=47)
    near = Vehicle("near", 0, 0, 4, shift, cost_per_km=97)
    window = TimeWindow(9 * 3600, 9 * 3600 + 900)
    first = Request("a", 1, 2, pickup_window=window)
    second = Request("b", 1, 2, pickup_window=window)
    third = Request("c", 1, 2, pickup_window=TimeWindow(9 * 3600 + 300, 9 * 3600 + 1200))
    problem = _tiny([leased, far, near], [first, second, third])
    result = greedy_dispatch(problem)
    assert check(problem, result.solution) == []
    assert result.trips == {"near": (("a",),), "far": (("b",),), "leased": (("c",),)}
