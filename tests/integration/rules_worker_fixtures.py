"""Scripted evenings of one seeded Wuhan platform car for the rules worker's tests, sent
through the real pipeline (MQTT → ingest → positions, trips, stops, rule_dirty), and the
pieces around it: a running ingest worker, a terminal that answers commands, a late order.

The day is the latest working day at least two days back (the ingest filter takes device
times up to 30 days old); times are local (Asia/Shanghai).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import asyncpg
import orjson
import paho.mqtt.client as mqtt

from dispatch.calendar import is_working_day
from fleet.config import Settings
from fleet.mqtt_url import parse_mqtt_url
from supervision import zone_store
from telemetry.worker import run_ingest
from tests.waiting import wait_until

CST = timezone(timedelta(hours=8))
VEHICLE_ID = 6                 # 鄂A·DY9296: platform, general use, the Wuhan depot's lot
DRIVER_ID = 1                  # driver1's driver row
M_PER_DEG_LAT = 111_195.0


def scripted_day() -> date:
    day = datetime.now(CST).date() - timedelta(days=2)
    while not is_working_day(day) or not is_working_day(day + timedelta(days=1)):
        day -= timedelta(days=1)
    return day


def ms(day: date, hhmm: str, day_offset: int = 0) -> int:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, tzinfo=CST) + timedelta(
        days=day_offset, hours=hours, minutes=minutes)
    return int(local.timestamp() * 1000)


def offset(point: tuple[float, float], east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    lon, lat = point
    return (lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
            lat + north_m / M_PER_DEG_LAT)


@dataclass
class Car:
    vehicle_id: int
    uid: str
    plate: str
    lot: tuple[float, float]     # (lon, lat): the centre of its designated lot

    @property
    def away(self) -> tuple[float, float]:
        return offset(self.lot, 8000, 1500)


async def seeded_car(db: asyncpg.Connection) -> Car:
    row = await db.fetchrow(
        """SELECT v.id, v.plate, v.lot_geofence_id, d.uid FROM vehicles v
           JOIN devices d ON d.vehicle_id = v.id WHERE v.id = $1""", VEHICLE_ID)
    [lot] = await zone_store.load_zones(db, ids=[row["lot_geofence_id"]])
    centre = lot.geometry.centroid
    return Car(row["id"], row["uid"], row["plate"], (centre.x, centre.y))


class Track:
    """Positions of one terminal, as it would publish them (seq per device)."""

    def __init__(self, seq: int = 0) -> None:
        self.items: list[dict] = []
        self.seq = seq

    def add(self, ts_ms: int, where: tuple[float, float], speed: float, acc: bool) -> None:
        self.seq += 1
        self.items.append({"ts": ts_ms, "lat": round(where[1], 7), "lon": round(where[0], 7),
                           "speed_kmh": speed, "acc": acc, "fix": True, "seq": self.seq})

    def park(self, t0: int, t1: int, where: tuple[float, float], every_s: int = 60) -> Track:
        t, n = t0, 0
        while t < t1:
            self.add(t, offset(where, (n % 3 - 1) * 4.0, (n % 2) * 3.0), 0.0, False)
            t, n = t + every_s * 1000, n + 1
        return self

    def drive(self, t0: int, t1: int, frm: tuple[float, float], to: tuple[float, float],
              every_s: int = 10) -> Track:
        steps = max(1, (t1 - t0) // (every_s * 1000))
        for i in range(steps + 1):
            f = i / steps
            where = (frm[0] + (to[0] - frm[0]) * f, frm[1] + (to[1] - frm[1]) * f)
            self.add(t0 + i * every_s * 1000, where, 0.0 if i in (0, steps) else 42.0, True)
        return self


def evening_out(car: Car, day: date) -> Track:
    """Parked in its lot from 20:30, out at 21:00 without an order, parked 8 km away from
    21:25; the terminal goes dark after 21:30 (a dead zone)."""
    t = Track()
    t.park(ms(day, "20:30"), ms(day, "21:00"), car.lot)
    t.drive(ms(day, "21:00"), ms(day, "21:25"), car.lot, car.away)
    t.park(ms(day, "21:26"), ms(day, "21:31"), car.away)
    return t


def back_in_lot(car: Car, day: date, seq: int) -> Track:
    """The dead zone's 盲区补报: it drove back at 21:35 and was in its lot from 21:55."""
    t = Track(seq)
    t.drive(ms(day, "21:35"), ms(day, "21:55"), car.away, car.lot)
    t.park(ms(day, "21:56"), ms(day, "22:07"), car.lot)
    return t


# ---- the pipeline ----------------------------------------------------------------------------------

def settings_for(services, db_url: str, prefix: str, tmp_path) -> Settings:  # noqa: ANN001
    return Settings(demo=True, database_url=db_url, redis_url=services.redis_url,
                    mqtt_url=services.mqtt_url, mqtt_topic_root=f"{prefix}/v1",
                    redis_prefix=prefix, data_dir=tmp_path / "data",
                    ingest_client_id=f"ingest-{prefix}", ingest_metrics_port=0,
                    motion_flush_s=1.0)


def mqtt_client(url: str) -> mqtt.Client:
    address = parse_mqtt_url(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


@contextlib.asynccontextmanager
async def running_ingest(settings: Settings, db: asyncpg.Connection,
                         car: Car) -> AsyncIterator[mqtt.Client]:
    """An ingest worker on the test's topic root, subscribed; yields a publishing client."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_ingest(settings, stop))
    pub = mqtt_client(settings.mqtt_url)
    probe = f"{settings.mqtt_topic_root}/devices/{car.uid}/status"

    async def subscribed() -> bool:
        pub.publish(probe, b"online", qos=1)
        return await db.fetchval("SELECT status FROM devices WHERE uid = $1", car.uid) == "online"

    try:
        await wait_until(subscribed, timeout_s=20, interval_s=0.3)
        yield pub
    finally:
        stop.set()
        await asyncio.gather(task)
        pub.loop_stop()
        pub.disconnect()


async def send(pub: mqtt.Client, root: str, car: Car, track: Track,
               db: asyncpg.Connection) -> None:
    """Publishes in messages of 10 positions and waits until ingest stored them all."""
    before = await db.fetchval("SELECT count(*) FROM positions WHERE vehicle_id = $1", car.vehicle_id)
    for i in range(0, len(track.items), 10):
        pub.publish(f"{root}/devices/{car.uid}/telemetry", orjson.dumps(track.items[i:i + 10]), qos=1)

    async def stored() -> bool:
        n = await db.fetchval("SELECT count(*) FROM positions WHERE vehicle_id = $1", car.vehicle_id)
        return n >= before + len(track.items)

    await wait_until(stored, timeout_s=30, interval_s=0.2)


async def wait_for_trip(db: asyncpg.Connection, car: Car, start_ms: int, end_ms: int) -> None:
    """Until the motion tracker wrote the closed trip start → end (the first ACC-off fix)."""
    async def written() -> bool:
        return bool(await db.fetchval(
            """SELECT count(*) FROM trips WHERE vehicle_id = $1 AND start_ts = $2 AND end_ts = $3""",
            car.vehicle_id, datetime.fromtimestamp(start_ms / 1000, CST),
            datetime.fromtimestamp(end_ms / 1000, CST)))

    try:
        await wait_until(written, timeout_s=20, interval_s=0.2)
    except TimeoutError:
        trips = await db.fetch("SELECT start_ts, end_ts FROM trips WHERE vehicle_id = $1",
                               car.vehicle_id)
        raise AssertionError(f"trip not written; trips: {[tuple(t) for t in trips]}") from None


class Terminal:
    """A car's terminal: it receives commands on {root}/devices/{uid}/cmd and acknowledges
    each on .../cmd/ack."""

    def __init__(self, url: str, root: str, uid: str) -> None:
        self.commands: list[dict] = []
        self.topic = f"{root}/devices/{uid}/cmd"
        self.client = mqtt_client(url)
        self.client.on_message = self._on_message
        self.client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        command = json.loads(message.payload)
        self.commands.append(command)
        client.publish(self.topic + "/ack", json.dumps({"id": command["id"], "ok": True,
                                                        "detail": "shown and spoken"}), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def give_order(db: asyncpg.Connection, car: Car, start_ms: int, end_ms: int,
                     state: str = "returned") -> int:
    """An order for the car entered afterwards (补录), with its request; returns its id."""
    user = await db.fetchrow("SELECT id, org_id FROM users WHERE username = 'requester'")
    place = {"name": "某单位", "lat": car.away[1], "lon": car.away[0], "city_code": "420100"}
    origin = {"name": "车队", "lat": car.lot[1], "lon": car.lot[0], "city_code": "420100"}
    start, end = (datetime.fromtimestamp(t / 1000, CST) for t in (start_ms, end_ms))
    request_id = await db.fetchval(
        """INSERT INTO trip_requests (applicant_id, org_id, trip_type, reason, passenger_count,
               planned_start, planned_end, origin, destinations, state)
           VALUES ($1, $2, 'official', '公务', 1, $3, $4, $5, $6, 'completed') RETURNING id""",
        user["id"], user["org_id"], start, end, origin, [place])
    order_id = await db.fetchval(
        """INSERT INTO dispatch_orders (request_id, vehicle_id, driver_id, state, planned_start,
               planned_end, departed_at, returned_at)
           VALUES ($1, $2, $3, $4, $5, $6, $5, $6) RETURNING id""",
        request_id, car.vehicle_id, DRIVER_ID, state, start, end)
    await db.execute("INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count) "
                     "VALUES ($1, $2, 1)", order_id, request_id)
    return order_id
