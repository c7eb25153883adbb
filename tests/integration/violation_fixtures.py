"""Realistic violations for the review tests: a unit's car that leaves its lot at 21:10 on a
working day without an order, drives to a residential compound and stays there — its
positions stored, and a violation with the evidence bundle of the design (format 1) built
from them, created through supervision/violation_store.py (with its audit record).

Also the users the review needs and the seed lacks: the org admin of the car's unit
(`unitadmin`), an org admin of another city's unit (`hs_admin`) and another city's
dispatcher (`hs_dispatcher`); password "test-password".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from fleet.users import upsert_user
from supervision import violation_store

LOCAL = ZoneInfo("Asia/Shanghai")
PASSWORD = "test-password"
M_PER_DEG_LAT = 111_195.0
RESIDENTIAL = {"type": "Polygon", "coordinates": [[
    [114.4020, 30.5520], [114.4090, 30.5520], [114.4090, 30.5575], [114.4020, 30.5575],
    [114.4020, 30.5520]]]}
LOT = {"type": "Polygon", "coordinates": [[
    [114.3040, 30.5920], [114.3070, 30.5920], [114.3070, 30.5940], [114.3040, 30.5940],
    [114.3040, 30.5920]]]}
POSITION_COLUMNS = ["vehicle_id", "device_id", "ts", "seq", "received_at", "lat", "lon",
                    "speed_kmh", "heading_deg", "acc", "odometer_km"]


@dataclass(frozen=True)
class Car:
    id: int
    plate: str
    device_id: int
    org_id: int
    org_code: str
    org_name_zh: str
    org_name_en: str


async def unit_car(db: asyncpg.Connection, city: str = "420100", offset: int = 0) -> Car:
    """A general-use car of a unit (unit_retained) in the city, with a terminal."""
    row = await db.fetchrow(
        """SELECT v.id, v.plate, d.id AS device_id, o.id AS org_id, o.code, o.name_zh, o.name_en
           FROM vehicles v JOIN devices d ON d.vehicle_id = v.id
           JOIN organisations o ON o.id = v.owner_org_id
           WHERE v.source = 'unit_retained' AND v.use_category = 'general'
             AND v.home_city_code = $1 AND v.marking = 'painted'
           ORDER BY v.id OFFSET $2 LIMIT 1""", city, offset)
    assert row is not None, f"no unit car in {city}"
    return Car(row["id"], row["plate"], row["device_id"], row["org_id"], row["code"],
               row["name_zh"], row["name_en"])


async def review_users(db: asyncpg.Connection, car: Car) -> None:
    """unitadmin (org admin of the car's unit), hs_admin and hs_dispatcher (黄石)."""
    await upsert_user(db, username="unitadmin", display_name="单位管理员 Unit admin",
                      org_code=car.org_code, roles=["org_admin"], password=PASSWORD)
    hs_unit = await db.fetchval(
        "SELECT code FROM organisations WHERE kind = 'unit' AND city_code = '420200' ORDER BY id LIMIT 1")
    await upsert_user(db, username="hs_admin", display_name="黄石单位管理员", org_code=hs_unit,
                      roles=["org_admin"], password=PASSWORD)
    await upsert_user(db, username="hs_dispatcher", display_name="黄石调度员",
                      org_code="420200-PF", roles=["dispatcher"], password=PASSWORD)


def _offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    return (lat + north_m / M_PER_DEG_LAT,
            lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))))


def night_trip(day: date, start_hm: tuple[int, int] = (21, 10)) -> list[tuple[datetime, float, float, float, bool]]:
    """(ts, lat, lon, speed_kmh, acc): parked in the lot, a 26-minute drive east-south-east to
    a residential compound (光谷 side), parked there; every 10 s while driving, 60 s parked."""
    t = datetime(day.year, day.month, day.day, *start_hm, tzinfo=LOCAL) - timedelta(minutes=10)
    lat, lon = 30.5930, 114.3055
    fixes = []
    for i in range(10):  # parked in the lot
        fixes.append((t + timedelta(minutes=i), lat + (i % 3) * 2e-5, lon, 0.0, False))
    t += timedelta(minutes=10)
    goal = (30.5547, 114.4055)
    steps = 26 * 6
    for i in range(steps + 1):
        f = i / steps
        bend = math.sin(f * math.pi) * 0.006  # not a straight line: the roads bend
        p_lat = lat + (goal[0] - lat) * f + bend
        p_lon = lon + (goal[1] - lon) * f
        speed = 0.0 if i in (0, steps) else 38 + 14 * math.sin(i / 5)
        fixes.append((t + timedelta(seconds=10 * i), p_lat, p_lon, speed, True))
    t += timedelta(seconds=10 * steps)
    for i in range(1, 21):  # parked at the compound
        j_lat, j_lon = _offset(goal[0], goal[1], (i % 5 - 2) * 4.0, (i % 3 - 1) * 5.0)
        fixes.append((t + timedelta(minutes=i), j_lat, j_lon, 0.0, False))
    return fixes


async def store_positions(db: asyncpg.Connection, car: Car, fixes: list) -> None:
    days = sorted({ts.astimezone(LOCAL).date() for ts, *_ in fixes})
    await db.execute("SELECT ensure_position_partitions($1, $2)", days[0], days[-1])
    odometer = 23_456.0
    records, prev = [], None
    for seq, (ts, lat, lon, speed, acc) in enumerate(fixes, start=1):
        if prev is not None:
            odometer += math.dist((lat, lon), prev) * M_PER_DEG_LAT / 1000
        prev = (lat, lon)
        records.append((car.id, car.device_id, ts, seq, ts + timedelta(seconds=2), lat, lon,
                        speed, 110, acc, round(odometer, 3)))
    await db.copy_records_to_table("positions", records=records, columns=POSITION_COLUMNS)


def bundle_for(car: Car, fixes: list, rule_id: str = "R1") -> dict:
    """The evidence bundle (format 1) of the design, built from the fixes."""
    moving = [f for f in fixes if f[4]]
    start, end = moving[0][0], moving[-1][0]
    window = [f for f in fixes if start - timedelta(minutes=10) <= f[0] <= end + timedelta(minutes=10)]
    trigger = [moving[0], moving[len(moving) // 2], moving[-1]]
    km = sum(math.dist(a[1:3], b[1:3]) for a, b in zip(moving, moving[1:], strict=False)) * 111.195
    return {
        "format": 1,
        "rule": {"id": rule_id, "params": {"min_trip_m": 1000, "min_trip_s": 300,
                                           "cover_before_s": 1800, "cover_after_s": 3600},
                 "params_version": 0},
        "vehicle": {"id": car.id, "plate": car.plate, "source": "unit_retained",
                    "use_category": "general",
                    "org": {"id": car.org_id, "name_zh": car.org_name_zh, "name_en": car.org_name_en}},
        "driver": None,
        "window": {"from": (start - timedelta(minutes=10)).isoformat(),
                   "to": (end + timedelta(minutes=10)).isoformat()},
        "track": {"type": "LineString", "coordinates": [[f[2], f[1]] for f in window]},
        "points": [{"ts": f[0].isoformat(), "lat": f[1], "lon": f[2], "speed_kmh": f[3], "acc": f[4]}
                   for f in trigger],
        "zones": [
            {"id": 0, "version": 1, "name_zh": "单位停车场", "purpose": "designated_lot", "geojson": LOT},
            {"id": 0, "version": 1, "name_zh": "光谷某住宅小区", "purpose": "sensitive_place",
             "category": "residential", "geojson": RESIDENTIAL},
        ],
        "orders": [],
        "orders_checked": {"from": (start - timedelta(hours=24)).isoformat(),
                           "to": (end + timedelta(hours=24)).isoformat()},
        "distance": {"gnss_km": round(km, 1), "odometer_km": None},
        "summary": {"km": round(km, 1), "duration_s": int((end - start).total_seconds())},
        "message": {"zh": f"{car.plate} 21:10 无派车单出车 {km:.1f} km，停于住宅小区",
                    "en": f"{car.plate}: trip without an order at 21:10, {km:.1f} km, "
                          "parked at a residential compound"},
    }


async def make_violation(db: asyncpg.Connection, car: Car, day: date, *, rule_id: str = "R1",
                         severity: str = "alarm", with_positions: bool = True,
                         start_hm: tuple[int, int] = (21, 10)) -> int:
    fixes = night_trip(day, start_hm)
    if with_positions:
        await store_positions(db, car, fixes)
    bundle = bundle_for(car, fixes, rule_id)
    moving = [f for f in fixes if f[4]]
    async with db.transaction():
        return await violation_store.create(
            db, rule_id=rule_id, finding_key=f"v{car.id}:trip:{int(moving[0][0].timestamp() * 1000)}",
            vehicle_id=car.id, org_id=car.org_id, severity=severity, started_at=moving[0][0],
            ended_at=moving[-1][0], params=bundle["rule"]["params"], params_version=0,
            summary=bundle["summary"], bundle=bundle)
