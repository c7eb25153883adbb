"""`fleet rules`: the rules worker (composition root and loop).

Follow one change: ingest stores positions and marks the car in `rule_dirty` (same
transaction); a dispatch order or an emergency approval marks it through migration 0009's
triggers. The loop claims up to `rules_batch_size` dirty cars (a short transaction; another
worker skips what this one locked) and gives each its own transaction
(supervision/vehicle_pass.py): fold the new positions into episodes, evaluate the local days
concerned, reconcile with the stored violations, write violations, evidence and audit
records. After the commit, the remote reminders of new WARNs are published to the cars'
terminals (supervision/reminder_store.py).

Every `rules_tick_s` (60 s) a tick marks every car with a fix in the last `rules_recent_h`
hours dirty from its newest fix — the clock's own rules: R1 live, R4 at its check times, R7
silence, R16 — judges the emergency requests (R14), and retries reminders no broker took.
Counters are logged every tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from fleet.config import Settings
from fleet.db import create_pool
from supervision import (
    audit_store,
    day_store,
    reminder_store,
    rules_store,
    vehicle_pass,
    zone_store,
)
from supervision.day_context import DAY_MS, local_day
from supervision.evidence import Vehicle
from supervision.model import Finding
from supervision.params import resolve
from supervision.reconcile import GONE_STATES, reconcile
from supervision.rules import evaluate_request
from supervision.vehicle_pass import PassResult, PassSettings, ZoneSet
from supervision.verdicts import Target, Writer

log = logging.getLogger(__name__)
R14_LOOKBACK_MS = 30 * DAY_MS
R14_LOCK_CLASS = rules_store.LOCK_CLASS + 1
ZONE_CHECK_S = 5.0
RETIRED_ZONES_KEPT_MS = 60 * DAY_MS   # past every day a pass judges again (7 back, R14's 30)

_ZONE_FINGERPRINT = """SELECT (SELECT count(*) FROM geofences) AS zones,
    (SELECT max(updated_at) FROM geofences) AS updated,
    (SELECT coalesce(sum(version), 0) FROM geofences WHERE active) AS versions,
    (SELECT count(*) FROM geofences WHERE active) AS active,
    (SELECT coalesce(sum(hashtext(group_id || ':' || vehicle_id)), 0)
       FROM vehicle_group_members) AS members"""


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class RulesSettings:
    batch_size: int = 50
    tick_s: float = 60.0
    poll_s: float = 1.0
    settle_s: float = 0.5
    recent_h: float = 36.0
    reminder_retry_s: int = 1800
    vehicle: PassSettings = field(default_factory=PassSettings)

    @classmethod
    def of(cls, s: Settings) -> RulesSettings:
        return cls(batch_size=s.rules_batch_size, tick_s=s.rules_tick_s, poll_s=s.rules_poll_s,
                   settle_s=s.rules_settle_s, recent_h=s.rules_recent_h,
                   vehicle=PassSettings(max_days_back=s.rules_max_days_back,
                                        late_margin_s=s.rules_late_margin_s,
                                        reminder_max_age_s=s.rules_reminder_max_age_s))


class RulesWorker:
    def __init__(self, pool: asyncpg.Pool, settings: RulesSettings = RulesSettings(), *,
                 publisher: reminder_store.CommandPublisher | None = None,
                 clock: Callable[[], int] = wall_ms) -> None:
        self.pool = pool
        self.settings = settings
        self.publisher = publisher
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._zones: ZoneSet | None = None
        self._fingerprint: Any = None
        self._zones_checked = 0.0

    # ---- zones ----------------------------------------------------------------------------------

    async def zones(self) -> ZoneSet:
        """The zone index, rebuilt when a zone or a group's members changed."""
        if self._zones is not None and time.monotonic() - self._zones_checked < ZONE_CHECK_S:
            return self._zones
        fingerprint = tuple(await self.pool.fetchrow(_ZONE_FINGERPRINT))
        self._zones_checked = time.monotonic()
        if self._zones is None or fingerprint != self._fingerprint:
            # deleted zones too, until RETIRED_ZONES_KEPT_MS after their deletion: a day
            # judged again counts them for the times before they were deleted
            retired_after = rules_store.to_dt(self.clock() - RETIRED_ZONES_KEPT_MS)
            self._zones = ZoneSet.of(await zone_store.load_zones(
                self.pool, include_inactive=True, retired_after=retired_after))
            self._fingerprint = fingerprint
            self.stats["zone_index_builds"] += 1
        return self._zones

    def forget_zones(self) -> None:
        self._zones = None

    # ---- dirty vehicles -------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claims a batch of dirty vehicles and processes each; how many were claimed."""
        claimed = await rules_store.claim(self.pool, self.settings.batch_size,
                                          self.settings.settle_s)
        self.stats["claimed"] += len(claimed)
        for vehicle_id, from_ms in claimed:
            await self.process(vehicle_id, from_ms)
        return len(claimed)

    async def process(self, vehicle_id: int, from_ms: int) -> PassResult | None:
        """One vehicle, one transaction; on failure the mark goes back for the next round."""
        zones = await self.zones()
        try:
            await rules_store.motion_settled(self.pool, vehicle_id)
            now_ms = self.clock()
            async with self.pool.acquire() as conn, conn.transaction():
                result = await vehicle_pass.run(conn, vehicle_id, from_ms, zones, now_ms,
                                                self.settings.vehicle)
        except Exception:
            self.stats["errors"] += 1
            log.exception("rules: vehicle %d failed; marked again", vehicle_id)
            try:
                await rules_store.mark_dirty(self.pool, vehicle_id, from_ms)
            except Exception as exc:  # the database away: ingest will mark it again
                log.warning("rules: could not mark vehicle %d again: %r", vehicle_id, exc)
            return None
        self._count(result)
        if result.outcome is not None:
            await self._publish(result.outcome.reminders)
        return result

    def _count(self, result: PassResult) -> None:
        self.stats["vehicles"] += 1
        self.stats["positions_folded"] += result.folded
        self.stats["replays"] += result.replayed_from_ms is not None
        self.stats["days_evaluated"] += len(result.days)
        for kind, n in result.counts.items():
            self.stats[f"actions.{kind}"] += n

    async def _publish(self, reminders: list[reminder_store.Reminder]) -> None:
        for reminder in reminders:
            published = await reminder_store.publish(self.pool, self.publisher, reminder)
            self.stats["reminders_published" if published else "reminders_unpublished"] += 1

    # ---- the tick ---------------------------------------------------------------------------------

    async def tick(self) -> None:
        now_ms = self.clock()
        marked = await rules_store.mark_recent(
            self.pool, now_ms - int(self.settings.recent_h * 3_600_000), now_ms)
        self.stats["tick_marked"] += marked
        await self.emergencies(now_ms)
        for reminder in await reminder_store.unpublished(self.pool, self.settings.reminder_retry_s):
            if self.publisher is None:
                break
            await self._publish([reminder])
        self.stats["ticks"] += 1
        log.info("rules: %s", dict(sorted(self.stats.items())))

    async def emergencies(self, now_ms: int) -> None:
        """R14: every emergency request dispatched before its approval, judged per request."""
        rows = await day_store.emergencies(self.pool, now_ms - R14_LOOKBACK_MS)
        stored = await day_store.stored_requests(self.pool, [r.view.request_id for r in rows])
        for row in rows:
            before = stored.get(row.view.request_id)
            try:
                await self._emergency(row, before, now_ms)
            except Exception:
                self.stats["errors"] += 1
                log.exception("rules: R14 of request %d failed", row.view.request_id)

    async def _emergency(self, row: day_store.EmergencyRow, before: Any, now_ms: int) -> None:
        view = row.view
        async with self.pool.acquire() as conn, conn.transaction():
            params_rows = await day_store.param_rows(conn, row.org_path)
            params = resolve("R14", row.org_path, params_rows, now_ms)
            findings = evaluate_request(view, now_ms, params)
            if not findings and (before is None or before.state in GONE_STATES):
                return
            actions = reconcile([before] if before is not None else [], findings)
            if all(a.kind == "keep" and not a.audit for a in actions):
                return
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", R14_LOCK_CLASS,
                               view.request_id)
            # what is stored, read again under the audit lock (an inspector's move since the
            # first read is seen: no record with a stale from/to state)
            await audit_store.lock_chain(conn)
            now_stored = (await day_store.stored_requests(conn, [view.request_id])).get(
                view.request_id)
            actions = reconcile([now_stored] if now_stored is not None else [], findings)
            if all(a.kind == "keep" and not a.audit for a in actions):
                return
            info = None if view.vehicle_id is None else await day_store.vehicle(conn, view.vehicle_id)
            vehicle = None if info is None else Vehicle(info.profile, info.org_name_zh,
                                                        info.org_name_en)
            orders = () if view.vehicle_id is None else tuple(
                o for o in await day_store.orders(conn, view.vehicle_id,
                                                  view.dispatched_ms - DAY_MS, now_ms + DAY_MS)
                if o.id in view.order_ids)

            def target_of(f: Finding) -> Target:
                return Target(vehicle, row.org_id, local_day(f.start_ms), params, orders, now_ms)

            writer = Writer(conn, (await self.zones()).by_id, now_ms)
            outcome = await writer.apply(actions, target_of)
        for kind, n in outcome.counts.items():
            self.stats[f"r14.{kind}"] += n

    # ---- the loop ----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        next_tick = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.settings.tick_s
                    await self.tick()
                if await self.run_once():
                    continue                   # more may be waiting: no pause
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.stats["errors"] += 1
                log.warning("rules: database unavailable (%r); retrying", exc)
            except Exception:                  # a bug must not stop the platform's watchdog
                self.stats["errors"] += 1
                log.exception("rules: round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_s)


async def run_rules(settings: Settings, stop: asyncio.Event | None = None) -> Counter[str]:
    """The process: pool, the MQTT publisher for reminders, the loop until `stop`."""
    from web.mqtt_publisher import DevicePublisher

    stop = stop or asyncio.Event()
    database_url = settings.require_database_url()
    pool = await create_pool(database_url, min_size=1, max_size=4)
    publisher = None
    if settings.mqtt_url:
        publisher = DevicePublisher(settings.mqtt_url, topic_root=settings.mqtt_topic_root,
                                    client_id=f"fleet-rules-{uuid.uuid4().hex[:8]}")
        publisher.start()
        if not await publisher.wait_connected(5.0):
            log.warning("rules: MQTT broker not connected yet; reminders wait for it")
    worker = RulesWorker(pool, RulesSettings.of(settings), publisher=publisher)
    log.info("rules worker started (batch %d, tick %.0f s)", worker.settings.batch_size,
             worker.settings.tick_s)
    try:
        await worker.run(stop)
    finally:
        if publisher is not None:
            publisher.close()
        await pool.close()
        log.info("rules stopped: %s", dict(worker.stats))
    return worker.stats
