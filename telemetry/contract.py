"""The device contract (domain.md §3): decoding and validating MQTT payloads. Pure code.

Telemetry: one JSON object or an array of up to MAX_BATCH objects:
    {"ts": "2026-11-23T08:15:02.000+08:00" | epoch_ms, "lat": 30.5928, "lon": 114.3055,
     "speed_kmh": 42.5, "heading_deg": 90, "acc": true, "fix": true, "odometer_km": 12345.6,
     "fuel_l": 31.2, "soc_pct": 80, "alarm": 0, "seq": 1234}
Required: ts, lat, lon. Unknown fields are ignored. Status: the bare text online / offline.
A command's acknowledgement on `{root}/devices/{uid}/cmd/ack`: {"id": str, "ok": bool,
"detail"?: str} (a remote reminder shown and spoken, or not); a bad one is a dead letter like
any other message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import orjson

from telemetry.model import Position, RawMessage, Rejection, StatusChange

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_BATCH = 100
MAX_FUTURE_MS = 24 * 3600 * 1000
MIN_TS_MS = 946_684_800_000  # 2000-01-01: older is a device with no clock, not a position
MAX_COMMAND_ID = 64
MAX_ACK_DETAIL = 500


@dataclass(frozen=True, slots=True)
class CommandAck:
    """A terminal's answer to a platform command (e.g. a remote reminder, 远程提醒)."""

    device_uid: str
    command_id: str
    ok: bool
    detail: str
    received_ms: int


class InvalidPosition(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_topic(topic: str, root: str) -> tuple[str, str] | None:
    """(device uid, kind) for `{root}/devices/{uid}/{kind}`, else None."""
    prefix = root.rstrip("/") + "/devices/"
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix):].split("/")
    if len(rest) != 2 or not rest[0] or rest[1] not in ("telemetry", "status"):
        return None
    return rest[0], rest[1]


def parse_ack_topic(topic: str, root: str) -> str | None:
    """The device uid of `{root}/devices/{uid}/cmd/ack`, else None."""
    prefix = root.rstrip("/") + "/devices/"
    if not topic.startswith(prefix) or not topic.endswith("/cmd/ack"):
        return None
    uid = topic[len(prefix):-len("/cmd/ack")]
    return uid if uid and "/" not in uid else None


def decode_ack(msg: RawMessage, uid: str) -> tuple[list[CommandAck], list[Rejection]]:
    """A command acknowledgement, or the reason it cannot be used."""
    if len(msg.payload) > MAX_PAYLOAD_BYTES:
        return [], [_reject(msg, "too_large", f"{len(msg.payload)} bytes", uid)]
    try:
        body = orjson.loads(msg.payload)
    except orjson.JSONDecodeError as exc:
        return [], [_reject(msg, "bad_json", str(exc), uid)]
    if not isinstance(body, dict):
        return [], [_reject(msg, "not_object", f"an ack must be an object, got {type(body).__name__}", uid)]
    for name in ("id", "ok"):
        if body.get(name) is None:
            return [], [_reject(msg, "missing_field", f"{name} is required in an ack", uid)]
    command_id, ok, detail = body["id"], body["ok"], body.get("detail", "")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_COMMAND_ID:
        return [], [_reject(msg, "bad_field", f"id must be a string of 1-{MAX_COMMAND_ID} characters", uid)]
    if not isinstance(ok, bool):
        return [], [_reject(msg, "bad_field", f"ok must be true/false, got {ok!r:.40}", uid)]
    if detail is None:
        detail = ""
    if not isinstance(detail, str):
        return [], [_reject(msg, "bad_field", "detail must be a string", uid)]
    return [CommandAck(uid, command_id, ok, detail[:MAX_ACK_DETAIL], msg.received_ms)], []


def decode_message(
    msg: RawMessage, root: str
) -> tuple[list[Position], list[StatusChange], list[Rejection]]:
    """Split one MQTT message into usable positions or a status change, and rejections."""
    parsed = parse_topic(msg.topic, root)
    if parsed is None:
        return [], [], [_reject(msg, "bad_topic", f"unexpected topic {msg.topic!r}")]
    uid, kind = parsed
    if len(msg.payload) > MAX_PAYLOAD_BYTES:
        return [], [], [_reject(msg, "too_large", f"{len(msg.payload)} bytes", uid)]
    if kind == "status":
        text = msg.payload.decode("utf-8", "replace").strip().lower()
        if text not in ("online", "offline"):
            return [], [], [_reject(msg, "bad_status", f"status {text[:40]!r}", uid)]
        return [], [StatusChange(uid, text, msg.received_ms)], []
    try:
        body = orjson.loads(msg.payload)
    except orjson.JSONDecodeError as exc:
        return [], [], [_reject(msg, "bad_json", str(exc), uid)]
    items = body if isinstance(body, list) else [body]
    if not items:
        return [], [], [_reject(msg, "empty_batch", "an empty array", uid)]
    if len(items) > MAX_BATCH:
        return [], [], [_reject(msg, "batch_too_large", f"{len(items)} > {MAX_BATCH}", uid)]
    positions: list[Position] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            positions.append(decode_position(item, uid, msg.received_ms))
        except InvalidPosition as exc:
            detail = exc.detail if len(items) == 1 else f"item {index} of {len(items)}: {exc.detail}"
            payload = msg.payload if len(items) == 1 else orjson.dumps(item)
            rejections.append(
                Rejection(msg.topic, payload, exc.reason, detail, msg.received_ms, uid)
            )
    return positions, [], rejections


def decode_position(item: object, uid: str, received_ms: int) -> Position:
    if not isinstance(item, dict):
        raise InvalidPosition("not_object", f"got {type(item).__name__}")
    for name in ("ts", "lat", "lon"):
        if item.get(name) is None:
            raise InvalidPosition("missing_field", f"{name} is required")
    ts_ms = parse_ts_ms(item["ts"])
    if ts_ms - received_ms > MAX_FUTURE_MS:
        raise InvalidPosition("future_timestamp", f"ts is {(ts_ms - received_ms) / 3.6e6:.1f} h ahead")
    lat = _number(item, "lat")
    lon = _number(item, "lon")
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
        raise InvalidPosition("coordinate_out_of_range", f"lat={lat} lon={lon}")
    heading = _optional_number(item, "heading_deg", 0, 360)
    return Position(
        device_uid=uid,
        ts_ms=ts_ms,
        received_ms=received_ms,
        lat=lat,
        lon=lon,
        speed_kmh=_optional_number(item, "speed_kmh", 0, 1000),
        heading_deg=None if heading is None else round(heading) % 360,
        acc=_optional_bool(item, "acc"),
        fix=_optional_bool(item, "fix") is not False,
        odometer_km=_optional_number(item, "odometer_km", 0, 1e8),
        fuel_l=_optional_number(item, "fuel_l", 0, 10_000),
        soc_pct=_optional_number(item, "soc_pct", 0, 100),
        alarm=_optional_int(item, "alarm", 0, 2**32 - 1) or 0,
        seq=_optional_int(item, "seq", 0, 2**31 - 1),
    )


def parse_ts_ms(value: object) -> int:
    """Epoch milliseconds, or ISO 8601 text that carries its offset (a bare local time is refused)."""
    if isinstance(value, bool):
        raise InvalidPosition("bad_timestamp", "ts is a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < MIN_TS_MS:
            raise InvalidPosition("bad_timestamp", f"epoch ms {value} is before 2000")
        return int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidPosition("bad_timestamp", f"not ISO 8601: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            raise InvalidPosition("bad_timestamp", f"no UTC offset in {value[:40]!r}")
        ts_ms = int(parsed.timestamp() * 1000)
        if ts_ms < MIN_TS_MS:
            raise InvalidPosition("bad_timestamp", f"{value[:40]!r} is before 2000")
        return ts_ms
    raise InvalidPosition("bad_timestamp", f"ts is a {type(value).__name__}")


def _number(item: dict, name: str) -> float:
    value = item[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidPosition("bad_field", f"{name} must be a finite number, got {value!r:.40}")
    return float(value)


def _optional_number(item: dict, name: str, low: float, high: float) -> float | None:
    if item.get(name) is None:
        return None
    value = _number(item, name)
    if not low <= value <= high:
        raise InvalidPosition("bad_field", f"{name}={value} outside [{low}, {high}]")
    return value


def _optional_int(item: dict, name: str, low: int, high: int) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidPosition("bad_field", f"{name} must be an integer in [{low}, {high}]")
    return value


def _optional_bool(item: dict, name: str) -> bool | None:
    value = item.get(name)
    if value is None or isinstance(value, bool):
        return value
    if value in (0, 1):  # many terminals send 0/1
        return bool(value)
    raise InvalidPosition("bad_field", f"{name} must be true/false, got {value!r:.40}")


def _reject(msg: RawMessage, reason: str, detail: str, uid: str | None = None) -> Rejection:
    return Rejection(msg.topic, msg.payload, reason, detail, msg.received_ms, uid)
