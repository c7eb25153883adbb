"""What a vehicle does next: steps, random outings and the translation of scripts into steps.

The default plan starts the day at the simulator's start time (a demo may start at any
hour): about two thirds of the vehicles leave within the first two simulated minutes (the first after 5 s), a sixth
later in the first four hours, the rest stay parked. An outing is lot -> 1-3 places in the
city (or one place in another city along the expressway) -> back to the lot, with a stop of
5-40 minutes (ACC off) at each place; after it, most vehicles go out again 40 min-3 h later.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from fleet.scenario.model import LonLat, Scenario, Vehicle
from simulator.script import Script, ScriptError

FIRST_DEPARTURE_S = (5.0, 120.0)  # a demo shows moving cars within seconds
LATE_DEPARTURE_S = (20 * 60.0, 4 * 3600.0)
STOP_S = (5 * 60.0, 40 * 60.0)
NEXT_OUTING_S = (40 * 60.0, 3 * 3600.0)
SHARE_EARLY, SHARE_LATE = 2 / 3, 1 / 6
SHARE_INTERCITY = 0.12
SHARE_GO_AGAIN = 0.7


@dataclass(frozen=True)
class Step:
    """One thing to do; it starts at max(not_before_s, end of the previous step + delay_s)."""

    kind: Literal["drive", "park_at", "stay", "idle"]
    not_before_s: float = 0.0
    delay_s: float = 0.0
    target: LonLat | None = None
    to_lot: bool = False  # drive back to a free spot in the home lot
    duration_s: float = 0.0
    speed_kmh: float | None = None
    expressway_kmh: float | None = None  # cruise speed on expressway stretches only


@dataclass(frozen=True)
class DarkWindow:
    start_s: float
    end_s: float
    backfill: bool


def _seconds(rng: random.Random, low_high: tuple[float, float]) -> float:
    """A whole number of seconds: the schedule stays on the GNSS clock's resolution."""
    return float(round(rng.uniform(*low_high)))


def first_outing(rng: random.Random, scenario: Scenario, vehicle: Vehicle) -> list[Step]:
    draw = rng.random()
    if draw < SHARE_EARLY:
        return _outing(rng, scenario, vehicle, _seconds(rng, FIRST_DEPARTURE_S))
    if draw < SHARE_EARLY + SHARE_LATE:
        return _outing(rng, scenario, vehicle, _seconds(rng, LATE_DEPARTURE_S))
    return []


def later_outing(
    rng: random.Random, scenario: Scenario, vehicle: Vehicle, now_s: float
) -> list[Step]:
    if rng.random() >= SHARE_GO_AGAIN:
        return []
    return _outing(rng, scenario, vehicle, now_s + _seconds(rng, NEXT_OUTING_S))


def _outing(rng: random.Random, s: Scenario, vehicle: Vehicle, depart_s: float) -> list[Step]:
    home = vehicle.city_code
    away = [
        r.to_city_code if r.from_city_code == home else r.from_city_code
        for r in s.roads
        if home in (r.from_city_code, r.to_city_code)
    ]
    if away and rng.random() < SHARE_INTERCITY:
        stops = [_place_in(rng, s, rng.choice(away), exclude=None)]
        stop_range = (20 * 60.0, 60 * 60.0)
    else:
        stops = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            stops.append(_place_in(rng, s, home, exclude=stops[-1] if stops else None))
        stop_range = STOP_S
    steps = [Step("drive", not_before_s=depart_s, target=stops[0])]
    for target in stops[1:]:
        steps.append(Step("drive", delay_s=_seconds(rng, stop_range), target=target))
    steps.append(Step("drive", delay_s=_seconds(rng, stop_range), to_lot=True))
    return steps


def _place_in(rng: random.Random, s: Scenario, city_code: str, exclude: LonLat | None) -> LonLat:
    places = [p.location for p in s.places_in(city_code) if p.location != exclude]
    if places:
        return rng.choice(places)
    return s.city_by_code[city_code].centre


def script_steps(scenario: Scenario, script: Script) -> tuple[list[Step], list[DarkWindow]]:
    """A script's legs as steps, plus the windows in which its device is dark."""
    steps: list[Step] = []
    dark: list[DarkWindow] = []
    for leg in script.legs:
        at = leg.start_offset_s
        if leg.action == "device_dark":
            dark.append(DarkWindow(at, at + leg.duration_s, leg.backfill))
        elif leg.action in ("stay", "idle"):
            steps.append(Step(leg.action, not_before_s=at, duration_s=leg.duration_s))
        else:
            kind: Literal["drive", "park_at"] = "drive" if leg.action == "drive_to" else "park_at"
            target = (
                None
                if leg.lot
                else _resolve(scenario, script.plate, leg.place, leg.coords, leg.city)
            )
            steps.append(
                Step(kind, not_before_s=at, target=target, to_lot=leg.lot, speed_kmh=leg.speed_kmh,
                     expressway_kmh=leg.expressway_kmh)
            )
    return steps, dark


def _resolve(
    s: Scenario, plate: str, place: str | None, coords: LonLat | None, city: str | None
) -> LonLat:
    if coords is not None:
        return coords
    if place is not None:
        if place not in s.place_by_code:
            raise ScriptError(f"script for {plate}: unknown place '{place}'")
        return s.place_by_code[place].location
    assert city is not None
    if city not in s.city_by_code:
        raise ScriptError(f"script for {plate}: unknown city '{city}'")
    places = s.places_in(city)
    return places[0].location if places else s.city_by_code[city].centre
