"""Simulator -> MQTT -> ingest -> PostgreSQL/Redis -> websocket, all real processes."""

from __future__ import annotations

import statistics

from tests.e2e.live_client import collect_live_positions


async def test_simulated_positions_reach_a_console_socket_within_2_s(live_platform):
    client = live_platform.process.login(live_platform.username, live_platform.password)
    try:
        vehicles = client.get("/api/v1/vehicles").json()["items"]
        snapshot, live = await collect_live_positions(
            live_platform.base_url, client.cookies, count=30, timeout_s=30
        )
    finally:
        client.close()
    assert len(vehicles) >= 50  # the Wuhan dispatcher's share of the ~200-car fleet
    visible = {v["id"] for v in vehicles}
    assert {item["vehicle_id"] for _, item in live} <= visible
    assert snapshot, "the socket starts with the fleet's latest state"
    # device time is wall time at speed-up 1: the delay is publish -> ingest -> Redis -> socket
    delays_ms = [received_ms - item["ts_ms"] for received_ms, item in live]
    assert statistics.median(delays_ms) < 2000, delays_ms
    assert min(delays_ms) >= -1000, "device time must not be ahead of the console"
