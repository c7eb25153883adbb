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
from telemetry.store import TelemetryStore

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
        self._flush_s = flush_ms / 1000

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then drain what is already queued."""
        while not (stop.is_set() and self.queue.empty()):
            batch = await self._next_batch(stop)
            if batch:
                await self.process(batch)

    async def _next_batch(self, stop: asyncio.Event) -> list[RawMessage]:
        batch: list[RawMessage] = []
        try:
            batch.append(await asyncio.wait_for(self.queue.get(), timeout=0.5))
        except TimeoutError:
            return batch
        deadline = time.monotonic() + self._flush_s
        while len(batch) < self._batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set() and self.queue.empty():
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
        inserted = await self._write_with_retry(positions, rejections, statuses)
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
            topic = f"{self._root}/devices/{pos.device_uid}/telemetry"
            rejections.append(
                Rejection(topic, position_payload(pos), reason, detail, pos.received_ms, pos.device_uid)
            )
        return kept, rejections

    async def _write_with_retry(
        self,
        positions: list[Position],
        rejections: list[Rejection],
        statuses: list[tuple[StatusChange, DeviceBinding]],
    ) -> int:
        delay_s = 0.5
        while True:
            try:
                return await self._store.write(positions, rejections, statuses)
            except (OSError, ConnectionError) as exc:
                self.stats["write_retries"] += 1
                log.warning("database write failed (%s); retrying in %.1f s", exc, delay_s)
            except Exception as exc:  # asyncpg errors: retry too, the batch must not be lost
                self.stats["write_retries"] += 1
                log.warning("database write failed (%r); retrying in %.1f s", exc, delay_s)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 10.0)


def telemetry_topics(root: str) -> list[str]:
    return [f"{root}/devices/+/telemetry", f"{root}/devices/+/status"]


async def run_ingest(settings: Settings, stop: asyncio.Event | None = None) -> Counter[str]:
    """The worker's composition root: pool, Redis, registry, MQTT; runs until `stop`."""
    database_url, redis_url, mqtt_url = settings.require_urls()
    stop = stop or asyncio.Event()
    pool = await create_pool(database_url, min_size=1, max_size=4)
    redis_client = aioredis.from_url(redis_url)
    store = TelemetryStore(pool)
    registry = DeviceRegistry(store.load_devices, topic_root=settings.mqtt_topic_root)
    await registry.load()
    worker = IngestWorker(
        store=store,
        registry=registry,
        live=LivePublisher(redis_client, settings.redis_prefix),
        topic_root=settings.mqtt_topic_root,
        filters=settings.filter_settings(),
        batch_size=settings.ingest_batch_size,
        flush_ms=settings.ingest_flush_ms,
    )
    source = MqttSource(mqtt_url, settings.ingest_client_id, telemetry_topics(settings.mqtt_topic_root))
    source.start(asyncio.get_running_loop(), worker.queue)
    reporter = asyncio.create_task(_report_stats(worker, stop))
    try:
        await worker.run(stop)
    finally:
        source.stop()
        # messages paho handed over while stopping are still processed
        if not worker.queue.empty():
            await worker.process([worker.queue.get_nowait() for _ in range(worker.queue.qsize())])
        reporter.cancel()
        await redis_client.aclose()
        await pool.close()
        log.info("ingest stopped: %s", dict(worker.stats))
    return worker.stats


async def _report_stats(worker: IngestWorker, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(30)
        log.info("ingest: %s", dict(worker.stats))
