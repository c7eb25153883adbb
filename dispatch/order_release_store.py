"""PostgreSQL side of letting a request's orders go (派车单释放): when a request is withdrawn
before any car left, or an emergency is rejected before a car was held, each of its orders
that has not departed is cancelled — or, when it also carries another request still going
(公务拼车), keeps going without this one. The pure state machines decide; these are the
reads and writes the handler (web/trip_request_flow.py) needs inside its transaction.

Locks: an order before its requests, as a dispatch order event does (web/routes/
dispatch_orders.py locks the order, then the requests it carries), so that the two cannot
deadlock.
"""

from __future__ import annotations

import asyncpg

from dispatch.order_store import ORDER_COLUMNS, ORDER_FROM
from dispatch.orders import BOOKING_STATES, OrderState

# The order has not left yet: it may be cancelled (dispatch/orders.py).
BEFORE_DEPARTURE = (OrderState.CREATED, OrderState.SENT_TO_RENTAL, OrderState.ASSIGNED,
                    OrderState.ACCEPTED)
# A request in these states no longer needs a car.
ENDED_REQUEST_STATES = ("withdrawn", "rejected", "closed")


async def lock_orders_of_request(conn: asyncpg.Connection, request_id: int) -> None:
    """Lock the request's orders (id order) before the request itself is locked."""
    await conn.execute(
        """SELECT d.id FROM dispatch_orders d
           WHERE d.id IN (SELECT order_id FROM dispatch_order_requests WHERE request_id = $1)
           ORDER BY d.id FOR UPDATE""",
        request_id,
    )


async def orders_before_departure(conn: asyncpg.Connection, request_id: int) -> list[asyncpg.Record]:
    """The request's orders that have not departed, locked, as the dispatch order API reads
    them (what notify_cancelled needs: driver, rental company, …)."""
    return await conn.fetch(
        f"""SELECT {ORDER_COLUMNS} {ORDER_FROM}
            WHERE d.id IN (SELECT order_id FROM dispatch_order_requests WHERE request_id = $1)
              AND d.state = ANY($2::text[])
            ORDER BY d.id FOR UPDATE OF d""",
        request_id, [s.value for s in BEFORE_DEPARTURE],
    )


async def cars_held(conn: asyncpg.Connection, request_id: int) -> bool:
    """Does an order of the request hold a car (assigned, accepted, on the road)?"""
    return bool(await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM dispatch_orders d
                          JOIN dispatch_order_requests x ON x.order_id = d.id
                          WHERE x.request_id = $1 AND d.state = ANY($2::text[]))""",
        request_id, [s.value for s in BOOKING_STATES],
    ))


async def live_request_ids(conn: asyncpg.Connection, request_ids: list[int]) -> list[int]:
    """Of these requests, those that still need their car (not withdrawn, rejected, closed)."""
    rows = await conn.fetch(
        "SELECT id FROM trip_requests WHERE id = ANY($1::int[]) AND NOT state = ANY($2::text[]) "
        "ORDER BY id",
        request_ids, list(ENDED_REQUEST_STATES),
    )
    return [r["id"] for r in rows]


async def remove_request(conn: asyncpg.Connection, order_id: int, request_id: int, new_lead: int) -> None:
    """Take the request off the order: the order's lead becomes `new_lead` if it was this one,
    and its window shrinks to span the requests it still carries. The version is left to the
    caller's event row (order_store.save_order), written right after."""
    await conn.execute(
        "DELETE FROM dispatch_order_requests WHERE order_id = $1 AND request_id = $2",
        order_id, request_id,
    )
    await conn.execute(
        """UPDATE dispatch_orders d
           SET request_id = CASE WHEN d.request_id = $2 THEN $3 ELSE d.request_id END,
               planned_start = w.planned_start, planned_end = w.planned_end
           FROM (SELECT min(r.planned_start) AS planned_start, max(r.planned_end) AS planned_end
                 FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
                 WHERE x.order_id = $1) w
           WHERE d.id = $1""",
        order_id, request_id, new_lead,
    )
