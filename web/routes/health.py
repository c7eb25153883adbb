"""Liveness and readiness: the database and Redis both answer (no login needed)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter

from web.deps import ResourcesDep
from web.responses import JSONBytesResponse
from web.schemas.common import HealthRead

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0


async def _check(name: str, probe) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("health check %s failed: %r", name, exc)
        return name, "error"
    return name, "ok"


@router.get("/healthz", response_model=HealthRead, responses={503: {"model": HealthRead}})
async def healthz(resources: ResourcesDep) -> JSONBytesResponse:
    results = await asyncio.gather(
        _check("database", lambda: resources.pool.fetchval("SELECT 1")),
        _check("redis", resources.redis.ping),
    )
    checks = dict(results)
    checks["live_feed"] = "ok" if resources.hub.subscribed.is_set() else "connecting"
    healthy = all(checks[name] == "ok" for name in ("database", "redis"))
    return JSONBytesResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
