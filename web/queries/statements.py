"""Monthly statements (对账单), plain SQL.

- Rental statement, per company and month: every priced rental order that came back in the
  month (Asia/Shanghai), with its requesting units, car, driver, plan, billed km and hours,
  each fee line, total and state; and the company's totals.
- Unit statement, per unit and month: what each unit spent — its shares of rental fees and of
  the platform cars' direct costs (tolls, parking, fuel) — with its requests, orders and km.

Reach: `scope_root_id` limits both to orders carrying a request of a unit in that subtree; a
rental company's operator passes None and their company (they see all of its orders).
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from dispatch.months import Month
from web.queries.figures import report_snapshot

BACK_STATES = ["returned", "disputed", "confirmed", "rated", "settled"]
FEE_CODES = ("base", "overtime", "over_km", "night", "out_of_town", "tolls", "parking", "fuel",
             "late_penalty")

# $1 month start, $2 next month start, $3 states, $4 scope root (NULL: no org limit),
# $5 company (NULL: every company)
_RENTAL_ORDERS = """
SELECT d.id AS order_id, d.rental_company_id AS company_id, d.departed_at, d.returned_at,
       (d.departed_at AT TIME ZONE 'Asia/Shanghai')::date AS service_date,
       v.plate, dr.name AS driver_name, p.car_level, p.charter_type, p.mode,
       d.billed_km::float8 AS billed_km,
       (ceil(extract(epoch FROM d.returned_at - d.departed_at) / 1800.0) * 0.5)::float8 AS billed_hours,
       (SELECT jsonb_object_agg(l->>'code', l->'amount_cny')
        FROM jsonb_array_elements(d.fee_lines) l) AS lines,
       d.fee_cny, d.state,
       (SELECT jsonb_agg(jsonb_build_object('id', o.id, 'name_zh', o.name_zh, 'name_en', o.name_en)
                         ORDER BY o.id)
        FROM (SELECT DISTINCT r.org_id FROM dispatch_order_requests x
              JOIN trip_requests r ON r.id = x.request_id WHERE x.order_id = d.id) u
        JOIN organisations o ON o.id = u.org_id) AS units
FROM dispatch_orders d
JOIN price_plans p ON p.id = d.price_plan_id
LEFT JOIN vehicles v ON v.id = d.vehicle_id
LEFT JOIN drivers dr ON dr.id = d.driver_id
WHERE d.returned_at >= $1 AND d.returned_at < $2 AND d.state = ANY($3::text[])
  AND d.fee_cny IS NOT NULL
  AND ($5::int IS NULL OR d.rental_company_id = $5)
  AND ($4::int IS NULL OR EXISTS (
      SELECT 1 FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
      JOIN organisations o ON o.id = r.org_id
      WHERE x.order_id = d.id AND o.path @> ARRAY[$4::int]))
ORDER BY d.rental_company_id, d.returned_at, d.id
"""

_COMPANIES = """
SELECT id, code, name_zh, name_en FROM rental_companies
WHERE id = ANY($1::int[]) ORDER BY id
"""

# $1 start, $2 end, $3 states, $4 scope root, $5 unit subtree (NULL: the whole scope)
_UNITS = """
SELECT o.id AS unit_id, o.code, o.name_zh, o.name_en, o.city_code,
       c.name_zh AS city_name_zh, c.name_en AS city_name_en,
       count(DISTINCT x.request_id)::int AS requests, count(DISTINCT x.order_id)::int AS orders,
       sum(x.passenger_count)::int AS passengers,
       coalesce(sum(x.ride_km), 0)::float8 AS ride_km,
       coalesce(sum(x.share_cny) FILTER (WHERE d.price_plan_id IS NOT NULL), 0) AS rental_cny,
       coalesce(sum(x.share_cny) FILTER (WHERE d.price_plan_id IS NULL), 0) AS direct_cny,
       coalesce(sum(x.share_cny), 0) AS total_cny
FROM dispatch_order_requests x
JOIN dispatch_orders d ON d.id = x.order_id
JOIN trip_requests r ON r.id = x.request_id
JOIN organisations o ON o.id = r.org_id
LEFT JOIN cities c ON c.code = o.city_code
WHERE d.returned_at >= $1 AND d.returned_at < $2 AND d.state = ANY($3::text[])
  AND d.departed_at IS NOT NULL
  AND o.path @> ARRAY[$4::int] AND ($5::int IS NULL OR o.path @> ARRAY[$5::int])
GROUP BY o.id, c.code
ORDER BY o.city_code, o.code
"""


def _dec(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


async def company_exists(pool: asyncpg.Pool, company_id: int) -> bool:
    return await pool.fetchval("SELECT EXISTS (SELECT 1 FROM rental_companies WHERE id = $1)",
                               company_id)


async def unit_in_scope(pool: asyncpg.Pool, unit_id: int, scope_root_id: int) -> bool:
    return await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM organisations WHERE id = $1 AND path @> ARRAY[$2::int])",
        unit_id, scope_root_id)


async def rental_statement(
    pool: asyncpg.Pool, month: Month, scope_root_id: int | None, company_id: int | None,
) -> dict:
    """Per company: its orders of the month and totals (line by line). A company asked for by
    id is listed even without orders; otherwise the companies that have some."""
    async with report_snapshot(pool) as conn:
        rows = await conn.fetch(_RENTAL_ORDERS, month.start, month.end, BACK_STATES, scope_root_id,
                                company_id)
        ids = sorted({r["company_id"] for r in rows} | ({company_id} if company_id else set()))
        companies = {c["id"]: dict(c) for c in await conn.fetch(_COMPANIES, ids)}
    grouped: dict[int, list[dict]] = {cid: [] for cid in ids}
    for row in rows:
        order = dict(row)
        order["lines"] = {code: float((row["lines"] or {}).get(code) or 0) for code in FEE_CODES}
        order["fee_cny"] = float(row["fee_cny"])
        grouped[row["company_id"]].append(order)
    statements = []
    for cid in ids:
        orders = grouped[cid]
        totals = {
            "orders": len(orders),
            "billed_km": float(sum(_dec(o["billed_km"]) for o in orders)),
            "billed_hours": float(sum(_dec(o["billed_hours"]) for o in orders)),
            "lines": {code: float(sum(_dec(o["lines"][code]) for o in orders)) for code in FEE_CODES},
            "fee_cny": float(sum(_dec(o["fee_cny"]) for o in orders)),
        }
        statements.append({"company": companies[cid], "orders": orders, "totals": totals})
    return {"month": month.text, "fee_codes": list(FEE_CODES), "companies": statements,
            "fee_cny": float(sum(_dec(s["totals"]["fee_cny"]) for s in statements))}


async def unit_statement(
    pool: asyncpg.Pool, month: Month, scope_root_id: int, unit_id: int | None,
) -> dict:
    async with report_snapshot(pool) as conn:
        rows = [dict(r) for r in await conn.fetch(_UNITS, month.start, month.end, BACK_STATES,
                                                 scope_root_id, unit_id)]
    for row in rows:
        for key in ("rental_cny", "direct_cny", "total_cny"):
            row[key] = float(row[key])
    totals = {
        "units": len(rows),
        "requests": sum(r["requests"] for r in rows),
        "ride_km": float(sum(_dec(r["ride_km"]) for r in rows)),
        "rental_cny": float(sum(_dec(r["rental_cny"]) for r in rows)),
        "direct_cny": float(sum(_dec(r["direct_cny"]) for r in rows)),
        "total_cny": float(sum(_dec(r["total_cny"]) for r in rows)),
    }
    return {"month": month.text, "units": rows, "totals": totals}
