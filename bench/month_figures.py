"""The seeded month: generate ~3,000 trip requests over the nine cities into a fresh database,
then time the monthly figures and statements. Prints figures; asserts nothing.

    .venv/bin/python bench/month_figures.py                       # 2026-11, 3,000 requests
    .venv/bin/python bench/month_figures.py --requests 6000 --runs 50 --keep

A fresh database on the server in FLEET_DATABASE_URL (default the local PostgreSQL), migrated
and seeded with the scenario as the tests do (fleet.migrate.migrate, fleet.seed.seed_scenario),
then `fleet.month_generator.generate_month` + `fleet.month_seed.seed_month` (timed apart:
generating in Python, writing and pricing in PostgreSQL). Printed: the counts (requests by state
and type, orders by source, carpooled, rental, emergencies, cross-city), the month's figures per
city, each rental company's statement total, and for every figures/statements query (as the API
runs them, through the platform's pool, scope = the province) the median and max of --runs
warm calls after one untimed call.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import load_average, server_url  # noqa: E402
from dispatch.billing_store import settle_month  # noqa: E402
from dispatch.months import Month  # noqa: E402
from fleet.db import connect, create_pool, with_database  # noqa: E402
from fleet.migrate import migrate  # noqa: E402
from fleet.month_generator import generate_month  # noqa: E402
from fleet.month_seed import seed_month  # noqa: E402
from fleet.scenario.load import load_scenario  # noqa: E402
from fleet.seed import seed_scenario  # noqa: E402
from web.queries import figures, statements  # noqa: E402


async def _admin(sql: str) -> None:
    conn = await connect(with_database(server_url(), "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _table(rows: list[list], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths, strict=False))  # noqa: E731
    return "\n".join([line(headers), *(line(r) for r in rows)])


async def _counts(conn) -> None:
    print("\nrequests by state:", dict(await conn.fetch(
        "SELECT state, count(*) FROM trip_requests GROUP BY 1 ORDER BY 2 DESC")))
    print("requests by type:", dict(await conn.fetch(
        "SELECT trip_type, count(*) FROM trip_requests GROUP BY 1 ORDER BY 2 DESC")))
    print("orders by state:", dict(await conn.fetch(
        "SELECT state, count(*) FROM dispatch_orders GROUP BY 1 ORDER BY 2 DESC")))
    print("orders by car source:", dict(await conn.fetch(
        """SELECT coalesce(v.source, '(cancelled)'), count(*) FROM dispatch_orders d
           LEFT JOIN vehicles v ON v.id = d.vehicle_id GROUP BY 1 ORDER BY 2 DESC""")))
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM dispatch_orders WHERE price_plan_id IS NOT NULL) AS rental,
                  (SELECT count(*) FROM (SELECT order_id FROM dispatch_order_requests GROUP BY 1
                                         HAVING count(*) > 1) x) AS carpooled,
                  (SELECT count(*) FROM trip_requests WHERE trip_type = 'emergency') AS emergencies,
                  (SELECT count(*) FROM trip_requests WHERE emergency_deadline IS NOT NULL
                     AND (emergency_approved IS NOT TRUE OR EXISTS (
                         SELECT 1 FROM trip_request_events e WHERE e.request_id = trip_requests.id
                         AND e.event = 'approve' AND e.at > emergency_deadline))) AS r14,
                  (SELECT count(*) FROM trip_requests r WHERE EXISTS (
                     SELECT 1 FROM jsonb_array_elements(r.destinations) d
                     WHERE d->>'city_code' <> r.origin->>'city_code')) AS cross_city,
                  (SELECT count(*) FROM trips) AS trips""")
    print("rental orders {rental}, carpooled orders {carpooled}, emergencies {emergencies} "
          "(approved late or not yet: {r14}), cross-city requests {cross_city}, GNSS trips {trips}"
          .format(**row))


def _print_figures(data: dict) -> None:
    rows = [[r["name_en"], r["vehicles"], r["trips"], f"{r['gnss_km']:.0f}", f"{r['billed_km']:.0f}",
             f"{r['service_h']:.0f}", f"{(r['utilisation'] or 0) * 100:.1f}%",
             f"{r['fuel_l_per_100km'] or 0:.1f}", f"{r['kwh_per_100km'] or 0:.1f}",
             f"{r['cost_cny']:.0f}", f"{r['cost_per_km'] or 0:.2f}", f"{r['rental_cny']:.0f}",
             f"{(r['nev_share'] or 0) * 100:.0f}%", r["approved_requests"],
             f"{(r['fulfilment_rate'] or 0) * 100:.1f}%", f"{r['response_median_min'] or 0:.0f}"]
            for r in [*data["rows"], data["totals"]]]
    print(f"\nfigures {data['month']} per city ({data['working_days']} working days):")
    print(_table(rows, ["city", "cars", "trips", "GNSS km", "billed km", "hours", "util",
                        "L/100", "kWh/100", "cost CNY", "CNY/km", "rental CNY", "NEV",
                        "approved", "满足率", "resp min"]))
    for kind, ranking in data["ranking"].items():
        best = ", ".join(f"{r['plate']} {r['per_100km']:.1f}" for r in ranking[:3])
        print(f"{kind} ranking: {len(ranking)} cars; best {best}")


async def _time(name: str, runs: int, call) -> None:
    await call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {name:<32} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")


async def run(args: argparse.Namespace) -> None:
    name = f"bench_month_{uuid.uuid4().hex[:8]}"
    await _admin(f"CREATE DATABASE {name}")
    url = with_database(server_url(), name)
    try:
        conn = await connect(url)
        await migrate(conn)
        await seed_scenario(conn, load_scenario(), demo_password=None)
        month = Month.parse(args.month)
        started = time.perf_counter()
        plan = generate_month(load_scenario(), month, args.requests, args.seed)
        generated = time.perf_counter()
        counts = await seed_month(conn, plan)
        written = time.perf_counter()
        await conn.execute("ANALYZE")
        print(f"generated {args.requests} requests for {month.text} (seed {args.seed}) in "
              f"{generated - started:.1f} s; written and priced in {written - generated:.1f} s "
              f"({counts}); load {load_average()}")
        await _counts(conn)
        root = await conn.fetchval("SELECT id FROM organisations WHERE parent_id IS NULL")
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            _print_figures(await figures.figures(pool, root, month, "city"))
            rental = await statements.rental_statement(pool, month, root, None)
            print("\nrental statements:")
            print(_table([[c["company"]["name_zh"], c["totals"]["orders"], f"{c['totals']['billed_km']:.0f}",
                           f"{c['totals']['fee_cny']:.2f}"] for c in rental["companies"]],
                         ["company", "orders", "billed km", "total CNY"]))
            print(f"\nquery times ({args.runs} warm runs each, scope = province):")
            for by in ("city", "unit", "vehicle", "company"):
                await _time(f"figures by {by}", args.runs,
                            lambda by=by: figures.figures(pool, root, month, by))
            await _time("rental statement (all companies)", args.runs,
                        lambda: statements.rental_statement(pool, month, root, None))
            await _time("unit statement", args.runs, lambda: statements.unit_statement(pool, month, root, None))
            async with pool.acquire() as c, c.transaction():
                started = time.perf_counter()
                run_ = await settle_month(c, month, root, None, None)
                print(f"  billing run (settle the month)   {(time.perf_counter() - started) * 1000:7.1f} ms: "
                      f"{run_.orders_settled} orders, {run_.requests_settled} requests, "
                      f"total {run_.total_cny} CNY (rolled back)")
                raise _Rollback
        except _Rollback:
            pass
        finally:
            await pool.close()
            await conn.close()
    finally:
        if not args.keep:
            await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            print(f"kept database {name}")


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
