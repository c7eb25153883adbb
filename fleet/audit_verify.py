"""`fleet audit verify`: recompute the audit trail's hash chain (supervision/audit.py).

Prints how many records were verified and OK, or every problem found; the exit status is 1
on any problem. Beside the checkpoint row in the database, the last verified point (the
newest record's id and hash) is kept in Redis when FLEET_REDIS_URL is set: a forger who
rewrites both the chain and the checkpoint inside the database is caught by it. It advances
only after a clean run.
"""

from __future__ import annotations

import json

from fleet.config import Settings
from supervision.audit import Checkpoint


def redis_key(prefix: str) -> str:
    return f"{prefix}:audit:verified"


async def _outside_checkpoint(redis, key: str) -> Checkpoint | None:  # noqa: ANN001
    raw = await redis.get(key)
    if not raw:
        return None
    value = json.loads(raw)
    return Checkpoint(int(value["last_id"]), str(value["last_hash"]))


async def run_verify(settings: Settings) -> int:
    from redis.asyncio import Redis

    from fleet.db import connect
    from supervision import audit_store

    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    key = redis_key(settings.redis_prefix)
    conn = await connect(settings.require_database_url())
    try:
        outside = await _outside_checkpoint(redis, key) if redis is not None else None
        result = await audit_store.verify(conn, outside)
        if result.ok and redis is not None and result.last is not None:
            await redis.set(key, json.dumps({"last_id": result.last.last_id,
                                             "last_hash": result.last.last_hash}))
    finally:
        await conn.close()
        if redis is not None:
            await redis.aclose()
    if result.ok:
        newest = f", newest #{result.last.last_id}" if result.last else ""
        print(f"audit verify: {result.count} records verified{newest}: OK")
        return 0
    print(f"audit verify: {result.count} records read, {len(result.problems)} problem(s):")
    for problem in result.problems:
        print(f"  [{problem.kind}] record {problem.id}: {problem.detail}")
    return 1
