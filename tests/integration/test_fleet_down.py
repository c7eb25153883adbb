"""`fleet down` stops an embedded PostgreSQL that a killed `fleet up` left running."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from fleet.stack import EmbeddedPostgres


def test_fleet_down_stops_a_left_over_postgres(tmp_path):
    pg = EmbeddedPostgres(tmp_path)
    pg.start()
    pid = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
    assert psutil.pid_exists(pid)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    env.update(FLEET_DEMO="true", FLEET_DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "fleet.cli", "down"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "stopped postgres" in done.stdout
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    again = subprocess.run([sys.executable, "-m", "fleet.cli", "down"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert "nothing" in again.stdout
