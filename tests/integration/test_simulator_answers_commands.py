"""Simulated terminals answer the platform's commands: a command on {root}/devices/{uid}/cmd is
acknowledged on .../cmd/ack with its id, through the real broker (docs/device-contract.md)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.config import Settings
from fleet.mqtt_url import parse_mqtt_url
from fleet.scenario.load import load_scenario
from simulator.main import run_simulator
from tests.waiting import wait_until


def _client(mqtt_url: str, root: str, answers: list[tuple[str, dict]]) -> mqtt.Client:
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    if address.username:
        client.username_pw_set(address.username, address.password)
    subscribed = threading.Event()

    def on_connect(c, userdata, flags, reason, props):  # noqa: ANN001
        c.subscribe(f"{root}/devices/+/cmd/ack", qos=1)

    def on_subscribe(c, userdata, mid, reasons, props):  # noqa: ANN001
        subscribed.set()

    def on_message(c, userdata, message):  # noqa: ANN001
        answers.append((message.topic, orjson.loads(message.payload)))

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(address.host, address.port, keepalive=30)
    client.loop_start()
    assert subscribed.wait(10)
    return client


async def test_every_simulated_terminal_acknowledges_a_command_with_its_id(services, unique_prefix):
    root = f"{unique_prefix}/v1"
    settings = Settings(demo=True, mqtt_url=services.mqtt_url, mqtt_topic_root=root,
                        sim_vehicles=2, sim_interval_s=5)
    fitted = [v.device.uid for v in load_scenario().vehicles if v.device is not None]
    simulated, other = fitted[:2], fitted[5]
    stop = threading.Event()
    runner = threading.Thread(target=run_simulator, args=(settings,), kwargs={"stop": stop})
    answers: list[tuple[str, dict]] = []
    client = _client(services.mqtt_url, root, answers)
    runner.start()
    try:
        sent: dict[str, str] = {}

        async def answered() -> bool:
            # the simulator may not be subscribed yet: ask again until the devices answer
            for uid in simulated:
                if not any(t == f"{root}/devices/{uid}/cmd/ack" for t, _ in answers):
                    command_id = f"c-{uid}-{len(sent)}"
                    sent[command_id] = uid
                    command = {"id": command_id, "type": "text", "text": "请于22:00前返回停放点",
                               "tts": True}
                    client.publish(f"{root}/devices/{uid}/cmd", orjson.dumps(command), qos=1)
            return all(any(t == f"{root}/devices/{u}/cmd/ack" for t, _ in answers)
                       for u in simulated)

        await wait_until(answered, timeout_s=30, interval_s=0.5)
        client.publish(f"{root}/devices/{other}/cmd", orjson.dumps({"id": "not-mine"}), qos=1)
        client.publish(f"{root}/devices/{simulated[0]}/cmd", b"not json", qos=1)
        last = f"last-{uuid.uuid4().hex[:6]}"
        client.publish(f"{root}/devices/{simulated[0]}/cmd", orjson.dumps({"id": last}), qos=1)

        async def last_answered() -> bool:
            return any(body.get("id") == last for _, body in answers)

        await wait_until(last_answered, timeout_s=15, interval_s=0.2)
    finally:
        stop.set()
        await asyncio.to_thread(runner.join, 30)
        client.loop_stop()
        client.disconnect()
    for topic, body in answers:
        uid = topic.split("/")[-3]
        assert body["ok"] is True
        assert body["id"] == last or sent[body["id"]] == uid   # each answer on its own device
    assert not any(body["id"] == "not-mine" for _, body in answers)   # another gateway's device
    assert {topic.split("/")[-3] for topic, _ in answers} == set(simulated)
