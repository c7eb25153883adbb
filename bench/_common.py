"""Helpers shared by bench/ingest.py and bench/playback.py: child processes that never outlive
the benchmark, a throw-away database, a private broker, Redis keys by prefix, percentiles.

Not a test helper and not platform code: the benchmarks drive the platform's own commands
(`fleet migrate`, `fleet ingest`, `fleet web`, `fleet user`) and import only what a client of
the platform would.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from fleet.db import with_database
from fleet.stack import die_with_parent, pick_port, wait_for_tcp

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
FLEET = str(VENV_BIN / "fleet")
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    """Where to create the throw-away database (FLEET_DATABASE_URL's server, as admin)."""
    return os.environ.get("FLEET_DATABASE_URL") or DEFAULT_SERVER_URL


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def terminate_on_sigterm() -> None:
    """SIGTERM behaves like Ctrl-C: the `finally` blocks clean up."""

    def handler(signum, frame):  # noqa: ANN001, ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


class Children:
    """Child processes in their own sessions (a Ctrl-C reaches only the benchmark, which then
    stops them in reverse order) that also die if the benchmark is killed (PR_SET_PDEATHSIG)."""

    def __init__(self) -> None:
        self._procs: list[tuple[str, subprocess.Popen]] = []

    def start(
        self, name: str, args: list[str], *, env: dict[str, str] | None = None, log: Path
    ) -> subprocess.Popen:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                args,
                env=env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - must run in the child
            )
        self._procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs = [(n, p) for n, p in self._procs if p is not proc]
        return proc.returncode

    def stop_all(self) -> None:
        for _name, proc in reversed(list(self._procs)):
            self.stop(proc, timeout_s=15)


def run_fleet(args: list[str], env: dict[str, str]) -> str:
    """One `fleet` command to completion (migrate, user ...); its output, or SystemExit."""
    done = subprocess.run(
        [FLEET, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"fleet {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


async def create_database(name: str) -> str:
    admin = await asyncpg.connect(with_database(server_url(), "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(server_url(), name)


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(with_database(server_url(), "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def database_exists(name: str) -> bool:
    admin = await asyncpg.connect(with_database(server_url(), "postgres"))
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


def delete_redis_keys(redis_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        deleted = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += client.delete(*batch)
                batch = []
        if batch:
            deleted += client.delete(*batch)
        return deleted
    finally:
        client.close()


MOSQUITTO_CONF = """\
# generated by bench/ingest.py for one run; deleted afterwards
listener {port} 127.0.0.1
allow_anonymous true
persistence false
# no per-client queue limit (the default 1000 drops QoS 1 messages of a busy session)
max_queued_messages 0
max_queued_bytes 0
# as deploy/mosquitto.conf: at most this many unacknowledged QoS 1 messages per subscriber
max_inflight_messages {inflight}
log_dest stderr
log_type error
log_type warning
"""


def start_broker(kind: str, children: Children, workdir: Path, *, inflight: int) -> tuple[str, str]:
    """A private broker on a free port: (mqtt URL, description)."""
    port = pick_port(0)
    log = workdir / f"{kind}.log"
    if kind == "mosquitto":
        conf = workdir / "mosquitto.conf"
        conf.write_text(MOSQUITTO_CONF.format(port=port, inflight=inflight))
        children.start("mosquitto", ["mosquitto", "-c", str(conf)], log=log)
        version = subprocess.run(
            ["mosquitto", "-h"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[0]
        description = f"{version} (max_inflight_messages {inflight}, max_queued_messages 0, no persistence)"
    elif kind == "amqtt":
        children.start(
            "amqtt", [sys.executable, "-m", "fleet.broker", "--bind", f"127.0.0.1:{port}"], log=log
        )
        from importlib.metadata import version

        description = f"amqtt {version('amqtt')} (python -m fleet.broker, as `fleet up` runs it)"
    else:
        raise SystemExit(f"unknown broker {kind!r}")
    wait_for_tcp(port, timeout_s=30)
    return f"mqtt://127.0.0.1:{port}", description


def wait_until(predicate, timeout_s: float, what: str, step_s: float = 0.1) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s:g} s")
        time.sleep(step_s)


def fmt_int(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.0f}"


async def insert_fleet(
    conn: asyncpg.Connection, count: int, *, report_interval_s: int = 10
) -> list[tuple[int, int, str]]:
    """A city, one province-level organisation whose subtree is the whole bench fleet, `count`
    vehicles and a device each (plain SQL, the columns fleet/migrations/0001_core.sql requires).
    Returns (vehicle id, device id, device uid) in plate order; uids are `0199` + 8 digits."""
    await conn.execute(
        """INSERT INTO cities VALUES ('420100', '武汉', 'Wuhan', 30.5928, 114.3055)
           ON CONFLICT DO NOTHING""")
    org_id = await conn.fetchval(
        """INSERT INTO organisations (code, kind, name_zh, name_en, city_code)
           VALUES ('BENCH', 'province', '基准测试', 'Benchmark', '420100') RETURNING id""")
    await conn.execute("UPDATE organisations SET path = ARRAY[id] WHERE id = $1", org_id)
    rows = await conn.fetch(
        """INSERT INTO vehicles (plate, source, use_category, seats, car_level,
               energy_type, home_city_code, owner_org_id)
           SELECT '鄂A·B' || lpad(i::text, 6, '0'), 'platform', 'general', 5, 'sedan',
                  'fuel', '420100', $2
           FROM generate_series(0, $1 - 1) AS i
           RETURNING id, plate""", count, org_id)
    ids = [r["id"] for r in sorted(rows, key=lambda r: r["plate"])]
    await conn.copy_records_to_table(
        "devices", columns=("uid", "vehicle_id", "report_interval_s"),
        records=[(f"0199{i:08d}", vid, report_interval_s) for i, vid in enumerate(ids)],
    )
    devices = {r["vehicle_id"]: (r["id"], r["uid"]) for r in await conn.fetch(
        "SELECT id, uid, vehicle_id FROM devices WHERE vehicle_id = ANY($1::int[])", ids)}
    return [(vid, *devices[vid]) for vid in ids]
