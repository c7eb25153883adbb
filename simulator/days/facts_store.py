"""The database facts of labelled days, written into the real tables (plain SQL, the caller's
transaction): each order as a trip request (用车申请) carried by a dispatch order (派车单) of
the day's car, with a driver of its city (or of its rental company), the approval of an
emergency request as its event, duty registrations (值班报备) of the car and holiday seals
(节假日封存) of its owner organisation.

Applicants are one account per organisation (`detect-<org code>`, no password). Orders come
back to the caller as {day id: [(order id, request id), ...]}: the bench finds an R14 by its
request. The connection must carry the platform's jsonb codec (fleet.db.connect / create_pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import asyncpg

from simulator.days.model import LabelledDay, OrderFact, Place

DONE_ORDER_STATES = {"returned", "disputed", "confirmed", "rated", "settled"}


def _place(p: Place) -> dict:
    return {"name": p.name, "lat": p.at[1], "lon": p.at[0], "city_code": p.city}


async def write_facts(conn: asyncpg.Connection,
                      days: Sequence[LabelledDay]) -> dict[str, list[tuple[int, int]]]:
    cars = {r["plate"]: r for r in await conn.fetch(
        """SELECT v.id, v.plate, v.owner_org_id, o.code AS org_code, v.home_city_code,
                  v.rental_company_id
           FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id""")}
    drivers = await conn.fetch(
        "SELECT id, home_city_code, rental_company_id FROM drivers ORDER BY id")
    out: dict[str, list[tuple[int, int]]] = {}
    for n, day in enumerate(days):
        car = cars[day.plate]
        out[day.id] = []
        if day.orders:
            applicant = await _applicant(conn, car["owner_org_id"], car["org_code"])
            driver = _driver(drivers, car, n)
            for order in day.orders:
                out[day.id].append(await _order(conn, day, order, car, applicant, driver))
        for span in day.duty:
            await conn.execute(
                """INSERT INTO duty_registrations (vehicle_id, starts_at, ends_at, reason)
                   VALUES ($1, $2, $3, $4)""", car["id"], day.at(span.start_s),
                day.at(span.end_s), span.reason or "值班")
        for span in day.seals:
            await conn.execute(
                """INSERT INTO holiday_seals (org_id, name, starts_at, ends_at)
                   VALUES ($1, $2, $3, $4)""", car["owner_org_id"], span.reason or "节假日封存",
                day.at(span.start_s), day.at(span.end_s))
    return out


async def _applicant(conn: asyncpg.Connection, org_id: int, org_code: str) -> int:
    return await conn.fetchval(
        """INSERT INTO users (username, display_name, org_id, roles, password_hash)
           VALUES ($1, $2, $3, ARRAY['requester'], NULL)
           ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name
           RETURNING id""", f"detect-{org_code.lower()}", f"{org_code} 用车人", org_id)


def _driver(drivers: Sequence[asyncpg.Record], car: asyncpg.Record, n: int) -> int:
    """A driver of the car's rental company (leased), else of its city; spread by day."""
    company = car["rental_company_id"]
    fitting = [d["id"] for d in drivers if d["rental_company_id"] == company
               and (company is not None or d["home_city_code"] == car["home_city_code"])]
    fitting = fitting or [d["id"] for d in drivers if d["home_city_code"] == car["home_city_code"]]
    fitting = fitting or [d["id"] for d in drivers]
    return fitting[n % len(fitting)]


async def _order(conn: asyncpg.Connection, day: LabelledDay, o: OrderFact, car: asyncpg.Record,
                 applicant: int, driver: int) -> tuple[int, int]:
    done = o.state in DONE_ORDER_STATES
    dispatched = day.at(o.deadline_s - 86_400) if o.emergency and o.deadline_s is not None \
        else day.at(o.start_s) - timedelta(hours=20)
    approved = None if not o.emergency or o.decision is None else o.decision[0]
    request_id = await conn.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passengers,
               passenger_count, planned_start, planned_end, origin, destinations, round_trip,
               state, created_at, approval_levels, approved_levels, emergency_deadline,
               emergency_approved)
           VALUES ($1, $2, $3, $4, '[]', 1, $5, $6, $7, $8, $9, $10, $11, 1, $12,
                   $13, $14)
           RETURNING id""",
        applicant, car["owner_org_id"], o.trip_type, f"检测基准 {day.id}", day.at(o.start_s),
        day.at(o.end_s), _place(o.origin), [_place(d) for d in o.destinations],
        o.round_trip, "completed" if done else "in_progress", dispatched - timedelta(minutes=5),
        1 if (not o.emergency or approved) else 0,
        None if o.deadline_s is None else day.at(o.deadline_s), approved)
    order_id = await conn.fetchval(
        """INSERT INTO dispatch_orders (request_id, vehicle_id, driver_id, state, planned_start,
               planned_end, departed_at, returned_at, created_at, assigned_at, accepted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9) RETURNING id""",
        request_id, car["id"], driver if o.with_driver else None, o.state, day.at(o.start_s),
        day.at(o.end_s), None if o.departed_s is None else day.at(o.departed_s),
        None if o.returned_s is None else day.at(o.returned_s), dispatched)
    await conn.execute(
        """INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count)
           VALUES ($1, $2, 1)""", order_id, request_id)
    if o.emergency and o.decision is not None:
        verdict, at_s = o.decision
        await conn.execute(
            """INSERT INTO trip_request_events (request_id, event, from_state, to_state, at, note)
               VALUES ($1, $2, $3, $3, $4, $5)""", request_id, "approve" if verdict else "reject",
            "completed", day.at(at_s), "应急补办审批" if verdict else "补办审批未通过")
    return order_id, request_id
