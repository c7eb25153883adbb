"""Track playback (轨迹回放) against PostgreSQL: positions, trips and stops over a window, the
fixes simplified to a point budget with the tolerance stated; the day's totals."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.integration.web_app import assert_error, login
from tests.unit.test_simplify import segment_gap_m
from web.queries.tracks import load_track, load_trips
from web.tracks import LOCAL_TZ, local_day, polyline_length_m

WUHAN = "420100"
ORIGIN = (30.55, 114.25)
M_PER_DEG_LAT = 111_195.0

POSITION_COLUMNS = [
    "vehicle_id",
    "device_id",
    "ts",
    "seq",
    "received_at",
    "lat",
    "lon",
    "speed_kmh",
    "heading_deg",
    "acc",
]


def offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    return (
        lat + north_m / M_PER_DEG_LAT,
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


@dataclass
class Day:
    """A synthetic day of one car: stop, trip (east, then north: an L), stop, trip back,
    stop, and a trip still going on (open)."""

    vehicle_id: int
    device_id: int
    start: datetime  # 00:00 Asia/Shanghai
    positions: list[tuple] = field(default_factory=list)
    trips: list[dict] = field(default_factory=list)
    stops: list[dict] = field(default_factory=list)
    corner: tuple[float, float] = (0.0, 0.0)

    def at(self, hh: int, mm: int = 0) -> datetime:
        return self.start + timedelta(hours=hh, minutes=mm)

    def add_fix(self, ts: datetime, lat: float, lon: float, speed_kmh: float, acc: bool) -> None:
        heading = 0
        if self.positions:
            prev = self.positions[-1]
            heading = round(math.degrees(math.atan2(lon - prev[6], lat - prev[5]))) % 360
        seq = len(self.positions)
        self.positions.append(
            (self.vehicle_id, self.device_id, ts, seq, ts, lat, lon, speed_kmh, heading, acc)
        )

    def here(self) -> tuple[float, float]:
        return self.positions[-1][5:7] if self.positions else ORIGIN

    def parked(self, start: datetime, end: datetime | None, until: datetime, rng) -> None:
        """Fixes every minute (±2 m of jitter, ACC off) from `start` (after the trip that
        ended there) until `until`; the stop ends at `end` (None: still there)."""
        lat, lon = self.here()
        ts = start if not self.positions else start + timedelta(seconds=60)
        while ts < until:
            self.add_fix(ts, *offset(lat, lon, rng.uniform(-2, 2), rng.uniform(-2, 2)), 0.0, False)
            ts += timedelta(seconds=60)
        self.stops.append(
            {
                "start_ts": start,
                "end_ts": end,
                "lat": lat,
                "lon": lon,
                "duration_s": int(((end or until) - start).total_seconds()),
            }
        )

    def drive(self, start: datetime, legs: list[tuple[float, float, float]], rng, *, open_=False):
        """legs: (east_m, north_m, minutes); a fix at `start`, then every 5 s with ±3 m of
        noise. Returns when the trip ends (its last fix)."""
        lat, lon = self.here()
        first = len(self.positions)
        self.add_fix(start, lat, lon, 0.0, True)
        ts = start
        for east_m, north_m, minutes in legs:
            steps = int(minutes * 12)
            speed_kmh = math.hypot(east_m, north_m) / (minutes * 60) * 3.6
            for step in range(1, steps + 1):
                ts += timedelta(seconds=5)
                f = step / steps
                noise = (rng.uniform(-3, 3), rng.uniform(-3, 3))
                fix = offset(lat, lon, east_m * f + noise[0], north_m * f + noise[1])
                self.add_fix(ts, *fix, speed_kmh, True)
            lat, lon = offset(lat, lon, east_m, north_m)
            if east_m and not north_m:
                self.corner = (lat, lon)
        fixes = self.positions[first:]
        dist_m = polyline_length_m((p[5], p[6]) for p in fixes)
        duration_s = int((ts - start).total_seconds())
        self.trips.append(
            {
                "start_ts": start,
                "end_ts": None if open_ else ts,
                "start_lat": fixes[0][5],
                "start_lon": fixes[0][6],
                "end_lat": fixes[-1][5],
                "end_lon": fixes[-1][6],
                "dist_gnss_m": dist_m,
                "max_speed_kmh": max(p[7] for p in fixes),
                "mean_speed_kmh": dist_m / duration_s * 3.6,
                "duration_s": duration_s,
                "position_count": len(fixes),
            }
        )
        return ts


def build_day(vehicle_id: int, device_id: int, day: date) -> Day:
    """08:00 parked · 08:30 trip (an L: 20 km east, 10 km north) · stop · 11:00 trip back ·
    stop · 12:00 trip south, still open at 12:20. Stops and trips meet on fixes."""
    rng = random.Random(7)
    d = Day(vehicle_id, device_id, datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ))
    d.parked(d.at(8), d.at(8, 30), d.at(8, 30), rng)
    end = d.drive(d.at(8, 30), [(20_000, 0, 26), (0, 10_000, 14)], rng)
    d.parked(end, d.at(11), d.at(11), rng)
    end = d.drive(d.at(11), [(-20_000, -10_000, 30)], rng)
    d.parked(end, d.at(12), d.at(12), rng)
    d.drive(d.at(12), [(0, -8_000, 20)], rng, open_=True)
    return d


async def store_day(db, d: Day) -> None:
    first = d.start.date()
    await db.execute("SELECT ensure_position_partitions($1, $2)", first, first + timedelta(days=1))
    await db.copy_records_to_table("positions", records=d.positions, columns=POSITION_COLUMNS)
    for trip in d.trips:
        await insert_trip(db, d.vehicle_id, **trip)
    for stop in d.stops:
        await insert_stop(db, d.vehicle_id, **stop)


async def insert_trip(db, vehicle_id: int, **t) -> None:
    await db.execute(
        """INSERT INTO trips (vehicle_id, start_ts, end_ts, start_lat, start_lon, end_lat, end_lon,
               dist_gnss_m, odo_start_km, odo_end_km, odo_source, max_speed_kmh, mean_speed_kmh,
               duration_s, detected_by, position_count)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, 'gnss', $9, $10, $11, 'acc', $12)""",
        vehicle_id,
        t["start_ts"],
        t["end_ts"],
        t["start_lat"],
        t["start_lon"],
        t["end_lat"],
        t["end_lon"],
        t["dist_gnss_m"],
        t["max_speed_kmh"],
        t["mean_speed_kmh"],
        t["duration_s"],
        t["position_count"],
    )


async def insert_stop(db, vehicle_id: int, **s) -> None:
    await db.execute(
        """INSERT INTO stops (vehicle_id, start_ts, end_ts, lat, lon, duration_s, gnss_odometer_m)
           VALUES ($1, $2, $3, $4, $5, $6, 0)""",
        vehicle_id,
        s["start_ts"],
        s["end_ts"],
        s["lat"],
        s["lon"],
        s["duration_s"],
    )


async def wuhan_vehicle(db, *, confidential: bool = False) -> tuple[int, int]:
    op = "=" if confidential else "<>"
    row = await db.fetchrow(
        "SELECT v.id, d.id FROM vehicles v JOIN devices d ON d.vehicle_id = v.id "
        f"WHERE v.home_city_code = $1 AND v.use_category {op} 'confidential' ORDER BY v.id LIMIT 1",
        WUHAN,
    )
    return row[0], row[1]


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def max_deviation_m(raw: list[tuple], kept: list[dict]) -> float:
    """How far the raw fixes lie from the returned line, each from the piece spanning it."""
    worst_m = 0.0
    k = 0
    for row in raw:
        ts_ms, lat, lon = ms(row[2]), row[5], row[6]
        while k + 2 < len(kept) and kept[k + 1]["ts_ms"] <= ts_ms:
            k += 1
        a, b = kept[k], kept[k + 1]
        gap_m = segment_gap_m((lat, lon), (a["lat"], a["lon"]), (b["lat"], b["lon"]))
        worst_m = max(worst_m, gap_m)
    return worst_m


@pytest.fixture
async def day(db) -> Day:
    vehicle_id, device_id = await wuhan_vehicle(db)
    today = datetime.now(LOCAL_TZ).date()
    d = build_day(vehicle_id, device_id, today - timedelta(days=5))
    await store_day(db, d)
    return d


async def get_track(client, d: Day, start: datetime, end: datetime, **params):
    response = await client.get(
        f"/api/v1/vehicles/{d.vehicle_id}/track",
        params={"from": start.isoformat(), "to": end.isoformat(), **params},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_window_that_fits_the_budget_is_returned_whole(client, day):
    await login(client, "dispatcher")
    track = await get_track(client, day, day.at(7), day.at(13))
    assert track["raw_point_count"] == len(day.positions) == track["point_count"]
    assert track["simplify_tolerance_m"] == 0
    assert track["sample_stride"] == 1 and track["truncated"] is False
    assert track["max_points"] == 2000
    ts = [p["ts_ms"] for p in track["points"]]
    assert ts == sorted(ts)
    first = track["points"][0]
    assert set(first) == {"ts_ms", "lat", "lon", "speed_kmh", "heading_deg", "acc"}
    assert first["acc"] is False and first["speed_kmh"] == 0
    assert [t["open"] for t in track["trips"]] == [False, False, True]
    assert [s["open"] for s in track["stops"]] == [False, False, False]
    assert track["distance_m"] > 60_000


async def test_simplification_keeps_the_budget_the_corner_and_every_boundary(client, day):
    await login(client, "dispatcher")
    raw = [p for p in day.positions if day.at(7) <= p[2] <= day.at(13)]
    tolerances = []
    for budget in (400, 100, 40):
        track = await get_track(client, day, day.at(7), day.at(13), max_points=budget)
        points = track["points"]
        assert track["point_count"] == len(points) <= budget
        assert track["raw_point_count"] == len(raw)
        tolerance_m = track["simplify_tolerance_m"]
        assert tolerance_m > 0
        # The stated tolerance is a true bound on what was dropped.
        assert max_deviation_m(raw, points) <= tolerance_m + 0.05
        kept = {p["ts_ms"] for p in points}
        for segment in track["trips"] + track["stops"]:
            assert segment["start_ms"] in kept
            assert segment["end_ms"] is None or segment["end_ms"] in kept
        tolerances.append(tolerance_m)
    # Where the L turns north: kept, within the tolerance, however small the budget.
    corner_gap_m = min(
        segment_gap_m(day.corner, (p["lat"], p["lon"]), (p["lat"], p["lon"]))
        for p in points
    )
    assert corner_gap_m < max(tolerances[-1], 10)
    assert tolerances == sorted(tolerances)  # a smaller budget never states a smaller one
    assert tolerances[-1] < 200  # 40 points still draw the roads, not a scribble


async def test_trips_and_stops_are_clipped_to_the_window(client, day):
    await login(client, "dispatcher")
    start, end = day.at(8, 45), day.at(11, 15)
    track = await get_track(client, day, start, end)
    trips, stops = track["trips"], track["stops"]
    assert [t["start_ms"] for t in trips] == [ms(t["start_ts"]) for t in day.trips[:2]]
    first, second = trips
    assert first["clipped_start"] and not first["clipped_end"]
    assert first["clip_start_ms"] == ms(start) and first["clip_end_ms"] == first["end_ms"]
    assert second["clipped_end"] and not second["clipped_start"]
    assert second["clip_end_ms"] == ms(end) and second["clip_start_ms"] == second["start_ms"]
    assert first["dist_m"] == pytest.approx(day.trips[0]["dist_gnss_m"], abs=0.1)
    assert first["start_lat"] == pytest.approx(day.trips[0]["start_lat"])
    assert [s["start_ms"] for s in stops] == [ms(day.stops[1]["start_ts"])]
    assert stops[0]["duration_s"] == day.stops[1]["duration_s"]
    assert stops[0]["clipped_start"] is False and stops[0]["clipped_end"] is False
    assert all(
        start <= datetime.fromtimestamp(p["ts_ms"] / 1000, UTC) <= end for p in track["points"]
    )


async def test_the_trip_in_progress_is_flagged_open(client, day):
    await login(client, "dispatcher")
    track = await get_track(client, day, day.at(12, 10), day.at(14))
    assert len(track["trips"]) == 1
    trip = track["trips"][0]
    assert trip["open"] is True and trip["end_ms"] is None
    assert trip["clipped_start"] is True and trip["clipped_end"] is False
    assert trip["clip_end_ms"] == trip["start_ms"] + trip["duration_s"] * 1000
    assert trip["end_lat"] == pytest.approx(day.positions[-1][5])
    # The stop before it ended at 12:00: outside this window.
    assert track["stops"] == []


async def test_a_month_long_window_sampled_past_the_raw_cap_keeps_the_boundaries(
    client, db, day, monkeypatch
):
    # A second day of the same car, three weeks later in the same 31-day window.
    later = build_day(day.vehicle_id, day.device_id, day.start.date() + timedelta(days=-21))
    await store_day(db, later)
    monkeypatch.setattr("web.queries.tracks.RAW_POINT_CAP", 500)
    await login(client, "dispatcher")
    track = await get_track(client, day, later.at(0), day.at(23, 59), max_points=300)
    assert track["raw_point_count"] == len(day.positions) + len(later.positions)
    assert track["truncated"] is True and track["sample_stride"] == math.ceil(
        track["raw_point_count"] / 500
    )
    assert len(track["trips"]) == 6 and len(track["stops"]) == 6
    kept = {p["ts_ms"] for p in track["points"]}
    assert {t["start_ms"] for t in track["trips"]} <= kept
    assert track["point_count"] <= 300 and track["simplify_tolerance_m"] > 0


async def test_the_query_functions_answer_on_a_plain_connection(db, day):
    trips = await load_trips(db, day.vehicle_id, day.at(0), day.at(23))
    assert [t["open"] for t in trips] == [False, False, True]
    track = await load_track(db, day.vehicle_id, day.at(0), day.at(23), 50)
    assert {"points", "trips", "stops", "simplify_tolerance_m", "raw_point_count"} <= set(track)
    assert len(track["points"]) <= 50 and track["raw_point_count"] == len(day.positions)


async def test_no_fixes_is_an_empty_track(client, db):
    vehicle_id, _ = await wuhan_vehicle(db)
    await login(client, "dispatcher")
    body = (await client.get(f"/api/v1/vehicles/{vehicle_id}/track?max_points=2")).json()
    assert body["points"] == [] and body["trips"] == [] and body["raw_point_count"] == 0
    assert body["simplify_tolerance_m"] == 0 and body["distance_m"] == 0


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "2026-11-20T10:00:00+08:00", "to": "2026-11-20T09:00:00+08:00"}, "later"),
        ({"from": "2026-10-01T00:00:00+08:00", "to": "2026-11-20T00:00:00+08:00"}, "31 days"),
        ({"from": "1999-12-31T00:00:00+08:00", "to": "2000-01-01T12:00:00+08:00"}, "2000"),
        ({"from": "0001-01-01T00:00:00+08:00"}, "2000"),
        ({"to": "9999-12-31T23:59:59-08:00"}, "2100"),
        ({"from": "yesterday"}, "from"),
        ({"to": ""}, "to"),
        ({"from": "2026-11-20T10:00:00+08:00", "to": "2026-11-20T10:00:00+08:00"}, "later"),
        ({"max_points": "1"}, "max_points"),
        ({"max_points": "20001"}, "max_points"),
        ({"max_points": "lots"}, "max_points"),
    ],
)
async def test_bad_windows_and_budgets_are_422(client, db, params, fragment):
    vehicle_id, _ = await wuhan_vehicle(db)
    await login(client, "dispatcher")
    response = await client.get(f"/api/v1/vehicles/{vehicle_id}/track", params=params)
    assert fragment in assert_error(response, 422)["message"]


async def test_a_month_is_allowed(client, db):
    vehicle_id, _ = await wuhan_vehicle(db)
    await login(client, "dispatcher")
    params = {"from": "2026-10-20T00:00:00+08:00", "to": "2026-11-20T00:00:00+08:00"}
    response = await client.get(f"/api/v1/vehicles/{vehicle_id}/track", params=params)
    assert response.status_code == 200, response.text


async def test_scope_and_confidentiality(client, db):
    await login(client, "dispatcher")
    outside = await db.fetchval(
        "SELECT id FROM vehicles WHERE home_city_code <> $1 ORDER BY id LIMIT 1", WUHAN
    )
    for path in ("track", "today"):
        assert_error(await client.get(f"/api/v1/vehicles/{outside}/{path}"), 404)
    secret, _ = await wuhan_vehicle(db, confidential=True)
    error = assert_error(await client.get(f"/api/v1/vehicles/{secret}/track"), 403)
    assert error["code"] == "position_restricted"


# --- today -------------------------------------------------------------------------------


async def test_today_sums_trips_with_the_share_of_one_crossing_midnight(client, db):
    vehicle_id, _ = await wuhan_vehicle(db)
    day_start, _ = local_day(datetime.now(UTC))
    base = {
        "start_lat": 30.5,
        "start_lon": 114.3,
        "end_lat": 30.6,
        "end_lon": 114.4,
        "max_speed_kmh": 60.0,
        "mean_speed_kmh": 30.0,
        "position_count": 100,
    }
    crossing = dict(
        base,
        start_ts=day_start - timedelta(minutes=30),
        end_ts=day_start + timedelta(minutes=30),
        dist_gnss_m=10_000.0,
        duration_s=3600,
    )
    morning = dict(
        base,
        start_ts=day_start + timedelta(hours=2),
        end_ts=day_start + timedelta(hours=2, minutes=20),
        dist_gnss_m=7_000.0,
        duration_s=1200,
    )
    going = dict(
        base,
        start_ts=day_start + timedelta(hours=3),
        end_ts=None,
        dist_gnss_m=2_000.0,
        duration_s=300,
    )
    yesterday = dict(
        base,
        start_ts=day_start - timedelta(hours=5),
        end_ts=day_start - timedelta(hours=4),
        dist_gnss_m=50_000.0,
        duration_s=3600,
    )
    for trip in (yesterday, crossing, morning, going):
        await insert_trip(db, vehicle_id, **trip)
    stop = {
        "start_ts": day_start + timedelta(minutes=30),
        "end_ts": day_start + timedelta(hours=2),
        "lat": 30.6,
        "lon": 114.4,
        "duration_s": 5400,
    }
    await insert_stop(db, vehicle_id, **stop)
    await login(client, "dispatcher")
    response = await client.get(f"/api/v1/vehicles/{vehicle_id}/today")
    assert response.status_code == 200, response.text
    today = response.json()
    assert today["day"] == day_start.date().isoformat()
    assert today["trip_count"] == 3
    assert [t["open"] for t in today["trips"]] == [False, False, True]
    assert today["trips"][0]["clipped_start"] is True
    assert today["distance_m"] == pytest.approx(5_000 + 7_000 + 2_000)
    assert today["driving_s"] == 1800 + 1200 + 300
    assert [s["duration_s"] for s in today["stops"]] == [5400]
    assert today["position_withheld"] is False


async def test_today_of_a_confidential_car_hides_the_places_only(client, db):
    secret, _ = await wuhan_vehicle(db, confidential=True)
    day_start, _ = local_day(datetime.now(UTC))
    await insert_trip(
        db,
        secret,
        start_ts=day_start + timedelta(hours=1),
        end_ts=day_start + timedelta(hours=2),
        start_lat=30.5,
        start_lon=114.3,
        end_lat=30.6,
        end_lon=114.4,
        dist_gnss_m=12_000.0,
        max_speed_kmh=70.0,
        mean_speed_kmh=12.0,
        duration_s=3600,
        position_count=50,
    )
    await login(client, "dispatcher")
    today = (await client.get(f"/api/v1/vehicles/{secret}/today")).json()
    assert today["position_withheld"] is True
    trip = today["trips"][0]
    assert trip["start_lat"] is None and trip["end_lon"] is None
    assert trip["dist_m"] == 12_000 and today["distance_m"] == 12_000
    await login(client, "admin")
    seen = (await client.get(f"/api/v1/vehicles/{secret}/today")).json()
    assert seen["trips"][0]["start_lat"] == 30.5
