"""The ALNS's ruin operators: which trips (first leg ids) to take out of the plan. Pure code.

- random: any placed trips;
- worst: the trips whose stops cost the most distance where they are (randomised);
- related (Shaw): a seed trip and the trips closest to it in place and time;
- string: a run of consecutive stops of one route, then of another;
- route: every movable trip of one short route, so that the car may stay home (leased cars'
  fixed cost, the vehicle count of hierarchical objectives);
- near_unplaced: the trips closest to one left out (related otherwise), room for it.

Only movable trips are ever chosen: committed stops and passengers on board stay.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from optimizer.insertion import PlanState
from optimizer.problem import Request


@dataclass
class RuinContext:
    state: PlanState
    trips: Mapping[str, tuple[Request, ...]]
    placed: list[str]  # movable trips on a route now
    vehicle_of_trip: dict[str, str]
    first_of: Mapping[str, str]  # any leg id -> its trip's first leg id
    movable: set[str]
    rng: random.Random
    unplaced: list[str] = field(default_factory=list)  # movable trips left out now

    def times(self) -> dict[str, tuple[int, int]]:
        """Earliest start of service of each placed trip's first pickup and last drop-off."""
        out: dict[str, list[int]] = {}
        for vehicle_id in set(self.vehicle_of_trip.values()):
            view = self.state.view(vehicle_id)
            for k, (rid, kind) in enumerate(view.refs, start=1):
                trip = self.first_of.get(rid)
                if trip is None:
                    continue
                pair = out.setdefault(trip, [view.earliest[k], view.earliest[k]])
                if kind == "dropoff":
                    pair[1] = view.earliest[k]
        return {t: (a, b) for t, (a, b) in out.items()}


Ruin = Callable[[RuinContext, int], list[str]]


def ruin_random(ctx: RuinContext, q: int) -> list[str]:
    return ctx.rng.sample(ctx.placed, min(q, len(ctx.placed)))


def ruin_worst(ctx: RuinContext, q: int, determinism: float = 3.0) -> list[str]:
    dist = ctx.state.problem.dist_m
    saving: dict[str, int] = {}
    for vehicle_id in set(ctx.vehicle_of_trip.values()):
        view = ctx.state.view(vehicle_id)
        nodes = view.nodes
        for k, (rid, _) in enumerate(view.refs, start=1):
            trip = ctx.first_of.get(rid)
            if trip in ctx.movable:
                a, b, c = nodes[k - 1], nodes[k], nodes[k + 1]
                saving[trip] = saving.get(trip, 0) + dist[a][b] + dist[b][c] - dist[a][c]
    ranked = sorted(saving, key=lambda t: (-saving[t], t))
    chosen = []
    while ranked and len(chosen) < q:
        chosen.append(ranked.pop(int(len(ranked) * ctx.rng.random() ** determinism)))
    return chosen


def ruin_related(ctx: RuinContext, q: int, determinism: float = 6.0) -> list[str]:
    if not ctx.placed:
        return []
    duration = ctx.state.problem.duration_s
    times = ctx.times()
    rng = ctx.rng
    chosen = [rng.choice(ctx.placed)]
    rest = [t for t in ctx.placed if t != chosen[0]]
    while rest and len(chosen) < q:
        ref = rng.choice(chosen)
        p0, d0 = ctx.trips[ref][0].pickup_node, ctx.trips[ref][-1].dropoff_node
        tp0, td0 = times.get(ref, (0, 0))

        def relatedness(trip: str, p0=p0, d0=d0, tp0=tp0, td0=td0) -> float:
            p, d = ctx.trips[trip][0].pickup_node, ctx.trips[trip][-1].dropoff_node
            tp, td = times.get(trip, (0, 0))
            return duration[p0][p] + duration[d0][d] + abs(tp0 - tp) + abs(td0 - td)

        rest.sort(key=relatedness)
        chosen.append(rest.pop(int(len(rest) * rng.random() ** determinism)))
    return chosen


def ruin_near_unplaced(ctx: RuinContext, q: int, determinism: float = 4.0) -> list[str]:
    """The placed trips closest in place and time to a trip left out, to make room for it
    (what the fleet reduction needs most); `related` when nothing is left out."""
    if not ctx.unplaced:
        return ruin_related(ctx, q)
    if not ctx.placed:
        return []
    duration = ctx.state.problem.duration_s
    times = ctx.times()
    seed = ctx.trips[ctx.rng.choice(ctx.unplaced)]
    p0, d0 = seed[0].pickup_node, seed[-1].dropoff_node
    pick, drop = seed[0].pickup_window, seed[-1].dropoff_window  # either may be open
    tp0 = pick.start_s if pick else drop.start_s if drop else 0
    td0 = drop.start_s if drop else tp0

    def relatedness(trip: str) -> float:
        p, d = ctx.trips[trip][0].pickup_node, ctx.trips[trip][-1].dropoff_node
        tp, td = times.get(trip, (0, 0))
        return duration[p0][p] + duration[d0][d] + abs(tp0 - tp) + abs(td0 - td)

    rest = sorted(ctx.placed, key=relatedness)
    chosen = []
    while rest and len(chosen) < q:
        chosen.append(rest.pop(int(len(rest) * ctx.rng.random() ** determinism)))
    return chosen


def ruin_string(ctx: RuinContext, q: int) -> list[str]:
    routes = sorted(set(ctx.vehicle_of_trip.values()))
    if not routes:
        return []
    rng = ctx.rng
    chosen: list[str] = []
    for _ in range(4):
        if len(chosen) >= q:
            break
        refs = ctx.state.routes[rng.choice(routes)]
        length = min(len(refs), rng.randint(2, max(2, 2 * q)))
        start = rng.randint(0, len(refs) - length)
        for rid, _ in refs[start:start + length]:
            trip = ctx.first_of.get(rid)
            if trip in ctx.movable and trip not in chosen:
                chosen.append(trip)
    return chosen[:max(q, 2)]


def ruin_route(ctx: RuinContext, q: int) -> list[str]:
    """All movable trips of a short route (the shorter, the likelier)."""
    count: dict[str, int] = {}
    for vehicle_id in ctx.vehicle_of_trip.values():
        count[vehicle_id] = count.get(vehicle_id, 0) + 1
    if not count:
        return []
    ranked = sorted(count, key=lambda v: (count[v], v))
    target = ranked[int(len(ranked) * ctx.rng.random() ** 2)]
    return [t for t, v in ctx.vehicle_of_trip.items() if v == target]


RUINS: dict[str, Ruin] = {
    "random": ruin_random,
    "worst": ruin_worst,
    "related": ruin_related,
    "string": ruin_string,
    "route": ruin_route,
    "near_unplaced": ruin_near_unplaced,
}


def placed_trips(state: PlanState, movable: Sequence[str],
                 first_of: Mapping[str, str]) -> dict[str, str]:
    """Movable trip -> the car it is on."""
    wanted = set(movable)
    out = {}
    for vehicle_id, refs in state.routes.items():
        for rid, _ in refs:
            trip = first_of.get(rid)
            if trip in wanted:
                out[trip] = vehicle_id
    return out
