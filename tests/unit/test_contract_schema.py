"""The published JSON Schema and the decoder agree on the documented examples and on refusals."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import orjson
import pytest

from telemetry.contract import decode_message
from telemetry.model import RawMessage

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "device-contract.schema.json").read_text())
NOW_MS = 1_795_392_000_000
TOPIC = "fleet/v1/devices/013800000001/telemetry"


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("example", SCHEMA["examples"])
def test_documented_examples_pass_the_schema_and_decode(example):
    jsonschema.validate(example, SCHEMA)
    positions, _, rejections = decode_message(RawMessage(TOPIC, orjson.dumps(example), NOW_MS), "fleet/v1")
    assert rejections == []
    assert len(positions) == (len(example) if isinstance(example, list) else 1)


@pytest.mark.parametrize(
    "body",
    [
        {"lat": 30.5, "lon": 114.3},
        {"ts": "2026-11-23 08:15:02", "lat": 30.5, "lon": 114.3},
        {"ts": 1795392902000, "lat": 91, "lon": 114.3},
        {"ts": 1795392902000, "lat": 30.5, "lon": 114.3, "soc_pct": 101},
        {"ts": 1795392902000, "lat": 30.5, "lon": 114.3, "seq": -1},
        [],
    ],
)
def test_what_the_schema_refuses_the_decoder_refuses(body):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, SCHEMA)
    positions, _, rejections = decode_message(RawMessage(TOPIC, orjson.dumps(body), NOW_MS), "fleet/v1")
    assert positions == [] and rejections
