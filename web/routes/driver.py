"""The driver's page API (驾驶员): his orders of a day with what he needs on the road, his
steps with odometer and 行车日志 costs, and his phone's location for a car without a terminal.

A driver reaches only the orders he drives (his data scope is empty, web/principal.py). His
steps go through the same handler as /api/v1/dispatch-orders/{id}/events (apply_event), in
one transaction. Positions from the phone are not written here: they are published on MQTT
as a 'phone' device of the car (web/phone_telemetry.py) and take the terminals' road.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query

from dispatch.orders import ORDER_MACHINE, OrderState
from web import phone_telemetry
from web.deps import CurrentUser, PoolDep, ResourcesDep
from web.errors import ApiError
from web.order_events import DRIVER_EVENTS
from web.principal import Principal
from web.queries import driver_orders
from web.routes.dispatch_orders import apply_event
from web.schemas.common import error_responses
from web.schemas.dispatch_orders import DispatchOrderEventIn, DispatchOrderRead
from web.schemas.driver import (
    DriverEventIn,
    DriverOrderList,
    LocationAccepted,
    LocationIn,
)

router = APIRouter(prefix="/api/v1/driver", tags=["driver"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Dispatch order id")]
LOCAL_TZ = phone_telemetry.LOCAL_TZ
_DRIVER_EVENT_VALUES = frozenset(e.value for e in DRIVER_EVENTS)
MAX_CLOCK_AHEAD = timedelta(minutes=5)  # a phone clock further ahead is wrong, not early


def _driver_of(user: Principal) -> int:
    if "driver" not in user.roles or user.driver_id is None:
        raise ApiError(403, "This is the drivers' page: your account is not a driver's.",
                       code="forbidden")
    return user.driver_id


def _place(raw: dict[str, Any], cities: dict[str, tuple[str, str]]) -> dict[str, Any]:
    zh, en = cities.get(raw.get("city_code") or "", ("", ""))
    return {"name": raw.get("name", ""), "lat": raw["lat"], "lon": raw["lon"],
            "city_code": raw.get("city_code", ""), "city_name_zh": zh, "city_name_en": en}


def _request(row: asyncpg.Record, cities: dict[str, tuple[str, str]]) -> dict[str, Any]:
    item = dict(row)
    item.pop("order_id")
    item["origin"] = _place(row["origin"], cities)
    item["destinations"] = [_place(d, cities) for d in row["destinations"]]
    item["passengers"] = list(row["passengers"] or [])
    return item


def _order(row: asyncpg.Record, requests: list[dict[str, Any]]) -> dict[str, Any]:
    item = dict(row)
    state = OrderState(row["state"])
    item["allowed_events"] = [e for e in ORDER_MACHINE.allowed(state) if e in _DRIVER_EVENT_VALUES]
    item["shares_phone_location"] = not row["has_terminal"]
    item["passenger_count"] = row["passenger_count"] or 0
    item["requests"] = requests
    # A carpooled order (公务拼车) picks up at every request's origin, then drops off.
    pickups: list[dict[str, Any]] = []
    stops: list[dict[str, Any]] = []
    for request in requests:
        pickups += [request["origin"]] if request["origin"] not in pickups else []
        stops += [d for d in request["destinations"] if d not in stops]
    item["origin"], item["pickups"], item["destinations"] = pickups[0], pickups, stops
    return item


@router.get("/orders", response_model=DriverOrderList, responses=error_responses(401, 403, 422))
async def my_orders(
    user: CurrentUser, pool: PoolDep,
    day: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31),
                                      description="YYYY-MM-DD, Asia/Shanghai; default today")] = None,
    later: Annotated[bool, Query(description="the orders after `day` instead (30 days)")] = False,
) -> dict:
    """Your orders of the day (and any not finished from earlier days), soonest first: the
    passengers, whom to call, where to go, the car, the next steps you may take. With
    `later=true`, the orders you hold that start after that day (the next 30 days)."""
    driver_id = _driver_of(user)
    day = day or datetime.now(LOCAL_TZ).date()
    day_start = datetime.combine(day, time(0), LOCAL_TZ)
    async with pool.acquire() as conn:
        if later:
            rows = await driver_orders.orders_from(conn, driver_id, day_start + timedelta(days=1), 30)
        else:
            rows = await driver_orders.orders_of_day(conn, driver_id, day_start,
                                                     day_start + timedelta(days=1))
        request_rows = await driver_orders.requests_of_orders(conn, [r["id"] for r in rows])
        cities = await driver_orders.city_names(conn)
    by_order: dict[int, list[dict[str, Any]]] = {}
    for row in request_rows:
        by_order.setdefault(row["order_id"], []).append(_request(row, cities))
    return {"day": day, "orders": [_order(r, by_order[r["id"]]) for r in rows if r["id"] in by_order]}


@router.post("/orders/{order_id}/events", response_model=DispatchOrderRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def my_step(order_id: OrderId, body: DriverEventIn, user: CurrentUser, pool: PoolDep) -> dict:
    """Your next step on an order you drive: driver_accept (接单), request_reassignment (申请改派,
    with the reason in `note`), depart (出车, odometer_km), arrive_pickup, start_service,
    end_service, return (还车: odometer_km, not below the departure's, and the 行车日志 costs).
    409: not possible in the order's state, or the order changed since you read it."""
    _driver_of(user)
    if body.event == "request_reassignment" and not body.note.strip():
        raise ApiError(422, "Asking for reassignment needs the reason in 'note'.",
                       code="missing_reason")
    event = DispatchOrderEventIn(**body.model_dump())
    async with pool.acquire() as conn, conn.transaction():
        return await apply_event(conn, order_id, event, user)


@router.post("/location", response_model=LocationAccepted, status_code=202,
             responses=error_responses(401, 403, 409, 422, 503))
async def my_location(body: LocationIn, user: CurrentUser, pool: PoolDep,
                      resources: ResourcesDep) -> dict:
    """Your phone's position (共享位置) while you drive a car without a GPS terminal on an order
    (departed until returned). It is relayed to the telemetry pipeline as the car's 'phone'
    device, exactly as a terminal reports. 409 `no_active_order` / `car_has_terminal`; 503
    `telemetry_unavailable` when the broker cannot take it (send the next fix)."""
    driver_id = _driver_of(user)
    if body.ts - datetime.now(UTC) > MAX_CLOCK_AHEAD:
        raise ApiError(422, "The position's time is ahead of the platform's clock; check the "
                       "phone's time.", code="future_timestamp")
    publisher = phone_telemetry.publisher_or_503(resources.publisher)
    order_id, vehicle_id, uid = await phone_telemetry.device_for_driver(pool, driver_id)
    payload = phone_telemetry.contract_position(body.ts, body.lat, body.lon, body.accuracy_m,
                                                body.speed_kmh, body.heading_deg)
    await phone_telemetry.publish(publisher, uid, payload)
    return {"order_id": order_id, "vehicle_id": vehicle_id, "device_uid": uid, "ts": body.ts}
