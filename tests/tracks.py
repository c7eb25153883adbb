"""Synthetic recorded tracks for the motion tests: parked with GPS jitter, driving, tunnels.

Deterministic (seeded): a day of one car around Wuhan at a given report interval.
"""

from __future__ import annotations

import math
import random

from telemetry.model import Position

T0_MS = 1_795_392_000_000  # 2026-11-22 08:00 +08:00
LOT = (30.5928, 114.3055)
M_PER_DEG_LAT = 111_195.0


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (lat + north_m / M_PER_DEG_LAT,
            lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))))


class TrackBuilder:
    """Appends positions; `acc=None` builds a track of a terminal without an ACC wire."""

    def __init__(self, *, interval_s: int = 10, with_acc: bool = True, seed: int = 1,
                 odometer_km: float | None = 12_000.0) -> None:
        self.t_s = 0
        self.seq = 0
        self.lat, self.lon = LOT
        self.interval_s = interval_s
        self.with_acc = with_acc
        self.odometer_km = odometer_km
        self.rng = random.Random(seed)
        self.positions: list[Position] = []

    def _emit(self, lat: float, lon: float, speed_kmh: float, acc: bool | None, fix: bool = True) -> None:
        self.seq += 1
        self.positions.append(Position(
            device_uid="T1", ts_ms=T0_MS + self.t_s * 1000, received_ms=T0_MS + self.t_s * 1000,
            lat=lat, lon=lon, speed_kmh=round(speed_kmh, 1), heading_deg=90,
            acc=acc if self.with_acc else None, fix=fix,
            odometer_km=None if self.odometer_km is None else round(self.odometer_km, 3),
            seq=self.seq, device_id=1, vehicle_id=1,
        ))

    def park(self, duration_s: int, *, jitter_m: float = 15.0, spike_kmh: float = 8.0,
             spike_every: int = 7) -> TrackBuilder:
        """Parked, ACC off: the fix wanders by up to `jitter_m` and now and then the terminal
        reports a few km/h of speed (multipath), as real receivers do."""
        end = self.t_s + duration_s
        n = 0
        while self.t_s < end:
            n += 1
            lat, lon = _offset(self.lat, self.lon, self.rng.uniform(-jitter_m, jitter_m),
                               self.rng.uniform(-jitter_m, jitter_m))
            speed = spike_kmh if spike_every and n % spike_every == 0 else self.rng.uniform(0, 2)
            self._emit(lat, lon, speed, False)
            self.t_s += self.interval_s
        return self

    def drive(self, duration_s: int, speed_kmh: float = 40.0, *, heading_deg: float = 60.0,
              tunnel: tuple[int, int] | None = None, red_lights_every_s: int = 0) -> TrackBuilder:
        """ACC on, moving at about `speed_kmh`. `tunnel=(after_s, length_s)`: no data for that
        long (the terminal buffers nothing: plain loss). Red lights: 40 s standing."""
        start = self.t_s
        end = self.t_s + duration_s
        while self.t_s < end:
            elapsed = self.t_s - start
            v = speed_kmh * self.rng.uniform(0.85, 1.15)
            if red_lights_every_s and elapsed % red_lights_every_s < 40 and elapsed > 60:
                v = 0.0
            dist_m = v / 3.6 * self.interval_s
            rad = math.radians(heading_deg + self.rng.uniform(-5, 5))
            self.lat, self.lon = _offset(self.lat, self.lon, dist_m * math.cos(rad), dist_m * math.sin(rad))
            if self.odometer_km is not None:
                self.odometer_km += dist_m / 1000
            in_tunnel = tunnel is not None and tunnel[0] <= elapsed < tunnel[0] + tunnel[1]
            if not in_tunnel:
                self._emit(self.lat, self.lon, v, True)
            self.t_s += self.interval_s
        return self

    def idle(self, duration_s: int) -> TrackBuilder:
        """ACC on, standing (engine running in the lot)."""
        end = self.t_s + duration_s
        while self.t_s < end:
            self._emit(self.lat, self.lon, 0.0, True)
            self.t_s += self.interval_s
        return self

    def silent(self, duration_s: int) -> TrackBuilder:
        self.t_s += duration_s
        return self
