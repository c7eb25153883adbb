"""Carpooling (公务拼车, 合并乘车): may two trip requests share one car? Pure code.

domain.md §4: requests may share a car when origins and destinations are compatible — the
detour for each passenger is at most 20 % of their direct time or at most 15 min —, their
planned starts are within ±30 min, the seats suffice, and neither is 机要. The dispatcher
confirms a merge; costs are split per passenger-km.

Travel times: great-circle distance × road factor 1.3 at 30 km/h within a city and 90 km/h
between cities (domain.md §9), the same default the optimizer uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fleet.geodesy import haversine_m

ROAD_FACTOR = 1.3
URBAN_KMH = 30.0
INTERCITY_KMH = 90.0


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    city_code: str


@dataclass(frozen=True)
class RideRequest:
    id: int
    origin: Place
    destination: Place
    planned_start: datetime
    passengers: int
    confidential: bool = False  # 机要: never shared
    carpool_allowed: bool = True


@dataclass(frozen=True)
class CarpoolRules:
    max_detour_pct: float = 20.0
    max_detour_min: float = 15.0
    max_start_gap_min: float = 30.0


@dataclass(frozen=True)
class MergeProposal:
    first: int  # picked up first
    second: int
    order: tuple[str, ...]  # stops: "p1", "p2", "d1", "d2" in driving order
    detour_min: dict[int, float]  # per request: extra minutes against its direct ride
    shared_km: float  # total route km of the merged ride
    saved_km: float  # against two separate rides


def travel_min(a: Place, b: Place) -> float:
    km = haversine_m(a.lat, a.lon, b.lat, b.lon) / 1000 * ROAD_FACTOR
    speed = URBAN_KMH if a.city_code == b.city_code else INTERCITY_KMH
    return km / speed * 60


def road_km(a: Place, b: Place) -> float:
    return haversine_m(a.lat, a.lon, b.lat, b.lon) / 1000 * ROAD_FACTOR


def why_not(a: RideRequest, b: RideRequest, seats: int, rules: CarpoolRules) -> str | None:
    """The first reason the two cannot share a car, or None."""
    if a.confidential or b.confidential:
        return "confidential"  # 机要 never shared
    if not (a.carpool_allowed and b.carpool_allowed):
        return "not_allowed"
    if a.passengers + b.passengers > seats - 1:  # the driver takes a seat
        return "seats"
    if abs(a.planned_start - b.planned_start) > timedelta(minutes=rules.max_start_gap_min):
        return "start_times"
    return None


def propose(a: RideRequest, b: RideRequest, seats: int, rules: CarpoolRules) -> MergeProposal | None:
    """The best shared ride (the one with the least total time) that keeps every passenger's
    detour within the rule, or None when there is none."""
    if why_not(a, b, seats, rules) is not None:
        return None
    first, second = (a, b) if a.planned_start <= b.planned_start else (b, a)
    stops = {"p1": first.origin, "p2": second.origin, "d1": first.destination, "d2": second.destination}
    best: MergeProposal | None = None
    best_min = float("inf")
    for order in (("p1", "p2", "d1", "d2"), ("p1", "p2", "d2", "d1")):
        legs = list(zip(order, order[1:], strict=False))
        arrive: dict[str, float] = {"p1": 0.0}
        clock = 0.0
        km = 0.0
        for here, there in legs:
            clock += travel_min(stops[here], stops[there])
            km += road_km(stops[here], stops[there])
            arrive[there] = clock
        detours = {
            first.id: (arrive["d1"] - arrive["p1"]) - travel_min(first.origin, first.destination),
            second.id: (arrive["d2"] - arrive["p2"]) - travel_min(second.origin, second.destination),
        }
        ok = all(
            detour <= rules.max_detour_min
            or detour <= rules.max_detour_pct / 100 * travel_min(r.origin, r.destination)
            for r, detour in ((first, detours[first.id]), (second, detours[second.id]))
        )
        if ok and clock < best_min:
            alone_km = road_km(first.origin, first.destination) + road_km(second.origin, second.destination)
            best_min = clock
            best = MergeProposal(first.id, second.id, order,
                                 {k: round(max(v, 0.0), 1) for k, v in detours.items()},
                                 round(km, 1), round(alone_km - km, 1))
    return best


def split_cost(total_cny: float, passenger_km: dict[int, float]) -> dict[int, float]:
    """A shared ride's cost split per passenger-km (each request's passengers × its own km)."""
    weight = sum(passenger_km.values())
    if weight <= 0:
        raise ValueError("no passenger-km to split by")
    shares = {k: round(total_cny * v / weight, 2) for k, v in passenger_km.items()}
    # the rounding remainder goes to the largest share, so the parts add up to the whole
    largest = max(shares, key=lambda k: passenger_km[k])
    shares[largest] = round(shares[largest] + total_cny - sum(shares.values()), 2)
    return shares


SEATS_BY_LEVEL = {"sedan": 5, "business": 7, "minibus": 17, "bus": 45}


def pair_proposals(
    rides: list[RideRequest], levels: dict[int, str | None], rules: CarpoolRules,
) -> list[MergeProposal]:
    """Every compatible pair among the rides, most km saved first. Only rides starting within
    the start-gap rule of each other are compared (sorted by start: a sliding window), so a
    month's queue stays cheap. The car is the larger of the two classes wanted (a sedan when
    neither says)."""
    ordered = sorted(rides, key=lambda r: (r.planned_start, r.id))
    gap = timedelta(minutes=rules.max_start_gap_min)
    found: list[MergeProposal] = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.planned_start - a.planned_start > gap:
                break
            seats = max(SEATS_BY_LEVEL.get(levels.get(a.id) or "sedan", 5),
                        SEATS_BY_LEVEL.get(levels.get(b.id) or "sedan", 5))
            proposal = propose(a, b, seats, rules)
            if proposal is not None and proposal.saved_km > 0:
                found.append(proposal)
    return sorted(found, key=lambda p: (-p.saved_km, p.first, p.second))
