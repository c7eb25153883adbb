"""A two-vehicle fleet in plain SQL, for tests that must not depend on the full scenario."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson

DEVICE_UIDS = ("013800000001", "013800000002")


async def insert_minimal_fleet(conn: asyncpg.Connection) -> dict[str, int]:
    """Returns device uid -> vehicle id."""
    await conn.execute(
        """INSERT INTO cities VALUES ('420100', '武汉', 'Wuhan', 30.5928, 114.3055);
           INSERT INTO organisations (code, kind, name_zh, name_en, city_code)
           VALUES ('420100-platform', 'platform', '武汉市公务用车服务中心', 'Wuhan platform', '420100');"""
    )
    org_id = await conn.fetchval("SELECT id FROM organisations")
    vehicles: dict[str, int] = {}
    for index, uid in enumerate(DEVICE_UIDS, start=1):
        vehicle_id = await conn.fetchval(
            """INSERT INTO vehicles (plate, source, use_category, seats, car_level, energy_type,
                   home_city_code, owner_org_id)
               VALUES ($1, 'platform', 'general', 5, 'sedan', 'fuel', '420100', $2) RETURNING id""",
            f"鄂A·T000{index}",
            org_id,
        )
        await conn.execute(
            "INSERT INTO devices (uid, vehicle_id, report_interval_s) VALUES ($1, $2, 5)",
            uid,
            vehicle_id,
        )
        vehicles[uid] = vehicle_id
    await conn.execute("INSERT INTO devices (uid) VALUES ('013899999999')")  # registered, unbound
    return vehicles


class TwoCarStream:
    """Positions of the two cars, alternating, published as a steady QoS 1 stream (2,000/s,
    not one burst: Mosquitto's default queue drops QoS 1 messages beyond 1,000)."""

    def __init__(self, pub, root: str, start_ms: int) -> None:  # noqa: ANN001 (a paho client)
        self._pub = pub
        self._root = root
        self._start_ms = start_ms
        self.seq = 0

    async def send(self, n: int) -> None:
        for _ in range(n):
            seq = self.seq
            body = {"ts": self._start_ms + seq * 1000, "lat": 30.0 + seq * 1e-5, "lon": 114.3, "seq": seq}
            self._pub.publish(f"{self._root}/devices/{DEVICE_UIDS[seq % 2]}/telemetry",
                              orjson.dumps(body), qos=1)
            self.seq += 1
            if self.seq % 100 == 0:
                await asyncio.sleep(0.05)
