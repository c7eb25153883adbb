"""Positions back to JSON: the device contract form (for dead letters) and the live-state form."""

from __future__ import annotations

import orjson

from telemetry.model import Position, Rejection

_CONTRACT_FIELDS = (
    "lat", "lon", "speed_kmh", "heading_deg", "acc", "fix", "odometer_km", "fuel_l", "soc_pct",
    "alarm", "seq",
)


def position_payload(pos: Position) -> bytes:
    """The position as a device would have sent it (ts in epoch ms)."""
    body: dict[str, object] = {"ts": pos.ts_ms}
    for name in _CONTRACT_FIELDS:
        value = getattr(pos, name)
        if value is not None:
            body[name] = value
    return orjson.dumps(body)


def live_state(pos: Position) -> dict[str, object]:
    """The shape the console receives (Redis `{prefix}:latest` and `{prefix}:live`)."""
    return {
        "vehicle_id": pos.vehicle_id,
        "device_uid": pos.device_uid,
        "ts_ms": pos.ts_ms,
        "received_ms": pos.received_ms,
        "lat": pos.lat,
        "lon": pos.lon,
        "speed_kmh": pos.speed_kmh,
        "heading_deg": pos.heading_deg,
        "acc": pos.acc,
        "odometer_km": pos.odometer_km,
        "fuel_l": pos.fuel_l,
        "soc_pct": pos.soc_pct,
        "alarm": pos.alarm,
    }


def position_rejection(topic_root: str, pos: Position, reason: str, detail: str) -> Rejection:
    """A decoded position refused later (filter, store): kept as the device would have sent it."""
    topic = f"{topic_root}/devices/{pos.device_uid}/telemetry"
    return Rejection(topic, position_payload(pos), reason, detail, pos.received_ms, pos.device_uid)
