"""VROOM and PyVRP on a Li & Lim instance, for bench/optimizer_lilim.py. Benchmark-only code.

Both get exactly the problem our solver gets: the instance's integer matrices (optimizer.
benchmarks.plane: 1000 × the Euclidean distance, times rounded up), the same windows, service
times, capacity and vehicle count, and a fixed cost per vehicle above any total distance (the
benchmark's objective: vehicles first, then distance). Each returns its routes as task (node)
sequences, depot left out, so the bench builds them into our Solution and runs our checker on
them like on our own.

`pyvroom` and `pyvrp` are the `bench` extra of pyproject.toml (`pip install -e '.[bench]'`); a
missing one makes its column "n/a", nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from optimizer.benchmarks.plane import PlaneInstance

# Vehicles first: one more car costs more than any route set's distance (< 10^4 units, 10^7
# scaled). Kept below lilim.VEHICLE_COST: VROOM scales fixed costs up internally.
RIVAL_VEHICLE_COST = 10**7


def vroom_routes(instance: PlaneInstance, time_limit_s: float) -> list[list[int]]:
    """VROOM at exploration level 5 on one thread, stopped at `time_limit_s` if it runs that
    long (it usually ends by itself well before)."""
    import vroom

    problem = instance.problem
    solver = vroom.Input()
    solver.set_durations_matrix("car", [list(row) for row in problem.duration_s])
    solver.set_costs_matrix("car", [list(row) for row in problem.dist_m])
    for number, vehicle in enumerate(problem.vehicles):
        solver.add_vehicle(vroom.Vehicle(
            id=number, start=vehicle.start_node, end=vehicle.end_node,
            capacity=[vehicle.capacity], costs=vroom.VehicleCosts(fixed=RIVAL_VEHICLE_COST),
            time_window=vroom.TimeWindow(vehicle.shift.start_s, vehicle.shift.end_s)))
    for number, request in enumerate(problem.requests):
        solver.add_shipment(
            pickup=vroom.ShipmentStep(
                id=2 * number, location=request.pickup_node,
                default_service=request.pickup_service_s,
                time_windows=[vroom.TimeWindow(request.pickup_window.start_s,
                                               request.pickup_window.end_s)]),
            delivery=vroom.ShipmentStep(
                id=2 * number + 1, location=request.dropoff_node,
                default_service=request.dropoff_service_s,
                time_windows=[vroom.TimeWindow(request.dropoff_window.start_s,
                                               request.dropoff_window.end_s)]),
            amount=vroom.Amount([request.passengers]))
    answer = solver.solve(exploration_level=5, nb_threads=1,
                          timeout=timedelta(seconds=time_limit_s))
    routes = {route["vehicle"]: [step["location_index"] for step in route["steps"]
                                 if step["type"] in ("pickup", "delivery")]
              for route in answer.to_dict()["routes"]}
    return [routes[v] for v in sorted(routes)]


def pyvrp_routes(instance: PlaneInstance, time_limit_s: float, seed: int) -> list[list[int]]:
    """PyVRP's hybrid genetic search (default parameters) for `time_limit_s` seconds, one
    thread, on the same integer matrices. Its best feasible solution, or [] if none."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    problem = instance.problem
    model = Model()
    locations = [model.add_location(x, y) for x, y in instance.coords]
    depot_node = problem.vehicles[0].start_node
    shift = problem.vehicles[0].shift
    depot = model.add_depot(locations[depot_node], tw_early=shift.start_s, tw_late=shift.end_s)
    model.add_vehicle_type(num_available=len(problem.vehicles),
                           capacity=problem.vehicles[0].capacity, start_depot=depot,
                           end_depot=depot, fixed_cost=RIVAL_VEHICLE_COST,
                           tw_early=shift.start_s, tw_late=shift.end_s)
    for a, frm in enumerate(locations):
        for b, to in enumerate(locations):
            model.add_edge(frm, to, distance=problem.dist_m[a][b],
                           duration=problem.duration_s[a][b])
    for request in problem.requests:
        model.add_shipment(
            locations[request.pickup_node], locations[request.dropoff_node],
            pickup_tw_early=request.pickup_window.start_s,
            pickup_tw_late=request.pickup_window.end_s,
            pickup_service_duration=request.pickup_service_s,
            delivery_tw_early=request.dropoff_window.start_s,
            delivery_tw_late=request.dropoff_window.end_s,
            delivery_service_duration=request.dropoff_service_s,
            amount=request.passengers)
    result = model.solve(stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    if not result.best.is_feasible():
        return []
    requests = problem.requests  # shipment i is requests[i]
    return [[requests[step.idx].pickup_node if step.is_pickup() else requests[step.idx].dropoff_node
             for step in route.schedule() if step.is_shipment()]
            for route in result.best.routes()]
