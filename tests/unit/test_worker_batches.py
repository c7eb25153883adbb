"""The ingest worker's batch handling with a stand-in store: a row the database refuses by its
value is isolated as a dead letter, the rest is stored, and messages are acked only after."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import orjson

from telemetry.devices import DeviceBinding, DeviceRegistry
from telemetry.filters import FilterSettings
from telemetry.metrics import IngestMetrics
from telemetry.model import RawMessage
from telemetry.persistence import DurableWriter
from telemetry.pipeline import Pipeline
from telemetry.worker import IngestWorker

NOW_MS = 1_795_392_000_000


class PickyStore:
    """Refuses, like PostgreSQL would, any batch holding a position with seq 13."""

    def __init__(self) -> None:
        self.stored: list = []
        self.letters: list = []
        self.failures_left = 0  # simulated outages before the next write works

    async def write(self, positions, rejections, statuses):
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionResetError("database went away")
        if any(p.seq == 13 for p in positions):
            raise asyncpg.DataError("value out of range")
        self.stored += positions
        self.letters += rejections
        return positions, []


class NullLive:
    async def publish_positions(self, positions):
        pass

    async def publish_status(self, statuses):
        pass


async def devices():
    return {"d1": DeviceBinding(1, 10, 5)}


def message(seq: int, mid: int) -> RawMessage:
    body = {"ts": NOW_MS - 60_000 + seq * 1000, "lat": 30.59 + seq * 1e-5, "lon": 114.3, "seq": seq}
    return RawMessage("fleet/v1/devices/d1/telemetry", orjson.dumps(body), NOW_MS, mid=mid, qos=1)


async def make_worker(store, spool=None):
    registry = DeviceRegistry(devices, topic_root="fleet/v1")
    await registry.load()
    acked: list[int] = []
    stats: Counter[str] = Counter()
    metrics = IngestMetrics()
    stop = asyncio.Event()
    writer = DurableWriter(store, spool, metrics, stats, stop, "fleet/v1")
    pipeline = Pipeline(
        topic_root="fleet/v1", registry=registry, filters=FilterSettings(max_age_s=None),
        writer=writer, motion=None, live=NullLive(), metrics=metrics, stats=stats,
    )
    worker = IngestWorker(
        pipeline=pipeline, writer=writer, batch_size=100, flush_ms=0, stop=stop,
        ack=lambda messages: acked.extend(m.mid for m in messages),
    )
    return worker, acked


async def test_a_refused_row_is_isolated_and_the_rest_stored():
    store = PickyStore()
    worker, acked = await make_worker(store)
    await worker.process([message(seq, mid=seq) for seq in range(10, 20)])
    assert sorted(p.seq for p in store.stored) == [10, 11, 12, 14, 15, 16, 17, 18, 19]
    [letter] = store.letters
    assert letter.reason == "store_error" and orjson.loads(letter.payload)["seq"] == 13
    assert acked == list(range(10, 20))  # everything is durable: stored or a dead letter


async def test_messages_are_acked_only_after_the_write_succeeds():
    store = PickyStore()
    store.failures_left = 2
    worker, acked = await make_worker(store)
    await worker.process([message(1, mid=101)])
    assert [p.seq for p in store.stored] == [1]
    assert acked == [101]
    assert worker.stats["write_retries"] == 2


async def test_with_a_spool_an_outage_spools_and_acks_then_drains(tmp_path):
    from telemetry.spool import Spool

    store = PickyStore()
    store.failures_left = 1
    spool = Spool(tmp_path / "spool.sqlite")
    worker, acked = await make_worker(store, spool)
    await worker.process([message(1, mid=201), message(2, mid=202)])
    assert store.stored == [] and acked == [201, 202]  # durable on local disk: acknowledged
    assert spool.depth == 2
    await worker.process([message(3, mid=203)])  # behind the spooled ones, in order
    assert spool.depth == 3 and store.stored == []

    async def probe():
        return 1

    drain = asyncio.create_task(worker.drain_spool(spool, probe))
    for _ in range(100):
        if spool.depth == 0 and len(store.stored) == 3:
            break
        await asyncio.sleep(0.05)
    worker._stop.set()
    await drain
    assert sorted(p.seq for p in store.stored) == [1, 2, 3]
    assert spool.depth == 0 and worker.stats["unspooled"] == 3
    # a spool reopened after a restart is empty: nothing is replayed twice
    spool.close()
    assert Spool(tmp_path / "spool.sqlite").depth == 0


class Exploding:
    """A detector or publisher that fails on every call."""

    def __init__(self) -> None:
        self.calls = 0

    async def track(self, positions):
        self.calls += 1
        raise RuntimeError("detector bug")

    def forget(self, vehicle_ids):
        self.forgotten = vehicle_ids

    async def publish_positions(self, positions):
        self.calls += 1
        raise ConnectionError("redis away")

    async def publish_status(self, statuses):
        pass


async def test_a_failing_stage_after_persist_is_counted_and_loses_nothing():
    store = PickyStore()
    worker, acked = await make_worker(store)
    broken = Exploding()
    worker.pipeline._motion = broken  # detect fails
    worker.pipeline._live = broken  # publish fails
    await worker.process([message(1, mid=301), message(2, mid=302)])
    assert sorted(p.seq for p in store.stored) == [1, 2]  # stored anyway
    assert acked == [301, 302]  # and acknowledged: they are durable
    assert worker.stats["stage_errors.detect"] == 1 and worker.stats["stage_errors.publish"] == 1
    assert broken.forgotten == [10]  # the detector reloads this vehicle from storage next time
    samples = {
        s.labels["stage"]: s.value
        for metric in worker.pipeline._metrics.stage_errors.collect() for s in metric.samples
        if s.name.endswith("_total")
    }
    assert samples == {"detect": 1.0, "publish": 1.0}


async def test_a_failing_stage_before_persist_spools_the_raw_batch(tmp_path):
    from telemetry.spool import Spool

    store = PickyStore()
    spool = Spool(tmp_path / "spool.sqlite")
    worker, acked = await make_worker(store, spool)

    async def broken_filter(batch):
        raise RuntimeError("filter bug")

    worker.pipeline.stages = [(n, broken_filter if n == "filter" else s) for n, s in worker.pipeline.stages]
    await worker.process([message(1, mid=401)])
    assert store.stored == [] and spool.depth == 1 and acked == [401]  # kept whole, on disk
    assert [orjson.loads(m.payload)["seq"] for _, m in spool.peek(10)] == [1]
    assert worker.stats["stage_errors.filter"] == 1
