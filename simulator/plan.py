"""What a vehicle does next: steps, random outings and the translation of scripts into steps.

The default plan starts the day at the simulator's start time (a demo may start at any
hour): about two thirds of the vehicles leave within the first two simulated minutes (the first after 5 s), a sixth
later in the first four hours, the rest stay parked. An outing is lot -> 1-3 places in the
city (or one place in another city along the expressway) -> back to the lot, with a stop of
5-40 minutes (ACC off) at each place; after it, most vehicles go out again 40 min-3 h later.

Outings other than the first minutes' keep to the day (``keep_to_daytime``): one that would
leave before 07:00 or come back after 21:00 (local time) leaves the next morning instead, so
that the cars stand in their lots at night (R2, R4) as pooled cars do.

Each outing comes with what its trip request would say (``Outing``: departure, destinations
with their cities, the time at each) and what its routes say (``survey_outing``: the
estimated return, the cities crossed on the way): the demo files an order for it before the
car leaves (simulator/demo_orders.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Literal

from fleet.scenario.model import LonLat, Scenario, Vehicle
from simulator.route import Geography
from simulator.script import Script, ScriptError

FIRST_DEPARTURE_S = (5.0, 120.0)  # a demo shows moving cars within seconds
LATE_DEPARTURE_S = (20 * 60.0, 4 * 3600.0)
STOP_S = (5 * 60.0, 40 * 60.0)
NEXT_OUTING_S = (40 * 60.0, 3 * 3600.0)
SHARE_EARLY, SHARE_LATE = 2 / 3, 1 / 6
SHARE_INTERCITY = 0.12
SHARE_GO_AGAIN = 0.7
DAY_S = 86_400.0
DAY_FROM_S, DAY_UNTIL_S = 7 * 3600.0, 21 * 3600.0  # local time of day outings keep to
MORNING_SPREAD_S = 90 * 60.0  # next-morning departures spread over 07:00-08:30
# Effective speeds for the estimate (lights, bends and braking included), calibrated on the
# vehicle model of simulator/vehicle.py (tests/unit/test_simulator_outings.py).
ESTIMATE_KMH = {"urban": 22.0, "arterial": 48.0, "expressway": 92.0}


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
    departs: int | None = None  # this drive starts the vehicle's outing number N
    returns: int | None = None  # arriving ends the vehicle's outing number N


@dataclass(frozen=True)
class DarkWindow:
    start_s: float
    end_s: float
    backfill: bool


@dataclass(frozen=True)
class Destination:
    name: str
    at: LonLat
    city_code: str


@dataclass(frozen=True)
class Outing:
    """A random outing: the steps that drive it and what its request would say."""

    depart_s: float
    destinations: tuple[Destination, ...]
    dwell_s: tuple[float, ...]  # parked at each destination
    steps: tuple[Step, ...]

    def numbered(self, number: int) -> Outing:
        """The same outing whose first and last steps report its departure and return."""
        steps = list(self.steps)
        steps[0] = replace(steps[0], departs=number)
        steps[-1] = replace(steps[-1], returns=number)
        return replace(self, steps=tuple(steps))

    def shifted(self, delta_s: float) -> Outing:
        """Leaving delta_s later: only the first step has a fixed time, the rest follow it."""
        first = replace(self.steps[0], not_before_s=self.steps[0].not_before_s + delta_s)
        return replace(self, depart_s=self.depart_s + delta_s, steps=(first, *self.steps[1:]))


@dataclass(frozen=True)
class OutingReport:
    """What a vehicle tells of its random outing N (counted from 0): planned (with the plan
    and its estimated return), departed or returned (with the odometer)."""

    kind: Literal["planned", "departed", "returned"]
    plate: str
    number: int
    at_s: float  # simulated time it happened
    odometer_km: float | None = None
    outing: Outing | None = None
    return_s: float | None = None
    transit: tuple[Destination, ...] = ()  # planned: cities crossed on the way


def _seconds(rng: random.Random, low_high: tuple[float, float]) -> float:
    """A whole number of seconds: the schedule stays on the GNSS clock's resolution."""
    return float(round(rng.uniform(*low_high)))


def first_outing(rng: random.Random, scenario: Scenario, vehicle: Vehicle) -> Outing | None:
    draw = rng.random()
    if draw < SHARE_EARLY:
        return _outing(rng, scenario, vehicle, _seconds(rng, FIRST_DEPARTURE_S))
    if draw < SHARE_EARLY + SHARE_LATE:
        return _outing(rng, scenario, vehicle, _seconds(rng, LATE_DEPARTURE_S))
    return None


def later_outing(
    rng: random.Random, scenario: Scenario, vehicle: Vehicle, now_s: float
) -> Outing | None:
    if rng.random() >= SHARE_GO_AGAIN:
        return None
    return _outing(rng, scenario, vehicle, now_s + _seconds(rng, NEXT_OUTING_S))


def _outing(rng: random.Random, s: Scenario, vehicle: Vehicle, depart_s: float) -> Outing:
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
            stops.append(_place_in(rng, s, home, exclude=stops[-1].at if stops else None))
        stop_range = STOP_S
    steps = [Step("drive", not_before_s=depart_s, target=stops[0].at)]
    dwell: list[float] = []
    for target in stops[1:]:
        dwell.append(_seconds(rng, stop_range))
        steps.append(Step("drive", delay_s=dwell[-1], target=target.at))
    dwell.append(_seconds(rng, stop_range))
    steps.append(Step("drive", delay_s=dwell[-1], to_lot=True))
    return Outing(depart_s, tuple(stops), tuple(dwell), tuple(steps))


def _place_in(
    rng: random.Random, s: Scenario, city_code: str, exclude: LonLat | None
) -> Destination:
    places = [p for p in s.places_in(city_code) if p.location != exclude]
    if places:
        place = rng.choice(places)
        return Destination(place.name_zh, place.location, city_code)
    city = s.city_by_code[city_code]
    return Destination(city.name_zh, city.centre, city_code)


@dataclass(frozen=True)
class Survey:
    """What the routes of a planned outing say before it leaves."""

    return_s: float  # estimated: back at the lot
    transit: tuple[Destination, ...]  # other cities its expressways cross (途经), a point in each


def survey_outing(geography: Geography, gate: LonLat, outing: Outing) -> Survey:
    """The estimated return: the drives along the geography's routes at the effective
    speeds, plus the time at each destination; and the cities crossed on the way that are
    neither home nor a destination (Wuhan to Huangshi runs through Ezhou): an order must name
    them too, or R5 sees the car leave its area for a city nobody approved. Only expressways
    cross cities (urban paths keep inside theirs), and they are not jittered: the car passes
    the very points named. A scratch random generator draws the routes' bends, so surveying
    leaves the vehicle's own draws untouched."""
    rng = random.Random(0)
    points = [gate, *(d.at for d in outing.destinations), gate]
    known = {geography.city_at(gate), *(d.city_code for d in outing.destinations)}
    crossed: dict[str, list[LonLat]] = {}
    drive_s = 0.0
    for a, b in zip(points, points[1:], strict=False):
        route = geography.route(a, b, rng)
        for i, kind in enumerate(route.kinds):
            seg_m = route.cum_m[i + 1] - route.cum_m[i]
            drive_s += seg_m / (ESTIMATE_KMH[kind] / 3.6)
            city = geography.city_at(route.points[i + 1]) if kind == "expressway" else None
            if city is not None and city not in known:
                crossed.setdefault(city, []).append(route.points[i + 1])
    transit = tuple(
        Destination(f"途经{geography.scenario.city_by_code[city].name_zh}",
                    at[len(at) // 2], city)
        for city, at in crossed.items()
    )
    return Survey(outing.depart_s + drive_s + sum(outing.dwell_s), transit)


def keep_to_daytime(outing: Outing, return_s: float, local_s_at_start: float) -> float:
    """How much later the outing must leave to keep to 07:00-21:00 local time: 0 when it
    does; else to the next possible morning (the same morning when it would leave before
    07:00), spread over MORNING_SPREAD_S by its own departure second."""
    depart_local = local_s_at_start + outing.depart_s
    day_start = depart_local - depart_local % DAY_S
    if depart_local - day_start >= DAY_FROM_S and \
            local_s_at_start + return_s <= day_start + DAY_UNTIL_S:
        return 0.0
    morning = day_start + DAY_FROM_S
    if morning <= depart_local:
        morning += DAY_S
    return morning + outing.depart_s % MORNING_SPREAD_S - depart_local
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
