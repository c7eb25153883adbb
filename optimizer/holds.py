"""The platform's booking rule as an optional extra constraint on plans: a dispatch order holds
its car over a planned window (migration 0004: `[planned start, planned end + 30 min)`), and two
orders of one car may not overlap. A plan that puts two requests with overlapping holds on one
car must carry them in ONE order (a merge, 公务拼车), which only requests that allow
carpooling and are not 机要 may join. Orders a car already has are fixed holds nothing may
overlap. Pure code; the benchmark problems have no holds (`Holds` is None there).

The order a request ends up in: on a route, requests riding together or with overlapping holds
are joined (transitively) into one order; `order_groups` computes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from optimizer.problem import Problem, Request, StopRef

Interval = tuple[int, int]  # [start_s, end_s), seconds from the problem's time origin


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def mergeable(request: Request) -> bool:
    """May this request share an order with others (dispatch_orders.create_order's rule)?"""
    return request.shareable and not request.confidential


@dataclass(frozen=True)
class Holds:
    """`booking_of`: request (leg) id -> the booking it belongs to (the legs of one trip
    request share it); `window_of`: booking -> its held interval; `fixed`: vehicle id -> the
    intervals of the orders it already holds."""

    booking_of: Mapping[str, str]
    window_of: Mapping[str, Interval]
    fixed: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)

    def window(self, request_id: str) -> Interval | None:
        booking = self.booking_of.get(request_id)
        return None if booking is None else self.window_of.get(booking)

    def fits(self, problem: Problem, vehicle_id: str, legs: Sequence[Request],
             others: Iterable[str]) -> bool:
        """May the trip `legs` join vehicle `vehicle_id`, whose route serves the requests
        `others`? Overlapping a fixed hold: never; overlapping another request's hold: only
        when both may be merged into one order."""
        mine = {self.booking_of.get(leg.id) for leg in legs} - {None}
        windows = [self.window_of[b] for b in mine if b in self.window_of]
        if not windows:
            return True
        for fixed in self.fixed.get(vehicle_id, ()):
            if any(overlaps(w, fixed) for w in windows):
                return False
        can_merge = all(mergeable(leg) for leg in legs)
        by_id = problem.request_by_id
        for other_id in others:
            booking = self.booking_of.get(other_id)
            if booking is None or booking in mine:
                continue
            other = self.window_of.get(booking)
            if other is not None and any(overlaps(w, other) for w in windows) and not (
                    can_merge and mergeable(by_id[other_id])):
                return False
        return True


def order_groups(problem: Problem, refs: Sequence[StopRef | tuple[str, str]],
                 holds: Holds | None, on_board: Iterable[str] = ()) -> list[list[str]]:
    """The requests of one route joined into orders, in the order of their first stop: those
    riding together at some moment, or whose holds overlap, go in one order (transitively).
    Request ids are the problem's (leg ids); the caller maps them to its bookings."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    seen: list[str] = []
    aboard = list(on_board)
    for rid in aboard:
        parent.setdefault(rid, rid)
        seen.append(rid)
    for request_id, kind in refs:
        if request_id not in parent:
            parent[request_id] = request_id
            seen.append(request_id)
        if kind == "pickup":
            for other in aboard:
                join(request_id, other)
            aboard.append(request_id)
        elif request_id in aboard:
            aboard.remove(request_id)
    if holds is not None:
        _join_bookings(seen, holds, join)
    groups: dict[str, list[str]] = {}
    for rid in seen:
        groups.setdefault(find(rid), []).append(rid)
    return list(groups.values())


def _join_bookings(ids: list[str], holds: Holds, join) -> None:  # type: ignore[no-untyped-def]
    by_booking: dict[str, str] = {}
    windows: list[tuple[Interval, str]] = []
    for rid in ids:
        booking = holds.booking_of.get(rid)
        if booking is None:
            continue
        if booking in by_booking:  # legs of one trip request: one order
            join(rid, by_booking[booking])
            continue
        by_booking[booking] = rid
        window = holds.window_of.get(booking)
        if window is not None:
            windows.append((window, rid))
    windows.sort()
    for i, (window, rid) in enumerate(windows):
        for other, other_id in windows[i + 1:]:
            if other[0] >= window[1]:
                break
            join(rid, other_id)
