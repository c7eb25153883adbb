"""Per-client pending updates and visibility (pure, no I/O).

A slow client must not make memory grow: instead of a queue of messages, each client keeps
only the newest pending position and the newest pending status per vehicle. Whatever the
publish rate, a client holds at most two entries per visible vehicle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from web.vehicle_state import withhold_position


def _ts_ms(item: dict[str, Any]) -> int:
    value = item.get("ts_ms")
    return value if isinstance(value, int) else 0


class CoalescingBuffer:
    def __init__(self) -> None:
        self._positions: dict[int, dict[str, Any]] = {}
        self._statuses: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._positions) + len(self._statuses)

    @staticmethod
    def _merge(pending: dict[int, dict[str, Any]], items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            vehicle_id = item["vehicle_id"]
            current = pending.get(vehicle_id)
            # Late data (盲区补报) must not replace a newer pending fix of the same vehicle.
            if current is None or _ts_ms(item) >= _ts_ms(current):
                pending[vehicle_id] = item

    def add_positions(self, items: Iterable[dict[str, Any]]) -> None:
        self._merge(self._positions, items)

    def add_statuses(self, items: Iterable[dict[str, Any]]) -> None:
        self._merge(self._statuses, items)

    def drain(self) -> list[dict[str, Any]]:
        """The messages to send now (status first, then positions), leaving the buffer empty."""
        messages = []
        if self._statuses:
            messages.append({"type": "status", "items": list(self._statuses.values())})
        if self._positions:
            messages.append({"type": "positions", "items": list(self._positions.values())})
        self._statuses = {}
        self._positions = {}
        return messages


@dataclass(frozen=True)
class LiveView:
    """What one client may see: its visible vehicles, and those whose positions are withheld."""

    visible_ids: frozenset[int]
    withheld_ids: frozenset[int]

    def positions(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        visible = []
        for item in items:
            vehicle_id = item.get("vehicle_id")
            if vehicle_id not in self.visible_ids:
                continue
            visible.append(withhold_position(item) if vehicle_id in self.withheld_ids else item)
        return visible

    def statuses(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item for item in items if item.get("vehicle_id") in self.visible_ids]
