"""What a rental company's operator reads (社会化租赁): the orders sent to the company, with the
trips they carry, and the company's own cars and drivers with their bookings. Plain SQL.

An operator sees only the company's orders and no organisation's other data: the requests an
order carries are shown as far as the company needs them to decide and to serve (unit, places
with their cities, times, passengers count, car level); the applicant's name and phone only
once the company holds the order.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from dispatch.orders import BOOKING_STATES

# The operator's page in tabs: the order states each one shows.
ORDER_GROUPS: dict[str, tuple[str, ...]] = {
    "waiting": ("sent_to_rental",),  # 待接单
    "accepted": ("assigned", "accepted"),  # 已接单 (the driver has or has not confirmed)
    "in_service": ("departed", "at_pickup", "in_service", "service_ended"),  # 服务中
    "history": ("returned", "disputed", "confirmed", "rated", "settled", "cancelled"),  # 历史
}
LIVE_BOOKINGS = sorted(s.value for s in BOOKING_STATES)

_PLACE = """jsonb_build_object('name', {p}->>'name', 'city_code', {p}->>'city_code',
    'city_name_zh', {c}.name_zh, 'city_name_en', {c}.name_en)"""

# One request as the company sees it; `held` ($ parameter position given by the caller)
# decides whether the applicant's name and phone are included.
_REQUESTS = f"""(SELECT jsonb_agg(jsonb_build_object(
        'request_id', r.id, 'unit_name_zh', o.name_zh, 'unit_name_en', o.name_en,
        'passenger_count', x.passenger_count, 'trip_type', r.trip_type,
        'planned_start', r.planned_start, 'planned_end', r.planned_end,
        'round_trip', r.round_trip, 'driver_waits', r.driver_waits,
        'car_level_wanted', r.car_level_wanted,
        'origin', {_PLACE.format(p="r.origin", c="oc")},
        'destinations', (SELECT jsonb_agg({_PLACE.format(p="e.place", c="dc")} ORDER BY e.i)
                         FROM jsonb_array_elements(r.destinations) WITH ORDINALITY e(place, i)
                         LEFT JOIN cities dc ON dc.code = e.place->>'city_code'),
        'applicant_name', CASE WHEN d.state <> 'sent_to_rental' THEN a.display_name END,
        'contact_phone', CASE WHEN d.state <> 'sent_to_rental' THEN r.contact_phone END
    ) ORDER BY r.id)
    FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
    JOIN organisations o ON o.id = r.org_id JOIN users a ON a.id = r.applicant_id
    LEFT JOIN cities oc ON oc.code = r.origin->>'city_code'
    WHERE x.order_id = d.id)"""

_ORDER_SELECT = f"""SELECT d.id, d.state, d.version, d.planned_start, d.planned_end,
    d.sent_to_rental_at, d.rental_deadline, d.charter_type, d.service_mode, d.assigned_at,
    d.accepted_at, d.departed_at, d.returned_at, d.fee_cny,
    d.vehicle_id, v.plate, v.car_level AS vehicle_car_level, v.seats AS vehicle_seats,
    d.driver_id, dr.name AS driver_name, dr.phone AS driver_phone,
    lead.car_level_wanted,
    (SELECT sum(x.passenger_count) FROM dispatch_order_requests x
     WHERE x.order_id = d.id)::int AS passenger_count,
    CASE WHEN p.id IS NOT NULL THEN jsonb_build_object(
        'id', p.id, 'car_level', p.car_level, 'charter_type', p.charter_type, 'mode', p.mode,
        'base_price_cny', p.base_price_cny, 'included_hours', p.included_hours,
        'included_km', p.included_km, 'overtime_cny_per_h', p.overtime_cny_per_h,
        'over_km_cny_per_km', p.over_km_cny_per_km,
        'night_surcharge_cny', p.night_surcharge_cny,
        'out_of_town_cny_per_day', p.out_of_town_cny_per_day,
        'late_penalty_cny', p.late_penalty_cny) END AS price_plan,
    {_REQUESTS} AS requests
FROM dispatch_orders d
JOIN trip_requests lead ON lead.id = d.request_id
LEFT JOIN price_plans p ON p.id = d.price_plan_id
LEFT JOIN vehicles v ON v.id = d.vehicle_id
LEFT JOIN drivers dr ON dr.id = d.driver_id"""


async def company(conn: asyncpg.Connection | asyncpg.Pool, company_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, code, name_zh, name_en, contract_no, contract_start, contract_end,
                  service_city_codes, accept_timeout_s
           FROM rental_companies WHERE id = $1""",
        company_id,
    )


async def orders(
    pool: asyncpg.Pool, company_id: int, states: tuple[str, ...], limit: int, offset: int,
) -> list[asyncpg.Record]:
    """The company's orders in these states: waiting ones by deadline (the most urgent first),
    the rest by planned start, newest first."""
    waiting_only = states == ORDER_GROUPS["waiting"]
    order = "d.rental_deadline, d.id" if waiting_only else "d.planned_start DESC, d.id DESC"
    return await pool.fetch(
        f"""{_ORDER_SELECT}
            WHERE d.rental_company_id = $1 AND d.state = ANY($2::text[])
            ORDER BY {order} LIMIT $3 OFFSET $4""",
        company_id, list(states), limit, offset,
    )


async def order(
    conn: asyncpg.Connection | asyncpg.Pool, company_id: int, order_id: int
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"{_ORDER_SELECT} WHERE d.id = $2 AND d.rental_company_id = $1", company_id, order_id)


async def order_counts(pool: asyncpg.Pool, company_id: int) -> dict[str, int]:
    """How many of the company's orders each tab holds."""
    filters = ", ".join(f"count(*) FILTER (WHERE state = ANY(${i}::text[])) AS {name}"
                        for i, name in enumerate(ORDER_GROUPS, start=2))
    row = await pool.fetchrow(
        f"SELECT {filters} FROM dispatch_orders WHERE rental_company_id = $1",
        company_id, *(list(states) for states in ORDER_GROUPS.values()),
    )
    return dict(row)


async def declined(
    pool: asyncpg.Pool, company_id: int, limit: int
) -> list[asyncpg.Record]:
    """Orders the company let go: rejected by one of its operators, or not answered in time.
    Only the order's id, window and what happened: the order is no longer the company's."""
    return await pool.fetch(
        """SELECT e.order_id, e.event, e.at, e.note, d.planned_start, d.planned_end
           FROM dispatch_order_events e JOIN dispatch_orders d ON d.id = e.order_id
           LEFT JOIN users u ON u.id = e.actor_id
           WHERE (e.event = 'rental_reject' AND u.rental_company_id = $1)
              OR (e.event = 'rental_timeout' AND e.data @> jsonb_build_object('rental_company_id', $1::int))
           ORDER BY e.id DESC LIMIT $2""",
        company_id, limit,
    )


_BOOKINGS = """coalesce((SELECT jsonb_agg(jsonb_build_object('order_id', d.id, 'state', d.state,
        'planned_start', d.planned_start, 'planned_end', d.planned_end) ORDER BY d.planned_start)
    FROM dispatch_orders d WHERE d.{column} = {table}.id AND d.state = ANY($2::text[])
      AND d.planned_end + interval '30 minutes' > $3 AND d.id <> $4), '[]')"""


async def cars(
    conn: asyncpg.Connection | asyncpg.Pool, company_id: int, since: datetime, except_order: int,
) -> list[asyncpg.Record]:
    """The company's leased cars, their 一车一档 documents, and their live bookings that have not
    ended 30 min before `since` (the order `except_order` left out)."""
    return await conn.fetch(
        f"""SELECT v.id, v.plate, v.car_level, v.seats, v.energy_type, v.brand_model,
                   v.home_city_code, c.name_zh AS home_city_name_zh,
                   c.name_en AS home_city_name_en, v.active,
                   coalesce((SELECT jsonb_object_agg(kind, expires_on) FROM vehicle_documents
                             WHERE vehicle_id = v.id), '{{}}') AS documents,
                   {_BOOKINGS.format(column="vehicle_id", table="v")} AS bookings
            FROM vehicles v JOIN cities c ON c.code = v.home_city_code
            WHERE v.source = 'leased' AND v.rental_company_id = $1
            ORDER BY v.seats, v.car_level, v.plate""",
        company_id, LIVE_BOOKINGS, since, except_order,
    )


async def drivers(
    conn: asyncpg.Connection | asyncpg.Pool, company_id: int, since: datetime, except_order: int,
) -> list[asyncpg.Record]:
    """The company's drivers (whether they can log in to the driver page) and their bookings."""
    return await conn.fetch(
        f"""SELECT dr.id, dr.code, dr.name, dr.phone, dr.license_class, dr.home_city_code,
                   dr.user_id IS NOT NULL AS has_login,
                   {_BOOKINGS.format(column="driver_id", table="dr")} AS bookings
            FROM drivers dr WHERE dr.rental_company_id = $1 ORDER BY dr.code""",
        company_id, LIVE_BOOKINGS, since, except_order,
    )
