"""PostgreSQL reads for one evaluation (supervision/runner.py builds the VehicleDay from them):
the vehicle, its trips and stops (telemetry motion), its orders with their requests, holiday
seals and duty registrations, rule parameters on its org path, the stored violations of the
days concerned, the recent R4 nights, the nearest approach to an order's destinations, and
the emergency requests R14 judges. Plain SQL; rows become model types here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import shapely
import shapely.errors
import shapely.geometry

from fleet.geodesy import haversine_m
from supervision.model import EmergencyView, OrderView, StopView, TripView, VehicleProfile
from supervision.params import ParamRow
from supervision.reconcile import Stored
from supervision.rules_store import opt_ms, to_dt, to_ms

DETOUR_FACTOR = 1.3            # planned km: great circle × 1.3 (model.OrderView)
EXCLUDED_REQUEST_STATES = ("withdrawn", "rejected")
NOT_RECONCILED = ("R14", "PUBLIC")   # R14 is reconciled per request, PUBLIC never


@dataclass(frozen=True)
class VehicleInfo:
    profile: VehicleProfile
    org_name_zh: str
    org_name_en: str
    terminal_uid: str | None


async def vehicle(conn: asyncpg.Connection, vehicle_id: int) -> VehicleInfo | None:
    row = await conn.fetchrow(
        """SELECT v.id, v.plate, v.source, v.use_category, v.home_city_code, v.owner_org_id,
                  o.path, o.name_zh, o.name_en, v.rental_company_id,
                  coalesce(v.lot_geofence_id, dp.lot_geofence_id) AS lot_id,
                  d.uid, d.kind AS device_kind, coalesce(d.report_interval_s, 30) AS interval_s
           FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id
           LEFT JOIN depots dp ON dp.id = v.depot_id
           LEFT JOIN devices d ON d.vehicle_id = v.id
           WHERE v.id = $1""", vehicle_id)
    if row is None:
        return None
    profile = VehicleProfile(
        id=row["id"], plate=row["plate"], source=row["source"], use_category=row["use_category"],
        home_city=row["home_city_code"], owner_org_id=row["owner_org_id"],
        org_path=tuple(row["path"] or (row["owner_org_id"],)), lot_zone_id=row["lot_id"],
        report_interval_s=row["interval_s"], rental_company_id=row["rental_company_id"])
    terminal = row["uid"] if row["device_kind"] == "terminal" else None
    return VehicleInfo(profile, row["name_zh"], row["name_en"], terminal)


async def segment_start(conn: asyncpg.Connection, vehicle_id: int, ts_ms: int) -> int:
    """The start of the trip or stop containing ts_ms (a trip 23:50–00:30 belongs to the day
    it began on); ts_ms itself when none does."""
    at = to_dt(ts_ms)
    start = await conn.fetchval(
        """SELECT min(start_ts) FROM (
               SELECT start_ts FROM trips WHERE vehicle_id = $1 AND start_ts <= $2
                 AND (end_ts IS NULL OR end_ts > $2)
               UNION ALL
               SELECT start_ts FROM stops WHERE vehicle_id = $1 AND start_ts <= $2
                 AND (end_ts IS NULL OR end_ts > $2)) s""", vehicle_id, at)
    return ts_ms if start is None else min(ts_ms, to_ms(start))


async def trips(conn: asyncpg.Connection, vehicle_id: int, lo_ms: int,
                hi_ms: int) -> list[TripView]:
    rows = await conn.fetch(
        """SELECT start_ts, end_ts, start_lat, start_lon, end_lat, end_lon, dist_gnss_m,
                  max_speed_kmh, duration_s, odo_start_km, odo_end_km
           FROM trips WHERE vehicle_id = $1 AND start_ts < $3 AND (end_ts IS NULL OR end_ts > $2)
           ORDER BY start_ts""", vehicle_id, to_dt(lo_ms), to_dt(hi_ms))
    return [TripView(
        to_ms(r["start_ts"]), opt_ms(r["end_ts"]), (r["start_lon"], r["start_lat"]),
        (r["end_lon"], r["end_lat"]), float(r["dist_gnss_m"]), float(r["max_speed_kmh"]),
        int(r["duration_s"]),
        None if r["odo_start_km"] is None or r["odo_end_km"] is None
        else float(r["odo_end_km"] - r["odo_start_km"])) for r in rows]


async def stops(conn: asyncpg.Connection, vehicle_id: int, lo_ms: int,
                hi_ms: int) -> list[StopView]:
    rows = await conn.fetch(
        """SELECT start_ts, end_ts, lat, lon, duration_s FROM stops
           WHERE vehicle_id = $1 AND start_ts < $3 AND (end_ts IS NULL OR end_ts > $2)
           ORDER BY start_ts""", vehicle_id, to_dt(lo_ms), to_dt(hi_ms))
    return [StopView(to_ms(r["start_ts"]), opt_ms(r["end_ts"]), (r["lon"], r["lat"]),
                     int(r["duration_s"])) for r in rows]


# ---- orders ---------------------------------------------------------------------------------------

def _place(p: dict[str, Any]) -> tuple[float, float, str]:
    return (float(p["lon"]), float(p["lat"]), str(p.get("city_code") or ""))


def planned_km(origin: tuple[float, float, str], destinations: Sequence[tuple[float, float, str]],
               round_trip: bool, base: tuple[float, float] | None = None) -> float:
    """Great circle × 1.3 over base → origin → destinations (→ origin for a round trip) → base.
    base is where the car sets out from and comes back to (its lot, else its depot): the
    drive to the pickup and back to the lot is planned driving too (R10). None: unknown."""
    points: list[Sequence[float]] = [origin, *destinations] + ([origin] if round_trip else [])
    if base is not None:
        points = [base, *points, base]
    metres = sum(haversine_m(a[1], a[0], b[1], b[0]) for a, b in zip(points, points[1:], strict=False))
    return round(metres / 1000.0 * DETOUR_FACTOR, 2)


def _centre(geojson: Any) -> tuple[float, float] | None:
    """The centre (lon, lat) of a stored zone geometry (a circle's 48-gon included)."""
    if isinstance(geojson, str | bytes):
        geojson = json.loads(geojson)
    if not isinstance(geojson, dict):
        return None
    if geojson.get("type") == "Feature":
        geojson = geojson.get("geometry") or {}
    try:
        centre = shapely.geometry.shape(geojson).centroid
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
        return None
    return None if centre.is_empty else (float(centre.x), float(centre.y))


async def vehicle_base(conn: asyncpg.Connection, vehicle_id: int) -> tuple[float, float] | None:
    """Where the car sets out from (lon, lat): its designated lot's centre, else its depot."""
    row = await conn.fetchrow(
        """SELECT g.geojson, dp.lat, dp.lon FROM vehicles v
           LEFT JOIN depots dp ON dp.id = v.depot_id
           LEFT JOIN geofences g ON g.id = coalesce(v.lot_geofence_id, dp.lot_geofence_id)
           WHERE v.id = $1""", vehicle_id)
    if row is None:
        return None
    centre = _centre(row["geojson"]) if row["geojson"] is not None else None
    if centre is None and row["lat"] is not None and row["lon"] is not None:
        centre = (float(row["lon"]), float(row["lat"]))
    return centre


async def orders(conn: asyncpg.Connection, vehicle_id: int, lo_ms: int,
                 hi_ms: int) -> list[OrderView]:
    """The car's orders (not cancelled) whose plan or actual run overlaps [lo, hi)."""
    rows = await conn.fetch(
        """SELECT d.id, d.state, d.planned_start, d.planned_end, d.departed_at, d.returned_at,
                  d.driver_id, d.request_id
           FROM dispatch_orders d
           WHERE d.vehicle_id = $1 AND d.state <> 'cancelled'
             AND least(d.planned_start, coalesce(d.departed_at, d.planned_start)) < $3
             AND (greatest(d.planned_end, coalesce(d.returned_at, d.planned_end)) > $2
                  OR (d.departed_at IS NOT NULL AND d.returned_at IS NULL))
           ORDER BY d.id""", vehicle_id, to_dt(lo_ms), to_dt(hi_ms))
    if not rows:
        return []
    requests = await conn.fetch(
        """SELECT x.order_id, q.id, q.trip_type, q.origin, q.destinations, q.round_trip,
                  q.emergency_approved, q.emergency_deadline, q.state
           FROM dispatch_order_requests x JOIN trip_requests q ON q.id = x.request_id
           WHERE x.order_id = ANY($1::int[]) ORDER BY x.order_id, q.id""",
        [r["id"] for r in rows])
    by_order: dict[int, list[asyncpg.Record]] = {}
    for q in requests:
        by_order.setdefault(q["order_id"], []).append(q)
    base = await vehicle_base(conn, vehicle_id)
    return [_order_view(r, by_order.get(r["id"], []), base) for r in rows]


def _order_view(r: asyncpg.Record, requests: list[asyncpg.Record],
                base: tuple[float, float] | None = None) -> OrderView:
    live = [q for q in requests if q["state"] not in EXCLUDED_REQUEST_STATES] or requests
    main = next((q for q in live if q["id"] == r["request_id"]), live[0] if live else None)
    origin = _place(main["origin"]) if main is not None else (0.0, 0.0, "")
    destinations = tuple(_place(p) for q in live for p in (q["destinations"] or []))
    emergency = next((q for q in live if q["trip_type"] == "emergency"), None)
    round_trip = bool(main["round_trip"]) if main is not None else True
    return OrderView(
        id=r["id"], state=r["state"], planned_start_ms=to_ms(r["planned_start"]),
        planned_end_ms=to_ms(r["planned_end"]), departed_ms=opt_ms(r["departed_at"]),
        returned_ms=opt_ms(r["returned_at"]), origin=origin, destinations=destinations,
        request_ids=tuple(q["id"] for q in live), trip_types=tuple(q["trip_type"] for q in live),
        emergency=emergency is not None,
        emergency_approved=None if emergency is None else emergency["emergency_approved"],
        emergency_deadline_ms=None if emergency is None else opt_ms(emergency["emergency_deadline"]),
        driver_id=r["driver_id"],
        planned_km=planned_km(origin, destinations, round_trip, base) if main is not None else 0.0,
        round_trip=round_trip)


async def nearest_approach_m(conn: asyncpg.Connection, vehicle_id: int, lo_ms: int, hi_ms: int,
                             destinations: Sequence[tuple[float, float, str]]) -> tuple[float, ...] | None:
    """For each destination, the smallest distance (m) of any fixed position in [lo, hi];
    None when there was no fixed position to look at (R13 then judges from the trips' ends
    and the stops, or not at all — never "no fix" as "far away")."""
    if not destinations:
        return None
    rows = await conn.fetch(
        """SELECT d.i, (SELECT min(2 * 6371008.8 * asin(least(1.0, sqrt(
                      power(sin(radians(p.lat - d.lat) / 2), 2)
                      + cos(radians(p.lat)) * cos(radians(d.lat))
                        * power(sin(radians(p.lon - d.lon) / 2), 2)))))
                   FROM positions p WHERE p.vehicle_id = $1 AND p.ts BETWEEN $2 AND $3
                     AND p.fix) AS nearest_m
           FROM unnest($4::float8[], $5::float8[]) WITH ORDINALITY AS d(lon, lat, i)
           ORDER BY d.i""",
        vehicle_id, to_dt(lo_ms), to_dt(hi_ms), [d[0] for d in destinations],
        [d[1] for d in destinations])
    nearest = [r["nearest_m"] for r in rows]
    if len(nearest) != len(destinations) or any(m is None for m in nearest):
        return None
    return tuple(float(m) for m in nearest)


# ---- calendar, seals, duty, parameters ----------------------------------------------------------------

async def seals(conn: asyncpg.Connection, org_path: Sequence[int], lo_ms: int,
                hi_ms: int) -> tuple[tuple[int, int], ...]:
    rows = await conn.fetch(
        """SELECT starts_at, ends_at FROM holiday_seals WHERE org_id = ANY($1::int[])
             AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at""",
        list(org_path), to_dt(lo_ms), to_dt(hi_ms))
    return tuple((to_ms(r["starts_at"]), to_ms(r["ends_at"])) for r in rows)


async def duty(conn: asyncpg.Connection, vehicle_id: int, lo_ms: int,
               hi_ms: int) -> tuple[tuple[int, int], ...]:
    rows = await conn.fetch(
        """SELECT starts_at, ends_at FROM duty_registrations WHERE vehicle_id = $1
             AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at""",
        vehicle_id, to_dt(lo_ms), to_dt(hi_ms))
    return tuple((to_ms(r["starts_at"]), to_ms(r["ends_at"])) for r in rows)


async def param_rows(conn: asyncpg.Connection, org_path: Sequence[int]) -> list[ParamRow]:
    rows = await conn.fetch(
        """SELECT org_id, rule_id, version, params, valid_from FROM rule_params
           WHERE org_id IS NULL OR org_id = ANY($1::int[])""", list(org_path))
    return [ParamRow(r["org_id"], r["rule_id"], r["version"], r["params"], to_ms(r["valid_from"]))
            for r in rows]


# ---- stored violations --------------------------------------------------------------------------------

_STORED = """SELECT id, rule_id, finding_key, severity, state, summary, ended_at, provisional,
    local_day FROM violations"""


def as_stored(r: asyncpg.Record) -> Stored:
    return Stored(r["rule_id"], r["finding_key"], r["severity"], r["state"], r["summary"] or {},
                  opt_ms(r["ended_at"]), r["provisional"], r["id"])


async def stored_by_day(conn: asyncpg.Connection, vehicle_id: int,
                        days: Iterable[date]) -> dict[date, list[Stored]]:
    """The car's stored violations of those days (R14 and PUBLIC are not the days' business)."""
    days = sorted(set(days))
    rows = await conn.fetch(
        _STORED + """ WHERE vehicle_id = $1 AND local_day = ANY($2::date[])
            AND rule_id <> ALL($3::text[]) ORDER BY id""", vehicle_id, days, list(NOT_RECONCILED))
    out: dict[date, list[Stored]] = {d: [] for d in days}
    for r in rows:
        out[r["local_day"]].append(as_stored(r))
    return out


async def stored_by_keys(conn: asyncpg.Connection,
                         keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[date, Stored]]:
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = await conn.fetch(
        _STORED + """ WHERE (rule_id, finding_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
        [k[0] for k in keys], [k[1] for k in keys])
    return {(r["rule_id"], r["finding_key"]): (r["local_day"], as_stored(r)) for r in rows}


async def recent_night_stops(conn: asyncpg.Connection, vehicle_id: int,
                             day: date) -> tuple[tuple[int, float, float], ...]:
    """(started ms, lon, lat) of the car's R4 nights (warn or alarm, not retracted) of the six
    days before `day` (R17: the same place night after night)."""
    rows = await conn.fetch(
        """SELECT started_at, summary->'at' AS at FROM violations
           WHERE vehicle_id = $1 AND rule_id = 'R4' AND severity IN ('warn', 'alarm')
             AND state <> 'retracted' AND local_day >= $2 AND local_day < $3
           ORDER BY started_at""", vehicle_id, day - timedelta(days=6), day)
    out = []
    for r in rows:
        at = r["at"]
        if isinstance(at, list) and len(at) == 2:
            out.append((to_ms(r["started_at"]), float(at[0]), float(at[1])))
    return tuple(out)


# ---- emergencies (R14) ------------------------------------------------------------------------------

@dataclass(frozen=True)
class EmergencyRow:
    view: EmergencyView
    org_id: int                  # the requesting unit (it explains an R14)
    org_path: tuple[int, ...]


async def emergencies(conn: asyncpg.Connection | asyncpg.Pool, since_ms: int) -> list[EmergencyRow]:
    """Emergency requests dispatched before approval whose deadline is after since_ms."""
    rows = await conn.fetch(
        """SELECT r.id, r.org_id, o.path AS org_path, r.emergency_deadline, r.emergency_approved,
                  (SELECT max(e.at) FROM trip_request_events e WHERE e.request_id = r.id
                     AND e.event IN ('approve', 'reject')) AS decided_at,
                  min(d.created_at) AS dispatched_at,
                  array_agg(d.id ORDER BY d.id) AS order_ids,
                  (array_agg(d.vehicle_id ORDER BY d.id) FILTER (WHERE d.vehicle_id IS NOT NULL))[1]
                      AS vehicle_id,
                  (array_agg(d.driver_id ORDER BY d.id) FILTER (WHERE d.driver_id IS NOT NULL))[1]
                      AS driver_id
           FROM trip_requests r JOIN organisations o ON o.id = r.org_id
           JOIN dispatch_order_requests x ON x.request_id = r.id
           JOIN dispatch_orders d ON d.id = x.order_id AND d.state <> 'cancelled'
           WHERE r.trip_type = 'emergency' AND r.emergency_deadline IS NOT NULL
             AND r.emergency_deadline >= $1
           GROUP BY r.id, o.path ORDER BY r.id""", to_dt(since_ms))
    plates = {p["id"]: p["plate"] for p in await conn.fetch(
        "SELECT id, plate FROM vehicles WHERE id = ANY($1::int[])",
        sorted({r["vehicle_id"] for r in rows if r["vehicle_id"] is not None}))}
    return [EmergencyRow(EmergencyView(
        request_id=r["id"], dispatched_ms=to_ms(r["dispatched_at"]),
        deadline_ms=to_ms(r["emergency_deadline"]), approved=r["emergency_approved"],
        decided_ms=opt_ms(r["decided_at"]) if r["emergency_approved"] is not None else None,
        vehicle_id=r["vehicle_id"], order_ids=tuple(r["order_ids"]), driver_id=r["driver_id"],
        plate=plates.get(r["vehicle_id"], "")), r["org_id"], tuple(r["org_path"] or ()))
        for r in rows]


async def stored_requests(conn: asyncpg.Connection | asyncpg.Pool,
                          request_ids: Sequence[int]) -> dict[int, Stored]:
    rows = await conn.fetch(
        _STORED.replace("local_day FROM", "local_day, request_id FROM")
        + " WHERE rule_id = 'R14' AND request_id = ANY($1::int[])", list(request_ids))
    return {r["request_id"]: as_stored(r) for r in rows}
