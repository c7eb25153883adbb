"""MQTT side of the simulator: one connection acting as a gateway for every simulated device.

Topics follow the device contract (domain.md §3): positions at QoS 1 on
``fleet/v1/devices/{uid}/telemetry``; ``online`` (retained) on ``.../status`` for each
device at start and ``offline`` (retained) at a clean exit. A real terminal's last will is
``offline``; a gateway connection has only one will, so a crashed simulator leaves its devices
``online`` until the next run (the platform's R7 "device dark" check does not rely on it).

Acknowledgements are counted in ``on_publish`` (paho's network thread). Status messages are
sent and acknowledged before the first position and after the last one, so the positions
acknowledged are the acknowledgements counted in between (command answers are published
outside that count: ``answer_commands`` and simulator/commands.py).

Commands: with ``answer_commands``, the connection subscribes to ``{root}/devices/+/cmd`` (again
on every reconnection) and the devices acknowledge on ``.../cmd/ack``.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Sequence
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.mqtt_url import parse_mqtt_url
from simulator.commands import AckPolicy, CommandResponder

log = logging.getLogger(__name__)

MAX_INFLIGHT = 1000  # paho's default of 20 caps a QoS 1 stream at 20 x round trips per second


class GatewayPublisher:
    def __init__(
        self,
        mqtt_url: str,
        *,
        client_id: str,
        topic_root: str = "fleet/v1",
        max_inflight: int = MAX_INFLIGHT,
    ) -> None:
        self.address = parse_mqtt_url(mqtt_url)
        self._devices_topic = f"{topic_root.rstrip('/')}/devices"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        if self.address.username:
            self.client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)  # unbounded: nothing is dropped while reconnecting
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.responder: CommandResponder | None = None
        self._connected = threading.Event()
        self._acks = 0
        self._acks_changed = threading.Condition()
        self._status_sent = 0
        self._answers_sent = 0  # command acknowledgements the devices published
        self.published = 0  # positions handed to the client
        self.acked = 0  # positions the broker acknowledged (set by finish())

    # paho callbacks (network thread) --------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            log.error("simulator: broker refused the connection: %s", reason)
            return
        if self.responder is not None:
            client.subscribe(self.responder.subscription, qos=1)
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning("simulator: disconnected (%s); paho reconnects", reason)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        with self._acks_changed:
            self._acks += 1
            self._acks_changed.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self.responder is not None:
            self.responder.handle(message.topic, message.payload)

    # API (main thread) ----------------------------------------------------------------
    def answer_commands(self, uids: Sequence[str], policy: AckPolicy | None = None) -> None:
        """The devices ``uids`` answer commands (before ``connect``: the subscription is made
        on connection)."""
        self.responder = CommandResponder(uids, self._devices_topic, policy or AckPolicy(),
                                          self._publish_answer)

    def _publish_answer(self, topic: str, payload: bytes) -> None:
        # Counted before publishing, under the same lock as the broker's acknowledgements:
        # the acknowledgements wanted are then never short of what was sent.
        with self._acks_changed:
            self._answers_sent += 1
        self.client.publish(topic, payload, qos=1)

    def connect(self, timeout_s: float = 10.0) -> bool:
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        return self._connected.wait(timeout_s)

    def publish_status(self, uids: Sequence[str], status: str) -> None:
        for uid in uids:
            self.client.publish(f"{self._devices_topic}/{uid}/status", status, qos=1, retain=True)
        self._status_sent += len(uids)

    def publish_position(self, uid: str, payload: dict[str, Any]) -> None:
        self.client.publish(f"{self._devices_topic}/{uid}/telemetry", orjson.dumps(payload), qos=1)
        self.published += 1

    def wait_acks(self, count: int, timeout_s: float) -> bool:
        """Waits until ``count`` messages in all (status included) have been acknowledged,
        besides every command answer published so far."""
        deadline = time.monotonic() + timeout_s
        with self._acks_changed:
            while self._acks < count + self._answers_sent:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._acks_changed.wait(remaining)
        return True

    def start(self, uids: Sequence[str], timeout_s: float = 10.0) -> None:
        """Announces every device online and waits for those acknowledgements."""
        self.publish_status(uids, "online")
        if not self.wait_acks(self._status_sent, timeout_s):
            log.warning("simulator: not every online status was acknowledged in %.0f s", timeout_s)

    def finish(self, uids: Sequence[str], timeout_s: float = 10.0) -> None:
        """Waits for outstanding position acks, announces every device offline, disconnects."""
        if not self.wait_acks(self._status_sent + self.published, timeout_s):
            log.warning("simulator: gave up waiting for acknowledgements after %.0f s", timeout_s)
        with self._acks_changed:
            self.acked = min(self.published,
                             max(0, self._acks - self._status_sent - self._answers_sent))
        self.publish_status(uids, "offline")
        self.wait_acks(self._status_sent + self.published, timeout_s)
        self.close()

    def close(self) -> None:
        if self.responder is not None:
            self.responder.close()
        self.client.disconnect()
        self.client.loop_stop()
