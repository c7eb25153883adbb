"""Dispatch orders (派车单): one per vehicle of a request; assign a car and a driver, then the
driver's steps (accept, depart, at pickup, in service, end, return), confirm, cancel.

A double booking is refused by PostgreSQL itself (exclusion constraints, migration 0004) and
answered with 409: two dispatchers assigning the same car at once cannot both succeed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query

from dispatch import order_store, store
from dispatch.orders import ORDER_MACHINE, OrderEvent, OrderState
from dispatch.transitions import IllegalTransition
from dispatch.trip_requests import RequestEvent, RequestState, apply
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.schemas.common import error_responses
from web.schemas.dispatch_orders import DispatchOrderCreate, DispatchOrderEventIn, DispatchOrderRead

router = APIRouter(prefix="/api/v1/dispatch-orders", tags=["dispatch orders"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Dispatch order id")]

DISPATCHERS = frozenset({"dispatcher", "admin"})
# The driver's own steps: the order's driver, or a dispatcher recording them for him.
DRIVER_EVENTS = frozenset({
    OrderEvent.DRIVER_ACCEPT, OrderEvent.REQUEST_REASSIGNMENT, OrderEvent.DEPART,
    OrderEvent.ARRIVE_PICKUP, OrderEvent.START_SERVICE, OrderEvent.END_SERVICE, OrderEvent.RETURN,
})
REQUESTER_EVENTS = frozenset({OrderEvent.CONFIRM, OrderEvent.DISPUTE, OrderEvent.RATE})
CAR_EVENTS = frozenset({OrderEvent.ASSIGN, OrderEvent.CHANGE_CAR})


def _read(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["allowed_events"] = ORDER_MACHINE.allowed(OrderState(row["state"]))
    return item


def _not_found(order_id: int) -> ApiError:
    return ApiError(404, f"Dispatch order {order_id} not found.", code="dispatch_order_not_found")


@router.post("", response_model=DispatchOrderRead, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
async def create_order(body: DispatchOrderCreate, user: CurrentUser, pool: PoolDep) -> dict:
    """Open an order (one per car) for an approved request; the request moves to 派车中."""
    if not user.has_any_role(DISPATCHERS):
        raise ApiError(403, "Only dispatchers open dispatch orders.", code="forbidden")
    async with pool.acquire() as conn, conn.transaction():
        row = await store.fetch_in_scope(conn, body.request_id, user.scope_root_id, lock=True)
        if row is None:
            raise ApiError(404, f"Trip request {body.request_id} not found.", code="trip_request_not_found")
        request = store.to_domain(row)
        if request.state == RequestState.APPROVED:
            dispatching = apply(request, RequestEvent.DISPATCH, datetime.now(UTC))
            await store.save(conn, request, dispatching, row["version"], "dispatch", user.id, "")
        elif request.state != RequestState.DISPATCHING:
            raise ApiError(409, f"A request in state '{request.state.value}' cannot get a car.",
                           code="request_not_dispatchable")
        order_id = await order_store.insert_order(conn, body.request_id)
        created = await order_store.fetch_order_in_scope(conn, order_id, user.scope_root_id)
    return _read(created)


@router.get("", response_model=list[DispatchOrderRead], responses=error_responses(401, 404, 422))
async def list_orders(
    user: CurrentUser, pool: PoolDep,
    request_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> list[dict]:
    if await store.fetch_in_scope(pool, request_id, user.scope_root_id) is None:
        raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
    return [_read(r) for r in await order_store.orders_of_request(pool, request_id)]


@router.post("/{order_id}/events", response_model=DispatchOrderRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def send_event(order_id: OrderId, body: DispatchOrderEventIn, user: CurrentUser, pool: PoolDep) -> dict:
    """assign (vehicle_id, driver_id), driver steps (depart and return with odometer_km),
    confirm, cancel, change_car … 409: not allowed in this state, stale version, or the car or
    driver is booked within 30 min of this order."""
    async with pool.acquire() as conn, conn.transaction():
        row = await order_store.fetch_order_in_scope(conn, order_id, user.scope_root_id, lock=True)
        if row is None:
            raise _not_found(order_id)
        _authorise(user, body.event, row)
        if row["version"] != body.version:
            raise ApiError(409, "The order changed since you read it; reload it.",
                           code="stale_version", details={"version": row["version"]})
        state = OrderState(row["state"])
        try:
            after = ORDER_MACHINE.next(state, body.event)
        except IllegalTransition as exc:
            raise ApiError(409, str(exc), code="illegal_transition",
                           details={"state": state.value, "allowed": exc.allowed}) from None
        changes = _field_changes(body, row)
        try:
            async with conn.transaction():  # a savepoint: a refused booking leaves the rest intact
                await order_store.save_order(conn, order_id, row["version"], state.value, after.value,
                                       body.event.value, user.id, body.note, changes)
        except asyncpg.ExclusionViolationError as exc:
            what = "car" if "car" in (exc.constraint_name or "") else "driver"
            raise ApiError(409, f"The {what} is already booked within 30 minutes of this order.",
                           code="double_booked", details={"constraint": exc.constraint_name}) from None
        except asyncpg.ForeignKeyViolationError:
            raise ApiError(422, "No such vehicle or driver.", code="unknown_vehicle_or_driver") from None
        await _follow_request(conn, row["request_id"], user)
        fresh = await order_store.fetch_order_in_scope(conn, order_id, user.scope_root_id)
    return _read(fresh)


def _authorise(user: Principal, event: OrderEvent, row: asyncpg.Record) -> None:
    if user.has_any_role(DISPATCHERS):
        return
    if event in DRIVER_EVENTS and "driver" in user.roles and row["driver_user_id"] == user.id:
        return
    if event in REQUESTER_EVENTS and user.has_any_role(frozenset({"requester", "org_admin"})):
        return
    raise ApiError(403, f"You may not send '{event.value}' for this order.", code="forbidden")


def _field_changes(body: DispatchOrderEventIn, row: asyncpg.Record) -> dict[str, Any]:
    if body.event in CAR_EVENTS:
        if body.vehicle_id is None or body.driver_id is None:
            raise ApiError(422, f"'{body.event.value}' needs vehicle_id and driver_id.", code="missing_assignment")
        return {"vehicle_id": body.vehicle_id, "driver_id": body.driver_id}
    now = datetime.now(UTC)
    if body.event == OrderEvent.DEPART:
        if body.odometer_km is None:
            raise ApiError(422, "'depart' needs odometer_km.", code="missing_odometer")
        return {"odometer_start_km": body.odometer_km, "departed_at": now}
    if body.event == OrderEvent.RETURN:
        if body.odometer_km is None:
            raise ApiError(422, "'return' needs odometer_km.", code="missing_odometer")
        start_km = row["odometer_start_km"]
        if start_km is not None and body.odometer_km < start_km:
            raise ApiError(422, "The odometer cannot go back.", code="odometer_backwards")
        return {"odometer_end_km": body.odometer_km, "returned_at": now}
    if body.event in (OrderEvent.REQUEST_REASSIGNMENT, OrderEvent.CANCEL):
        return {"vehicle_id": None, "driver_id": None}
    return {}


async def _follow_request(conn: asyncpg.Connection, request_id: int, user: Principal) -> None:
    """The request follows its orders: all assigned → 已派车; a car left → 在途; all back → 已完成."""
    row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
    orders = [OrderState(o["state"]) for o in await order_store.orders_of_request(conn, request_id)]
    live = [s for s in orders if s != OrderState.CANCELLED]
    request = store.to_domain(row)
    event = None
    held = {OrderState.ASSIGNED, OrderState.ACCEPTED}
    if request.state == RequestState.DISPATCHING and live and all(s in held for s in live):
        event = RequestEvent.ALL_ASSIGNED
    elif request.state == RequestState.DISPATCHED and any(s not in held for s in live):
        if any(s == OrderState.CREATED for s in live):
            event = RequestEvent.UNASSIGNED
        else:
            event = RequestEvent.DEPART
    elif request.state == RequestState.IN_PROGRESS and live and all(
        s in (OrderState.RETURNED, OrderState.CONFIRMED, OrderState.RATED, OrderState.SETTLED,
              OrderState.DISPUTED) for s in live):
        event = RequestEvent.COMPLETE
    if event is not None:
        after = apply(request, event, datetime.now(UTC))
        await store.save(conn, request, after, row["version"], event.value, user.id, "")
