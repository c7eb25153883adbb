"""Track playback over a month of history: fill a fresh database with N vehicles x ~P positions
(default 2,000 x 25,000 = 50 M rows over 30 days, ~800-1,000 fixes per vehicle-day) plus that
month's trips and stops, then time the web query layer: one vehicle-day
(`web.queries.tracks.load_track`) and one month of trips (`web.queries.tracks.load_trips`).
Prints figures; not a test.

    .venv/bin/python bench/playback.py --vehicles 200            # 5 M rows, a few minutes
    .venv/bin/python bench/playback.py --keep                    # the full 50 M, keep the database
    .venv/bin/python bench/playback.py --reuse bench_playback_1234   # time again, no fill

The data: every vehicle sleeps at its depot (定点停放) and drives 2-6 trips on a working day,
0-2 at weekends, to places 2-15 km away at 22-45 km/h mean, back to the depot at the end of the
day. About 65 % of a day's fixes are taken while moving (every few seconds), the rest while
parked (every few minutes), so a vehicle-day holds ~800-1,000 fixes. Rows are written day by
day in device-time order across all vehicles, as ingest writes them, so that one vehicle's day
is spread over the heap as in production (a per-vehicle load would cluster it and flatter the
query). Positions go in by binary COPY (asyncpg copy_records_to_table), `--jobs` processes each
with its own connection, into the daily partitions that `ensure_position_partitions` creates;
then VACUUM ANALYZE (history older than a day has been vacuumed in production too).

Timing (after VACUUM ANALYZE), each series over different random vehicles, median and p95:
  first touch  `--reps` vehicle-days no earlier call read: not in PostgreSQL's buffers, but the
               day's partition and the trips and stops tables read into the OS page cache just
               before (as a recent day usually is);
  cold         one per day of the month (up to `--reps`): the day's partition and the trips and
               stops tables dropped from the OS page cache first (fdatasync + POSIX_FADV_DONTNEED
               on their files only), so the rows come from disk;
  warm         the same call again, right after each of the above.
Controlling the OS cache needs the server's data directory readable here (root or postgres);
without it there is no cold series and "first touch" is whatever the cache holds.
The very first call of the run (fresh pool, statements not yet prepared) is reported alone.
"of which SQL" is the time spent inside the pool's fetch calls (the rest is Python:
simplification, shaping).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import math
import multiprocessing as mp
import os
import random
import shutil
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
from _common import (
    create_database,
    database_exists,
    drop_database,
    insert_fleet,
    load_average,
    percentile,
    run_fleet,
    server_url,
)

from fleet.db import create_pool, with_database

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WUHAN = (30.5928, 114.3055)
M_PER_DEG = 111_320.0
DAY_S = 86_400
POSITION_COLUMNS = (
    "vehicle_id", "device_id", "ts", "seq", "received_at", "lat", "lon", "speed_kmh",
    "heading_deg", "acc", "fix", "odometer_km", "fuel_l", "soc_pct", "alarm",
)
TRIP_COLUMNS = (
    "vehicle_id", "start_ts", "end_ts", "start_lat", "start_lon", "end_lat", "end_lon",
    "dist_gnss_m", "odo_start_km", "odo_end_km", "odo_source", "max_speed_kmh",
    "mean_speed_kmh", "duration_s", "detected_by", "position_count",
)
STOP_COLUMNS = ("vehicle_id", "start_ts", "end_ts", "lat", "lon", "duration_s", "gnss_odometer_m")
BYTES_PER_ROW = 230  # heap + both indexes, as measured (bench/README.md), for the disk check


# --------------------------------------------------------------------------- the synthetic month


@dataclass(frozen=True)
class Car:
    index: int
    vehicle_id: int
    device_id: int
    depot: tuple[float, float]
    odometer0_km: float


@dataclass(frozen=True)
class Trip:
    t0: float  # seconds after local midnight
    t1: float
    a: tuple[float, float]
    b: tuple[float, float]
    route_m: float  # what the odometer counts
    gnss_m: float  # what the fixes add up to (about)
    speed_kmh: float  # mean
    amp_m: float  # sideways wiggle of the path
    waves: int
    points: int


@dataclass(frozen=True)
class DayPlan:
    trips: list[Trip]
    park_interval_s: float
    park_phase_s: float


def _offset(origin: tuple[float, float], bearing_deg: float, dist_m: float) -> tuple[float, float]:
    rad = math.radians(bearing_deg)
    lat = origin[0] + dist_m * math.cos(rad) / M_PER_DEG
    lon = origin[1] + dist_m * math.sin(rad) / (M_PER_DEG * math.cos(math.radians(origin[0])))
    return lat, lon


def _dist_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    dn = (b[0] - a[0]) * M_PER_DEG
    de = (b[1] - a[1]) * M_PER_DEG * math.cos(math.radians(a[0]))
    return math.hypot(dn, de)


def make_cars(fleet: list[tuple[int, int, str]], seed: int) -> list[Car]:
    rng = random.Random(seed)
    return [
        Car(i, vid, did, _offset(WUHAN, rng.uniform(0, 360), rng.uniform(0, 20_000)),
            round(rng.uniform(5_000, 150_000), 1))
        for i, (vid, did, _uid) in enumerate(fleet)
    ]


def plan_day(car: Car, day_index: int, weekday: int, seed: int, per_day: float) -> DayPlan:
    """Deterministic in (seed, car, day): the fill workers and the trips/stops writer agree."""
    rng = random.Random(seed * 1_000_003 + car.index * 7_919 + day_index)
    working = weekday < 5
    wanted = rng.randint(2, 6) if working else rng.choice((0, 0, 2))  # out and back at least
    trips: list[Trip] = []
    t = rng.uniform(7.0, 9.5) * 3600
    here = car.depot

    def leg(t0: float, a: tuple[float, float], b: tuple[float, float]) -> Trip:
        straight = max(_dist_m(a, b), 300.0)
        route = straight * rng.uniform(1.15, 1.4)
        speed = rng.uniform(22, 45)
        amp = straight * rng.uniform(0.02, 0.12)
        waves = rng.choice((1, 2, 3))
        gnss = route * rng.uniform(0.96, 0.995)
        return Trip(t0, t0 + route / (speed / 3.6), a, b, route, gnss, speed, amp, waves, 0)

    for _ in range(wanted - 1 if wanted else 0):
        trip = leg(t, here, _offset(car.depot, rng.uniform(0, 360), rng.uniform(2_000, 15_000)))
        back_s = trip.route_m / (30 / 3.6) * 1.5
        if trip.t1 + back_s > 22.5 * 3600:
            break
        trips.append(trip)
        here = trip.b
        t = trip.t1 + rng.uniform(15, 150) * 60
    if wanted:
        trips.append(leg(min(t, 22.5 * 3600), here, car.depot))  # home to the depot
    target = per_day * rng.uniform(0.9, 1.1)
    moving_s = sum(tr.t1 - tr.t0 for tr in trips)
    if trips:
        moving_points = 0.65 * target
        trips = [
            dataclasses.replace(tr, points=max(2, round(moving_points * (tr.t1 - tr.t0) / moving_s)))
            for tr in trips
        ]
        parked_points = max(1.0, target - sum(tr.points for tr in trips))
    else:
        parked_points = target
    interval = (DAY_S - moving_s) / parked_points
    return DayPlan(trips, interval, rng.uniform(0, interval))


def day_arrays(car: Car, plan: DayPlan, day_index: int, midnight: float, odo_km: float,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One vehicle-day's fixes as column arrays, in device-time order."""
    parts: list[dict[str, np.ndarray]] = []
    cos_lat = math.cos(math.radians(car.depot[0]))
    route_before = 0.0
    for tr in plan.trips:
        f = np.linspace(0.0, 1.0, tr.points)
        t = tr.t0 + f * (tr.t1 - tr.t0)
        dn = (tr.b[0] - tr.a[0]) * M_PER_DEG
        de = (tr.b[1] - tr.a[1]) * M_PER_DEG * cos_lat
        length = max(math.hypot(dn, de), 1.0)
        side = tr.amp_m * np.sin(np.pi * f * tr.waves) + rng.normal(0, 2.0, f.size)
        north = f * dn - side * de / length
        east = f * de + side * dn / length
        heading = np.degrees(np.arctan2(np.diff(east, append=east[-1] + de / length),
                                        np.diff(north, append=north[-1] + dn / length))) % 360
        ramp = np.minimum(1.0, np.minimum(f, 1 - f) * 8 + 0.15)
        speed = np.clip(tr.speed_kmh * ramp * (1 + 0.3 * np.sin(2 * np.pi * f * 4 + tr.waves)), 0, 110)
        parts.append({
            "t": t, "lat": tr.a[0] + north / M_PER_DEG, "lon": tr.a[1] + east / (M_PER_DEG * cos_lat),
            "speed": speed, "heading": heading, "acc": np.ones(f.size, bool),
            "odo": odo_km + (route_before + f * tr.route_m) / 1000,
        })
        route_before += tr.route_m
    grid = np.arange(plan.park_phase_s, DAY_S, plan.park_interval_s)
    if plan.trips:
        starts = np.array([tr.t0 for tr in plan.trips])
        ends = np.array([tr.t1 for tr in plan.trips])
        k = np.searchsorted(starts, grid, side="right") - 1  # the trip that started last
        grid = grid[(k < 0) | (grid > ends[np.maximum(k, 0)])]
        k = np.searchsorted(starts, grid, side="right") - 1
        where = [car.depot] + [tr.b for tr in plan.trips]
        loc = np.array(where)[k + 1]
        cum = np.concatenate([[0.0], np.cumsum([tr.route_m for tr in plan.trips])])
        odo = odo_km + cum[k + 1] / 1000
    else:
        loc = np.tile(np.array(car.depot), (grid.size, 1))
        odo = np.full(grid.size, odo_km)
    parts.append({
        "t": grid, "lat": loc[:, 0] + rng.normal(0, 3.0 / M_PER_DEG, grid.size),
        "lon": loc[:, 1] + rng.normal(0, 3.0 / (M_PER_DEG * cos_lat), grid.size),
        "speed": np.zeros(grid.size), "heading": np.zeros(grid.size), "acc": np.zeros(grid.size, bool),
        "odo": odo,
    })
    cols = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    order = np.argsort(cols["t"], kind="stable")
    cols = {name: value[order] for name, value in cols.items()}
    n = cols["t"].size
    cols["ts"] = np.round(midnight + cols["t"], 3)
    cols["received"] = cols["ts"] + rng.uniform(0.2, 2.5, n)
    cols["seq"] = day_index * 20_000 + np.arange(n)
    cols["fix"] = rng.random(n) > 0.002
    cols["fuel"] = 55 - (cols["odo"] % 600) / 600 * 45  # refuelled every 600 km
    cols["vehicle_id"] = np.full(n, car.vehicle_id)
    cols["device_id"] = np.full(n, car.device_id)
    return cols


@dataclass(frozen=True)
class Month:
    first_day: date
    days: int
    seed: int
    per_vehicle: int

    def midnight(self, day_index: int) -> float:
        day = self.first_day + timedelta(days=day_index)
        return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).timestamp()

    def weekday(self, day_index: int) -> int:
        return (self.first_day + timedelta(days=day_index)).weekday()

    def plans(self, car: Car) -> list[DayPlan]:
        per_day = self.per_vehicle / self.days
        return [plan_day(car, d, self.weekday(d), self.seed, per_day) for d in range(self.days)]


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def segment_rows(car: Car, month: Month) -> tuple[list[tuple], list[tuple]]:
    """The month's trips and stops of one car (a stop between each two trips; the depot stop
    overnight; the last stop still open, as the motion detector leaves it)."""
    trips: list[tuple] = []
    stops: list[tuple] = []
    odo = car.odometer0_km
    gnss = 0.0
    stop_start = month.midnight(0)
    stop_at = car.depot
    for d, plan in enumerate(month.plans(car)):
        midnight = month.midnight(d)
        for tr in plan.trips:
            t0, t1 = midnight + tr.t0, midnight + tr.t1
            stops.append((car.vehicle_id, _utc(stop_start), _utc(t0), stop_at[0], stop_at[1],
                          int(t0 - stop_start), gnss))
            trips.append((car.vehicle_id, _utc(t0), _utc(t1), tr.a[0], tr.a[1], tr.b[0], tr.b[1],
                          tr.gnss_m, odo, odo + tr.route_m / 1000, "device",
                          tr.speed_kmh * 1.35, tr.speed_kmh, int(t1 - t0), "acc", tr.points))
            odo += tr.route_m / 1000
            gnss += tr.gnss_m
            stop_start, stop_at = t1, tr.b
    end = month.midnight(month.days)
    stops.append((car.vehicle_id, _utc(stop_start), None, stop_at[0], stop_at[1],
                  int(end - stop_start), gnss))
    return trips, stops


# --------------------------------------------------------------------------- filling


def fill_worker(database_url: str, fleet: list, month: Month, days: list[int], progress) -> None:  # noqa: ANN001
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_fill_days(database_url, fleet, month, days, progress))


async def _fill_days(database_url: str, fleet: list, month: Month, days: list[int], progress) -> None:  # noqa: ANN001
    """Each of `days`: every car's fixes, merged in device-time order, COPYed in chunks."""
    cars = make_cars(fleet, month.seed)
    plans = [month.plans(car) for car in cars]
    # the odometer at each day's start: the routes of the days before
    odo_start = [
        np.concatenate([[car.odometer0_km],
                        car.odometer0_km + np.cumsum([sum(t.route_m for t in p.trips) / 1000 for p in plans[i]])])
        for i, car in enumerate(cars)
    ]
    conn = await asyncpg.connect(database_url)
    try:
        for d in days:
            rng = np.random.default_rng([month.seed, d])
            midnight = month.midnight(d)
            parts = [day_arrays(car, plans[i][d], d, midnight, float(odo_start[i][d]), rng)
                     for i, car in enumerate(cars)]
            cols = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
            order = np.argsort(cols["ts"], kind="stable")
            n = order.size
            chunk = 200_000
            for lo in range(0, n, chunk):
                idx = order[lo:lo + chunk]
                m = idx.size
                records = zip(
                    cols["vehicle_id"][idx].tolist(), cols["device_id"][idx].tolist(),
                    [_utc(x) for x in cols["ts"][idx].tolist()], cols["seq"][idx].tolist(),
                    [_utc(x) for x in cols["received"][idx].tolist()],
                    np.round(cols["lat"][idx], 6).tolist(), np.round(cols["lon"][idx], 6).tolist(),
                    np.round(cols["speed"][idx], 1).tolist(),
                    (np.rint(cols["heading"][idx]).astype(np.int64) % 360).tolist(),
                    cols["acc"][idx].tolist(), cols["fix"][idx].tolist(),
                    np.round(cols["odo"][idx], 1).tolist(), np.round(cols["fuel"][idx], 1).tolist(),
                    [None] * m, [0] * m, strict=True,
                )
                await conn.copy_records_to_table("positions", records=records, columns=POSITION_COLUMNS)
                progress.put(m)
    finally:
        await conn.close()


async def fill(database_url: str, fleet: list, month: Month, jobs: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        last = month.first_day + timedelta(days=month.days - 1)
        await conn.execute("SELECT ensure_position_partitions($1, $2)", month.first_day, last)
        cars = make_cars(fleet, month.seed)
        trips: list[tuple] = []
        stops: list[tuple] = []
        for car in cars:
            t, s = segment_rows(car, month)
            trips += t
            stops += s
        await conn.copy_records_to_table("trips", records=trips, columns=TRIP_COLUMNS)
        await conn.copy_records_to_table("stops", records=stops, columns=STOP_COLUMNS)
        print(f"  trips {len(trips):,}, stops {len(stops):,}", flush=True)
    finally:
        await conn.close()
    ctx = mp.get_context("spawn")
    progress = ctx.Queue()
    day_lists = [list(range(j, month.days, jobs)) for j in range(jobs)]
    procs = [ctx.Process(target=fill_worker, args=(database_url, fleet, month, days, progress), daemon=True)
             for days in day_lists if days]
    for proc in procs:
        proc.start()
    done = 0
    started = last_print = time.monotonic()
    try:
        while any(p.is_alive() for p in procs) or not progress.empty():
            with contextlib.suppress(Exception):
                done += progress.get(timeout=0.5)
            if time.monotonic() - last_print > 15:
                last_print = time.monotonic()
                rate = done / (last_print - started)
                print(f"  {done:,} rows, {rate:,.0f} rows/s, load {load_average()}", flush=True)
        bad = [p.exitcode for p in procs if p.exitcode]
        if bad:
            raise SystemExit(f"a fill worker failed (exit codes {bad})")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(5)


async def vacuum_analyze(database_url: str, jobs: int) -> None:
    """VACUUM (ANALYZE) every partition, `jobs` at a time, then ANALYZE the parent."""
    conn = await asyncpg.connect(database_url)
    parts = [r["relname"] for r in await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'positions'::regclass ORDER BY 1""")]
    queue = list(parts)

    async def worker() -> None:
        c = await asyncpg.connect(database_url)
        try:
            while queue:
                await c.execute(f'VACUUM (ANALYZE) "{queue.pop()}"')
        finally:
            await c.close()

    await asyncio.gather(*(worker() for _ in range(jobs)))
    for statement in ("ANALYZE positions", "VACUUM (ANALYZE) trips", "VACUUM (ANALYZE) stops"):
        await conn.execute(statement)
    await conn.close()


async def sizes(conn: asyncpg.Connection) -> dict[str, int]:
    heap, total = await conn.fetchrow(
        """SELECT sum(pg_table_size(c.oid)), sum(pg_total_relation_size(c.oid))
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'positions'::regclass""")
    return {
        "rows": await conn.fetchval("SELECT count(*) FROM positions"),
        "heap": int(heap or 0), "total": int(total or 0),
        "trips": await conn.fetchval("SELECT count(*) FROM trips"),
        "stops": await conn.fetchval("SELECT count(*) FROM stops"),
        "segments_size": await conn.fetchval(
            "SELECT pg_total_relation_size('trips') + pg_total_relation_size('stops')"),
    }


# --------------------------------------------------------------------------- timing


class TimedPool:
    """The pool, with the time spent inside its fetch calls added up (the SQL share)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.sql_s = 0.0

    def __getattr__(self, name: str):  # noqa: ANN204
        target = getattr(self._pool, name)
        if name not in ("fetch", "fetchrow", "fetchval", "execute"):
            return target

        async def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            started = time.perf_counter()
            try:
                return await target(*args, **kwargs)
            finally:
                self.sql_s += time.perf_counter() - started

        return timed


def default_max_points() -> int:
    try:
        from web.routes.vehicles import DEFAULT_MAX_POINTS
    except ImportError:
        return 2000
    return int(DEFAULT_MAX_POINTS)


class Evictor:
    """Drops one table's files (heap, indexes, TOAST, all segments and forks) from the OS page
    cache: fdatasync then POSIX_FADV_DONTNEED on each, so that the next read comes from disk.
    Needs the server's data directory on this machine and readable (root, or the postgres user).
    PostgreSQL's own buffers are not touched: shared_buffers (128 MB here) is small next to the
    table, and each cold call reads a day whose partition no other call read."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @classmethod
    async def open(cls, conn: asyncpg.Connection) -> Evictor | None:
        try:
            data_dir = Path(await conn.fetchval("SHOW data_directory"))
        except asyncpg.PostgresError:
            return None
        return cls(data_dir) if os.access(data_dir / "base", os.R_OK | os.X_OK) else None

    async def _files(self, conn: asyncpg.Connection, tables: list[str]) -> list[Path]:
        rows = await conn.fetch(
            """SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c
               WHERE c.oid = ANY($1::regclass[])
                  OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY($1::regclass[]))
                  OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid = ANY($1::regclass[]))
                  OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN
                               (SELECT reltoastrelid FROM pg_class WHERE oid = ANY($1::regclass[])))""",
            tables)
        files = []
        for row in rows:
            if row["path"] is None:
                continue
            base = self.data_dir / row["path"]
            for path in base.parent.glob(base.name + "*"):  # segments .1 .2 and _fsm/_vm forks
                if path.name == base.name or path.name[len(base.name)] in "._":
                    files.append(path)
        return files

    async def evict(self, conn: asyncpg.Connection, tables: list[str]) -> None:
        """Out of the OS page cache: the next read of these tables comes from disk."""
        for path in await self._files(conn, tables):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)

    async def load(self, conn: asyncpg.Connection, tables: list[str]) -> None:
        """Into the OS page cache (read through), as a recent day usually is."""
        for path in await self._files(conn, tables):
            with open(path, "rb", buffering=0) as f:
                while f.read(1 << 20):
                    pass


async def time_queries(
    database_url: str, month: Month, reps: int, max_points: int, seed: int, cold: bool
) -> dict:
    from web.queries.tracks import load_track, load_trips

    pool = await create_pool(database_url, min_size=1, max_size=4)
    admin = await asyncpg.connect(database_url)
    evictor = await Evictor.open(admin) if cold else None
    timed = TimedPool(pool)
    rng = random.Random(seed)
    vehicles = [r["id"] for r in await pool.fetch("SELECT id FROM vehicles ORDER BY id")]
    picks = iter(rng.sample(vehicles, len(vehicles)) * 10)
    out: dict[str, list] = defaultdict(list)

    async def call(coro_fn, *args):  # noqa: ANN001, ANN002, ANN202
        timed.sql_s = 0.0
        started = time.perf_counter()
        result = await coro_fn(timed, *args)
        return result, (time.perf_counter() - started) * 1000, timed.sql_s * 1000

    def day_window(d: int) -> tuple[datetime, datetime]:
        start = datetime.fromtimestamp(month.midnight(d), tz=LOCAL_TZ)
        return start, start + timedelta(days=1)

    async def track(kind: str, vid: int, d: int) -> None:
        result, ms, sql = await call(load_track, vid, *day_window(d), max_points)
        out[f"track_{kind}"].append(ms)
        out[f"sql_{kind}"].append(sql)
        out["raw"].append(result["raw_point_count"])
        out["points"].append(result["point_count"])

    try:
        month_start, _ = day_window(0)
        month_end, _ = day_window(month.days)
        await track("very_first", next(picks), rng.randrange(month.days))

        def partition(d: int) -> str:
            return f"positions_{(month.first_day + timedelta(days=d)):%Y%m%d}"

        # first touch: in no PostgreSQL buffer; with the evictor, the day's files are read into
        # the OS page cache first (as a recent day is), else whatever the cache holds
        for _ in range(reps):
            vid, d = next(picks), rng.randrange(month.days)
            if evictor is not None:
                await evictor.load(admin, [partition(d), "trips", "stops"])
            await track("first", vid, d)
            await track("warm", vid, d)
        # cold: each on another day, whose partition is dropped from the OS page cache first
        days = rng.sample(range(month.days), month.days)
        if evictor is not None:
            for i in range(min(reps, month.days)):
                d = days[i]
                await evictor.evict(admin, [partition(d), "trips", "stops"])
                vid = next(picks)
                await track("cold", vid, d)
                await track("warm", vid, d)
        for _ in range(reps):
            if evictor is not None:
                await evictor.evict(admin, ["trips", "stops"])
                _, ms, _ = await call(load_trips, next(picks), month_start, month_end)
                out["trips_cold"].append(ms)
            vid = next(picks)
            trips, ms, _ = await call(load_trips, vid, month_start, month_end)
            out["trips_first"].append(ms)
            out["trip_counts"].append(len(trips))
            _, ms, _ = await call(load_trips, vid, month_start, month_end)
            out["trips_warm"].append(ms)
    finally:
        await admin.close()
        await pool.close()
    out["cold_possible"] = [evictor is not None]
    return out


def med_p95(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{percentile(ordered, 50):7.1f} / {percentile(ordered, 95):7.1f} ms"


# --------------------------------------------------------------------------- the run


async def read_month(conn: asyncpg.Connection) -> Month:
    row = await conn.fetchrow("SELECT * FROM bench_playback_meta")
    if row is None:
        raise SystemExit("this database was not filled by bench/playback.py (no bench_playback_meta)")
    return Month(row["first_day"], row["days"], row["seed"], row["per_vehicle"])


async def check_disk(conn: asyncpg.Connection, rows: int) -> None:
    need = rows * BYTES_PER_ROW * 1.2
    try:
        data_dir = await conn.fetchval("SHOW data_directory")
        free = shutil.disk_usage(data_dir).free
    except (asyncpg.PostgresError, OSError):
        print("  (could not check the server's free disk space)")
        return
    print(f"  disk: {free / 1e9:.1f} GB free at {data_dir}, about {need / 1e9:.1f} GB needed")
    if free < need:
        raise SystemExit(
            f"not enough disk for {rows:,} rows: use --vehicles/--per-vehicle for a smaller fill")


async def run(args: argparse.Namespace) -> None:
    print(f"playback benchmark: pid {os.getpid()}, load average {load_average()}", flush=True)
    name = args.reuse or f"bench_playback_{os.getpid()}"
    created = False
    keep = args.keep or bool(args.reuse)
    try:
        if args.reuse:
            if not await database_exists(name):
                raise SystemExit(f"no database {name!r} on {server_url()}")
            database_url = with_database(server_url(), name)
            conn = await asyncpg.connect(database_url)
            month = await read_month(conn)
            print(f"reusing {name}: {month.days} days from {month.first_day}", flush=True)
        else:
            admin = await asyncpg.connect(with_database(server_url(), "postgres"))
            await check_disk(admin, args.vehicles * args.per_vehicle)
            await admin.close()
            database_url = await create_database(name)
            created = True
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
            env.update(FLEET_DATABASE_URL=database_url, FLEET_DEMO="true")
            run_fleet(["migrate"], env)
            conn = await asyncpg.connect(database_url)
            fleet = await insert_fleet(conn, args.vehicles)
            today = datetime.now(LOCAL_TZ).date()
            month = Month(today - timedelta(days=args.days), args.days, args.seed, args.per_vehicle)
            await conn.execute(
                """CREATE TABLE bench_playback_meta AS
                   SELECT $1::date AS first_day, $2::int AS days, $3::int AS seed, $4::int AS per_vehicle""",
                month.first_day, month.days, month.seed, month.per_vehicle)
            print(f"database {name}: {args.vehicles:,} vehicles x ~{args.per_vehicle:,} positions over "
                  f"{args.days} days from {month.first_day}; {args.jobs} fill processes", flush=True)
            started = time.monotonic()
            await fill(database_url, fleet, month, args.jobs)
            fill_s = time.monotonic() - started
            print(f"  filled in {fill_s:.0f} s; VACUUM ANALYZE ...", flush=True)
            started = time.monotonic()
            await vacuum_analyze(database_url, args.jobs)
            vacuum_s = time.monotonic() - started
        size = await sizes(conn)
        await conn.close()
        print()
        print(f"== playback: {name}, load average {load_average()} (2 shared cores: figures are noisy)")
        if created:
            print(f"   fill: {size['rows']:,} positions in {fill_s:.0f} s "
                  f"({size['rows'] / fill_s:,.0f} rows/s, COPY incl. generation), VACUUM ANALYZE {vacuum_s:.0f} s")
        print(f"   positions: heap {size['heap'] / 1e9:.2f} GB, with indexes {size['total'] / 1e9:.2f} GB "
              f"({size['total'] / max(size['rows'], 1):.0f} bytes/row); trips {size['trips']:,}, "
              f"stops {size['stops']:,} ({size['segments_size'] / 1e6:.0f} MB)")
        result = await time_queries(database_url, month, args.reps, args.max_points,
                                    args.seed + os.getpid(), cold=args.cold)
        raw = sorted(result["raw"])
        print(f"   vehicle-day: {percentile(raw, 50):,.0f} fixes median (min {raw[0]:,}, max {raw[-1]:,}), "
              f"simplified to <= {args.max_points} (median {percentile(sorted(result['points']), 50):,.0f})")
        first_ms, first_sql = result["track_very_first"][0], result["sql_very_first"][0]
        print("   median / p95:")
        rows = [("load_track, vehicle-day: first call of the run", f"{first_ms:7.1f} ms",
                 f"of which SQL {first_sql:.1f} ms (fresh pool)")]
        if result["track_cold"]:
            rows.append((f"  cold: the day's files not in the OS cache (n={len(result['track_cold'])})",
                         med_p95(result["track_cold"]), f"of which SQL {med_p95(result['sql_cold'])}"))
        first_label = ("in the OS cache, not in PG buffers" if result["cold_possible"][0]
                       else "not in PG buffers")
        rows += [
            (f"  first touch: {first_label} (n={len(result['track_first'])})",
             med_p95(result["track_first"]), f"of which SQL {med_p95(result['sql_first'])}"),
            (f"  warm: the same call again (n={len(result['track_warm'])})",
             med_p95(result["track_warm"]), f"of which SQL {med_p95(result['sql_warm'])}"),
            ("load_trips, one month:", "", f"{percentile(sorted(result['trip_counts']), 50):.0f} trips median"),
        ]
        if result["trips_cold"]:
            rows.append((f"  cold (n={len(result['trips_cold'])})", med_p95(result["trips_cold"]), ""))
        rows += [
            (f"  first touch (n={len(result['trips_first'])})", med_p95(result["trips_first"]), ""),
            (f"  warm (n={len(result['trips_warm'])})", med_p95(result["trips_warm"]), ""),
        ]
        width = max(len(r[0]) for r in rows) + 2
        for label, value, extra in rows:
            print(f"   {label:<{width}}{value:<24}{extra}")
        if args.cold and not result["cold_possible"][0]:
            print("   (no cold figures: the server's data directory is not readable from here)")
        verdicts = []
        for kind in ("cold", "first", "warm"):
            if result[f"track_{kind}"]:
                p95 = percentile(sorted(result[f"track_{kind}"]), 95)
                verdicts.append(f"{kind} p95 {p95:.0f} ms {'MET' if p95 <= 200 else 'MISSED'}")
        print("   goal: vehicle-day <= 200 ms — " + ", ".join(verdicts))
    finally:
        if created and not keep:
            await drop_database(name)
            print(f"dropped {name} (use --keep to keep it, --reuse {name} to time it again)")
        elif created or args.reuse:
            print(f"kept database {name}: time again with --reuse {name}; "
                  f"drop with: psql -c 'DROP DATABASE {name}'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--per-vehicle", type=int, default=25_000, help="positions per vehicle over the month")
    parser.add_argument("--days", type=int, default=30, help="the month: this many days up to yesterday")
    parser.add_argument("--jobs", type=int, default=2, help="fill processes (one connection each)")
    parser.add_argument("--reps", type=int, default=30, help="random vehicles timed (>= 20)")
    parser.add_argument("--max-points", type=int, default=default_max_points(),
                        help="load_track's point budget (default: the API's default)")
    parser.add_argument("--no-cold", dest="cold", action="store_false",
                        help="skip the cold series (it evicts the day's partition from the OS cache)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--keep", action="store_true", help="keep the filled database")
    parser.add_argument("--reuse", metavar="NAME", help="time an earlier --keep database, no fill")
    args = parser.parse_args()
    if args.reps < 2:
        parser.error("--reps must be at least 2")

    async def runner() -> None:
        task = asyncio.current_task()
        assert task is not None
        stopping = []

        def stop() -> None:  # once: a second Ctrl-C must not interrupt the cleanup
            if not stopping:
                stopping.append(True)
                print("stopping: cleaning up ...", file=sys.stderr, flush=True)
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
            asyncio.get_running_loop().add_signal_handler(sig, stop)
        await run(args)

    try:
        asyncio.run(runner())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
