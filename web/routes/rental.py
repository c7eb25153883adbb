"""Rental companies' operators (租赁公司, 社会化租赁): the company, its incoming and held orders,
its cars and drivers, and the answer to an order — accept with a car and a driver, or reject
with a reason — within the company's timeout (domain.md §2).

Only a rental_operator of a company reads here, and only that company's orders (another
company's order is a 404); an admin may read any company with ?company_id=. The answer routes
are thin wrappers over the order event endpoint (web/routes/dispatch_orders.apply_event, the
same checks: the company's own leased car with valid documents and enough seats, its own
driver, no double booking) that add one thing: an answer after the deadline is refused with
409 `rental_timed_out`, whether or not the timeout job has already sent the order back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query

from dispatch import order_store, rental_store, store
from dispatch.orders import OrderEvent
from web import order_events, rental_timeouts
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.queries import rental as queries
from web.rental_fleet import car_view, driver_view
from web.routes.dispatch_orders import apply_event
from web.schemas.common import error_responses
from web.schemas.dispatch_orders import DispatchOrderEventIn, DispatchOrderRead
from web.schemas.rental import (
    OrderGroup,
    RentalAcceptIn,
    RentalCompanyRead,
    RentalFleetRead,
    RentalOrderPage,
    RentalOrderRead,
    RentalRejectIn,
)

router = APIRouter(prefix="/api/v1/rental", tags=["rental companies"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Dispatch order id")]
CompanyId = Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                        description="Admins: the company to read (operators: their own)")]


async def _company(pool: asyncpg.Pool, user: Principal, company_id: int | None) -> asyncpg.Record:
    """The company the caller reads: an operator's own, or the one an admin names."""
    if "rental_operator" in user.roles and user.rental_company_id is not None:
        if company_id not in (None, user.rental_company_id):
            raise ApiError(404, f"Rental company {company_id} not found.", code="rental_company_not_found")
        company_id = user.rental_company_id
    elif "admin" in user.roles:
        if company_id is None:
            raise ApiError(422, "Name the company: ?company_id=.", code="company_required")
    else:
        raise ApiError(403, "Only a rental company's operators use this.", code="forbidden")
    row = await queries.company(pool, company_id)
    if row is None:
        raise ApiError(404, f"Rental company {company_id} not found.", code="rental_company_not_found")
    return row


def _not_found(order_id: int) -> ApiError:
    return ApiError(404, f"Dispatch order {order_id} not found.", code="dispatch_order_not_found")


def _order(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["requests"] = row["requests"] or []
    # what the company may send now: only the answer, while the order waits for it
    item["allowed_events"] = ([OrderEvent.RENTAL_ACCEPT.value, OrderEvent.RENTAL_REJECT.value]
                              if row["state"] == "sent_to_rental" else [])
    return item


@router.get("/company", response_model=RentalCompanyRead, responses=error_responses(401, 403, 404, 422))
async def my_company(user: CurrentUser, pool: PoolDep, company_id: CompanyId = None) -> dict:
    """The operator's company: contract, service area (cities), answer timeout."""
    row = await _company(pool, user, company_id)
    today = datetime.now(UTC).astimezone(store.LOCAL).date()
    return dict(row) | {"in_force": row["contract_start"] <= today <= row["contract_end"]}


@router.get("/orders", response_model=RentalOrderPage, responses=error_responses(401, 403, 404, 422))
async def list_orders(
    user: CurrentUser, pool: PoolDep, company_id: CompanyId = None,
    state: Annotated[OrderGroup | None, Query(
        description="waiting (待接单, by deadline), accepted (已接单), in_service (服务中), "
                    "history (returned, settled, cancelled; with the orders let go); none: all")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict:
    """The company's orders with what the operator needs to decide: the requests carried
    (unit, passengers, places with their cities, times, round trip, car level), charter type,
    service mode, the deadline, and the price plan. Counts per tab for the page's badges."""
    company = await _company(pool, user, company_id)
    states = (queries.ORDER_GROUPS[state] if state is not None
              else tuple(s for group in queries.ORDER_GROUPS.values() for s in group))
    rows = await queries.orders(pool, company["id"], states, limit, offset)
    declined = await queries.declined(pool, company["id"], limit) if state == "history" else []
    return {"now": datetime.now(UTC), "items": [_order(r) for r in rows], "counts": await queries.order_counts(pool, company["id"]),
            "declined": [dict(r) for r in declined]}


@router.get("/orders/{order_id}", response_model=RentalOrderRead,
            responses=error_responses(401, 403, 404, 422))
async def get_order(order_id: OrderId, user: CurrentUser, pool: PoolDep, company_id: CompanyId = None) -> dict:
    company = await _company(pool, user, company_id)
    row = await queries.order(pool, company["id"], order_id)
    if row is None:
        raise _not_found(order_id)
    return _order(row)


@router.get("/fleet", response_model=RentalFleetRead, responses=error_responses(401, 403, 404, 422))
async def fleet(
    user: CurrentUser, pool: PoolDep, company_id: CompanyId = None,
    order_id: Annotated[int | None, Query(
        ge=1, le=2**31 - 1, description="Mark which cars and drivers may take this order")] = None,
) -> dict:
    """The company's leased cars (plate, class, seats, energy, 一车一档 documents, busy now,
    bookings) and drivers. With order_id: `fits` and the `reason` a car or driver may not
    take it (seats, car_level, document_annual_inspection / document_insurance until the trip
    ends, booked within 30 min, car_inactive)."""
    company = await _company(pool, user, company_id)
    now = datetime.now(UTC)
    need = None
    async with pool.acquire() as conn:
        if order_id is not None:
            if await queries.order(conn, company["id"], order_id) is None:
                raise _not_found(order_id)
            need = order_events.need_of(await order_store.need_of_order(conn, order_id))
        since = now if need is None else min(now, need.start)
        cars = await queries.cars(conn, company["id"], since, order_id or 0)
        drivers = await queries.drivers(conn, company["id"], since, order_id or 0)
    today = now.astimezone(store.LOCAL).date()
    return {"company_id": company["id"], "order_id": order_id,
            "cars": [car_view(r, need, now, today) for r in cars],
            "drivers": [driver_view(r, need, now) for r in drivers]}


async def _answer(pool: asyncpg.Pool, user: Principal, order_id: int, body: DispatchOrderEventIn) -> dict:
    """The event in one transaction; past the deadline the order is timed out instead (and
    that is kept), and the answer refused."""
    if not user.has_any_role(frozenset({"rental_operator", "admin"})):
        raise ApiError(403, "Only a rental company's operators answer orders.", code="forbidden")
    company_id = user.rental_company_id if "rental_operator" in user.roles else None
    async with pool.acquire() as conn:
        async with conn.transaction():
            late = await rental_timeouts.expire(conn, order_id, datetime.now(UTC), company_id)
            if not late:
                try:
                    return await apply_event(conn, order_id, body, user)
                except ApiError as exc:
                    if exc.status_code != 404 or company_id is None:
                        raise
        lost = await rental_store.timed_out_for(conn, order_id, company_id) if company_id else None
    if not late and lost is None:
        raise _not_found(order_id)
    raise ApiError(409, "Too late: the order was not answered in time and went back to the "
                   "dispatchers' queue (超时未接单).", code="rental_timed_out",
                   details={"deadline": lost["deadline"] if lost else None})


@router.post("/orders/{order_id}/accept", response_model=DispatchOrderRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def accept(order_id: OrderId, body: RentalAcceptIn, user: CurrentUser, pool: PoolDep) -> dict:
    """接单: take the order with one of the company's cars and drivers → 'assigned'; the driver
    (if he has a login) and the applicants are told. 409: not_company_car, not_company_driver,
    seats, car_level, document_*, car_inactive, double_booked, stale_version,
    illegal_transition, rental_timed_out (past the deadline)."""
    event = DispatchOrderEventIn(event=OrderEvent.RENTAL_ACCEPT, version=body.version,
                                 vehicle_id=body.vehicle_id, driver_id=body.driver_id)
    return await _answer(pool, user, order_id, event)


@router.post("/orders/{order_id}/reject", response_model=DispatchOrderRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def reject(order_id: OrderId, body: RentalRejectIn, user: CurrentUser, pool: PoolDep) -> dict:
    """拒单 with a reason: the order goes back to the dispatchers' queue ('created'), who are
    told. 409: stale_version, illegal_transition, rental_timed_out."""
    event = DispatchOrderEventIn(event=OrderEvent.RENTAL_REJECT, version=body.version, note=body.reason)
    return await _answer(pool, user, order_id, event)
