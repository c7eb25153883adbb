"""The ALNS's local search: 2-opt* between routes. Pure code.

Two routes swap their tails at points where nothing is on board and no trip spans the cut
(so every request keeps its pickup, drop-off and linked legs on one car). It rebuilds pairs of
routes in a way insertion alone rarely finds: the morning of one car with the afternoon of
another. The cut never falls inside a route's committed head or before the last stop of a
request that may not move (on board or committed). A swap is kept only when both new routes
are feasible (the exact check) and the exact cost of the pair falls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from optimizer.alns_feasible import fast_times_feasible
from optimizer.alns_recreate import candidate_vehicles
from optimizer.cost import distance_total
from optimizer.insertion import PlanState
from optimizer.insertion_route import fits_vehicle
from optimizer.problem import Request


def _cuts(state: PlanState, vehicle_id: str, first_of: Mapping[str, str]) -> list[int]:
    """Positions k (the tail is refs[k:]) where nothing is on board and no trip spans."""
    view = state.view(vehicle_id)
    refs = view.refs
    last_fixed = view.fixed
    for k, (rid, _) in enumerate(refs):
        if rid not in first_of:  # a request that may not move
            last_fixed = max(last_fixed, k + 1)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for k, (rid, _) in enumerate(refs):
        trip = first_of.get(rid, rid)
        first.setdefault(trip, k)
        last[trip] = k
    spanning = [0] * (len(refs) + 2)  # trips with stops both before and from position k
    for trip, k in first.items():
        spanning[k + 1] += 1
        spanning[last[trip] + 1] -= 1
    cuts = []
    open_trips = 0
    for k in range(len(refs) + 1):
        open_trips += spanning[k]
        if k >= last_fixed and open_trips == 0 and view.load[k] == 0:
            cuts.append(k)
    return cuts


def two_opt_star(state: PlanState, first_of: Mapping[str, str],
                 requests: Mapping[str, Request], focus: set[str] | None = None,
                 deadline: float | None = None) -> int:
    """Swaps tails while some swap pays (first improvement); only pairs with a car of `focus`
    (the routes just changed, then those a swap changed) when given. Returns the cost saved."""
    saved = 0
    todo = None if focus is None else set(focus)
    done: set[tuple[str, str]] = set()
    while True:
        cars = candidate_vehicles(state)
        pairs = [(a, b) for x, a in enumerate(cars) for b in cars[x + 1:]
                 if (todo is None or a in todo or b in todo) and (a, b) not in done]
        if not pairs:
            return saved
        cuts: dict[str, list[int]] = {}
        for a, b in pairs:
            if deadline is not None and time.monotonic() >= deadline:
                return saved
            done.add((a, b))
            if a not in cuts:
                cuts[a] = _cuts(state, a, first_of)
            if b not in cuts:
                cuts[b] = _cuts(state, b, first_of)
            gain = _best_swap(state, a, b, cuts[a], cuts[b], requests)
            if gain > 0:
                saved += gain
                done = {pair for pair in done if a not in pair and b not in pair}
                if todo is not None:
                    todo |= {a, b}
                break


def _best_swap(state: PlanState, a: str, b: str, cuts_a: list[int], cuts_b: list[int],
               requests: Mapping[str, Request]) -> int:
    problem = state.problem
    va, vb = problem.vehicle_by_id[a], problem.vehicle_by_id[b]
    ra, rb = state.routes.get(a, ()), state.routes.get(b, ())
    if not ra and not rb:
        return 0
    old = state.route_total(a) + state.route_total(b)
    dist = problem.dist_m
    na = [va.origin_node, *(problem.stop_node(r) for r in ra), va.end_node]
    nb = [vb.origin_node, *(problem.stop_node(r) for r in rb), vb.end_node]
    pa, pb = _prefix(dist, na), _prefix(dist, nb)
    fits_a = _fit_from(ra, vb, requests)  # fits_a[k]: a's tail from k may ride on b
    view_a, view_b = state.view(a), state.view(b)
    # with the same end depot and shift end, a tail is late for sure if its first stop is
    # reached after its latest start in its own route (latest times ignore ride limits)
    screen = va.end_node == vb.end_node and va.shift.end_s == vb.shift.end_s
    duration = problem.duration_s
    ready_a = [e + sv for e, sv in zip(view_a.earliest, view_a.service, strict=True)]
    ready_b = [e + sv for e, sv in zip(view_b.earliest, view_b.service, strict=True)]
    fits_b = _fit_from(rb, va, requests)
    for i in cuts_a:
        for j in cuts_b:
            if (i == len(ra) and j == len(rb)) or (i == 0 and j == 0):
                continue
            if not (fits_a[i] and fits_b[j]):
                continue
            if screen and (
                    (j < len(rb) and ready_a[i] + duration[na[i]][nb[j + 1]] > view_b.latest[j + 1])
                    or (i < len(ra)
                        and ready_b[j] + duration[nb[j]][na[i + 1]] > view_a.latest[i + 1])):
                continue
            # a: head of a to i, then b's tail from j; b: head of b to j, then a's tail from i
            da = pa[i] + dist[na[i]][nb[j + 1]] + (pb[-1] - pb[j + 1]) \
                - dist[nb[-2]][nb[-1]] + dist[nb[-2]][na[-1]] if j < len(rb) else \
                pa[i] + dist[na[i]][na[-1]]
            db = pb[j] + dist[nb[j]][na[i + 1]] + (pa[-1] - pa[i + 1]) \
                - dist[na[-2]][na[-1]] + dist[na[-2]][nb[-1]] if i < len(ra) else \
                pb[j] + dist[nb[j]][nb[-1]]
            new_a, new_b = (*ra[:i], *rb[j:]), (*rb[:j], *ra[i:])
            estimate = (distance_total(va, da, bool(new_a)) if new_a or va.state else 0) + \
                (distance_total(vb, db, bool(new_b)) if new_b or vb.state else 0)
            if estimate >= old:
                continue
            if new_a and not _route_ok(problem, va, new_a, da):
                continue
            if new_b and not _route_ok(problem, vb, new_b, db):
                continue
            new = state.route_total(a, new_a) + state.route_total(b, new_b)
            if new < old:
                state.set_route(a, new_a)
                state.set_route(b, new_b)
                return old - new
    return 0


def _route_ok(problem, vehicle, refs, dist_m: int) -> bool:
    """Seats, range, driving time, then the time rules (exact) of a whole new route."""
    if vehicle.range_m is not None and dist_m > vehicle.range_m:
        return False
    if vehicle.max_driving_s is not None:
        duration = problem.duration_s
        nodes = [vehicle.origin_node, *(problem.stop_node(r) for r in refs), vehicle.end_node]
        driven = vehicle.state.driven_s if vehicle.state else 0
        if driven + sum(duration[u][w] for u, w in zip(nodes, nodes[1:], strict=False)) > \
                vehicle.max_driving_s:
            return False
    by_id = problem.request_by_id
    load = sum(by_id[item.request_id].passengers
               for item in (vehicle.state.on_board if vehicle.state else ()))
    for rid, kind in refs:
        load += by_id[rid].passengers if kind == "pickup" else -by_id[rid].passengers
        if load > vehicle.capacity:
            return False
    return fast_times_feasible(problem, vehicle, refs)


def _prefix(dist, nodes: list[int]) -> list[int]:
    out = [0]
    for u, w in zip(nodes, nodes[1:], strict=False):
        out.append(out[-1] + dist[u][w])
    return out


def _fit_from(refs, vehicle, requests: Mapping[str, Request]) -> list[bool]:
    """fit[k]: every request of refs[k:] may ride on `vehicle` (seats, level, unit)."""
    fit = [True] * (len(refs) + 1)
    for k in range(len(refs) - 1, -1, -1):
        fit[k] = fit[k + 1] and fits_vehicle(vehicle, requests[refs[k][0]])
    return fit
