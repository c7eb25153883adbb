"""Terminals' command acknowledgements (cmd/ack): topic, decoding, dead-letter reasons, and
the subscription beside the telemetry one."""

from __future__ import annotations

import orjson
import pytest

from telemetry.contract import CommandAck, decode_ack, parse_ack_topic
from telemetry.model import REJECTION_REASONS, RawMessage
from telemetry.mqtt_source import with_command_acks

ROOT = "fleet/v1"
TOPIC = f"{ROOT}/devices/0145/cmd/ack"


def test_the_ack_topic():
    assert parse_ack_topic(TOPIC, ROOT) == "0145"
    assert parse_ack_topic(f"{ROOT}/devices/0145/cmd", ROOT) is None
    assert parse_ack_topic(f"{ROOT}/devices/a/b/cmd/ack", ROOT) is None
    assert parse_ack_topic(f"{ROOT}/devices//cmd/ack", ROOT) is None
    assert parse_ack_topic("other/devices/0145/cmd/ack", ROOT) is None


def test_a_good_ack():
    body = orjson.dumps({"id": "c1", "ok": False, "detail": "no speaker", "extra": 1})
    acks, rejected = decode_ack(RawMessage(TOPIC, body, 123), "0145")
    assert acks == [CommandAck("0145", "c1", False, "no speaker", 123)] and rejected == []
    [ack], _ = decode_ack(RawMessage(TOPIC, b'{"id": "c2", "ok": true}', 5), "0145")
    assert ack.detail == "" and ack.ok is True


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{not json", "bad_json"),
    (b'["c1", true]', "not_object"),
    (b'{"ok": true}', "missing_field"),
    (b'{"id": "c1"}', "missing_field"),
    (b'{"id": 7, "ok": true}', "bad_field"),
    (b'{"id": "", "ok": true}', "bad_field"),
    (b'{"id": "c1", "ok": 1}', "bad_field"),
    (b'{"id": "c1", "ok": true, "detail": 5}', "bad_field"),
    (orjson.dumps({"id": "x" * 65, "ok": True}), "bad_field"),
])
def test_a_bad_ack_is_refused_with_its_reason(payload, reason):
    acks, [rejection] = decode_ack(RawMessage(TOPIC, payload, 1), "0145")
    assert acks == [] and rejection.reason == reason and rejection.reason in REJECTION_REASONS
    assert rejection.payload == payload and rejection.device_uid == "0145"


def test_the_source_subscribes_to_acks_beside_telemetry():
    topics = [f"{ROOT}/devices/+/telemetry", f"{ROOT}/devices/+/status"]
    assert with_command_acks(topics) == topics + [f"{ROOT}/devices/+/cmd/ack"]
    shared = [f"$share/g/{ROOT}/devices/+/telemetry"]
    assert with_command_acks(shared) == shared + [f"$share/g/{ROOT}/devices/+/cmd/ack"]
