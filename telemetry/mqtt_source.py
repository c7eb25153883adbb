"""paho-mqtt in its own thread, handing every message to asyncio.

The paho network loop runs in a background thread (loop_start); on_message only stamps the
arrival time and appends the message to a deque that the event loop empties, woken with
call_soon_threadsafe once per burst; the asyncio side never blocks on the socket and the paho
thread never waits on asyncio.

Besides telemetry and status the source subscribes to the terminals' command
acknowledgements (`{root}/devices/+/cmd/ack`, see `with_command_acks`).

Acknowledgement is manual: a QoS 1 message is acknowledged (PUBACK) only after the worker
has it durably in PostgreSQL, so a crash before that makes the broker redeliver it to the
persistent session; the unique key (device, ts, seq) makes the redelivery a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque

import paho.mqtt.client as mqtt

from fleet.mqtt_url import parse_mqtt_url
from telemetry.model import RawMessage

log = logging.getLogger(__name__)


def with_command_acks(topics: list[str]) -> list[str]:
    """The telemetry subscriptions and, beside each `…/devices/+/telemetry`, the matching
    `…/devices/+/cmd/ack`: terminals acknowledge the platform's commands (remote reminders)
    there, and ingest records the answer (same shared group, if any)."""
    out = list(topics)
    for topic in topics:
        if topic.endswith("/devices/+/telemetry"):
            ack = topic[: -len("telemetry")] + "cmd/ack"
            if ack not in out:
                out.append(ack)
    return out


def new_client(client_id: str, *, clean_session: bool, manual_ack: bool = False) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


class MqttSource:
    """Subscribes with QoS 1 on a persistent session and feeds `queue` with RawMessages."""

    def __init__(self, url: str, client_id: str, topics: list[str]) -> None:
        self._address = parse_mqtt_url(url)
        self._topics = with_command_acks(topics)
        self._client = new_client(client_id, clean_session=False, manual_ack=True)
        if self._address.username:
            self._client.username_pw_set(self._address.username, self._address.password)
        if self._address.tls:
            self._client.tls_set()
        self.connected = threading.Event()
        self._stopping = False
        self._stopped = False

    def start(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[RawMessage]) -> None:
        def on_connect(client, userdata, flags, reason_code, properties):  # noqa: ANN001
            if reason_code.is_failure:
                log.error("MQTT connect refused: %s", reason_code)
                return
            client.subscribe([(topic, 1) for topic in self._topics])
            self.connected.set()
            log.info("MQTT connected to %s:%s", self._address.host, self._address.port)

        def on_disconnect(client, userdata, flags, reason_code, properties):  # noqa: ANN001
            self.connected.clear()
            if not self._stopping:
                log.warning("MQTT disconnected (%s); paho reconnects", reason_code)

        pending: deque[RawMessage] = deque()  # paho thread appends, the event loop empties
        wake = {"scheduled": False}

        def hand_over() -> None:  # on the event loop
            wake["scheduled"] = False  # first: a message appended from now on wakes us again
            while pending:
                queue.put_nowait(pending.popleft())

        def on_message(client, userdata, message):  # noqa: ANN001
            pending.append(
                RawMessage(message.topic, message.payload, int(time.time() * 1000), message.mid, message.qos)
            )
            # one wake-up per burst, not per message: waking the loop writes to its self-pipe,
            # which at thousands of messages a second cost more than the rest of ingest
            if not wake["scheduled"]:
                wake["scheduled"] = True
                loop.call_soon_threadsafe(hand_over)

        self._client.on_connect = on_connect
        self._client.on_disconnect = on_disconnect
        self._client.on_message = on_message
        self._client.connect_async(self._address.host, self._address.port, keepalive=30)
        self._client.loop_start()

    def ack(self, messages: list[RawMessage]) -> None:
        """PUBACK the messages now durable (paho queues the packet; safe from this thread).
        After `stop` this does nothing: the broker redelivers them, which is harmless."""
        if self._stopping:
            return
        for msg in messages:
            if msg.qos > 0:
                self._client.ack(msg.mid, msg.qos)

    def stop(self) -> None:
        """Disconnect, keeping the subscriptions: the persistent session goes on collecting
        what devices publish until the worker is back. (Unsubscribing first would end that:
        everything published during a restart would be lost.) Messages received and not yet
        acknowledged are redelivered on the next connect. Blocking (joins paho's thread):
        call it through asyncio.to_thread."""
        if self._stopped:
            return
        self._stopping = self._stopped = True
        self._client.disconnect()
        self._client.loop_stop()
