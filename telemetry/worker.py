"""The ingest worker: MQTT in, PostgreSQL and Redis out.

Follow one position: paho thread (mqtt_source) -> asyncio queue -> `IngestWorker.run` takes a
batch -> the stages of telemetry.pipeline (decode, resolve, filter, order, persist, publish,
detect) -> PUBACK once the batch is durable -> web/live relays the Redis message to the
console. Besides the queue the worker drains its local spool (batches kept while PostgreSQL
was away) and sweeps for devices gone silent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import redis.asyncio as aioredis

from fleet.config import Settings
from fleet.db import create_pool
from telemetry import silence
from telemetry.devices import DeviceRegistry
from telemetry.live import LivePublisher
from telemetry.metrics import IngestMetrics
from telemetry.model import RawMessage
from telemetry.motion_tracker import MotionTracker
from telemetry.mqtt_source import MqttSource
from telemetry.persistence import DurableWriter
from telemetry.pipeline import Batch, Pipeline
from telemetry.spool import Spool
from telemetry.store import TelemetryStore

log = logging.getLogger(__name__)


class IngestWorker:
    def __init__(
        self,
        *,
        pipeline: Pipeline,
        writer: DurableWriter,
        batch_size: int,
        flush_ms: int,
        ack: Callable[[list[RawMessage]], None] = lambda messages: None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.queue: asyncio.Queue[RawMessage] = asyncio.Queue()
        self.pipeline = pipeline
        self.stats = pipeline.stats
        self._writer = writer
        self._batch_size = batch_size
        self._linger_s = flush_ms / 1000
        self._ack = ack
        self._stop = stop or asyncio.Event()

    async def run(self) -> None:
        """Consume until stopped (the batch in hand is finished first)."""
        while not self._stop.is_set():
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

    async def process(self, messages: list[RawMessage]) -> Batch:
        """Run the pipeline; acknowledge once the batch is durable. A batch that could not be
        made durable (PostgreSQL away, no spool) is retried until it is, or the worker stops
        (then it stays unacknowledged and the broker redelivers it)."""
        delay_s = 0.5
        while True:
            batch = await self.pipeline.run(Batch(messages))
            if batch.durable:
                self._ack(messages)
                self.stats["messages"] += len(messages)
                self.stats["positions_accepted"] += len(batch.positions)
                self.stats["positions_inserted"] += len(batch.inserted)
                self.stats["duplicates"] += len(batch.positions) - len(batch.inserted)
                self.stats["status_changes"] += len(batch.statuses)
                self.stats["batches"] += 1
                for rejection in batch.rejections:
                    self.stats[f"rejected.{rejection.reason}"] += 1
                return batch
            if self._stop.is_set():
                return batch
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 10.0)

    async def drain_spool(self, spool: Spool, probe: Callable[[], object]) -> None:
        """Feed spooled batches through the pipeline once PostgreSQL answers again, oldest
        first; each is deleted from the spool only after it is stored."""
        while not self._stop.is_set():
            if not self._writer.database_down and spool.depth == 0:
                await asyncio.sleep(0.5)
                continue
            try:
                await probe()
            except Exception:
                await asyncio.sleep(1.0)
                continue
            rows = await asyncio.to_thread(spool.peek, self._batch_size)
            if not rows:
                self._writer.database_down = False
                log.info("spool drained; writing to PostgreSQL directly again")
                continue
            batch = Batch([msg for _, msg in rows], from_spool=True)
            batch = await self.pipeline.run(batch)
            if batch.durable:
                await asyncio.to_thread(spool.delete_through, rows[-1][0])
                self.stats["unspooled"] += len(rows)
            else:
                await asyncio.sleep(1.0)

    async def sweep_silence(self, pool, settings: silence.SilenceSettings, live: LivePublisher) -> None:  # noqa: ANN001
        """Every few seconds: devices silent for longer than expected go offline."""
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=settings.sweep_every_s)
                return
            except TimeoutError:
                pass
            if self.queue.qsize() > self._batch_size or self._writer.database_down:
                # behind on our own input: the silence may be ours, not the devices'
                self.stats["silence_sweeps_skipped"] += 1
                continue
            try:
                changes = await silence.sweep(pool, settings, datetime.now(UTC))
                if changes:
                    self.stats["silent_offline"] += len(changes)
                    await live.publish_status(changes)
            except Exception as exc:  # PostgreSQL or Redis away: next round
                log.warning("silence sweep failed: %r", exc)


def telemetry_topics(root: str, shared_group: str = "") -> list[str]:
    """With a shared group, workers share one subscription: the broker hands each message to
    one of them (MQTT 5 shared subscriptions, also understood by Mosquitto on 3.1.1)."""
    topics = [f"{root}/devices/+/telemetry", f"{root}/devices/+/status"]
    return [f"$share/{shared_group}/{t}" for t in topics] if shared_group else topics


async def run_ingest(settings: Settings, stop: asyncio.Event | None = None) -> Counter[str]:
    """The worker's composition root: pool, Redis, registry, spool, MQTT; runs until `stop`."""
    database_url, redis_url, mqtt_url = settings.require_urls()
    stop = stop or asyncio.Event()
    pool = await create_pool(database_url, min_size=1, max_size=4)
    # short timeouts: a Redis that hangs must not hold up durable ingest for long
    redis_client = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    metrics = IngestMetrics()
    stats: Counter[str] = Counter()
    store = TelemetryStore(pool)
    registry = DeviceRegistry(store.load_devices, topic_root=settings.mqtt_topic_root)
    await registry.load()
    live = LivePublisher(redis_client, settings.redis_prefix)
    await live.load_latest()
    spool = Spool(settings.ingest_spool_file()) if settings.ingest_spool else None
    writer = DurableWriter(store, spool, metrics, stats, stop, settings.mqtt_topic_root)
    writer.database_down = spool is not None and spool.depth > 0
    motion = (
        MotionTracker(pool, settings.motion_settings(), stats, settings.motion_flush_s)
        if settings.ingest_motion else None
    )
    pipeline = Pipeline(
        topic_root=settings.mqtt_topic_root,
        registry=registry,
        filters=settings.filter_settings(),
        writer=writer,
        motion=motion,
        live=live,
        metrics=metrics,
        stats=stats,
        record_acks=store.record_acks,
    )
    source = MqttSource(
        mqtt_url,
        settings.ingest_client_id,
        telemetry_topics(settings.mqtt_topic_root, settings.ingest_shared_group),
    )
    worker = IngestWorker(
        pipeline=pipeline,
        writer=writer,
        batch_size=settings.ingest_batch_size,
        flush_ms=settings.ingest_flush_ms,
        ack=source.ack,
        stop=stop,
    )
    metrics.watch(worker.queue.qsize, lambda: spool.depth if spool else 0)
    server = None
    if settings.ingest_metrics_port:
        try:
            server, _ = metrics.serve(settings.ingest_metrics_host, settings.ingest_metrics_port)
            log.info("metrics at http://%s:%d/metrics", settings.ingest_metrics_host, server.server_port)
        except OSError as exc:  # another worker on this host has the port: ingest goes on
            log.warning("metrics port %d unavailable (%s); /metrics off", settings.ingest_metrics_port, exc)
    source.start(asyncio.get_running_loop(), worker.queue)
    helpers = [
        asyncio.create_task(_report_stats(worker, stop)),
        asyncio.create_task(worker.sweep_silence(pool, settings.silence_settings(), live)),
    ]
    if spool is not None:
        helpers.append(asyncio.create_task(worker.drain_spool(spool, lambda: pool.fetchval("SELECT 1"))))
    try:
        await worker.run()
        # stop receiving (the session keeps the subscriptions), then store what was handed
        # over; it cannot be acknowledged any more and is redelivered: a no-op then
        await asyncio.to_thread(source.stop)
        await asyncio.sleep(0)  # the last hand-over from paho's thread
        await worker.drain()
        if motion is not None:
            try:
                await motion.flush_all()
            except Exception as exc:  # stored positions are safe; the next start catches up
                log.warning("could not write the last trip segments: %r", exc)
    finally:
        await asyncio.to_thread(source.stop)
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        if server is not None:
            server.shutdown()
        if spool is not None:
            spool.close()
        await redis_client.aclose()
        await pool.close()
        log.info("ingest stopped: %s", dict(worker.stats))
    return worker.stats


async def _report_stats(worker: IngestWorker, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(30)
        log.info("ingest: %s", dict(worker.stats))
