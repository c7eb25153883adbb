"""The dispatcher's console API: the queue of requests waiting for cars, the cars (with a
driver each) and rental companies for an order, carpool proposals, and the orders on the road.
Assigning itself is an order event (POST /api/v1/dispatch-orders/{id}/events)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from dispatch import order_store, store
from dispatch.candidates import CarOnMap, FreeDriver, rank
from dispatch.carpool import CarpoolRules, Place, RideRequest, pair_proposals
from dispatch.sources import Car, Need
from supervision import reminder_store
from web.deps import CurrentUser, PoolDep, ResourcesDep
from web.errors import ApiError
from web.order_events import DISPATCHERS, level_for
from web.principal import Principal
from web.queries import dispatch_queue as q
from web.schemas.common import error_responses
from web.schemas.dispatch_console import (
    CandidatesRead,
    CarpoolProposalRead,
    QueueRead,
    ReminderIn,
    ReminderRead,
)
from web.vehicle_state import derive_status, offline_after_s

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch console"])
log = logging.getLogger(__name__)
ON_THE_ROAD_OR_HELD = frozenset({"assigned", "accepted", "departed", "at_pickup", "in_service",
                                 "service_ended"})


def _dispatcher(user: Principal) -> None:
    if not user.has_any_role(DISPATCHERS):
        raise ApiError(403, "This is the dispatchers' console.", code="forbidden")


@router.get("/queue", response_model=QueueRead, responses=error_responses(401, 403, 422))
async def dispatch_queue(
    user: CurrentUser, pool: PoolDep, limit: Annotated[int, Query(ge=1, le=1000)] = 300,
) -> dict[str, Any]:
    """Requests waiting for cars (emergencies first), orders waiting for a rental company's
    answer, orders on the road (with the car's position unless it is 机要 and you are not
    cleared), and finished orders the requester disputed (异议)."""
    _dispatcher(user)
    requests = [dict(r) for r in await q.queue(pool, user.scope_root_id, limit)]
    waiting = [
        order | {"request_id": request["id"]}
        for request in requests for order in request["open_orders"]
        if order["state"] == "sent_to_rental"
    ]
    road = []
    for row in await q.orders_on_the_road(pool, user.scope_root_id):
        item = dict(row)
        if row["use_category"] == "confidential" and not user.sees_confidential_positions:
            item["lat"] = item["lon"] = None
        road.append(item)
    disputed = [dict(r) for r in await q.disputed(pool, user.scope_root_id)]
    return {"requests": requests, "rental_waiting": _unique(waiting), "on_the_road": road,
            "disputed": disputed}


def _unique(orders: list[dict]) -> list[dict]:
    """A carpooled order appears under each of its requests: list it once."""
    seen: dict[int, dict] = {}
    for order in orders:
        seen.setdefault(order["id"], order)
    return list(seen.values())


@router.get("/candidates", response_model=CandidatesRead, responses=error_responses(401, 403, 404, 422))
async def candidates(
    user: CurrentUser, pool: PoolDep,
    order_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    request_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """Cars for an order (`order_id`) or for a request that has none yet (`request_id`), best
    first (source tier, may take it, distance from the pickup now, smallest that fits), each
    with a suggested free driver; every car left out says why; and the rental companies that
    cover the trip, with their prices for the class needed."""
    _dispatcher(user)
    if (order_id is None) == (request_id is None):
        raise ApiError(422, "Give either order_id or request_id.", code="bad_query")
    async with pool.acquire() as conn:
        order = None
        if order_id is not None:
            order = await order_store.fetch_order(conn, order_id, user.scope_root_id, user.id, None)
            if order is None:
                raise ApiError(404, f"Dispatch order {order_id} not found.", code="dispatch_order_not_found")
            request_ids = list(order["request_ids"])
        else:
            if await store.fetch_in_scope(conn, request_id, user.scope_root_id) is None:
                raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
            request_ids = [request_id]
        need_row = await order_store.need_of_requests(conn, request_ids)
        lead = await conn.fetchrow("SELECT origin FROM trip_requests WHERE id = $1", request_ids[0])
        start, end = need_row["planned_start"], need_row["planned_end"]
        cars = await q.cars_for(conn, need_row["org_id"], need_row["city"] or "", start, end)
        drivers = await q.free_drivers(conn, need_row["city"] or "", start, end)
        level = need_row["car_level_wanted"] or level_for(need_row["passengers"])
        companies = await q.companies_for(conn, sorted(need_row["cities"] or []), level, start)
    need = Need(org_id=need_row["org_id"], city=need_row["city"] or "",
                cities=frozenset(need_row["cities"] or ()), start=start, end=end,
                passengers=need_row["passengers"], car_level=need_row["car_level_wanted"])
    now = datetime.now(UTC)
    ranked = rank(need, [_on_map(c, user) for c in cars],
                  [FreeDriver(d["id"], d["name"], d["orders_that_day"]) for d in drivers],
                  lead["origin"]["lat"], lead["origin"]["lon"], now.astimezone(store.LOCAL).date())
    by_id = {c["id"]: c for c in cars}
    return {
        "order_id": order_id,
        "request_ids": request_ids,
        "version": order["version"] if order else None,
        "state": order["state"] if order else None,
        "passengers": need.passengers,
        "car_level": level,
        "pickup": lead["origin"],
        "cars": [_car_read(c, by_id[c.vehicle_id], now) for c in ranked],
        "drivers": [dict(d) for d in drivers],
        "companies": [dict(c) for c in companies],
    }


def _on_map(row, user: Principal) -> CarOnMap:
    hidden = row["use_category"] == "confidential" and not user.sees_confidential_positions
    booked = tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in row["booked"])
    car = Car(id=row["id"], source=row["source"], owner_org_id=row["owner_org_id"],
              home_city=row["home_city_code"], seats=row["seats"], car_level=row["car_level"],
              documents=order_store.documents_of(row), booked=booked)
    return CarOnMap(car=car, plate=row["plate"], active=row["active"],
                    lat=None if hidden else row["lat"], lon=None if hidden else row["lon"],
                    depot_lat=row["depot_lat"], depot_lon=row["depot_lon"],
                    last_driver_id=row["last_driver_id"])


def _status(row, now: datetime) -> str:
    state = None if row["ts"] is None else {
        "ts_ms": int(row["ts"].timestamp() * 1000), "speed_kmh": row["speed_kmh"], "acc": row["acc"]}
    return derive_status(state, device_status=row["device_status"],
                         offline_after=offline_after_s(row["report_interval_s"]),
                         now_ms=int(now.timestamp() * 1000))


def _car_read(candidate, row, now: datetime) -> dict[str, Any]:
    return {
        "vehicle_id": candidate.vehicle_id, "plate": candidate.plate, "tier": candidate.tier,
        "source": row["source"], "seats": row["seats"], "car_level": row["car_level"],
        "energy_type": row["energy_type"], "status": _status(row, now),
        "reason": candidate.reason, "dist_m": candidate.dist_m, "eta_min": candidate.eta_min,
        "from_depot": candidate.from_depot, "driver_id": candidate.driver_id,
        "driver_name": candidate.driver_name,
    }


@router.get("/carpool-proposals", response_model=list[CarpoolProposalRead],
            responses=error_responses(401, 403, 422))
async def carpool_proposals(user: CurrentUser, pool: PoolDep) -> list[dict[str, Any]]:
    """Pairs of waiting requests that may share one car (公务拼车: detour ≤ 20 % or ≤ 15 min per
    passenger, starts within ±30 min, seats, never 机要), most km saved first. Confirm one by
    opening an order with both: POST /api/v1/dispatch-orders {"request_ids": [a, b]}."""
    _dispatcher(user)
    rows = [r for r in await q.queue(pool, user.scope_root_id, 1000)
            if r["carpool_allowed"] and r["trip_type"] != "confidential"
            and len(r["destinations"]) == 1 and r["held_orders"] == 0 and not r["open_orders"]]
    rides = [RideRequest(
        id=r["id"], origin=_place(r["origin"]), destination=_place(r["destinations"][0]),
        planned_start=r["planned_start"], passengers=r["passenger_count"]) for r in rows]
    by_id = {r["id"]: r for r in rows}
    proposals = pair_proposals(rides, {r["id"]: r["car_level_wanted"] for r in rows}, CarpoolRules())
    return [{
        "request_ids": [p.first, p.second], "stops": list(p.order),
        "detour_min": {str(k): v for k, v in p.detour_min.items()},
        "shared_km": p.shared_km, "saved_km": p.saved_km,
        "passengers": by_id[p.first]["passenger_count"] + by_id[p.second]["passenger_count"],
        "versions": [by_id[p.first]["version"], by_id[p.second]["version"]],
    } for p in proposals]


def _place(place: dict) -> Place:
    return Place(place["lat"], place["lon"], place.get("city_code", ""))


@router.post("/reminders", response_model=ReminderRead, responses=error_responses(401, 403, 404, 409, 422))
async def remind_driver(
    body: ReminderIn, user: CurrentUser, pool: PoolDep, resources: ResourcesDep,
) -> dict[str, Any]:
    """远程提醒: a text for the driver of an order holding a car, shown prominently on his page
    (and spoken by the terminal when it has one and `tts` is set)."""
    _dispatcher(user)
    text = body.text.strip()
    if not text or "\x00" in text:
        raise ApiError(422, "The reminder needs some text.", code="empty_reminder")
    async with pool.acquire() as conn, conn.transaction():
        order = await order_store.fetch_order(conn, body.order_id, user.scope_root_id, user.id, None)
        if order is None:
            raise ApiError(404, f"Dispatch order {body.order_id} not found.", code="dispatch_order_not_found")
        if order["state"] not in ON_THE_ROAD_OR_HELD:
            raise ApiError(409, "Only the driver of an order holding a car can be reminded.",
                           code="order_not_active")
        terminal = await conn.fetchval(
            "SELECT uid FROM devices WHERE vehicle_id = $1 AND kind = 'terminal'", order["vehicle_id"])
        notified = order["driver_user_id"] is not None
        # the reminders row (and the driver's notice) commit first: the terminal's ack finds it
        reminder = await reminder_store.create(
            conn, vehicle_id=order["vehicle_id"], device_uid=terminal, text=text, tts=body.tts,
            order_id=order["id"], driver_user_id=order["driver_user_id"], created_by=user.id,
            notice={"plate": order["plate"], "from": user.display_name})
    published = await reminder_store.publish(pool, resources.publisher, reminder)
    return {"order_id": order["id"], "driver_notified": notified,
            "device_command_id": reminder.command_id if published else None}
