"""The Cordeau (2006) dial-a-ride a-series through the product solver (issue #6). Prints figures;
not a test.

    .venv/bin/python bench/optimizer_darp.py                          # 24 instances × 30 s
    .venv/bin/python bench/optimizer_darp.py --time-limit 10 --instances a2-20 a3-36 a4-40 \\
        a5-60 a6-72 a7-70 a8-96

Instances from FLEET_BENCHMARKS_DIR, else <repo>/../shared/benchmarks (optimizer.benchmarks),
solved one after another in this process by `optimizer.solve.solve` (seed --seed). Every
solution goes through the independent checker (`optimizer.check`: every rule, costs
recomputed); its cost is the exact travel distance in the benchmark's own units (the reader's
`true_distance`, double precision) against the best known (proven optimal) cost.
Goal (issue #6): mean gap ≤ 1.0 %, max ≤ 3 %, every solution checker-clean.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from optimizer.benchmarks import benchmarks_dir, cordeau  # noqa: E402
from optimizer.check import check  # noqa: E402
from optimizer.solve import SolveParams, solve  # noqa: E402

GOAL_MEAN_GAP, GOAL_MAX_GAP = 1.0, 3.0  # percent
SEVEN = ("a2-20", "a3-36", "a4-40", "a5-60", "a6-72", "a7-70", "a8-96")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--instances", nargs="*", help="names (default: the whole a-series)")
    parser.add_argument("--seven", action="store_true", help=f"only {' '.join(SEVEN)}")
    args = parser.parse_args()
    root = benchmarks_dir() / "cordeau2006_darp"
    if not root.is_dir():
        print(f"no Cordeau instances at {root} (set FLEET_BENCHMARKS_DIR)")
        return 2
    bks = cordeau.read_bks(root / "bks.csv")
    names = args.instances or (list(SEVEN) if args.seven else
                               sorted((n for n in bks if n.startswith("a")),
                                      key=lambda n: (int(n[1:].split("-")[0]), n)))
    one, five, fifteen = os.getloadavg()
    print(f"optimizer DARP bench: {len(names)} Cordeau instance(s), solve() {args.time_limit:g} s "
          f"each, seed {args.seed}; load average {one:.2f} {five:.2f} {fifteen:.2f}, "
          f"{os.cpu_count()} cores")
    print(f"{'instance':<10} {'BKS':>9} {'cost':>9} {'gap %':>7} {'time s':>7} {'unserved':>8} "
          f"{'violations':>10} {'check':>5}")
    gaps, clean = [], True
    for name in names:
        instance = cordeau.read_instance(root / "instances" / name)
        started = time.perf_counter()
        solution = solve(instance.problem, SolveParams(time_limit_s=args.time_limit,
                                                       seed=args.seed))
        wall_s = time.perf_counter() - started
        violations = check(instance.problem, solution)
        cost = instance.true_distance(solution)
        gap = 100.0 * (cost - bks[name]) / bks[name]
        ok = not violations and not solution.unassigned
        clean &= ok
        gaps.append(gap)
        print(f"{name:<10} {bks[name]:>9.2f} {cost:>9.2f} {gap:>7.2f} {wall_s:>7.1f} "
              f"{len(solution.unassigned):>8} {len(violations):>10} {'OK' if ok else 'FAIL':>5}",
              flush=True)
    mean_gap, max_gap = sum(gaps) / len(gaps), max(gaps)
    print(f"mean gap {mean_gap:.2f} %, max gap {max_gap:.2f} %, checker-clean "
          f"{'all' if clean else 'NOT all'}")
    reached = mean_gap <= GOAL_MEAN_GAP and max_gap <= GOAL_MAX_GAP and clean
    print(f"goal mean ≤ {GOAL_MEAN_GAP:g} %, max ≤ {GOAL_MAX_GAP:g} %, all checker-clean: "
          f"{'reached' if reached else 'missed'}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
