"""The README's first command on the embedded default: real PostgreSQL, Valkey and amqtt
started by `fleet up` itself, a live position on a socket, a clean Ctrl-C, a warm restart."""

from __future__ import annotations

import signal

import psutil
import pytest

from tests.e2e.live_client import collect_live_positions
from tests.e2e.platform_process import PlatformProcess, platform_env


def servers_of(data_dir) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline and proc.info["name"] in ("postgres", "valkey-server"):
            found.append(proc)
    return found


@pytest.mark.embedded
async def test_fleet_up_embedded_comes_up_streams_and_stops_clean(tmp_path, output_dir):
    data_dir = tmp_path / "data"
    env = platform_env(prefix="embedded", data_dir=data_dir, urls=None)
    platform = PlatformProcess(env=env, log_path=output_dir / "fleet-up-embedded.log")
    cold_s = platform.start()
    try:
        assert any("servers ready (EmbeddedPostgres, EmbeddedValkey, EmbeddedBroker)" in line
                   for line in platform.lines)
        client = platform.login("dispatcher", "e2e-password")
        _, live = await collect_live_positions(platform.base_url, client.cookies, count=5, timeout_s=30)
        client.close()
        assert all(received - item["ts_ms"] < 2000 for received, item in live)
        assert servers_of(data_dir), "the embedded servers run from the data dir"
    finally:
        assert platform.stop() == 0
    assert servers_of(data_dir) == [], "Ctrl-C must stop every server it started"

    warm_s = platform.start()
    try:
        assert any("migrations applied 0" in line for line in platform.lines)
        client = platform.login("admin", "e2e-password")
        assert client.get("/api/v1/vehicles").json()["total"] >= 150
        client.close()
    finally:
        # a closed terminal (SIGHUP) stops everything too
        assert platform.stop(sig=signal.SIGHUP) == 0
    assert servers_of(data_dir) == []
    print(f"fleet up embedded: cold start {cold_s:.1f} s, warm start {warm_s:.1f} s")
