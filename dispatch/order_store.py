"""PostgreSQL side of dispatch orders (派车单): create, load within the caller's reach, save a
transition with its event row (optimistic version), the requests an order carries, and what
an assignment must know about a car and a driver.

Who reaches an order: anyone whose scope holds the unit of one of its requests (a carpooled
order carries several), its driver, and the operators of the rental company it was sent to.
A double booking surfaces as asyncpg.ExclusionViolationError from the constraints of
migration 0004; the route answers 409.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from dispatch.store import StaleVersion

ORDER_COLUMNS = """d.id, d.request_id, d.vehicle_id, d.driver_id, d.rental_company_id, d.state,
    d.planned_start, d.planned_end, d.departed_at, d.returned_at, d.odometer_start_km,
    d.odometer_end_km, d.version, d.created_at, d.charter_type, d.service_mode,
    d.price_plan_id, d.sent_to_rental_at, d.rental_deadline, d.assigned_at, d.accepted_at,
    d.arrived_pickup_at, d.service_started_at, d.service_ended_at, d.tolls_cny, d.parking_cny,
    d.fuel_cny, d.fuel_l, d.charge_kwh, d.nights_out_of_town, d.rating, d.feedback,
    d.dispute_reason, d.gnss_km, d.billed_km, d.fee_cny, d.fee_lines,
    v.plate, v.car_level, v.seats, v.source AS vehicle_source, dr.name AS driver_name,
    dr.phone AS driver_phone, dr.user_id AS driver_user_id, rc.name_zh AS rental_company_name_zh,
    rc.name_en AS rental_company_name_en,
    (SELECT sum(x.passenger_count) FROM dispatch_order_requests x
     WHERE x.order_id = d.id)::int AS passenger_count,
    (SELECT array_agg(x.request_id ORDER BY x.request_id) FROM dispatch_order_requests x
     WHERE x.order_id = d.id) AS request_ids"""

ORDER_FROM = """FROM dispatch_orders d
    LEFT JOIN vehicles v ON v.id = d.vehicle_id
    LEFT JOIN drivers dr ON dr.id = d.driver_id
    LEFT JOIN rental_companies rc ON rc.id = d.rental_company_id"""

# $2 scope root, $3 user id, $4 the user's rental company (or NULL)
REACH = """(EXISTS (SELECT 1 FROM dispatch_order_requests x
                    JOIN trip_requests r ON r.id = x.request_id
                    JOIN organisations o ON o.id = r.org_id
                    WHERE x.order_id = d.id AND o.path @> ARRAY[$2::int])
           OR dr.user_id = $3
           OR (d.rental_company_id IS NOT NULL AND d.rental_company_id = $4))"""

ORDER_FIELDS = frozenset({
    "vehicle_id", "driver_id", "rental_company_id", "charter_type", "service_mode",
    "price_plan_id", "sent_to_rental_at", "rental_deadline", "assigned_at", "accepted_at",
    "departed_at", "arrived_pickup_at", "service_started_at", "service_ended_at", "returned_at",
    "odometer_start_km", "odometer_end_km", "tolls_cny", "parking_cny", "fuel_cny", "fuel_l",
    "charge_kwh", "nights_out_of_town", "rating", "feedback", "dispute_reason",
})


async def insert_order(conn: asyncpg.Connection, request_ids: list[int]) -> int:
    """A new order (待派车) carrying these requests (one, or several merged: 公务拼车); its
    window spans theirs, and the first request leads it."""
    order_id = await conn.fetchval(
        """INSERT INTO dispatch_orders (request_id, planned_start, planned_end)
           SELECT $1, min(planned_start), max(planned_end) FROM trip_requests
           WHERE id = ANY($2::int[]) RETURNING id""",
        request_ids[0], request_ids,
    )
    await conn.execute(
        """INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count)
           SELECT $1, id, passenger_count FROM trip_requests WHERE id = ANY($2::int[])""",
        order_id, request_ids,
    )
    return order_id


async def fetch_order(
    conn: asyncpg.Connection | asyncpg.Pool, order_id: int, scope_root_id: int, user_id: int,
    rental_company_id: int | None, *, lock: bool = False,
) -> asyncpg.Record | None:
    """The order if the caller reaches it (see the module docstring), else None."""
    sql = f"SELECT {ORDER_COLUMNS} {ORDER_FROM} WHERE d.id = $1 AND {REACH}"
    if lock:
        sql += " FOR UPDATE OF d"
    return await conn.fetchrow(sql, order_id, scope_root_id, user_id, rental_company_id)


async def fetch_order_unscoped(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record:
    return await conn.fetchrow(f"SELECT {ORDER_COLUMNS} {ORDER_FROM} WHERE d.id = $1", order_id)


async def orders_of_request(
    conn: asyncpg.Pool | asyncpg.Connection, request_id: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {ORDER_COLUMNS} {ORDER_FROM}
            WHERE d.id IN (SELECT order_id FROM dispatch_order_requests WHERE request_id = $1)
            ORDER BY d.id""",
        request_id,
    )


async def request_ids_of_order(conn: asyncpg.Connection, order_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT request_id FROM dispatch_order_requests WHERE order_id = $1 ORDER BY request_id",
        order_id,
    )
    return [r["request_id"] for r in rows]


async def save_order(
    conn: asyncpg.Connection, order_id: int, version: int, from_state: str, to_state: str,
    event: str, actor_id: int | None, note: str, changes: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> int:
    """New state (and fields) with its event row; StaleVersion if someone moved it meanwhile."""
    unknown = set(changes) - ORDER_FIELDS
    if unknown:
        raise ValueError(f"not an order field: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=4))
    sql = (f"UPDATE dispatch_orders SET state = $2, version = version + 1"
           f"{', ' + sets if sets else ''} WHERE id = $1 AND version = $3 RETURNING version")
    new_version = await conn.fetchval(sql, order_id, to_state, version, *changes.values())
    if new_version is None:
        raise StaleVersion
    await conn.execute(
        """INSERT INTO dispatch_order_events (order_id, event, from_state, to_state, actor_id,
               note, data)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        order_id, event, from_state, to_state, actor_id, note, data or {},
    )
    return new_version


async def order_history(pool: asyncpg.Pool, order_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT e.event, e.from_state, e.to_state, e.at, e.note, e.data,
                  u.display_name AS actor
           FROM dispatch_order_events e LEFT JOIN users u ON u.id = e.actor_id
           WHERE e.order_id = $1 ORDER BY e.id""",
        order_id,
    )


async def car_for_assignment(conn: asyncpg.Connection, vehicle_id: int) -> asyncpg.Record | None:
    """What an assignment checks about a car: source, owner, city, seats, class, documents."""
    return await conn.fetchrow(
        """SELECT v.id, v.plate, v.source, v.owner_org_id, v.home_city_code, v.seats,
                  v.car_level, v.active, v.rental_company_id,
                  coalesce((SELECT jsonb_object_agg(kind, expires_on) FROM vehicle_documents
                            WHERE vehicle_id = v.id), '{}') AS documents
           FROM vehicles v WHERE v.id = $1""",
        vehicle_id,
    )


async def last_returned_odometer(
    conn: asyncpg.Connection, vehicle_id: int | None, order_id: int
) -> float | None:
    """The highest odometer the car came back with from its other orders."""
    if vehicle_id is None:
        return None
    return await conn.fetchval(
        """SELECT max(odometer_end_km) FROM dispatch_orders
           WHERE vehicle_id = $1 AND id <> $2 AND returned_at IS NOT NULL""",
        vehicle_id, order_id,
    )


async def driver_for_assignment(conn: asyncpg.Connection, driver_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT dr.id, dr.name, dr.user_id, dr.rental_company_id, dr.home_city_code
           FROM drivers dr WHERE dr.id = $1""",
        driver_id,
    )


async def need_of_order(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record:
    return await need_of_requests(conn, await request_ids_of_order(conn, order_id))


async def need_of_requests(conn: asyncpg.Connection, request_ids: list[int]) -> asyncpg.Record:
    """What requests riding together ask of a car: the first one's unit and city and car level,
    every city touched, the window spanning theirs, all passengers, whether any is 机要."""
    return await conn.fetchrow(
        """SELECT lead.org_id, lead.origin->>'city_code' AS city, lead.car_level_wanted,
                  (SELECT min(r.planned_start) FROM trip_requests r WHERE r.id = ANY($2::int[]))
                      AS planned_start,
                  (SELECT max(r.planned_end) FROM trip_requests r WHERE r.id = ANY($2::int[]))
                      AS planned_end,
                  (SELECT sum(r.passenger_count) FROM trip_requests r
                   WHERE r.id = ANY($2::int[]))::int AS passengers,
                  (SELECT array_agg(DISTINCT c) FROM trip_requests r,
                   LATERAL (SELECT r.origin->>'city_code' AS c
                            UNION SELECT e->>'city_code' FROM jsonb_array_elements(r.destinations) e) cities
                   WHERE r.id = ANY($2::int[])) AS cities,
                  (SELECT bool_or(r.trip_type = 'confidential') FROM trip_requests r
                   WHERE r.id = ANY($2::int[])) AS confidential
           FROM trip_requests lead WHERE lead.id = $1""",
        request_ids[0], request_ids,
    )


def documents_of(row: asyncpg.Record) -> dict[str, date]:
    """kind -> expiry; an unreadable date (PostgreSQL's ±infinity) counts as no document."""
    documents = {}
    for kind, value in (row["documents"] or {}).items():
        try:
            documents[kind] = date.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    return documents


async def price_plan_for(
    conn: asyncpg.Connection, company_id: int, car_level: str, charter_type: str, mode: str
) -> int | None:
    return await conn.fetchval(
        """SELECT id FROM price_plans WHERE company_id = $1 AND car_level = $2
           AND charter_type = $3 AND mode = $4""",
        company_id, car_level, charter_type, mode,
    )


async def company(conn: asyncpg.Connection, company_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, code, name_zh, name_en, service_city_codes, accept_timeout_s,
                  contract_start, contract_end
           FROM rental_companies WHERE id = $1""",
        company_id,
    )


async def applicants_of_order(conn: asyncpg.Connection, order_id: int) -> list[int]:
    rows = await conn.fetch(
        """SELECT DISTINCT r.applicant_id FROM dispatch_order_requests x
           JOIN trip_requests r ON r.id = x.request_id WHERE x.order_id = $1""",
        order_id,
    )
    return [r["applicant_id"] for r in rows]


async def operators_of_company(conn: asyncpg.Connection, company_id: int) -> list[int]:
    rows = await conn.fetch(
        """SELECT id FROM users WHERE rental_company_id = $1 AND active
           AND 'rental_operator' = ANY(roles)""",
        company_id,
    )
    return [r["id"] for r in rows]


async def dispatchers_of_order(conn: asyncpg.Connection, order_id: int) -> list[int]:
    """Dispatchers whose scope holds the lead request's unit (a platform's staff work for its
    city: their scope is the platform's parent)."""
    rows = await conn.fetch(
        """SELECT u.id FROM users u JOIN organisations uo ON uo.id = u.org_id,
                  dispatch_orders d JOIN trip_requests r ON r.id = d.request_id
                  JOIN organisations ro ON ro.id = r.org_id
           WHERE d.id = $1 AND u.active AND 'dispatcher' = ANY(u.roles)
             AND ro.path @> ARRAY[CASE WHEN uo.kind = 'platform' AND uo.parent_id IS NOT NULL
                                       THEN uo.parent_id ELSE uo.id END]""",
        order_id,
    )
    return [r["id"] for r in rows]
