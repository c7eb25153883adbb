"""Insertion of a new trip into a current plan (optimizer/insertion.py): it never moves what
is there (committed stops, passengers on board, other requests), says why a trip has no place,
places an emergency whenever some car can take it, and finds the same best cost as trying
every position on every vehicle (brute force, judged by the independent checker)."""

from __future__ import annotations

import itertools
import random

from optimizer import (
    OnBoard,
    PricePlan,
    StopRef,
    TimeWindow,
    VehicleState,
    check,
    evaluate_routes,
)
from optimizer.insertion import PlanState, insert_request, trip_of
from tests.optimizer_world import line_problem, request, vehicle


def _routes_cost(problem, plan) -> int:
    solution = evaluate_routes(problem, plan)
    return sum(route.cost.total for route in solution.routes)


def _valid(problem, plan, served: set[str]) -> bool:
    """The checker finds nothing wrong with the routes (requests left out are fine)."""
    solution = evaluate_routes(problem, plan)
    return all(v.code == "accounting" and v.request_id not in served for v in check(problem, solution))


def _brute_force(problem, plan, request_id: str) -> int | None:
    """The cheapest cost increase over every vehicle and every way of placing the trip."""
    legs = trip_of(problem, request_id)
    new_stops = [StopRef(leg.id, kind) for leg in legs for kind in ("pickup", "dropoff")]
    served = {ref.request_id for refs in plan.values() for ref in refs} | {leg.id for leg in legs}
    base = _routes_cost(problem, plan)
    best = None
    for v in problem.vehicles:
        old = list(plan.get(v.id, ()))
        size = len(old) + len(new_stops)
        for slots in itertools.combinations(range(size), len(new_stops)):
            refs, rest, new = [], iter(old), iter(new_stops)
            for index in range(size):
                refs.append(next(new) if index in slots else next(rest))
            trial = dict(plan) | {v.id: tuple(refs)}
            if not _valid(problem, trial, served):
                continue
            cost = _routes_cost(problem, trial) - base
            best = cost if best is None else min(best, cost)
    return best


def _random_problem(rng: random.Random):
    requests = []
    for n in range(rng.randint(2, 5)):
        a, b = rng.sample(range(5), 2)
        start = rng.choice([0, 600, 1200, 1800])
        fields = {"passengers": rng.randint(1, 3), "max_ride_s": rng.choice([None, 1800, 3000]),
                  "pickup_window": TimeWindow(start, start + rng.choice([300, 1200, 3600])),
                  "confidential": rng.random() < 0.15, "shareable": rng.random() < 0.8,
                  "pickup_service_s": 60, "dropoff_service_s": 30}
        if rng.random() < 0.3:
            fields["dropoff_window"] = TimeWindow(0, start + rng.choice([2400, 4800]))
        requests.append(request(f"r{n}", a, b, **fields))
        if rng.random() < 0.25:  # a round trip: back again, the driver waiting
            requests.append(request(f"r{n}b", b, a, follows=f"r{n}", driver_waits=rng.random() < 0.5,
                                    passengers=fields["passengers"], pickup_service_s=60))
    leased = PricePlan(fixed_cost=5000, included_dist_m=20_000, included_duration_s=1800,
                       overtime_cost_per_h=3000, over_km_cost_per_km=200)
    vehicles = [
        vehicle("a", capacity=4, cost_per_km=100, shift=TimeWindow(0, 7200)),
        vehicle("b", capacity=3, cost_per_km=150, start_node=4, end_node=4,
                shift=TimeWindow(300, 9000)),
        vehicle("c", capacity=6, cost_per_km=50, price_plan=leased, shift=TimeWindow(0, 9000)),
    ]
    return line_problem(requests, vehicles)


def test_matches_brute_force_on_tiny_random_plans():
    rng = random.Random(20261123)
    compared = placed = 0
    for _ in range(60):
        problem = _random_problem(rng)
        state = PlanState(problem)
        trips = [legs[0].id for legs in
                 {trip_of(problem, r.id)[0].id: trip_of(problem, r.id) for r in problem.requests}.values()]
        for trip in trips:  # each trip in turn, into the plan the earlier ones made
            plan = dict(state.routes)
            expected = _brute_force(problem, plan, trip)
            result = state.insert(trip, k=3)
            compared += 1
            if expected is None:
                assert result.best is None and result.reason is not None
                continue
            assert result.best is not None, (problem, plan, trip)
            assert result.best.added_cost == expected
            whole = evaluate_routes(problem, {**plan, result.best.vehicle_id: result.best.refs})
            assert result.best.route in whole.routes  # the route reported is the plan's
            costs = [p.added_cost for p in result.proposals]
            assert costs == sorted(costs) and len({p.vehicle_id for p in result.proposals}) == len(costs)
            state.apply(result.best)
            placed += 1
    assert compared > 150 and placed > 100  # the cases are neither trivial nor all refused


def test_committed_stops_and_passengers_on_board_never_move():
    on_board = request("aboard", 1, 4, passengers=2)
    committed = request("next", 2, 3)
    new = request("new", 1, 3, pickup_window=TimeWindow(0, 9000))
    state = VehicleState(node=1, time_s=600, on_board=(OnBoard("aboard", 500),),
                         committed=(StopRef("next", "pickup"),))
    problem = line_problem([on_board, committed, new],
                           [vehicle("busy", state=state, cost_per_km=10), vehicle("idle", cost_per_km=1000)])
    plan = {"busy": (StopRef("next", "pickup"), StopRef("next", "dropoff"), StopRef("aboard", "dropoff"))}
    result = insert_request(problem, plan, "new", k=2)
    assert {p.vehicle_id for p in result.proposals} == {"busy", "idle"}
    for proposal in result.proposals:
        if proposal.vehicle_id == "busy":
            assert proposal.refs[0] == StopRef("next", "pickup")  # the committed head stays
            kept = [ref for ref in proposal.refs if ref.request_id != "new"]
            assert kept == list(plan["busy"])  # the others keep their order
            assert min(proposal.positions) >= 1
        whole = evaluate_routes(problem, {**plan, proposal.vehicle_id: proposal.refs})
        assert check(problem, whole) == []


def test_a_request_no_car_can_take_gets_its_reason():
    too_big = request("bus", 1, 2, passengers=9)
    too_early = request("dawn", 4, 1, pickup_window=TimeWindow(0, 60))  # 40 min away
    level = request("minibus", 1, 2, car_levels=("minibus",))
    problem = line_problem([too_big, too_early, level])
    assert insert_request(problem, {}, "bus").reason[0] == "no_vehicle"
    assert insert_request(problem, {}, "minibus").reason[0] == "no_vehicle"
    reason = insert_request(problem, {}, "dawn").reason
    assert reason[0] == "infeasible_time" and "time window" in reason[1]


def test_a_full_car_leaves_no_room_and_says_so():
    first = request("first", 1, 3, passengers=4, pickup_window=TimeWindow(600, 700))
    second = request("second", 1, 3, passengers=1, pickup_window=TimeWindow(600, 700),
                     dropoff_window=TimeWindow(0, 2000))
    problem = line_problem([first, second])
    plan = {"v": (StopRef("first", "pickup"), StopRef("first", "dropoff"))}
    result = insert_request(problem, plan, "second")
    assert result.best is None and result.reason[0] == "no_capacity"


def test_an_emergency_is_inserted_when_a_car_can_take_it():
    routine = request("routine", 1, 2, pickup_window=TimeWindow(600, 900))
    emergency = request("fire", 3, 4, priority="emergency", pickup_window=TimeWindow(1800, 2100),
                        confidential=True)
    problem = line_problem([routine, emergency])
    state = PlanState(problem)
    state.apply(state.insert("routine").best)
    result = state.insert("fire")
    assert result.best is not None and result.best.vehicle_id == "v"
    state.apply(result.best)
    assert check(problem, evaluate_routes(problem, state.routes)) == []


def test_an_emergency_with_no_room_takes_a_car_from_an_ordinary_trip():
    routine = request("routine", 1, 4, pickup_window=TimeWindow(600, 700))
    emergency = request("fire", 2, 3, priority="emergency", pickup_window=TimeWindow(1300, 1400),
                        confidential=True)  # 机要: it may not ride along with the routine trip
    problem = line_problem([routine, emergency])  # one car: it cannot do both
    state = PlanState(problem)
    state.apply(state.insert("routine").best)
    assert state.best_insertions(trip_of(problem, "fire")) == []  # no room as the plan stands
    result = state.insert("fire")
    assert result.best is not None and result.best.displaced == ("routine",)
    assert result.best.added_cost >= problem.unserved_penalty.ordinary  # leaving it out costs
    state.apply(result.best)
    solution = evaluate_routes(problem, state.routes)
    assert check(problem, solution) == []
    assert [u.request_id for u in solution.unassigned] == ["routine"]


def test_room_for_an_emergency_moves_the_ordinary_trip_to_another_car():
    routine = request("routine", 1, 4, pickup_window=TimeWindow(600, 1200))
    emergency = request("fire", 2, 3, priority="emergency", pickup_window=TimeWindow(1300, 1400),
                        passengers=3, confidential=True)
    problem = line_problem([routine, emergency],
                           [vehicle("near", cost_per_km=10), vehicle("small", capacity=1, cost_per_km=50)])
    state = PlanState(problem, {"near": (StopRef("routine", "pickup"), StopRef("routine", "dropoff"))})
    result = state.insert("fire")
    assert result.best.vehicle_id == "near" and result.best.displaced == ()
    assert dict(result.best.changes)["small"] == (StopRef("routine", "pickup"), StopRef("routine", "dropoff"))
    state.apply(result.best)
    assert check(problem, evaluate_routes(problem, state.routes)) == []
