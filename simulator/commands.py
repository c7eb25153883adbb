"""Simulated terminals answer platform commands (docs/device-contract.md): a command on
``{root}/devices/{uid}/cmd`` (e.g. a remote reminder 远程提醒) is acknowledged on
``{root}/devices/{uid}/cmd/ack`` with ``{"id": <the command's id>, "ok": true}``.

The gateway connection subscribes once to ``{root}/devices/+/cmd`` and answers for the devices
it simulates. Real terminals are not all prompt: a share of commands may be answered late
(``late_share``, after ``late_delay_s``) or never (``never_share``) — a terminal asleep or out
of coverage — so that the platform's delivery bookkeeping sees both. Which commands are late
or lost is decided by a hash of (seed, command id): the same run answers the same way.
Default: every command answered at once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import orjson

log = logging.getLogger(__name__)

Answer = Literal["now", "late", "never"]


@dataclass(frozen=True)
class AckPolicy:
    late_share: float = 0.0
    never_share: float = 0.0
    late_delay_s: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (0.0 <= self.late_share <= 1.0 and 0.0 <= self.never_share <= 1.0):
            raise ValueError("late_share and never_share must be in [0, 1]")
        if self.late_share + self.never_share > 1.0:
            raise ValueError("late_share + never_share must not exceed 1")
        if self.late_delay_s < 0:
            raise ValueError("late_delay_s must not be negative")

    def answer(self, command_id: str) -> Answer:
        """How the terminal answers this command: at once, late, or never."""
        digest = hashlib.sha256(f"{self.seed}:{command_id}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw < self.never_share:
            return "never"
        if draw < self.never_share + self.late_share:
            return "late"
        return "now"


def parse_command(topic: str, payload: bytes, devices_topic: str) -> tuple[str, str] | None:
    """(device uid, command id) of a command message; None for anything else (not a command
    topic, bad JSON, no id)."""
    prefix = devices_topic.rstrip("/") + "/"
    if not topic.startswith(prefix) or not topic.endswith("/cmd"):
        return None
    uid = topic[len(prefix):-len("/cmd")]
    if not uid or "/" in uid:
        return None
    try:
        command = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(command, dict) or command.get("id") in (None, ""):
        return None
    return uid, str(command["id"])


def ack_payload(command_id: str) -> bytes:
    return orjson.dumps({"id": command_id, "ok": True})


class CommandResponder:
    """Answers commands for a set of device uids through ``publish(topic, payload)``.

    ``handle`` runs on paho's network thread; late answers run on timer threads. Counters say
    what happened (for the simulator's final line and for tests)."""

    def __init__(self, uids: Iterable[str], devices_topic: str, policy: AckPolicy,
                 publish: Callable[[str, bytes], None]) -> None:
        self.uids = frozenset(uids)
        self.devices_topic = devices_topic.rstrip("/")
        self.policy = policy
        self._publish = publish
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self.received = 0
        self.answered = 0
        self.withheld = 0

    @property
    def subscription(self) -> str:
        return f"{self.devices_topic}/+/cmd"

    def handle(self, topic: str, payload: bytes) -> None:
        parsed = parse_command(topic, payload, self.devices_topic)
        if parsed is None:
            return
        uid, command_id = parsed
        if uid not in self.uids:
            return                                  # another gateway's device
        with self._lock:
            self.received += 1
        answer = self.policy.answer(command_id)
        if answer == "never":
            with self._lock:
                self.withheld += 1
            log.info("simulator: device %s leaves command %s unanswered", uid, command_id)
            return
        if answer == "late":
            timer = threading.Timer(self.policy.late_delay_s, self._ack, (uid, command_id))
            timer.daemon = True
            with self._lock:
                self._timers.append(timer)
            timer.start()
            return
        self._ack(uid, command_id)

    def _ack(self, uid: str, command_id: str) -> None:
        self._publish(f"{self.devices_topic}/{uid}/cmd/ack", ack_payload(command_id))
        with self._lock:
            self.answered += 1

    def close(self) -> None:
        """Cancels late answers still pending (the simulator is stopping)."""
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
