"""Vehicle state rules shared by the list, the live feed and (mirrored in JS) the console. Pure.

A *state* is the ingest worker's latest-position record: {vehicle_id, device_uid, ts_ms,
received_ms, lat, lon, speed_kmh, heading_deg, acc, odometer_km, fuel_l, soc_pct, alarm}.
"""

from __future__ import annotations

from typing import Any

MOVING_MIN_SPEED_KMH = 5.0
# domain.md §6 R7: no data for max(3 × report interval, 10 min) means the device went dark.
OFFLINE_MIN_S = 600
OFFLINE_INTERVALS = 3

STATUSES = ("moving", "idle", "parked", "offline", "no_data")

# Fields that reveal where a vehicle is; withheld for 机要 vehicles from uncleared users.
POSITION_FIELDS = ("lat", "lon", "heading_deg")

STATE_FIELDS = (
    "vehicle_id",
    "device_uid",
    "ts_ms",
    "received_ms",
    "lat",
    "lon",
    "speed_kmh",
    "heading_deg",
    "acc",
    "odometer_km",
    "fuel_l",
    "soc_pct",
    "alarm",
)


def offline_after_s(report_interval_s: int | None) -> int:
    """Seconds without a fix after which a device counts as offline."""
    return max(OFFLINE_INTERVALS * (report_interval_s or 0), OFFLINE_MIN_S)


def derive_status(
    state: dict[str, Any] | None,
    *,
    device_status: str | None,
    offline_after: int,
    now_ms: int,
) -> str:
    """moving (ACC on, ≥ 5 km/h) | idle (ACC on, slower) | parked (ACC off) | offline | no_data.

    Without an ACC wire (acc is null) speed alone decides between moving and parked.
    """
    if not state or state.get("ts_ms") is None:
        return "no_data"
    if device_status == "offline" or now_ms - int(state["ts_ms"]) > offline_after * 1000:
        return "offline"
    speed_kmh = state.get("speed_kmh") or 0.0
    acc = state.get("acc")
    if acc is None:
        return "moving" if speed_kmh >= MOVING_MIN_SPEED_KMH else "parked"
    if not acc:
        return "parked"
    return "moving" if speed_kmh >= MOVING_MIN_SPEED_KMH else "idle"


def withhold_position(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of the state without the fields that say where the vehicle is."""
    return {**state, **dict.fromkeys(POSITION_FIELDS)}


def newer(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """The state with the later device time (a wins ties); either may be missing."""
    if a is None:
        return b
    if b is None:
        return a
    return b if (b.get("ts_ms") or 0) > (a.get("ts_ms") or 0) else a
