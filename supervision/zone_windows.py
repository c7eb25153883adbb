"""Time windows of geofences (电子围栏的时段): ISO weekdays and local minutes of the day, a
window past midnight belonging to the weekday it starts on. Pure code (split from zones.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TimeWindow:
    """Active on these ISO weekdays from from_min to to_min (minutes of the local day; to_min
    may be 1440; to_min < from_min: runs past midnight into the next day)."""

    weekdays: frozenset[int]
    from_min: int
    to_min: int

    def covers(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        weekday = local.isoweekday()
        if self.from_min < self.to_min:
            return weekday in self.weekdays and self.from_min <= minute < self.to_min
        previous = 7 if weekday == 1 else weekday - 1
        return (weekday in self.weekdays and minute >= self.from_min) or (
            previous in self.weekdays and minute < self.to_min
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "weekdays": sorted(self.weekdays),
            "from": _hhmm(self.from_min),
            "to": _hhmm(self.to_min),
        }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    """'HH:MM' (00:00 … 24:00) -> minutes of the day; ValueError otherwise."""
    hours, sep, minutes = str(text).partition(":")
    if not sep or len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"not a time HH:MM: {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


def parse_time_windows(raw: Any) -> tuple[TimeWindow, ...]:
    """The stored [{"weekdays": [1..7], "from": "HH:MM", "to": "HH:MM"}]; ValueError if bad."""
    if isinstance(raw, str):
        raw = json.loads(raw)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("time_windows must be a list")
    windows = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValueError("a time window must be an object")
        days = item.get("weekdays", list(range(1, 8)))
        if (not isinstance(days, list) or not days
                or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7
                       for d in days)):
            raise ValueError("weekdays must be a non-empty list of 1 (Monday) … 7 (Sunday)")
        start, end = parse_hhmm(item.get("from", "")), parse_hhmm(item.get("to", ""))
        if start == end or start == 24 * 60:
            raise ValueError("a time window must not be empty")
        windows.append(TimeWindow(frozenset(days), start, end))
    return tuple(windows)
