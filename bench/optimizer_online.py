"""Online use of the optimizer (issue #6): how fast a new request gets a proposal (insertion into
the current plan) with 200 vehicles and 400 open requests, and how long a full re-plan takes.

    .venv/bin/python bench/optimizer_online.py                 # ~1 min
    .venv/bin/python bench/optimizer_online.py --seed 2 --arrivals 200 --replan-s 9.5

The day comes from `optimizer.day_generator.generate_day(seed, vehicles=200, requests=N)`, with
N large enough that, after the open requests (about 400 legs: whole trips, round trips count
each leg), `--arrivals` trips remain. In a seeded order, trips are taken as open until they
hold 400 legs; the next ones arrive one at a time.

1. The open plan: `build_plan` (regret-2 insertion) over the open trips, then `improve_plan`
   for the rest of the re-plan budget (the warm-start improvement), timed, checker-verified.
2. Arrivals: each new trip → `PlanState.insert` (its best three cars, or the reason there is
   none), timed one by one; the best proposal is applied (the dispatcher accepts), so the
   plan grows to 400 + the arrivals' legs. Latency p50 / p95 / max; placed / left out.
3. The full re-plan of every trip arrived so far: from nothing (`build_plan`, the construction
   alone), and from the final plan as warm start (`optimizer.replan.replan`, at most
   `--replan-s` seconds: the insertion improvement for half, then `optimizer.solve.solve`,
   the ALNS, on the problem cut down to the arrived trips, warm-started from it), timed and
   checker-verified.

Every plan printed is verified with `optimizer.check` (the requests not yet arrived are
reported unassigned as `not_planned`, so that the checker's accounting holds).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import load_average, percentile  # noqa: E402
from optimizer import check  # noqa: E402
from optimizer.day_generator import generate_day  # noqa: E402
from optimizer.insertion import PlanState, trip_chains  # noqa: E402
from optimizer.insertion_plan import PlanResult, build_plan, improve_plan, plan_cost  # noqa: E402
from optimizer.replan import replan  # noqa: E402

OPEN_LEGS = 400


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--arrivals", type=int, default=200)
    parser.add_argument("--replan-s", type=float, default=9.5,
                        help="the re-plan's time limit (it may overrun by one move, ~0.1 s)")
    parser.add_argument("--k", type=int, default=3, help="proposals per new request")
    return parser.parse_args()


def _split(problem, seed: int, arrivals: int) -> tuple[list[str], list[str]]:
    trips = trip_chains(problem)
    order = sorted(trips)
    random.Random(f"online:{seed}").shuffle(order)
    open_trips, legs = [], 0
    for trip in order:
        if legs >= OPEN_LEGS:
            break
        open_trips.append(trip)
        legs += len(trips[trip])
    return open_trips, order[len(open_trips):len(open_trips) + arrivals]


def _verify(problem, routes, waiting: set[str]) -> tuple[int, int, int]:
    """(violations, served legs, unserved legs) of a plan; requests in `waiting` are not
    planned yet."""
    reasons = dict.fromkeys(waiting, ("not_planned", "arrives later"))
    solution = PlanResult(routes, reasons).solution(problem)
    violations = check(problem, solution)
    unserved = [u for u in solution.unassigned if u.request_id not in waiting]
    served = len(problem.requests) - len(solution.unassigned)
    return len(violations), served, len(unserved)


def main() -> None:
    args = _args()
    size = OPEN_LEGS + int(args.arrivals * 1.9) + 40
    started = time.perf_counter()
    problem = generate_day(args.seed, vehicles=args.vehicles, requests=size)
    generated_s = time.perf_counter() - started
    open_trips, arrivals = _split(problem, args.seed, args.arrivals)
    trips = trip_chains(problem)
    open_legs = sum(len(trips[t]) for t in open_trips)
    later = {leg.id for t in trips if t not in open_trips for leg in trips[t]}
    print(f"day seed {args.seed}: {len(problem.vehicles)} vehicles, {len(problem.requests)} "
          f"requests ({len(trips)} trips) generated in {generated_s:.1f} s; "
          f"open: {len(open_trips)} trips / {open_legs} legs; arrivals: {len(arrivals)} trips")
    print(f"load average {load_average()}")

    # 1. the open plan
    t0 = time.perf_counter()
    first = build_plan(problem, only=open_trips)
    build_s = time.perf_counter() - t0
    first_cost = plan_cost(PlanState(problem, first.routes)) - _penalty(problem, later)
    _, _, first_left = _verify(problem, first.routes, later)
    left_s = max(0.0, args.replan_s - build_s)
    t0 = time.perf_counter()
    improved = improve_plan(problem, _only(first, open_trips, trips), time_limit_s=left_s,
                            seed=args.seed, only=open_trips)
    improve_s = time.perf_counter() - t0
    improved_cost = plan_cost(PlanState(problem, improved.routes)) - _penalty(problem, later)
    bad, served, unserved = _verify(problem, improved.routes, later)
    print("\n| open plan (400 legs) | time | cost (CNY, penalties incl.) | served legs | left out | checker |")
    print("|---|---|---|---|---|---|")
    print(f"| regret-2 insertion | {build_s:.2f} s | {first_cost / 100:,.2f} | "
          f"{open_legs - first_left} | {first_left} | |")
    print(f"| + improvement (warm start) | {improve_s:.2f} s | {improved_cost / 100:,.2f} | "
          f"{served} | {unserved} | {bad} violations |")

    # 2. arrivals, one at a time
    state = PlanState(problem, improved.routes)
    latencies, outcomes = [], Counter()
    waiting = set(later)
    for trip in arrivals:
        t0 = time.perf_counter()
        result = state.insert(trip, k=args.k)
        latencies.append(time.perf_counter() - t0)
        waiting -= {leg.id for leg in trips[trip]}
        if result.best is not None:
            state.apply(result.best)
            outcomes["placed"] += 1
        else:
            outcomes[result.reason[0]] += 1
    latencies.sort()
    bad, served, unserved = _verify(problem, state.routes, waiting)
    legs_now = sum(len(refs) for refs in state.routes.values()) // 2
    print(f"\n| new request → proposal ({len(latencies)} arrivals, best {args.k} cars) | p50 | p95 | max | mean |")
    print("|---|---|---|---|---|")
    print(f"| `PlanState.insert` into a plan of {OPEN_LEGS}→{legs_now} legs | "
          f"{percentile(latencies, 50) * 1000:.1f} ms | {percentile(latencies, 95) * 1000:.1f} ms | "
          f"{latencies[-1] * 1000:.1f} ms | {sum(latencies) / len(latencies) * 1000:.1f} ms |")
    print(f"\narrivals: {dict(outcomes)}; plan after them: {served} legs served, {unserved} left "
          f"out, checker: {bad} violations")

    # 3. the full re-plan: from nothing (construction only), and from the final plan
    arrived = [*open_trips, *arrivals]
    t0 = time.perf_counter()
    scratch = build_plan(problem, only=arrived)
    scratch_s = time.perf_counter() - t0
    scratch_cost = plan_cost(PlanState(problem, scratch.routes)) - _penalty(problem, waiting)
    scratch_bad, scratch_served, scratch_left = _verify(problem, scratch.routes, waiting)
    before = plan_cost(state) - _penalty(problem, waiting)
    t0 = time.perf_counter()
    outcome = replan(problem, PlanResult(dict(state.routes), {}), time_limit_s=args.replan_s,
                     seed=args.seed, only=arrived)
    replan_s = time.perf_counter() - t0
    after = outcome.cost - _penalty(problem, waiting)
    routes = outcome.result.routes
    bad, served, unserved = _verify(problem, routes, waiting)
    print("\n| full re-plan of every arrived trip | limit | time | cost before | cost after | served legs | left out | checker |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| from nothing: `build_plan` (regret-2) | — | {scratch_s:.2f} s | — | "
          f"{scratch_cost / 100:,.2f} | {scratch_served} | {scratch_left} | {scratch_bad} violations |")
    print(f"| warm start: `replan` ({outcome.solver}) | {args.replan_s:g} s | {replan_s:.2f} s | "
          f"{before / 100:,.2f} | {after / 100:,.2f} | {served} | {unserved} | {bad} violations |")


def _penalty(problem, request_ids: set[str]) -> int:
    by_id = problem.request_by_id
    return sum(problem.unserved_penalty.of(by_id[rid].priority) for rid in request_ids)


def _only(result: PlanResult, open_trips: list[str], trips) -> PlanResult:  # noqa: ANN001
    """The plan with reasons only for the open trips (the rest are not there yet)."""
    ids = {leg.id for t in open_trips for leg in trips[t]}
    return PlanResult(result.routes, {k: v for k, v in result.reasons.items() if k in ids})


if __name__ == "__main__":
    main()
