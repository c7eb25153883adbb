"""The OR-Tools routing model of the problem: the one module that imports ortools (issue #6).

What it is for: the baseline the issue measured (a pickup-and-delivery model with guided local
search), kept runnable beside our ALNS (`SolveParams.engine = "ortools"`), and a polish of the
ALNS's plan (`engine = "alns+ortools"`: GLS warm-started from the ALNS routes). The ALNS stays
the default engine: bench/optimizer_darp.py --engines shows why, on the same instances.

The model:
- a routing node per stop (pickup, drop-off) and per vehicle start and end (their depots);
- time: travel plus the service at the stop left, waiting allowed; windows on the start of
  service (a stop without a window: the vehicle's shift); shifts on the start and end cumuls;
- the maximum ride time by both of the mechanisms it needs (measured in issue #6: either
  alone fails): `SetPickupToDeliveryLimitFunctionForPair` on the time dimension, which guides
  the search, and an explicit constraint drop-off − (pickup + its service) ≤ limit, which keeps
  the schedule honest;
- seats (a capacity dimension); 机要 and no-carpool requests fill an "exclusive" dimension
  whole, so nothing else is on board with them;
- the car rules that do not depend on the plan (seats, level, unit-retained) as allowed
  vehicles; linked legs (round and multi-stop trips) on one vehicle, in order, the follower's
  pickup next when the driver waits, served together or not at all;
- driving time (max_driving_s) and BEV range as dimensions;
- costs: per-km cost on the arcs, a price plan's fixed cost per vehicle used, and each request's
  unserved penalty by priority. Included km and overtime of leased cars are not modelled here
  (the ALNS prices them); the Solution's costs are recomputed exactly by evaluate_routes.

Not modelled: re-planning a day under way (vehicle states). `solve_ortools` refuses such a
problem with a ValueError; the ALNS handles it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.evaluate import evaluate_routes
from optimizer.insertion_route import fits_vehicle
from optimizer.problem import Problem, StopRef
from optimizer.solution import Solution

EXCLUSIVE_LOAD = 1000  # the exclusive dimension's capacity: a 机要 rider fills it alone


def _arc_cost(dist_m: int, cost_per_km: int) -> int:
    return (dist_m * cost_per_km + 500) // 1000


class _Model:
    def __init__(self, problem: Problem) -> None:
        if any(v.state is not None for v in problem.vehicles):
            raise ValueError("the OR-Tools engine plans from the depots only; re-planning a day "
                             "under way (vehicle states) needs the ALNS engine")
        self.problem = problem
        self.stops: list[StopRef] = []
        for request in problem.requests:
            self.stops += [StopRef(request.id, "pickup"), StopRef(request.id, "dropoff")]
        self.index_of_stop = {ref: k for k, ref in enumerate(self.stops)}
        n_stops = len(self.stops)
        vehicles = problem.vehicles
        starts = [n_stops + 2 * v for v in range(len(vehicles))]
        ends = [n_stops + 2 * v + 1 for v in range(len(vehicles))]
        self.place = [problem.stop_node(ref) for ref in self.stops]
        self.service = []
        for ref in self.stops:
            request = problem.request_by_id[ref.request_id]
            self.service.append(request.pickup_service_s if ref.kind == "pickup"
                                else request.dropoff_service_s)
        for vehicle in vehicles:
            self.place += [vehicle.start_node, vehicle.end_node]
            self.service += [0, 0]
        self.manager = pywrapcp.RoutingIndexManager(len(self.place), len(vehicles), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self._callbacks: list = []  # keep the Python callables alive
        self._build()

    # -- callbacks ---------------------------------------------------------------------------

    def _transit(self, fn) -> int:
        self._callbacks.append(fn)
        return self.routing.RegisterTransitCallback(fn)

    def _unary(self, values: Sequence[int]) -> int:
        manager = self.manager

        def fn(index: int) -> int:
            return values[manager.IndexToNode(index)]

        self._callbacks.append(fn)
        return self.routing.RegisterUnaryTransitCallback(fn)

    # -- the model ---------------------------------------------------------------------------

    def _build(self) -> None:
        problem, routing, manager = self.problem, self.routing, self.manager
        place, service = self.place, self.service
        duration, dist = problem.duration_s, problem.dist_m
        vehicles = problem.vehicles

        def travel_time(a: int, b: int) -> int:
            i, j = manager.IndexToNode(a), manager.IndexToNode(b)
            return duration[place[i]][place[j]] + service[i]

        time_cb = self._transit(travel_time)
        by_rate: dict[int, int] = {}
        for v, vehicle in enumerate(vehicles):
            rate = vehicle.cost_per_km
            if rate not in by_rate:
                def arc(a: int, b: int, rate: int = rate) -> int:
                    i, j = manager.IndexToNode(a), manager.IndexToNode(b)
                    return _arc_cost(dist[place[i]][place[j]], rate)
                by_rate[rate] = self._transit(arc)
            routing.SetArcCostEvaluatorOfVehicle(by_rate[rate], v)
            if vehicle.price_plan is not None and vehicle.price_plan.fixed_cost:
                routing.SetFixedCostOfVehicle(vehicle.price_plan.fixed_cost, v)

        horizon = max(v.shift.end_s for v in vehicles)
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        self.time = routing.GetDimensionOrDie("time")
        for v, vehicle in enumerate(vehicles):
            self.time.CumulVar(routing.Start(v)).SetRange(vehicle.shift.start_s,
                                                          vehicle.shift.end_s)
            self.time.CumulVar(routing.End(v)).SetRange(vehicle.shift.start_s,
                                                        vehicle.shift.end_s)
            routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(routing.End(v)))
            routing.AddVariableMaximizedByFinalizer(self.time.CumulVar(routing.Start(v)))

        seats = [0] * len(place)
        exclusive = [0] * len(place)
        for k, ref in enumerate(self.stops):
            request = problem.request_by_id[ref.request_id]
            sign = 1 if ref.kind == "pickup" else -1
            seats[k] = sign * request.passengers
            alone = request.confidential or not request.shareable
            exclusive[k] = sign * (EXCLUSIVE_LOAD if alone else 1)
        routing.AddDimensionWithVehicleCapacity(self._unary(seats), 0,
                                                [v.capacity for v in vehicles], True, "seats")
        if any(r.confidential or not r.shareable for r in problem.requests):
            routing.AddDimensionWithVehicleCapacity(
                self._unary(exclusive), 0, [EXCLUSIVE_LOAD] * len(vehicles), True, "exclusive")
        if any(v.max_driving_s is not None for v in vehicles):
            def drive(a: int, b: int) -> int:
                i, j = manager.IndexToNode(a), manager.IndexToNode(b)
                return duration[place[i]][place[j]]
            routing.AddDimensionWithVehicleCapacity(
                self._transit(drive), 0, [v.max_driving_s or horizon for v in vehicles], True,
                "driving")
        if any(v.range_m is not None for v in vehicles):
            def metres(a: int, b: int) -> int:
                i, j = manager.IndexToNode(a), manager.IndexToNode(b)
                return dist[place[i]][place[j]]
            longest = sum(max(row) for row in dist) + 1
            routing.AddDimensionWithVehicleCapacity(
                self._transit(metres), 0, [v.range_m or longest for v in vehicles], True,
                "range")
        self._requests()

    def _requests(self) -> None:
        problem, routing, manager, solver = (self.problem, self.routing, self.manager,
                                             self.routing.solver())
        time_dim = self.time
        index = {ref: manager.NodeToIndex(k) for ref, k in self.index_of_stop.items()}
        for pair, request in enumerate(problem.requests):
            pick, drop = index[(request.id, "pickup")], index[(request.id, "dropoff")]
            routing.AddPickupAndDelivery(pick, drop)
            solver.Add(routing.VehicleVar(pick) == routing.VehicleVar(drop))
            solver.Add(time_dim.CumulVar(pick) <= time_dim.CumulVar(drop))
            # the penalty is paid per stop left out: half on each
            routing.AddDisjunction([pick, drop],
                                   (problem.unserved_penalty.of(request.priority) + 1) // 2, 2)
            for ref, window in ((pick, request.pickup_window), (drop, request.dropoff_window)):
                if window is not None:
                    time_dim.CumulVar(ref).SetRange(window.start_s, window.end_s)
            allowed = [v for v, vehicle in enumerate(problem.vehicles)
                       if fits_vehicle(vehicle, request)]
            if not allowed:  # an empty list would mean "any car": leave it out instead
                solver.Add(routing.ActiveVar(pick) == 0)
            elif len(allowed) < len(problem.vehicles):
                for ref in (pick, drop):
                    routing.SetAllowedVehiclesForIndex(allowed, ref)
            if request.max_ride_s is not None:
                limit = request.max_ride_s + request.pickup_service_s
                time_dim.SetPickupToDeliveryLimitFunctionForPair(
                    lambda _p, _d, limit=limit: limit, pair)
                solver.Add(time_dim.CumulVar(drop) - time_dim.CumulVar(pick) <= limit)
            if request.follows is not None:
                before = problem.request_by_id[request.follows]
                before_drop = index[(before.id, "dropoff")]
                solver.Add(routing.VehicleVar(pick) == routing.VehicleVar(before_drop))
                solver.Add(routing.ActiveVar(pick) == routing.ActiveVar(before_drop))
                solver.Add(time_dim.CumulVar(pick) >= time_dim.CumulVar(before_drop)
                           + before.dropoff_service_s)
                if request.driver_waits:
                    solver.Add(routing.NextVar(before_drop) == pick)

    # -- solving -----------------------------------------------------------------------------

    def routes_of(self, assignment) -> dict[str, tuple[StopRef, ...]]:
        routing, manager = self.routing, self.manager
        out = {}
        for v, vehicle in enumerate(self.problem.vehicles):
            refs = []
            index = assignment.Value(routing.NextVar(routing.Start(v)))
            while not routing.IsEnd(index):
                refs.append(self.stops[manager.IndexToNode(index)])
                index = assignment.Value(routing.NextVar(index))
            if refs:
                out[vehicle.id] = tuple(refs)
        return out

    def initial(self, routes: Mapping[str, Sequence[StopRef]]):
        order = [[self.manager.NodeToIndex(self.index_of_stop[StopRef(*ref)]) for ref in
                  routes.get(vehicle.id, ())] for vehicle in self.problem.vehicles]
        return self.routing.ReadAssignmentFromRoutes(order, True)


def solve_ortools(problem: Problem, time_limit_s: float,
                  warm_start: Mapping[str, Sequence[StopRef]] | None = None) -> Solution:
    """Guided local search for `time_limit_s` (model building included), from the warm start's
    routes when given (they must be feasible), else from parallel cheapest insertion. Returns
    the best solution found; if none, every request unassigned with its diagnosis."""
    started = time.monotonic()
    model = _Model(problem)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    left_ms = max(1, int(1000 * (time_limit_s - (time.monotonic() - started))))
    params.time_limit.FromMilliseconds(left_ms)
    initial = model.initial(warm_start) if warm_start else None
    if initial is not None:
        assignment = model.routing.SolveFromAssignmentWithParameters(initial, params)
    else:
        assignment = model.routing.SolveWithParameters(params)
    routes = model.routes_of(assignment) if assignment is not None else {}
    return evaluate_routes(problem, routes)
