"""The simulated world: every vehicle of the scenario, on one simulated clock.

Pure (no MQTT): ``World.advance_to(t_s)`` returns the device messages due up to ``t_s``
simulated seconds after ``start``, in time order. Each vehicle draws from its own random
generator seeded with (seed, plate), and reports on its own fixed schedule, so the same seed
and start give the same messages however the caller slices time, and dropping vehicles
(``vehicles=N``) does not change what the others do.

With ``report_outings`` the vehicles tell what they plan: each random outing when it is
planned (before it leaves: its departure, destinations and estimated return), when it departs
and when it is back; ``take_outing_reports()`` hands them over (the demo files orders for
them, simulator/demo_orders.py).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fleet.scenario.model import Scenario
from simulator.plan import OutingReport, script_steps
from simulator.route import Geography
from simulator.script import Script, ScriptError
from simulator.vehicle import VehicleSim

CST = timezone(timedelta(hours=8), "Asia/Shanghai")  # China has no daylight saving time


@dataclass(frozen=True)
class DeviceMessage:
    uid: str
    plate: str
    t_s: float  # simulated time of the position (seconds since the start)
    payload: dict[str, Any]  # one position object of the device contract (domain.md §3)


class World:
    def __init__(
        self,
        scenario: Scenario,
        *,
        start: datetime,
        seed: int,
        interval_s: float = 5.0,
        parked_interval_s: float | None = None,
        vehicles: int | None = None,
        scripts: Sequence[Script] = (),
        geography: Geography | None = None,
        report_outings: bool = False,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.scenario = scenario
        self.start = start.astimezone(CST)
        self.seed = seed
        self.geography = geography or Geography(scenario)  # shareable: it caches routes
        by_plate = {s.plate: s for s in scripts}
        unknown = set(by_plate) - set(scenario.vehicle_by_plate)
        if unknown:
            raise ScriptError(f"scripts name unknown vehicles: {sorted(unknown)}")
        # Only cars with a terminal report: a leased car without one is seen through its
        # driver's phone while under an order (the driver's page), never simulated here.
        fitted = [v for v in scenario.vehicles if v.device is not None]
        bare = sorted(p for p in by_plate if scenario.vehicle_by_plate[p].device is None)
        if bare:
            raise ScriptError(f"scripts name vehicles without a device: {bare}")
        chosen = list(fitted if vehicles is None else fitted[:vehicles])
        chosen += [v for v in fitted if v.plate in by_plate and v not in chosen]
        self.vehicles: list[VehicleSim] = []
        local_s_at_start = float(
            self.start.hour * 3600 + self.start.minute * 60 + self.start.second
        )
        for vehicle in chosen:
            steps = dark = None
            if vehicle.plate in by_plate:
                steps, dark = script_steps(scenario, by_plate[vehicle.plate])
            self.vehicles.append(
                VehicleSim(
                    vehicle,
                    scenario,
                    self.geography,
                    random.Random(f"{seed}:{vehicle.plate}"),
                    interval_s=interval_s,
                    parked_interval_s=parked_interval_s,
                    steps=steps,
                    dark=dark,
                    local_s_at_start=local_s_at_start,
                    report_outings=report_outings,
                )
            )
        self._by_plate = {v.vehicle.plate: v for v in self.vehicles}
        self._due = [(v.next_report_s, i) for i, v in enumerate(self.vehicles)]
        heapq.heapify(self._due)

    @property
    def uids(self) -> list[str]:
        return [v.uid for v in self.vehicles]

    def vehicle(self, plate: str) -> VehicleSim:
        return self._by_plate[plate]

    def ts(self, t_s: float) -> str:
        """ISO 8601 with the +08:00 offset and milliseconds: 2026-11-23T08:15:02.000+08:00."""
        return (self.start + timedelta(seconds=t_s)).isoformat(timespec="milliseconds")

    def next_due_s(self) -> float | None:
        return self._due[0][0] if self._due else None

    def advance_to(self, t_s: float) -> list[DeviceMessage]:
        """Every message sent at or before t_s, in sending order: by time, except positions
        stored while a device was dark, which follow the first live one after the gap."""
        out: list[DeviceMessage] = []
        while self._due and self._due[0][0] <= t_s:
            due_s, index = heapq.heappop(self._due)
            sim = self.vehicles[index]
            for position_s, payload in sim.tick(due_s, self.ts):
                out.append(DeviceMessage(sim.uid, sim.vehicle.plate, position_s, payload))
            heapq.heappush(self._due, (sim.next_report_s, index))
        return out

    def start_later(self, start: datetime) -> None:
        """Moves the start to `start` (whole seconds, never earlier) before anything is sent:
        setting up took a while and device time is to be wall time. The plans stay as they
        were made (a few seconds do not move an outing into the night)."""
        lag_s = math.ceil((start - self.start).total_seconds())
        self.start += timedelta(seconds=max(0, lag_s))

    def take_outing_reports(self) -> list[OutingReport]:
        """What the vehicles reported of their outings since the last call, in time order."""
        reports = [r for v in self.vehicles for r in v.reports]
        for v in self.vehicles:
            v.reports.clear()
        return sorted(reports, key=lambda r: r.at_s)

    def messages_until(self, until: datetime) -> list[DeviceMessage]:
        return self.advance_to((until - self.start).total_seconds())
