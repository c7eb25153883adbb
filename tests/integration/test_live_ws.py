"""WS /ws/live on a real uvicorn server, and the fan-out's coalescing as pure code."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
import uvicorn
import websockets
from redis.asyncio import Redis

from fleet.config import Settings
from fleet.db import connect
from web.app import create_app
from web.live.coalesce import CoalescingBuffer, LiveView
from web.live.hub import LiveClient, LiveHub
from web.routes.live import pump

PASSWORD = "test-password"
WUHAN = "420100"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


@dataclass
class LiveServer:
    base_url: str
    ws_url: str
    app: object
    settings: Settings


@pytest.fixture
async def server(seeded_db_url, services, unique_prefix) -> AsyncIterator[LiveServer]:
    settings = Settings(
        demo=True,
        database_url=seeded_db_url,
        redis_url=services.redis_url,
        redis_prefix=unique_prefix,
    )
    app = create_app(settings)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(uv.serve())
    await wait_until(lambda: uv.started, timeout_s=15)
    await wait_until(lambda: app.state.resources.hub.subscribed.is_set())
    yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/live", app, settings)
    uv.should_exit = True
    await asyncio.wait_for(task, 15)


@pytest.fixture
async def redis(services) -> AsyncIterator[Redis]:
    r = Redis.from_url(services.redis_url)
    yield r
    await r.aclose()


async def session_cookie(base_url: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        response.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def recv_json(ws, timeout_s: float = 2.0) -> dict:
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout_s))


async def recv_type(ws, message_type: str, timeout_s: float = 2.0) -> dict:
    """The next message of one type (pings in between are skipped)."""
    deadline = time.monotonic() + timeout_s
    while True:
        message = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if message["type"] == message_type:
            return message


def fix(vehicle_id: int, **changes) -> dict:
    now_ms = int(time.time() * 1000)
    return {
        "vehicle_id": vehicle_id,
        "device_uid": f"dev-{vehicle_id}",
        "ts_ms": now_ms,
        "received_ms": now_ms,
        "lat": 30.6,
        "lon": 114.3,
        "speed_kmh": 33.0,
        "heading_deg": 45,
        "acc": True,
        "odometer_km": 100.0,
        "fuel_l": 20.0,
        "soc_pct": None,
        "alarm": 0,
        **changes,
    }


async def vehicle_ids(database_url: str) -> tuple[int, int, int]:
    """(a Wuhan car, a car elsewhere, Wuhan's 机要 car)."""
    conn = await connect(database_url)
    try:
        wuhan = await conn.fetchval(
            "SELECT id FROM vehicles WHERE home_city_code = $1 AND use_category <> 'confidential' "
            "ORDER BY id LIMIT 1",
            WUHAN,
        )
        elsewhere = await conn.fetchval(
            "SELECT id FROM vehicles WHERE home_city_code <> $1 ORDER BY id LIMIT 1", WUHAN
        )
        secret = await conn.fetchval(
            "SELECT id FROM vehicles WHERE home_city_code = $1 AND use_category = 'confidential' "
            "LIMIT 1",
            WUHAN,
        )
        return wuhan, elsewhere, secret
    finally:
        await conn.close()


async def test_snapshot_then_live_positions_within_2_s(server, redis, seeded_db_url):
    wuhan, elsewhere, secret = await vehicle_ids(seeded_db_url)
    cookie = await session_cookie(server.base_url, "dispatcher")
    channel = f"{server.settings.redis_prefix}:live"
    async with websockets.connect(server.ws_url, additional_headers={"Cookie": cookie}) as ws:
        snapshot = await recv_type(ws, "snapshot", timeout_s=5)
        ids = {item["id"] for item in snapshot["items"]}
        assert wuhan in ids and secret in ids and elsewhere not in ids
        first = snapshot["items"][0]
        assert {"plate", "city", "source", "status", "state", "position_withheld"} <= set(first)

        sent_at = time.monotonic()
        message = {"type": "positions", "items": [fix(wuhan), fix(elsewhere), fix(secret)]}
        await redis.publish(channel, orjson.dumps(message))
        update = await recv_type(ws, "positions", timeout_s=2)
        assert time.monotonic() - sent_at < 2
        got = {item["vehicle_id"]: item for item in update["items"]}
        assert set(got) == {wuhan, secret}  # the other city's car is filtered out
        assert got[wuhan]["lat"] == 30.6 and got[wuhan]["speed_kmh"] == 33.0
        assert got[secret]["lat"] is None and got[secret]["lon"] is None  # 机要 withheld
        assert got[secret]["speed_kmh"] == 33.0

        status = {
            "type": "status",
            "items": [
                {"vehicle_id": wuhan, "device_uid": "x", "status": "offline", "ts_ms": 1},
                {"vehicle_id": elsewhere, "device_uid": "y", "status": "offline", "ts_ms": 1},
            ],
        }
        await redis.publish(channel, orjson.dumps(status))
        relayed = await recv_type(ws, "status", timeout_s=2)
        assert [item["vehicle_id"] for item in relayed["items"]] == [wuhan]


async def test_admin_sees_confidential_positions_live(server, redis, seeded_db_url):
    _, elsewhere, secret = await vehicle_ids(seeded_db_url)
    cookie = await session_cookie(server.base_url, "admin")
    async with websockets.connect(server.ws_url, additional_headers={"Cookie": cookie}) as ws:
        await recv_type(ws, "snapshot", timeout_s=5)
        await redis.publish(
            f"{server.settings.redis_prefix}:live",
            orjson.dumps({"type": "positions", "items": [fix(secret), fix(elsewhere)]}),
        )
        got = {i["vehicle_id"]: i for i in (await recv_type(ws, "positions"))["items"]}
        assert got[secret]["lat"] == 30.6 and elsewhere in got


async def test_closing_a_socket_unregisters_the_client(server):
    hub = server.app.state.resources.hub
    cookie = await session_cookie(server.base_url, "dispatcher")
    async with websockets.connect(server.ws_url, additional_headers={"Cookie": cookie}) as ws:
        await recv_type(ws, "snapshot", timeout_s=5)
        assert hub.client_count == 1
    await wait_until(lambda: hub.client_count == 0)


async def test_a_socket_without_a_session_is_closed_with_4401(server):
    async with websockets.connect(server.ws_url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv_json(ws)
    assert closed.value.rcvd.code == 4401


async def test_wrong_role_and_foreign_origin_are_closed_with_4403(server):
    requester = await session_cookie(server.base_url, "requester")
    async with websockets.connect(server.ws_url, additional_headers={"Cookie": requester}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv_json(ws)
    assert closed.value.rcvd.code == 4403
    dispatcher = await session_cookie(server.base_url, "dispatcher")
    headers = {"Cookie": dispatcher, "Origin": "https://evil.example"}
    async with websockets.connect(server.ws_url, additional_headers=headers) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv_json(ws)
    assert closed.value.rcvd.code == 4403


# --- coalescing and fan-out, pure --------------------------------------------------------


def test_buffer_keeps_only_the_newest_state_per_vehicle():
    buffer = CoalescingBuffer()
    buffer.add_positions([fix(1, ts_ms=100), fix(2, ts_ms=100)])
    buffer.add_positions([fix(1, ts_ms=300), fix(1, ts_ms=200)])  # late data does not win
    buffer.add_statuses([{"vehicle_id": 1, "status": "offline", "ts_ms": 5}])
    assert len(buffer) == 3
    status, positions = buffer.drain()
    assert status == {
        "type": "status",
        "items": [{"vehicle_id": 1, "status": "offline", "ts_ms": 5}],
    }
    assert positions["type"] == "positions"
    assert {i["vehicle_id"]: i["ts_ms"] for i in positions["items"]} == {1: 300, 2: 100}
    assert buffer.drain() == [] and len(buffer) == 0


def test_a_slow_client_holds_at_most_one_pending_state_per_vehicle():
    client = LiveClient(LiveView(frozenset(range(50)), frozenset()))
    for ts_ms in range(1, 2001):
        client.offer("positions", [fix(v, ts_ms=ts_ms) for v in range(100)])
    assert len(client.buffer) == 50  # 100 000 states offered, 50 kept, never drained
    (positions,) = client.buffer.drain()
    assert {i["ts_ms"] for i in positions["items"]} == {2000}


def test_view_filters_and_withholds_positions():
    view = LiveView(frozenset({1, 2}), frozenset({2}))
    items = view.positions([fix(1), fix(2), fix(3)])
    assert [i["vehicle_id"] for i in items] == [1, 2]
    assert items[0]["lat"] == 30.6
    assert items[1]["lat"] is None and items[1]["heading_deg"] is None
    assert view.statuses([{"vehicle_id": 3}, {"vehicle_id": 1}]) == [{"vehicle_id": 1}]


def test_hub_dispatch_wakes_only_the_clients_that_see_something():
    hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
    mine, other = (
        LiveClient(LiveView(frozenset({1}), frozenset())),
        LiveClient(LiveView(frozenset({9}), frozenset())),
    )
    hub.register(mine)
    hub.register(other)
    hub.dispatch(orjson.dumps({"type": "positions", "items": [fix(1)]}))
    assert mine.wakeup.is_set() and not other.wakeup.is_set()
    hub.dispatch(b"not json")
    hub.dispatch(orjson.dumps({"type": "positions"}))
    hub.dispatch(orjson.dumps({"type": "unknown", "items": [fix(9)]}))
    assert not other.wakeup.is_set() and hub.messages_received == 2
    hub.unregister(other)
    assert hub.client_count == 1


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.closed_with: int | None = None

    async def send_text(self, text: str) -> None:
        self.sent.append(orjson.loads(text))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code


async def test_pump_sends_updates_then_pings_and_ends_with_the_session():
    socket_ = FakeSocket()
    client = LiveClient(LiveView(frozenset({1}), frozenset()))
    authorised = True

    async def still_authorised() -> bool:
        return authorised

    task = asyncio.create_task(pump(socket_, client, still_authorised, keepalive_s=0.1))
    client.offer("positions", [fix(1)])
    await wait_until(lambda: any(m["type"] == "positions" for m in socket_.sent))
    await wait_until(lambda: any(m["type"] == "ping" for m in socket_.sent))
    authorised = False
    await asyncio.wait_for(task, 2)
    assert socket_.closed_with == 4401


async def test_pump_notices_a_logout_even_while_updates_keep_coming():
    socket_ = FakeSocket()
    client = LiveClient(LiveView(frozenset({1}), frozenset()))

    async def logged_out() -> bool:
        return False

    task = asyncio.create_task(pump(socket_, client, logged_out, keepalive_s=0.2))
    deadline = time.monotonic() + 2
    while not task.done() and time.monotonic() < deadline:
        client.offer("positions", [fix(1)])
        await asyncio.sleep(0.02)
    assert task.done() and socket_.closed_with == 4401


async def test_pump_sends_a_new_snapshot_when_the_visible_cars_change():
    """A cross-city order brings a car into a dispatcher's view mid-session (rescope)."""
    socket_ = FakeSocket()
    client = LiveClient(LiveView(frozenset({1}), frozenset()))
    changes = [None, {"type": "snapshot", "ts_ms": 1, "items": [{"id": 1}, {"id": 7}]}]

    async def still_authorised() -> bool:
        return True

    async def rescope():
        return changes.pop() if changes else None

    task = asyncio.create_task(pump(socket_, client, still_authorised, keepalive_s=0.05, rescope=rescope))
    await wait_until(lambda: any(m["type"] == "snapshot" for m in socket_.sent))
    task.cancel()
    snapshots = [m for m in socket_.sent if m["type"] == "snapshot"]
    assert len(snapshots) == 1 and [i["id"] for i in snapshots[0]["items"]] == [1, 7]
