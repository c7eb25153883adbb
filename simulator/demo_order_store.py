"""PostgreSQL side of the demo's orders (simulator/demo_orders.py): an approved trip request
(用车申请) and its dispatch order (派车单) per covered outing, then the order's departure and
return — plain SQL, one transaction per step, the same rows and events the dispatch workflow
writes (dispatch/store.py, dispatch/order_store.py, fleet/month_seed.py).

Applicants are the generated one-account-per-unit requesters (`gen-<unit code>`, no password,
as fleet/month_seed.py makes them). The driver is a free one of the car's organisation (else
of its city; a leased car's from its rental company; none when nobody is free); the car
itself must be free too: the exclusion constraints of migration 0004 refuse a double booking,
and the outing is then left without an order. Every demo order carries the mark DEMO_MARK in
the data of its first event, so that a restarted simulator can close what it left open.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dispatch.billing_store import price_orders

DEMO_MARK = "demo_outing"  # key in the first event's data: "<plate>#<outing number>"
BOOKING_STATES = ["assigned", "accepted", "departed", "at_pickup", "in_service", "service_ended"]


@dataclass(frozen=True)
class Filing:
    """What one outing's request and order say (built by demo_orders.filing_of)."""

    plate: str
    number: int
    planned_start: datetime
    planned_end: datetime
    origin: dict[str, Any]
    destinations: list[dict[str, Any]]
    reason: str
    passengers: list[str]
    cross_city: bool

    @property
    def mark(self) -> str:
        return f"{self.plate}#{self.number}"


@dataclass(frozen=True)
class Car:
    id: int
    owner_org_id: int
    owner_is_unit: bool
    city_code: str
    rental_company_id: int | None
    price_plan_id: int | None


@dataclass(frozen=True)
class Book:
    """The cars by plate and who files their requests: a car's own unit, else a unit of its
    city (user id, unit id)."""

    cars: dict[str, Car]
    applicant_of_unit: dict[int, int]
    units_of_city: dict[str, list[tuple[int, int]]]

    def applicant(self, car: Car, filing: Filing) -> tuple[int, int] | None:
        if car.owner_is_unit and car.owner_org_id in self.applicant_of_unit:
            return self.applicant_of_unit[car.owner_org_id], car.owner_org_id
        units = self.units_of_city.get(car.city_code) or []
        if not units:
            return None
        return units[zlib.crc32(filing.mark.encode()) % len(units)]


async def load_book(conn: asyncpg.Connection) -> Book:
    await conn.execute(
        """INSERT INTO users (username, display_name, org_id, roles, password_hash)
           SELECT 'gen-' || lower(o.code), o.name_zh || '经办人', o.id, ARRAY['requester'], NULL
           FROM organisations o WHERE o.kind = 'unit'
           ON CONFLICT (username) DO NOTHING""")
    applicants = await conn.fetch(
        """SELECT u.id AS user_id, o.id AS org_id, o.city_code FROM users u
           JOIN organisations o ON o.id = u.org_id
           WHERE o.kind = 'unit' AND u.username = 'gen-' || lower(o.code) ORDER BY o.code""")
    units: dict[str, list[tuple[int, int]]] = {}
    for a in applicants:
        units.setdefault(a["city_code"], []).append((a["user_id"], a["org_id"]))
    cars = await conn.fetch(
        """SELECT v.id, v.plate, v.owner_org_id, o.kind = 'unit' AS owner_is_unit,
                  v.home_city_code, v.rental_company_id,
                  (SELECT p.id FROM price_plans p WHERE p.company_id = v.rental_company_id
                     AND p.car_level = v.car_level AND p.charter_type = 'trip'
                     AND p.mode = 'with_driver') AS price_plan_id
           FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id""")
    return Book(
        cars={c["plate"]: Car(c["id"], c["owner_org_id"], c["owner_is_unit"],
                              c["home_city_code"], c["rental_company_id"], c["price_plan_id"])
              for c in cars},
        applicant_of_unit={a["org_id"]: a["user_id"] for a in applicants},
        units_of_city=units,
    )


# A driver free over the order's booking range: of the rental company for a leased car, else
# of the car's organisation first, then of its city; never one with a login (driver1's page
# shows the demo's own order). The constraint still has the last word.
_FREE_DRIVER = """
SELECT d.id FROM drivers d
WHERE d.user_id IS NULL
  AND CASE WHEN $1::int IS NOT NULL THEN d.rental_company_id = $1
           ELSE d.rental_company_id IS NULL AND (d.org_id = $2 OR d.home_city_code = $3) END
  AND NOT EXISTS (SELECT 1 FROM dispatch_orders o WHERE o.driver_id = d.id
                  AND o.state = ANY($6::text[])
                  AND booking_range(o.planned_start, o.planned_end) && booking_range($4, $5))
ORDER BY d.org_id = $2 DESC, md5(d.id::text || $7)
LIMIT 1"""


async def file_order(conn: asyncpg.Connection, book: Book, f: Filing) -> tuple[int, int] | None:
    """Files the approved request and its accepted order in one transaction; (order id,
    request id), or None when the car is not known or already booked then."""
    car = book.cars.get(f.plate)
    applicant = None if car is None else book.applicant(car, f)
    if car is None or applicant is None:
        return None
    user_id, unit_id = applicant
    try:
        async with conn.transaction():
            driver = await conn.fetchval(
                _FREE_DRIVER, car.rental_company_id, car.owner_org_id, car.city_code,
                f.planned_start, f.planned_end, BOOKING_STATES, f.mark)
            return await _insert(conn, car, f, user_id, unit_id, driver)
    except asyncpg.ExclusionViolationError:
        return None


async def _insert(conn: asyncpg.Connection, car: Car, f: Filing, user_id: int, unit_id: int,
                  driver: int | None) -> tuple[int, int]:
    levels = 2 if f.cross_city else 1  # 跨市 adds a level
    request_id = await conn.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passengers,
               passenger_count, planned_start, planned_end, origin, destinations, round_trip,
               state, approval_levels, approved_levels, approval_reasons)
           VALUES ($1, $2, 'official', $3, $4, $5, $6, $7, $8, $9, true, 'dispatched', $10,
                   $10, $11) RETURNING id""",
        user_id, unit_id, f.reason, f.passengers, len(f.passengers), f.planned_start,
        f.planned_end, f.origin, f.destinations, levels, ["cross_city"] if f.cross_city else [])
    steps = [("submit", "draft", "submitted", user_id), ("checked", "submitted",
                                                         "pending_approval", user_id)]
    steps += [("approve", "pending_approval",
               "approved" if level == levels else "pending_approval", None)
              for level in range(1, levels + 1)]
    steps += [("dispatch", "approved", "dispatching", None),
              ("all_assigned", "dispatching", "dispatched", None)]
    await conn.executemany(
        """INSERT INTO trip_request_events (request_id, event, from_state, to_state, actor_id)
           VALUES ($1, $2, $3, $4, $5)""", [(request_id, *s) for s in steps])
    leased = car.rental_company_id is not None
    order_id = await conn.fetchval(
        """INSERT INTO dispatch_orders (request_id, vehicle_id, driver_id, rental_company_id,
               state, planned_start, planned_end, assigned_at, accepted_at, charter_type,
               service_mode, price_plan_id, sent_to_rental_at)
           VALUES ($1, $2, $3, $4, 'accepted', $5, $6, now(), now(), $7, $8, $9,
                   CASE WHEN $4::int IS NULL THEN NULL ELSE now() END) RETURNING id""",
        request_id, car.id, driver, car.rental_company_id, f.planned_start, f.planned_end,
        "trip" if leased else None, "with_driver" if leased else None, car.price_plan_id)
    await conn.execute(
        """INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count)
           VALUES ($1, $2, $3)""", order_id, request_id, len(f.passengers))
    events = [("send_to_rental", "created", "sent_to_rental"),
              ("rental_accept", "sent_to_rental", "assigned")] if leased \
        else [("assign", "created", "assigned")]
    events.append(("driver_accept", "assigned", "accepted"))
    await conn.executemany(
        """INSERT INTO dispatch_order_events (order_id, event, from_state, to_state, data)
           VALUES ($1, $2, $3, $4, $5)""",
        [(order_id, *e, {DEMO_MARK: f.mark} if i == 0 else {}) for i, e in enumerate(events)])
    return order_id, request_id


async def mark_departed(conn: asyncpg.Connection, order_id: int, request_id: int,
                        at: datetime, odometer_km: float | None) -> bool:
    """出车: the driver leaves with the passengers (picked up at the lot: the order's origin)."""
    async with conn.transaction():
        moved = await conn.fetchval(
            """UPDATE dispatch_orders SET state = 'in_service', departed_at = $2,
                   arrived_pickup_at = $2, service_started_at = $2, odometer_start_km = $3,
                   version = version + 1
               WHERE id = $1 AND state = 'accepted' RETURNING id""", order_id, at, odometer_km)
        if moved is None:  # cancelled or changed meanwhile (someone acted in the console)
            return False
        await _order_events(conn, order_id, at, [
            ("depart", "accepted", "departed"), ("arrive_pickup", "departed", "at_pickup"),
            ("start_service", "at_pickup", "in_service")], {"odometer_km": odometer_km})
        await _request_step(conn, request_id, at, "depart", "dispatched", "in_progress")
    return True


async def mark_returned(conn: asyncpg.Connection, order_id: int, request_id: int,
                        at: datetime, odometer_km: float | None) -> bool:
    """回场: back at the lot; the order is priced as the driver's return would price it."""
    async with conn.transaction():
        moved = await conn.fetchval(
            """UPDATE dispatch_orders SET state = 'returned', service_ended_at = $2,
                   returned_at = $2, odometer_end_km = $3, version = version + 1
               WHERE id = $1 AND state = 'in_service' RETURNING id""", order_id, at, odometer_km)
        if moved is None:
            return False
        await _order_events(conn, order_id, at, [
            ("end_service", "in_service", "service_ended"),
            ("return", "service_ended", "returned")], {"odometer_km": odometer_km})
        await _request_step(conn, request_id, at, "complete", "in_progress", "completed")
        await price_orders(conn, [order_id])
    return True


async def _order_events(conn: asyncpg.Connection, order_id: int, at: datetime,
                        events: list[tuple[str, str, str]], data: dict[str, Any]) -> None:
    await conn.executemany(
        """INSERT INTO dispatch_order_events (order_id, event, from_state, to_state, at, data)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(order_id, *e, at, data if i == 0 else {}) for i, e in enumerate(events)])


async def _request_step(conn: asyncpg.Connection, request_id: int, at: datetime, event: str,
                        from_state: str, to_state: str) -> None:
    moved = await conn.fetchval(
        """UPDATE trip_requests SET state = $3, version = version + 1
           WHERE id = $1 AND state = $2 RETURNING id""", request_id, from_state, to_state)
    if moved is not None:
        await conn.execute(
            """INSERT INTO trip_request_events (request_id, event, from_state, to_state, at)
               VALUES ($1, $2, $3, $4, $5)""", request_id, event, from_state, to_state, at)


async def close_leftovers(conn: asyncpg.Connection) -> tuple[int, int]:
    """Orders an earlier simulator run left open (it stopped while they were pending or on
    the road): pending ones are cancelled, those on the road returned at their planned end
    (or now, if earlier; the plan then ends there too, as cut short: no R13 for the return).
    Else they would hold their car and cover its trips for ever.
    Returns (cancelled, returned)."""
    async with conn.transaction():
        rows = await conn.fetch(
            f"""SELECT d.id, d.request_id, d.state, d.departed_at,
                       least(d.planned_end, now()) AS back_at
                FROM dispatch_orders d
                WHERE d.state = ANY($1::text[]) AND EXISTS (
                    SELECT 1 FROM dispatch_order_events e
                    WHERE e.order_id = d.id AND e.data ? '{DEMO_MARK}')
                FOR UPDATE OF d""", BOOKING_STATES)
        cancelled = returned = 0
        for r in rows:
            if r["departed_at"] is None:
                await conn.execute("UPDATE dispatch_orders SET state = 'cancelled', "
                                   "version = version + 1 WHERE id = $1", r["id"])
                await _order_events(conn, r["id"], r["back_at"],
                                    [("cancel", r["state"], "cancelled")], {})
                await _request_step(conn, r["request_id"], r["back_at"], "withdraw",
                                    "dispatched", "withdrawn")
                cancelled += 1
                continue
            back_at = max(r["back_at"], r["departed_at"])
            await conn.execute(
                """UPDATE dispatch_orders SET state = 'returned', returned_at = $2,
                       planned_end = $2, service_ended_at = coalesce(service_ended_at, $2),
                       version = version + 1
                   WHERE id = $1""", r["id"], back_at)
            await _order_events(conn, r["id"], back_at, [("return", r["state"], "returned")],
                                {"note": "simulator stopped"})
            await _request_step(conn, r["request_id"], back_at, "complete", "in_progress",
                                "completed")
            returned += 1
    return cancelled, returned
