"""Proposals (方案) kept in Redis for a few hours: what the dispatcher was shown, revision by
revision (the background re-plan adds one), and what was accepted. Redis rather than a table:
a proposal is a working draft, worthless after the day; whatever is accepted becomes dispatch
orders in PostgreSQL through the ordinary path. Any web process can serve or accept it."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from redis.asyncio import Redis

TTL_S = 4 * 3600
MAX_REVISIONS = 4  # the first plan, the re-plans; older ones are dropped


def new_id() -> str:
    return uuid.uuid4().hex


def _key(prefix: str, proposal_id: str) -> str:
    return f"{prefix}:proposal:{proposal_id}"


async def save(redis: Redis, prefix: str, record: dict[str, Any]) -> None:
    record["revisions"] = record["revisions"][-MAX_REVISIONS:]
    await redis.set(_key(prefix, record["id"]), orjson.dumps(record), ex=TTL_S)


async def load(redis: Redis, prefix: str, proposal_id: str) -> dict[str, Any] | None:
    raw = await redis.get(_key(prefix, proposal_id))
    return None if raw is None else orjson.loads(raw)


def lock(redis: Redis, prefix: str, proposal_id: str):  # type: ignore[no-untyped-def]
    """Accepting and the background re-plan change one record: one at a time."""
    return redis.lock(_key(prefix, proposal_id) + ":lock", timeout=60, blocking_timeout=20)


def latest(record: dict[str, Any]) -> dict[str, Any]:
    return record["revisions"][-1]


def revision(record: dict[str, Any], number: int) -> dict[str, Any] | None:
    return next((r for r in record["revisions"] if r["revision"] == number), None)
