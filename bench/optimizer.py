"""All the optimizer's tables in one run (issue #6). Prints figures; not a test.

    .venv/bin/python bench/optimizer.py                                   # everything, defaults
    .venv/bin/python bench/optimizer.py --sections darp --darp-time-limit 10 --darp-seven
    .venv/bin/python bench/optimizer.py --sections day online --day-days 2 --day-time-limit 10

Sections, one after another (never two benchmarks at once: the machine has 2 cores), each the
script of its own, run as it would be alone:

- darp: bench/optimizer_darp.py — Cordeau's a-series through `optimizer.solve.solve`, gaps to
  the optimum (goal: mean ≤ 1 %, max ≤ 3 %);
- day: bench/optimizer_day.py — a Wuhan-circle day, optimizer against the greedy baseline
  (goal: ≥ 25 % lower cost);
- online: bench/optimizer_online.py — new request -> proposal latency with 200 cars, and the
  re-plan;
- lilim: Li & Lim PDPTW with VROOM and PyVRP side by side — not yet (a later task).

Exit status: 1 when a section fails (e.g. a checker violation), else 0.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = ("darp", "day", "online", "lilim")


def _commands(args: argparse.Namespace) -> dict[str, list[str] | None]:
    darp = [str(HERE / "optimizer_darp.py"), "--time-limit", str(args.darp_time_limit)]
    if args.darp_seven:
        darp.append("--seven")
    if args.darp_instances:
        darp += ["--instances", *args.darp_instances]
    day = [str(HERE / "optimizer_day.py"), "--days", str(args.day_days),
           "--time-limit", str(args.day_time_limit)]
    online = [str(HERE / "optimizer_online.py"), "--replan-s", str(args.online_replan_s)]
    return {"darp": darp, "day": day, "online": online, "lilim": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--darp-time-limit", type=float, default=30.0)
    parser.add_argument("--darp-seven", action="store_true",
                        help="only the seven instances of the 10 s comparison")
    parser.add_argument("--darp-instances", nargs="*")
    parser.add_argument("--day-days", type=int, default=5)
    parser.add_argument("--day-time-limit", type=float, default=30.0)
    parser.add_argument("--online-replan-s", type=float, default=9.5)
    args = parser.parse_args()
    commands = _commands(args)
    failed = []
    for name in args.sections:
        print(f"\n===== {name} =====", flush=True)
        command = commands[name]
        if command is None:
            print("Li & Lim PDPTW with VROOM and PyVRP side by side: not yet (a later task)")
            continue
        started = time.perf_counter()
        status = subprocess.run([sys.executable, *command], check=False).returncode
        print(f"[{name}: exit {status}, {time.perf_counter() - started:.0f} s]", flush=True)
        if status:
            failed.append(name)
    print(f"\nsections failed: {', '.join(failed)}" if failed else "\nall sections ran clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
