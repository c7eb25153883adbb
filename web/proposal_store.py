"""What a proposal (方案) is built from, read from PostgreSQL: the requests of the queue that
wait for a car, and the cars that could take them with their depots, live positions, documents
and the orders they already hold. Rows become `optimizer.planning` dataclasses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from optimizer.planning import Booking, FleetCar, Place, QueuedTrip
from web.queries import dispatch_queue as q

LIVE_FIX_MAX_AGE = timedelta(minutes=15)  # an older fix says nothing about where the car is now
ON_THE_ROAD = ("departed", "at_pickup", "in_service")
HELD = ("assigned", "accepted", "departed", "at_pickup", "in_service", "service_ended")


@dataclass(frozen=True)
class QueueSelection:
    trips: list[QueuedTrip]
    rows: dict[int, dict]  # request id -> queue row (for the view)
    open_order: dict[int, dict]  # request id -> its own order waiting for a car
    refused: dict[int, tuple[str, str]]  # request id -> why it is not in the proposal


def _place(value: dict) -> Place:
    return Place(str(value.get("name", "")), float(value["lat"]), float(value["lon"]),
                 str(value.get("city_code", "")))


async def queued(pool: asyncpg.Pool, scope_root_id: int,
                 request_ids: Iterable[int] | None) -> QueueSelection:
    """The waiting requests of the caller's queue (or those of `request_ids` among them)."""
    rows = [dict(r) for r in await q.queue(pool, scope_root_id, 1000)]
    wanted = None if request_ids is None else set(request_ids)
    by_id = {row["id"]: row for row in rows}
    trips, open_order, refused = [], {}, {}
    for rid in sorted(wanted - set(by_id)) if wanted else ():
        refused[rid] = ("not_waiting", "not in your queue of requests waiting for a car")
    for row in rows:
        if wanted is not None and row["id"] not in wanted:
            continue
        orders = row["open_orders"]
        if row["held_orders"] or any(o["state"] != "created" for o in orders):
            if wanted is not None:
                refused[row["id"]] = ("not_waiting", "it has a car, or a rental company has it")
            continue
        if any(len(o["request_ids"]) > 1 for o in orders):
            order = next(o for o in orders if len(o["request_ids"]) > 1)
            refused[row["id"]] = ("merged_order", f"merged into order #{order['id']}: assign "
                                  "that order from its card")
            continue
        if orders:
            open_order[row["id"]] = orders[0]
        trips.append(QueuedTrip(
            id=row["id"], org_id=row["org_id"], trip_type=row["trip_type"],
            passengers=row["passenger_count"], planned_start=row["planned_start"],
            planned_end=row["planned_end"], origin=_place(row["origin"]),
            destinations=tuple(_place(d) for d in row["destinations"]),
            round_trip=row["round_trip"], driver_waits=row["driver_waits"],
            car_level=row["car_level_wanted"], carpool_allowed=row["carpool_allowed"],
            own_order=bool(orders)))
    return QueueSelection(trips, by_id, open_order, refused)


async def fleet(pool: asyncpg.Pool, cities: list[str], org_ids: list[int], first_day: date,
                last_day: date, now: datetime, *, live_confidential: bool) -> list[FleetCar]:
    """The cities' platform and entrusted cars and the units' retained cars, each with what the
    plan needs (module docstring). `live_confidential`: may 机要 cars' live fixes be used (they
    show in the proposal's routes)?"""
    rows = await pool.fetch(
        """SELECT v.id, v.plate, v.source, v.owner_org_id, v.home_city_code, v.seats, v.car_level,
                  v.energy_type, v.range_km, v.active, v.use_category,
                  dp.name_zh AS depot_name, dp.lat AS depot_lat, dp.lon AS depot_lon,
                  s.lat, s.lon, s.ts,
                  (SELECT least(min(expires_on) FILTER (WHERE kind = 'annual_inspection'),
                                min(expires_on) FILTER (WHERE kind = 'insurance'))
                   FROM vehicle_documents WHERE vehicle_id = v.id) AS usable_until,
                  coalesce((SELECT jsonb_agg(jsonb_build_array(b.id, b.planned_start,
                                                               b.planned_end, b.state))
                            FROM dispatch_orders b
                            WHERE b.vehicle_id = v.id AND b.state = ANY($5::text[])
                              AND b.planned_end > $3::date - 1 AND b.planned_start < $4::date + 2),
                           '[]') AS bookings
           FROM vehicles v
           LEFT JOIN depots dp ON dp.id = v.depot_id
           LEFT JOIN latest_vehicle_state s ON s.vehicle_id = v.id
           WHERE (v.source IN ('platform', 'entrusted') AND v.home_city_code = ANY($1::text[]))
              OR (v.source = 'unit_retained' AND v.owner_org_id = ANY($2::int[]))
           ORDER BY v.id""",
        cities, org_ids, first_day, last_day, list(HELD),
    )
    cars = []
    for row in rows:
        depot = None
        if row["depot_lat"] is not None:
            depot = Place(row["depot_name"] or "", row["depot_lat"], row["depot_lon"],
                          row["home_city_code"])
        fresh = row["ts"] is not None and now - row["ts"] <= LIVE_FIX_MAX_AGE
        hidden = row["use_category"] == "confidential" and not live_confidential
        position = None
        if fresh and not hidden:
            position = Place("", row["lat"], row["lon"], row["home_city_code"])
        bookings = tuple(
            Booking(order_id, datetime.fromisoformat(start), datetime.fromisoformat(end),
                    state in ON_THE_ROAD)
            for order_id, start, end, state in row["bookings"])
        cars.append(FleetCar(
            id=row["id"], plate=row["plate"], source=row["source"],
            owner_org_id=row["owner_org_id"], home_city=row["home_city_code"], seats=row["seats"],
            car_level=row["car_level"], energy_type=row["energy_type"], range_km=row["range_km"],
            depot=depot, position=position, usable_until=row["usable_until"],
            active=row["active"], bookings=bookings))
    return cars


async def last_drivers(conn: asyncpg.Connection, vehicle_id: int) -> int | None:
    return await conn.fetchval(
        """SELECT b.driver_id FROM dispatch_orders b
           WHERE b.vehicle_id = $1 AND b.driver_id IS NOT NULL
           ORDER BY b.planned_start DESC LIMIT 1""", vehicle_id)
