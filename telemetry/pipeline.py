"""The ingest pipeline: one ordered list of small stages, each `async (Batch) -> None`.

    decode → resolve → filter → order → persist → acks → publish → detect

- decode   (telemetry.contract)   bytes → positions / status changes / rejections
- resolve  (telemetry.devices)    device uid → device and vehicle ids
- filter   (telemetry.filters)    unusable fixes → dead letters with their reason
- order    sort by vehicle and device time; detectors get each vehicle's positions in order
- persist  (telemetry.store)      one transaction: positions (COPY, idempotent key), latest
                                  state, dead letters, device status. PostgreSQL away: the
                                  raw messages go to the local spool (telemetry.spool)
- acks     (telemetry.store)      terminals' command acknowledgements (cmd/ack) on their
                                  reminders rows; one that cannot be written now is kept
                                  and written with the next batch
- publish  (telemetry.live)       Redis: latest state and the console's live channel
- detect   (telemetry.motion_tracker) trips and stops, incrementally, with late-data replay

Persist comes before detect on purpose: a position is safe (and acknowledged) once stored,
whatever a detector does with it, and the detectors read stored positions when late data
makes them replay. Publish comes before detect because the console needs the position, not
the trip bookkeeping: the marker moves one detector pass sooner. A failing stage is logged and counted (fleet_ingest_stage_errors); before
persist the batch's raw messages are spooled or retried, after persist the positions are
stored already and the detectors catch up from storage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telemetry.contract import CommandAck, decode_ack, decode_message, parse_ack_topic
from telemetry.devices import DeviceBinding, DeviceRegistry
from telemetry.encode import position_rejection
from telemetry.filters import FilterSettings, VehicleFilterState, check
from telemetry.live import LivePublisher
from telemetry.metrics import IngestMetrics
from telemetry.model import Position, RawMessage, Rejection, StatusChange
from telemetry.motion_tracker import MotionTracker
from telemetry.persistence import DurableWriter
from telemetry.timeline import order_key

log = logging.getLogger(__name__)


@dataclass
class Batch:
    messages: list[RawMessage]
    positions: list[Position] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)
    statuses: list[tuple[StatusChange, DeviceBinding]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    inserted: list[Position] = field(default_factory=list)  # new rows (not duplicates)
    acks: list[CommandAck] = field(default_factory=list)  # terminals' command acknowledgements
    durable: bool = False  # stored in PostgreSQL or in the spool: may be acknowledged
    spooled: bool = False
    from_spool: bool = False  # replayed from the spool: never spooled again


Stage = Callable[[Batch], Awaitable[None]]
AckRecorder = Callable[[list[CommandAck]], Awaitable[int]]
MAX_PENDING_ACKS = 10_000


class Pipeline:
    def __init__(
        self,
        *,
        topic_root: str,
        registry: DeviceRegistry,
        filters: FilterSettings,
        writer: DurableWriter,
        motion: MotionTracker | None,
        live: LivePublisher,
        metrics: IngestMetrics,
        stats: Counter[str],
        record_acks: AckRecorder | None = None,
    ) -> None:
        self._root = topic_root
        self._registry = registry
        self._filters = filters
        self._filter_states: dict[int, VehicleFilterState] = {}
        self._writer = writer
        self._motion = motion
        self._live = live
        self._metrics = metrics
        self.stats = stats
        # the writer's store records acks unless told otherwise (the worker builds the writer)
        self._record_acks = record_acks  # cmd/ack: the terminal's answer to a reminder
        self._pending_acks: list[CommandAck] = []
        self._running = asyncio.Lock()  # live batches and spool drain never interleave
        # The order of processing, in one place. Stages before "persist" must succeed for the
        # batch to be stored (else it is spooled or retried whole); later ones may fail alone.
        self.stages: list[tuple[str, Stage]] = [
            ("decode", self.decode),
            ("resolve", self.resolve),
            ("filter", self.filter),
            ("order", self.order),
            ("persist", self.persist),
            ("acks", self.acks),
            ("publish", self.publish),
            ("detect", self.detect),
        ]

    async def run(self, batch: Batch) -> Batch:
        async with self._running:
            return await self._run(batch)

    async def _run(self, batch: Batch) -> Batch:
        self._metrics.batch_size.observe(len(batch.messages))
        self._metrics.messages.inc(len(batch.messages))
        for name, stage in self.stages:
            started = time.perf_counter()
            try:
                await stage(batch)
            except Exception:
                self._metrics.stage_errors.labels(name).inc()
                self.stats[f"stage_errors.{name}"] += 1
                log.exception("ingest stage %s failed (%d messages)", name, len(batch.messages))
                if not batch.durable:
                    if not batch.from_spool:
                        await self._writer.keep_raw(batch.messages)
                        batch.durable = batch.spooled = self._writer.spool is not None
                    return batch
            finally:
                self._metrics.stage_seconds.labels(name).observe(time.perf_counter() - started)
            if batch.spooled:
                return batch  # PostgreSQL is away: the rest waits for the spool's drain
        return batch

    async def decode(self, batch: Batch) -> None:
        for msg in batch.messages:
            ack_uid = parse_ack_topic(msg.topic, self._root)
            if ack_uid is not None:
                acks, rejected = decode_ack(msg, ack_uid)
                batch.acks += acks
                batch.rejections += rejected
                continue
            got, status, rejected = decode_message(msg, self._root)
            batch.positions += got
            batch.changes += status
            batch.rejections += rejected

    async def resolve(self, batch: Batch) -> None:
        batch.positions, unknown = await self._registry.resolve(batch.positions)
        batch.statuses, unknown_status = await self._registry.resolve_status(batch.changes)
        batch.rejections += unknown + unknown_status

    async def filter(self, batch: Batch) -> None:
        """Per vehicle in device-time order; refused fixes become dead letters. A duplicate
        goes on to persist, where the unique key (device, ts, seq) decides: the filter's memory
        may have seen a batch that was then spooled or retried, and only the database knows
        what is stored (it counts as fleet_ingest_positions_duplicate there)."""
        kept: list[Position] = []
        now_ms = int(time.time() * 1000)
        for pos in sorted(batch.positions, key=lambda p: (p.vehicle_id, p.ts_ms)):
            state = self._filter_states.setdefault(pos.vehicle_id, VehicleFilterState())
            refused = check(pos, state, self._filters, now_ms)
            if refused is None or refused[0] == "duplicate":
                kept.append(pos)
            else:
                batch.rejections.append(position_rejection(self._root, pos, *refused))
        batch.positions = kept

    async def order(self, batch: Batch) -> None:
        batch.positions.sort(key=lambda p: (p.vehicle_id, *order_key(p)))

    async def persist(self, batch: Batch) -> None:
        stored = await self._writer.write(batch)
        if stored is None:
            return  # spooled, or stopped while PostgreSQL was away (then unacknowledged)
        now_ms = time.time() * 1000
        for pos in batch.positions:
            self._metrics.lag.observe(max(0.0, (now_ms - pos.ts_ms) / 1000))
        self._metrics.positions_stored.inc(len(batch.inserted))
        self._metrics.duplicates.inc(len(batch.positions) - len(batch.inserted))
        for rejection in batch.rejections:
            self._metrics.rejected.labels(rejection.reason).inc()
        for change, _ in batch.statuses:
            self._metrics.status_changes.labels(change.status, change.reason).inc()

    async def acks(self, batch: Batch) -> None:
        """The terminals' answers to commands, on their reminders rows (after persist: the
        batch is durable; an ack that cannot be written now waits for the next batch)."""
        pending = self._pending_acks + batch.acks
        if not pending or self._record_acks is None:
            return
        try:
            recorded = await self._record_acks(pending)
        except Exception:
            self._pending_acks = pending[-MAX_PENDING_ACKS:]
            raise
        self._pending_acks = []
        self.stats["acks.received"] += len(batch.acks)
        self.stats["acks.recorded"] += recorded
        self.stats["acks.unmatched"] += len(pending) - recorded

    async def detect(self, batch: Batch) -> None:
        if self._motion is None or not batch.inserted:
            return
        recomputed = self.stats["motion.recomputed"]
        try:
            await self._motion.track(batch.inserted)
            self._metrics.motion_recomputed.inc(self.stats["motion.recomputed"] - recomputed)
        except Exception:
            # stored already: forget the cached states, the next batch reloads and catches up
            self._motion.forget(sorted({p.vehicle_id for p in batch.inserted}))
            raise

    async def publish(self, batch: Batch) -> None:
        try:
            await self._live.publish_positions(batch.positions)
            await self._live.publish_status(batch.statuses)
        except Exception:  # the data is stored; the console catches up on the next batch
            self.stats["publish_errors"] += 1
            raise
