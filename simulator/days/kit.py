"""The scenario as the scripted days use it: a car's lot, the cities' named places, sensitive
places and 定点 sites (fleet/scenario/wuhan.yaml), neighbouring cities by road, and points
at a chosen distance from a lot's edge or from a place. Distances near a lot are measured in a
local metric frame (equirectangular around the lot: well under 0.1 % off at these ranges)."""

from __future__ import annotations

import math
import random
from functools import cached_property

from shapely import Point, Polygon
from shapely.affinity import affine_transform
from shapely.ops import unary_union

from fleet.geodesy import EARTH_RADIUS_M
from fleet.scenario.geo import distance_m, offset, zone_polygon
from fleet.scenario.model import LonLat, Scenario, Vehicle
from simulator.days.model import Place
from simulator.route import Geography

EARTH_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180   # metres per degree of latitude
ORDINARY_CLEARANCE_M = 300.0    # an "ordinary" point keeps this far from every zone and lot


class Kit:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.geography = Geography(scenario)

    # ---- vehicles and lots ------------------------------------------------------------------

    def vehicle(self, plate: str) -> Vehicle:
        return self.scenario.vehicle_by_plate[plate]

    def lot(self, plate: str) -> Polygon:
        return Polygon(self.scenario.depot_by_code[self.vehicle(plate).depot_code].lot)

    def lot_place(self, plate: str) -> Place:
        vehicle = self.vehicle(plate)
        depot = self.scenario.depot_by_code[vehicle.depot_code]
        return Place(depot.name_zh, depot.location, vehicle.city_code)

    def lot_edge_distance_m(self, plate: str, point: LonLat) -> float:
        """Metres from the lot's edge (0 inside)."""
        lot = self.lot(plate)
        to_m, _ = _frame(lot.centroid.coords[0])
        return float(affine_transform(lot, to_m).distance(affine_transform(Point(point), to_m)))

    def point_from_lot(self, plate: str, dist_m: float, rng: random.Random) -> LonLat:
        """A point `dist_m` outside the lot's edge, on a random side, outside every zone but
        the city's boundary."""
        lot = self.lot(plate)
        to_m, to_deg = _frame(lot.centroid.coords[0])
        ring = affine_transform(lot, to_m).buffer(dist_m, quad_segs=32).exterior
        for _ in range(200):
            point = affine_transform(ring.interpolate(rng.random(), normalized=True), to_deg)
            here = (point.x, point.y)
            if not self._other_zones.covers(Point(here)):
                return here
        raise ValueError(f"no free point {dist_m} m from the lot of {plate}")

    # ---- places ---------------------------------------------------------------------------------

    def places(self, city: str, kinds: tuple[str, ...] | None = None) -> list[Place]:
        return [Place(p.name_zh, p.location, p.city_code) for p in self.scenario.places_in(city)
                if kinds is None or p.kind in kinds]

    def place(self, code: str) -> Place:
        p = self.scenario.place_by_code[code]
        return Place(p.name_zh, p.location, p.city_code)

    def ordinary_places(self, city: str) -> list[Place]:
        """Named places clear of every zone (a destination that is neither sensitive nor a
        定点 site nor a lot)."""
        return [p for p in self.places(city) if self.ordinary(p.at)]

    def ordinary(self, point: LonLat, clearance_m: float = ORDINARY_CLEARANCE_M) -> bool:
        """Inside a city and clear of every other zone and lot by `clearance_m`."""
        if self.geography.city_at(point) is None:
            return False
        return not any(distance_m(point, c) < clearance_m + r for c, r in self._zone_discs)

    def point_near(self, origin: LonLat, min_m: float, max_m: float, rng: random.Random,
                   city: str | None = None) -> LonLat:
        """An ordinary point between min_m and max_m from origin, in `city` if given."""
        for _ in range(500):
            bearing = rng.uniform(0, 2 * math.pi)
            dist = rng.uniform(min_m, max_m)
            here = offset(origin, dist * math.sin(bearing), dist * math.cos(bearing))
            if (city is None or self.geography.city_at(here) == city) and self.ordinary(here):
                return here
        raise ValueError(f"no ordinary point {min_m}-{max_m} m from {origin}")

    def city_of(self, point: LonLat) -> str | None:
        return self.geography.city_at(point)

    # ---- zones ------------------------------------------------------------------------------------

    def zones(self, purpose: str, city: str | None = None,
              categories: tuple[str, ...] | None = None) -> list:
        return [z for z in self.scenario.zones if z.purpose == purpose
                and (city is None or z.city_code == city)
                and (categories is None or z.category in categories)]

    def zone_place(self, zone) -> Place:   # noqa: ANN001 - a scenario Zone
        """A point well inside the zone (the circle's centre, the polygon's inner point)."""
        if zone.centre is not None:
            at = zone.centre
        else:
            inner = zone_polygon(zone).representative_point()
            at = (inner.x, inner.y)
        return Place(zone.name_zh, at, zone.city_code or self.geography.city_at(at) or "")

    def neighbours(self, city: str, max_road_km: float = 1e9) -> list[str]:
        """Cities joined to `city` by a direct expressway of at most max_road_km."""
        found = []
        for road in self.scenario.roads:
            if city in (road.from_city_code, road.to_city_code):
                length = sum(distance_m(a, b) for a, b in zip(road.points, road.points[1:], strict=False))
                if length <= max_road_km * 1000:
                    found.append(road.to_city_code if road.from_city_code == city else road.from_city_code)
        return sorted(found)

    @cached_property
    def _zone_discs(self) -> list[tuple[LonLat, float]]:
        """Every zone and lot as a bounding disc (centre, radius m)."""
        discs = []
        areas = [zone_polygon(z) for z in self.scenario.zones]
        areas += [Polygon(d.lot) for d in self.scenario.depots]
        for area in areas:
            c = area.centroid
            centre = (c.x, c.y)
            radius = max(distance_m(centre, p) for p in area.exterior.coords)
            discs.append((centre, radius))
        return discs

    @cached_property
    def _other_zones(self) -> Polygon:
        return unary_union([zone_polygon(z) for z in self.scenario.zones])


def _frame(origin: LonLat) -> tuple[list[float], list[float]]:
    """Affine matrices (shapely order) from lon/lat to local metres around origin and back."""
    kx = EARTH_M_PER_DEG * math.cos(math.radians(origin[1]))
    ky = EARTH_M_PER_DEG
    to_m = [kx, 0.0, 0.0, ky, -kx * origin[0], -ky * origin[1]]
    to_deg = [1 / kx, 0.0, 0.0, 1 / ky, origin[0], origin[1]]
    return to_m, to_deg
