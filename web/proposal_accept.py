"""An accepted proposal becomes dispatch orders through the ordinary path, so that every check
still applies: `POST /api/v1/dispatch-orders` opens each order (one request, or the requests a
car carries at once or whose bookings overlap: a carpool merge), and the `assign` event gives
it the proposed car and a driver (seats, class, 年检/保险, the car's city or unit; PostgreSQL's
exclusion constraints refuse a double booking). A request that already has its own order
waiting for a car gets that order assigned. Per order: one refusal stops that order only,
reported with the API's code and message; the order stays open in the queue as after a
refused assignment by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dispatch import order_store
from dispatch.candidates import CarOnMap, FreeDriver, suggest_driver
from dispatch.orders import OrderEvent
from dispatch.sources import Car
from web.errors import ApiError
from web.principal import Principal
from web.proposal_store import last_drivers
from web.queries import dispatch_queue as q
from web.routes import dispatch_orders
from web.schemas.dispatch_orders import DispatchOrderCreate, DispatchOrderEventIn


async def accept_route(pool: asyncpg.Pool, user: Principal, route: dict[str, Any],
                       open_orders: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """(orders assigned, refusals) for one proposed car's route."""
    car_id = route["vehicle_id"]
    windows = [(o["request_ids"], *await _window(pool, o["request_ids"])) for o in route["orders"]]
    driver_id = await _driver(pool, car_id, route["city_code"], windows)
    done, refused = [], []
    for request_ids, _, _ in windows:
        order_id = None
        try:
            if driver_id is None:
                raise ApiError(409, "No platform driver of the city is free for this car's "
                               "orders.", code="no_free_driver")
            order_id = await _order_for(pool, user, request_ids, open_orders)
            async with pool.acquire() as conn, conn.transaction():
                row = await order_store.fetch_order(conn, order_id, user.scope_root_id, user.id,
                                                    None, lock=True)
                body = DispatchOrderEventIn(event=OrderEvent.ASSIGN, version=row["version"],
                                            vehicle_id=car_id, driver_id=driver_id)
                order = await dispatch_orders.apply_event(conn, order_id, body, user)
            done.append({"order_id": order["id"], "vehicle_id": car_id, "plate": order["plate"],
                         "driver_id": order["driver_id"], "driver_name": order["driver_name"],
                         "request_ids": request_ids, "state": order["state"]})
        except ApiError as exc:
            refused.append({"vehicle_id": car_id, "plate": route["plate"],
                            "request_ids": request_ids, "order_id": order_id, "code": exc.code,
                            "message": exc.message})
    return done, refused


async def _window(pool: asyncpg.Pool, request_ids: list[int]) -> tuple[datetime, datetime]:
    row = await pool.fetchrow(
        "SELECT min(planned_start) AS s, max(planned_end) AS e FROM trip_requests "
        "WHERE id = ANY($1::int[])", request_ids)
    return row["s"], row["e"]


async def _order_for(pool: asyncpg.Pool, user: Principal, request_ids: list[int],
                     open_orders: dict[str, dict]) -> int:
    """The request's own open order, else a new one (merged when it carries several)."""
    if len(request_ids) == 1 and str(request_ids[0]) in open_orders:
        return open_orders[str(request_ids[0])]["id"]
    body = (DispatchOrderCreate(request_id=request_ids[0]) if len(request_ids) == 1
            else DispatchOrderCreate(request_ids=request_ids))
    created = await dispatch_orders.create_order(body, user, pool)
    return created["id"]


async def _driver(pool: asyncpg.Pool, car_id: int, city: str,
                  windows: list[tuple[list[int], datetime, datetime]]) -> int | None:
    """One driver free over all the car's orders: the car's last driver if he is, else the one
    with the fewest orders that day (dispatch.candidates.suggest_driver)."""
    if not windows:
        return None
    start = min(s for _, s, _ in windows)
    end = max(e for _, _, e in windows)
    async with pool.acquire() as conn:
        rows = await q.free_drivers(conn, city, start, end)
        last = await last_drivers(conn, car_id)
    drivers = [FreeDriver(r["id"], r["name"], r["orders_that_day"]) for r in rows]
    stub = CarOnMap(car=Car(car_id, "platform", 0, city, 5, "sedan"), plate="", active=True,
                    lat=None, lon=None, depot_lat=None, depot_lon=None, last_driver_id=last)
    chosen = suggest_driver(stub, drivers, set())
    return None if chosen is None else chosen.id
