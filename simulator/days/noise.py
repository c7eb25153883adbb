"""Realistic terminal noise and delivery, applied to any rendered day (seeded).

What a perfect terminal would send (render.py) becomes what a real one sends:
- parked GNSS jitter: per stop a radius of 5–30 m, the offset wandering inside it (errors are
  correlated in time, a random walk pulled back to the centre);
- driving noise of a few metres;
- occasional multipath spikes: a single fix thrown 150–250 m, the terminal's speed unchanged;
- gaps: short dead zones (no report at all), shorter than the R7 threshold;
- duplicates: a message sent again (QoS 1 redelivery, same ts and seq);
- out-of-order bursts (盲区补报): a stretch of fixes held back and delivered later as one batch;
- clock noise: device times off by up to ±0.8 s;
- indoor parking: on some stops the terminal loses its fix after a few minutes and reports
  `fix: false` with its last position until it drives out;
- gateway batching: consecutive fixes published together, 1–10 per message.
- an OBD terminal (no ACC wire, `acc_wire=False`) sends no `acc` at all.

The output is the list of MQTT messages in publishing order; each goes to
`{root}/devices/{uid}/telemetry` as one object or an array. The noise never changes what the
car did — only how it is seen — so the day's labels still hold.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

from fleet.scenario.geo import offset
from simulator.world import DeviceMessage


@dataclass(frozen=True)
class NoiseSettings:
    parked_jitter_m: tuple[float, float] = (5.0, 30.0)
    driving_sigma_m: float = 3.0
    spike_share: float = 0.002                 # of fixes
    spike_m: tuple[float, float] = (150.0, 250.0)
    gaps_per_hour: float = 0.4                 # short dead zones, driving or parked
    gap_s: tuple[float, float] = (30.0, 150.0)
    duplicate_share: float = 0.01
    bursts_per_day: float = 1.5                # 盲区补报 batches
    burst_s: tuple[float, float] = (60.0, 420.0)
    burst_delay_s: tuple[float, float] = (300.0, 5400.0)
    clock_ms: int = 800
    indoor_share: float = 0.1                  # of stops: no fix after the first minutes
    batch: tuple[int, int] = (1, 10)


QUIET = NoiseSettings(parked_jitter_m=(0.0, 0.0), driving_sigma_m=0.0, spike_share=0.0,
                      gaps_per_hour=0.0, duplicate_share=0.0, bursts_per_day=0.0, clock_ms=0,
                      indoor_share=0.0, batch=(1, 1))


@dataclass(frozen=True)
class Delivery:
    """One MQTT message: a device's position object, or an array of them."""

    uid: str
    items: tuple[dict, ...]
    send_s: float                              # when the terminal sends it (day seconds)

    @property
    def payload(self) -> dict | list[dict]:
        return self.items[0] if len(self.items) == 1 else list(self.items)


def apply_noise(messages: list[DeviceMessage], seed: int | str,
                settings: NoiseSettings = NoiseSettings(), *, acc_wire: bool = True) -> list[Delivery]:
    """The day's messages (in the simulator's sending order) as noisy deliveries."""
    if not messages:
        return []
    rng = random.Random(f"noise:{seed}")
    uid = messages[0].uid
    sent = _send_times(messages)
    items = [(m.t_s, s, dict(m.payload)) for m, s in zip(messages, sent, strict=True)]
    _jitter(items, rng, settings)
    _indoor(items, rng, settings)
    items = _drop_gaps(items, rng, settings)
    _clock(items, rng, settings)
    items = _bursts(items, rng, settings)
    items = _duplicates(items, rng, settings)
    items.sort(key=lambda x: x[1])
    if not acc_wire:
        for _, _, p in items:
            p.pop("acc", None)
    return _batched(uid, items, rng, settings)


def _send_times(messages: list[DeviceMessage]) -> list[float]:
    """A position stored while dark (scripted backfill) is sent with the first live one after
    the gap: the running maximum of the times, in the simulator's sending order."""
    out, latest = [], -math.inf
    for m in messages:
        latest = max(latest, m.t_s)
        out.append(latest)
    return out


def _jitter(items: list, rng: random.Random, s: NoiseSettings) -> None:
    radius = 0.0
    walk = (0.0, 0.0)
    parked_before = False
    for _, _, p in sorted(items, key=lambda x: x[0]):
        parked = not p.get("acc")
        if parked and not parked_before:
            radius = rng.uniform(*s.parked_jitter_m)
            walk = _in_disc(rng, radius * 0.3)
        if parked:
            target = _in_disc(rng, radius)
            walk = (0.6 * walk[0] + 0.4 * target[0], 0.6 * walk[1] + 0.4 * target[1])
            east, north = walk
        else:
            east, north = rng.gauss(0, s.driving_sigma_m), rng.gauss(0, s.driving_sigma_m)
        if rng.random() < s.spike_share:
            dist = rng.uniform(*s.spike_m)
            bearing = rng.uniform(0, 2 * math.pi)
            east, north = dist * math.sin(bearing), dist * math.cos(bearing)
        if east or north:
            lon, lat = offset((p["lon"], p["lat"]), east, north)
            p["lon"], p["lat"] = round(lon, 6), round(lat, 6)
        parked_before = parked


def _indoor(items: list, rng: random.Random, s: NoiseSettings) -> None:
    """Parked indoors: after 3–10 reports the fix is lost; the terminal repeats its last
    position with `fix: false` until the car drives off."""
    frozen: dict | None = None
    left = -1
    parked_before = False
    for _, _, p in sorted(items, key=lambda x: x[0]):
        parked = not p.get("acc")
        if parked and not parked_before:
            left = rng.randint(3, 10) if rng.random() < s.indoor_share else -1
            frozen = None
        if parked and left == 0:
            frozen = frozen or {"lat": p["lat"], "lon": p["lon"]}
            p.update(frozen, fix=False)
        elif parked and left > 0:
            left -= 1
            if left == 0:
                frozen = {"lat": p["lat"], "lon": p["lon"]}
        parked_before = parked


def _in_disc(rng: random.Random, radius: float) -> tuple[float, float]:
    r = radius * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    return r * math.sin(a), r * math.cos(a)


def _drop_gaps(items: list, rng: random.Random, s: NoiseSettings) -> list:
    """Dead zones: every report starts one with probability gaps_per_hour × its interval; the
    report that ends a gap always gets through (gaps never chain past the R7 threshold)."""
    kept, until, last_t, resumed = [], -math.inf, None, False
    for item in sorted(items, key=lambda x: x[0]):
        t_s = item[0]
        step = 0.0 if last_t is None else t_s - last_t
        last_t = t_s
        if t_s < until:
            resumed = True
            continue
        if not resumed and step and rng.random() < s.gaps_per_hour * step / 3600:
            until = t_s + rng.uniform(*s.gap_s)
            continue
        resumed = False
        kept.append(item)
    return kept


def _clock(items: list, rng: random.Random, s: NoiseSettings) -> None:
    if not s.clock_ms:
        return
    for _, _, p in items:
        ts = datetime.fromisoformat(p["ts"])
        shifted = ts.timestamp() * 1000 + rng.randint(-s.clock_ms, s.clock_ms)
        p["ts"] = datetime.fromtimestamp(shifted / 1000, ts.tzinfo).isoformat(timespec="milliseconds")


def _bursts(items: list, rng: random.Random, s: NoiseSettings) -> list:
    """Stretches held back and sent later in one batch (their send time moves)."""
    if not items or not s.bursts_per_day:
        return items
    ordered = sorted(items, key=lambda x: x[0])
    span_s = ordered[-1][0] - ordered[0][0]
    count = _poisson(rng, s.bursts_per_day * span_s / 86_400)
    out = list(ordered)
    for _ in range(count):
        start = rng.uniform(ordered[0][0], ordered[-1][0])
        end = start + rng.uniform(*s.burst_s)
        send = end + rng.uniform(*s.burst_delay_s)
        out = [(t, send if start <= t < end and sent_s < send else sent_s, p)
               for t, sent_s, p in out]
    return out


def _duplicates(items: list, rng: random.Random, s: NoiseSettings) -> list:
    extra = [(t, sent_s + rng.uniform(1, 600), dict(p)) for t, sent_s, p in items
             if rng.random() < s.duplicate_share]
    return items + extra


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _batched(uid: str, items: list, rng: random.Random, s: NoiseSettings) -> list[Delivery]:
    """Consecutive positions sent at the same moment (a backfill) go together, up to 100;
    others are grouped 1–10 at a time as a gateway does."""
    out: list[Delivery] = []
    i = 0
    while i < len(items):
        send_s = items[i][1]
        same = i
        while same + 1 < len(items) and items[same + 1][1] == send_s and same + 1 - i < 99:
            same += 1
        size = same - i + 1 if same > i else rng.randint(*s.batch)
        chunk = items[i:i + size]
        out.append(Delivery(uid, tuple(p for _, _, p in chunk), chunk[-1][1]))
        i += len(chunk)
    return out
