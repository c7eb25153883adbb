"""The persist stage's writer: a batch is stored in PostgreSQL, or kept in the local spool.

- A row PostgreSQL refuses by its value (out of a column's range) is found by halving the
  batch and becomes a `store_error` dead letter; the rest is stored.
- A connection or server failure: with a spool, the batch's raw messages go there (durable
  on local disk) and the worker drains them once PostgreSQL is back; without one, the batch is
  retried with backoff and nothing is acknowledged meanwhile (the broker keeps it).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING

from telemetry.encode import position_rejection
from telemetry.metrics import IngestMetrics
from telemetry.model import Position, RawMessage, Rejection
from telemetry.spool import Spool
from telemetry.store import DATA_ERRORS, TelemetryStore

if TYPE_CHECKING:
    from telemetry.pipeline import Batch

log = logging.getLogger(__name__)


class DurableWriter:
    def __init__(
        self,
        store: TelemetryStore,
        spool: Spool | None,
        metrics: IngestMetrics,
        stats: Counter[str],
        stop: asyncio.Event,
        topic_root: str,
    ) -> None:
        self._store = store
        self.spool = spool
        self._metrics = metrics
        self._stats = stats
        self._stop = stop
        self._root = topic_root
        self.database_down = False  # set on a failed write, cleared once the spool drained

    async def keep_raw(self, messages: list[RawMessage]) -> None:
        """The batch cannot be processed now: into the spool (if there is one)."""
        if self.spool is None or not messages:
            return
        await asyncio.to_thread(self.spool.append, messages)
        self._metrics.spooled.inc(len(messages))
        self._stats["spooled"] += len(messages)
        self.database_down = True

    async def write(self, batch: Batch) -> bool | None:
        """Store the batch (fills batch.inserted); True once stored, None if it was spooled
        or the worker stopped before PostgreSQL came back (then it stays unacknowledged)."""
        if self.database_down and self.spool is not None and not batch.from_spool:
            await self.keep_raw(batch.messages)  # keep arrival order behind the spooled ones
            batch.durable = batch.spooled = True
            return None
        result = await self._write_isolating(batch.positions, batch.rejections, batch)
        if result is None:
            if self.spool is not None and not self._stop.is_set() and not batch.from_spool:
                await self.keep_raw(batch.messages)
                batch.durable = batch.spooled = True
            return None
        batch.positions, batch.rejections = result
        batch.durable = True
        return True

    async def _write_isolating(
        self, positions: list[Position], rejections: list[Rejection], batch: Batch
    ) -> tuple[list[Position], list[Rejection]] | None:
        try:
            written = await self._write_with_retry(positions, rejections, batch)
        except DATA_ERRORS as exc:
            if len(positions) <= 1:
                refused = [position_rejection(self._root, p, "store_error", repr(exc)[:300]) for p in positions]
                written = await self._write_with_retry([], rejections + refused, batch)
                return None if written is None else ([], rejections + refused)
            half = len(positions) // 2
            first = await self._write_isolating(positions[:half], rejections, batch)
            if first is None:
                return None
            statuses, batch.statuses = batch.statuses, []  # written with the first half
            second = await self._write_isolating(positions[half:], [], batch)
            batch.statuses = statuses + batch.statuses
            if second is None:
                return None
            return first[0] + second[0], first[1] + second[1]
        return None if written is None else (positions, rejections)

    async def _write_with_retry(
        self, positions: list[Position], rejections: list[Rejection], batch: Batch
    ) -> bool | None:
        """Write; on a connection failure retry with backoff, or give up at once when there
        is a spool to take the batch. None: not written."""
        delay_s = 0.5
        while True:
            try:
                inserted, online = await self._store.write(positions, rejections, batch.statuses)
            except DATA_ERRORS:
                raise
            except Exception as exc:  # connection lost, server restarting
                self._stats["write_retries"] += 1
                self._metrics.write_retries.inc()
                log.warning("database write failed (%r)", exc)
                if self.spool is not None or self._stop.is_set():
                    return None
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 10.0)
                continue
            batch.inserted += inserted
            batch.statuses = batch.statuses + online
            return True
