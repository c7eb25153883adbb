"""Travel matrices: the `MatrixProvider` interface and the default, great-circle provider.

Default (domain.md §9): road distance = great-circle distance (haversine on the WGS-84 mean
sphere, fleet/geodesy.py) × road factor 1.3; 30 km/h between two places of the same city,
90 km/h *average* between cities (the figure is a door-to-door average over the Wuhan circle's
expressways, city streets at both ends included, so a long intercity leg is simply driven at
90 km/h). The blend: a short leg across a city border is not an expressway trip, so the
intercity speed ramps linearly from the urban 30 km/h for a zero-length leg up to 90 km/h for
legs of 20 km of road or more. The time stays increasing with distance (t = D / v(D) has a
positive derivative for this ramp) and continuous. Deterministic: metres and seconds rounded to
the nearest integer; the diagonal is zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fleet.geodesy import haversine_m
from optimizer.problem import Node

ROAD_FACTOR = 1.3
URBAN_KMH = 30.0
INTERCITY_KMH = 90.0
INTERCITY_RAMP_M = 20_000.0  # road metres over which a cross-border leg reaches 90 km/h


@dataclass(frozen=True)
class TravelMatrix:
    duration_s: tuple[tuple[int, ...], ...]
    dist_m: tuple[tuple[int, ...], ...]


class MatrixProvider(Protocol):
    def matrix(self, nodes: Sequence[Node]) -> TravelMatrix:
        """Driving durations and distances between every ordered pair of `nodes`
        (coordinates `[lon, lat]`), in their order."""
        ...


def leg_speed_kmh(road_m: float, same_city: bool, *, urban_kmh: float = URBAN_KMH,
                  intercity_kmh: float = INTERCITY_KMH,
                  ramp_m: float = INTERCITY_RAMP_M) -> float:
    if same_city:
        return urban_kmh
    share = min(1.0, road_m / ramp_m)
    return urban_kmh + (intercity_kmh - urban_kmh) * share


@dataclass(frozen=True)
class GreatCircleProvider:
    """The default provider: no server, the same answer everywhere and every time."""

    road_factor: float = ROAD_FACTOR
    urban_kmh: float = URBAN_KMH
    intercity_kmh: float = INTERCITY_KMH
    ramp_m: float = INTERCITY_RAMP_M

    def leg(self, a: Node, b: Node) -> tuple[int, int]:
        """(duration_s, dist_m) from `a` to `b`."""
        (lon1, lat1), (lon2, lat2) = a.coord, b.coord
        road_m = haversine_m(lat1, lon1, lat2, lon2) * self.road_factor
        same_city = a.city_code == b.city_code
        speed = leg_speed_kmh(road_m, same_city, urban_kmh=self.urban_kmh,
                              intercity_kmh=self.intercity_kmh, ramp_m=self.ramp_m)
        return round(road_m / (speed / 3.6)), round(road_m)

    def matrix(self, nodes: Sequence[Node]) -> TravelMatrix:
        durations: list[tuple[int, ...]] = []
        distances: list[tuple[int, ...]] = []
        for i, a in enumerate(nodes):
            legs = [(0, 0) if i == j else self.leg(a, b) for j, b in enumerate(nodes)]
            durations.append(tuple(d for d, _ in legs))
            distances.append(tuple(m for _, m in legs))
        return TravelMatrix(tuple(durations), tuple(distances))
