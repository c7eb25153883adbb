"""What the car really did on a rendered day (no noise): its ACC-on trips and the stops
between them, where it was at any time. The family builders derive facts from it (an order's
actual departure and return) and check their scripts against it (back in the lot by 21:50)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from shapely import Point, Polygon

from fleet.scenario.geo import distance_m
from fleet.scenario.model import LonLat
from simulator.world import DeviceMessage


@dataclass(frozen=True)
class TrueTrip:
    start_s: float
    end_s: float
    start: LonLat
    end: LonLat
    dist_m: float
    max_speed_kmh: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class TrueStop:
    start_s: float
    end_s: float | None                      # None: still parked at the end of the run
    at: LonLat


class Truth:
    def __init__(self, messages: list[DeviceMessage]) -> None:
        ordered = sorted(messages, key=lambda m: m.t_s)
        self.t = [m.t_s for m in ordered]
        self.points: list[LonLat] = [(m.payload["lon"], m.payload["lat"]) for m in ordered]
        self.acc = [bool(m.payload.get("acc")) for m in ordered]
        self.speed = [float(m.payload.get("speed_kmh") or 0.0) for m in ordered]
        self.trips = self._trips()
        self.stops = self._stops()

    def _trips(self) -> list[TrueTrip]:
        trips, start = [], None
        for i, on in enumerate(self.acc):
            if on and start is None:
                start = i
            elif not on and start is not None:
                trips.append(self._trip(start, i))
                start = None
        if start is not None:
            trips.append(self._trip(start, len(self.acc) - 1))
        return trips

    def _trip(self, first: int, last: int) -> TrueTrip:
        dist = sum(distance_m(self.points[i], self.points[i + 1]) for i in range(first, last))
        return TrueTrip(self.t[first], self.t[last], self.points[first], self.points[last], dist,
                        max(self.speed[first:last + 1]))

    def _stops(self) -> list[TrueStop]:
        moving = [t for t in self.trips if t.dist_m >= 1.0]
        stops, since, where = [], self.t[0] if self.t else 0.0, self.points[0] if self.points else None
        for trip in moving:
            if where is not None and trip.start_s > since:
                stops.append(TrueStop(since, trip.start_s, where))
            since, where = trip.end_s, trip.end
        if where is not None:
            stops.append(TrueStop(since, None, where))
        return stops

    # ---- queries --------------------------------------------------------------------------

    def index_at(self, t_s: float) -> int:
        """The last report at or before t_s."""
        return max(0, bisect.bisect_right(self.t, t_s) - 1)

    def where(self, t_s: float) -> LonLat:
        return self.points[self.index_at(t_s)]

    def driving(self, t_s: float) -> bool:
        return any(trip.start_s <= t_s < trip.end_s for trip in self.trips)

    def stop_at(self, t_s: float) -> TrueStop | None:
        return next((s for s in self.stops
                     if s.start_s <= t_s and (s.end_s is None or t_s < s.end_s)), None)

    def in_area(self, ring, t_s: float) -> bool:   # noqa: ANN001 - a ring or a Polygon
        area = ring if isinstance(ring, Polygon) else Polygon(ring)
        return area.covers(Point(self.where(t_s)))

    def moving_trips(self, min_m: float = 500.0) -> list[TrueTrip]:
        """Trips that count (domain.md §6: at least 500 m; the 3 min are checked by callers)."""
        return [t for t in self.trips if t.dist_m >= min_m]

    def first_departure(self) -> float:
        return self.moving_trips()[0].start_s

    def last_arrival(self) -> float:
        return self.moving_trips()[-1].end_s

    def km(self, from_s: float = float("-inf"), to_s: float = float("inf")) -> float:
        return sum(t.dist_m for t in self.trips if from_s <= t.start_s < to_s) / 1000.0

    def nearest_m(self, point: LonLat, from_s: float = float("-inf"),
                  to_s: float = float("inf")) -> float:
        return min((distance_m(p, point) for t, p in zip(self.t, self.points, strict=True)
                    if from_s <= t <= to_s), default=float("inf"))

    def max_speed(self, from_s: float = float("-inf"), to_s: float = float("inf")) -> float:
        return max((v for t, v in zip(self.t, self.speed, strict=True) if from_s <= t <= to_s),
                   default=0.0)
