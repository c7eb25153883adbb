"""Rental orders not answered in time go back to the queue (domain.md §2: a company accepts or
rejects within its timeout, default 10 min, else the order returns to 待派车).

`return_expired` is the periodic job (web/jobs.py runs it every INTERVAL_S under an advisory
lock): each expired order, in its own transaction, moves sent_to_rental → created with the
event 'rental_timeout' (no actor: the system), its rental fields cleared as a rejection clears
them, and the dispatchers of its city told (`rental_timeout`). `expire` is the same for one
order; the company's answer route calls it too, so that an answer after the deadline is refused
even when the job has not run yet.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from dispatch import order_store, rental_store, store
from dispatch.orders import ORDER_MACHINE, OrderEvent, OrderState
from web import order_events
from web.schemas.dispatch_orders import DispatchOrderEventIn

log = logging.getLogger(__name__)

INTERVAL_S = 15.0  # how often the job looks: an order returns at most this late
BATCH = 200  # orders per run; the rest wait for the next one


async def expire(
    conn: asyncpg.Connection, order_id: int, now: datetime, company_id: int | None = None,
) -> bool:
    """Time the order out if it is still waiting (for `company_id`, if given) past its
    deadline at `now`; False if not, or if an operator is answering it at this moment. Runs
    inside the caller's transaction."""
    row = await rental_store.lock_expired(conn, order_id, now, company_id)
    if row is None:
        return False
    event = OrderEvent.RENTAL_TIMEOUT
    after = ORDER_MACHINE.next(OrderState(row["state"]), event)
    body = DispatchOrderEventIn(event=event, version=row["version"])
    changes = await order_events.field_changes(conn, body, row, now)
    deadline = row["rental_deadline"]
    note = f"no answer by {deadline.astimezone(store.LOCAL).isoformat(timespec='seconds')}"
    data = {"rental_company_id": row["rental_company_id"], "deadline": deadline.isoformat()}
    before = await order_store.fetch_order_unscoped(conn, order_id)  # still names the company
    await order_store.save_order(conn, order_id, row["version"], row["state"], after.value,
                                 event.value, None, note, changes, data)
    await order_events.notify_after(conn, event, order_id, before, note)
    await order_events.follow_requests(conn, order_id, None)
    return True


async def return_expired(pool: asyncpg.Pool, now: datetime | None = None) -> list[int]:
    """One run of the job: the ids of the orders it sent back to the queue."""
    now = now or datetime.now(UTC)
    returned: list[int] = []
    async with pool.acquire() as conn:
        for order_id in await rental_store.expired_order_ids(conn, now, BATCH):
            try:
                async with conn.transaction():
                    if await expire(conn, order_id, now):
                        returned.append(order_id)
            except asyncpg.PostgresError:  # one bad order must not hold the others up
                log.exception("rental timeout of order %s failed; retrying next run", order_id)
    if returned:
        log.info("rental orders back in the queue (no answer in time): %s", returned)
    return returned
