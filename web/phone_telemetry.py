"""A driver's phone as the position source of a leased car without a terminal (domain.md §2:
a leased car is monitored only while under a platform order).

The phone's fix becomes a device-contract message (docs/device-contract.md) of a device of
kind 'phone' bound to the car, published on `{root}/devices/{uid}/telemetry` like any
terminal's: the ingest worker stores it, the console shows it, the rules judge it. Nothing
here writes positions itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from web.errors import ApiError
from web.mqtt_publisher import DevicePublisher, TelemetryUnavailable
from web.queries.driver_orders import order_on_the_road

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
PHONE_INTERVAL_S = 10  # the page sends a fix about every 10 s (silence: 3 × this → offline)
MAX_FIX_ACCURACY_M = 100.0  # a coarser fix (cell towers, Wi-Fi) is stored but flagged fix=false
PUBLISH_TIMEOUT_S = 5.0


def phone_uid(vehicle_id: int) -> str:
    return f"phone-v{vehicle_id}"


def contract_position(
    ts: datetime, lat: float, lon: float, accuracy_m: float, speed_kmh: float | None,
    heading_deg: float | None,
) -> dict[str, Any]:
    """The device contract's position object: device time with its +08:00 offset, and
    `fix` false when the phone's fix is too coarse to move a marker."""
    payload: dict[str, Any] = {
        "ts": ts.astimezone(LOCAL_TZ).isoformat(timespec="milliseconds"),
        "lat": lat,
        "lon": lon,
        "fix": accuracy_m <= MAX_FIX_ACCURACY_M,
    }
    if speed_kmh is not None:
        payload["speed_kmh"] = round(speed_kmh, 1)
    if heading_deg is not None:
        payload["heading_deg"] = round(heading_deg) % 360
    return payload


async def _bind_phone(conn: asyncpg.Connection, uid: str, vehicle_id: int) -> None:
    """The 'phone' device of the car, made on first use. devices.vehicle_id is unique: only a
    car without a terminal can have one bound."""
    await conn.execute(
        """INSERT INTO devices (uid, vehicle_id, model, report_interval_s, kind)
           VALUES ($1, $2, 'driver phone', $3, 'phone')
           ON CONFLICT (uid) DO UPDATE SET vehicle_id = EXCLUDED.vehicle_id
           WHERE devices.vehicle_id IS DISTINCT FROM EXCLUDED.vehicle_id""",
        uid, vehicle_id, PHONE_INTERVAL_S,
    )


def _has_terminal(plate: str, terminal_uid: str) -> ApiError:
    return ApiError(409, f"The car {plate} has its own terminal ({terminal_uid}); the phone's "
                    "location is not needed.", code="car_has_terminal",
                    details={"device_uid": terminal_uid})


async def device_for_driver(pool: asyncpg.Pool, driver_id: int) -> tuple[int, int, str]:
    """(order id, vehicle id, phone device uid) of the driver's order on the road whose car
    has no terminal; 409 otherwise."""
    async with pool.acquire() as conn, conn.transaction():
        order = await order_on_the_road(conn, driver_id)
        if order is None:
            raise ApiError(409, "You have no order on the road (departed, not yet returned): "
                           "nothing to report a position for.", code="no_active_order")
        if order["terminal_uid"] is not None:
            raise _has_terminal(order["plate"], order["terminal_uid"])
        uid = phone_uid(order["vehicle_id"])
        try:
            async with conn.transaction():
                await _bind_phone(conn, uid, order["vehicle_id"])
        except asyncpg.UniqueViolationError:  # a terminal was bound to the car meanwhile
            raise _has_terminal(order["plate"], "?") from None
    return order["id"], order["vehicle_id"], uid


def publisher_or_503(publisher: DevicePublisher | None) -> DevicePublisher:
    if publisher is None:
        raise ApiError(503, "Positions cannot be relayed: the platform has no MQTT broker "
                       "configured.", code="telemetry_unavailable")
    return publisher


async def publish(publisher: DevicePublisher, uid: str, payload: dict[str, Any]) -> None:
    try:
        await publisher.publish_telemetry(uid, payload, timeout_s=PUBLISH_TIMEOUT_S)
    except TelemetryUnavailable as exc:
        raise ApiError(503, f"The position could not be relayed: {exc}. Try again.",
                       code="telemetry_unavailable") from None
