"""What the telemetry pipeline carries: raw MQTT messages, positions, rejections."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One MQTT message as it came off the socket."""

    topic: str
    payload: bytes
    received_ms: int
    mid: int = 0  # MQTT message id, acknowledged once the message is durable
    qos: int = 0


@dataclass(frozen=True, slots=True)
class Position:
    """One GNSS fix of one device (WGS-84). `device_id`/`vehicle_id` are 0 until resolved."""

    device_uid: str
    ts_ms: int  # device time
    received_ms: int
    lat: float
    lon: float
    speed_kmh: float | None = None
    heading_deg: int | None = None
    acc: bool | None = None
    fix: bool = True
    odometer_km: float | None = None
    fuel_l: float | None = None
    soc_pct: float | None = None
    alarm: int = 0
    seq: int | None = None
    device_id: int = 0
    vehicle_id: int = 0


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device said it is online, or the broker delivered its last will (offline)."""

    device_uid: str
    status: str  # online | offline
    received_ms: int
    reason: str = "status_topic"  # status_topic (incl. last will) | data | silence


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message, or one item of a batched message, that cannot be used. Kept whole."""

    topic: str
    payload: bytes
    reason: str  # a code from REJECTION_REASONS
    detail: str
    received_ms: int
    device_uid: str | None = None


REJECTION_REASONS = {
    "bad_topic": "topic is not {root}/devices/{uid}/telemetry|status",
    "too_large": "payload larger than the limit",
    "bad_json": "payload is not UTF-8 JSON",
    "not_object": "a position must be a JSON object (or an array of objects)",
    "empty_batch": "an array with no positions",
    "batch_too_large": "more positions in one message than the limit",
    "missing_field": "a required field (ts, lat, lon) is missing",
    "bad_field": "a field has the wrong type or an impossible value",
    "bad_timestamp": "ts is neither epoch milliseconds nor ISO 8601 with an offset",
    "future_timestamp": "ts is more than the allowed time ahead of the platform clock",
    "coordinate_out_of_range": "lat outside [-90, 90] or lon outside [-180, 180]",
    "bad_status": "status payload is not 'online' or 'offline'",
    "unknown_device": "no device with this uid is registered",
    "zero_coordinates": "filter: lat = lon = 0 (a terminal reporting without a fix)",
    "too_old": "filter: device time older than the configured horizon",
    "implausible_speed": "filter: the terminal's speed above the plausibility limit",
    "store_error": "PostgreSQL refused the row itself (a value out of a column's range)",
    "duplicate": "filter: same device, ts and seq as a recent position (counted, not stored)",
    "impossible_jump": "filter: implied speed from the last fix above the limit",
    "unbound_device": "the device is not bound to a vehicle",
}
