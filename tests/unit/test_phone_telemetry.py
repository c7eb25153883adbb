"""A phone's fix as the device contract's position object (web/phone_telemetry.py), checked
against the ingest's own decoder."""

from __future__ import annotations

from datetime import UTC, datetime

from telemetry.contract import decode_position
from web.phone_telemetry import contract_position, phone_uid

TS = datetime(2026, 11, 24, 1, 15, 2, 250_000, tzinfo=UTC)  # 09:15:02.250 in Beijing


def test_a_good_fix_becomes_a_contract_position():
    payload = contract_position(TS, 30.5801, 114.2802, 8.0, 36.04, 359.6)
    assert payload == {"ts": "2026-11-24T09:15:02.250+08:00", "lat": 30.5801, "lon": 114.2802,
                       "fix": True, "speed_kmh": 36.0, "heading_deg": 0}
    position = decode_position(payload, phone_uid(7), int(TS.timestamp() * 1000))
    assert position.ts_ms == int(TS.timestamp() * 1000) and position.fix is True
    assert position.device_uid == "phone-v7"


def test_a_coarse_fix_is_flagged_and_unknowns_are_left_out():
    payload = contract_position(TS, 30.5, 114.3, 1500.0, None, None)
    assert payload == {"ts": "2026-11-24T09:15:02.250+08:00", "lat": 30.5, "lon": 114.3, "fix": False}
    assert decode_position(payload, "phone-v7", int(TS.timestamp() * 1000)).fix is False
