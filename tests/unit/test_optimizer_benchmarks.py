"""The benchmark readers, cross-checked with the checker: the Li & Lim best known routes evaluate
to their published distance and keep every rule."""

from __future__ import annotations

import itertools
import math

import pytest

from optimizer import check, evaluate_routes
from optimizer.benchmarks import benchmarks_dir, cordeau, lilim
from optimizer.benchmarks.plane import SCALE
from optimizer.reasons import fits_alone
from optimizer.schedule import times_feasible

ROOT = benchmarks_dir()
DARP = ROOT / "cordeau2006_darp"
LILIM = ROOT / "lilim_pdptw100"
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason=f"no benchmarks at {ROOT}")


def test_cordeau_a2_16():
    instance = cordeau.read_instance(DARP / "instances" / "a2-16")
    problem = instance.problem
    assert (len(problem.vehicles), len(problem.requests), len(problem.nodes)) == (2, 16, 34)
    first = problem.requests[0]
    assert (first.pickup_node, first.dropoff_node, first.passengers) == (1, 17, 1)
    assert first.max_ride_s == 30 * SCALE and first.pickup_service_s == 3 * SCALE
    assert {v.capacity for v in problem.vehicles} == {3}
    assert all(v.shift.start_s == 0 and v.shift.end_s == 480 * SCALE for v in problem.vehicles)
    assert all(v.start_node == 0 and v.end_node == 33 for v in problem.vehicles)
    # node 1 is at (-1.198, -5.164): travel times round up, distances to the nearest unit
    exact = math.hypot(1.198, 5.164) * SCALE
    assert problem.duration_s[0][1] == math.ceil(exact) and problem.dist_m[0][1] == round(exact)
    assert instance.exact_dist(0, 1) == pytest.approx(exact / SCALE, abs=1e-12)
    windows = [(r.pickup_window, r.dropoff_window) for r in problem.requests]
    assert sum(1 for p, d in windows if p.end_s - p.start_s < 1440 * SCALE) == 8  # inbound
    assert sum(1 for p, d in windows if d.end_s - d.start_s < 1440 * SCALE) == 8  # outbound
    # every request can be served by a vehicle on its own: windows, ride limit and T agree
    assert all(fits_alone(problem, problem.vehicles[0], r) for r in problem.requests)


def test_cordeau_bks():
    bks = cordeau.read_bks(DARP / "bks.csv")
    assert len(bks) == 24 and bks["a2-16"] == 294.25 and bks["a8-96"] == 1229.66


def test_lilim_lc101():
    instance = lilim.read_instance(LILIM / "instances" / "lc101.txt")
    problem = instance.problem
    assert len(problem.nodes) == 107 and len(problem.requests) == 53
    assert len(problem.vehicles) == 25 and {v.capacity for v in problem.vehicles} == {200}
    assert problem.vehicles[0].shift.end_s == 1236 * SCALE
    pickup_3 = problem.request_by_id["3"]  # task 3: demand 10, window [65, 146], delivery 75
    assert (pickup_3.dropoff_node, pickup_3.passengers) == (75, 10)
    assert pickup_3.pickup_window.start_s == 65 * SCALE and pickup_3.pickup_service_s == 90 * SCALE


def test_lilim_bks_route_of_lc101_has_its_distance_and_passes_the_checker():
    instance = lilim.read_instance(LILIM / "instances" / "lc101.txt")
    best = lilim.read_bks(LILIM / "bks_sintef_snapshot_2024-02-02.csv")["lc101"]
    assert (best.vehicles, best.distance) == (10, 828.9369)
    routes = lilim.read_bks_routes(lilim.bks_routes_file(LILIM / "bks_solutions", "lc101"))
    solution = evaluate_routes(instance.problem, instance.routes_from_nodes(routes))
    assert check(instance.problem, solution) == []
    assert solution.vehicles_used == 10 and solution.unassigned == ()
    assert instance.true_distance(solution) == pytest.approx(828.9369, abs=5e-5)
    assert solution.cost.fixed == 10 * lilim.VEHICLE_COST
    arcs = sum(len(route) + 1 for route in routes)  # each rounded by at most half a unit
    assert solution.cost.distance == pytest.approx(828.9369 * SCALE, abs=arcs / 2)


def lilim_names() -> list[str]:
    return sorted(p.stem for p in (LILIM / "instances").glob("*.txt")) if LILIM.is_dir() else []


@pytest.mark.parametrize("name", lilim_names())
def test_every_lilim_bks_solution_keeps_every_rule_at_its_published_cost(name):
    instance = lilim.read_instance(LILIM / "instances" / f"{name}.txt")
    best = lilim.read_bks(LILIM / "bks_sintef_snapshot_2024-02-02.csv")[name]
    routes = lilim.read_bks_routes(lilim.bks_routes_file(LILIM / "bks_solutions", name))
    solution = evaluate_routes(instance.problem, instance.routes_from_nodes(routes))
    assert check(instance.problem, solution) == []
    assert solution.vehicles_used == best.vehicles
    assert instance.true_distance(solution) == pytest.approx(best.distance, abs=5e-5)


def test_a_broken_bks_route_is_caught():
    """The cross-check can fail: swap two stops of lc101's first route and the checker objects."""
    instance = lilim.read_instance(LILIM / "instances" / "lc101.txt")
    routes = lilim.read_bks_routes(lilim.bks_routes_file(LILIM / "bks_solutions", "lc101"))
    routes[0][0], routes[0][-1] = routes[0][-1], routes[0][0]
    solution = evaluate_routes(instance.problem, instance.routes_from_nodes(routes))
    assert {v.code for v in check(instance.problem, solution)} & {"time_window", "precedence"}


def cheapest_insertion(problem) -> dict[str, list[tuple[str, str]]]:
    """A plain greedy, only to have a real DARP solution to check: requests by when
    their tight window closes, each at its cheapest time-feasible position with seats to spare."""
    routes: dict[str, list[tuple[str, str]]] = {v.id: [] for v in problem.vehicles}

    def length(vehicle, order):
        nodes = [vehicle.start_node, *(problem.stop_node(ref) for ref in order), vehicle.end_node]
        return sum(problem.dist_m[a][b] for a, b in zip(nodes, nodes[1:], strict=False))

    def seats_ok(order, capacity):
        loads = itertools.accumulate(1 if kind == "pickup" else -1 for _, kind in order)
        return max(loads, default=0) <= capacity

    def closing(request):
        return min(request.pickup_window.end_s, request.dropoff_window.end_s)

    for request in sorted(problem.requests, key=closing):
        best = None
        for vehicle in problem.vehicles:
            order = routes[vehicle.id]
            for i, j in itertools.combinations_with_replacement(range(len(order) + 1), 2):
                new = [*order[:i], (request.id, "pickup"), *order[i:j], (request.id, "dropoff"),
                       *order[j:]]
                cost = length(vehicle, new)
                if (best is None or cost - length(vehicle, order) < best[0]) and seats_ok(
                        new, vehicle.capacity) and times_feasible(problem, vehicle, new):
                    best = (cost - length(vehicle, order), vehicle.id, new)
        assert best is not None, f"request {request.id} fits nowhere"
        routes[best[1]] = best[2]
    return routes


def test_a_darp_solution_on_a2_16_keeps_every_rule_in_real_numbers_and_is_no_better_than_optimal():
    instance = cordeau.read_instance(DARP / "instances" / "a2-16")
    problem = instance.problem
    solution = evaluate_routes(problem, cheapest_insertion(problem))
    assert check(problem, solution) == [] and solution.unassigned == ()
    optimum = cordeau.read_bks(DARP / "bks.csv")["a2-16"]
    assert optimum <= instance.true_distance(solution) < optimum * 1.25
    # the integer schedule (times rounded up) is feasible with the exact Euclidean times too
    for route in solution.routes:
        vehicle = problem.vehicle_by_id[route.vehicle_id]
        here, leave = vehicle.start_node, route.start_s / SCALE
        for stop in route.stops:
            assert leave + instance.exact_dist(here, stop.node) <= stop.start_s / SCALE + 1e-9
            here, leave = stop.node, stop.departure_s / SCALE
        assert leave + instance.exact_dist(here, vehicle.end_node) <= route.end_s / SCALE + 1e-9
    assert max(r.end_s for r in solution.routes) <= 480 * SCALE
