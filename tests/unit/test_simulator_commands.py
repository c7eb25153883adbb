"""How simulated terminals answer commands (simulator/commands.py): parsing, the share answered
late or never, and the answers published."""

from __future__ import annotations

import threading

import orjson
import pytest

from simulator.commands import AckPolicy, CommandResponder, parse_command

ROOT = "fleet/v1/devices"


def test_a_command_is_parsed_to_its_device_and_id():
    body = orjson.dumps({"id": "r-17", "type": "text", "text": "请返回", "tts": True})
    assert parse_command(f"{ROOT}/013800000001/cmd", body, ROOT) == ("013800000001", "r-17")
    assert parse_command(f"{ROOT}/013800000001/cmd", orjson.dumps({"id": 5}), ROOT) == (
        "013800000001", "5")
    for topic, payload in [
        (f"{ROOT}/013800000001/cmd/ack", body),          # an answer, not a command
        (f"{ROOT}/013800000001/telemetry", body),
        ("other/v1/devices/013800000001/cmd", body),
        (f"{ROOT}/a/b/cmd", body),
        (f"{ROOT}/013800000001/cmd", b"not json"),
        (f"{ROOT}/013800000001/cmd", orjson.dumps({"type": "text"})),   # no id
        (f"{ROOT}/013800000001/cmd", orjson.dumps(["r-17"])),
    ]:
        assert parse_command(topic, payload, ROOT) is None


def test_by_default_every_command_is_answered_at_once():
    policy = AckPolicy()
    assert {policy.answer(f"c{i}") for i in range(500)} == {"now"}


def test_shares_late_and_never_are_drawn_per_command_and_reproducible():
    policy = AckPolicy(late_share=0.2, never_share=0.1, seed=3)
    answers = [policy.answer(f"c{i}") for i in range(5000)]
    assert answers == [AckPolicy(late_share=0.2, never_share=0.1, seed=3).answer(f"c{i}")
                       for i in range(5000)]
    assert 0.17 < answers.count("late") / 5000 < 0.23
    assert 0.08 < answers.count("never") / 5000 < 0.12
    assert {AckPolicy(never_share=1.0).answer(f"c{i}") for i in range(100)} == {"never"}


@pytest.mark.parametrize("late, never", [(-0.1, 0), (0, 1.1), (0.6, 0.5)])
def test_impossible_shares_are_refused(late, never):
    with pytest.raises(ValueError):
        AckPolicy(late_share=late, never_share=never)


def test_the_responder_answers_its_own_devices_on_cmd_ack():
    sent: list[tuple[str, bytes]] = []
    responder = CommandResponder(["A1", "A2"], ROOT, AckPolicy(), lambda t, p: sent.append((t, p)))
    assert responder.subscription == f"{ROOT}/+/cmd"
    responder.handle(f"{ROOT}/A1/cmd", orjson.dumps({"id": "x1", "type": "text"}))
    responder.handle(f"{ROOT}/B9/cmd", orjson.dumps({"id": "x2"}))      # not simulated here
    responder.handle(f"{ROOT}/A2/cmd", b"{")
    assert [(t, orjson.loads(p)) for t, p in sent] == [(f"{ROOT}/A1/cmd/ack", {"id": "x1", "ok": True})]
    assert (responder.received, responder.answered, responder.withheld) == (1, 1, 0)


def test_late_answers_come_from_a_timer_and_lost_ones_never():
    done = threading.Event()
    sent: list[str] = []

    def publish(topic: str, payload: bytes) -> None:
        sent.append(orjson.loads(payload)["id"])
        done.set()

    late = CommandResponder(["A1"], ROOT, AckPolicy(late_share=1.0, late_delay_s=0.01), publish)
    late.handle(f"{ROOT}/A1/cmd", orjson.dumps({"id": "slow"}))
    assert done.wait(5) and sent == ["slow"]
    lost = CommandResponder(["A1"], ROOT, AckPolicy(never_share=1.0), publish)
    lost.handle(f"{ROOT}/A1/cmd", orjson.dumps({"id": "gone"}))
    assert sent == ["slow"] and lost.withheld == 1
    pending = CommandResponder(["A1"], ROOT, AckPolicy(late_share=1.0, late_delay_s=60), publish)
    pending.handle(f"{ROOT}/A1/cmd", orjson.dumps({"id": "cancelled"}))
    pending.close()                                   # stopping: the late answer is dropped
    assert pending.answered == 0
