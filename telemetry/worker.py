"""The ingest worker: MQTT in, PostgreSQL and Redis out.

Follow one position: paho thread (mqtt_source) -> asyncio queue -> `IngestWorker.run` takes a
batch -> contract.decode_message -> DeviceRegistry.resolve -> filters.check ->
TelemetryStore.write (COPY, one
transaction) -> LivePublisher (Redis hash + channel) -> web/live relays it to the console.
telemetry.filters sits between resolve and write. A batch whose write fails is retried,
never dropped; a message that cannot be used becomes a dead letter with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

import redis.asyncio as aioredis

from fleet.config import Settings
from fleet.db import create_pool
from telemetry.contract import decode_message
from telemetry.devices import DeviceBinding, DeviceRegistry
from telemetry.encode import position_payload
from telemetry.filters import FilterSettings, VehicleFilterState, check
from telemetry.live import LivePublisher
from telemetry.model import Position, RawMessage, Rejection, StatusChange
from telemetry.mqtt_source import MqttSource
from telemetry.store import DATA_ERRORS, TelemetryStore

log = logging.getLogger(__name__)


class IngestWorker:
    def __init__(
        self,
        *,
        store: TelemetryStore,
        registry: DeviceRegistry,
        live: LivePublisher,
        topic_root: str,
        filters: FilterSettings,
        batch_size: int,
        flush_ms: int,
        ack: Callable[[list[RawMessage]], None] = lambda messages: None,
    ) -> None:
        self.queue: asyncio.Queue[RawMessage] = asyncio.Queue()
        self.stats: Counter[str] = Counter()
        self._store = store
        self._registry = registry
        self._live = live
        self._root = topic_root
        self._filters = filters
        self._filter_states: dict[int, VehicleFilterState] = {}
        self._batch_size = batch_size
        self._linger_s = flush_ms / 1000
        self._ack = ack
        self._stop = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set (the batch in hand is finished first)."""
        self._stop = stop
        while not stop.is_set():
            batch = await self._next_batch()
            if batch:
                await self.process(batch)

    async def drain(self) -> None:
        """Process what is queued now (after the source stopped delivering)."""
        while not self.queue.empty():
            batch = [self.queue.get_nowait() for _ in range(min(self.queue.qsize(), self._batch_size))]
            await self.process(batch)

    async def _next_batch(self) -> list[RawMessage]:
        """Group commit: whatever is queued when the previous write ends is the next batch.
        No waiting while messages are unacknowledged: the broker sends only so many unacked
        QoS 1 messages at once (Mosquitto's max_inflight_messages), so lingering would cap the
        rate. An optional linger (flush_ms) trades latency for larger batches."""
        try:
            first = await asyncio.wait_for(self.queue.get(), timeout=0.5)
        except TimeoutError:
            return []
        batch = [first]
        deadline = time.monotonic() + self._linger_s
        while len(batch) < self._batch_size:
            if not self.queue.empty():
                batch.append(self.queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), timeout=remaining))
            except TimeoutError:
                break
        return batch

    async def process(self, messages: list[RawMessage]) -> None:
        positions: list[Position] = []
        changes: list[StatusChange] = []
        rejections: list[Rejection] = []
        for msg in messages:
            got, status, rejected = decode_message(msg, self._root)
            positions += got
            changes += status
            rejections += rejected
        positions, unknown = await self._registry.resolve(positions)
        statuses, unknown_status = await self._registry.resolve_status(changes)
        rejections += unknown + unknown_status
        positions, filtered = self._filter(positions)
        rejections += filtered
        written = await self._write_durably(positions, rejections, statuses)
        if written is None:
            return  # stopped while the database was away: unacked, the broker redelivers
        inserted, positions, rejections = written
        self._ack(messages)
        self.stats["messages"] += len(messages)
        self.stats["positions_accepted"] += len(positions)
        self.stats["positions_inserted"] += inserted
        self.stats["duplicates"] += len(positions) - inserted
        self.stats["status_changes"] += len(statuses)
        self.stats["batches"] += 1
        for rejection in rejections:
            self.stats[f"rejected.{rejection.reason}"] += 1
        try:
            await self._live.publish_positions(positions)
            await self._live.publish_status(statuses)
        except Exception:  # the data is stored; the console catches up on the next batch
            self.stats["publish_errors"] += 1
            log.exception("publishing to Redis failed")

    def _filter(self, positions: list[Position]) -> tuple[list[Position], list[Rejection]]:
        """Apply the filters per vehicle in device-time order; refused ones become dead
        letters, except duplicates, whose original is stored already (counted only)."""
        kept: list[Position] = []
        rejections: list[Rejection] = []
        now_ms = int(time.time() * 1000)
        for pos in sorted(positions, key=lambda p: (p.vehicle_id, p.ts_ms)):
            state = self._filter_states.setdefault(pos.vehicle_id, VehicleFilterState())
            refused = check(pos, state, self._filters, now_ms)
            if refused is None:
                kept.append(pos)
                continue
            reason, detail = refused
            if reason == "duplicate":
                self.stats["filtered.duplicate"] += 1
                continue
            rejections.append(self._rejection(pos, reason, detail))
        return kept, rejections

    def _rejection(self, pos: Position, reason: str, detail: str) -> Rejection:
        topic = f"{self._root}/devices/{pos.device_uid}/telemetry"
        return Rejection(topic, position_payload(pos), reason, detail, pos.received_ms, pos.device_uid)

    async def _write_durably(
        self,
        positions: list[Position],
        rejections: list[Rejection],
        statuses: list[tuple[StatusChange, DeviceBinding]],
    ) -> tuple[int, list[Position], list[Rejection]] | None:
        """Write, retrying while the database is away; a row PostgreSQL refuses by its value
        is found by halving the batch and becomes a `store_error` dead letter. Returns
        (inserted, positions stored, rejections stored), or None if stopped before it could."""
        try:
            inserted = await self._write_with_retry(positions, rejections, statuses)
        except DATA_ERRORS as exc:
            if len(positions) <= 1:
                refused = [self._rejection(p, "store_error", repr(exc)[:300]) for p in positions]
                inserted = await self._write_with_retry([], rejections + refused, statuses)
                return None if inserted is None else (0, [], rejections + refused)
            half = len(positions) // 2
            first = await self._write_durably(positions[:half], rejections, statuses)
            second = await self._write_durably(positions[half:], [], [])
            if first is None or second is None:
                return None
            return first[0] + second[0], first[1] + second[1], first[2] + second[2]
        return None if inserted is None else (inserted, positions, rejections)

    async def _write_with_retry(
        self,
        positions: list[Position],
        rejections: list[Rejection],
        statuses: list[tuple[StatusChange, DeviceBinding]],
    ) -> int | None:
        delay_s = 0.5
        while True:
            try:
                return await self._store.write(positions, rejections, statuses)
            except DATA_ERRORS:
                raise
            except Exception as exc:  # connection lost, server restarting: the batch waits
                self.stats["write_retries"] += 1
                log.warning("database write failed (%r); retrying in %.1f s", exc, delay_s)
            if self._stop.is_set():
                return None
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 10.0)


def telemetry_topics(root: str) -> list[str]:
    return [f"{root}/devices/+/telemetry", f"{root}/devices/+/status"]


async def run_ingest(settings: Settings, stop: asyncio.Event | None = None) -> Counter[str]:
    """The worker's composition root: pool, Redis, registry, MQTT; runs until `stop`."""
    database_url, redis_url, mqtt_url = settings.require_urls()
    stop = stop or asyncio.Event()
    pool = await create_pool(database_url, min_size=1, max_size=4)
    # short timeouts: a Redis that hangs must not hold up durable ingest for long
    redis_client = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    store = TelemetryStore(pool)
    registry = DeviceRegistry(store.load_devices, topic_root=settings.mqtt_topic_root)
    await registry.load()
    live = LivePublisher(redis_client, settings.redis_prefix)
    await live.load_latest()
    source = MqttSource(mqtt_url, settings.ingest_client_id, telemetry_topics(settings.mqtt_topic_root))
    worker = IngestWorker(
        store=store,
        registry=registry,
        live=live,
        topic_root=settings.mqtt_topic_root,
        filters=settings.filter_settings(),
        batch_size=settings.ingest_batch_size,
        flush_ms=settings.ingest_flush_ms,
        ack=source.ack,
    )
    source.start(asyncio.get_running_loop(), worker.queue)
    reporter = asyncio.create_task(_report_stats(worker, stop))
    try:
        await worker.run(stop)
        # stop delivery, let what paho already handed over reach the queue, finish it, ack it
        source.unsubscribe()
        await asyncio.sleep(0.3)
        await worker.drain()
    finally:
        await asyncio.to_thread(source.stop)
        reporter.cancel()
        await redis_client.aclose()
        await pool.close()
        log.info("ingest stopped: %s", dict(worker.stats))
    return worker.stats


async def _report_stats(worker: IngestWorker, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(30)
        log.info("ingest: %s", dict(worker.stats))
