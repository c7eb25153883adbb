"""Scripted behaviour for chosen vehicles: the way tests and demos inject misbehaviour.

A script replaces the random day plan of its vehicle. Its legs run in order; each starts at
``start_offset_s`` seconds after the simulator's start, or when the previous leg ends if that
is later. ``device_dark`` is an overlay: it starts at its own offset and does not delay the
next leg, so "drive off, go dark while moving, reappear" is two legs.

Actions:
- ``drive_to``: drive to one of ``place`` (place code), ``coords`` ([lon, lat]), ``city`` (a
  city code: its first named place, else its centre) or ``lot: true`` (back to the home lot),
  then park with ACC off. ``speed_kmh`` makes it cruise at that speed (e.g. to provoke R6);
  ``expressway_kmh`` only on the expressway stretches.
- ``park_at``: the car is parked at ``coords`` (or ``place``) from that moment without driving
  there: a starting position away from the lot at offset 0, or a jump while the device is dark.
- ``stay``: stay parked where it is for ``duration_s``.
- ``idle``: stand where it is with the engine running (ACC on) for ``duration_s`` — a drop-off
  or a wait without switching off; ACC goes off at the end unless a drive follows at once.
- ``device_dark``: the terminal sends nothing for ``duration_s``; with ``backfill: true`` it
  stores the positions and sends them late when it comes back (盲区补报).

YAML form (``load_scripts``)::

    scripts:
      - plate: 鄂A·D12345
        legs:
          - {action: drive_to, start_offset_s: 60, city: "420900"}
          - {action: device_dark, start_offset_s: 900, duration_s: 1200}
          - {action: drive_to, lot: true}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from fleet.scenario.model import LonLat

Action = Literal["drive_to", "park_at", "stay", "idle", "device_dark"]
ACTIONS = ("drive_to", "park_at", "stay", "idle", "device_dark")


class ScriptError(ValueError):
    """A script is malformed or names a vehicle, place or city the scenario does not have."""


@dataclass(frozen=True)
class ScriptedLeg:
    action: Action
    start_offset_s: float = 0.0
    place: str | None = None
    coords: LonLat | None = None
    city: str | None = None
    lot: bool = False
    duration_s: float = 0.0
    speed_kmh: float | None = None
    backfill: bool = False
    expressway_kmh: float | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ScriptError(f"unknown action '{self.action}', expected one of {ACTIONS}")
        targets = sum(x is not None for x in (self.place, self.coords, self.city)) + self.lot
        if self.action == "drive_to" and targets != 1:
            raise ScriptError("drive_to needs exactly one of place, coords, city or lot")
        if self.action == "park_at" and (targets != 1 or self.city or self.lot):
            raise ScriptError("park_at needs exactly one of coords or place")
        if self.action in ("stay", "idle", "device_dark") and self.duration_s <= 0:
            raise ScriptError(f"{self.action} needs a positive duration_s")
        if self.start_offset_s < 0:
            raise ScriptError("start_offset_s must not be negative")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ScriptedLeg:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ScriptError(f"unknown leg field(s) {sorted(unknown)}")
        values = dict(raw)
        if values.get("coords") is not None:
            lon, lat = values["coords"]
            values["coords"] = (float(lon), float(lat))
        for key in ("place", "city"):
            if values.get(key) is not None:
                values[key] = str(values[key])
        return cls(**values)


@dataclass(frozen=True)
class Script:
    plate: str
    legs: tuple[ScriptedLeg, ...]

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Script:
        plate = raw.get("plate")
        legs = raw.get("legs")
        if not plate or not isinstance(legs, list) or not legs:
            raise ScriptError(f"a script needs a plate and a non-empty list of legs: {raw!r}")
        try:
            return cls(str(plate), tuple(ScriptedLeg.from_dict(leg) for leg in legs))
        except (ScriptError, TypeError, ValueError) as exc:
            raise ScriptError(f"script for {plate}: {exc}") from exc


def parse_scripts(data: Mapping[str, Any]) -> tuple[Script, ...]:
    """Scripts from ``{"scripts": [...]}``."""
    items = data.get("scripts") or []
    if not isinstance(items, list):
        raise ScriptError("'scripts' must be a list")
    scripts = tuple(Script.from_dict(item) for item in items)
    plates = [s.plate for s in scripts]
    duplicates = {p for p in plates if plates.count(p) > 1}
    if duplicates:
        raise ScriptError(f"more than one script for {sorted(duplicates)}")
    return scripts


def load_scripts(path: Path) -> tuple[Script, ...]:
    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    if not isinstance(data, dict):
        raise ScriptError(f"{path}: expected a mapping with a 'scripts' list")
    return parse_scripts(data)
