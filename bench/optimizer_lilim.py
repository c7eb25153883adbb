"""Li & Lim PDPTW (100 tasks, 56 instances): our solver, VROOM and PyVRP side by side (issue #6).
Prints figures; not a test.

    .venv/bin/pip install -e '.[bench]'                  # pyvroom, pyvrp (benchmark only)
    .venv/bin/python bench/optimizer_lilim.py              # 56 instances × 30 s, 2 processes
    .venv/bin/python bench/optimizer_lilim.py --time-limit 10 --instances lc101 lr104 lrc201

The objective is hierarchical, vehicles first, then distance (FORMAT.md of the instances): a
fixed cost per vehicle above any total distance, for all three. Each solver gets the same
integer problem (optimizer.benchmarks.lilim: 1000 × Euclidean, times rounded up) and the same
time budget on one core each: ours `solve()` with `--time-limit`, PyVRP's genetic search with
MaxRuntime(--time-limit), VROOM at exploration level 5 with that timeout (it stops on its
own, long before: its time is shown). Every answer, ours or theirs, is built into our Solution
and goes through our independent checker; distances are recomputed in double precision and
compared with the SINTEF best known (BKS). A distance gap means something only at the best
known vehicle count; it is averaged over those instances.

`--jobs` runs that many solver processes at once (default 2, one per core on this machine):
a process runs one solver on one instance at a time, so each still has one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from optimizer.benchmarks import benchmarks_dir, lilim  # noqa: E402

GOAL_VEHICLE_SHARE, GOAL_GAP = 0.80, 1.0  # at the best known vehicle count; percent
SOLVERS = ("ours", "vroom", "pyvrp")


@dataclass(frozen=True)
class Outcome:
    solver: str
    instance: str
    vehicles: int | None  # None: no answer (library missing, nothing feasible)
    distance: float
    wall_s: float
    clean: bool  # served everything and our checker found nothing
    note: str = ""


def run_one(solver: str, path: str, time_limit_s: float, seed: int) -> Outcome:
    from optimizer.check import check
    from optimizer.evaluate import evaluate_routes
    from optimizer.solve import SolveParams, solve

    instance = lilim.read_instance(path)
    started = time.perf_counter()
    try:
        if solver == "ours":
            solution = solve(instance.problem, SolveParams(time_limit_s=time_limit_s, seed=seed))
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import lilim_rivals

            if solver == "vroom":
                nodes = lilim_rivals.vroom_routes(instance, time_limit_s)
            else:
                nodes = lilim_rivals.pyvrp_routes(instance, time_limit_s, seed)
            if not nodes:
                return Outcome(solver, instance.name, None, 0.0,
                               time.perf_counter() - started, False, "no feasible answer")
            solution = evaluate_routes(instance.problem, instance.routes_from_nodes(nodes))
    except ImportError as exc:
        return Outcome(solver, instance.name, None, 0.0, 0.0, False, f"n/a ({exc.name})")
    wall_s = time.perf_counter() - started
    violations = check(instance.problem, solution)
    vehicles = sum(1 for route in solution.routes if route.stops)
    clean = not violations and not solution.unassigned
    note = "" if clean else f"{len(violations)} violations, {len(solution.unassigned)} unserved"
    return Outcome(solver, instance.name, vehicles, instance.true_distance(solution), wall_s,
                   clean, note)


def better(a: Outcome, b: Outcome) -> int:
    """1 if a beats b (fewer vehicles, then shorter by more than 0.01 %), -1 if b beats a."""
    if a.vehicles is None or not a.clean:
        return 0 if b.vehicles is None or not b.clean else -1
    if b.vehicles is None or not b.clean:
        return 1
    if a.vehicles != b.vehicles:
        return 1 if a.vehicles < b.vehicles else -1
    if abs(a.distance - b.distance) <= 1e-4 * b.distance:
        return 0
    return 1 if a.distance < b.distance else -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="solver processes at once")
    parser.add_argument("--instances", nargs="*", help="names (default: all 56)")
    parser.add_argument("--solvers", nargs="*", choices=SOLVERS, default=list(SOLVERS))
    args = parser.parse_args()
    root = benchmarks_dir() / "lilim_pdptw100"
    if not root.is_dir():
        print(f"no Li & Lim instances at {root} (set FLEET_BENCHMARKS_DIR)")
        return 2
    bks = lilim.read_bks(root / "bks_sintef_snapshot_2024-02-02.csv")
    names = args.instances or sorted(bks)
    one, five, fifteen = os.getloadavg()
    print(f"optimizer Li & Lim bench: {len(names)} instance(s), {' / '.join(args.solvers)}, "
          f"{args.time_limit:g} s each on one core, seed {args.seed}, {args.jobs} process(es); "
          f"load average {one:.2f} {five:.2f} {fifteen:.2f}, {os.cpu_count()} cores")
    tasks = [(solver, str(root / "instances" / f"{name}.txt")) for name in names
             for solver in args.solvers]
    results: dict[tuple[str, str], Outcome] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, solver, path, args.time_limit, args.seed)
                   for solver, path in tasks]
        for future in futures:
            outcome = future.result()
            results[(outcome.solver, outcome.instance)] = outcome
    print_table(names, args.solvers, results, bks)
    return 0 if all(o.clean for o in results.values() if o.solver == "ours") else 1


def print_table(names: list[str], solvers: list[str], results: dict[tuple[str, str], Outcome],
                bks: dict[str, lilim.LiLimBks]) -> None:
    head = f"{'instance':<9} {'BKS':>12}"
    for solver in solvers:
        head += f" | {solver:>5} {'veh':>3} {'dist':>8} {'gap %':>6} {'s':>5}"
    print(head)
    for name in names:
        best = bks[name]
        line = f"{name:<9} {best.vehicles:>3} {best.distance:>8.2f}"
        for solver in solvers:
            o = results[(solver, name)]
            if o.vehicles is None:
                line += f" | {o.note:>32}"
                continue
            gap = 100.0 * (o.distance - best.distance) / best.distance
            mark = "" if o.clean else "!"
            line += (f" | {mark:>5} {o.vehicles:>3} {o.distance:>8.2f} {gap:>6.2f} "
                     f"{o.wall_s:>5.1f}")
        print(line)
    print()
    for solver in solvers:
        answered = [results[(solver, n)] for n in names if results[(solver, n)].vehicles is not None]
        if not answered:
            print(f"{solver:>5}: no answers ({results[(solver, names[0])].note})")
            continue
        at_bks = [o for o in answered if o.clean and o.vehicles == bks[o.instance].vehicles]
        exact = [o for o in at_bks if o.distance <= bks[o.instance].distance * (1 + 1e-6)]
        gaps = [100.0 * (o.distance - bks[o.instance].distance) / bks[o.instance].distance
                for o in at_bks]
        fewer = sum(1 for o in answered if o.clean and o.vehicles < bks[o.instance].vehicles)
        dirty = sum(1 for o in answered if not o.clean)
        mean_gap = sum(gaps) / len(gaps) if gaps else float("nan")
        mean_s = sum(o.wall_s for o in answered) / len(answered)
        print(f"{solver:>5}: BKS vehicle count on {len(at_bks)}/{len(names)} "
              f"({100.0 * len(at_bks) / len(names):.0f} %), best known matched on "
              f"{len(exact)}/{len(names)}, mean distance gap {mean_gap:.2f} % there "
              f"(max {max(gaps, default=float('nan')):.2f} %), fewer vehicles than BKS "
              f"{fewer}, not checker-clean {dirty}, mean time {mean_s:.1f} s")
    if "ours" in solvers:
        for rival in (s for s in solvers if s != "ours"):
            score = [better(results[("ours", n)], results[(rival, n)]) for n in names]
            print(f"ours vs {rival}: better on {score.count(1)}, equal on {score.count(0)}, "
                  f"worse on {score.count(-1)} of {len(names)}")
        ours = [results[("ours", n)] for n in names]
        at_bks = [o for o in ours if o.clean and o.vehicles == bks[o.instance].vehicles]
        gaps = [100.0 * (o.distance - bks[o.instance].distance) / bks[o.instance].distance
                for o in at_bks]
        share = len(at_bks) / len(names)
        reached = share >= GOAL_VEHICLE_SHARE and gaps and sum(gaps) / len(gaps) <= GOAL_GAP
        print(f"goal ≥ {100 * GOAL_VEHICLE_SHARE:.0f} % at the BKS vehicle count, mean gap "
              f"≤ {GOAL_GAP:g} % there: {'reached' if reached else 'missed'}")


if __name__ == "__main__":
    sys.exit(main())
