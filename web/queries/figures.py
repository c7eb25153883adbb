"""Monthly figures (domain.md §8, domain-research.md §d) from SQL over stored orders and trips.

Per group (vehicle, unit, city or rental company) and month (Asia/Shanghai):
- order side — the orders that departed and came back (returned_at in the month) and carry a
  request of a unit in the caller's scope: 出车次数 (trips), service hours (returned −
  departed), billed km, cost (the rental fee, or tolls + parking + fuel of a platform car),
  rental spend, 派车响应时长 (median of assigned − approved). A unit counts the orders that
  carried its requests, with its own ride km and its share of the cost;
- fleet side — the vehicles the scope owns: GNSS km (Σ trips starting in the month),
  hours of their orders, utilisation = those hours ÷ (vehicles × working days × 8 h),
  L/100 km (fuel, PHEV) and kWh/100 km (BEV, PHEV) over their orders' km, share of new-energy
  cars. A city's cars are those homed there, a unit's those it owns, a company's its leased cars;
- demand side — requests planned in the month that were approved (or, an emergency,
  dispatched at once), and how many of them got a car that left (满足率).
Totals are the same query with one group for everything (a carpooled order counted once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal

import asyncpg

from dispatch.calendar import is_working_day
from dispatch.months import Month

Grouping = Literal["vehicle", "unit", "city", "company"]
HOURS_PER_WORKING_DAY = 8
BACK_STATES = ["returned", "disputed", "confirmed", "rated", "settled"]

# Group keys (as text) of each side; constants of this module, never input.
_KEYS: dict[str, dict[str, str | None]] = {
    "vehicle": {"order": "d.vehicle_id::text", "fleet": "v.id::text", "demand": None},
    "city": {"order": "lo.city_code", "fleet": "v.home_city_code", "demand": "o.city_code"},
    "unit": {"order": "x.org_id::text", "fleet": "v.owner_org_id::text", "demand": "r.org_id::text"},
    "company": {"order": "d.rental_company_id::text", "fleet": "v.rental_company_id::text",
                "demand": None},
    "all": {"order": "'all'", "fleet": "'all'", "demand": "'all'"},
}

_LABELS = {
    "vehicle": """SELECT v.plate AS name_zh, v.plate AS name_en, v.home_city_code AS city_code,
                         v.energy_type, v.car_level, v.source
                  FROM vehicles v WHERE v.id = g.k::int""",
    "city": """SELECT c.name_zh, c.name_en, c.code AS city_code, NULL::text AS energy_type,
                      NULL::text AS car_level, NULL::text AS source
               FROM cities c WHERE c.code = g.k""",
    "unit": """SELECT o.name_zh, o.name_en, o.city_code, NULL::text AS energy_type,
                      NULL::text AS car_level, NULL::text AS source
               FROM organisations o WHERE o.id = g.k::int""",
    "company": """SELECT rc.name_zh, rc.name_en, NULL::text AS city_code,
                         NULL::text AS energy_type, NULL::text AS car_level, NULL::text AS source
                  FROM rental_companies rc WHERE rc.id = g.k::int""",
    "all": """SELECT '合计' AS name_zh, 'Total' AS name_en, NULL::text AS city_code,
                     NULL::text AS energy_type, NULL::text AS car_level, NULL::text AS source""",
}

# $1 scope root, $2 month start, $3 next month start, $4 states of an order that is back
_ORDERS = """
ord AS (
    SELECT d.id, d.vehicle_id, d.rental_company_id, d.request_id, d.assigned_at,
           extract(epoch FROM d.returned_at - d.departed_at) / 3600.0 AS hours,
           coalesce(d.billed_km, 0) AS billed_km,
           coalesce(d.fee_cny, d.tolls_cny + d.parking_cny + d.fuel_cny) AS cost_cny,
           d.price_plan_id IS NOT NULL AS rental,
           CASE WHEN d.price_plan_id IS NOT NULL THEN coalesce(d.fee_cny, 0) ELSE 0 END AS rental_cny
    FROM dispatch_orders d
    WHERE d.returned_at >= $2 AND d.returned_at < $3 AND d.departed_at IS NOT NULL
      AND d.state = ANY($4::text[])
      AND EXISTS (SELECT 1 FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
                  JOIN organisations o ON o.id = r.org_id
                  WHERE x.order_id = d.id AND o.path @> ARRAY[$1::int])
),
-- When a request was approved (an emergency: dispatched at once), from its events: those of
-- the weeks around the month (a multi-day trip comes back long after its approval).
approval AS (
    SELECT e.request_id, min(e.at) AS approved_at FROM trip_request_events e
    WHERE e.to_state IN ('approved', 'dispatching') AND (e.to_state = 'approved' OR e.event = 'checked')
      AND e.at >= $2 - interval '62 days' AND e.at < $3 + interval '31 days'
    GROUP BY e.request_id
)"""

# The order side, per group: a unit's part comes through the requests the order carried.
_ORDER_SIDE = {
    "per_order": """
    SELECT {key} AS k, count(*) AS trips, sum(d.hours) AS service_h, sum(d.billed_km) AS km,
           sum(d.cost_cny) AS cost_cny, sum(d.rental_cny) AS rental_cny,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.assigned_at - a.approved_at) / 60.0)
               FILTER (WHERE d.assigned_at >= a.approved_at) AS response_median_min
    FROM ord d
    JOIN trip_requests lead ON lead.id = d.request_id
    JOIN organisations lo ON lo.id = lead.org_id
    LEFT JOIN approval a ON a.request_id = d.request_id
    {where}
    GROUP BY 1""",
    "per_unit": """
    SELECT {key} AS k, count(DISTINCT d.id) AS trips, sum(d.hours) AS service_h,
           sum(x.ride_km) AS km, sum(x.share_cny) AS cost_cny,
           sum(x.share_cny) FILTER (WHERE d.rental) AS rental_cny,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.assigned_at - a.approved_at) / 60.0)
               FILTER (WHERE d.assigned_at >= a.approved_at) AS response_median_min
    FROM ord d
    JOIN (SELECT y.order_id, y.ride_km, y.share_cny, r.org_id, r.id AS request_id
          FROM dispatch_order_requests y JOIN trip_requests r ON r.id = y.request_id
          JOIN organisations o ON o.id = r.org_id WHERE o.path @> ARRAY[$1::int]) x
      ON x.order_id = d.id
    LEFT JOIN approval a ON a.request_id = x.request_id
    GROUP BY 1""",
}

_FLEET_SIDE = """
    SELECT {key} AS k, count(*) AS vehicles,
           count(*) FILTER (WHERE v.energy_type IN ('bev', 'phev')) AS nev_vehicles,
           sum(coalesce(t.gnss_km, 0)) AS gnss_km, sum(coalesce(vo.hours, 0)) AS fleet_h,
           sum(vo.fuel_l) FILTER (WHERE v.energy_type IN ('fuel', 'phev')) AS fuel_l,
           sum(vo.km) FILTER (WHERE v.energy_type IN ('fuel', 'phev') AND vo.fuel_l > 0) AS fuel_km,
           sum(vo.charge_kwh) FILTER (WHERE v.energy_type IN ('bev', 'phev')) AS charge_kwh,
           sum(vo.km) FILTER (WHERE v.energy_type IN ('bev', 'phev') AND vo.charge_kwh > 0) AS charge_km
    FROM vehicles v
    JOIN organisations ov ON ov.id = v.owner_org_id
    LEFT JOIN (SELECT t.vehicle_id, sum(t.dist_gnss_m) / 1000.0 AS gnss_km FROM trips t
               WHERE t.start_ts >= $2 AND t.start_ts < $3 GROUP BY t.vehicle_id) t
      ON t.vehicle_id = v.id
    LEFT JOIN (SELECT d.vehicle_id,
                      sum(extract(epoch FROM d.returned_at - d.departed_at) / 3600.0) AS hours,
                      sum(coalesce(d.billed_km, 0)) AS km, sum(d.fuel_l) AS fuel_l,
                      sum(d.charge_kwh) AS charge_kwh
               FROM dispatch_orders d
               WHERE d.returned_at >= $2 AND d.returned_at < $3 AND d.departed_at IS NOT NULL
                 AND d.state = ANY($4::text[]) AND d.vehicle_id IS NOT NULL
               GROUP BY d.vehicle_id) vo ON vo.vehicle_id = v.id
    WHERE v.active AND ov.path @> ARRAY[$1::int] {where}
    GROUP BY 1"""

_DEMAND_SIDE = """
    SELECT {key} AS k, count(*) AS approved_requests,
           count(*) FILTER (WHERE f.request_id IS NOT NULL) AS fulfilled_requests
    FROM trip_requests r
    JOIN organisations o ON o.id = r.org_id
    JOIN approval a ON a.request_id = r.id
    LEFT JOIN (SELECT DISTINCT x.request_id FROM dispatch_order_requests x
               JOIN dispatch_orders d ON d.id = x.order_id
               WHERE d.departed_at >= $2 - interval '7 days' AND d.departed_at < $3 + interval '7 days') f
      ON f.request_id = r.id
    WHERE r.planned_start >= $2 AND r.planned_start < $3 AND o.path @> ARRAY[$1::int]
    GROUP BY 1"""

_EMPTY_DEMAND = "SELECT NULL::text AS k, 0::bigint AS approved_requests, 0::bigint AS fulfilled_requests WHERE false"

_FINAL = """
SELECT g.k AS key, lab.name_zh, lab.name_en, lab.city_code, lab.energy_type, lab.car_level,
       lab.source,
       coalesce(os.trips, 0)::int AS trips, coalesce(os.service_h, 0)::float8 AS service_h,
       coalesce(os.km, 0)::float8 AS billed_km, coalesce(fs.gnss_km, 0)::float8 AS gnss_km,
       coalesce(os.cost_cny, 0)::float8 AS cost_cny, coalesce(os.rental_cny, 0)::float8 AS rental_cny,
       (os.cost_cny / nullif(os.km, 0))::float8 AS cost_per_km,
       os.response_median_min::float8 AS response_median_min,
       coalesce(fs.vehicles, 0)::int AS vehicles, coalesce(fs.nev_vehicles, 0)::int AS nev_vehicles,
       (fs.nev_vehicles::float8 / nullif(fs.vehicles, 0)) AS nev_share,
       coalesce(fs.fleet_h, 0)::float8 AS fleet_h,
       (fs.fleet_h / nullif(fs.vehicles * $5::float8, 0))::float8 AS utilisation,
       (fs.fuel_l / nullif(fs.fuel_km, 0) * 100)::float8 AS fuel_l_per_100km,
       (fs.charge_kwh / nullif(fs.charge_km, 0) * 100)::float8 AS kwh_per_100km,
       coalesce(ds.approved_requests, 0)::int AS approved_requests,
       coalesce(ds.fulfilled_requests, 0)::int AS fulfilled_requests,
       (ds.fulfilled_requests::float8 / nullif(ds.approved_requests, 0)) AS fulfilment_rate
FROM (SELECT k FROM order_side UNION SELECT k FROM fleet_side UNION SELECT k FROM demand_side) g
LEFT JOIN order_side os ON os.k = g.k
LEFT JOIN fleet_side fs ON fs.k = g.k
LEFT JOIN demand_side ds ON ds.k = g.k
LEFT JOIN LATERAL ({label}) lab ON true
WHERE g.k IS NOT NULL
ORDER BY lab.city_code NULLS LAST, lab.name_zh, g.k"""


def figures_sql(by: str) -> str:
    keys = _KEYS[by]
    if by == "unit":
        order_side = _ORDER_SIDE["per_unit"].format(key=keys["order"])
    else:
        where = "WHERE d.rental_company_id IS NOT NULL" if by == "company" else ""
        order_side = _ORDER_SIDE["per_order"].format(key=keys["order"], where=where)
    fleet_where = "AND v.rental_company_id IS NOT NULL" if by == "company" else ""
    fleet_side = _FLEET_SIDE.format(key=keys["fleet"], where=fleet_where)
    demand_side = _DEMAND_SIDE.format(key=keys["demand"]) if keys["demand"] else _EMPTY_DEMAND
    return (f"WITH {_ORDERS},\norder_side AS ({order_side}),\nfleet_side AS ({fleet_side}),\n"
            f"demand_side AS ({demand_side})\n{_FINAL.format(label=_LABELS[by])}")


_RANKING = """
SELECT v.id AS vehicle_id, v.plate, v.home_city_code AS city_code, v.car_level, v.energy_type,
       sum(coalesce(d.billed_km, 0))::float8 AS km,
       sum(CASE WHEN v.energy_type = 'fuel' THEN d.fuel_l ELSE d.charge_kwh END)::float8 AS energy,
       (sum(CASE WHEN v.energy_type = 'fuel' THEN d.fuel_l ELSE d.charge_kwh END)
        / nullif(sum(coalesce(d.billed_km, 0)), 0) * 100)::float8 AS per_100km
FROM dispatch_orders d
JOIN vehicles v ON v.id = d.vehicle_id
JOIN organisations ov ON ov.id = v.owner_org_id
WHERE d.returned_at >= $2 AND d.returned_at < $3 AND d.departed_at IS NOT NULL
  AND d.state = ANY($4::text[]) AND ov.path @> ARRAY[$1::int] AND v.energy_type = $5
GROUP BY v.id
HAVING sum(coalesce(d.billed_km, 0)) >= $6
   AND sum(CASE WHEN v.energy_type = 'fuel' THEN d.fuel_l ELSE d.charge_kwh END) > 0
ORDER BY per_100km, v.plate"""

MIN_RANKING_KM = 50  # fewer km than this in a month make the L/100 km figure noise


@asynccontextmanager
async def report_snapshot(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One read-only snapshot for a report's queries (rows and totals agree), planned for the
    month and scope at hand: a generic plan of these queries (asyncpg prepares statements;
    PostgreSQL switches to a generic plan after five runs) misjudges the month's rows and
    runs ten times slower."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield conn


def working_days(month: Month) -> int:
    return sum(1 for day in month.days() if is_working_day(day))


async def figures(
    pool: asyncpg.Pool, scope_root_id: int, month: Month, by: Grouping
) -> dict:
    """Rows per group, the totals, the working days behind utilisation, and the fuel/energy
    ranking (best first) of the scope's fuel cars and BEVs."""
    days = working_days(month)
    args = (scope_root_id, month.start, month.end, BACK_STATES, float(days * HOURS_PER_WORKING_DAY))
    async with report_snapshot(pool) as conn:
        rows = await conn.fetch(figures_sql(by), *args)
        totals = await conn.fetchrow(figures_sql("all"), *args)
        ranking = {
            energy: [dict(r) | {"rank": i + 1} for i, r in enumerate(await conn.fetch(
                _RANKING, scope_root_id, month.start, month.end, BACK_STATES, energy, MIN_RANKING_KM))]
            for energy in ("fuel", "bev")
        }
    return {
        "month": month.text, "by": by, "working_days": days,
        "available_h_per_vehicle": days * HOURS_PER_WORKING_DAY,
        "rows": [dict(r) for r in rows], "totals": dict(totals) if totals else None,
        "ranking": {"fuel": ranking["fuel"], "electric": ranking["bev"]},
        "computed_at": datetime.now().astimezone(),
    }
