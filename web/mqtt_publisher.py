"""The web process's MQTT client: publishes device-contract messages for a phone that stands
in for a terminal (the driver's page, web/routes/driver.py), so that its positions take the
same road as a terminal's: broker → ingest → PostgreSQL, Redis, the console.

paho runs its network loop in its own thread (loop_start). `publish` is awaited on the event
loop: it sends at QoS 1 and waits for the broker's PUBACK, which paho reports in its thread;
the acknowledgement is handed to the event loop with call_soon_threadsafe. The future is
registered before the event loop runs again, so an acknowledgement can never come "too early".
Nothing is queued while the broker is away: the caller gets `TelemetryUnavailable` at once and
the phone simply sends its next fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import uuid
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.mqtt_url import parse_mqtt_url

log = logging.getLogger(__name__)


class TelemetryUnavailable(Exception):
    """The broker is not connected, refused the message, or did not acknowledge it in time."""


class DevicePublisher:
    def __init__(self, mqtt_url: str, *, topic_root: str, client_id: str | None = None) -> None:
        self.address = parse_mqtt_url(mqtt_url)
        self._devices_topic = f"{topic_root.rstrip('/')}/devices"
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"fleet-web-{uuid.uuid4().hex[:12]}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if self.address.username:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self.connected = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[None]] = {}

    # paho callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("web MQTT publisher: connection refused: %s", reason)
            return
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.connected.clear()
        if reason.is_failure:
            log.warning("web MQTT publisher: disconnected (%s); paho reconnects", reason)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._acknowledged, mid)

    # event loop --------------------------------------------------------------------------
    def _acknowledged(self, mid: int) -> None:
        future = self._pending.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    def start(self) -> None:
        """Connects in the background: the web app starts even while the broker is away."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()

    async def wait_connected(self, timeout_s: float) -> bool:
        return await asyncio.to_thread(self.connected.wait, timeout_s)

    async def publish_telemetry(self, uid: str, payload: dict[str, Any], *, timeout_s: float) -> None:
        """One position on {root}/devices/{uid}/telemetry at QoS 1, acknowledged by the broker."""
        await self._publish(f"{self._devices_topic}/{uid}/telemetry", orjson.dumps(payload), timeout_s)

    async def publish_command(self, uid: str, command: dict[str, Any], *, timeout_s: float) -> None:
        """A platform → device command on {root}/devices/{uid}/cmd (docs/device-contract.md),
        e.g. a remote reminder (远程提醒) the terminal shows and speaks."""
        await self._publish(f"{self._devices_topic}/{uid}/cmd", orjson.dumps(command), timeout_s)

    async def _publish(self, topic: str, payload: bytes, timeout_s: float) -> None:
        if self._loop is None or not self.connected.is_set():
            raise TelemetryUnavailable("the MQTT broker is not connected")
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise TelemetryUnavailable(f"the MQTT client refused the message ({info.rc})")
        future: asyncio.Future[None] = self._loop.create_future()
        self._pending[info.mid] = future  # before any await: the ack cannot overtake it
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            raise TelemetryUnavailable(f"no acknowledgement from the broker in {timeout_s:g} s") from None
        finally:
            self._pending.pop(info.mid, None)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.disconnect()
        self._client.loop_stop()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
