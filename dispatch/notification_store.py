"""Notifications (通知): what a person is told, written in the same transaction as the change
that causes it (an order assigned, a merge confirmed, a reminder sent). The page renders `kind`
and `data` in the reader's language; `text` is free text such as a dispatcher's reminder."""

from __future__ import annotations

from typing import Any

import asyncpg

KINDS = frozenset({
    "order_assigned",  # driver: a new order is yours
    "order_cancelled",  # driver / requester
    "order_changed",  # requester: car or driver changed
    "carpool_merged",  # requester: your request shares a car with another
    "rental_order",  # rental operator: a new order to accept
    "rental_timeout",  # dispatcher: a company did not answer in time
    "rental_rejected",  # dispatcher
    "approval_pending",  # approver: a request waits for you
    "request_approved",  # requester
    "request_rejected",  # requester
    "reminder",  # driver: 远程提醒 from the dispatcher
    "order_disputed",  # dispatcher: the requester disputes a finished order
    "dispute_resolved",  # requester: the dispatcher's resolution
    "reassignment_requested",  # dispatcher: the driver asks to be relieved of an order
})


async def notify(
    conn: asyncpg.Connection, user_ids: list[int], kind: str, data: dict[str, Any] | None = None,
    text: str = "",
) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not user_ids:
        return
    await conn.executemany(
        "INSERT INTO notifications (user_id, kind, text, data) VALUES ($1, $2, $3, $4)",
        [(user_id, kind, text, data or {}) for user_id in sorted(set(user_ids))],
    )


async def for_user(
    pool: asyncpg.Pool, user_id: int, *, unread_only: bool, limit: int
) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT id, kind, text, data, created_at, read_at FROM notifications
           WHERE user_id = $1 AND ($2::bool IS false OR read_at IS NULL)
           ORDER BY id DESC LIMIT $3""",
        user_id, unread_only, limit,
    )


async def mark_read(pool: asyncpg.Pool, user_id: int, ids: list[int]) -> int:
    """Marks the user's own notifications read; returns how many changed."""
    status = await pool.execute(
        """UPDATE notifications SET read_at = now()
           WHERE user_id = $1 AND id = ANY($2::bigint[]) AND read_at IS NULL""",
        user_id, ids,
    )
    return int(status.split()[-1])
