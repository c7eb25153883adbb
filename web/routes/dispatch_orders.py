"""Dispatch orders (派车单): one per vehicle, carrying one request or several merged ones
(公务拼车). Open, read, history, and move through the workflow by events: assign a car and a
driver or send to a rental company (which accepts with its car and driver, or rejects), the
driver's steps (accept, depart, at pickup, in service, end, return with the 行车日志), the
requester's confirm / dispute / rate, cancel, change car.

A double booking is refused by PostgreSQL itself (exclusion constraints, migration 0004) and
answered with 409: two dispatchers assigning the same car at once cannot both succeed. The
rest (who, which fields, which car) is in web/order_events.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query

from dispatch import billing_store, notification_store, order_store, store
from dispatch.orders import ORDER_MACHINE, OrderEvent, OrderState
from dispatch.transitions import IllegalTransition
from dispatch.trip_requests import RequestEvent, RequestState, TripType, apply
from web import order_events
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.schemas.common import error_responses
from web.schemas.dispatch_orders import (
    DispatchOrderCreate,
    DispatchOrderEventIn,
    DispatchOrderEventRead,
    DispatchOrderRead,
)

router = APIRouter(prefix="/api/v1/dispatch-orders", tags=["dispatch orders"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Dispatch order id")]


def read(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["request_ids"] = list(row["request_ids"] or [])
    item["passenger_count"] = row["passenger_count"] or 0
    item["allowed_events"] = ORDER_MACHINE.allowed(OrderState(row["state"]))
    return item


def _not_found(order_id: int) -> ApiError:
    return ApiError(404, f"Dispatch order {order_id} not found.", code="dispatch_order_not_found")


async def fetch(conn, order_id: int, user: Principal, *, lock: bool = False) -> asyncpg.Record | None:
    return await order_store.fetch_order(conn, order_id, user.scope_root_id, user.id,
                                         user.rental_company_id, lock=lock)


@router.post("", response_model=DispatchOrderRead, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
async def create_order(body: DispatchOrderCreate, user: CurrentUser, pool: PoolDep) -> dict:
    """Open an order (one per car) for an approved request, or for several that share one car
    (公务拼车: `request_ids`, confirmed by the dispatcher; never a 机要 request, seats checked
    at assignment). The requests move to 派车中; a merge is told to their applicants."""
    if not user.has_any_role(order_events.DISPATCHERS):
        raise ApiError(403, "Only dispatchers open dispatch orders.", code="forbidden")
    ids = body.ids
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        for request_id in sorted(ids):  # lock in id order: two merges cannot deadlock
            row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
            if row is None:
                raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
            request = store.to_domain(row)
            if request.emergency_approved is False:
                raise ApiError(409, f"Request {request_id} is an emergency whose approval was refused.",
                               code="emergency_rejected")
            live = [o["id"] for o in await order_store.orders_of_request(conn, request_id)
                    if o["state"] != OrderState.CANCELLED]
            if live and not (body.additional and len(ids) == 1):
                # one order per car: a second one only on purpose (two dispatchers racing for the
                # same request: the second is told, not given a second car)
                raise ApiError(409, f"Request {request_id} already has order {live[0]}.",
                               code="request_has_order", details={"order_ids": live})
            if len(ids) > 1 and (request.trip_type == TripType.CONFIDENTIAL or not row["carpool_allowed"]):
                raise ApiError(409, f"Request {request_id} may not share a car (机要, or carpooling "
                               "not allowed by the applicant).", code="carpool_not_allowed")
            if request.state == RequestState.APPROVED:
                dispatching = apply(request, RequestEvent.DISPATCH, now)
                others = sorted(set(ids) - {request_id})
                note = "拼车 carpool: " + ", ".join(f"#{i}" for i in others) if others else ""
                await store.save(conn, request, dispatching, row["version"], "dispatch", user.id, note)
            elif request.state != RequestState.DISPATCHING:
                raise ApiError(409, f"Request {request_id} is '{request.state.value}' and cannot get a car.",
                               code="request_not_dispatchable")
        order_id = await order_store.insert_order(conn, ids)
        if len(ids) > 1:
            applicants = await order_store.applicants_of_order(conn, order_id)
            await notification_store.notify(conn, applicants, "carpool_merged", {"order_id": order_id, "request_ids": ids})
        created = await fetch(conn, order_id, user)
    return read(created)


@router.get("", response_model=list[DispatchOrderRead], responses=error_responses(401, 404, 422))
async def list_orders(
    user: CurrentUser, pool: PoolDep,
    request_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> list[dict]:
    """The orders carrying a request."""
    if await store.fetch_in_scope(pool, request_id, user.scope_root_id) is None:
        raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
    return [read(r) for r in await order_store.orders_of_request(pool, request_id)]


@router.get("/{order_id}", response_model=DispatchOrderRead, responses=error_responses(401, 404, 422))
async def get_order(order_id: OrderId, user: CurrentUser, pool: PoolDep) -> dict:
    row = await fetch(pool, order_id, user)
    if row is None:
        raise _not_found(order_id)
    return read(row)


@router.get("/{order_id}/events", response_model=list[DispatchOrderEventRead],
            responses=error_responses(401, 404, 422))
async def order_history(order_id: OrderId, user: CurrentUser, pool: PoolDep) -> list[dict]:
    if await fetch(pool, order_id, user) is None:
        raise _not_found(order_id)
    return [dict(r) for r in await order_store.order_history(pool, order_id)]


@router.post("/{order_id}/events", response_model=DispatchOrderRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def send_event(order_id: OrderId, body: DispatchOrderEventIn, user: CurrentUser, pool: PoolDep) -> dict:
    """assign / change_car (vehicle_id, driver_id), send_to_rental (rental_company_id,
    charter_type, service_mode), rental_accept / rental_reject (the company's operator), the
    driver's steps (depart and return with odometer_km; return with tolls, parking, fuel),
    confirm / dispute (reason in `note`) / rate (rating), cancel … 409: not allowed in this
    state, stale version, a car that may not take the order, or a car or driver booked within
    30 min of this order."""
    async with pool.acquire() as conn, conn.transaction():
        return await apply_event(conn, order_id, body, user)


async def apply_event(
    conn: asyncpg.Connection, order_id: int, body: DispatchOrderEventIn, user: Principal
) -> dict:
    """One event on one order inside the caller's transaction (the driver's and the rental
    company's pages use it too)."""
    row = await fetch(conn, order_id, user, lock=True)
    if row is None:
        raise _not_found(order_id)
    order_events.authorise(user, body.event, row, await order_store.applicants_of_order(conn, order_id))
    if row["version"] != body.version:
        raise ApiError(409, "The order changed since you read it; reload it.",
                       code="stale_version", details={"version": row["version"]})
    state = OrderState(row["state"])
    try:
        after = ORDER_MACHINE.next(state, body.event)
    except IllegalTransition as exc:
        raise ApiError(409, str(exc), code="illegal_transition",
                       details={"state": state.value, "allowed": exc.allowed}) from None
    changes = await order_events.field_changes(conn, body, row, datetime.now(UTC))
    try:
        async with conn.transaction():  # a savepoint: a refused booking leaves the rest intact
            await order_store.save_order(conn, order_id, row["version"], state.value, after.value,
                                         body.event.value, user.id, body.note, changes,
                                         order_events.event_data(body.event, row, changes,
                                                                 body.odometer_km))
    except asyncpg.ExclusionViolationError as exc:
        what = "car" if "car" in (exc.constraint_name or "") else "driver"
        raise ApiError(409, f"The {what} is already booked within 30 minutes of this order.",
                       code="double_booked", details={"constraint": exc.constraint_name}) from None
    if body.event in (OrderEvent.RETURN, OrderEvent.RESOLVE_DISPUTE):
        await billing_store.on_order_returned(conn, order_id)  # km, fee, each request's share
    if body.event == OrderEvent.CANCEL:
        await order_events.notify_cancelled(conn, order_id, row)
    else:
        await order_events.notify_after(conn, body.event, order_id, row, body.note)
    await order_events.follow_requests(conn, order_id, user.id)
    # read back as it is now, even when the event took it out of the caller's reach (a driver
    # asking for reassignment, a company rejecting)
    return read(await order_store.fetch_order_unscoped(conn, order_id))
