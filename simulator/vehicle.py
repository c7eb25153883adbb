"""One simulated vehicle and its terminal: movement, energy, and the reports it sends.

Time is simulated seconds since the simulator's start. The vehicle advances in steps of at
most one second while driving (so light stops and braking are smooth) and jumps while parked.
Speeds follow a simple model: a cruise speed drawn per stretch (urban 20-50 km/h, arterial
45-75 km/h, expressway 80-115 km/h), acceleration 1.5 m/s², braking 2.5 m/s² towards each
stop: a red light (every 300-900 m in town, 1.5-4 km on arterials, 10-45 s long, ACC on) or
the destination, where ACC goes off.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shapely import Point, Polygon

from fleet.scenario.geo import offset
from fleet.scenario.model import Depot, LonLat, Scenario, Vehicle
from simulator.plan import (
    FIRST_DEPARTURE_S,
    DarkWindow,
    Outing,
    OutingReport,
    Step,
    first_outing,
    keep_to_daytime,
    later_outing,
    survey_outing,
)
from simulator.route import Geography, Route, SegmentKind

PARKED_MIN_INTERVAL_S = 30.0
SUBSTEP_S = 1.0
ACCEL_MS2, BRAKE_MS2 = 1.5, 2.5
CRUISE_KMH: dict[SegmentKind, tuple[float, float]] = {
    "urban": (20.0, 50.0),
    "arterial": (45.0, 75.0),
    "expressway": (80.0, 115.0),
}
REDRAW_M: dict[SegmentKind, tuple[float, float]] = {
    "urban": (300.0, 800.0),
    "arterial": (1_000.0, 3_000.0),
    "expressway": (2_000.0, 6_000.0),
}
LIGHT_EVERY_M: dict[SegmentKind, tuple[float, float]] = {
    "urban": (300.0, 900.0),
    "arterial": (1_500.0, 4_000.0),
}
LIGHT_WAIT_S = (10.0, 45.0)
PARKED_JITTER_M = 2.0  # GNSS noise of a parked car
LOT_MARGIN_M = 8.0  # parking spots keep this far from the lot's edge
# consumption per 100 km by car level: fuel litres, electric kWh, PHEV litres once the battery is low
FUEL_L: dict[str, tuple[float, float]] = {
    "sedan": (8, 10),
    "business": (10, 12),
    "minibus": (13, 15),
    "bus": (22, 26),
}
ELECTRIC_KWH: dict[str, tuple[float, float]] = {
    "sedan": (15, 18),
    "business": (18, 21),
    "minibus": (30, 36),
    "bus": (85, 100),
}
PHEV_FUEL_L = (5.5, 7.0)
PHEV_MIN_SOC_PCT = 20.0
CHARGE_KW = {"sedan": 7.0, "business": 7.0, "minibus": 20.0, "bus": 60.0}  # at the lot


@dataclass
class _Drive:
    route: Route
    speed_kmh: float | None  # scripted cruise speed
    expressway_kmh: float | None = None  # scripted cruise speed on expressway stretches
    progress_m: float = 0.0
    kind: SegmentKind | None = None
    cruise_kmh: float = 0.0
    redraw_at_m: float = 0.0
    next_light_m: float = math.inf
    hold_until_s: float = -1.0
    returns: int | None = None  # arriving ends this outing


POWER_ON_REPORT_S = 3


class VehicleSim:
    def __init__(
        self,
        vehicle: Vehicle,
        scenario: Scenario,
        geography: Geography,
        rng: random.Random,
        *,
        interval_s: float,
        parked_interval_s: float | None = None,
        steps: list[Step] | None = None,
        dark: list[DarkWindow] | None = None,
        local_s_at_start: float = 8 * 3600.0,  # the world passes its start's time of day
        report_outings: bool = False,
    ) -> None:
        if vehicle.device is None:
            raise ValueError(f"vehicle {vehicle.plate} has no device to simulate")
        self.vehicle = vehicle
        self.uid = vehicle.device.uid
        self.scenario = scenario
        self.geo = geography
        self.rng = rng
        self.interval_s = interval_s
        self.parked_interval_s = parked_interval_s or max(interval_s, PARKED_MIN_INTERVAL_S)
        depot: Depot = scenario.depot_by_code[vehicle.depot_code]
        self.gate: LonLat = depot.location
        self.lot = Polygon(depot.lot)
        inner = self.lot.buffer(-LOT_MARGIN_M / 111_000)
        self._spots = inner if not inner.is_empty else self.lot
        self.scripted = steps is not None
        self.local_s_at_start = local_s_at_start  # seconds since local midnight at the start
        self.report_outings = report_outings
        self.reports: list[OutingReport] = []  # planned, departed, returned; the world drains
        self.outings = 0
        self.prev_end_s = 0.0
        self.t = 0.0
        self.queue: deque[Step] = deque(steps or [])
        if steps is None:
            self._queue_outing(first_outing(rng, scenario, vehicle))
        self.dark = sorted(dark or [], key=lambda w: w.start_s)
        self.backlog: list[tuple[float, dict[str, Any]]] = []
        self._need_plan = False
        self.drive: _Drive | None = None
        self.engine_until_s: float | None = None  # idling with ACC on until then
        self.pos = self._free_spot()
        self.heading = rng.uniform(0, 360)
        self.speed_kmh = 0.0
        self.acc = False
        self.seq = 0
        self.odometer_km = round(rng.uniform(3_000, 150_000), 1)
        level, energy = vehicle.car_level, vehicle.energy_type
        self.fuel_l = vehicle.tank_l * rng.uniform(0.45, 0.95) if vehicle.tank_l else None
        self.soc_pct = rng.uniform(55, 100) if vehicle.battery_kwh else None
        self.fuel_l_per_km = rng.uniform(*FUEL_L[level]) / 100
        if energy == "phev":
            self.fuel_l_per_km = rng.uniform(*PHEV_FUEL_L) / 100
        self.kwh_per_km = rng.uniform(*ELECTRIC_KWH[level]) / 100
        # A terminal reports as soon as the simulation starts (within POWER_ON_REPORT_S, so
        # the console is full at once); GNSS time has whole seconds (JT/T 808 reports BCD
        # seconds): keep the schedule on them.
        self.next_report_s = float(rng.randrange(min(POWER_ON_REPORT_S, int(self.parked_interval_s))))

    # ------------------------------------------------------------------ reports
    def tick(self, t_s: float, ts_of: Callable[[float], str]) -> list[tuple[float, dict[str, Any]]]:
        """Advances to t_s and returns what the terminal sends then, as (time of the position,
        position): nothing while dark, the stored positions after a backfilled gap."""
        self.advance(t_s)
        window = next((w for w in self.dark if w.start_s <= t_s < w.end_s), None)
        out: list[tuple[float, dict[str, Any]]] = []
        if window is None:
            self.seq += 1
            out.append((t_s, self._payload(t_s, ts_of)))
            out.extend(self.backlog)  # 盲区补报: stored positions arrive after the live one
            self.backlog.clear()
        elif window.backfill:
            self.seq += 1
            self.backlog.append((t_s, self._payload(t_s, ts_of)))
        next_s = t_s + (self.interval_s if self.acc else self.parked_interval_s)
        if not self.acc:
            start = self._next_start()
            if start is not None and t_s < start < next_s:
                next_s = start  # report the departure when it happens
        self.next_report_s = next_s
        return out

    def _payload(self, t_s: float, ts_of: Callable[[float], str]) -> dict[str, Any]:
        lon, lat = self.pos
        if not self.acc:
            jitter = PARKED_JITTER_M
            lon, lat = offset(
                self.pos, self.rng.uniform(-jitter, jitter), self.rng.uniform(-jitter, jitter)
            )
        message: dict[str, Any] = {
            "ts": ts_of(t_s),
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "speed_kmh": round(self.speed_kmh, 1),
            "heading_deg": int(round(self.heading)) % 360,
            "acc": self.acc,
            "fix": True,
            "odometer_km": round(self.odometer_km, 1),
        }
        if self.fuel_l is not None:
            message["fuel_l"] = round(self.fuel_l, 1)
        if self.soc_pct is not None:
            message["soc_pct"] = round(self.soc_pct, 1)
        message["alarm"] = 0
        message["seq"] = self.seq
        return message

    # ------------------------------------------------------------------ plan
    def _next_start(self) -> float | None:
        if not self.queue and self._need_plan and not self.scripted:
            self._need_plan = False
            self._queue_outing(later_outing(self.rng, self.scenario, self.vehicle, self.t))
        if not self.queue:
            return None
        step = self.queue[0]
        return max(step.not_before_s, self.prev_end_s + step.delay_s)

    def _queue_outing(self, outing: Outing | None) -> None:
        """Queues a random outing's steps and reports its plan (the demo files its order)."""
        if outing is None:
            return
        survey = survey_outing(self.geo, self.gate, outing)
        return_s = survey.return_s
        if outing.depart_s > FIRST_DEPARTURE_S[1]:  # the start's first minutes show moving cars
            delay_s = keep_to_daytime(outing, return_s, self.local_s_at_start)
            outing, return_s = outing.shifted(delay_s), return_s + delay_s
        number, self.outings = self.outings, self.outings + 1
        self.queue.extend(outing.numbered(number).steps)
        self._report(OutingReport("planned", self.vehicle.plate, number, self.t, outing=outing,
                                  return_s=return_s, transit=survey.transit))

    def _report(self, report: OutingReport) -> None:
        if self.report_outings:
            self.reports.append(report)

    def advance(self, to_s: float) -> None:
        while self.t < to_s:
            if self.drive is not None:
                dt = min(SUBSTEP_S, to_s - self.t)
                self._drive_step(dt)
                self.t += dt
                continue
            if self.engine_until_s is not None:  # standing with the engine running
                self.t = min(self.engine_until_s, to_s)
                if self.t >= self.engine_until_s:
                    self.engine_until_s, self.acc = None, False  # a drive next turns it on again
                continue
            start = self._next_start()
            if start is None or start > to_s:
                self._idle(to_s - self.t)
                self.t = to_s
                return
            if start > self.t:
                self._idle(start - self.t)
                self.t = start
            self._begin(self.queue.popleft())

    def _begin(self, step: Step) -> None:
        if step.kind == "stay":
            self.prev_end_s = self.t + step.duration_s
            return
        if step.kind == "idle":
            self.acc, self.speed_kmh = True, 0.0
            self.engine_until_s = self.prev_end_s = self.t + step.duration_s
            return
        target = self._free_spot() if step.to_lot else step.target
        assert target is not None
        if step.kind == "park_at":
            self.pos, self.prev_end_s = target, self.t
            self.acc, self.speed_kmh = False, 0.0
            return
        # Leave the lot through its gate, follow the geography's route, enter through the gate.
        start = self.gate if self.in_lot() else self.pos
        end = self.gate if step.to_lot else target
        path = self.geo.route(start, end, self.rng)
        points, kinds = [self.pos, *path.points], ["urban", *path.kinds]
        if step.to_lot:
            points.append(target)
            kinds.append("urban")
        self.drive = _Drive(Route(points, kinds), step.speed_kmh,  # type: ignore[arg-type]
                            step.expressway_kmh, returns=step.returns)
        self.acc, self.speed_kmh = True, 0.0
        if step.departs is not None:
            self._report(OutingReport("departed", self.vehicle.plate, step.departs, self.t,
                                      odometer_km=round(self.odometer_km, 1)))

    def _free_spot(self) -> LonLat:
        minx, miny, maxx, maxy = self._spots.bounds
        for _ in range(100):
            point = (self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))
            if self._spots.contains(Point(point)):
                return point
        return self.gate

    # ------------------------------------------------------------------ physics
    def _drive_step(self, dt: float) -> None:
        d = self.drive
        assert d is not None
        now = self.t + dt
        if d.hold_until_s > self.t:  # waiting at a red light, engine on
            return
        _, _, kind = d.route.locate(d.progress_m)
        if kind != d.kind or d.progress_m >= d.redraw_at_m:
            if kind != d.kind:
                every = LIGHT_EVERY_M.get(kind)
                d.next_light_m = d.progress_m + self.rng.uniform(*every) if every else math.inf
            d.kind = kind
            low, high = CRUISE_KMH[kind]
            scripted = d.speed_kmh
            if scripted is None and kind == "expressway":
                scripted = d.expressway_kmh
            d.cruise_kmh = (
                self.rng.uniform(low, high)
                if scripted is None
                else scripted + self.rng.uniform(-2, 2)
            )
            d.redraw_at_m = d.progress_m + self.rng.uniform(*REDRAW_M[kind])
        stop_m = d.route.length_m
        is_light = d.next_light_m < stop_m - 50
        if is_light:
            stop_m = d.next_light_m
        to_stop_m = max(0.0, stop_m - d.progress_m)
        v = self.speed_kmh / 3.6
        target = min(d.cruise_kmh / 3.6, math.sqrt(2 * BRAKE_MS2 * to_stop_m))
        target = max(target, 1.5) if to_stop_m > 0.5 else 0.0
        new_v = v + max(-BRAKE_MS2 * dt, min(ACCEL_MS2 * dt, target - v))
        dist = (v + new_v) / 2 * dt
        reached = dist >= to_stop_m
        if reached:
            dist, new_v = to_stop_m, 0.0
        d.progress_m += dist
        self.speed_kmh = new_v * 3.6
        self._move(dist)
        self.pos, heading, _ = d.route.locate(d.progress_m)
        if dist > 0:
            self.heading = heading
        if not reached:
            return
        if is_light:
            d.hold_until_s = now + self.rng.uniform(*LIGHT_WAIT_S)
            d.next_light_m = d.progress_m + self.rng.uniform(*LIGHT_EVERY_M[kind])
            return
        self.drive = None
        self.acc, self.speed_kmh, self.prev_end_s = False, 0.0, now
        if d.returns is not None:
            self._report(OutingReport("returned", self.vehicle.plate, d.returns, now,
                                      odometer_km=round(self.odometer_km, 1)))
        if not self.queue:
            self._need_plan = True
        tank_l = self.vehicle.tank_l
        if tank_l and self.fuel_l is not None and self.fuel_l < 0.25 * tank_l and self.in_lot():
            self.fuel_l = 0.95 * tank_l  # filled up on the way back

    def _move(self, dist_m: float) -> None:
        km = dist_m / 1000
        self.odometer_km += km
        energy = self.vehicle.energy_type
        battery = self.vehicle.battery_kwh
        if energy == "fuel" or (energy == "phev" and (self.soc_pct or 0) <= PHEV_MIN_SOC_PCT):
            assert self.fuel_l is not None
            self.fuel_l = max(0.0, self.fuel_l - km * self.fuel_l_per_km)
        elif battery and self.soc_pct is not None:
            self.soc_pct = max(0.0, self.soc_pct - km * self.kwh_per_km / battery * 100)

    def _idle(self, dt_s: float) -> None:
        """Parked: slow charging at the home lot."""
        battery = self.vehicle.battery_kwh
        if self.soc_pct is None or not battery or self.soc_pct >= 100 or dt_s <= 0:
            return
        if self.lot.contains(Point(self.pos)):
            kw = CHARGE_KW[self.vehicle.car_level]
            self.soc_pct = min(100.0, self.soc_pct + kw * dt_s / 3600 / battery * 100)

    def in_lot(self) -> bool:
        return self.lot.contains(Point(self.pos))
