"""One Redis subscription per web process, fanned out to the connected websocket clients.

The ingest worker publishes on `{prefix}:live`:
  {"type": "positions", "items": [state, ...]} and {"type": "status", "items": [...]}.
Each message is parsed once, then filtered per client (scope, 机要) into the client's
coalescing buffer; the client's own sender task drains it at the socket's pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from web.live.coalesce import CoalescingBuffer, LiveView

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 15.0
CLOSE_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 1.0


def live_channel(prefix: str) -> str:
    return f"{prefix}:live"


class LiveClient:
    def __init__(self, view: LiveView) -> None:
        self.view = view
        self.buffer = CoalescingBuffer()
        self.wakeup = asyncio.Event()

    def offer(self, message_type: str, items: list[dict[str, Any]]) -> None:
        if message_type == "positions":
            visible = self.view.positions(items)
            self.buffer.add_positions(visible)
        elif message_type == "status":
            visible = self.view.statuses(items)
            self.buffer.add_statuses(visible)
        else:
            return
        if visible:
            self.wakeup.set()


class LiveHub:
    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self._clients: set[LiveClient] = set()
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self.messages_received = 0
        self._stopping = False

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def register(self, client: LiveClient) -> None:
        self._clients.add(client)

    def unregister(self, client: LiveClient) -> None:
        self._clients.discard(client)

    def dispatch(self, raw: bytes | str) -> None:
        """Parses one published message and offers it to every client."""
        try:
            message = orjson.loads(raw)
            message_type = message["type"]
            items = message["items"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ignoring malformed live message: %.200r", raw)
            return
        if not isinstance(items, list):
            return
        self.messages_received += 1
        for client in list(self._clients):
            client.offer(message_type, items)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        # redis-py (8.x) can swallow a cancellation that lands inside a blocking pubsub read,
        # so cancel until the task has really ended; the read times out every second anyway.
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.warning("live hub ended with %r", task.exception())

    async def _run(self) -> None:
        delay_s = RECONNECT_MIN_S
        while not self._stopping:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                delay_s = RECONNECT_MIN_S
                while not self._stopping:
                    message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
                    if message is not None and message.get("type") == "message":
                        self.dispatch(message["data"])
            except (RedisError, OSError) as exc:
                log.warning("live subscription lost (%s); retrying in %.1f s", exc, delay_s)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), CLOSE_TIMEOUT_S)
            if not self._stopping:
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RECONNECT_MAX_S)
