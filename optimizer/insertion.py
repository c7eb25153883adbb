"""Cheapest feasible insertion of one new trip into a current plan (issue #6, online use).

A trip is one request, or the linked legs of a round or multi-stop trip (`follows`: the same
vehicle, each leg picked up after the previous one is dropped off, right after it when the
driver waits). The plan is a stop order per vehicle; inserting never moves what is there: the
existing stops keep their vehicle and their order, committed stops stay at the head of their
route and passengers on board stay on their car.

The search (`PlanState.best_insertions`): for every vehicle that may carry the trip (seats, car
level, unit-retained cars, the booking holds of `optimizer.holds`), every placement is screened
in O(1) by `insertion_route.leg_slots` and priced by its distance (per-km cost, a leased car's
fixed cost on first use, over-km); this price is a lower bound of the exact cost change — the
only part it leaves out, a price plan's overtime, does not shrink when stops are added to a
route whose matrix keeps the triangle inequality. Placements are then confirmed cheapest first
with the exact schedule check (`schedule.times_feasible`: windows, ride times, shift) and priced
exactly (overtime included); the search stops once the next lower bound cannot beat the k-th
best vehicle found. The result: the best placement on each of the best `k` vehicles.

Pure code. `PlanState` keeps each route's prepared arrays between insertions, so a stream of
requests (the online bench) only rebuilds the route that changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from optimizer.cost import distance_total
from optimizer.evaluate import build_route
from optimizer.holds import Holds
from optimizer.insertion_route import RouteView, fits_vehicle, leg_slots
from optimizer.problem import Problem, Request, StopRef, Vehicle
from optimizer.reasons import explain_unserved
from optimizer.schedule import times_feasible
from optimizer.solution import Route

Plan = Mapping[str, Sequence[StopRef | tuple[str, str]]]
MAX_PLACEMENTS = 4000  # per vehicle and trip: a long multi-stop trip on a long route stops here


@dataclass(frozen=True)
class Proposal:
    """The trip placed on one vehicle: its stops' indices in the new route (pickup and drop-off
    of each leg, in trip order), what the plan's cost grows by, and the whole new route. Only
    when room was made for an emergency (insertion_room.py): the other routes that changed and
    the requests left out for it (their penalties are in `added_cost`)."""

    vehicle_id: str
    positions: tuple[int, ...]
    added_cost: int
    refs: tuple[StopRef, ...]
    route: Route
    changes: tuple[tuple[str, tuple[StopRef, ...]], ...] = ()
    displaced: tuple[str, ...] = ()


@dataclass(frozen=True)
class InsertionResult:
    request_ids: tuple[str, ...]  # the trip's legs, in order
    proposals: tuple[Proposal, ...]  # best first, one per vehicle
    reason: tuple[str, str] | None  # (code, message) of `solution.UNASSIGNED_REASONS` when none

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None


@dataclass(frozen=True)
class _Candidate:
    estimate: int
    vehicle_index: int
    refs: tuple[StopRef, ...]
    positions: tuple[int, ...]


def trip_chains(problem: Problem) -> dict[str, tuple[Request, ...]]:
    """Every trip of the problem: its first leg's id -> its legs in order."""
    followers = {r.follows: r for r in problem.requests if r.follows is not None}
    chains = {}
    for request in problem.requests:
        if request.follows is not None:
            continue
        legs = [request]
        while legs[-1].id in followers:
            legs.append(followers[legs[-1].id])
        chains[request.id] = tuple(legs)
    return chains


def trip_of(problem: Problem, request_id: str) -> tuple[Request, ...]:
    """The legs of the trip `request_id` belongs to."""
    by_id = problem.request_by_id
    first = by_id[request_id]
    while first.follows is not None:
        first = by_id[first.follows]
    return trip_chains_from(problem, first)


def trip_chains_from(problem: Problem, first: Request) -> tuple[Request, ...]:
    followers = {r.follows: r for r in problem.requests if r.follows is not None}
    legs = [first]
    while legs[-1].id in followers:
        legs.append(followers[legs[-1].id])
    return tuple(legs)


def fixed_request_ids(problem: Problem) -> set[str]:
    """Requests a re-plan may not move: on board or committed somewhere."""
    held = set()
    for vehicle in problem.vehicles:
        if vehicle.state is not None:
            held |= {item.request_id for item in vehicle.state.on_board}
            held |= {ref.request_id for ref in vehicle.state.committed}
    return held


def base_plan(problem: Problem) -> dict[str, tuple[StopRef, ...]]:
    """The plan before anything is inserted: each re-planned vehicle's committed stops, then the
    drop-offs of its passengers on board that are not committed."""
    plan: dict[str, tuple[StopRef, ...]] = {}
    for vehicle in problem.vehicles:
        state = vehicle.state
        if state is None:
            continue
        refs = [StopRef(*ref) for ref in state.committed]
        listed = set(refs)
        refs += [StopRef(item.request_id, "dropoff") for item in state.on_board
                 if StopRef(item.request_id, "dropoff") not in listed]
        plan[vehicle.id] = tuple(refs)
    return plan


class PlanState:
    """A plan being built or changed one trip at a time (see the module docstring)."""

    def __init__(self, problem: Problem, plan: Plan | None = None,
                 holds: Holds | None = None) -> None:
        self.problem = problem
        self.holds = holds
        self.routes: dict[str, tuple[StopRef, ...]] = dict(base_plan(problem))
        for vehicle_id, refs in (plan or {}).items():
            self.routes[vehicle_id] = tuple(StopRef(*ref) for ref in refs)
        self._index = {v.id: i for i, v in enumerate(problem.vehicles)}
        # Cars that take no new stops for now (the ALNS's fleet reduction closes the car it
        # empties and every unused one); the recreate step and 2-opt* leave them alone.
        self.closed: set[str] = set()
        # the ALNS's recreate step remembers its placements here (alns_recreate.best_on_vehicle)
        self.placement_cache: dict = {}
        self._views: dict[str, RouteView] = {}
        self._costs: dict[tuple[str, tuple[StopRef, ...]], int] = {}

    # -- the plan ------------------------------------------------------------------------------

    def view(self, vehicle_id: str) -> RouteView:
        view = self._views.get(vehicle_id)
        if view is None:
            vehicle = self.problem.vehicle_by_id[vehicle_id]
            view = RouteView(self.problem, vehicle, self.routes.get(vehicle_id, ()))
            self._views[vehicle_id] = view
        return view

    def set_route(self, vehicle_id: str, refs: Sequence[StopRef]) -> None:
        self.routes[vehicle_id] = tuple(refs)
        self._views.pop(vehicle_id, None)

    def apply(self, proposal: Proposal) -> None:
        self.set_route(proposal.vehicle_id, proposal.refs)
        for vehicle_id, refs in proposal.changes:
            self.set_route(vehicle_id, refs)

    def served_ids(self) -> set[str]:
        return {ref.request_id for refs in self.routes.values() for ref in refs}

    def vehicle_of(self) -> dict[str, str]:
        return {ref.request_id: vid for vid, refs in self.routes.items() for ref in refs}

    def route_total(self, vehicle_id: str, refs: Sequence[StopRef] | None = None) -> int:
        """The exact cost of a route (cached per stop order)."""
        refs = tuple(self.routes.get(vehicle_id, ()) if refs is None else refs)
        vehicle = self.problem.vehicle_by_id[vehicle_id]
        if not refs and vehicle.state is None:
            return 0  # an unused car drives nothing (evaluate_routes gives it no route)
        key = (vehicle_id, refs)
        total = self._costs.get(key)
        if total is None:
            plan = vehicle.price_plan
            if plan is not None and plan.overtime_cost_per_h and (refs or vehicle.state):
                total = build_route(self.problem, vehicle, refs).cost.total
            else:
                view = self.view(vehicle_id) if refs == self.routes.get(vehicle_id, ()) else \
                    RouteView(self.problem, vehicle, refs)
                total = distance_total(vehicle, view.dist_m, bool(refs))
            if len(self._costs) > 50_000:
                self._costs.clear()
            self._costs[key] = total
        return total

    # -- insertion -----------------------------------------------------------------------------

    def may_carry(self, vehicle: Vehicle, legs: Sequence[Request]) -> bool:
        if not all(fits_vehicle(vehicle, leg) for leg in legs):
            return False
        return self.holds_fit(vehicle.id, legs, self.view(vehicle.id).request_ids)

    def holds_fit(self, vehicle_id: str, legs: Sequence[Request], others: Iterable[str]) -> bool:
        """The booking rule (optimizer.holds), when the plan has one."""
        return self.holds is None or self.holds.fits(self.problem, vehicle_id, legs, others)

    def candidates(self, vehicle: Vehicle, legs: Sequence[Request]) -> list[_Candidate]:
        """Every screened placement of the trip on this vehicle with its lower-bound cost."""
        view = self.view(vehicle.id)
        unused = not view.refs and vehicle.state is None
        old = 0 if unused else distance_total(vehicle, view.dist_m, bool(view.refs))
        found: list[_Candidate] = []
        index = self._index[vehicle.id]
        for refs, positions, dist_m in _placements(self.problem, view, legs):
            estimate = distance_total(vehicle, dist_m, True) - old
            found.append(_Candidate(estimate, index, refs, positions))
            if len(found) >= MAX_PLACEMENTS:
                break
        return found

    def best_insertions(self, legs: Sequence[Request], k: int = 3,
                        vehicle_ids: Iterable[str] | None = None) -> list[Proposal]:
        """The cheapest exact placement on each of the best `k` vehicles (module docstring)."""
        vehicles = (self.problem.vehicles if vehicle_ids is None
                    else [self.problem.vehicle_by_id[v] for v in vehicle_ids])
        pool: list[_Candidate] = []
        for vehicle in vehicles:
            if self.may_carry(vehicle, legs):
                pool += self.candidates(vehicle, legs)
        pool.sort(key=lambda c: (c.estimate, c.vehicle_index, c.positions))
        best: dict[str, tuple[int, _Candidate]] = {}
        for candidate in pool:
            if len(best) >= k and candidate.estimate >= _kth(best, k):
                break
            vehicle = self.problem.vehicles[candidate.vehicle_index]
            known = best.get(vehicle.id)
            if known is not None and candidate.estimate >= known[0]:
                continue
            if not times_feasible(self.problem, vehicle, candidate.refs):
                continue
            added = self.route_total(vehicle.id, candidate.refs) - self.route_total(vehicle.id)
            if known is None or added < known[0]:
                best[vehicle.id] = (added, candidate)
        ranked = sorted(best.values(), key=lambda item: (item[0], item[1].vehicle_index))[:k]
        return [self._proposal(added, c) for added, c in ranked]

    def _proposal(self, added: int, candidate: _Candidate) -> Proposal:
        vehicle = self.problem.vehicles[candidate.vehicle_index]
        route = build_route(self.problem, vehicle, candidate.refs)
        return Proposal(vehicle.id, candidate.positions, added, candidate.refs, route)

    def insert(self, request_id: str, k: int = 3,
               vehicle_ids: Iterable[str] | None = None) -> InsertionResult:
        """Proposals for the trip of `request_id` (not applied), or why there is none. An
        emergency that fits nowhere as the plan stands gets room made for it (lower-priority
        trips moved to other cars, or left out: insertion_room.py)."""
        legs = trip_of(self.problem, request_id)
        ids = tuple(leg.id for leg in legs)
        proposals = self.best_insertions(legs, k, vehicle_ids)
        if not proposals and vehicle_ids is None and is_emergency(legs):
            from optimizer.insertion_room import make_room

            proposals = make_room(self, legs, k)
        if proposals:
            return InsertionResult(ids, tuple(proposals), None)
        return InsertionResult(ids, (), self.why_not(legs, vehicle_ids))

    def why_not(self, legs: Sequence[Request],
                vehicle_ids: Iterable[str] | None = None) -> tuple[str, str]:
        """The reason a trip has no place: the most specific of its legs' diagnoses."""
        if vehicle_ids is not None:
            names = sorted(vehicle_ids)
            return "no_capacity", (f"the car chosen ({', '.join(names)}) cannot take it "
                                   "within its plan, windows and rules")
        reasons = [explain_unserved(self.problem, leg.id) for leg in legs]
        for code in ("no_vehicle", "infeasible_time", "linked_unserved"):
            for reason in reasons:
                if reason[0] == code:
                    return reason
        if self.holds is not None:
            return "no_capacity", (f"{reasons[0][1]}; the cars' orders (bookings held until 30 "
                                   "min after their end) leave no room")
        return reasons[0]


def is_emergency(legs: Sequence[Request]) -> bool:
    return any(leg.priority == "emergency" for leg in legs)


def insert_request(problem: Problem, plan: Plan, request_id: str, k: int = 3,
                   holds: Holds | None = None) -> InsertionResult:
    """One-shot form of `PlanState.insert`."""
    return PlanState(problem, plan, holds).insert(request_id, k)


def _kth(best: dict[str, tuple[int, _Candidate]], k: int) -> int:
    return sorted(added for added, _ in best.values())[k - 1]


def _placements(problem: Problem, view: RouteView, legs: Sequence[Request]
                ) -> list[tuple[tuple[StopRef, ...], tuple[int, ...], int]]:
    """(new stop order, positions of the new stops, route distance) for every screened way of
    placing the legs, each leg after the previous one's drop-off."""
    out: list[tuple[tuple[StopRef, ...], tuple[int, ...], int]] = []

    def place(view: RouteView, index: int, first: int, positions: tuple[int, ...]) -> None:
        leg = legs[index]
        last = first if index and leg.driver_waits else view.stop_count
        for slot in leg_slots(problem, view, leg, first, last):
            refs = view.with_leg(leg.id, slot)
            # earlier legs' stops at or after the pickup move one place, after the drop-off two
            moved = tuple(p + (p >= slot.i) + (p >= slot.j) for p in positions)
            placed = (*moved, slot.i, slot.j + 1)
            if index + 1 == len(legs):
                out.append((refs, placed, view.dist_m + slot.add_dist_m))
            else:
                grown = RouteView(problem, view.vehicle, refs)
                place(grown, index + 1, slot.j + 2, placed)
            if len(out) >= MAX_PLACEMENTS:
                return

    place(view, 0, view.fixed, ())
    return out
