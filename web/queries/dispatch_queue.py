"""Reads for the dispatcher's console: the queue, the cars and drivers for an order, the
rental companies that could take it, and the orders on the road. Plain SQL."""

from __future__ import annotations

from datetime import datetime

import asyncpg

_REQUEST_COLUMNS = """r.id, r.trip_type, r.reason, r.passenger_count, r.planned_start,
    r.planned_end, r.origin, r.destinations, r.round_trip, r.driver_waits, r.car_level_wanted,
    r.carpool_allowed, r.state, r.version, r.emergency_deadline, r.emergency_approved,
    r.approval_levels, r.approved_levels, r.created_at,
    o.id AS org_id, o.name_zh AS org_name_zh, o.name_en AS org_name_en,
    o.city_code AS home_city, u.display_name AS applicant_name"""

# orders not yet holding a car: the dispatcher still has to act on them
_OPEN_ORDERS = """coalesce((SELECT jsonb_agg(jsonb_build_object(
        'id', d.id, 'state', d.state, 'version', d.version,
        'rental_company_id', d.rental_company_id, 'rental_deadline', d.rental_deadline,
        'planned_start', d.planned_start, 'planned_end', d.planned_end,
        'passenger_count', (SELECT sum(x3.passenger_count) FROM dispatch_order_requests x3
                            WHERE x3.order_id = d.id),
        'request_ids', (SELECT jsonb_agg(x2.request_id ORDER BY x2.request_id)
                        FROM dispatch_order_requests x2 WHERE x2.order_id = d.id))
        ORDER BY d.id)
    FROM dispatch_order_requests x JOIN dispatch_orders d ON d.id = x.order_id
    WHERE x.request_id = r.id AND d.state IN ('created', 'sent_to_rental')), '[]') AS open_orders,
    (SELECT count(*) FROM dispatch_order_requests x JOIN dispatch_orders d ON d.id = x.order_id
     WHERE x.request_id = r.id AND d.state NOT IN ('created', 'sent_to_rental', 'cancelled'))::int
     AS held_orders"""


async def queue(pool: asyncpg.Pool, scope_root_id: int, limit: int) -> list[asyncpg.Record]:
    """Requests waiting for cars: approved (no order yet) or being dispatched, emergencies
    first, then by planned start."""
    return await pool.fetch(
        f"""SELECT {_REQUEST_COLUMNS}, {_OPEN_ORDERS}
            FROM trip_requests r
            JOIN organisations o ON o.id = r.org_id
            JOIN users u ON u.id = r.applicant_id
            WHERE o.path @> ARRAY[$1::int] AND r.state IN ('approved', 'dispatching')
            ORDER BY (r.trip_type = 'emergency') DESC, r.planned_start, r.id
            LIMIT $2""",
        scope_root_id, limit,
    )


async def orders_on_the_road(pool: asyncpg.Pool, scope_root_id: int) -> list[asyncpg.Record]:
    """Orders holding a car (assigned … service ended), with the car and the first request's
    route, for the map."""
    return await pool.fetch(
        """SELECT d.id, d.state, d.version, d.planned_start, d.planned_end, d.vehicle_id, v.plate,
                  dr.name AS driver_name, r.origin, r.destinations, r.id AS request_id,
                  s.lat, s.lon, v.use_category
           FROM dispatch_orders d
           JOIN trip_requests r ON r.id = d.request_id
           JOIN organisations o ON o.id = r.org_id
           JOIN vehicles v ON v.id = d.vehicle_id
           LEFT JOIN drivers dr ON dr.id = d.driver_id
           LEFT JOIN latest_vehicle_state s ON s.vehicle_id = d.vehicle_id
           WHERE o.path @> ARRAY[$1::int]
             AND d.state IN ('assigned', 'accepted', 'departed', 'at_pickup', 'in_service',
                             'service_ended')
           ORDER BY d.planned_start, d.id""",
        scope_root_id,
    )


async def disputed(pool: asyncpg.Pool, scope_root_id: int) -> list[asyncpg.Record]:
    """Orders the requester disputed (异议), waiting for the dispatcher's resolution."""
    return await pool.fetch(
        """SELECT d.id, d.version, d.state, d.planned_start, d.planned_end, v.plate,
                  dr.name AS driver_name, d.dispute_reason, d.odometer_start_km,
                  d.odometer_end_km, d.tolls_cny, d.parking_cny, d.fuel_cny, d.billed_km,
                  d.gnss_km, d.fee_cny, r.id AS request_id, r.reason AS request_reason
           FROM dispatch_orders d
           JOIN trip_requests r ON r.id = d.request_id
           JOIN organisations o ON o.id = r.org_id
           LEFT JOIN vehicles v ON v.id = d.vehicle_id
           LEFT JOIN drivers dr ON dr.id = d.driver_id
           WHERE o.path @> ARRAY[$1::int] AND d.state = 'disputed'
           ORDER BY d.returned_at, d.id""",
        scope_root_id,
    )


async def cars_for(
    conn: asyncpg.Connection | asyncpg.Pool, org_id: int, city: str, start: datetime, end: datetime,
) -> list[asyncpg.Record]:
    """The unit's retained cars and the city's platform and entrusted cars, with their live
    position, depot, documents, the windows of their live orders around this one, and who
    drove them last."""
    return await conn.fetch(
        """SELECT v.id, v.plate, v.source, v.owner_org_id, v.home_city_code, v.seats, v.car_level,
                  v.energy_type, v.use_category, v.active, s.lat, s.lon, s.ts, s.speed_kmh, s.acc,
                  dev.status AS device_status, dev.report_interval_s,
                  dp.lat AS depot_lat, dp.lon AS depot_lon,
                  coalesce((SELECT jsonb_object_agg(kind, expires_on) FROM vehicle_documents
                            WHERE vehicle_id = v.id), '{}') AS documents,
                  coalesce((SELECT jsonb_agg(jsonb_build_array(b.planned_start, b.planned_end))
                            FROM dispatch_orders b
                            WHERE b.vehicle_id = v.id
                              AND b.state IN ('assigned', 'accepted', 'departed', 'at_pickup',
                                              'in_service', 'service_ended')
                              AND b.planned_start < $4::timestamptz + interval '1 day'
                              AND b.planned_end > $3::timestamptz - interval '1 day'), '[]') AS booked,
                  (SELECT b.driver_id FROM dispatch_orders b
                   WHERE b.vehicle_id = v.id AND b.driver_id IS NOT NULL
                   ORDER BY b.planned_start DESC LIMIT 1) AS last_driver_id
           FROM vehicles v
           LEFT JOIN latest_vehicle_state s ON s.vehicle_id = v.id
           LEFT JOIN devices dev ON dev.vehicle_id = v.id
           LEFT JOIN depots dp ON dp.id = v.depot_id
           WHERE (v.source = 'unit_retained' AND v.owner_org_id = $1)
              OR (v.source IN ('platform', 'entrusted') AND v.home_city_code = $2)""",
        org_id, city, start, end,
    )


async def free_drivers(
    conn: asyncpg.Connection | asyncpg.Pool, city: str, start: datetime, end: datetime,
) -> list[asyncpg.Record]:
    """The city's platform drivers (no rental company) not booked within 30 min of the window,
    with how many orders they have that day."""
    return await conn.fetch(
        """SELECT dr.id, dr.name,
                  (SELECT count(*) FROM dispatch_orders b WHERE b.driver_id = dr.id
                   AND b.state <> 'cancelled'
                   AND (b.planned_start AT TIME ZONE 'Asia/Shanghai')::date
                       = ($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date)::int AS orders_that_day
           FROM drivers dr
           WHERE dr.home_city_code = $1 AND dr.rental_company_id IS NULL
             AND NOT EXISTS (
                 SELECT 1 FROM dispatch_orders b
                 WHERE b.driver_id = dr.id
                   AND b.state IN ('assigned', 'accepted', 'departed', 'at_pickup', 'in_service',
                                   'service_ended')
                   AND booking_range(b.planned_start, b.planned_end) && booking_range($2::timestamptz, $3::timestamptz))
           ORDER BY dr.id""",
        city, start, end,
    )


async def companies_for(
    conn: asyncpg.Connection | asyncpg.Pool, cities: list[str], level: str, on_day: datetime,
) -> list[asyncpg.Record]:
    """Rental companies whose contract is in force and whose service area covers every city,
    with their prices for this car level (车+驾) per charter type."""
    return await conn.fetch(
        """SELECT c.id, c.code, c.name_zh, c.name_en, c.accept_timeout_s,
                  coalesce((SELECT jsonb_object_agg(p.charter_type, p.base_price_cny)
                            FROM price_plans p WHERE p.company_id = c.id AND p.car_level = $2
                              AND p.mode = 'with_driver'), '{}') AS prices
           FROM rental_companies c
           WHERE c.service_city_codes @> $1::text[]
             AND ($3::timestamptz AT TIME ZONE 'Asia/Shanghai')::date BETWEEN c.contract_start AND c.contract_end
           ORDER BY c.id""",
        cities, level, on_day,
    )
