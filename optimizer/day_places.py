"""The places of a generated Wuhan-circle day (for optimizer/day_generator.py). Pure, seeded.

Nodes are the nine motor pools, the scenario's named places (government offices, stations,
airports, hospitals, conference centres), an office per requesting unit, and the sites trips
go to (a factory, a village, a project: a point a few km from a named place).

A node's `city_code` decides urban (30 km/h) or intercity speed in the great-circle matrix. The
scenario files county seats under their prefecture (麻城 under 黄冈, 104 km of road from it),
and 104 km at city speed would be 3.5 h; so a county-level city's or county's places carry its
own GB/T 2260 code, and a leg between it and its prefecture's centre is an intercity leg, as
it is on the road (expressway or national road between two towns).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from fleet.scenario.geo import offset
from fleet.scenario.model import Place, Scenario
from optimizer.matrix import GreatCircleProvider
from optimizer.problem import Node

COUNTY_OF_PLACE = {
    "PL-420200-DAYE": "420281", "PL-420200-YANGXIN": "420222",
    "PL-420900-YINGCHENG": "420981", "PL-420900-ANLU": "420982",
    "PL-420900-HANCHUAN": "420984", "PL-421100-MACHENG": "421181",
    "PL-421100-HONGAN": "421122", "PL-421100-XISHUI": "421125",
    "PL-421100-QICHUN": "421126", "PL-421200-CHIBI": "421281",
    "PL-421200-JIAYU": "421221", "PL-421200-TONGSHAN": "421224",
}
# A unit of a county-level city (its district in the scenario's tree) sits in that town.
PLACE_OF_DISTRICT = {"420281": "PL-420200-DAYE", "420984": "PL-420900-HANCHUAN",
                     "421181": "PL-421100-MACHENG", "421281": "PL-421200-CHIBI"}
TRANSFER_KINDS = ("railway_station", "airport")


@dataclass
class NodeBook:
    """The day's nodes, added as trips need them; travel times from the default provider."""

    scenario: Scenario
    provider: GreatCircleProvider = field(default_factory=GreatCircleProvider)
    nodes: list[Node] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # place kind per node: depot, office, site…
    home_city: list[str] = field(default_factory=list)  # the prefecture a node belongs to
    _by_key: dict[str, int] = field(default_factory=dict)
    _legs: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    def add(self, key: str, coord: tuple[float, float], city_code: str, name: str,
            kind: str, home_city: str) -> int:
        if key not in self._by_key:
            self._by_key[key] = len(self.nodes)
            self.nodes.append(Node((round(coord[0], 6), round(coord[1], 6)), city_code, name))
            self.kinds.append(kind)
            self.home_city.append(home_city)
        return self._by_key[key]

    def leg(self, a: int, b: int) -> tuple[int, int]:
        """(duration_s, dist_m) from node a to node b, as the final matrix will have it."""
        if a == b:
            return 0, 0
        if (a, b) not in self._legs:
            self._legs[(a, b)] = self.provider.leg(self.nodes[a], self.nodes[b])
        return self._legs[(a, b)]

    def duration_s(self, a: int, b: int) -> int:
        return self.leg(a, b)[0]

    # --- the places ---------------------------------------------------------------------------

    def depot(self, depot_code: str) -> int:
        depot = self.scenario.depot_by_code[depot_code]
        return self.add(depot_code, depot.location, depot.city_code, depot.name_zh, "depot",
                        depot.city_code)

    def city_depot(self, city_code: str) -> int:
        return self.depot(next(d.code for d in self.scenario.depots if d.city_code == city_code))

    def place(self, place: Place) -> int:
        return self.add(place.code, place.location, COUNTY_OF_PLACE.get(place.code, place.city_code),
                        place.name_zh, place.kind, place.city_code)

    def office(self, unit_code: str) -> int:
        """The unit's office: a fixed point (the same every day) near its town's government."""
        org = self.scenario.org_by_code[unit_code]
        city = org.city_code or ""
        anchor = self.scenario.place_by_code.get(PLACE_OF_DISTRICT.get(org.parent_code or "", ""))
        if anchor is None:
            anchor = self.government(city)
        spot = random.Random(f"office:{unit_code}")  # str seeds are stable across runs
        radius_m = spot.uniform(400, 6000 if city == "420100" else 3500)
        coord = _around(spot, anchor.location, radius_m)
        return self.add(unit_code, coord, COUNTY_OF_PLACE.get(anchor.code, anchor.city_code),
                        org.name_zh, "office", city)

    def site(self, rng: random.Random, city_code: str, serial: int) -> int:
        """A site to visit in the city (an enterprise, a project, a village): 1–6 km from one of
        its named places."""
        anchor = rng.choice(self.scenario.places_in(city_code))
        coord = _around(rng, anchor.location, rng.uniform(1000, 6000))
        return self.add(f"site-{serial}", coord, COUNTY_OF_PLACE.get(anchor.code, city_code),
                        f"{anchor.name_zh}附近现场{serial}", "site", city_code)

    def government(self, city_code: str) -> Place:
        return self.scenario.place_by_code[f"PL-{city_code}-GOV"]

    def places_of(self, city_code: str, kinds: tuple[str, ...] = ()) -> list[Place]:
        return [p for p in self.scenario.places_in(city_code) if not kinds or p.kind in kinds]


def _around(rng: random.Random, centre: tuple[float, float], radius_m: float) -> tuple[float, float]:
    bearing = rng.uniform(0, 2 * math.pi)
    return offset(centre, radius_m * math.sin(bearing), radius_m * math.cos(bearing))
