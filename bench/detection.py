"""Detection quality (issue #5): labelled vehicle-days through the real pipeline, scored.

    .venv/bin/python bench/detection.py                     # 300 days, seed 1, ~10 min
    .venv/bin/python bench/detection.py --days 60 --seed 4  # a quick look
    .venv/bin/python bench/detection.py --offline           # the pure engine only, no servers

The labelled set (simulator/days: half violations, half clean look-alikes, every rule) is
generated from the scenario's places, lots, zones and roads; its orders, duty registrations
and holiday seals go into a fresh database (migrated and seeded as the tests do) through the
dispatch tables. Then the real processes: `fleet ingest` and `fleet rules` as children, a
private Mosquitto (`--broker mosquitto`, default: no queue limit) or the broker in
FLEET_MQTT_URL (`--broker machine`), and the days published as their terminals would send them
— with noise (jitter, spikes, gaps, duplicates, late 盲区补报 batches) — as fast as ingest takes
them (publishing never runs more than PACE_AHEAD messages ahead of what ingest accounted for).
Days go out in waves (each car's first day, then its second…) and each wave waits until the
rules worker is idle on its cars, so that a car's earlier day is judged before its next one
arrives. Then the `violations` table is compared with the labels: per rule TP/FP/FN,
precision and recall, and the ALARMs on clean days (goal: ≥ 0.98 each for R1–R9, zero).

The days lie in autumn 2026 (around 国庆); ingest's age filter is widened to take them
(FLEET_FILTER_MAX_AGE_DAYS), nothing else is changed. Needs PostgreSQL (FLEET_DATABASE_URL's
server, as admin) and Redis (FLEET_REDIS_URL); removes what it made on exit (--keep: the
database stays for a look).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    FLEET,
    Children,
    create_database,
    delete_redis_keys,
    drop_database,
    load_average,
    start_broker,
    terminate_on_sigterm,
)
from fleet.db import connect  # noqa: E402
from fleet.migrate import migrate  # noqa: E402
from fleet.scenario.load import load_scenario  # noqa: E402
from fleet.seed import seed_scenario  # noqa: E402
from fleet.stack import pick_port  # noqa: E402
from simulator.days.builder import deliveries_of  # noqa: E402
from simulator.days.catalogue import labelled_set, waves  # noqa: E402
from simulator.days.facts_store import write_facts  # noqa: E402
from simulator.days.kit import Kit  # noqa: E402
from simulator.days.model import LabelledDay  # noqa: E402
from simulator.days.noise import Delivery  # noqa: E402
from simulator.days.pipeline import Gateway, rules_idle, verdicts_of, wait_subscribed  # noqa: E402
from simulator.days.score import score, table  # noqa: E402

PACE_AHEAD = 2000          # positions published but not yet accounted for by ingest
WAVE_TIMEOUT_S = 1800


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=300, help="labelled vehicle-days (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--broker", choices=("mosquitto", "machine"), default="mosquitto")
    parser.add_argument("--offline", action="store_true", help="the pure engine only")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--show", type=int, default=40, help="mismatches listed (default 40)")
    parser.add_argument("--only", default="",
                        help="comma-separated day ids or family names of the set to run (a look at "
                             "a few days of the full set)")
    return parser.parse_args(argv)


# ---- publishing -------------------------------------------------------------------------------------

def ingest_accounted(metrics_port: int) -> int:
    """Positions ingest has finished with: stored, duplicate or refused (dead letters)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(("fleet_ingest_positions_stored_total",
                            "fleet_ingest_positions_duplicate_total", "fleet_ingest_rejected_total")):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def render_wave(kit: Kit, days: list[LabelledDay]) -> tuple[list[Delivery], list[Delivery]]:
    """The wave's terminal messages with noise, day after day (rendered before publishing, so
    that the publishing pace is the pipeline's): those sent in time, and the 盲区补报 batches
    held back until the rest has been judged."""
    on_time: list[Delivery] = []
    late: list[Delivery] = []
    for day in days:
        now, later = deliveries_of(kit, day)
        on_time += now
        late += later
    return on_time, late


async def publish(gateway: Gateway, deliveries: list[Delivery], metrics_port: int,
                  base: int) -> None:
    """Message by message, never PACE_AHEAD positions ahead of ingest; until ingest has
    accounted for every position (stored, duplicate or dead letter)."""
    accounted = ingest_accounted(metrics_port) - base
    for delivery in deliveries:
        gateway.send(delivery)
        if gateway.positions - accounted > PACE_AHEAD:
            while gateway.positions - accounted > PACE_AHEAD // 2:
                await asyncio.sleep(0.05)
                accounted = ingest_accounted(metrics_port) - base
    deadline = time.monotonic() + WAVE_TIMEOUT_S
    while ingest_accounted(metrics_port) - base < gateway.positions:
        if time.monotonic() > deadline:
            raise TimeoutError("ingest did not take every position")
        await asyncio.sleep(0.2)


# ---- the run -----------------------------------------------------------------------------------------

async def amain(args: argparse.Namespace) -> int:
    started = time.monotonic()
    kit = Kit(load_scenario())
    days = labelled_set(kit, args.days, args.seed)
    if args.only:
        wanted = set(args.only.split(","))
        days = [d for d in days if d.id in wanted or d.family in wanted]
    built_s = time.monotonic() - started
    print(f"detection bench: {len(days)} labelled vehicle-days ({sum(d.clean for d in days)} clean; "
          f"{sum(not d.acc_wire for d in days)} with an OBD terminal without ACC, "
          f"{sum(d.held is not None for d in days)} with a batch held back until judged), "
          f"{len({d.family for d in days})} families, {len({d.plate for d in days})} cars, "
          f"seed {args.seed}, built in {built_s:.0f} s; load {load_average()}", flush=True)
    if args.offline:
        return _offline(kit, days, args)
    pid = os.getpid()
    db_name, prefix, root = f"fleet_detect_{pid}", f"detect{pid}", f"detect{pid}/v1"
    workdir = Path(tempfile.mkdtemp(prefix="detect-"))
    children = Children()
    failed = True
    try:
        url = await create_database(db_name)
        conn = await connect(url)
        await migrate(conn)
        await seed_scenario(conn, kit.scenario, demo_password=None)
        async with conn.transaction():
            requests = await write_facts(conn, days)
        setup_s = time.monotonic() - started - built_s
        if args.broker == "mosquitto":
            mqtt_url, broker = start_broker("mosquitto", children, workdir, inflight=1000)
        else:
            mqtt_url = os.environ.get("FLEET_MQTT_URL", "mqtt://127.0.0.1:1883")
            broker = f"the machine's broker ({mqtt_url})"
        metrics_port = pick_port(0)
        env = {**os.environ, "FLEET_DATABASE_URL": url, "FLEET_MQTT_URL": mqtt_url,
               "FLEET_REDIS_URL": os.environ.get("FLEET_REDIS_URL", "redis://127.0.0.1:6379/0"),
               "FLEET_MQTT_TOPIC_ROOT": root, "FLEET_REDIS_PREFIX": prefix,
               "FLEET_INGEST_CLIENT_ID": f"ingest-{prefix}", "FLEET_DATA_DIR": str(workdir),
               "FLEET_INGEST_METRICS_PORT": str(metrics_port), "FLEET_FILTER_MAX_AGE_DAYS": "400",
               "FLEET_LOG_LEVEL": "INFO", "FLEET_DEMO": "true"}
        children.start("ingest", [FLEET, "ingest"], env=env, log=workdir / "ingest.log")
        children.start("rules", [FLEET, "rules"], env=env, log=workdir / "rules.log")
        gateway = Gateway(mqtt_url, root)
        await wait_subscribed(conn, gateway, kit.vehicle(days[0].plate).device.uid)
        vehicle_ids = {r["plate"]: r["id"] for r in await conn.fetch("SELECT id, plate FROM vehicles")}
        base = ingest_accounted(metrics_port)
        print(f"database, seed and facts in {setup_s:.0f} s; broker: {broker}", flush=True)
        rendered_s = 0.0
        for i, wave in enumerate(waves(days), start=1):
            t = time.monotonic()
            on_time, late = render_wave(kit, wave)
            rendered_s += time.monotonic() - t
            cars = [vehicle_ids[d.plate] for d in wave]
            t, positions_before = time.monotonic(), gateway.positions
            await publish(gateway, on_time, metrics_port, base)
            ingested = time.monotonic()
            await rules_idle(conn, cars)
            idle = time.monotonic()
            count = gateway.positions - positions_before
            print(f"wave {i}: {len(wave)} days, {count:,} positions published and taken by ingest "
                  f"in {ingested - t:.0f} s ({count / max(ingested - t, 1e-3):,.0f}/s), "
                  f"rules worker idle {idle - ingested:.0f} s later", flush=True)
            if late:
                before = gateway.positions
                await publish(gateway, late, metrics_port, base)
                await rules_idle(conn, cars)
                print(f"        then {gateway.positions - before:,} positions of "
                      f"{sum(d.held is not None for d in wave)} days held back until judged "
                      f"(盲区补报 hours late): in, and judged again, in "
                      f"{time.monotonic() - idle:.0f} s", flush=True)
        gateway.close()
        verdicts, alarms, states = await verdicts_of(conn, days, requests)
        result = score(days, verdicts, alarms)
        total_s = time.monotonic() - started
        print()
        print(table(result))
        _mismatches(result, args.show)
        stored = await conn.fetchval("SELECT count(*) FROM positions")
        dead = dict(await conn.fetch("SELECT reason, count(*) FROM dead_letters GROUP BY 1 ORDER BY 2 DESC"))
        print(f"\npositions published {gateway.positions:,} in {gateway.messages:,} MQTT messages; "
              f"stored {stored:,}; dead letters {dead}")
        print("violations by rule, severity, state:",
              ", ".join(f"{r}/{s}/{st} {n}" for (r, s, st), n in sorted(states.items())))
        print(f"time: {total_s:.0f} s in all (labelled set {built_s:.0f} s, database {setup_s:.0f} s, "
              f"rendering with noise {rendered_s:.0f} s, pipeline "
              f"{total_s - built_s - setup_s - rendered_s:.0f} s); load {load_average()}")
        await conn.close()
        failed = False
        return 0
    finally:
        children.stop_all()
        if not args.keep:
            await drop_database(db_name)
            delete_redis_keys(os.environ.get("FLEET_REDIS_URL", "redis://127.0.0.1:6379/0"), prefix)
        if failed:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _mismatches(result, show: int) -> None:  # noqa: ANN001
    obd = [d for d in {id(x[0]): x[0] for x in result.mismatches}.values() if not d.acc_wire]
    kinds = f"{len(obd)} of them on OBD terminals (no ACC wire)" if obd else "none on OBD terminals"
    if not result.mismatches:
        print("\nno mismatch")
        return
    by_family = Counter(day.family for day, *_ in result.mismatches)
    print(f"\nmismatches: {len(result.mismatches)} on "
          f"{len({day.id for day, *_ in result.mismatches})} days, {kinds} "
          f"(by family: " + ", ".join(f"{f} {n}" for f, n in by_family.most_common()) + ")")
    for day, rule, expected, got in result.mismatches[:show]:
        terminal = "ACC" if day.acc_wire else "OBD"
        held = ", late batch" if day.held else ""
        print(f"  {day.id:<32} {day.plate} {day.day} {terminal}{held} {rule}: "
              f"expected {expected}, found {got}")


def _offline(kit: Kit, days: list[LabelledDay], args: argparse.Namespace) -> int:
    from simulator.days.offline import World, judge

    started = time.monotonic()
    world = World(kit)
    now_ms = int(time.time() * 1000)
    verdicts, alarms = {}, {}
    for day in days:
        judged = judge(world, day, now_ms)
        verdicts[day.id] = judged.found
        alarms[day.id] = sum(f.severity == "alarm" for f in judged.findings)
    result = score(days, verdicts, alarms)
    print(f"\noffline (pure engine, no servers), judged in {time.monotonic() - started:.0f} s\n")
    print(table(result))
    _mismatches(result, args.show)
    return 0


def main() -> None:
    args = parse_args()
    terminate_on_sigterm()
    try:
        sys.exit(asyncio.run(amain(args)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
