"""`fleet up` against given servers with the simulator at a 1 s interval for N minutes, then
count: positions the simulator published (and the broker acknowledged) vs rows stored, and
dead letters. A fresh database is created on the server for the run.

    FLEET_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
    FLEET_REDIS_URL=redis://127.0.0.1:6379/0 FLEET_MQTT_URL=mqtt://127.0.0.1:1883 \
    python bench/fleet_up_soak.py --minutes 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import asyncpg

from fleet.db import with_database
from fleet.stack import pick_port


async def create_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return with_database(server_url, name)


async def count(database_url: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(database_url)
    try:
        positions = await conn.fetchval("SELECT count(*) FROM positions")
        letters = await conn.fetchval("SELECT count(*) FROM dead_letters")
        vehicles = await conn.fetchval("SELECT count(DISTINCT vehicle_id) FROM positions")
        return positions, letters, vehicles
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--interval-s", type=float, default=1)
    args = parser.parse_args()
    server = os.environ["FLEET_DATABASE_URL"]
    name = f"fleet_soak_{uuid.uuid4().hex[:8]}"
    database_url = asyncio.run(create_database(server, name))
    prefix = f"soak{uuid.uuid4().hex[:6]}"
    env = dict(os.environ)
    env.update(
        FLEET_DATABASE_URL=database_url,
        FLEET_DEMO="true",
        FLEET_HTTP_PORT=str(pick_port(0)),
        FLEET_SIM_INTERVAL_S=str(args.interval_s),
        FLEET_SIM_PARKED_INTERVAL_S=str(args.interval_s),  # every car reports at the interval
        FLEET_SIM_DURATION_S=str(args.minutes * 60),
        FLEET_REDIS_PREFIX=prefix,
        FLEET_MQTT_TOPIC_ROOT=f"{prefix}/v1",
        FLEET_INGEST_CLIENT_ID=f"ingest-{prefix}",
        PYTHONUNBUFFERED="1",
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "up"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    published = acked = None
    assert proc.stdout
    for line in proc.stdout:
        if "fleet up:" in line or "simulator:" in line:
            print(line.rstrip(), flush=True)
        match = re.search(r"simulator: published=(\d+) acked=(\d+)", line)
        if match:
            published, acked = int(match.group(1)), int(match.group(2))
            break
    # let ingest drain, then stop the platform as a person would (Ctrl-C)
    deadline = time.monotonic() + 60
    stored = letters = vehicles = 0
    while time.monotonic() < deadline:
        stored, letters, vehicles = asyncio.run(count(database_url))
        if acked is not None and stored >= acked:
            break
        time.sleep(1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    stored, letters, vehicles = asyncio.run(count(database_url))
    print(f"run: {time.monotonic() - started:.0f} s, database {name}")
    print(f"published={published} acked={acked} stored={stored} vehicles_reporting={vehicles} "
          f"dead_letters={letters} rate={stored / (args.minutes * 60):.0f} positions/s")


if __name__ == "__main__":
    main()
