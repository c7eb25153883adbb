"""The device contract: what is accepted, and every reason a message is refused."""

from __future__ import annotations

import orjson
import pytest

from telemetry.contract import MAX_BATCH, decode_message, parse_topic
from telemetry.model import REJECTION_REASONS, RawMessage

ROOT = "fleet/v1"
NOW_MS = 1_795_392_000_000  # 2026-11-23T08:00:00+08:00
TOPIC = f"{ROOT}/devices/013800000001/telemetry"


def message(body: object, topic: str = TOPIC) -> RawMessage:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    return RawMessage(topic, payload, NOW_MS)


def good(**overrides: object) -> dict:
    body = {"ts": "2026-11-23T08:15:02.000+08:00", "lat": 30.5928, "lon": 114.3055,
            "speed_kmh": 42.5, "heading_deg": 90, "acc": True, "fix": True,
            "odometer_km": 12345.6, "fuel_l": 31.2, "soc_pct": 80, "alarm": 0, "seq": 1234}
    body.update(overrides)
    return body


def test_full_example_from_the_contract_decodes():
    positions, statuses, rejections = decode_message(message(good()), ROOT)
    assert rejections == [] and statuses == []
    [pos] = positions
    assert pos.device_uid == "013800000001"
    assert pos.ts_ms == 1_795_392_902_000
    assert (pos.lat, pos.lon, pos.speed_kmh, pos.heading_deg) == (30.5928, 114.3055, 42.5, 90)
    assert (pos.acc, pos.fix, pos.odometer_km, pos.fuel_l, pos.soc_pct, pos.seq) == (
        True, True, 12345.6, 31.2, 80.0, 1234)


def test_only_ts_lat_lon_are_required_and_epoch_ms_works():
    [pos], _, rejections = decode_message(message({"ts": NOW_MS, "lat": 30.5, "lon": 114.3}), ROOT)
    assert rejections == []
    assert pos.ts_ms == NOW_MS and pos.fix is True and pos.alarm == 0 and pos.seq is None


def test_utc_z_suffix_and_zero_one_booleans():
    [pos], _, _ = decode_message(message(good(ts="2026-11-23T00:15:02Z", acc=0, fix=1)), ROOT)
    assert pos.ts_ms == 1_795_392_902_000 and pos.acc is False and pos.fix is True


def test_a_gateway_batch_keeps_good_items_and_rejects_bad_ones():
    batch = [good(seq=1), good(seq=2, lat=123.0), good(seq=3)]
    positions, _, rejections = decode_message(message(batch), ROOT)
    assert [p.seq for p in positions] == [1, 3]
    [rejection] = rejections
    assert rejection.reason == "coordinate_out_of_range"
    assert rejection.detail.startswith("item 1 of 3")
    assert orjson.loads(rejection.payload)["seq"] == 2  # the bad item itself is kept


def test_status_messages():
    _, [change], _ = decode_message(message(b"offline", f"{ROOT}/devices/d9/status"), ROOT)
    assert (change.device_uid, change.status) == ("d9", "offline")


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("other/devices/x/telemetry", orjson.dumps(good()), "bad_topic"),
        (f"{ROOT}/devices/x/position", orjson.dumps(good()), "bad_topic"),
        (f"{ROOT}/devices//telemetry", orjson.dumps(good()), "bad_topic"),
        (TOPIC, b"x" * (256 * 1024 + 1), "too_large"),
        (TOPIC, b"{\"ts\": 1,", "bad_json"),
        (TOPIC, b"\xff\xfe", "bad_json"),
        (TOPIC, b"\"a string\"", "not_object"),
        (TOPIC, b"[1, 2]", "not_object"),
        (TOPIC, b"[]", "empty_batch"),
        (TOPIC, orjson.dumps([good()] * (MAX_BATCH + 1)), "batch_too_large"),
        (TOPIC, orjson.dumps({"lat": 30.5, "lon": 114.3}), "missing_field"),
        (TOPIC, orjson.dumps({"ts": NOW_MS, "lon": 114.3}), "missing_field"),
        (TOPIC, orjson.dumps({"ts": NOW_MS, "lat": 30.5, "lon": None}), "missing_field"),
        (TOPIC, orjson.dumps(good(lat="30.5")), "bad_field"),
        (TOPIC, orjson.dumps(good(lon=True)), "bad_field"),
        (TOPIC, orjson.dumps(good(speed_kmh=-3)), "bad_field"),
        (TOPIC, orjson.dumps(good(heading_deg=400)), "bad_field"),
        (TOPIC, orjson.dumps(good(soc_pct=120)), "bad_field"),
        (TOPIC, orjson.dumps(good(acc="yes")), "bad_field"),
        (TOPIC, orjson.dumps(good(seq=-1)), "bad_field"),
        (TOPIC, orjson.dumps(good(seq=1.5)), "bad_field"),
        (TOPIC, orjson.dumps(good(ts="2026-11-23 08:15:02")), "bad_timestamp"),
        (TOPIC, orjson.dumps(good(ts="tomorrow")), "bad_timestamp"),
        (TOPIC, orjson.dumps(good(ts=12345)), "bad_timestamp"),
        (TOPIC, orjson.dumps(good(ts=True)), "bad_timestamp"),
        (TOPIC, orjson.dumps(good(ts=[1])), "bad_timestamp"),
        (TOPIC, orjson.dumps(good(ts=NOW_MS + 25 * 3_600_000)), "future_timestamp"),
        (TOPIC, orjson.dumps(good(lat=90.01)), "coordinate_out_of_range"),
        (TOPIC, orjson.dumps(good(lon=-180.5)), "coordinate_out_of_range"),
        (f"{ROOT}/devices/x/status", b"sleeping", "bad_status"),
    ],
)
def test_every_rejection_reason(topic, payload, reason):
    positions, statuses, rejections = decode_message(RawMessage(topic, payload, NOW_MS), ROOT)
    assert positions == [] and statuses == []
    assert rejections, "a refused message is never dropped silently"
    for rejection in rejections:
        assert rejection.reason == reason
        assert rejection.reason in REJECTION_REASONS
        assert rejection.detail
    if len(rejections) == 1:
        assert rejections[0].payload == payload  # the raw bytes are kept


def test_future_within_a_day_is_accepted():
    [pos], _, _ = decode_message(message(good(ts=NOW_MS + 23 * 3_600_000)), ROOT)
    assert pos.ts_ms == NOW_MS + 23 * 3_600_000


def test_parse_topic():
    assert parse_topic("fleet/v1/devices/abc/telemetry", "fleet/v1") == ("abc", "telemetry")
    assert parse_topic("fleet/v1/devices/abc/status", "fleet/v1/") == ("abc", "status")
    assert parse_topic("fleet/v1/devices/a/b/telemetry", "fleet/v1") is None
