"""Paths the simulated vehicles follow: jittered urban polylines and intercity expressways.

A route is a polyline whose segments are each ``urban`` or ``expressway`` (the speed model
depends on it). Urban paths bend through a few jittered intermediate points instead of going
straight, and stay inside the city when the endpoints are inside it, so that a normal trip
never crosses a city boundary by accident (R5 would fire on it).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from typing import Literal

from shapely import LineString, Point, Polygon
from shapely.prepared import PreparedGeometry, prep

from fleet.scenario.geo import bearing_deg, distance_m, offset
from fleet.scenario.model import LonLat, Road, Scenario

SegmentKind = Literal["urban", "arterial", "expressway"]
ARTERIAL_MIN_M = 8_000.0  # a longer local trip uses arterial roads (国道/省道) between its ends


@dataclass
class Route:
    points: list[LonLat]
    kinds: list[SegmentKind]  # one per segment: len(points) - 1
    cum_m: list[float] = field(init=False)  # distance from the start to each point

    def __post_init__(self) -> None:
        assert len(self.points) >= 2 and len(self.kinds) == len(self.points) - 1
        self.cum_m = [0.0]
        for a, b in zip(self.points, self.points[1:], strict=False):
            self.cum_m.append(self.cum_m[-1] + distance_m(a, b))

    @property
    def length_m(self) -> float:
        return self.cum_m[-1]

    def segment_at(self, dist_m: float) -> int:
        index = bisect.bisect_right(self.cum_m, dist_m) - 1
        return max(0, min(index, len(self.kinds) - 1))

    def locate(self, dist_m: float) -> tuple[LonLat, float, SegmentKind]:
        """Point, heading (degrees) and segment kind at a distance along the route."""
        i = self.segment_at(dist_m)
        a, b = self.points[i], self.points[i + 1]
        seg_m = self.cum_m[i + 1] - self.cum_m[i]
        f = 0.0 if seg_m <= 0 else min(1.0, max(0.0, (dist_m - self.cum_m[i]) / seg_m))
        point = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
        return point, bearing_deg(a, b), self.kinds[i]

    def extend(self, other: Route) -> None:
        """Appends a route that starts where this one ends."""
        self.points.extend(other.points[1:])
        self.kinds.extend(other.kinds)
        self.__post_init__()


class Geography:
    """City lookup and route building over a scenario's boundaries and roads."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.boundaries: dict[str, Polygon] = {c.code: Polygon(c.boundary) for c in scenario.cities}
        self._prepared: dict[str, PreparedGeometry] = {
            code: prep(poly) for code, poly in self.boundaries.items()
        }
        self._interior: dict[str, list[LonLat]] = {}
        self._detours: dict[tuple[str, LonLat, LonLat], list[LonLat]] = {}

    def city_at(self, point: LonLat) -> str | None:
        p = Point(point)
        for code, prepared in self._prepared.items():
            if prepared.contains(p):
                return code
        return None

    def route(self, start: LonLat, end: LonLat, rng: random.Random) -> Route:
        from_city, to_city = self.city_at(start), self.city_at(end)
        if from_city is not None and from_city == to_city:
            return self.local_route(start, end, rng, from_city)
        chain = self._road_chain(from_city, to_city) if from_city and to_city else None
        if chain is None:
            # Off the road network (e.g. a script sends a car beyond the scenario's cities).
            return self.local_route(start, end, rng, None)
        route = self.local_route(start, chain[0][0], rng, from_city)
        for points in chain:
            route.extend(Route([route.points[-1], *points], ["expressway"] * len(points)))
        route.extend(self.local_route(chain[-1][-1], end, rng, to_city))
        return route

    def local_route(
        self, start: LonLat, end: LonLat, rng: random.Random, city_code: str | None
    ) -> Route:
        """An urban path; on a long one the stretches between its first and last segment are
        arterial roads."""
        points = self.urban_path(start, end, rng, city_code)
        kinds: list[SegmentKind] = ["urban"] * (len(points) - 1)
        if len(kinds) >= 3 and _length_m(points) > ARTERIAL_MIN_M:
            kinds[1:-1] = ["arterial"] * (len(kinds) - 2)
        return Route(points, kinds)

    def urban_path(
        self, start: LonLat, end: LonLat, rng: random.Random, city_code: str | None
    ) -> list[LonLat]:
        """Start, a few jittered intermediate points, end; inside the city when possible.

        In a concave city (黄冈 wraps around Wuhan's 新洲) the straight line may cross a
        neighbour: the path then goes through one or two interior waypoints first.
        """
        boundary = self._prepared.get(city_code) if city_code else None
        legs = [start, end]
        if boundary is not None and not boundary.contains(LineString(legs)):
            legs = [start, *self._waypoints(city_code or "", start, end), end]
        path = [start]
        for a, b in zip(legs, legs[1:], strict=False):
            path.extend(self._jittered(a, b, rng, boundary)[1:])
        return path

    def _jittered(
        self, start: LonLat, end: LonLat, rng: random.Random, boundary: PreparedGeometry | None
    ) -> list[LonLat]:
        dist = distance_m(start, end)
        if dist < 400:
            return [start, end]
        count = 1 if dist < 2_500 else 2 if dist < 10_000 else 3
        for _attempt in range(4):
            points = [start]
            for k in range(1, count + 1):
                f = k / (count + 1) + rng.uniform(-0.06, 0.06)
                base = (start[0] + (end[0] - start[0]) * f, start[1] + (end[1] - start[1]) * f)
                side_m = rng.uniform(-0.12, 0.12) * min(dist, 25_000)
                # perpendicular offset: rotate the direction of travel by 90 degrees
                dx, dy = end[0] - start[0], end[1] - start[1]
                norm = max(1e-12, (dx * dx + dy * dy) ** 0.5)
                points.append(offset(base, side_m * dy / norm, -side_m * dx / norm))
            points.append(end)
            if boundary is None or boundary.contains(LineString(points)):
                return points
        return [start, end]

    def _waypoints(self, city_code: str, start: LonLat, end: LonLat) -> list[LonLat]:
        """The shortest detour through one or two interior points that stays in the city."""
        key = (city_code, start, end)
        if key not in self._detours:
            self._detours[key] = self._find_waypoints(city_code, start, end)
        return self._detours[key]

    def _find_waypoints(self, city_code: str, start: LonLat, end: LonLat) -> list[LonLat]:
        boundary = self._prepared[city_code]
        candidates = self._interior_points(city_code)

        def inside(a: LonLat, b: LonLat) -> bool:
            return boundary.contains(LineString([a, b]))

        firsts = [c for c in candidates if inside(start, c)]
        lasts = [c for c in candidates if inside(c, end)]
        options = [[c] for c in firsts if c in lasts]
        options += [[a, b] for a in firsts for b in lasts if a != b and inside(a, b)]
        if not options:
            return []
        return min(options, key=lambda via: _length_m([start, *via, end]))

    def _interior_points(self, city_code: str) -> list[LonLat]:
        """Places, the centre, and points 3 km inside the boundary's corners."""
        if city_code not in self._interior:
            city = self.scenario.city_by_code[city_code]
            points = [p.location for p in self.scenario.places_in(city_code)] + [city.centre]
            inner = self.boundaries[city_code].buffer(-0.03)
            for part in getattr(inner, "geoms", [inner]):
                if not part.is_empty:
                    points.extend((x, y) for x, y in part.exterior.coords[:-1])
            self._interior[city_code] = points
        return self._interior[city_code]

    def _road_chain(self, from_city: str, to_city: str) -> list[list[LonLat]] | None:
        """Road polylines from one city to another: direct, or through one hub city."""
        direct = _oriented(self.scenario.roads, from_city, to_city)
        if direct is not None:
            return [direct]
        for road in self.scenario.roads:
            for hub in (road.from_city_code, road.to_city_code):
                first = _oriented(self.scenario.roads, from_city, hub)
                second = _oriented(self.scenario.roads, hub, to_city)
                if first is not None and second is not None:
                    return [first, second]
        return None


def _oriented(roads: tuple[Road, ...], from_city: str, to_city: str) -> list[LonLat] | None:
    for road in roads:
        if (road.from_city_code, road.to_city_code) == (from_city, to_city):
            return list(road.points)
        if (road.from_city_code, road.to_city_code) == (to_city, from_city):
            return list(reversed(road.points))
    return None


def _length_m(points: list[LonLat]) -> float:
    return sum(distance_m(a, b) for a, b in zip(points, points[1:], strict=False))
