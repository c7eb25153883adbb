"""What every family builder uses: random times and places of the day's car, legs, orders
derived from the rendered truth, and guards that hold a script to its labels.

A family draws its day with `Builder`, returns a `Draft`, and `make_day` renders it without
noise, runs the draft's checks and the generic guards on the truth (retrying with new draws
until they pass), fixes the facts (an order's departure is when the car really left) and
returns the LabelledDay. The guards are the domain's definitions (domain.md §6) applied to
what the car really did, with margins: a label None must not be one noise away from firing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fleet.scenario.geo import distance_m
from fleet.scenario.model import Vehicle
from simulator.days.kit import Kit
from simulator.days.model import (
    CST,
    DAY_S,
    RANK,
    Draft,
    LabelledDay,
    OrderFact,
    Place,
    hm,
)
from simulator.days.noise import Delivery, NoiseSettings, apply_noise
from simulator.days.render import inject, render_legs
from simulator.days.truth import TrueTrip, Truth
from simulator.script import ScriptedLeg
from simulator.world import DeviceMessage

Check = Callable[[Truth], str | None]
NOISE = NoiseSettings()
# The scenario's BDT-808P terminals (22 of 197 cars) are taken for OBD plug-ins without an ACC
# wire: they report no `acc`, and the trips are found by speed (domain.md §6). A car keeps its
# terminal on all its days. `terminals`: "model" (so), "acc" (all wired), "obd" (none).
OBD_MODELS = frozenset({"BDT-808P"})
TERMINALS = ("model", "acc", "obd")


def acc_wire(vehicle: Vehicle, terminals: str = "model") -> bool:
    if terminals not in TERMINALS:
        raise ValueError(f"terminals: {terminals!r}")
    if terminals != "model":
        return terminals == "acc"
    return vehicle.device is None or vehicle.device.model not in OBD_MODELS


class DraftRejected(Exception):
    pass


class Builder:
    def __init__(self, kit: Kit, rng: random.Random, plate: str, day: date) -> None:
        self.kit, self.rng, self.plate, self.day = kit, rng, plate, day
        self.vehicle = kit.vehicle(plate)
        self.city = self.vehicle.city_code
        self.home = kit.lot_place(plate)

    # ---- times --------------------------------------------------------------------------------
    def at(self, lo: str, hi: str) -> int:
        """A random time between two local times of the day, on a 10 s grid."""
        return int(self.rng.uniform(hm(lo), hm(hi)) // 10 * 10)

    def minutes(self, lo: float, hi: float) -> int:
        return int(self.rng.uniform(lo, hi) * 60)

    # ---- places ---------------------------------------------------------------------------------
    def dest(self, min_km: float = 3.0, max_km: float = 15.0, *, near: Place | None = None,
             city: str | None = None) -> Place:
        """An ordinary named place of the city between min_km and max_km (from the lot, or
        from `near`), else an ordinary point there."""
        city = city or self.city
        origin = (near or self.home).at
        named = [p for p in self.kit.ordinary_places(city)
                 if min_km * 1000 <= distance_m(origin, p.at) <= max_km * 1000]
        if named:
            return self.rng.choice(named)
        point = self.kit.point_near(origin, min_km * 1000, max_km * 1000, self.rng, city)
        return Place("街边", point, city)

    def spot(self, near: Place, min_m: float, max_m: float) -> Place:
        """An ordinary point (a street, a housing estate) near a place, in the same city."""
        point = self.kit.point_near(near.at, min_m, max_m, self.rng, near.city)
        return Place("路边", point, near.city)

    # ---- legs -----------------------------------------------------------------------------------
    def go(self, to: Place | str, at: int | None = None, **extra) -> ScriptedLeg:
        """Drive to a place ("lot": back to the home lot) and park there."""
        start = {} if at is None else {"start_offset_s": float(at)}
        if to == "lot":
            return ScriptedLeg("drive_to", lot=True, **start, **extra)
        assert isinstance(to, Place)
        return ScriptedLeg("drive_to", coords=to.at, **start, **extra)

    def stay(self, seconds: float) -> ScriptedLeg:
        return ScriptedLeg("stay", duration_s=float(seconds))

    def idle(self, seconds: float) -> ScriptedLeg:
        return ScriptedLeg("idle", duration_s=float(seconds))

    def dark(self, at: float, seconds: float, backfill: bool = False) -> ScriptedLeg:
        return ScriptedLeg("device_dark", start_offset_s=float(at), duration_s=float(seconds),
                           backfill=backfill)

    def errand(self, to: Place, depart: int, stop_s: float, **extra) -> list[ScriptedLeg]:
        """Lot → place, a stop with ACC off, → lot."""
        return [self.go(to, depart, **extra), self.stay(stop_s), self.go("lot")]

    # ---- facts ------------------------------------------------------------------------------------
    def order(self, truth: Truth, trips: list[TrueTrip], destinations: list[Place], *,
              early_min: tuple[float, float] = (0, 20), late_min: tuple[float, float] = (-10, 25),
              **extra) -> OrderFact:
        """An order planned around these trips (planned start a little before the departure,
        planned end around the return), with the actual departure and return."""
        departed, returned = trips[0].start_s, trips[-1].end_s
        start = _round5(departed - self.rng.uniform(*early_min) * 60)
        end = max(start + 1800, _round5(returned + self.rng.uniform(*late_min) * 60))
        fields = {"departed_s": int(departed), "returned_s": int(returned), **extra}
        return OrderFact(start_s=start, end_s=end, origin=self.home,
                         destinations=tuple(destinations), **fields)


def _round5(seconds: float) -> int:
    return int(seconds // 300 * 300)


# ---- guards ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DayKind:
    working: bool
    tomorrow_working: bool


def guards(b: Builder, draft: Draft, truth: Truth, orders: tuple[OrderFact, ...],
           kind: DayKind) -> list[str]:
    """The domain's definitions on the truth, for the rules labelled None (with margins)."""
    problems = []
    lab = draft.labels
    trips = truth.moving_trips()
    if lab["R2"] is None:
        for trip in trips:
            if _in_night(trip, kind):
                problems.append(f"R2 None but a trip in the night window ({trip.start_s:.0f})")
    if lab["R4"] is None and "R4" not in draft.unguarded:
        for t in (hm("21:55"), hm("22:00"), hm("23:00"), hm("23:05")):
            away_m = b.kit.lot_edge_distance_m(b.plate, truth.where(t))
            if not truth.driving(t) and away_m > 40:
                problems.append(f"R4 None but parked {away_m:.0f} m from the lot at {t}")
                break
    if lab["R6"] is None and "R6" not in draft.unguarded and truth.max_speed() > 129:
        problems.append(f"R6 None but {truth.max_speed():.0f} km/h")
    if lab["R10"] is None and "R10" not in draft.unguarded:
        if truth.km(0, DAY_S) > 270 and not _out_of_town(b, orders):
            problems.append(f"R10 None but {truth.km(0, DAY_S):.0f} km in the day")
        problems += _detours(truth, orders)
    if lab["R16"] is None and "R16" not in draft.unguarded and _longest_stint_s(trips) > 3.6 * 3600:
        problems.append("R16 None but a stint over 3.6 h")
    if lab["R5"] is None and "R5" not in draft.unguarded:
        # a.3: leaving the area needs an order going out of it (transit through a third city
        # on the way to an approved one is not this guard's question)
        away = [o for o in orders if o.departed_s is not None
                and any(d.city != b.city for d in o.destinations)]
        for t, point in zip(truth.t[::3], truth.points[::3], strict=True):
            city = b.kit.city_of(point)
            if city != b.city and not any(
                    o.departed_s - 1800 <= t <= (o.returned_s or t) + 1800 for o in away):
                problems.append(f"R5 None but in {city} at {t:.0f} without an order out")
                break
    if lab["R8"] is None and "R8" not in draft.unguarded:
        problem = _long_stop(b, truth, orders)
        if problem:
            problems.append(problem)
    return problems


def planned_km(order: OrderFact) -> float:
    """As the platform plans it: great circle × 1.3 over origin → destinations (→ origin)."""
    points = [order.origin.at] + [d.at for d in order.destinations]
    if order.round_trip:
        points.append(order.origin.at)
    return 1.3 * sum(distance_m(a, c) for a, c in zip(points, points[1:], strict=False)) / 1000


def _detours(truth: Truth, orders: tuple[OrderFact, ...]) -> list[str]:
    """R10(a) with a margin: an order's driving within 90 % of its detour threshold."""
    problems = []
    for o in orders:
        if o.departed_s is None or o.returned_s is None:
            continue
        planned = planned_km(o)
        limit = max(1.3 * planned, planned + 10)
        driven = sum(t.dist_m for t in truth.trips
                     if t.start_s < o.returned_s and t.end_s > o.departed_s) / 1000
        if driven > 0.9 * limit:
            problems.append(f"R10 None but {driven:.1f} km on an order planned {planned:.1f} km")
    return problems


def _in_night(trip: TrueTrip, kind: DayKind) -> bool:
    spans = []
    if kind.working:
        spans += [(0, hm("06:10")), (hm("19:50"), DAY_S)]
    if kind.tomorrow_working:
        spans.append((DAY_S, DAY_S + hm("06:10")))
    return any(trip.start_s < e and trip.end_s > s for s, e in spans)


def _out_of_town(b: Builder, orders: tuple[OrderFact, ...]) -> bool:
    return any(d.city != b.city for o in orders for d in o.destinations)


def _longest_stint_s(trips: list[TrueTrip]) -> float:
    best = run = 0.0
    last_end = None
    for trip in trips:
        if last_end is not None and trip.start_s - last_end >= 20 * 60:
            run = 0.0
        run += trip.duration_s
        best = max(best, run)
        last_end = trip.end_s
    return best


def _long_stop(b: Builder, truth: Truth, orders: tuple[OrderFact, ...]) -> str | None:
    """A stop of 50 min or more outside the lot, 定点 sites, lots and the waypoints of an order
    covering it (the definition of R8, with 10 min to spare)."""
    sites = b.kit.zones("service_site")
    for stop in truth.stops:
        end = stop.end_s if stop.end_s is not None else truth.t[-1]
        if stop.start_s >= DAY_S or end - stop.start_s < 50 * 60:
            continue
        if b.kit.lot_edge_distance_m(b.plate, stop.at) <= 100:
            continue
        if any(distance_m(stop.at, z.centre or (0, 0)) <= (z.radius_m or 0) for z in sites):
            continue
        covering = [o for o in orders if o.departed_s is not None
                    and o.start_s - 1800 <= end and stop.start_s <= o.end_s + 3600]
        points = [o.origin.at for o in covering] + [d.at for o in covering for d in o.destinations]
        if any(distance_m(stop.at, p) <= 1000 for p in points):
            continue
        return f"R8 None but a {(end - stop.start_s) / 60:.0f} min stop away from known places"
    return None


# ---- making a day ---------------------------------------------------------------------------------------

def make_day(kit: Kit, *, family: str, rule: str, clean: bool, plate: str, day: date,
             build: Callable[[Builder], Draft], kind: DayKind, seed: str, day_id: str,
             attempts: int = 25, terminals: str = "model") -> LabelledDay:
    """Draw, render and check until the script keeps its labels; the LabelledDay."""
    rng = random.Random(seed)
    vehicle = kit.vehicle(plate)
    problems: list[str] = []
    for _ in range(attempts):
        b = Builder(kit, rng, plate, day)
        try:
            draft = build(b)
        except (ValueError, IndexError) as exc:      # no place fits: draw again
            problems = [f"build: {exc}"]
            continue
        interval_s = float(draft.interval_s or vehicle.device.report_interval_s)
        render_seed = rng.randrange(2**31)
        start = _midnight(day)
        messages = render_legs(kit.scenario, kit.geography, plate=plate, day_start=start,
                               legs=draft.legs, end_s=draft.end_s, seed=render_seed,
                               interval_s=interval_s, parked_interval_s=60.0)
        truth = Truth(messages)
        try:
            orders = tuple(draft.orders(truth)) if callable(draft.orders) else ()
        except (IndexError, ValueError) as exc:
            problems = [f"orders: {exc}"]
            continue
        problems = [p for check in draft.checks if (p := check(truth)) is not None]
        problems += guards(b, draft, truth, orders, kind)
        if problems:
            continue
        spikes = tuple(draft.spikes(truth)) if callable(draft.spikes) else ()
        labelled = LabelledDay(
            id=day_id, family=family, rule=rule, clean=clean, plate=plate, day=day,
            legs=tuple(draft.legs), end_s=draft.end_s, labels=draft.labels,
            interval_s=interval_s, parked_interval_s=60.0, orders=orders, duty=draft.duty,
            seals=draft.seals, alarms=draft.alarms, spikes=spikes, note=draft.note,
            seed=render_seed, acc_wire=acc_wire(vehicle, terminals), held=draft.held)
        if clean and any(RANK[s] > RANK["info"] for s in labelled.labels.values()):
            raise ValueError(f"{day_id}: a clean family labelled above INFO")
        return labelled
    raise DraftRejected(f"{day_id} ({family}, {plate}, {day}): {problems}")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CST)


def messages_of(kit: Kit, day: LabelledDay) -> list[DeviceMessage]:
    """The day's terminal messages without noise (alarm bits and spikes included)."""
    messages = render_legs(kit.scenario, kit.geography, plate=day.plate, day_start=day.start,
                           legs=day.legs, end_s=day.end_s, seed=day.seed,
                           interval_s=day.interval_s, parked_interval_s=day.parked_interval_s)
    return inject(messages, day.alarms, day.spikes)


def deliveries_of(kit: Kit, day: LabelledDay,
                  noise: NoiseSettings = NOISE) -> tuple[list[Delivery], list[Delivery]]:
    """The day's MQTT messages as its terminal sends them (noise, an OBD terminal's missing
    ACC): those sent in time, and those held back until the rest has been judged."""
    deliveries = apply_noise(messages_of(kit, day), day.id, noise, acc_wire=day.acc_wire)
    if day.held is None:
        return deliveries, []
    lo, hi = (day.at(s).isoformat(timespec="milliseconds") for s in day.held)
    late = [d for d in deliveries if any(lo <= p["ts"] < hi for p in d.items)]
    held = {id(d) for d in late}
    return [d for d in deliveries if id(d) not in held], late


def next_day(day: date) -> date:
    return day + timedelta(days=1)
