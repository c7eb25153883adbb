"""Ingest throughput and latency: MQTT publish -> `fleet ingest` -> PostgreSQL rows, and
publish -> `fleet web` -> /ws/live sockets. Prints figures; not a test.

Everything runs against a private broker (a Mosquitto started here on a free port with a
generated config, or the platform's embedded amqtt broker), a fresh database on the local
PostgreSQL server, a unique Redis key prefix and MQTT topic root; all of it is removed on exit
(Ctrl-C included). The platform's processes are the real ones: `fleet migrate`, `fleet ingest`,
`fleet web`, `fleet user`.

Flood (default): N messages from M simulated devices as fast as the broker takes them.
    .venv/bin/python bench/ingest.py --broker mosquitto --batch 1
    .venv/bin/python bench/ingest.py --broker mosquitto --batch 10 --backlog
    .venv/bin/python bench/ingest.py --broker amqtt --batch 1
Paced latency run (5,000 vehicles x 1 Hz for 60 s, 20 websocket clients):
    .venv/bin/python bench/ingest.py --broker mosquitto --rate 5000 --devices 5000 \
        --duration 60 --ws-clients 20

Phases of a flood run, all with the same publishers (paho, QoS 1, `--publishers` processes,
each keeping `--window` messages unacknowledged):
  (a) ceiling: a bare paho subscriber (QoS 1, clean session, auto-ack, counts only) receives
      while the publishers publish; its rate is what this machine can push through the broker
      to one Python MQTT client.
  (b) pipeline: `fleet ingest` runs; the clock runs from the first publish until
      `SELECT count(*) FROM positions` reaches N (polled), plus rows/s between 10 % and 90 %.
  (c) b / a.
  backlog (--backlog, Mosquitto): N messages are queued for offline persistent sessions first
      (the bare subscriber's, clean_session false; ingest's, whose worker is SIGKILLed so that its
      subscriptions stay), then each consumer drains alone: the consumer's own rate, without the
      publishers competing for the two CPUs.
Latency (d) in paced runs: publish -> row from `--probe-vehicles` vehicles whose newest stored
`ts` is polled every `--probe-interval-ms`; publish -> websocket from every position item the
`--ws-clients` sockets receive. See bench/README.md for the method.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import orjson
import paho.mqtt.client as mqtt
from _common import (
    FLEET,
    VENV_BIN,
    Children,
    create_database,
    delete_redis_keys,
    drop_database,
    fmt_int,
    insert_fleet,
    load_average,
    run_fleet,
    start_broker,
)

from fleet.config import Settings
from fleet.mqtt_url import parse_mqtt_url
from fleet.stack import pick_port

WUHAN = (30.5928, 114.3055)
M_PER_DEG_LAT = 111_320.0
SHARED_SETTING = "ingest_shared_group"
GOALS = {"single": 20_000, "batched": 50_000, "ratio": 0.7, "ws_p99_ms": 300}


# --------------------------------------------------------------------------- simulated devices


@dataclass(frozen=True)
class Device:
    index: int
    uid: str
    vehicle_id: int
    lat0: float
    lon0: float
    heading_deg: int
    speed_kmh: float
    odometer0_km: float

    def fix(self, k: int, ts_ms: int, step_s: float) -> dict:
        """The k-th fix: the device drives a straight line at constant speed, one fix per step."""
        dist_m = self.speed_kmh / 3.6 * step_s * k
        rad = math.radians(self.heading_deg)
        lat = self.lat0 + dist_m * math.cos(rad) / M_PER_DEG_LAT
        lon = self.lon0 + dist_m * math.sin(rad) / (M_PER_DEG_LAT * math.cos(math.radians(self.lat0)))
        return {
            "ts": ts_ms, "lat": round(lat, 6), "lon": round(lon, 6), "speed_kmh": self.speed_kmh,
            "heading_deg": self.heading_deg, "acc": True, "fix": True,
            "odometer_km": round(self.odometer0_km + dist_m / 1000, 1), "seq": k,
        }


def make_devices(vehicle_ids: list[int], seed: int) -> list[Device]:
    rng = random.Random(seed)
    return [
        Device(
            index=i,
            uid=f"0199{i:08d}",
            vehicle_id=vid,
            lat0=WUHAN[0] + rng.uniform(-0.3, 0.3),
            lon0=WUHAN[1] + rng.uniform(-0.3, 0.3),
            heading_deg=rng.randrange(360),
            speed_kmh=round(rng.uniform(30, 60), 1),
            odometer0_km=round(rng.uniform(1_000, 150_000), 1),
        )
        for i, vid in enumerate(vehicle_ids)
    ]


# --------------------------------------------------------------------------- child processes
# Run through multiprocessing (spawn): plain functions, results sent back over a Pipe.


def _poll_recv(conn, timeout_s: float):  # noqa: ANN001, ANN202
    if not conn.poll(timeout_s):
        raise TimeoutError("no answer from the benchmark")
    return conn.recv()


def publisher_main(conn, spec: dict, devices: list[Device]) -> None:  # noqa: ANN001
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, EOFError):
        _publisher(conn, spec, devices)


def _publisher(conn, spec: dict, devices: list[Device]) -> None:  # noqa: ANN001, C901
    """Publishes this process's devices' messages: flood (as fast as the broker acks, with at
    most `window` unacknowledged) or paced (each device every `interval_s`). paho's network
    loop runs in this thread (loop()), which is faster than loop_start's extra thread."""
    address = parse_mqtt_url(spec["url"])
    state = {"acked": 0}

    def on_publish(client, userdata, mid, reason_code, properties):  # noqa: ANN001, ARG001
        state["acked"] += 1

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=spec["client_id"], clean_session=True,
        protocol=mqtt.MQTTv311,
    )
    client.max_inflight_messages_set(0)  # no paho limit (its per-ack rescan is O(limit)): the window bounds it
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect(address.host, address.port, keepalive=60)
    deadline = time.monotonic() + 30
    while not client.is_connected():
        client.loop(0.05)
        if time.monotonic() > deadline:
            raise TimeoutError("publisher could not connect")
    conn.send("ready")
    t0 = _poll_recv(conn, 600)
    while time.time() < t0:
        client.loop(min(0.05, max(0.0, t0 - time.time())))
    cpu0 = time.process_time()

    batch, root, window = spec["batch"], spec["root"], spec["window"]
    step_s, k0, paced = spec["step_s"], spec["k_offset"], spec["paced"]
    step_ms = int(step_s * 1000)
    topics = [f"{root}/devices/{d.uid}/telemetry" for d in devices]
    times: dict[tuple[int, int], float] = {}
    sent = positions = late = 0
    lag_max_ms = 0.0
    first_pub = last_pub = 0.0
    interval_s = spec.get("interval_s", 0.0)
    offsets = [d.index / spec["device_count"] * interval_s for d in devices]
    for m in range(spec["messages_per_device"]):
        for j, dev in enumerate(devices):
            if paced:
                due = t0 + m * interval_s + offsets[j]
                while (now := time.time()) < due:
                    client.loop(min(due - now, 0.005))
            while sent - state["acked"] >= window:
                client.loop(0.01)
            pub_s = time.time()
            pub_ms = pub_s * 1000
            k = k0 + m * batch
            if paced:
                lag = pub_s - due
                lag_max_ms = max(lag_max_ms, lag * 1000)
                late += lag > 0.05
                newest = int(pub_ms)  # a terminal stamps its fix and sends it at once
                stamps = [newest - (batch - 1 - i) * step_ms for i in range(batch)]
            else:
                stamps = [spec["ts0_ms"] + (k + i) * step_ms for i in range(batch)]
            fixes = [dev.fix(k + i, stamps[i], step_s) for i in range(batch)]
            payload = orjson.dumps(fixes[0] if batch == 1 else fixes)
            client.publish(topics[j], payload, qos=1)
            if not first_pub:
                first_pub = pub_s
            last_pub = pub_s
            sent += 1
            positions += batch
            if spec["record"]:
                for ts in stamps:
                    times[(dev.vehicle_id, ts)] = pub_ms
        client.loop(0)
    deadline = time.monotonic() + 300
    while state["acked"] < sent and time.monotonic() < deadline:
        client.loop(0.05)
    last_ack = time.time()
    client.disconnect()
    conn.send({
        "published": sent, "positions": positions, "acked": state["acked"],
        "first_pub": first_pub, "last_pub": last_pub, "last_ack": last_ack,
        "lag_max_ms": lag_max_ms, "late": late, "times": times,
        "cpu_s": time.process_time() - cpu0,
    })


def subscriber_main(conn, spec: dict) -> None:  # noqa: ANN001
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, EOFError):
        _subscriber(conn, spec)


def _subscriber(conn, spec: dict) -> None:  # noqa: ANN001
    """The ceiling: a bare paho subscriber, QoS 1, auto-ack (paho PUBACKs when on_message
    returns), counting; with `record`, the newest ts of each message for latency."""
    import threading

    address = parse_mqtt_url(spec["url"])
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=spec["client_id"],
        clean_session=spec["clean_session"], protocol=mqtt.MQTTv311,
    )
    got = {"n": 0, "first": 0.0, "last": 0.0}
    samples: list[tuple[str, int, float]] = []
    done, subscribed = threading.Event(), threading.Event()
    expected, record = spec["expected"], spec["record"]

    def on_message(c, userdata, message):  # noqa: ANN001, ARG001
        now = time.time()
        if not got["first"]:
            got["first"] = now
        got["last"] = now
        got["n"] += 1
        if record:
            body = orjson.loads(message.payload)
            newest = body[-1]["ts"] if isinstance(body, list) else body["ts"]
            samples.append((message.topic, newest, now * 1000))
        if got["n"] >= expected:
            done.set()

    def on_connect(c, userdata, flags, reason_code, properties):  # noqa: ANN001, ARG001
        c.subscribe(spec["topic"], qos=1)

    client.on_message = on_message
    client.on_connect = on_connect
    client.on_subscribe = lambda *args: subscribed.set()
    t_connect = time.time()
    client.connect(address.host, address.port, keepalive=60)
    client.loop_start()
    if not subscribed.wait(30):
        raise TimeoutError("subscriber: no SUBACK")
    if spec["mode"] == "register":  # a persistent session that the broker now queues for
        client.disconnect()
        client.loop_stop()
        conn.send("registered")
        return
    conn.send("ready")
    while not done.wait(0.2):
        if conn.poll():
            conn.recv()
            break
    client.disconnect()
    client.loop_stop()
    conn.send({"received": got["n"], "t_connect": t_connect, "first": got["first"],
               "last": got["last"], "samples": samples})


def ws_main(conn, spec: dict) -> None:  # noqa: ANN001
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, EOFError):
        asyncio.run(_ws_clients(conn, spec))


async def _ws_clients(conn, spec: dict) -> None:  # noqa: ANN001
    """K console-like sockets on /ws/live: each waits for its snapshot, then stamps every
    position item with the wall time its message came off the socket."""
    import websockets

    vids, tss, recv = array("q"), array("q"), array("d")
    per_client = [0] * len(spec["cookies"])
    snapshots = 0
    all_ready = asyncio.Event()

    async def one(i: int, cookie: str) -> None:
        nonlocal snapshots
        async with websockets.connect(
            spec["url"], additional_headers={"Cookie": cookie}, max_size=None, open_timeout=60
        ) as ws:
            while True:
                message = orjson.loads(await ws.recv())
                if message.get("type") == "snapshot":
                    break
            snapshots += 1
            if snapshots == len(per_client):
                all_ready.set()
            async for raw in ws:
                now = time.time() * 1000
                message = orjson.loads(raw)
                if message.get("type") != "positions":
                    continue
                items = message["items"]
                per_client[i] += len(items)
                for item in items:
                    vids.append(item["vehicle_id"])
                    tss.append(item["ts_ms"])
                    recv.append(now)

    tasks = [asyncio.create_task(one(i, c)) for i, c in enumerate(spec["cookies"])]
    waiter = asyncio.create_task(all_ready.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED, timeout=120)
    for task in tasks:
        if task.done() and task.exception() is not None:
            raise task.exception()
    if not all_ready.is_set():
        raise TimeoutError(f"only {snapshots} of {len(per_client)} sockets got their snapshot")
    conn.send("ready")
    cpu0, wall0 = time.process_time(), time.monotonic()
    while not conn.poll():
        await asyncio.sleep(0.05)
    conn.recv()  # stop
    cpu_pct = 100 * (time.process_time() - cpu0) / max(time.monotonic() - wall0, 1e-9)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    while not conn.poll():
        await asyncio.sleep(0.05)
    published: dict[tuple[int, int], float] = conn.recv()
    latencies = array("d")
    unmatched = 0
    for vid, ts, at in zip(vids, tss, recv, strict=True):
        pub = published.get((vid, ts))
        if pub is None:
            unmatched += 1
        else:
            latencies.append(at - pub)
    conn.send({
        "latencies": np.frombuffer(latencies, dtype=np.float64).copy(),
        "items": len(vids), "unmatched": unmatched, "per_client": per_client, "cpu_pct": cpu_pct,
    })


# --------------------------------------------------------------------------- the run


@dataclass
class PhaseResult:
    name: str
    figures: dict[str, object] = field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pid = os.getpid()
        self.children = Children()
        self.ctx = mp.get_context("spawn")
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench_ingest_{self.pid}_"))
        self.db_name = f"bench_ingest_{self.pid}"
        self.prefix = f"bench{self.pid}"
        self.root = f"bench{self.pid}/v1"
        self.redis_url = os.environ.get("FLEET_REDIS_URL") or "redis://127.0.0.1:6379/0"
        self.db_url = ""
        self.mqtt_url = ""
        self.env: dict[str, str] = {}
        self.devices: list[Device] = []
        self.k_next = 0  # next fix index of every device (each phase continues the lines)
        self.ingests: list[subprocess.Popen] = []
        self.probes_sent = 0
        self.mp_procs: list = []
        self.results: list[PhaseResult] = []
        self.notes: list[str] = []
        self.tasks: list[asyncio.Task] = []  # pollers: cancelled before the database goes

    # ---- setup

    async def setup(self) -> None:
        args = self.args
        self.mqtt_url, self.broker_desc = start_broker(
            args.broker, self.children, self.workdir, inflight=args.broker_inflight
        )
        self.db_url = await create_database(self.db_name)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
        self.env.update(
            FLEET_DATABASE_URL=self.db_url, FLEET_REDIS_URL=self.redis_url,
            FLEET_MQTT_URL=self.mqtt_url, FLEET_REDIS_PREFIX=self.prefix,
            FLEET_MQTT_TOPIC_ROOT=self.root, FLEET_SECRET_KEY=secrets.token_urlsafe(32),
            FLEET_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
            # the ingest spool (and anything else a process keeps on disk) goes with the run
            FLEET_DATA_DIR=str(self.workdir),
        )
        for item in args.ingest_env:
            name, _, value = item.partition("=")
            self.env[name] = value
        run_fleet(["migrate"], self.env)
        vehicle_ids = await self.insert_fleet(args.devices)
        self.devices = make_devices(vehicle_ids, seed=args.seed)

    async def insert_fleet(self, count: int) -> list[int]:
        conn = await asyncpg.connect(self.db_url)
        try:
            return [vid for vid, _, _ in await insert_fleet(conn, count, report_interval_s=1)]
        finally:
            await conn.close()

    # ---- processes

    def start_ingests(self) -> None:
        shared = SHARED_SETTING in Settings.model_fields
        for w in range(self.args.workers):
            env = dict(self.env, FLEET_INGEST_CLIENT_ID=f"bench-ingest-{self.pid}-{w}")
            if "ingest_metrics_port" in Settings.model_fields:  # never another process's port
                env.setdefault("FLEET_INGEST_METRICS_PORT", str(pick_port(0)))
            if self.args.workers > 1 and shared:
                env[f"FLEET_{SHARED_SETTING.upper()}"] = f"bench{self.pid}"
            log = self.workdir / f"ingest-{w}.log"
            self.ingests.append(self.children.start(f"ingest-{w}", [FLEET, "ingest"], env=env, log=log))

    def stop_ingests(self, sig: int = signal.SIGTERM) -> None:
        for proc in self.ingests:
            self.children.stop(proc, sig=sig, timeout_s=60)
        self.ingests = []

    async def wait_ingest_ready(self, timeout_s: float = 90) -> None:
        """Subscribed and through the whole pipeline: a position from an unregistered device
        must come out as an `unknown_device` dead letter."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        address = parse_mqtt_url(self.mqtt_url)
        client.connect(address.host, address.port)
        client.loop_start()
        conn = await asyncpg.connect(self.db_url)
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                for proc in self.ingests:
                    if proc.poll() is not None:
                        raise SystemExit(f"fleet ingest exited with {proc.returncode}:\n{self.log_tail('ingest-0')}")
                self.probes_sent += 1
                body = {"ts": int(time.time() * 1000), "lat": WUHAN[0], "lon": WUHAN[1], "seq": self.probes_sent}
                client.publish(f"{self.root}/devices/bench-probe/telemetry", orjson.dumps(body), qos=1)
                for _ in range(10):
                    await asyncio.sleep(0.1)
                    if await conn.fetchval("SELECT count(*) FROM dead_letters") > 0:
                        await self.wait_all_connected(deadline)
                        return
            raise SystemExit(f"fleet ingest not ready in {timeout_s} s:\n{self.log_tail('ingest-0')}")
        finally:
            await conn.close()
            client.loop_stop()
            client.disconnect()

    async def wait_all_connected(self, deadline: float) -> None:
        """With several workers the probe proves only one: wait for each one's log to say it
        connected (the wording of telemetry/mqtt_source.py; a note if it never does)."""
        logs = [self.workdir / f"ingest-{w}.log" for w in range(len(self.ingests))]
        while time.monotonic() < deadline:
            if all("MQTT connected" in log.read_text(errors="replace") for log in logs):
                return
            await asyncio.sleep(0.1)
        self.notes.append("not every worker's log said 'MQTT connected' before phase (b)")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def start_web(self) -> tuple[str, list[str]]:
        """`fleet web`, an admin user made with `fleet user`, K logins (one session each)."""
        port = pick_port(0)
        env = dict(self.env, FLEET_HTTP_PORT=str(port), FLEET_LOG_LEVEL="WARNING")
        proc = self.children.start("web", [FLEET, "web"], env=env, log=self.workdir / "web.log")
        self.web = proc
        password = secrets.token_urlsafe(16)
        run_fleet(["user", "bench", "--org", "BENCH", "--role", "admin", "--cleared"],
                  dict(self.env, FLEET_NEW_USER_PASSWORD=password))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"fleet web exited:\n{self.log_tail('web')}")
                with contextlib.suppress(httpx.HTTPError):
                    health = await http.get("/healthz")
                    if health.status_code == 200 and health.json()["checks"].get("live_feed") == "ok":
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"fleet web not healthy in 90 s:\n{self.log_tail('web')}")
                await asyncio.sleep(0.2)
            cookies = []
            for _ in range(self.args.ws_clients):
                http.cookies.clear()  # a login with a session cookie ends that session
                answer = await http.post("/api/v1/auth/login", json={"username": "bench", "password": password})
                answer.raise_for_status()
                cookies.append("; ".join(f"{k}={v}" for k, v in answer.cookies.items()))
        return base.replace("http://", "ws://") + "/ws/live", cookies

    def spawn(self, target, *args):  # noqa: ANN001, ANN202
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=target, args=(child, *args), daemon=True)
        proc.start()
        self.mp_procs.append(proc)
        return proc, parent

    async def recv(self, conn, timeout_s: float, proc=None):  # noqa: ANN001, ANN202
        deadline = time.monotonic() + timeout_s
        while not conn.poll():
            if proc is not None and not proc.is_alive() and not conn.poll():
                raise SystemExit(f"a benchmark child ({proc.name}) died with {proc.exitcode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer from a benchmark child in {timeout_s:g} s")
            await asyncio.sleep(0.02)
        return conn.recv()

    async def finish_subscriber(self, proc, conn, grace_s: float) -> dict:  # noqa: ANN001
        """Its result once it has everything, or what it has after `grace_s` (lost messages)."""
        try:
            return await self.recv(conn, grace_s, proc)
        except TimeoutError:
            conn.send("stop")
            got = await self.recv(conn, 30, proc)
            self.notes.append(f"the bare subscriber stopped waiting with {got['received']:,} messages")
            return got

    # ---- publishing

    def publisher_specs(self, *, messages_per_device: int, paced: bool, record: bool) -> list[tuple[dict, list[Device]]]:
        args = self.args
        b = args.batch
        hz = args.rate / len(self.devices) if paced else 1.0  # positions per device per second
        step_s = 1 / hz
        specs = []
        for p in range(args.publishers):
            devices = self.devices[p :: args.publishers]
            specs.append(({
                "url": self.mqtt_url, "client_id": f"bench-pub-{self.pid}-{p}-{self.k_next}",
                "root": self.root, "batch": b, "window": args.window, "paced": paced,
                "interval_s": b * step_s, "step_s": step_s, "k_offset": self.k_next,
                "messages_per_device": messages_per_device, "device_count": len(self.devices),
                "ts0_ms": self.ts0_ms, "record": record,
            }, devices))
        self.k_next += messages_per_device * b
        return specs

    async def start_publishers(self, specs) -> list:  # noqa: ANN001
        pubs = [self.spawn(publisher_main, spec, devices) for spec, devices in specs]
        for proc, conn in pubs:
            assert await self.recv(conn, 60, proc) == "ready"
        return pubs

    async def go(self, pubs) -> float:  # noqa: ANN001
        t0 = time.time() + 0.3
        for _, conn in pubs:
            conn.send(t0)
        return t0

    async def publisher_results(self, pubs, timeout_s: float) -> dict:  # noqa: ANN001
        results = [await self.recv(conn, timeout_s, proc) for proc, conn in pubs]
        for proc, _ in pubs:
            proc.join(10)
        times: dict[tuple[int, int], float] = {}
        for r in results:
            times.update(r.pop("times"))
        return {
            "published": sum(r["published"] for r in results),
            "positions": sum(r["positions"] for r in results),
            "acked": sum(r["acked"] for r in results),
            "first_pub": min(r["first_pub"] for r in results),
            "last_pub": max(r["last_pub"] for r in results),
            "last_ack": max(r["last_ack"] for r in results),
            "lag_max_ms": max(r["lag_max_ms"] for r in results),
            "late": sum(r["late"] for r in results),
            "cpu_s": sum(r["cpu_s"] for r in results),
            "times": times,
        }

    def messages_per_device(self) -> int:
        args = self.args
        if args.rate:
            interval_s = args.batch * len(self.devices) / args.rate
            return max(1, int(args.duration / interval_s))
        return max(1, math.ceil(args.messages / len(self.devices)))

    # ---- phases

    async def phase_ceiling(self) -> PhaseResult:
        """(a) a bare paho subscriber while the publishers publish."""
        args = self.args
        paced = bool(args.rate)
        mpd = self.messages_per_device()
        if paced:  # a shorter paced baseline: the broker's own latency at the same rate
            interval_s = args.batch * len(self.devices) / args.rate
            mpd = max(1, int(args.baseline_s / interval_s))
        expected = mpd * len(self.devices)
        sub, sub_conn = self.spawn(subscriber_main, {
            "url": self.mqtt_url, "client_id": f"bench-sub-{self.pid}", "clean_session": True,
            "topic": f"{self.root}/devices/+/telemetry", "expected": expected, "mode": "consume",
            "record": paced,
        })
        assert await self.recv(sub_conn, 60, sub) == "ready"
        pubs = await self.start_publishers(self.publisher_specs(messages_per_device=mpd, paced=paced, record=paced))
        cpu = CpuMeter({"broker": self.children_pid("mosquitto", "amqtt")})
        await self.go(pubs)
        timeout = (mpd * args.batch * len(self.devices) / args.rate + 120) if paced else max(300, expected / 200)
        pub = await self.publisher_results(pubs, timeout)
        got = await self.finish_subscriber(sub, sub_conn, grace_s=30 + expected / 2000)
        cpu_use = cpu.stop()
        sub.join(10)
        b = args.batch
        res = PhaseResult("ceiling")
        res.figures.update(
            messages=pub["published"], positions=pub["positions"], received=got["received"],
            publish_rate=pub["positions"] / max(pub["last_ack"] - pub["first_pub"], 1e-9),
            rate=got["received"] * b / max(got["last"] - pub["first_pub"], 1e-9),
            cpu=cpu_use, lag_max_ms=pub["lag_max_ms"], late=pub["late"],
        )
        if paced:
            uid_vid = {f"{self.root}/devices/{d.uid}/telemetry": d.vehicle_id for d in self.devices}
            lat = [at - pub["times"][(uid_vid[topic], ts)] for topic, ts, at in got["samples"]]
            res.figures["sub_latency"] = np.array(lat)
        return res

    async def phase_pipeline(self) -> PhaseResult:
        """(b) `fleet ingest` consuming while the publishers publish; (d) latencies."""
        args = self.args
        paced = bool(args.rate)
        mpd = self.messages_per_device()
        ws = ws_conn = None
        if args.ws_clients:
            url, cookies = await self.start_web()
            ws, ws_conn = self.spawn(ws_main, {"url": url, "cookies": cookies})
            assert await self.recv(ws_conn, 180, ws) == "ready"
        conn = await asyncpg.connect(self.db_url)
        before = await conn.fetchval("SELECT count(*) FROM positions")
        await conn.close()
        specs = self.publisher_specs(messages_per_device=mpd, paced=paced, record=True)
        expected = mpd * len(self.devices) * args.batch
        pubs = await self.start_publishers(specs)
        probes = self.probe_vehicles()
        counter = CountPoller(self.db_url, before + expected, min_interval_s=0.5 if paced else 0.1)
        prober = ProbePoller(self.db_url, probes, args.probe_interval_ms / 1000)
        await counter.open()
        await prober.open()
        pollers = [counter.conn.get_server_pid(), prober.conn.get_server_pid()]
        cpu = CpuMeter({
            "ingest": [p.pid for p in self.ingests], "broker": self.children_pid("mosquitto", "amqtt"),
            "postgres (this database)": await self.pg_backends(exclude=pollers),
            "postgres (bench pollers)": pollers,
            **({"web": [self.web.pid], "websocket clients": [ws.pid]} if args.ws_clients else {}),
        })
        t0 = await self.go(pubs)
        profile = self.start_profile("pipeline", t0) if args.profile else None
        prober_task = asyncio.create_task(prober.run())
        self.tasks.append(prober_task)
        timeout = (mpd * args.batch * len(self.devices) / args.rate + 180) if paced else max(300, expected / 200)
        counter_task = asyncio.create_task(counter.run(timeout))
        self.tasks.append(counter_task)
        pub = await self.publisher_results(pubs, timeout)
        await counter_task
        await asyncio.sleep(0.5)  # the last websocket frames
        prober.stop()
        await prober_task
        cpu_use = cpu.stop({"postgres (this database)": await self.pg_backends(exclude=pollers)},
                           exited={"publishers": pub["cpu_s"]})
        await counter.close()
        await prober.close()
        res = PhaseResult("pipeline")
        ws_summary = None
        if ws_conn is not None:
            ws_conn.send("stop")
            ws_conn.send(pub["times"])
            ws_summary = await self.recv(ws_conn, 300, ws)
        done_at = counter.reached_at
        stored = counter.series[-1][1] - before if counter.series else 0
        res.figures.update(
            messages=pub["published"], positions=pub["positions"], stored=stored,
            publish_rate=pub["positions"] / max(pub["last_ack"] - pub["first_pub"], 1e-9),
            rate=(stored / (done_at - pub["first_pub"])) if done_at else None,
            steady=counter.steady_rate(before, expected),
            drain_after_last_publish_s=(done_at - pub["last_pub"]) if done_at else None,
            poll_s=counter.median_interval(), cpu=cpu_use,
            lag_max_ms=pub["lag_max_ms"], late=pub["late"],
        )
        res.figures["row_latency"], res.figures["row_missing"] = prober.latencies(pub["times"])
        res.figures["probe_resolution_ms"] = prober.median_interval() * 1000
        if ws_summary is not None:
            res.figures["ws"] = ws_summary
        if profile is not None:
            res.figures["profile"] = self.finish_profile(profile)
        return res

    async def phase_backlog(self) -> list[PhaseResult]:
        """Queue N for offline persistent sessions, then let each consumer drain alone."""
        args = self.args
        mpd = self.messages_per_device()
        expected_msgs = mpd * len(self.devices)
        expected = expected_msgs * args.batch
        client_id = f"bench-backlog-{self.pid}"
        sub_spec = {
            "url": self.mqtt_url, "client_id": client_id, "clean_session": False,
            "topic": f"{self.root}/devices/+/telemetry", "expected": expected_msgs,
            "mode": "register", "record": False,
        }
        reg, reg_conn = self.spawn(subscriber_main, sub_spec)
        assert await self.recv(reg_conn, 60, reg) == "registered"
        reg.join(10)
        # SIGKILL: the worker's persistent session keeps its subscriptions (a graceful stop
        # unsubscribes first), so the broker queues for it as for a crashed worker
        self.stop_ingests(sig=signal.SIGKILL)
        conn = await asyncpg.connect(self.db_url)
        before = await conn.fetchval("SELECT count(*) FROM positions")
        await conn.close()
        pubs = await self.start_publishers(
            self.publisher_specs(messages_per_device=mpd, paced=False, record=False))
        await self.go(pubs)
        pub = await self.publisher_results(pubs, max(300, expected_msgs / 200))
        queued = PhaseResult("backlog-publish")
        queued.figures["publish_rate"] = pub["positions"] / max(pub["last_ack"] - pub["first_pub"], 1e-9)
        # the bare subscriber drains its queue alone
        sub, sub_conn = self.spawn(subscriber_main, dict(sub_spec, mode="consume"))
        cpu = CpuMeter({"broker": self.children_pid("mosquitto", "amqtt")})
        assert await self.recv(sub_conn, 60, sub) == "ready"
        got = await self.finish_subscriber(sub, sub_conn, grace_s=max(300, expected_msgs / 200))
        sub.join(10)
        bare = PhaseResult("backlog-bare")
        bare.figures.update(
            received=got["received"], cpu=cpu.stop(),
            rate=got["received"] * args.batch / max(got["last"] - got["t_connect"], 1e-9),
        )
        # ingest drains its queue alone (process start included in `rate`, not in `steady`)
        counter = CountPoller(self.db_url, before + expected)
        await counter.open()
        t_start = time.time()
        self.start_ingests()
        cpu = CpuMeter({"ingest": [p.pid for p in self.ingests],
                        "broker": self.children_pid("mosquitto", "amqtt")})
        self.drain_pg = set()
        profile = self.start_profile("backlog", t_start) if args.profile else None
        await counter.run(max(300, expected / 200), on_poll=self.note_backends)
        await counter.close()
        drain = PhaseResult("backlog-ingest")
        stored = counter.series[-1][1] - before if counter.series else 0
        first_row = next((t for t, c in counter.series if c > before), None)
        drain.figures.update(
            stored=stored, expected=expected,
            cpu=cpu.stop({"postgres (this database)": sorted(self.drain_pg)}),
            rate=(stored / (counter.reached_at - t_start)) if counter.reached_at else None,
            from_first_row=(stored / (counter.reached_at - first_row))
            if counter.reached_at and first_row and counter.reached_at > first_row else None,
            steady=counter.steady_rate(before, expected), poll_s=counter.median_interval(),
        )
        if profile is not None:
            drain.figures["profile"] = self.finish_profile(profile)
        return [queued, bare, drain]

    async def pg_backends(self, exclude: list[int] = ()) -> list[int]:  # noqa: B006
        conn = await asyncpg.connect(self.db_url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.db_name)
        finally:
            await conn.close()
        return [r["pid"] for r in rows if r["pid"] not in exclude]

    async def note_backends(self, conn: asyncpg.Connection) -> None:
        """During the drain: remember the ingest's backends (its pool grows on demand)."""
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.db_name)
        self.drain_pg.update(r["pid"] for r in rows if r["pid"] != conn.get_server_pid())

    def probe_vehicles(self) -> list[int]:
        n = min(self.args.probe_vehicles, len(self.devices))
        if n <= 0:
            return []
        step = len(self.devices) / n
        return [self.devices[int(i * step)].vehicle_id for i in range(n)]

    def children_pid(self, *names: str) -> list[int]:
        return [p.pid for n, p in self.children._procs if n in names]

    # ---- profiling

    def start_profile(self, label: str, t0: float) -> tuple[subprocess.Popen, Path, float]:
        args = self.args
        out = Path(args.profile_dir) / f"bench_ingest_{self.pid}_{label}.pyspy.txt"
        duration = args.profile_s
        wait_s = max(0.0, t0 - time.time())
        time.sleep(wait_s)
        proc = self.children.start(
            "py-spy",
            [str(VENV_BIN / "py-spy"), "record", "--pid", str(self.ingests[0].pid), "--format", "raw",
             "--nolineno", "--threads", "--nonblocking", "--rate", "100", "-d", str(math.ceil(duration)),
             "-o", str(out)],
            log=self.workdir / f"py-spy-{label}.log",
        )
        return proc, out, time.monotonic() + math.ceil(duration)

    def finish_profile(self, profile: tuple[subprocess.Popen, Path, float]) -> str:
        proc, out, ends_at = profile
        if ends_at - time.monotonic() < 3:  # about to end by itself: let it write undisturbed
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, ends_at - time.monotonic()) + 10)
        # SIGINT makes py-spy write what it has (the phase may end before its duration)
        self.children.stop(proc, sig=signal.SIGINT, timeout_s=30)
        if not out.exists():
            label = out.name.split("_")[-1].split(".")[0]
            return f"py-spy wrote nothing:\n{self.log_tail(f'py-spy-{label}')}"
        return summarise_profile(out, self.args.profile_top)

    # ---- the whole run

    async def run(self) -> None:
        args = self.args
        print(f"ingest benchmark: pid {self.pid}, work dir {self.workdir}, load average {load_average()}",
              flush=True)
        await self.setup()
        per_device_positions = self.messages_per_device() * args.batch
        self.ts0_ms = int(time.time() * 1000) - (4 * per_device_positions + 120) * 1000
        print(f"broker: {self.broker_desc}\ndatabase: {self.db_name}; {len(self.devices)} vehicles "
              f"and devices; topic root {self.root}; Redis prefix {self.prefix}", flush=True)
        self.load_before = load_average()
        print("phase (a): bare subscriber ...", flush=True)
        self.results.append(await self.phase_ceiling())
        self.start_ingests()
        await self.wait_ingest_ready()
        print(f"phase (b): fleet ingest x{args.workers}"
              f"{f' + fleet web with {args.ws_clients} sockets' if args.ws_clients else ''} ...",
              flush=True)
        self.results.append(await self.phase_pipeline())
        if args.backlog:
            print("backlog: queue, then drain alone ...", flush=True)
            self.results.extend(await self.phase_backlog())
        self.load_after = load_average()
        self.stop_ingests()
        await self.report()

    async def report(self) -> None:  # noqa: C901
        args = self.args
        by = {r.name: r.figures for r in self.results}
        ceiling, pipe = by["ceiling"], by["pipeline"]
        paced = bool(args.rate)
        mode = (f"paced {args.rate:g} positions/s for {args.duration:g} s" if paced
                else f"flood {pipe['messages']:,} messages")
        print()
        print(f"== ingest: broker {args.broker}, --batch {args.batch}, {mode}, {len(self.devices):,} devices, "
              f"{args.publishers} publisher process(es), window {args.window}, {args.workers} ingest worker(s)")
        print(f"   load average before {self.load_before}, after {self.load_after} (2 shared cores: figures are noisy)")
        rows: list[tuple[str, str, str]] = []
        goal_rate = GOALS["single"] if args.batch == 1 else GOALS["batched"]
        rows.append(("publishers, broker acks (phase a)", f"{fmt_int(ceiling['publish_rate'])} pos/s", ""))
        rows.append(("(a) bare paho subscriber, live", f"{fmt_int(ceiling['rate'])} pos/s",
                     f"{ceiling['received']:,}/{ceiling['messages']:,} msgs"))
        rows.append(("publishers, broker acks (phase b)", f"{fmt_int(pipe['publish_rate'])} pos/s", ""))
        b_rate = pipe["rate"]
        rows.append(("(b) rows durable, first publish -> N", f"{fmt_int(b_rate)} pos/s",
                     "" if paced else f"goal >= {goal_rate:,}"))
        rows.append(("    rows/s, steady 10-90 %", f"{fmt_int(pipe['steady'])} pos/s",
                     f"count(*) polled every ~{pipe['poll_s'] * 1000:.0f} ms"))
        rows.append(("    stored / published", f"{pipe['stored']:,} / {pipe['positions']:,}",
                     "" if pipe["stored"] == pipe["positions"] else "MISSING ROWS"))
        if pipe["drain_after_last_publish_s"] is not None:
            rows.append(("    N reached after the last publish", f"{pipe['drain_after_last_publish_s']:.2f} s", ""))
        ratio = (b_rate / ceiling["rate"]) if b_rate and ceiling["rate"] else None
        if not paced:
            rows.append(("(c) b / a", "n/a" if ratio is None else f"{ratio:.2f}",
                         f"goal >= {GOALS['ratio']}" if args.batch == 1 else ""))
        if paced:
            trailing = pipe["drain_after_last_publish_s"]
            kept_up = trailing is not None and trailing < 2
            rows.append(("    ingest kept up with the rate", "yes" if kept_up else "NO",
                         "N reached within 2 s of the last publish" if kept_up
                         else "rows trailed the publishers: latency below is queueing"))
            rows.append(("publisher schedule", f"max lag {pipe['lag_max_ms']:.0f} ms",
                         f"{pipe['late']:,} messages > 50 ms late"))
            sub_lat = ceiling.get("sub_latency")
            if sub_lat is not None and len(sub_lat):
                rows.append(("(d0) publish -> bare subscriber p50/p99", pct_text(sub_lat),
                             f"{len(sub_lat):,} msgs, baseline {args.baseline_s:g} s"))
        lat = pipe["row_latency"]
        note = f"{len(lat):,} rows of {len(self.probe_vehicles())} probe vehicles, ±{pipe['probe_resolution_ms']:.0f} ms"
        if pipe["row_missing"]:
            note += f", {pipe['row_missing']:,} never seen"
        rows.append(("(d) publish -> row p50/p99" + ("" if paced else " (queueing)"),
                     pct_text(lat), note))
        ws = pipe.get("ws")
        if ws is not None:
            ws_lat = ws["latencies"]
            p99 = float(np.percentile(ws_lat, 99)) if len(ws_lat) else math.nan
            rows.append(("(d) publish -> websocket p50/p99" + ("" if paced else " (queueing)"),
                         pct_text(ws_lat),
                         (f"goal p99 <= {GOALS['ws_p99_ms']} ms {'MET' if p99 <= GOALS['ws_p99_ms'] else 'MISSED'}; "
                          if paced else "")
                         + f"{len(ws_lat):,} items on {len(ws['per_client'])} sockets"))
            expected_items = pipe["positions"] * len(ws["per_client"])
            rows.append(("    websocket items / positions x sockets",
                         f"{ws['items']:,} / {expected_items:,}",
                         f"coalesced per vehicle; client process CPU {ws['cpu_pct']:.0f} %"))
        if "backlog-bare" in by:
            bare, drain, queued = by["backlog-bare"], by["backlog-ingest"], by["backlog-publish"]
            rows.append(("backlog: publishers, no consumer online", f"{fmt_int(queued['publish_rate'])} pos/s", ""))
            rows.append(("(a') bare subscriber drains alone", f"{fmt_int(bare['rate'])} pos/s",
                         f"{bare['received']:,} msgs"))
            rows.append(("(b') ingest drains alone, from start", f"{fmt_int(drain['rate'])} pos/s",
                         f"{drain['stored']:,}/{drain['expected']:,} rows; process start included"))
            rows.append(("    from first row / steady 10-90 %",
                         f"{fmt_int(drain['from_first_row'])} / {fmt_int(drain['steady'])} pos/s",
                         f"goal >= {goal_rate:,}"))
            if bare["rate"] and drain["steady"]:
                rows.append(("(c') b' steady / a'", f"{drain['steady'] / bare['rate']:.2f}", ""))
        width = max(len(r[0]) for r in rows) + 2
        vwidth = max(len(r[1]) for r in rows) + 2
        for label, value, extra in rows:
            print(f"   {label:<{width}}{value:<{vwidth}}{extra}")
        print("   CPU (% of one core) over phase (b): " + cpu_text(pipe["cpu"]))
        if "backlog-ingest" in by:
            print("   CPU over the ingest backlog drain: " + cpu_text(by["backlog-ingest"]["cpu"]))
        await self.report_ingest_health()
        for note in self.notes:
            print(f"   NOTE: {note}")
        for name in ("pipeline", "backlog-ingest"):
            if name in by and "profile" in by[name]:
                print(f"\n-- py-spy on fleet ingest during {name} --")
                print(by[name]["profile"])

    async def report_ingest_health(self) -> None:
        conn = await asyncpg.connect(self.db_url)
        try:
            rows = await conn.fetch(
                "SELECT reason, count(*) AS n FROM dead_letters WHERE device_uid IS DISTINCT FROM 'bench-probe' GROUP BY 1")
        finally:
            await conn.close()
        if rows:
            print("   DEAD LETTERS (the generated positions should all be usable): "
                  + ", ".join(f"{r['reason']}={r['n']}" for r in rows))
        for log in sorted(self.workdir.glob("ingest-*.log")):
            stats = [line for line in log.read_text(errors="replace").splitlines() if "ingest stopped:" in line]
            if stats:
                print(f"   {log.stem} {stats[-1].split('ingest stopped:', 1)[1].strip()}")

    async def cleanup(self, failed: bool) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for proc in self.mp_procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        self.children.stop_all()
        if self.db_url and not self.args.keep:
            with contextlib.suppress(Exception):
                await drop_database(self.db_name)
        elif self.db_url:
            print(f"kept database {self.db_name}")
        with contextlib.suppress(Exception):
            delete_redis_keys(self.redis_url, self.prefix)
        if failed:
            print(f"logs kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


class CountPoller:
    """`SELECT count(*) FROM positions` until it reaches `target`; (poll start, count) pairs.
    A count is what the statement's snapshot, taken as it starts, sees."""

    def __init__(self, database_url: str, target: int, min_interval_s: float = 0.1) -> None:
        self.database_url = database_url
        self.target = target
        self.min_interval_s = min_interval_s
        self.series: list[tuple[float, int]] = []
        self.reached_at: float | None = None

    async def open(self) -> None:
        self.conn = await asyncpg.connect(self.database_url)

    async def close(self) -> None:
        await self.conn.close()

    async def run(self, timeout_s: float, on_poll=None) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout_s
        last_change = time.monotonic()
        polls = 0
        while time.monotonic() < deadline:
            started = time.time()
            count = await self.conn.fetchval("SELECT count(*) FROM positions")
            took = time.time() - started
            polls += 1
            if on_poll is not None and polls % 10 == 1:
                await on_poll(self.conn)
            if self.series and count != self.series[-1][1]:
                last_change = time.monotonic()
            self.series.append((started, count))
            if count >= self.target:
                self.reached_at = started
                return
            if time.monotonic() - last_change > 60 and len(self.series) > 10:
                return  # stuck: rows lost
            await asyncio.sleep(max(self.min_interval_s, 4 * took))  # <= 20 % of a backend

    def steady_rate(self, base: int, expected: int) -> float | None:
        lo, hi = base + 0.1 * expected, base + 0.9 * expected
        t_lo = next((t for t, c in self.series if c >= lo), None)
        t_hi = next(((t, c) for t, c in self.series if c >= hi), None)
        c_lo = next((c for t, c in self.series if c >= lo), None)
        if t_lo is None or t_hi is None or t_hi[0] <= t_lo:
            return None
        return (t_hi[1] - c_lo) / (t_hi[0] - t_lo)

    def median_interval(self) -> float:
        gaps = [b[0] - a[0] for a, b in zip(self.series, self.series[1:], strict=False)]
        return float(np.median(gaps)) if gaps else math.nan


class ProbePoller:
    """The newest stored `ts` of each probe vehicle, polled; a row counts as visible at the
    midpoint between the last poll that did not see it (or its publish) and the first that did.
    Rows of one vehicle commit in device-time order (one device per vehicle, one publisher
    connection per device, ordered delivery, one worker), so max(ts) >= ts means visible."""

    def __init__(self, database_url: str, vehicles: list[int], interval_s: float) -> None:
        self.database_url = database_url
        self.vehicles = vehicles
        self.interval_s = interval_s
        self.obs: dict[int, list[tuple[float, float, int]]] = defaultdict(list)
        self.starts: list[float] = []
        self._stop = False

    async def open(self) -> None:
        self.conn = await asyncpg.connect(self.database_url)
        self.since = time.time() - 86_400 * 3

    async def close(self) -> None:
        await self.conn.close()

    def stop(self) -> None:
        self._stop = True

    async def run(self) -> None:
        if not self.vehicles:
            return
        from datetime import UTC, datetime

        since = datetime.fromtimestamp(self.since, tz=UTC)
        stmt = await self.conn.prepare(
            """SELECT v, (SELECT max(ts) FROM positions p WHERE p.vehicle_id = v AND p.ts >= $2)
               FROM unnest($1::int[]) AS v""")
        newest: dict[int, int] = {}
        previous = time.time()
        while not self._stop:
            started = time.time()
            rows = await stmt.fetch(self.vehicles, since)
            self.starts.append(started)
            for vid, ts in rows:
                if ts is None:
                    continue
                ms = int(ts.timestamp() * 1000)
                if ms > newest.get(vid, -1):
                    newest[vid] = ms
                    self.obs[vid].append((previous, started, ms))
            previous = started
            await asyncio.sleep(max(0.0, self.interval_s - (time.time() - started)))

    def median_interval(self) -> float:
        gaps = [b - a for a, b in zip(self.starts, self.starts[1:], strict=False)]
        return float(np.median(gaps)) if gaps else math.nan

    def latencies(self, published: dict[tuple[int, int], float]) -> tuple[np.ndarray, int]:
        wanted = set(self.vehicles)
        per_vehicle: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for (vid, ts), pub_ms in published.items():
            if vid in wanted:
                per_vehicle[vid].append((ts, pub_ms))
        out: list[float] = []
        missing = 0
        for vid, fixes in per_vehicle.items():
            obs = self.obs.get(vid, [])
            i = 0
            for ts, pub_ms in sorted(fixes):
                while i < len(obs) and obs[i][2] < ts:
                    i += 1
                if i == len(obs):
                    missing += 1
                    continue
                before, seen, _ = obs[i]
                lower = max(before * 1000, pub_ms)
                out.append((lower + seen * 1000) / 2 - pub_ms)
        return np.array(out), missing


class CpuMeter:
    """CPU time of named groups of processes over a phase, as % of one core (a process that
    appears only by `stop`, such as a pool connection opened during the phase, counts from 0),
    and the whole machine's."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        import psutil

        self.psutil = psutil
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self.start = {pid: self._cpu(pid) for pids in groups.values() for pid in pids}
        self.t0 = time.monotonic()
        psutil.cpu_percent(None)

    def _cpu(self, pid: int) -> float:
        with contextlib.suppress(Exception):
            times = self.psutil.Process(pid).cpu_times()
            return times.user + times.system
        return 0.0

    def stop(self, late: dict[str, list[int]] | None = None,
             exited: dict[str, float] | None = None) -> dict[str, float]:
        """`late`: more pids per group; `exited`: CPU seconds that processes gone by now reported."""
        wall = max(time.monotonic() - self.t0, 1e-9)
        out = {name: 100 * seconds / wall for name, seconds in (exited or {}).items()}
        for name in dict.fromkeys([*self.groups, *(late or {})]):
            pids = set(self.groups.get(name, [])) | set((late or {}).get(name, []))
            used = sum(max(0.0, self._cpu(pid) - self.start.get(pid, 0.0)) for pid in pids)
            out[name] = 100 * used / wall
        out["whole machine"] = self.psutil.cpu_percent(None) * self.psutil.cpu_count()
        return out


def cpu_text(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.0f} %" for name, value in cpu.items())


def pct_text(values: np.ndarray) -> str:
    if values is None or len(values) == 0:
        return "n/a"
    p50, p99 = np.percentile(values, [50, 99])
    digits = 1 if p99 < 10 else 0
    return f"{p50:.{digits}f} / {p99:.{digits}f} ms"


def summarise_profile(path: Path, top: int) -> str:
    """py-spy raw output (`thread (tid): name;frame;...;frame count`) -> samples per thread,
    top functions by own samples and by samples including callees."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        head = frames[0]
        if head.startswith("thread ("):
            frames = frames[1:]
            name = head.split(":", 1)[1].strip() if ":" in head else head
            threads[name] += n
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return f"no samples in {path}"
    lines = [f"{total} busy samples (100/s, idle excluded) in {path}"]
    lines.append("threads: " + ", ".join(f"{name} {100 * n / total:.0f} %" for name, n in threads.most_common(4)))
    lines.append(f"top {top} by own time:")
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    lines.append(f"top {top} including callees (without the entry frames):")
    boring = re.compile(r"^(<module>|main|run|_run|_run_once|run_forever|run_until_complete|"
                        r"loop_forever|_thread_main|_ingest|run_ingest|"
                        r"_bootstrap|_bootstrap_inner|runner|_run_until_signal) ")
    shown = [(f, n) for f, n in inclusive.most_common() if not boring.match(f)][:top]
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in shown]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", choices=("mosquitto", "amqtt"), default="mosquitto")
    parser.add_argument("--batch", type=int, default=1, help="positions per message (device-contract array)")
    parser.add_argument("--messages", type=int,
                        help="flood: messages per phase (default 200,000 for --batch 1, 40,000 batched; "
                        "20,000 / 10,000 on amqtt); rounded up to a multiple of --devices")
    parser.add_argument("--devices", type=int, help="simulated devices (default 2,000 flood, 5,000 paced)")
    parser.add_argument("--rate", type=float, default=0,
                        help="paced run: positions per second over all devices (0 = flood)")
    parser.add_argument("--duration", type=float, default=60, help="paced run: seconds of phase (b)")
    parser.add_argument("--baseline-s", type=float, default=15, help="paced run: seconds of phase (a)")
    parser.add_argument("--ws-clients", type=int, help="websocket clients (default 0 flood, 20 paced)")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes (one connection each)")
    parser.add_argument("--window", type=int, default=1000, help="unacknowledged messages per publisher")
    parser.add_argument("--workers", type=int, default=1, help="fleet ingest processes")
    parser.add_argument("--broker-inflight", type=int, default=1000,
                        help="Mosquitto max_inflight_messages (as deploy/mosquitto.conf)")
    parser.add_argument("--backlog", action="store_true",
                        help="also queue N for offline sessions and time each consumer draining alone (Mosquitto)")
    parser.add_argument("--probe-vehicles", type=int, default=100)
    parser.add_argument("--probe-interval-ms", type=float, default=50)
    parser.add_argument("--profile", action="store_true", help="py-spy on the (first) ingest worker")
    parser.add_argument("--profile-s", type=float, default=30, help="at most this many seconds of profile")
    parser.add_argument("--profile-dir", default="/tmp", help="where the raw py-spy output is kept")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--ingest-env", action="append", default=[], metavar="FLEET_X=value",
                        help="extra setting for the platform's processes (repeatable)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--keep", action="store_true", help="keep the database (for inspection)")
    args = parser.parse_args(argv)
    paced = bool(args.rate)
    if args.devices is None:
        args.devices = 5000 if paced else 2000
    if args.ws_clients is None:
        args.ws_clients = 20 if paced else 0
    if args.messages is None:
        args.messages = 200_000 if args.batch == 1 else 40_000
        if args.broker == "amqtt":
            args.messages = 20_000 if args.batch == 1 else 10_000
    if not 1 <= args.batch <= 100:
        parser.error("--batch must be 1..100 (the device contract's MAX_BATCH)")
    if args.workers > 1 and SHARED_SETTING not in Settings.model_fields:
        parser.error(
            f"--workers {args.workers}: this checkout has no FLEET_{SHARED_SETTING.upper()} setting "
            "(MQTT shared subscriptions), so several workers would each receive every message. "
            "Run with --workers 1 until fleet/config.py has it.")
    if args.workers > 1 and args.broker != "mosquitto":
        parser.error("--workers > 1 needs Mosquitto (shared subscriptions; amqtt has none)")
    if args.backlog and args.broker != "mosquitto":
        parser.error("--backlog needs Mosquitto (amqtt does not deliver an offline session's queue in time)")
    if paced and args.rate / args.devices * 1 > 1000:
        parser.error("--rate / --devices must be at most 1,000 positions per device per second")
    return args


async def amain(args: argparse.Namespace) -> int:
    bench = Bench(args)
    install_stop_handlers()
    failed = True
    try:
        await bench.run()
        failed = False
        return 0
    except asyncio.CancelledError:
        failed = False  # interrupted: clean up everything, logs included
        raise
    finally:
        await bench.cleanup(failed)


def install_stop_handlers() -> None:
    """Ctrl-C and SIGTERM cancel the run once, so that cleanup runs (and is not interrupted by
    a second Ctrl-C). Installed explicitly: a shell's background job starts with SIGINT
    ignored, and asyncio.run would then not handle it."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopping = []

    def stop() -> None:
        if not stopping:
            stopping.append(True)
            print("stopping: cleaning up ...", file=sys.stderr, flush=True)
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


def main() -> None:
    args = parse_args()
    try:
        sys.exit(asyncio.run(amain(args)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; cleaned up", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
