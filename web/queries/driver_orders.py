"""The driver's page (驾驶员): his orders of a day with what he needs on the road, and the
order his phone may report positions for. Plain SQL; the route shapes the rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

# The order holds its car and is not back yet (an earlier day's such order is still shown).
UNFINISHED_STATES = ("assigned", "accepted", "departed", "at_pickup", "in_service", "service_ended")
# The car is on the road for the order: the phone may stand in for a missing terminal.
ON_THE_ROAD_STATES = ("departed", "at_pickup", "in_service", "service_ended")


async def orders_of_day(
    conn: asyncpg.Connection | asyncpg.Pool, driver_id: int, day_start: datetime, day_end: datetime
) -> list[asyncpg.Record]:
    """The driver's orders overlapping [day_start, day_end), and those of earlier days he has
    not finished, soonest first."""
    return await conn.fetch(
        _ORDERS.format(where="""(d.planned_start < $3 AND d.planned_end >= $2)
                                OR (d.planned_start < $2 AND d.state = ANY($4::text[]))"""),
        driver_id, day_start, day_end, list(UNFINISHED_STATES),
    )


async def orders_from(
    conn: asyncpg.Connection | asyncpg.Pool, driver_id: int, start: datetime, days: int
) -> list[asyncpg.Record]:
    """The orders he holds that start in the `days` days from `start` (the page's 以后 tab)."""
    return await conn.fetch(
        _ORDERS.format(where="""d.planned_start >= $2 AND d.planned_start < $3
                                AND d.state = ANY($4::text[])"""),
        driver_id, start, start + timedelta(days=days), list(UNFINISHED_STATES),
    )


# `last_odometer_km` is the best guess of the dashboard reading for the odometer fields: the
# newest of the terminal's odometer, the car's last return and this order's departure.
_ORDERS = """SELECT d.id, d.state, d.version, d.planned_start, d.planned_end, d.assigned_at,
                  d.accepted_at, d.departed_at, d.arrived_pickup_at, d.service_started_at,
                  d.service_ended_at, d.returned_at, d.odometer_start_km, d.odometer_end_km,
                  d.tolls_cny, d.parking_cny, d.fuel_cny, d.fuel_l, d.charge_kwh,
                  d.nights_out_of_town,
                  v.id AS vehicle_id, v.plate, v.car_level, v.seats, v.energy_type,
                  v.source AS vehicle_source, v.brand_model,
                  rc.name_zh AS rental_company_name_zh, rc.name_en AS rental_company_name_en,
                  EXISTS (SELECT 1 FROM devices t WHERE t.vehicle_id = v.id
                          AND t.kind = 'terminal') AS has_terminal,
                  round(greatest(
                      ls.odometer_km,
                      (SELECT max(o.odometer_end_km) FROM dispatch_orders o
                       WHERE o.vehicle_id = v.id AND o.id <> d.id),
                      d.odometer_start_km)::numeric, 1)::float8 AS last_odometer_km,
                  (SELECT sum(x.passenger_count) FROM dispatch_order_requests x
                   WHERE x.order_id = d.id)::int AS passenger_count
           FROM dispatch_orders d
           JOIN vehicles v ON v.id = d.vehicle_id
           LEFT JOIN latest_vehicle_state ls ON ls.vehicle_id = v.id
           LEFT JOIN rental_companies rc ON rc.id = d.rental_company_id
           WHERE d.driver_id = $1 AND ({where})
           ORDER BY d.planned_start, d.id"""


async def requests_of_orders(
    conn: asyncpg.Connection | asyncpg.Pool, order_ids: list[int]
) -> list[asyncpg.Record]:
    """The trip requests the orders carry (a carpooled order carries several), with the
    applicant's name and phone and the unit's names."""
    return await conn.fetch(
        """SELECT x.order_id, r.id, r.trip_type, r.reason, r.passengers, r.passenger_count,
                  r.planned_start, r.planned_end, r.origin, r.destinations, r.round_trip,
                  r.driver_waits, r.contact_phone,
                  u.display_name AS applicant_name, u.phone AS applicant_phone,
                  o.name_zh AS unit_name_zh, o.name_en AS unit_name_en
           FROM dispatch_order_requests x
           JOIN trip_requests r ON r.id = x.request_id
           JOIN users u ON u.id = r.applicant_id
           JOIN organisations o ON o.id = r.org_id
           WHERE x.order_id = ANY($1::int[])
           ORDER BY x.order_id, r.planned_start, r.id""",
        order_ids,
    )


async def city_names(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, tuple[str, str]]:
    rows = await conn.fetch("SELECT code, name_zh, name_en FROM cities")
    return {r["code"]: (r["name_zh"], r["name_en"]) for r in rows}


async def order_on_the_road(conn: asyncpg.Connection, driver_id: int) -> asyncpg.Record | None:
    """The driver's order whose car is on the road (the latest departed, should there be
    two), with the car's own terminal if it has one."""
    return await conn.fetchrow(
        """SELECT d.id, d.vehicle_id, v.plate,
                  (SELECT t.uid FROM devices t WHERE t.vehicle_id = d.vehicle_id
                   AND t.kind = 'terminal') AS terminal_uid
           FROM dispatch_orders d JOIN vehicles v ON v.id = d.vehicle_id
           WHERE d.driver_id = $1 AND d.state = ANY($2::text[])
           ORDER BY d.departed_at DESC NULLS LAST, d.id DESC LIMIT 1""",
        driver_id, list(ON_THE_ROAD_STATES),
    )

