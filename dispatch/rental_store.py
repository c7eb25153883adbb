"""PostgreSQL side of the rental companies' acceptance (社会化租赁, domain.md §2): the orders a
company did not answer by their deadline, and how an order left a company.

The timeout job locks each expired order with FOR UPDATE SKIP LOCKED: an operator who is
accepting that very order holds its row lock, so the job passes it by and the operator wins
(next run the order is no longer waiting); if the job locked it first, the operator's own
FOR UPDATE waits and then finds the order back in the queue, no longer the company's.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

WAITING = "sent_to_rental"


async def expired_order_ids(conn: asyncpg.Connection, now: datetime, limit: int) -> list[int]:
    """Orders still waiting for their company at `now`, oldest deadline first (no lock: each
    is locked and checked again on its own, see lock_expired)."""
    rows = await conn.fetch(
        """SELECT id FROM dispatch_orders
           WHERE state = $1 AND rental_deadline <= $2
           ORDER BY rental_deadline, id LIMIT $3""",
        WAITING, now, limit,
    )
    return [r["id"] for r in rows]


async def lock_expired(
    conn: asyncpg.Connection, order_id: int, now: datetime, company_id: int | None = None,
) -> asyncpg.Record | None:
    """The order, locked, if it is still waiting for a company (this one, if given) and its
    deadline has passed at `now`; None if not, or if someone else holds it at this moment."""
    return await conn.fetchrow(
        """SELECT id, version, state, rental_company_id, rental_deadline FROM dispatch_orders
           WHERE id = $1 AND state = $2 AND rental_deadline <= $3
             AND ($4::int IS NULL OR rental_company_id = $4)
           FOR UPDATE SKIP LOCKED""",
        order_id, WAITING, now, company_id,
    )


async def timed_out_for(
    conn: asyncpg.Connection, order_id: int, company_id: int
) -> asyncpg.Record | None:
    """When the order last went back to the queue because this company did not answer in
    time (the rental_timeout event names the company and its deadline), or None."""
    return await conn.fetchrow(
        """SELECT at, data->>'deadline' AS deadline FROM dispatch_order_events
           WHERE order_id = $1 AND event = 'rental_timeout'
             AND data @> jsonb_build_object('rental_company_id', $2::int)
           ORDER BY id DESC LIMIT 1""",
        order_id, company_id,
    )
