"""A family of scripted days: the rule it is about, whether it is a violation or a clean
look-alike, the calendar it needs, which cars may play it, and its builder. Plus the small
helpers the families share (orders from the truth, checks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fleet.scenario.geo import distance_m
from fleet.scenario.model import Vehicle
from simulator.days.builder import Builder
from simulator.days.kit import Kit
from simulator.days.model import DAY_S, Draft, OrderFact, Place, clock
from simulator.days.truth import Truth

CALENDARS = ("working", "rest", "makeup", "sealed")


@dataclass(frozen=True)
class Family:
    name: str                                    # "R4.lot_80m"
    rule: str
    clean: bool
    calendar: str                                # working | rest | makeup | sealed
    cars: Callable[[Vehicle, Kit], bool]
    build: Callable[[Builder], Draft]
    weight: float = 1.0                          # relative share within violations / clean
    recent: bool = False                         # within the last weeks (R14 is judged 30 days back)

    def __post_init__(self) -> None:
        if self.calendar not in CALENDARS:
            raise ValueError(f"{self.name}: calendar {self.calendar}")


# ---- cars -----------------------------------------------------------------------------------

def fitted(v: Vehicle) -> bool:
    return v.device is not None


def ordinary(v: Vehicle, kit: Kit) -> bool:
    """A car every rule watches the same way: not leased, not 执法/应急/机要."""
    return fitted(v) and v.source != "leased" and v.use_category in ("general", "special_technical")


def general(v: Vehicle, kit: Kit) -> bool:
    """Ordinary and not 特种专业技术 (whose daily-mileage threshold is raised)."""
    return ordinary(v, kit) and v.use_category == "general"


def duty_car(v: Vehicle, kit: Kit) -> bool:
    return fitted(v) and v.source != "leased" and v.use_category in ("law_enforcement", "emergency")


def leased(v: Vehicle, kit: Kit) -> bool:
    return fitted(v) and v.source == "leased"


def confidential(v: Vehicle, kit: Kit) -> bool:
    return fitted(v) and v.source != "leased" and v.use_category == "confidential"


def with_sites(v: Vehicle, kit: Kit) -> bool:
    return ordinary(v, kit) and bool(kit.zones("service_site", v.city_code))


def with_sensitive(v: Vehicle, kit: Kit) -> bool:
    return bool(kit.zones("sensitive_place", v.city_code))


def roads_out(v: Vehicle, kit: Kit) -> bool:
    return bool(kit.neighbours(v.city_code, max_road_km=110))


def both(*tests: Callable[[Vehicle, Kit], bool]) -> Callable[[Vehicle, Kit], bool]:
    return lambda v, kit: all(t(v, kit) for t in tests)


# ---- orders ---------------------------------------------------------------------------------

def covering(b: Builder, destinations: list[Place], *, trips: slice = slice(None),
             **extra) -> Callable[[Truth], tuple[OrderFact, ...]]:
    """One order around the day's trips (or a slice of them) going to the destinations."""
    def orders(truth: Truth) -> tuple[OrderFact, ...]:
        chosen = truth.moving_trips()[trips]
        if not chosen:
            raise ValueError("no trip to cover")
        return (b.order(truth, chosen, destinations, **extra),)
    return orders


# ---- checks ---------------------------------------------------------------------------------

def back_by(b: Builder, t_s: int) -> Callable[[Truth], str | None]:
    """Parked in the lot by then."""
    def check(truth: Truth) -> str | None:
        if truth.driving(t_s) or b.kit.lot_edge_distance_m(b.plate, truth.where(t_s)) > 20:
            return f"not back in the lot by {clock(t_s)}"
        return None
    return check


def trips_within(lo_s: int, hi_s: int) -> Callable[[Truth], str | None]:
    """The day's trips (not the next morning's) between these times."""
    def check(truth: Truth) -> str | None:
        for trip in truth.moving_trips():
            if trip.start_s >= DAY_S:
                continue
            if trip.start_s < lo_s or trip.end_s > hi_s:
                return f"a trip {clock(trip.start_s)}–{clock(trip.end_s)} outside {clock(lo_s)}–{clock(hi_s)}"
        return None
    return check


def at_place(b: Builder, place: Place, t_s: int, radius_m: float = 50) -> Callable[[Truth], str | None]:
    def check(truth: Truth) -> str | None:
        if truth.driving(t_s) or distance_m(truth.where(t_s), place.at) > radius_m:
            return f"not parked at {place.name} at {clock(t_s)}"
        return None
    return check


def trips_count(min_s: float = 240, min_m: float = 1000) -> Callable[[Truth], str | None]:
    """Every trip of the day long enough to count (domain.md §6: 500 m and 3 min), with room."""
    def check(truth: Truth) -> str | None:
        short = [t for t in truth.trips if t.start_s < DAY_S and t.dist_m >= 1.0
                 and (t.duration_s < min_s or t.dist_m < min_m)]
        return f"{len(short)} trip(s) too short to count" if short else None
    return check


def trip_count(n: int) -> Callable[[Truth], str | None]:
    def check(truth: Truth) -> str | None:
        got = len(truth.moving_trips())
        return None if got == n else f"{got} trips, wanted {n}"
    return check


def within_detour_limit(b: Builder, destinations: list[Place]) -> Callable[[Truth], str | None]:
    """The day's km stay under R10's detour threshold for an order to these destinations,
    with a margin (the order's planned km: great circle × 1.3, round trip)."""
    points = [b.home.at] + [d.at for d in destinations] + [b.home.at]
    planned_km = 1.3 * sum(distance_m(a, c) for a, c in zip(points, points[1:], strict=False)) / 1000

    def check(truth: Truth) -> str | None:
        limit = max(1.3 * planned_km, planned_km + 10)
        driven = truth.km()
        return None if driven <= 0.9 * limit else f"{driven:.1f} km near the detour limit {limit:.1f}"
    return check
