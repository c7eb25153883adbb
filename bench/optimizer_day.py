"""A realistic Wuhan-circle day: the optimizer against the greedy baseline dispatchers use by hand
(issue #6). Prints figures; not a test.

    .venv/bin/python bench/optimizer_day.py                     # 5 days × (greedy + 30 s)
    .venv/bin/python bench/optimizer_day.py --days 2 --time-limit 10
    .venv/bin/python bench/optimizer_day.py --vehicles 200 --requests 400

Each day is `optimizer.day_generator.generate_day(seed)` (seeds --seed, --seed + 1, …): the
scenario's cars at the nine motor pools, trip requests over the nine cities (morning peak,
afternoon wave, cross-city round trips with waits, multi-stop trips, carpool candidates,
emergencies, 机要, law enforcement). Both plans are checked by `optimizer.check` (every rule,
costs recomputed); a plan with a violation is reported and the run exits 1.

- greedy: `optimizer.greedy.greedy_dispatch` — earliest trip first, the nearest free car of an
  allowed class (the unit's own, then platform/entrusted, leased last), one trip per car at a
  time, back to the pool after each trip. Its cost is the model's (the checker's): the model
  drives a car straight from one trip to the next, so the returns to the pool are not in it;
  the "as driven" line adds them (a truer by-hand figure; the reduction is stated against
  both, the model's first, which is the harder one).
- optimizer: `optimizer.solve.solve(problem, SolveParams(time_limit_s, seed))`; "not
  available" when optimizer/solve.py does not exist yet.

Columns: cost = the routes' cost in CNY (per km, leased cars' fixed cost, overtime and over-km;
unserved penalties not included, the unserved are counted apart), km driven, the part of the
cost spent on leased cars, the share of served passengers who rode with another party on board
at some moment (shared rides), cars used, requests left out, checker violations, wall time.
Goal (issue #6): ≥ 25 % lower cost than greedy, all windows kept (0 violations), nobody left
out that greedy serves.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from optimizer.check import check  # noqa: E402
from optimizer.day_generator import generate_day  # noqa: E402
from optimizer.greedy import greedy_dispatch  # noqa: E402
from optimizer.problem import Problem  # noqa: E402
from optimizer.solution import Solution  # noqa: E402

GOAL_REDUCTION = 0.25


@dataclass(frozen=True)
class Figures:
    cost_fen: int  # the routes' cost, unserved penalties left out
    dist_m: int
    leased_fen: int
    shared_passengers: int
    served_passengers: int
    cars_used: int
    unserved: int
    violations: int
    wall_s: float

    @property
    def shared_share(self) -> float:
        return self.shared_passengers / self.served_passengers if self.served_passengers else 0.0


def shared_ride_requests(problem: Problem, solution: Solution) -> set[str]:
    """Requests that had another party on board at some moment of their ride."""
    shared: set[str] = set()
    for route in solution.routes:
        vehicle = problem.vehicle_by_id[route.vehicle_id]
        on_board = {item.request_id for item in (vehicle.state.on_board if vehicle.state else ())}
        for stop in route.stops:
            if stop.kind == "pickup":
                if on_board:  # every overlap of two rides begins at some pickup
                    shared |= on_board | {stop.request_id}
                on_board.add(stop.request_id)
            else:
                on_board.discard(stop.request_id)
    return shared


def figures(problem: Problem, solution: Solution, wall_s: float) -> Figures:
    by_id = problem.request_by_id
    left_out = {item.request_id for item in solution.unassigned}
    shared = shared_ride_requests(problem, solution)
    leased = sum(route.cost.total for route in solution.routes
                 if problem.vehicle_by_id[route.vehicle_id].source == "leased")
    return Figures(
        cost_fen=solution.cost.total - solution.cost.unserved, dist_m=solution.dist_m,
        leased_fen=leased, shared_passengers=sum(by_id[rid].passengers for rid in shared),
        served_passengers=sum(r.passengers for r in problem.requests if r.id not in left_out),
        cars_used=solution.vehicles_used, unserved=len(left_out),
        violations=len(check(problem, solution)), wall_s=wall_s)


def load_solver() -> Callable[[Problem, int, float], Solution] | None:
    """The optimizer's entry point, or None while optimizer/solve.py does not exist."""
    if importlib.util.find_spec("optimizer.solve") is None:
        return None
    module = importlib.import_module("optimizer.solve")

    def run(problem: Problem, seed: int, time_limit_s: float) -> Solution:
        return module.solve(problem, module.SolveParams(time_limit_s=time_limit_s, seed=seed))

    return run


def row(name: str, f: Figures) -> str:
    return (f"  {name:<10} {f.cost_fen / 100:>11,.2f} {f.dist_m / 1000:>9,.0f} "
            f"{f.leased_fen / 100:>10,.2f} {f.shared_share:>7.1%} {f.cars_used:>5} "
            f"{f.unserved:>8} {f.violations:>10} {f.wall_s:>8.1f}")


HEADER = (f"  {'plan':<10} {'cost CNY':>11} {'km':>9} {'leased CNY':>10} {'shared':>7} "
          f"{'cars':>5} {'unserved':>8} {'violations':>10} {'wall s':>8}")


def reduction(base_fen: int, cost_fen: int) -> float:
    return (base_fen - cost_fen) / base_fen if base_fen else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="the first day's seed")
    parser.add_argument("--vehicles", type=int, default=120)
    parser.add_argument("--requests", type=int, default=250)
    parser.add_argument("--time-limit", type=float, default=30.0, help="the optimizer's, per day")
    parser.add_argument("--greedy-only", action="store_true")
    args = parser.parse_args()
    solver = None if args.greedy_only else load_solver()
    one, five, fifteen = os.getloadavg()
    print(f"optimizer day bench: {args.days} day(s), {args.vehicles} vehicles, {args.requests} "
          f"requests, optimizer {args.time_limit:g} s/day; load average {one:.2f} {five:.2f} "
          f"{fifteen:.2f}, {os.cpu_count()} cores")
    if solver is None:
        print("optimizer: not available" + (" (--greedy-only)" if args.greedy_only
                                            else " (optimizer/solve.py does not exist yet)"))
    totals: dict[str, list[Figures]] = {"greedy": [], "as driven": [], "optimizer": []}
    failed = False
    for seed in range(args.seed, args.seed + args.days):
        started = time.perf_counter()
        problem = generate_day(seed, vehicles=args.vehicles, requests=args.requests)
        made_s = time.perf_counter() - started
        trips = len({r.id for r in problem.requests if r.follows is None})
        print(f"\nday {seed}: {problem.name}: {len(problem.requests)} requests ({trips} trips), "
              f"{len(problem.vehicles)} vehicles, {len(problem.nodes)} places; generated in "
              f"{made_s:.1f} s")
        print(HEADER)
        started = time.perf_counter()
        greedy = greedy_dispatch(problem)
        base = figures(problem, greedy.solution, time.perf_counter() - started)
        driven = Figures(greedy.as_driven_cost, greedy.as_driven_dist_m,
                         greedy.as_driven_leased_cost, base.shared_passengers, base.served_passengers,
                         base.cars_used, base.unserved, base.violations, base.wall_s)
        totals["greedy"].append(base)
        totals["as driven"].append(driven)
        print(row("greedy", base))
        print(row("as driven", driven) + "  (greedy with the returns to the pool)")
        failed |= base.violations > 0
        if solver is None:
            continue
        started = time.perf_counter()
        solution = solver(problem, seed, args.time_limit)
        optimized = figures(problem, solution, time.perf_counter() - started)
        totals["optimizer"].append(optimized)
        print(row("optimizer", optimized))
        print(f"  reduction vs greedy {reduction(base.cost_fen, optimized.cost_fen):.1%} "
              f"(vs as driven {reduction(driven.cost_fen, optimized.cost_fen):.1%}); "
              f"unserved {optimized.unserved} vs greedy's {base.unserved}")
        failed |= optimized.violations > 0
    print_summary(totals)
    return 1 if failed else 0


def print_summary(totals: dict[str, list[Figures]]) -> None:
    print(f"\nall days ({len(totals['greedy'])}):")
    print(HEADER)
    for name, days in totals.items():
        if days:
            print(row(name, _sum(days)))
    base, driven, optimized = totals["greedy"], totals["as driven"], totals["optimizer"]
    if not optimized:
        print("optimizer: not available")
        return
    per_day = [reduction(b.cost_fen, o.cost_fen) for b, o in zip(base, optimized, strict=True)]
    overall = reduction(_sum(base).cost_fen, _sum(optimized).cost_fen)
    kept = all(o.violations == 0 for o in optimized)
    more_left = sum(max(0, o.unserved - b.unserved) for b, o in zip(base, optimized, strict=True))
    print(f"cost reduction vs greedy: {overall:.1%} overall, per day min {min(per_day):.1%} max "
          f"{max(per_day):.1%} (vs as driven {reduction(_sum(driven).cost_fen, _sum(optimized).cost_fen):.1%})")
    reached = overall >= GOAL_REDUCTION and kept and more_left == 0
    print(f"goal ≥ {GOAL_REDUCTION:.0%} lower cost, all windows kept, nobody more left out: "
          f"{'reached' if reached else 'missed'} (violations: "
          f"{sum(o.violations for o in optimized)}, left out beyond greedy's: {more_left})")


def _sum(days: list[Figures]) -> Figures:
    return Figures(*(sum(getattr(d, name) for d in days) for name in (
        "cost_fen", "dist_m", "leased_fen", "shared_passengers", "served_passengers",
        "cars_used", "unserved", "violations", "wall_s")))


if __name__ == "__main__":
    sys.exit(main())
