"""Scripted inputs for the rule tests: a Wuhan platform sedan with its designated lot on a
working Tuesday (2026-11-24), real zones (supervision.zones), and small builders for trips,
stops, episodes and orders. Times are written as local "HH:MM" (Asia/Shanghai) of the day,
positions as metre offsets from the lot's centre. Pure: no I/O."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from supervision.model import (
    Episode,
    Fix,
    OrderView,
    StopView,
    TripView,
    VehicleDay,
    VehicleProfile,
)
from supervision.params import resolve_all
from supervision.zones import Zone, ZoneIndex, zone_from_row

CST = timezone(timedelta(hours=8))
DAY = date(2026, 11, 24)                   # a working Tuesday
VEHICLE_ID = 12
DRIVER_ID = 3
LOT_CENTRE = (114.3055, 30.5928)           # (lon, lat): 武汉
WUHAN, HUANGSHI, XIAOGAN = "420100", "420200", "420900"
M_PER_DEG_LAT = 110_850.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LOT_CENTRE[1]))


def at(east_m: float = 0.0, north_m: float = 0.0,
       origin: tuple[float, float] = LOT_CENTRE) -> tuple[float, float]:
    """(lon, lat) this many metres east and north of origin (the lot's centre)."""
    return (origin[0] + east_m / M_PER_DEG_LON, origin[1] + north_m / M_PER_DEG_LAT)


def ms(hhmm: str, day_offset: int = 0, day: date = DAY) -> int:
    """Epoch ms of the local time on the day (+ offset days); "HH:MM" or "HH:MM:SS"."""
    parts = [int(p) for p in hhmm.split(":")]
    hours, minutes, seconds = (parts + [0, 0])[:3]
    local = datetime(day.year, day.month, day.day, tzinfo=CST) + timedelta(
        days=day_offset, hours=hours, minutes=minutes, seconds=seconds)
    return int(local.timestamp() * 1000)


# ---- zones ------------------------------------------------------------------------------

def _box(centre: tuple[float, float], half_east_m: float, half_north_m: float) -> dict:
    w, s = at(-half_east_m, -half_north_m, centre)
    e, n = at(half_east_m, half_north_m, centre)
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def make_zone(zone_id: int, purpose: str, centre: tuple[float, float], half_m: float, *,
              category: str | None = None, city_code: str | None = WUHAN,
              name: str | None = None, speed_limit_kmh: float | None = None,
              **extra: Any) -> Zone:
    row = {"id": zone_id, "version": 1, "code": f"Z{zone_id}",
           "name_zh": name or f"区域{zone_id}", "name_en": name or f"Zone {zone_id}",
           "shape": "polygon", "purpose": purpose, "category": category,
           "city_code": city_code, "geojson": _box(centre, half_m, half_m),
           "speed_limit_kmh": speed_limit_kmh, **extra}
    return zone_from_row(row)


LOT_ID, WUHAN_ID, HUANGSHI_ID, XIAOGAN_ID = 1, 2, 3, 4
FUEL_ID, KTV_ID, HOME_ID, FORBIDDEN_ID, HOTEL_ID, OTHER_LOT_ID = 5, 6, 7, 8, 9, 10

FUEL_AT = at(3000, 0)                      # 定点 fuel station 3 km east
KTV_AT = at(-4000, 2000)                   # an entertainment venue
HOME_AT = at(6000, -5000)                  # a residential compound (the driver's home)
FORBIDDEN_AT = at(0, 9000)
HOTEL_AT = at(-8000, -3000)                # 会所/高档酒店
OTHER_LOT_AT = at(10000, 10000)            # another unit's designated lot
HUANGSHI_AT = (115.0389, 30.1999)
XIAOGAN_AT = (113.9169, 30.9246)

ZONES: dict[int, Zone] = {
    LOT_ID: make_zone(LOT_ID, "designated_lot", LOT_CENTRE, 50, name="市直停车场"),
    WUHAN_ID: make_zone(WUHAN_ID, "city_boundary", LOT_CENTRE, 40_000, name="武汉市"),
    HUANGSHI_ID: make_zone(HUANGSHI_ID, "city_boundary", HUANGSHI_AT, 20_000,
                           city_code=HUANGSHI, name="黄石市"),
    XIAOGAN_ID: make_zone(XIAOGAN_ID, "city_boundary", XIAOGAN_AT, 20_000,
                          city_code=XIAOGAN, name="孝感市"),
    FUEL_ID: make_zone(FUEL_ID, "service_site", FUEL_AT, 60, category="fuel", name="定点加油站"),
    KTV_ID: make_zone(KTV_ID, "sensitive_place", KTV_AT, 80, category="entertainment",
                      name="某KTV"),
    HOME_ID: make_zone(HOME_ID, "sensitive_place", HOME_AT, 300, category="residential",
                       name="某小区"),
    FORBIDDEN_ID: make_zone(FORBIDDEN_ID, "forbidden_zone", FORBIDDEN_AT, 500, name="禁入区"),
    HOTEL_ID: make_zone(HOTEL_ID, "sensitive_place", HOTEL_AT, 150, category="club_hotel",
                        name="某会所"),
    OTHER_LOT_ID: make_zone(OTHER_LOT_ID, "designated_lot", OTHER_LOT_AT, 60, name="区停车场"),
}
INDEX = ZoneIndex(ZONES.values())


def places_of(point: tuple[float, float]) -> list[Zone]:
    return INDEX.containing(point[0], point[1])


# ---- vehicle, trips, stops, episodes, orders ------------------------------------------------

def vehicle(**changes: Any) -> VehicleProfile:
    base = VehicleProfile(id=VEHICLE_ID, plate="鄂A·12345", source="platform",
                          use_category="general", home_city=WUHAN, owner_org_id=9,
                          org_path=(1, 2, 9), lot_zone_id=LOT_ID, report_interval_s=30,
                          rental_company_id=None)
    return replace(base, **changes)


def trip(start: str, end: str | None, frm: tuple[float, float] = LOT_CENTRE,
         to: tuple[float, float] | None = None, km: float = 12.0, *, max_speed: float = 60.0,
         day_offset: int = 0, end_offset: int | None = None) -> TripView:
    start_ms = ms(start, day_offset)
    end_ms = None if end is None else ms(end, day_offset if end_offset is None else end_offset)
    duration_s = 0 if end_ms is None else (end_ms - start_ms) // 1000
    return TripView(start_ms, end_ms, frm, to or frm, km * 1000.0, max_speed, duration_s)


def stop(start: str, end: str | None, where: tuple[float, float] = LOT_CENTRE, *,
         day_offset: int = 0, end_offset: int | None = None) -> StopView:
    start_ms = ms(start, day_offset)
    end_ms = None if end is None else ms(end, day_offset if end_offset is None else end_offset)
    return StopView(start_ms, end_ms, where, 0 if end_ms is None else (end_ms - start_ms) // 1000)


def visit(zone_id: int, start_ms: int, end_ms: int | None, **data: Any) -> Episode:
    zone = ZONES[zone_id]
    return Episode("zone", str(zone_id), start_ms, end_ms,
                   {"zone_id": zone_id, "version": 1, "purpose": zone.purpose,
                    "category": zone.category, "fixes": 4, **data})


def gap(start_ms: int, end_ms: int | None, *, acc: bool | None = True,
        speed_kmh: float | None = 50.0, dist_m: float | None = 500.0,
        frm: tuple[float, float] = LOT_CENTRE) -> Episode:
    return Episode("gap", "", start_ms, end_ms,
                   {"from": list(frm), "to": None if end_ms is None else list(frm),
                    "acc": acc, "speed_kmh": speed_kmh, "dist_m": dist_m})


def speeding(start_ms: int, end_ms: int | None, max_speed: float, limit: float = 120.0,
             zone_id: int | None = None) -> Episode:
    return Episode("speeding", "", start_ms, end_ms,
                   {"max_speed_kmh": max_speed, "limit_kmh": limit,
                    "limit_source": "zone" if zone_id else "default", "zone_id": zone_id,
                    "fixes": 5})


def alarm(bit: int, start_ms: int, end_ms: int | None) -> Episode:
    return Episode("alarm", str(bit), start_ms, end_ms, {"bit": bit})


def order(order_id: int, start: str, end: str, destinations: list[tuple[float, float, str]]
          | None = None, *, state: str = "returned", departed: str | None = None,
          returned: str | None = None, driver: int | None = DRIVER_ID, planned_km: float = 20.0,
          day_offset: int = 0, end_offset: int | None = None, emergency: bool = False,
          trip_types: tuple[str, ...] = ("official",)) -> OrderView:
    end_day = day_offset if end_offset is None else end_offset
    return OrderView(
        id=order_id, state=state, planned_start_ms=ms(start, day_offset),
        planned_end_ms=ms(end, end_day),
        departed_ms=None if departed is None else ms(departed, day_offset),
        returned_ms=None if returned is None else ms(returned, end_day),
        origin=(LOT_CENTRE[0], LOT_CENTRE[1], WUHAN),
        destinations=tuple(destinations or [(*at(5000, 5000), WUHAN)]),
        request_ids=(100 + order_id,), trip_types=trip_types, emergency=emergency,
        emergency_approved=None, emergency_deadline_ms=None, driver_id=driver,
        planned_km=planned_km, round_trip=True)


def day(*, trips: tuple[TripView, ...] = (), stops: tuple[StopView, ...] = (),
        episodes: tuple[Episode, ...] = (), orders: tuple[OrderView, ...] = (),
        horizon: int | None = None, working_day: bool = True,
        tomorrow_working_day: bool = True, seals: tuple[tuple[int, int], ...] = (),
        duty: tuple[tuple[int, int], ...] = (), last_fix: Fix | None = None,
        the_day: date = DAY, params: dict | None = None, with_home_visit: bool = True,
        **changes: Any) -> VehicleDay:
    """A vehicle-day with defaults; the horizon defaults to the end of the day + 6 h (all
    data in). Unless told otherwise, a visit of the Wuhan boundary spans the whole window (the
    car never left the city)."""
    start = ms("00:00", 0, the_day)
    end = ms("00:00", 1, the_day)
    horizon_ms = end + 6 * 3_600_000 if horizon is None else horizon
    eps = tuple(episodes)
    if with_home_visit and not any(e.kind == "zone" and e.key == str(WUHAN_ID) for e in eps):
        eps = (visit(WUHAN_ID, start - 2 * 86_400_000, None),) + eps
    ctx = VehicleDay(
        vehicle=changes.pop("vehicle", vehicle()), day=the_day, day_start_ms=start,
        day_end_ms=end, horizon_ms=horizon_ms, working_day=working_day,
        tomorrow_working_day=tomorrow_working_day, seals=seals, duty=duty,
        trips=tuple(trips), stops=tuple(stops), episodes=eps, orders=tuple(orders),
        zones=dict(ZONES), places_of=places_of, last_fix=last_fix,
        params=params if params is not None else resolve_all((1, 2, 9), []),
    )
    return replace(ctx, **changes) if changes else ctx


def fix(hhmm: str, where: tuple[float, float] = LOT_CENTRE, *, acc: bool | None = False,
        speed_kmh: float | None = 0.0, day_offset: int = 0) -> Fix:
    return Fix(ms(hhmm, day_offset), where[1], where[0], speed_kmh, acc)


def only(findings: list, rule_id: str) -> list:
    return [f for f in findings if f.rule_id == rule_id]
