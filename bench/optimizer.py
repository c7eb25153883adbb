"""All the optimizer's tables in one run (issue #6). Prints figures; not a test.

    .venv/bin/python bench/optimizer.py                                   # everything, defaults
    .venv/bin/python bench/optimizer.py --sections darp --darp-time-limit 10 --darp-seven
    .venv/bin/python bench/optimizer.py --sections day online --day-days 2 --day-time-limit 10

Sections, one after another (never two benchmarks at once: the machine has 2 cores), each the
script of its own, run as it would be alone:

- darp: bench/optimizer_darp.py — Cordeau's a-series through `optimizer.solve.solve`, gaps to
  the optimum (goal: mean ≤ 1 %, max ≤ 3 %), the ALNS beside the plain OR-Tools model
  (`--darp-engines`), two processes of one core each (`--darp-jobs`);
- day: bench/optimizer_day.py — a Wuhan-circle day, optimizer against the greedy baseline
  (goal: ≥ 25 % lower cost);
- online: bench/optimizer_online.py — new request -> proposal latency with 200 cars, and the
  re-plan;
- lilim: bench/optimizer_lilim.py — Li & Lim PDPTW, our solver with VROOM and PyVRP side by
  side (the `bench` extra: pip install -e '.[bench]'); its --jobs processes (default 2)
  run one solver each, one core each.

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


def _commands(args: argparse.Namespace) -> dict[str, list[str]]:
    darp = [str(HERE / "optimizer_darp.py"), "--time-limit", str(args.darp_time_limit),
            "--jobs", str(args.darp_jobs), "--engines", *args.darp_engines]
    if args.darp_seven:
        darp.append("--seven")
    if args.darp_instances:
        darp += ["--instances", *args.darp_instances]
    day = [str(HERE / "optimizer_day.py"), "--days", str(args.day_days),
           "--time-limit", str(args.day_time_limit)]
    online = [str(HERE / "optimizer_online.py"), "--replan-s", str(args.online_replan_s)]
    lilim = [str(HERE / "optimizer_lilim.py"), "--time-limit", str(args.lilim_time_limit),
             "--jobs", str(args.lilim_jobs)]
    if args.lilim_instances:
        lilim += ["--instances", *args.lilim_instances]
    return {"darp": darp, "day": day, "online": online, "lilim": lilim}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--darp-time-limit", type=float, default=30.0)
    parser.add_argument("--darp-seven", action="store_true",
                        help="only the seven instances of the 10 s comparison")
    parser.add_argument("--darp-instances", nargs="*")
    parser.add_argument("--darp-engines", nargs="*", default=["alns", "ortools"],
                        help="ours first, then the OR-Tools baseline, in the same run")
    parser.add_argument("--darp-jobs", type=int, default=2)
    parser.add_argument("--day-days", type=int, default=5)
    parser.add_argument("--day-time-limit", type=float, default=30.0)
    parser.add_argument("--online-replan-s", type=float, default=9.5)
    parser.add_argument("--lilim-time-limit", type=float, default=30.0)
    parser.add_argument("--lilim-jobs", type=int, default=2)
    parser.add_argument("--lilim-instances", nargs="*")
    args = parser.parse_args()
    commands = _commands(args)
    failed = []
    for name in args.sections:
        print(f"\n===== {name} =====", flush=True)
        command = commands[name]
        started = time.perf_counter()
        status = subprocess.run([sys.executable, *command], check=False).returncode
        print(f"[{name}: exit {status}, {time.perf_counter() - started:.0f} s]", flush=True)
        if status:
            failed.append(name)
    print(f"\nsections failed: {', '.join(failed)}" if failed else "\nall sections ran clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
