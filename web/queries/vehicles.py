"""Vehicles in a user's data scope, with their device and the newest stored position."""

from __future__ import annotations

import asyncpg

# The scope test: the owner org lies in the subtree of the user's scope root — or the car is
# on a cross-city order (跨市) into the scope root's city, from 30 min before its planned start
# until 60 min after its planned end, or for as long as it is still out (domain.md §1).
_IN_SCOPE = """(o.path @> ARRAY[$1::int] OR v.id IN (
    SELECT d.vehicle_id FROM dispatch_orders d
    JOIN dispatch_order_requests x ON x.order_id = d.id
    JOIN trip_requests r ON r.id = x.request_id
    JOIN organisations so ON so.id = $1::int AND so.kind = 'city'
    WHERE d.vehicle_id IS NOT NULL
      AND (d.state IN ('departed', 'at_pickup', 'in_service', 'service_ended')
           OR (d.state IN ('assigned', 'accepted')
               AND now() BETWEEN d.planned_start - interval '30 minutes'
                             AND d.planned_end + interval '60 minutes'))
      AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.destinations) e
                  WHERE e->>'city_code' = so.city_code)))"""

_LIST_COLUMNS = """
    v.id, v.plate, v.source, v.use_category, v.car_level, v.seats, v.energy_type, v.brand_model,
    c.code AS city_code, c.name_zh AS city_name_zh, c.name_en AS city_name_en,
    d.uid AS device_uid, d.status AS device_status, d.report_interval_s,
    s.ts AS s_ts, s.received_at AS s_received_at, s.lat AS s_lat, s.lon AS s_lon,
    s.speed_kmh AS s_speed_kmh, s.heading_deg AS s_heading_deg, s.acc AS s_acc,
    s.odometer_km AS s_odometer_km, s.fuel_l AS s_fuel_l, s.soc_pct AS s_soc_pct,
    s.alarm AS s_alarm
"""

_LIST_FROM = """
FROM vehicles v
JOIN organisations o ON o.id = v.owner_org_id
JOIN cities c ON c.code = v.home_city_code
LEFT JOIN devices d ON d.vehicle_id = v.id
LEFT JOIN latest_vehicle_state s ON s.vehicle_id = v.id
"""


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def vehicles_in_scope(
    pool: asyncpg.Pool,
    scope_root_id: int,
    *,
    city_code: str | None = None,
    source: str | None = None,
    plate_query: str | None = None,
) -> list[asyncpg.Record]:
    """Active vehicles the scope root may see, ordered by city and plate."""
    where = [_IN_SCOPE, "v.active"]
    args: list[object] = [scope_root_id]
    if city_code:
        args.append(city_code)
        where.append(f"v.home_city_code = ${len(args)}")
    if source:
        args.append(source)
        where.append(f"v.source = ${len(args)}")
    if plate_query:
        # "A12345" finds 鄂A·12345: the separator dot is ignored on both sides.
        args.append(_like_pattern(plate_query.replace("·", "").strip()))
        where.append(f"replace(v.plate, '·', '') ILIKE ${len(args)}")
    sql = (
        f"SELECT {_LIST_COLUMNS} {_LIST_FROM} WHERE {' AND '.join(where)} "
        "ORDER BY v.home_city_code, v.plate"
    )
    return await pool.fetch(sql, *args)


async def vehicle_in_scope(
    pool: asyncpg.Pool, scope_root_id: int, vehicle_id: int
) -> asyncpg.Record | None:
    """One vehicle with its depot, owner and rental company, or None outside the scope."""
    sql = f"""
    SELECT {_LIST_COLUMNS},
        v.tank_l, v.battery_kwh, v.range_km, v.marking,
        o.id AS owner_id, o.code AS owner_code, o.name_zh AS owner_name_zh,
        o.name_en AS owner_name_en,
        dp.id AS depot_id, dp.code AS depot_code, dp.name_zh AS depot_name_zh,
        dp.name_en AS depot_name_en, dp.lat AS depot_lat, dp.lon AS depot_lon,
        rc.id AS rc_id, rc.code AS rc_code, rc.name_zh AS rc_name_zh, rc.name_en AS rc_name_en
    {_LIST_FROM}
    LEFT JOIN depots dp ON dp.id = v.depot_id
    LEFT JOIN rental_companies rc ON rc.id = v.rental_company_id
    WHERE {_IN_SCOPE} AND v.id = $2
    """
    return await pool.fetchrow(sql, scope_root_id, vehicle_id)
