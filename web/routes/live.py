"""WS /ws/live: a snapshot of the user's vehicles, then their live updates.

Close codes: 4401 not logged in (or the session ended), 4403 no vehicle role or a foreign
Origin. The client ignores a state older than the one it shows (late data can arrive).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from fleet.config import Settings
from web.live.coalesce import LiveView
from web.live.hub import LiveClient
from web.principal import VEHICLE_ROLES
from web.queries.users import principal_by_id
from web.queries.vehicles import vehicles_in_scope
from web.resources import Resources
from web.sessions import SESSION_COOKIE
from web.vehicle_views import now_ms, redis_states, vehicle_item

router = APIRouter()
log = logging.getLogger(__name__)

KEEPALIVE_S = 20.0
SEND_TIMEOUT_S = 15.0


async def _send(ws: WebSocket, message: dict) -> None:
    # A client that cannot take a message within the timeout is dropped, not waited for.
    await asyncio.wait_for(ws.send_text(orjson.dumps(message).decode()), SEND_TIMEOUT_S)


def _same_origin(ws: WebSocket) -> bool:
    """Browsers send Origin on websocket handshakes; a foreign one is a hijacking attempt."""
    origin = ws.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc == ws.headers.get("host", "")


async def pump(
    ws: WebSocket,
    client: LiveClient,
    still_authorised: Callable[[], Awaitable[bool]],
    keepalive_s: float = KEEPALIVE_S,
    rescope: Callable[[], Awaitable[dict | None]] | None = None,
) -> None:
    """Sends the client's pending updates as they come and a ping when idle; every
    `keepalive_s` (busy or not) checks that the session still exists (logout ends the feed)."""
    last_sent = last_checked = time.monotonic()
    while True:
        now = time.monotonic()
        if now - last_checked >= keepalive_s:
            if not await still_authorised():
                await ws.close(4401, "session ended")
                return
            fresh = await rescope() if rescope is not None else None
            if fresh is not None:  # the visible vehicles changed: a new snapshot
                await _send(ws, fresh)
            last_checked = now
        if now - last_sent >= keepalive_s:
            await _send(ws, {"type": "ping", "ts_ms": now_ms()})
            last_sent = now
        wait_s = keepalive_s - (now - min(last_sent, last_checked))
        try:
            await asyncio.wait_for(client.wakeup.wait(), max(wait_s, 0.0))
        except TimeoutError:
            continue
        client.wakeup.clear()
        for message in client.buffer.drain():
            await _send(ws, message)
        last_sent = time.monotonic()


async def _read_until_closed(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        async for _ in ws.iter_text():
            pass  # the client has nothing to say; reading notices when it goes away


@router.websocket("/ws/live")
async def live(ws: WebSocket) -> None:
    resources: Resources = ws.app.state.resources
    settings: Settings = ws.app.state.settings
    cookie = ws.cookies.get(SESSION_COOKIE)
    await ws.accept()
    if not _same_origin(ws):
        await ws.close(4403, "foreign origin")
        return
    user_id = await resources.sessions.user_id(cookie)
    user = await principal_by_id(resources.pool, user_id) if user_id is not None else None
    if user is None:
        await ws.close(4401, "login required")
        return
    if not user.has_any_role(VEHICLE_ROLES):
        await ws.close(4403, "no permission to watch vehicles")
        return

    rows = await vehicles_in_scope(resources.pool, user.scope_root_id)
    client = LiveClient(_view(rows, user))
    # Registered before the snapshot is read, so nothing published meanwhile is lost.
    resources.hub.register(client)
    tasks: list[asyncio.Task] = []

    async def snapshot(rows: list) -> dict:
        cached = await redis_states(resources.redis, settings.redis_prefix, [r["id"] for r in rows])
        at_ms = now_ms()
        items = [vehicle_item(row, cached.get(row["id"]), user, at_ms) for row in rows]
        return {"type": "snapshot", "ts_ms": at_ms, "items": items}

    async def still_authorised() -> bool:
        return await resources.sessions.user_id(cookie) == user.id

    async def rescope() -> dict | None:
        """A cross-city order brings a car into view for its window, and takes it out after."""
        fresh = await vehicles_in_scope(resources.pool, user.scope_root_id)
        view = _view(fresh, user)
        if view.visible_ids == client.view.visible_ids:
            return None
        client.view = view
        return await snapshot(fresh)

    try:
        await _send(ws, await snapshot(rows))
        tasks = [
            asyncio.create_task(pump(ws, client, still_authorised, rescope=rescope)),
            asyncio.create_task(_read_until_closed(ws)),
        ]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.info("live client %s dropped: %r", user.username, task.exception())
    except (WebSocketDisconnect, TimeoutError, RuntimeError, OSError) as exc:
        log.info("live client %s dropped: %r", user.username, exc)
    finally:
        resources.hub.unregister(client)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await ws.close()


def _view(rows: list, user) -> LiveView:
    return LiveView(
        frozenset(row["id"] for row in rows),
        frozenset(
            row["id"]
            for row in rows
            if row["use_category"] == "confidential" and not user.sees_confidential_positions
        ),
    )
