"""A console-like websocket client: log in over HTTP, then listen on /ws/live."""

from __future__ import annotations

import time

import httpx
import orjson
import websockets


async def collect_live_positions(base_url: str, cookies: httpx.Cookies, *, count: int, timeout_s: float):
    """(snapshot items, [(received wall ms, position item)]) for the first `count` live positions."""
    ws_url = base_url.replace("http://", "ws://") + "/ws/live"
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    got: list[tuple[int, dict]] = []
    snapshot: list[dict] = []
    deadline = time.monotonic() + timeout_s
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as socket:
        while len(got) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"only {len(got)} live positions in {timeout_s} s")
            import asyncio

            message = orjson.loads(await asyncio.wait_for(socket.recv(), timeout=remaining))
            now_ms = int(time.time() * 1000)
            if message.get("type") == "snapshot":
                snapshot = message["items"]
            elif message.get("type") == "positions":
                got.extend((now_ms, item) for item in message["items"])
    return snapshot, got
