"""Read side of the dead-letter store: newest first, keyset-paginated by id."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def dead_letter_page(
    pool: asyncpg.Pool, *, reason: str | None, before_id: int | None, limit: int
) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT id, received_at, topic, payload, reason, detail, device_uid
           FROM dead_letters
           WHERE ($1::text IS NULL OR reason = $1) AND ($2::bigint IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        reason,
        before_id,
        limit,
    )


async def dead_letter_counts(pool: asyncpg.Pool, *, since: datetime) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT reason, count(*) AS count, max(received_at) AS last_at
           FROM dead_letters WHERE received_at >= $1 GROUP BY reason ORDER BY count DESC""",
        since,
    )
