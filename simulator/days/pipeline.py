"""Driving labelled days through the real pipeline (bench/detection.py and the integration
test): a gateway connection publishing the noisy terminal messages, the waits on ingest and on
the rules worker, and the verdicts read back from `violations`.

"The rules worker is idle on these cars" means: it has folded every stored position of them
(rule_vehicle_state.last_ts), holds no dirty mark for them, and is not judging any of them
(its per-vehicle advisory lock, supervision/rules_store.lock_vehicle) — three times in a row.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import asyncpg
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.mqtt_url import parse_mqtt_url
from simulator.days.model import RANK, LabelledDay
from simulator.days.noise import Delivery
from supervision.rules_store import LOCK_CLASS


class Gateway:
    """One MQTT connection publishing terminal messages at QoS 1 under a topic root."""

    def __init__(self, mqtt_url: str, root: str, client_id: str | None = None) -> None:
        address = parse_mqtt_url(mqtt_url)
        self.root = root.rstrip("/")
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"detect-{os.getpid()}-{id(self):x}")
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(address.host, address.port, keepalive=60)
        self.client.loop_start()
        self.messages = 0
        self.positions = 0
        self.keys: set[tuple[str, str, int | None]] = set()   # (uid, ts, seq) sent
        self.uids: set[str] = set()

    def send(self, delivery: Delivery) -> None:
        self.client.publish(f"{self.root}/devices/{delivery.uid}/telemetry",
                            orjson.dumps(delivery.payload), qos=1)
        self.messages += 1
        self.positions += len(delivery.items)
        self.keys.update((delivery.uid, p["ts"], p.get("seq")) for p in delivery.items)
        self.uids.add(delivery.uid)

    def status(self, uid: str, status: str) -> None:
        self.client.publish(f"{self.root}/devices/{uid}/status", status, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def wait_subscribed(conn: asyncpg.Connection, gateway: Gateway, uid: str,
                          timeout_s: float = 60) -> None:
    """Until ingest takes a status message of this device (it has subscribed)."""
    deadline = time.monotonic() + timeout_s
    while await conn.fetchval("SELECT status FROM devices WHERE uid = $1", uid) != "online":
        if time.monotonic() > deadline:
            raise TimeoutError("ingest did not subscribe")
        gateway.status(uid, "online")
        await asyncio.sleep(0.5)


async def taken(conn: asyncpg.Connection, gateway: Gateway, uids: Sequence[str]) -> int:
    """Distinct positions of these devices ingest has dealt with: stored, or dead letters."""
    stored = await conn.fetchval(
        """SELECT count(*) FROM positions p JOIN devices d ON d.id = p.device_id
           WHERE d.uid = ANY($1::text[])""", list(uids))
    dead = await conn.fetchval(
        "SELECT count(*) FROM dead_letters WHERE topic LIKE $1", f"{gateway.root}/%")
    return int(stored) + int(dead)


async def publish_paced(conn: asyncpg.Connection, gateway: Gateway, deliveries: Iterable[Delivery],
                        uids: Sequence[str], ahead: int = 800, timeout_s: float = 600) -> None:
    """Publishes never more than `ahead` distinct positions beyond what ingest has taken (a
    broker with Mosquitto's default queue of 1,000 messages per client drops the rest), then
    waits until it has taken them all."""
    uids = sorted(set(uids))
    done = await taken(conn, gateway, uids)
    for delivery in deliveries:
        gateway.send(delivery)
        while _sent(gateway, uids) - done > ahead:
            await asyncio.sleep(0.1)
            done = await taken(conn, gateway, uids)
    await wait_stored(conn, gateway, uids, timeout_s)


def _sent(gateway: Gateway, uids: Sequence[str]) -> int:
    if gateway.uids <= set(uids):
        return len(gateway.keys)
    return sum(1 for k in gateway.keys if k[0] in uids)


async def wait_stored(conn: asyncpg.Connection, gateway: Gateway, uids: Iterable[str],
                      timeout_s: float = 600) -> None:
    """Until ingest has dealt with every distinct position sent: stored, or a dead letter."""
    uids = sorted(set(uids))
    wanted = _sent(gateway, uids)
    deadline = time.monotonic() + timeout_s
    while (got := await taken(conn, gateway, uids)) < wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"ingest took {got} of {wanted} positions")
        await asyncio.sleep(0.3)


async def rules_idle(conn: asyncpg.Connection, vehicle_ids: Sequence[int],
                     timeout_s: float = 1800) -> None:
    calm = 0
    deadline = time.monotonic() + timeout_s
    ids = list(vehicle_ids)
    while calm < 3:
        if time.monotonic() > deadline:
            raise TimeoutError("the rules worker did not catch up")
        await asyncio.sleep(0.5)
        dirty = await conn.fetchval(
            "SELECT count(*) FROM rule_dirty WHERE vehicle_id = ANY($1::int[])", ids)
        busy = await conn.fetchval(
            """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1
                 AND objid = ANY($2::oid[])""", LOCK_CLASS, ids)
        behind = await conn.fetchval(
            """SELECT count(*) FROM (SELECT vehicle_id, max(ts) AS ts FROM positions
                   WHERE vehicle_id = ANY($1::int[]) GROUP BY vehicle_id) p
               LEFT JOIN rule_vehicle_state s USING (vehicle_id)
               WHERE s.last_ts IS NULL OR s.last_ts < p.ts""", ids)
        calm = calm + 1 if not dirty and not busy and not behind else 0


async def verdicts_of(conn: asyncpg.Connection, days: Sequence[LabelledDay],
                      requests: dict[str, list[tuple[int, int]]],
                      ) -> tuple[dict[str, dict[str, str]], dict[str, int], Counter]:
    """Per day the highest severity per rule (retracted ones left out; R14 found by its
    request), the ALARM rows per day, and every violation counted by (rule, severity, state)."""
    ids = {r["plate"]: r["id"] for r in await conn.fetch("SELECT id, plate FROM vehicles")}
    by_car_day = {(ids[d.plate], d.day): d.id for d in days}
    by_request = {req: day_id for day_id, pairs in requests.items() for _, req in pairs}
    verdicts: dict[str, dict[str, str]] = defaultdict(dict)
    alarms: Counter = Counter()
    states: Counter = Counter()
    for v in await conn.fetch(
            """SELECT rule_id, severity, state, vehicle_id, local_day, request_id FROM violations
               WHERE rule_id <> 'PUBLIC'"""):
        states[(v["rule_id"], v["severity"], v["state"])] += 1
        if v["state"] == "retracted":
            continue
        day_id = by_request.get(v["request_id"]) if v["rule_id"] == "R14" else \
            by_car_day.get((v["vehicle_id"], v["local_day"]))
        if day_id is None:
            continue
        found = verdicts[day_id]
        if RANK[v["severity"]] > RANK[found.get(v["rule_id"])]:
            found[v["rule_id"]] = v["severity"]
        if v["severity"] == "alarm":
            alarms[day_id] += 1
    return dict(verdicts), dict(alarms), states
