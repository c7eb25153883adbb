"""Writes a generated month (fleet/month_generator.py) into the database, in one transaction:
requests, orders, the requests each order carries, their event histories, the GNSS trips;
then prices every order that came back through dispatch/billing_store (so the fees, km and
shares are the real ones) and remembers what it wrote in `generated_months`.

Bulk writes: one INSERT … SELECT FROM unnest(…) per table with jsonb (ids reserved from the
identity sequences first, so events and carried requests can refer to them), binary COPY for
the rest. A month already generated into this database is refused unless `replace` is set,
which first removes exactly what the earlier run wrote.

Applicants are one account per unit (`gen-<unit code>`, no password: nobody logs in as them);
the rental companies' drivers the generator adds are upserted by their code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from dispatch.billing_store import price_orders
from fleet.month_generator import GenOrder, GenRequest, MonthPlan

RETURNED = {"returned", "disputed", "confirmed", "rated", "settled"}


class MonthAlreadyGenerated(Exception):
    def __init__(self, month: str) -> None:
        super().__init__(f"month {month} was already generated into this database "
                         "(use --replace to generate it again)")


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def applicant_username(org_code: str) -> str:
    return f"gen-{org_code.lower()}"


async def _ids(conn: asyncpg.Connection, sql: str, *args: Any) -> dict[Any, int]:
    return {row[0]: row[1] for row in await conn.fetch(sql, *args)}


async def _reserve(conn: asyncpg.Connection, table: str, count: int) -> list[int]:
    rows = await conn.fetch(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)", count)
    return [r[0] for r in rows]


async def remove_month(conn: asyncpg.Connection, month: str) -> bool:
    """Removes what an earlier run wrote for `month`; False when there was none."""
    row = await conn.fetchrow("SELECT * FROM generated_months WHERE month = $1 FOR UPDATE", month)
    if row is None:
        return False
    orders, requests = row["order_ids"], row["request_ids"]
    await conn.execute("DELETE FROM dispatch_order_events WHERE order_id = ANY($1::int[])", orders)
    await conn.execute("DELETE FROM dispatch_order_requests WHERE order_id = ANY($1::int[])", orders)
    await conn.execute("DELETE FROM dispatch_orders WHERE id = ANY($1::int[])", orders)
    await conn.execute("DELETE FROM trip_request_events WHERE request_id = ANY($1::int[])", requests)
    await conn.execute("DELETE FROM trip_requests WHERE id = ANY($1::int[])", requests)
    await conn.execute(
        """DELETE FROM trips t USING unnest($1::int[], $2::timestamptz[]) AS k(vehicle_id, start_ts)
           WHERE t.vehicle_id = k.vehicle_id AND t.start_ts = k.start_ts""",
        row["trip_vehicle_ids"], row["trip_starts"])
    await conn.execute("DELETE FROM generated_months WHERE month = $1", month)
    return True


async def _people(conn: asyncpg.Connection, plan: MonthPlan) -> tuple[dict[str, int], dict[str, int]]:
    """Applicant accounts per unit and the drivers (the scenario's and the added ones)."""
    units = sorted({r.spec.org_code for r in plan.requests})
    await conn.execute(
        """INSERT INTO users (username, display_name, org_id, roles, password_hash)
           SELECT 'gen-' || lower(o.code), o.name_zh || '经办人', o.id, ARRAY['requester'], NULL
           FROM organisations o WHERE o.code = ANY($1::text[])
           ON CONFLICT (username) DO NOTHING""", units)
    users = await _ids(conn, "SELECT o.code, u.id FROM users u JOIN organisations o ON o.id = u.org_id "
                             "WHERE u.username = 'gen-' || lower(o.code) AND o.code = ANY($1::text[])", units)
    extra = plan.fleet.extra_drivers
    await conn.execute(
        """INSERT INTO drivers (code, name, phone, org_id, rental_company_id, home_city_code)
           SELECT d.code, d.name, d.phone, o.id, rc.id, d.city
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                AS d(code, name, phone, org, company, city)
           JOIN organisations o ON o.code = d.org JOIN rental_companies rc ON rc.code = d.company
           ON CONFLICT (code) DO NOTHING""",
        [d.code for d in extra], [d.name for d in extra], [d.phone for d in extra],
        [d.org_code for d in extra], [d.company_code for d in extra], [d.city_code for d in extra])
    drivers = await _ids(conn, "SELECT code, id FROM drivers")
    return users, drivers


def _request_rows(plan: MonthPlan, ids: dict[int, int], users: dict[str, int],
                  orgs: dict[str, int]) -> list[tuple]:
    rows = []
    for gen in plan.requests:
        s = gen.spec
        rows.append((
            ids[s.key], users[s.org_code], orgs[s.org_code], s.trip_type, s.reason,
            _json(s.passengers), s.passenger_count, s.planned_start, s.planned_end,
            _json(s.origin.as_json()), _json([d.as_json() for d in s.destinations]), s.round_trip,
            s.car_level_wanted, s.carpool_allowed, gen.state, s.created_at, gen.approval_levels,
            gen.approved_levels, gen.emergency_deadline, gen.emergency_approved,
            1 + len(gen.events), list(gen.approval_reasons), s.round_trip,
        ))
    return rows


def _order_rows(plan: MonthPlan, ids: dict[int, int], request_ids: dict[int, int],
                maps: dict[str, dict]) -> list[tuple]:
    rows = []
    for order in plan.orders:
        b, t, c, times = order.booking, order.timeline, order.costs, order.times
        held = t is not None
        company = maps["companies"].get(b.company_code) if b.company_code else None
        plan_id = maps["plans"].get((company, b.plan_level, b.charter_type, b.mode)) if company else None
        sent = times.get("sent_to_rental_at")
        rows.append((
            ids[order.key], request_ids[order.specs[0].key],
            maps["vehicles"][b.plate] if held else None, maps["drivers"][b.driver_code] if held else None,
            company, order.state, order.planned_start, order.planned_end,
            t.departed_at if t else None, t.returned_at if t else None,
            order.odometer_start_km, order.odometer_end_km, times["dispatch"], 1 + len(order.events),
            b.charter_type, b.mode, plan_id, sent,
            sent + timedelta(minutes=10) if sent else None,
            times["assigned_at"] if held else None, times["accepted_at"] if held else None,
            t.arrived_pickup_at if t else None, t.service_started_at if t else None,
            t.service_ended_at if t else None,
            c.tolls_cny if c else 0, c.parking_cny if c else 0, c.fuel_cny if c else 0,
            c.fuel_l if c else 0, c.charge_kwh if c else 0, order.specs[0].nights if t else 0,
            order.rating, order.feedback, order.dispute_reason,
        ))
    return rows


_INSERT_REQUESTS = """
INSERT INTO trip_requests (id, applicant_id, org_id, trip_type, reason, passengers, passenger_count,
    planned_start, planned_end, origin, destinations, round_trip, car_level_wanted, carpool_allowed,
    state, created_at, approval_levels, approved_levels, emergency_deadline, emergency_approved,
    version, approval_reasons, driver_waits)
OVERRIDING SYSTEM VALUE
SELECT r.id, r.applicant_id, r.org_id, r.trip_type, r.reason, r.passengers::jsonb, r.passenger_count,
    r.planned_start, r.planned_end, r.origin::jsonb, r.destinations::jsonb, r.round_trip,
    r.car_level_wanted, r.carpool_allowed, r.state, r.created_at, r.approval_levels,
    r.approved_levels, r.emergency_deadline, r.emergency_approved, r.version,
    string_to_array(r.approval_reasons, ','), r.driver_waits
FROM unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[],
            $8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::bool[], $13::text[],
            $14::bool[], $15::text[], $16::timestamptz[], $17::int[], $18::int[],
            $19::timestamptz[], $20::bool[], $21::int[], $22::text[], $23::bool[])
     AS r(id, applicant_id, org_id, trip_type, reason, passengers, passenger_count, planned_start,
          planned_end, origin, destinations, round_trip, car_level_wanted, carpool_allowed, state,
          created_at, approval_levels, approved_levels, emergency_deadline, emergency_approved,
          version, approval_reasons, driver_waits)
"""

ORDER_COLUMNS = (
    "id", "request_id", "vehicle_id", "driver_id", "rental_company_id", "state", "planned_start",
    "planned_end", "departed_at", "returned_at", "odometer_start_km", "odometer_end_km",
    "created_at", "version", "charter_type", "service_mode", "price_plan_id", "sent_to_rental_at",
    "rental_deadline", "assigned_at", "accepted_at", "arrived_pickup_at", "service_started_at",
    "service_ended_at", "tolls_cny", "parking_cny", "fuel_cny", "fuel_l", "charge_kwh",
    "nights_out_of_town", "rating", "feedback", "dispute_reason",
)


def _columns(rows: list[tuple], count: int) -> list[list]:
    return [[row[i] for row in rows] for i in range(count)] if rows else [[] for _ in range(count)]


def _events(items: list[GenRequest] | list[GenOrder], ids: list[int], applicant_of: dict[int, int]) -> list[tuple]:
    return [(ident, e.event, e.from_state, e.to_state,
             applicant_of.get(ident) if e.actor == "applicant" else None, e.at, e.note)
            for ident, item in zip(ids, items, strict=True) for e in item.events]


async def seed_month(conn: asyncpg.Connection, plan: MonthPlan, *, replace: bool = False) -> dict[str, int]:
    """Writes the month in one transaction; MonthAlreadyGenerated unless `replace`."""
    month = plan.month.text
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM generated_months WHERE month = $1", month):
            if not replace:
                raise MonthAlreadyGenerated(month)
            await remove_month(conn, month)
        users, drivers = await _people(conn, plan)
        orgs = await _ids(conn, "SELECT code, id FROM organisations")
        companies = await _ids(conn, "SELECT code, id FROM rental_companies")
        maps = {
            "vehicles": await _ids(conn, "SELECT plate, id FROM vehicles"), "drivers": drivers,
            "companies": companies,
            "plans": {(r["company_id"], r["car_level"], r["charter_type"], r["mode"]): r["id"]
                      for r in await conn.fetch("SELECT * FROM price_plans")},
        }
        request_ids = dict(zip((r.spec.key for r in plan.requests),
                               await _reserve(conn, "trip_requests", len(plan.requests)), strict=True))
        order_ids = dict(zip((o.key for o in plan.orders),
                             await _reserve(conn, "dispatch_orders", len(plan.orders)), strict=True))
        rows = _request_rows(plan, request_ids, users, orgs)
        columns = _columns(rows, 23)
        columns[21] = [",".join(v) for v in columns[21]]
        await conn.execute(_INSERT_REQUESTS, *columns)
        await conn.copy_records_to_table("dispatch_orders", columns=ORDER_COLUMNS,
                                         records=_order_rows(plan, order_ids, request_ids, maps))
        await conn.copy_records_to_table(
            "dispatch_order_requests", columns=("order_id", "request_id", "passenger_count"),
            records=[(order_ids[o.key], request_ids[s.key], s.passenger_count)
                     for o in plan.orders for s in o.specs])
        applicant_of = {request_ids[r.spec.key]: users[r.spec.org_code] for r in plan.requests}
        event_columns = ("request_id", "event", "from_state", "to_state", "actor_id", "at", "note")
        await conn.copy_records_to_table(
            "trip_request_events", columns=event_columns,
            records=_events(plan.requests, [request_ids[r.spec.key] for r in plan.requests], applicant_of))
        order_applicant = {order_ids[o.key]: users[o.specs[0].org_code] for o in plan.orders}
        await conn.copy_records_to_table(
            "dispatch_order_events", columns=("order_id",) + event_columns[1:],
            records=_events(plan.orders, [order_ids[o.key] for o in plan.orders], order_applicant))
        trip_keys = await _trips(conn, plan, maps["vehicles"])
        priced = await price_orders(conn, [order_ids[o.key] for o in plan.orders if o.state in RETURNED])
        await conn.execute(
            """INSERT INTO generated_months (month, seed, requests, request_ids, order_ids,
                   trip_vehicle_ids, trip_starts) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            month, plan.seed, len(plan.requests), list(request_ids.values()), list(order_ids.values()),
            [k[0] for k in trip_keys], [k[1] for k in trip_keys])
    return {"requests": len(request_ids), "orders": len(order_ids), "priced_orders": len(priced),
            "trips": len(trip_keys), "rental_drivers_added": len(plan.fleet.extra_drivers)}


async def _trips(conn: asyncpg.Connection, plan: MonthPlan, vehicles: dict[str, int]) -> list[tuple[int, datetime]]:
    """The GNSS trips; one the telemetry already holds (same car and start) is kept as it is."""
    await conn.execute("CREATE TEMP TABLE generated_trips (LIKE trips) ON COMMIT DROP")
    records = []
    for t in plan.trips:
        duration_s = max(t.duration_s, 1)
        mean_kmh = t.dist_m / 1000 / (duration_s / 3600)
        records.append((
            vehicles[t.plate], t.start, t.end, t.start_point.lat, t.start_point.lon,
            t.end_point.lat, t.end_point.lon, t.dist_m, None, None, "gnss",
            min(mean_kmh * 1.7, 125.0), mean_kmh, duration_s, "acc", max(duration_s // 10, 2),
        ))
    await conn.copy_records_to_table(
        "generated_trips", records=records,
        columns=("vehicle_id", "start_ts", "end_ts", "start_lat", "start_lon", "end_lat", "end_lon",
                 "dist_gnss_m", "odo_start_km", "odo_end_km", "odo_source", "max_speed_kmh",
                 "mean_speed_kmh", "duration_s", "detected_by", "position_count"))
    rows = await conn.fetch(
        """INSERT INTO trips SELECT * FROM generated_trips ON CONFLICT DO NOTHING
           RETURNING vehicle_id, start_ts""")
    return [(r["vehicle_id"], r["start_ts"]) for r in rows]
