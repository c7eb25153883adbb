"""The ingest worker's batch handling with a stand-in store: a row the database refuses by its
value is isolated as a dead letter, the rest is stored, and messages are acked only after."""

from __future__ import annotations

import asyncpg
import orjson

from telemetry.devices import DeviceBinding, DeviceRegistry
from telemetry.filters import FilterSettings
from telemetry.model import RawMessage
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
        return len(positions)


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


async def make_worker(store):
    registry = DeviceRegistry(devices, topic_root="fleet/v1")
    await registry.load()
    acked: list[int] = []
    worker = IngestWorker(
        store=store, registry=registry, live=NullLive(), topic_root="fleet/v1",
        filters=FilterSettings(max_age_s=None), batch_size=100, flush_ms=0,
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
