"""From the queue to optimizer problems and back (optimizer/planning.py, holds.py, replan.py):
legs and windows of a round trip, the source rules (city, unit, leased, documents), the
database's booking rule (an order holds its car until 30 min after its end), the orders a route
makes (a shared ride is one order), warm starts that drop what changed, and re-plans that
never move committed stops or passengers on board."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from optimizer import OnBoard, StopRef, TimeWindow, VehicleState, check
from optimizer.holds import Holds, order_groups
from optimizer.insertion import PlanState
from optimizer.insertion_plan import build_plan, improve_plan
from optimizer.planning import (
    LOCAL,
    Booking,
    FleetCar,
    Place,
    QueuedTrip,
    build_day_problem,
    group_by_day_and_city,
)
from optimizer.replan import carry_over, replan
from tests.optimizer_world import line_problem, request, vehicle

DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=LOCAL)
DEPOT = Place("市机关车队", 30.5928, 114.3055, "420100")
HALL = Place("市政府", 30.5928, 114.3055, "420100")
NEAR_HALL = Place("江汉路", 30.5870, 114.2960, "420100")
VENUE = Place("洪山礼堂", 30.5440, 114.3300, "420100")
EZHOU = Place("鄂州市政府", 30.3908, 114.8950, "420700")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=LOCAL)


def trip(trip_id: int, start: datetime, hours: float = 1, **fields) -> QueuedTrip:
    base = {"org_id": 7, "trip_type": "official", "passengers": 1, "planned_start": start,
            "planned_end": start + timedelta(hours=hours), "origin": HALL,
            "destinations": (VENUE,), "round_trip": False}
    return QueuedTrip(id=trip_id, **{**base, **fields})


def car(car_id: int, **fields) -> FleetCar:
    base = {"plate": f"鄂A·{car_id:05d}", "source": "platform", "owner_org_id": 1,
            "home_city": "420100", "seats": 5, "car_level": "sedan", "depot": DEPOT,
            "usable_until": DAY + timedelta(days=100)}
    return FleetCar(id=car_id, **{**base, **fields})


def test_a_round_trip_becomes_linked_legs_with_windows_from_its_plan():
    waits = trip(1, at(9), hours=4, round_trip=True, destinations=(EZHOU,), trip_type="emergency")
    dp = build_day_problem(DAY, "420100", [waits], [car(1)], NOW)
    out, back = dp.problem.requests
    assert (out.id, back.id, back.follows, back.driver_waits) == ("1", "1.2", "1", True)
    assert out.priority == back.priority == "emergency"
    assert out.pickup_window == TimeWindow(9 * 3600 - 600, 9 * 3600)  # never late
    drive_back = dp.problem.duration_s[back.pickup_node][back.dropoff_node]
    # the wait in 鄂州 fills the plan: the return leaves so as to be back by 13:00
    assert abs(back.pickup_window.start_s + 600 + 180 + drive_back - 13 * 3600) < 60
    assert out.max_ride_s > dp.problem.duration_s[out.pickup_node][out.dropoff_node]
    assert dp.holds.window("1.2") == (9 * 3600, 13 * 3600 + 1800)
    shared = trip(2, at(9), round_trip=True, carpool_allowed=True)
    legs = build_day_problem(DAY, "420100", [shared], [car(1)], NOW).problem.requests
    assert legs[1].follows == "2" and not legs[1].driver_waits  # may ride back with others


def test_the_source_rules_pick_the_cars_of_a_plan():
    cars = [car(1), car(2, home_city="420700"), car(3, source="leased"),
            car(4, source="unit_retained", owner_org_id=7, seats=7, car_level="business"),
            car(5, source="unit_retained", owner_org_id=8),
            car(6, usable_until=DAY - timedelta(days=1)), car(7, active=False),
            car(8, energy_type="bev", range_km=400.0)]
    dp = build_day_problem(DAY, "420100", [trip(1, at(9))], cars, NOW)
    vehicles = {v.id: v for v in dp.problem.vehicles}
    assert set(vehicles) == {"1", "4", "8"}
    assert vehicles["4"].unit_id == "7" and vehicles["4"].capacity == 6
    assert vehicles["8"].range_m == 360_000 and vehicles["1"].range_m is None
    assert vehicles["1"].cost_per_km > vehicles["8"].cost_per_km > 0  # fuel costs more than power
    assert dp.car_of_vehicle == {"1": 1, "4": 4, "8": 8}
    groups = group_by_day_and_city([trip(1, at(9)), trip(2, at(9), origin=EZHOU),
                                    trip(3, at(23, 30) + timedelta(hours=1))])
    assert list(groups) == [(DAY, "420100"), (DAY, "420700"), (DAY + timedelta(days=1), "420100")]


def test_an_order_the_car_holds_keeps_other_trips_off_it_until_30_min_after_its_end():
    booked = car(1, bookings=(Booking(90, at(10), at(12)),))
    free = car(2)
    during = trip(1, at(12, 20), hours=0.5)
    after = trip(2, at(12, 40), hours=0.5)
    dp = build_day_problem(DAY, "420100", [during, after], [booked, free], NOW)
    state = PlanState(dp.problem, {}, dp.holds)
    assert {p.vehicle_id for p in state.insert("1", k=2).proposals} == {"2"}
    assert {p.vehicle_id for p in state.insert("2", k=2).proposals} == {"1", "2"}


def test_a_route_makes_one_order_per_group_riding_together_or_booked_over_each_other():
    a = trip(1, at(9), carpool_allowed=True)
    b = trip(2, at(9, 5), carpool_allowed=True, origin=NEAR_HALL)
    c = trip(3, at(14))  # hours later, alone
    dp = build_day_problem(DAY, "420100", [a, b, c], [car(1)], NOW)
    result = build_plan(dp.problem, holds=dp.holds)
    solution = result.solution(dp.problem)
    assert check(dp.problem, solution) == [] and not solution.unassigned
    (route,) = [r for r in solution.routes if r.stops]
    assert dp.orders_of(route.vehicle_id, result.routes[route.vehicle_id]) == [[1, 2], [3]]
    # overlapping holds join requests that never ride together; riding together joins too
    holds = Holds({"x": "X", "y": "Y"}, {"X": (0, 100), "Y": (50, 200)})
    refs = [StopRef("x", "pickup"), StopRef("x", "dropoff"), StopRef("y", "pickup"),
            StopRef("y", "dropoff")]
    problem = line_problem([request("x", 1, 2), request("y", 3, 4)])
    assert order_groups(problem, refs, holds) == [["x", "y"]]
    assert order_groups(problem, refs, None) == [["x"], ["y"]]


def test_a_confidential_trip_never_shares_an_order_with_an_overlapping_one():
    secret = trip(1, at(9), trip_type="confidential", carpool_allowed=True)
    other = trip(2, at(9, 5), carpool_allowed=True, origin=NEAR_HALL)
    dp = build_day_problem(DAY, "420100", [secret, other], [car(1), car(2)], NOW)
    result = build_plan(dp.problem, holds=dp.holds)
    where = {ref.request_id: vid for vid, refs in result.routes.items() for ref in refs}
    assert where["1"] != where["2"]


def test_a_warm_start_drops_what_changed_and_pins_move_a_trip():
    trips = [trip(1, at(9)), trip(2, at(11)), trip(3, at(13))]
    dp = build_day_problem(DAY, "420100", trips, [car(1), car(2)], NOW)
    plan = build_plan(dp.problem, holds=dp.holds).routes
    fewer = build_day_problem(DAY, "420100", trips[1:], [car(1), car(2)], NOW)
    kept = carry_over(fewer.problem, {v: [tuple(r) for r in refs] for v, refs in plan.items()},
                      holds=fewer.holds)
    assert {r.request_id for refs in kept.values() for r in refs} == {"2", "3"}
    where = {r.request_id: v for v, refs in kept.items() for r in refs}
    other = "1" if where["2"] == "2" else "2"
    pinned = carry_over(fewer.problem, kept, holds=fewer.holds, pins={"2": other})
    assert "2" not in {r.request_id for refs in pinned.values() for r in refs}
    moved = build_plan(fewer.problem, holds=fewer.holds, warm_start=pinned, pins={"2": other})
    assert StopRef("2", "pickup") in moved.routes[other]


def _busy_car_world(others: int, committed: tuple[StopRef, ...], *extra_cars):
    """A car under way ("busy": a passenger on board, the next stops committed), `others`
    trips r0, r1, ... to plan and a second car "b"."""
    aboard = request("aboard", 1, 4, passengers=2)
    nxt = request("next", 2, 3)
    trips = [request(f"r{k}", k % 4 + 1, (k + 2) % 4 + 1,
                     pickup_window=TimeWindow(600 * k, 600 * k + 1800)) for k in range(others)]
    state = VehicleState(node=1, time_s=300, on_board=(OnBoard("aboard", 200),),
                         committed=committed)
    return line_problem([aboard, nxt, *trips],
                        [vehicle("busy", state=state, cost_per_km=10),
                         vehicle("b", cost_per_km=20), *extra_cars])


def test_committed_stops_and_passengers_on_board_never_move_on_re_plan():
    problem = _busy_car_world(6, (StopRef("next", "pickup"), StopRef("next", "dropoff")),
                              vehicle("c", cost_per_km=30, capacity=2))
    first = build_plan(problem)
    for result in (first, improve_plan(problem, first, time_limit_s=0.5, seed=3),
                   replan(problem, first, time_limit_s=0.5, seed=4).result):
        busy = result.routes["busy"]
        assert busy[:2] == (StopRef("next", "pickup"), StopRef("next", "dropoff"))
        assert StopRef("aboard", "dropoff") in busy
        assert check(problem, result.solution(problem)) == []


def test_a_car_on_the_road_starts_from_where_it_is_now():
    now = at(8)
    out = car(1, position=Place("", 30.60, 114.25, "420100"),
              bookings=(Booking(5, at(7, 30), at(8, 30), on_the_road=True),))
    dp = build_day_problem(DAY, "420100", [trip(1, at(11))], [out, car(2)], now)
    moving = dp.problem.vehicle_by_id["1"]
    assert moving.state is not None and moving.state.time_s == 8 * 3600
    assert dp.place_of_node[moving.state.node].lat == 30.60
    assert dp.problem.vehicle_by_id["2"].shift.start_s == 8 * 3600  # nothing before now
    assert dp.at(3600) == datetime(2026, 11, 23, 1, 0, tzinfo=LOCAL)
    assert dp.seconds(datetime(2026, 11, 22, 17, 0, tzinfo=UTC)) == 3600


def test_a_re_plan_of_some_trips_plans_only_those_and_keeps_what_is_committed():
    # the online case: trips that have not arrived yet stay out, the solver included
    problem = _busy_car_world(8, (StopRef("next", "pickup"),))
    arrived = ["r0", "r2", "r4", "r6"]
    first = build_plan(problem, only=arrived)
    outcome = replan(problem, first, time_limit_s=1.0, seed=2, only=arrived)
    planned = {r.request_id for refs in outcome.result.routes.values() for r in refs}
    assert planned == {"aboard", "next", *arrived}
    assert outcome.result.routes["busy"][0] == StopRef("next", "pickup")
    assert StopRef("aboard", "dropoff") in outcome.result.routes["busy"]
    assert outcome.solver in ("insertion", "insertion+solve")
    assert check(problem, outcome.result.solution(problem)) == []
