"""A fast exact answer to `schedule.times_feasible` (can some schedule serve these stops in this
order within windows, ride times and the shift?) for the ALNS's inner loop. Pure code.

Every timing rule is a difference constraint; those that push a time later are lower bounds
(travel and service after the previous stop, a window's opening, and a ride limit read
backwards: the pickup no earlier than the drop-off minus the limit), the others are upper
bounds (a window's close, the shift's end, the ride limit of a passenger on board). The
earliest schedule is the least fixpoint of the lower bounds: a forward pass, then while some
ride is too long its pickup is delayed and the pass resumes from there. If that fixpoint breaks
an upper bound, no schedule keeps them all. Each round only moves times later, and a ride that
still breaks its limit after a window closes is caught by that window, so a few rounds settle
it; past `MAX_ROUNDS` the Bellman–Ford reference decides. tests/unit/test_optimizer_solve.py
compares the two on random routes.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.problem import Problem, StopRef, Vehicle
from optimizer.schedule import times_feasible

NEG = -(10**15)
POS = 10**15
MAX_ROUNDS = 200


_TABLES: dict[int, tuple[Problem, dict]] = {}


def _table(problem: Problem) -> dict[tuple[str, str], tuple[int, int, int, int, int | None]]:
    """(request id, kind) -> (node, service, window open, window close, longest ride or None);
    built once per problem (the last few are kept)."""
    known = _TABLES.get(id(problem))
    if known is not None and known[0] is problem:
        return known[1]
    table = {}
    for r in problem.requests:
        pw, dw = r.pickup_window, r.dropoff_window
        table[(r.id, "pickup")] = (r.pickup_node, r.pickup_service_s,
                                   pw.start_s if pw else NEG, pw.end_s if pw else POS, None)
        longest = None if r.max_ride_s is None else r.max_ride_s + r.pickup_service_s
        table[(r.id, "dropoff")] = (r.dropoff_node, r.dropoff_service_s,
                                    dw.start_s if dw else NEG, dw.end_s if dw else POS, longest)
    if len(_TABLES) >= 4:
        _TABLES.clear()
    _TABLES[id(problem)] = (problem, table)
    return table


def fast_times_feasible(problem: Problem, vehicle: Vehicle,
                        refs: Sequence[StopRef | tuple[str, str]]) -> bool:
    table = _table(problem)
    duration = problem.duration_s
    state = vehicle.state
    n = len(refs)
    if n == 0:
        return vehicle.earliest_start_s + duration[vehicle.origin_node][
            vehicle.end_node] <= vehicle.shift.end_s
    nodes = [0] * n
    service = [0] * n
    lower = [0] * n  # window opens, raised by the ride limits
    close_s = [0] * n
    pickup_at: dict[str, int] = {}
    rides: list[tuple[int, int, int]] = []  # (pickup index, drop-off index, longest B_d - B_p)
    for k, ref in enumerate(refs):
        nodes[k], service[k], lower[k], close_s[k], longest = table[ref]
        if ref[1] == "pickup":
            pickup_at[ref[0]] = k
        elif longest is not None:
            p = pickup_at.get(ref[0])
            if p is not None:
                rides.append((p, k, longest))
    if state is not None and state.on_board:
        by_id = problem.request_by_id
        for item in state.on_board:
            limit = by_id[item.request_id].max_ride_s
            if limit is None:
                continue
            for k, ref in enumerate(refs):
                if tuple(ref) == (item.request_id, "dropoff"):
                    close_s[k] = min(close_s[k], item.picked_up_s + limit)
    try:
        return _settle(problem, vehicle, nodes, service, lower, close_s, [0] * n, rides, 0) \
            is not None
    except _Undecided:
        return times_feasible(problem, vehicle, refs)


def _settle(problem: Problem, vehicle: Vehicle, nodes: list[int], service: list[int],
            lower: list[int], close_s: list[int], begin: list[int],
            rides: list[tuple[int, int, int]], start: int) -> list[int] | None:
    """The least fixpoint of the lower bounds from `begin[:start]` on (module docstring), or
    None when an upper bound breaks. `lower` is raised in place by the ride limits."""
    duration = problem.duration_s
    n = len(nodes)
    first_arrival = vehicle.earliest_start_s + duration[vehicle.origin_node][nodes[0]]
    for _ in range(MAX_ROUNDS):
        for k in range(start, n):
            if k == 0:
                arrive = first_arrival
            else:
                arrive = begin[k - 1] + service[k - 1] + duration[nodes[k - 1]][nodes[k]]
            begin[k] = arrive if arrive > lower[k] else lower[k]
            if begin[k] > close_s[k]:
                return None
        start = n
        for p, d, longest in rides:
            need = begin[d] - longest
            if need > begin[p]:
                lower[p] = need
                if p < start:
                    start = p
        if start == n:
            end = begin[-1] + service[-1] + duration[nodes[-1]][vehicle.end_node]
            return begin if end <= vehicle.shift.end_s else None
    raise _Undecided


class _Undecided(Exception):
    """MAX_ROUNDS passed: the Bellman–Ford reference decides."""
