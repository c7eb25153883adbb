"""A labelled day through the simulator's own vehicle model: the car's terminal messages.

`render` runs a World holding only the day's car, driven by the day's legs from its local
midnight until `end_s`; `inject` adds what the family scripts on top of the driving (alarm
bits, a multipath spike). What comes out is what a perfect terminal would send; noise.py
makes it a real one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from fleet.scenario.geo import offset
from fleet.scenario.model import Scenario
from simulator.days.model import AlarmWindow, LabelledDay, Spike
from simulator.route import Geography
from simulator.script import Script, ScriptedLeg
from simulator.world import DeviceMessage, World


def render_legs(scenario: Scenario, geography: Geography, *, plate: str, day_start: datetime,
                legs: Sequence[ScriptedLeg], end_s: float, seed: int, interval_s: float,
                parked_interval_s: float) -> list[DeviceMessage]:
    world = World(scenario, start=day_start, seed=seed, interval_s=interval_s,
                  parked_interval_s=parked_interval_s, vehicles=0,
                  scripts=[Script(plate, tuple(legs))], geography=geography)
    return world.advance_to(end_s)


def render(scenario: Scenario, geography: Geography, day: LabelledDay) -> list[DeviceMessage]:
    """The day's messages without noise, alarm bits and spikes included."""
    messages = render_legs(scenario, geography, plate=day.plate, day_start=day.start,
                           legs=day.legs, end_s=day.end_s, seed=day.seed,
                           interval_s=day.interval_s, parked_interval_s=day.parked_interval_s)
    return inject(messages, day.alarms, day.spikes)


def inject(messages: list[DeviceMessage], alarms: Sequence[AlarmWindow],
           spikes: Sequence[Spike]) -> list[DeviceMessage]:
    out = []
    spiked = {_nearest(messages, s.at_s): s for s in spikes}
    for i, m in enumerate(messages):
        payload = m.payload
        bits = 0
        for window in alarms:
            if window.start_s <= m.t_s < window.end_s:
                bits |= window.bits
        spike = spiked.get(i)
        if bits or spike is not None:
            payload = dict(payload)
            if bits:
                payload["alarm"] = int(payload.get("alarm", 0)) | bits
            if spike is not None:
                east = spike.dist_m * math.sin(math.radians(spike.bearing_deg))
                north = spike.dist_m * math.cos(math.radians(spike.bearing_deg))
                lon, lat = offset((payload["lon"], payload["lat"]), east, north)
                payload["lon"], payload["lat"] = round(lon, 6), round(lat, 6)
        out.append(DeviceMessage(m.uid, m.plate, m.t_s, payload))
    return out


def _nearest(messages: list[DeviceMessage], at_s: float) -> int:
    return min(range(len(messages)), key=lambda i: abs(messages[i].t_s - at_s))
