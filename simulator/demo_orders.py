"""Demo mode only: the simulated units file their outings, so the demo does not cry wolf.

On a real platform almost every outing of a pooled car runs under an approved trip request
and its dispatch order. The simulator's random outings have none, so without this the rules
worker would flag nearly all of them (R1 无派车单出车, R2/R5 at night or out of town). Here,
for a seeded, deterministic share of the outings (``sim_order_share``, default 0.9), an
approved request and an accepted order for the car are filed as soon as the world plans the
outing — before the car leaves: the order's planned start is a few minutes before the
departure, its planned end the estimated return plus a margin, its destinations the outing's
places with their cities (a cross-city outing's order names that city, and the cities its
expressway crosses on the way, 途经: R5). The order departs (in service) when the car leaves
and is returned when it is back at its lot. The other outings stay uncovered: they are the
demo's genuine violations.

The writing runs on a thread of its own with one connection (simulator/demo_order_store.py),
so the device simulation never waits on the database — except that the simulator's loop
holds back simulated time until every order of an outing about to leave is written
(``wait_filed``). Without a database (``FLEET_DATABASE_URL`` unset) the simulator runs
without orders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from fleet.config import Settings
from fleet.db import connect
from fleet.scenario.model import Scenario
from simulator import demo_order_store as store
from simulator.plan import OutingReport

log = logging.getLogger(__name__)

LEAD_S = 5 * 60  # the order's planned start: this long before the departure (on the minute)
MARGIN_S = 20 * 60  # planned end: the estimated return plus this (on 5 minutes)
PASSENGERS = ("王强", "刘洋", "陈静", "李娜", "张伟", "赵敏", "孙磊", "周芳")
OPEN_TIMEOUT_S = 30.0


def files_order(seed: int, plate: str, number: int, share: float) -> bool:
    """Whether the unit files outing `number` of the car: a draw of its own (the world's
    draws stay as they are), the same for the same seed."""
    return random.Random(f"{seed}:{plate}:{number}:order").random() < share


def filing_of(report: OutingReport, scenario: Scenario, start: datetime) -> store.Filing:
    """The request and order of a planned outing (report.kind == 'planned')."""
    outing = report.outing
    assert outing is not None and report.return_s is not None
    vehicle = scenario.vehicle_by_plate[report.plate]
    depot = scenario.depot_by_code[vehicle.depot_code]
    begin = start + timedelta(seconds=outing.depart_s - LEAD_S)
    end = start + timedelta(seconds=report.return_s + MARGIN_S)
    end += timedelta(seconds=-end.timestamp() % 300)  # up to the next 5 minutes
    # the cities crossed on the way first (途经), then the places: R5 and R10 read them so
    destinations = [{"name": d.name, "lat": d.at[1], "lon": d.at[0], "city_code": d.city_code}
                    for d in (*report.transit, *outing.destinations)]
    away = [d for d in outing.destinations if d.city_code != vehicle.city_code]
    names = "、".join(d.name for d in outing.destinations)
    if away:
        city = scenario.city_by_code[away[0].city_code].name_zh
        place = away[0].name if away[0].name.startswith(city) else city + away[0].name
        reason = f"赴{place}商洽工作"
    else:
        reason = f"赴{names}办理公务"
    rng = random.Random(f"{report.plate}:{report.number}:passengers")
    return store.Filing(
        plate=report.plate, number=report.number,
        planned_start=begin.replace(second=0, microsecond=0),
        planned_end=end.replace(microsecond=0),
        origin={"name": depot.name_zh, "lat": depot.location[1], "lon": depot.location[0],
                "city_code": depot.city_code},
        destinations=destinations, reason=reason,
        passengers=rng.sample(PASSENGERS, rng.choice((1, 1, 2, 3))),
        cross_city=any(d["city_code"] != vehicle.city_code for d in destinations))


class DemoOrders:
    """Files the orders of the world's planned outings and moves them as the cars go."""

    def __init__(self, database_url: str, scenario: Scenario, start: datetime, *, seed: int,
                 share: float) -> None:
        self.database_url = database_url
        self.scenario = scenario
        self.start = start
        self.seed = seed
        self.share = share
        self.stats = {"planned": 0, "filed": 0, "left_uncovered": 0, "refused": 0,
                      "departed": 0, "returned": 0, "errors": 0}
        self._ids: dict[tuple[str, int], tuple[int, int]] = {}  # (plate, number) -> ids
        self._pending: list[tuple[float, Future[Any]]] = []  # filings: (departure, job)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="demo-orders",
                                         daemon=True)
        self._lock: asyncio.Lock | None = None
        self._conn: asyncpg.Connection | None = None
        self._book: store.Book | None = None

    # ------------------------------------------------------------------ the simulator's side
    def open(self, timeout_s: float = OPEN_TIMEOUT_S) -> bool:
        """Connects, loads the cars and closes what an earlier run left open; False (and
        the simulator runs without orders) when the database cannot be reached."""
        self._thread.start()
        try:
            cancelled, returned = self._run(self._open()).result(timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure: simulate without orders
            log.warning("demo orders: cannot use the database (%s); no orders filed", exc)
            self._stop_loop()
            return False
        if cancelled or returned:
            log.info("demo orders: closed %d left pending (cancelled) and %d left on the road "
                     "(returned) by an earlier run", cancelled, returned)
        return True

    def submit(self, reports: Sequence[OutingReport]) -> None:
        """Hands the world's outing reports over; filings are written in the background."""
        for report in reports:
            if report.kind == "planned":
                self.stats["planned"] += 1
                if not files_order(self.seed, report.plate, report.number, self.share):
                    self.stats["left_uncovered"] += 1
                    continue
                filing = filing_of(report, self.scenario, self.start)
                assert report.outing is not None
                self._pending.append((report.outing.depart_s, self._run(self._file(filing))))
            else:
                self._run(self._move(report))

    def wait_filed(self, until_s: float, timeout_s: float = 60.0) -> None:
        """Blocks until every order of an outing leaving at or before until_s is written."""
        keep = []
        for depart_s, job in self._pending:
            if depart_s <= until_s:
                with contextlib.suppress(Exception):  # a failed job counted and logged it
                    job.result(timeout_s)
            elif not job.done():
                keep.append((depart_s, job))
        self._pending = keep

    def close(self, timeout_s: float = 20.0) -> dict[str, int]:
        """Writes what is queued (within timeout_s), closes the connection; the stats."""
        if self._thread.is_alive():
            try:
                self._run(self._close()).result(timeout_s)
            except Exception as exc:  # noqa: BLE001
                log.warning("demo orders: closing: %s", exc)
            self._stop_loop()
        log.info("demo orders: %s", self.stats)
        return dict(self.stats)

    # ------------------------------------------------------------------ the writer's side
    def _run(self, coro: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(self._serial(coro), self._loop)

    async def _serial(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one connection, jobs in the order they were handed over
            return await coro

    async def _open(self) -> tuple[int, int]:
        self._conn = await connect(self.database_url)
        self._book = await store.load_book(self._conn)
        return await store.close_leftovers(self._conn)

    async def _close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def _file(self, filing: store.Filing) -> None:
        assert self._conn is not None and self._book is not None
        try:
            ids = await store.file_order(self._conn, self._book, filing)
        except Exception:
            self.stats["errors"] += 1
            log.exception("demo orders: filing %s failed", filing.mark)
            return
        if ids is None:
            self.stats["refused"] += 1
            log.info("demo orders: %s left without an order (car booked or unknown)",
                     filing.mark)
            return
        self._ids[(filing.plate, filing.number)] = ids
        self.stats["filed"] += 1

    async def _move(self, report: OutingReport) -> None:
        ids = self._ids.get((report.plate, report.number))
        if ids is None or self._conn is None:
            return
        at = self.start + timedelta(seconds=report.at_s)
        step = store.mark_departed if report.kind == "departed" else store.mark_returned
        try:
            if await step(self._conn, *ids, at, report.odometer_km):
                self.stats[report.kind] += 1
        except Exception:
            self.stats["errors"] += 1
            log.exception("demo orders: %s of %s#%d failed", report.kind, report.plate,
                          report.number)
        if report.kind == "returned":
            self._ids.pop((report.plate, report.number), None)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()


def start_demo_orders(settings: Settings, scenario: Scenario, start: datetime,
                      reports: Sequence[OutingReport]) -> DemoOrders | None:
    """In demo mode with a database: files the orders of the outings planned at the start
    (and waits for them: the first cars leave within seconds); None otherwise."""
    if not settings.demo:
        return None
    if not settings.database_url:
        log.warning("demo orders: FLEET_DATABASE_URL is not set; the outings get no orders")
        return None
    orders = DemoOrders(settings.database_url, scenario, start, seed=settings.sim_seed,
                        share=settings.sim_order_share)
    if not orders.open():
        return None
    orders.submit(reports)
    orders.wait_filed(math.inf)
    return orders
