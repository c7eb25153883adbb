"""The baseline: how dispatchers plan a day by hand. Pure code.

Trips (a request with the legs that follow it: a round trip's return, a tour's next stops) in
order of their earliest start; each gets the nearest free car of a class it allows, by the
source rules of domain.md §4: the unit's own retained cars first (for its own requests only),
then platform and entrusted cars, a leased car only when no own car fits. A car carries one
party at a time (nobody shares) and drives all the legs of its trip (the model links them to
one car); it goes back to its motor pool after each leg and takes other trips meanwhile, unless
the driver waits, the next leg starts in another city than the pool's, or there is no time to
go home and come back (then it waits there). "Nearest" is the drive from the car's pool to
the pickup; ties (the cars of one pool) go to the smallest car that seats the party, then to
the cheapest per km (dispatchers send the electric car first).

A generous baseline on two counts: any own car of the circle may go, not only the city's own
(the model has no city per car; a city's dispatcher would call the rental company before a
neighbour city's pool), and the cheaper car wins a tie.

The day is returned as a `Solution` built by `evaluate_routes`, so the checker judges it like
any other. The model has no stop at the motor pool in the middle of a route: in the solution a
car drives straight from one trip to the next, which is shorter than what the dispatcher's car
drives. The booking itself (is the car free? enough range and driving time left?) counts the
trips back to the pool, and `GreedyResult.as_driven_*` gives the km and cost with those
returns, for comparison. Requests it cannot place are left out with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from optimizer.cost import route_cost
from optimizer.evaluate import evaluate_routes
from optimizer.problem import Problem, Request, StopRef, Vehicle, VehicleState
from optimizer.reasons import explain_unserved
from optimizer.schedule import route_times, times_feasible
from optimizer.solution import Solution

SOURCE_TIER = {"unit_retained": 0, "platform": 1, "entrusted": 1, "leased": 2}


@dataclass(frozen=True)
class _Job:
    """What a car does between leaving its pool and coming back: one leg, or legs glued
    together because the driver waits between them."""

    refs: tuple[StopRef, ...]
    key_s: int  # its first pickup's earliest start: the order of the car's calendar
    latest_s: int | None  # its first pickup's latest start, if bounded
    dist_m: int  # pool to pool
    driving_s: int


@dataclass
class _CarDay:
    """One car's calendar: its jobs in time order, and when each leaves and is back."""

    vehicle: Vehicle
    jobs: list[_Job] = field(default_factory=list)
    times: list[tuple[int, int]] = field(default_factory=list)  # (leave_s, back_s) per job
    trips: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def stops(self) -> list[StopRef]:
        return [ref for job in self.jobs for ref in job.refs]


@dataclass(frozen=True)
class GreedyResult:
    solution: Solution  # the day as the model counts it (checker-verified in the bench)
    trips: dict[str, tuple[tuple[str, ...], ...]]  # vehicle id -> its trips' request ids
    as_driven_dist_m: int  # with every return to the pool between jobs
    as_driven_cost: int  # the routes' cost for those km (unserved penalties not included)
    as_driven_leased_cost: int  # the part of it spent on leased cars


def greedy_solution(problem: Problem) -> Solution:
    return greedy_dispatch(problem).solution


def greedy_dispatch(problem: Problem) -> GreedyResult:
    if any(v.state is not None for v in problem.vehicles):
        raise ValueError("the by-hand baseline plans a day from scratch: no vehicle states")
    days = [_CarDay(v) for v in problem.vehicles]
    reasons: dict[str, tuple[str, str]] = {}
    for trip in sorted(trips_of(problem), key=lambda t: (earliest_start_s(problem, t[0]), t[0].id)):
        booking = _choose(problem, trip, days)
        if booking is None:
            reasons.update(_why_not(problem, trip))
        else:
            day, jobs, times = booking
            day.jobs, day.times = jobs, times
            day.trips.append(tuple(r.id for r in trip))
    solution = evaluate_routes(problem, {d.vehicle.id: d.stops for d in days if d.jobs}, reasons)
    used = [d for d in days if d.jobs]
    costs = {d.vehicle.id: route_cost(d.vehicle, dist_m=sum(j.dist_m for j in d.jobs),
                                      start_s=d.times[0][0], end_s=d.times[-1][1],
                                      served=True).total for d in used}
    leased = sum(costs[d.vehicle.id] for d in used if d.vehicle.source == "leased")
    return GreedyResult(solution, {d.vehicle.id: tuple(d.trips) for d in used},
                        sum(j.dist_m for d in used for j in d.jobs), sum(costs.values()), leased)


def trips_of(problem: Problem) -> list[tuple[Request, ...]]:
    """Every request in one trip: a chain of requests linked by `follows`, first leg first."""
    followers = {r.follows: r for r in problem.requests if r.follows is not None}
    trips = []
    for request in problem.requests:
        if request.follows is None:
            chain = [request]
            while chain[-1].id in followers:
                chain.append(followers[chain[-1].id])
            trips.append(tuple(chain))
    return trips


def earliest_start_s(problem: Problem, request: Request) -> int:
    """When the request's pickup can start at the earliest: its window, or, with an arrival
    window only, its start less the direct drive."""
    if request.pickup_window is not None:
        return request.pickup_window.start_s
    if request.dropoff_window is not None:
        direct_s = problem.duration_s[request.pickup_node][request.dropoff_node]
        return max(0, request.dropoff_window.start_s - direct_s - request.pickup_service_s)
    return 0


def _latest_start_s(problem: Problem, request: Request) -> int | None:
    if request.pickup_window is not None:
        return request.pickup_window.end_s
    if request.dropoff_window is not None:
        direct_s = problem.duration_s[request.pickup_node][request.dropoff_node]
        return request.dropoff_window.end_s - direct_s - request.pickup_service_s
    return None


def _fits(vehicle: Vehicle, trip: tuple[Request, ...]) -> bool:
    """Seats, class and unit: what rules a car out whatever its day looks like."""
    return all(r.passengers <= vehicle.capacity
               and (not r.car_levels or vehicle.car_level in r.car_levels)
               and (vehicle.source != "unit_retained" or r.unit_id == vehicle.unit_id)
               for r in trip)


def _jobs(problem: Problem, vehicle: Vehicle, trip: tuple[Request, ...],
          back_to_pool: bool) -> list[_Job]:
    """The trip cut into jobs: with `back_to_pool`, the car goes home between two legs unless
    the driver waits or the next leg starts in another city than the car's pool."""
    home_city = problem.nodes[vehicle.start_node].city_code
    groups: list[list[Request]] = []
    for request in trip:
        apart = (back_to_pool and not request.driver_waits
                 and problem.nodes[request.pickup_node].city_code == home_city)
        if not groups or apart:
            groups.append([request])
        else:
            groups[-1].append(request)
    jobs = []
    for group in groups:
        nodes = [vehicle.start_node, *(n for r in group for n in (r.pickup_node, r.dropoff_node)),
                 vehicle.end_node]
        legs = list(zip(nodes, nodes[1:], strict=False))
        jobs.append(_Job(tuple(StopRef(r.id, kind) for r in group for kind in ("pickup", "dropoff")),
                         earliest_start_s(problem, group[0]), _latest_start_s(problem, group[0]),
                         sum(problem.dist_m[a][b] for a, b in legs),
                         sum(problem.duration_s[a][b] for a, b in legs)))
    return jobs


Booking = tuple[_CarDay, list[_Job], list[tuple[int, int]]]


def _choose(problem: Problem, trip: tuple[Request, ...], days: list[_CarDay]) -> Booking | None:
    first = trip[0]
    fitting = [d for d in days if _fits(d.vehicle, trip)]
    fitting.sort(key=lambda d: (SOURCE_TIER[d.vehicle.source],
                                problem.duration_s[d.vehicle.start_node][first.pickup_node],
                                d.vehicle.capacity, d.vehicle.cost_per_km, d.vehicle.id))
    for day in fitting:
        for back_to_pool in (True, False):  # home between the legs if there is time, else wait
            booked = _calendar(problem, day, _jobs(problem, day.vehicle, trip, back_to_pool))
            if booked is not None:
                return (day, *booked)
    return None


def serves_alone(problem: Problem, vehicle: Vehicle, trip: tuple[Request, ...]) -> bool:
    """Can `vehicle`, with nothing else to do, drive `trip` from its pool and back, within
    every rule (seats, class, unit, windows, ride times, shift, driving time, range)?"""
    return _fits(vehicle, trip) and _calendar(
        problem, _CarDay(vehicle), _jobs(problem, vehicle, trip, False)) is not None


def _calendar(problem: Problem, day: _CarDay, new: list[_Job]
              ) -> tuple[list[_Job], list[tuple[int, int]]] | None:
    """The car's jobs with `new` ones slotted in by time, and when each leaves and is back, or
    None when the car cannot take them (busy, out of range or driving time)."""
    vehicle = day.vehicle
    if not _free_for(problem, day, new):
        return None
    jobs = sorted([*day.jobs, *new], key=lambda j: j.key_s)  # stable: booked jobs first on ties
    if vehicle.range_m is not None and sum(j.dist_m for j in jobs) > vehicle.range_m:
        return None
    if vehicle.max_driving_s is not None and sum(j.driving_s for j in jobs) > vehicle.max_driving_s:
        return None
    times = []
    back_s: int | None = None
    for job in jobs:
        car = vehicle if back_s is None else replace(
            vehicle, state=VehicleState(node=vehicle.start_node, time_s=back_s))
        schedule = route_times(problem, car, job.refs)
        if not schedule.feasible:
            return None
        times.append((schedule.start_s, schedule.end_s))
        back_s = schedule.end_s
    # The solution's route drives straight from job to job: it must hold as well.
    if day.jobs and not times_feasible(problem, vehicle, [r for job in jobs for r in job.refs]):
        return None
    return jobs, times


def _free_for(problem: Problem, day: _CarDay, new: list[_Job]) -> bool:
    """A quick necessary test: back at the pool in time to reach each new job's first pickup."""
    for job in new:
        if job.latest_s is None:
            continue
        first = problem.request_by_id[job.refs[0].request_id]
        reach_s = problem.duration_s[day.vehicle.start_node][first.pickup_node]
        before = [back for (_, back), booked in zip(day.times, day.jobs, strict=True)
                  if booked.key_s <= job.key_s]
        ready_s = max([day.vehicle.shift.start_s, *before])
        if ready_s + reach_s > job.latest_s:
            return False
    return True


def _why_not(problem: Problem, trip: tuple[Request, ...]) -> dict[str, tuple[str, str]]:
    alone = [v for v in problem.vehicles if serves_alone(problem, v, trip)]
    reasons = {}
    for request in trip:
        code, message = explain_unserved(problem, request.id)
        if code == "no_capacity" and not alone:
            code, message = "infeasible_time", (
                f"no car can drive the whole trip ({len(trip)} leg(s)) within its windows, "
                "ride times, shift, driving time and range, even alone")
        elif code == "no_capacity":
            message = (f"{len(alone)} car(s) could drive the trip alone, all busy: by hand a "
                       "car takes one trip at a time")
        reasons[request.id] = (code, message)
    return reasons
