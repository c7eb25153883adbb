"""From the dispatcher's queue to optimizer problems, and from a plan back to dispatch orders.
Pure code: the web side (web/proposal_store.py) reads the rows and fills these dataclasses.

One problem per local day and city of departure: a platform or entrusted car serves only trips
that start in its own city, a unit-retained car only its own unit (domain.md §4), so the
cities' problems are independent. The car's source rules are applied here (leased cars come
through their rental company, never in a plan). Modelling choices, stated once:

- A trip request becomes one optimizer request per leg: origin → each destination → back to
  the origin when it is a round trip, linked by `follows` (the same car); with `driver_waits`
  the car waits at each destination. The planned start gives the first pickup a window from
  10 min before it until it (never late; earlier only to share a ride); the time between
  planned start and end not spent driving is spread as the wait at each destination, which
  places the later legs' pickups (the same window). Ride time ≤ the
  carpool rule's 1.2 × direct + 15 min. Boarding 2 min, alighting 1 min. For a trip that
  allows carpooling, the car's wait is not modelled as "nothing in between" (the optimizer's
  `driver_waits`): two parties waiting at one venue must be able to ride back together; what
  the car does meanwhile can only be another shared trip (the holds below), in the same order.
- 机要 (confidential) and requests that do not allow carpooling ride alone; so does a request
  that already has an order of its own (merging it would mean cancelling that order).
- The booking rule of the database (an order holds its car from planned start until 30 min
  after planned end; two orders of a car never overlap) is `optimizer.holds`: requests on one
  car with overlapping holds go in one order, which only carpool-allowed requests may share;
  orders a car already holds are fixed holds (committed: never moved).
- A car on the road now starts from its live position, now; every car is free from now (for
  today) or from midnight (later days) until 30 h after midnight (or the last trip's end),
  ends at its depot, costs per km by class and energy (optimizer.day_fleet) and, for a BEV,
  has 90 % of its rated range (no state of charge is recorded).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from optimizer.day_fleet import cost_per_km_fen
from optimizer.holds import Holds, order_groups
from optimizer.matrix import GreatCircleProvider
from optimizer.problem import (
    Node,
    Problem,
    Request,
    StopRef,
    TimeWindow,
    Vehicle,
    VehicleState,
    default_max_ride_s,
)

LOCAL = ZoneInfo("Asia/Shanghai")
PICKUP_EARLY_S = 10 * 60  # the car may come early for a shared ride; never late
PICKUP_LATE_S = 0
PICKUP_SERVICE_S = 120
DROPOFF_SERVICE_S = 60
BOOKING_BUFFER_S = 30 * 60  # migration 0004's booking_range
PLAN_HORIZON_S = 30 * 3600
RANGE_RESERVE = 0.9
PRIORITY_OF = {"emergency": "emergency", "law_enforcement": "law_enforcement"}
DIRECT_SOURCES = ("platform", "entrusted", "unit_retained")


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    city_code: str


@dataclass(frozen=True)
class QueuedTrip:
    """An approved request waiting for a car, as the queue shows it."""

    id: int
    org_id: int
    trip_type: str
    passengers: int
    planned_start: datetime
    planned_end: datetime
    origin: Place
    destinations: tuple[Place, ...]
    round_trip: bool = True
    driver_waits: bool = True
    car_level: str | None = None
    carpool_allowed: bool = False
    own_order: bool = False  # it has an order of its own waiting for a car


@dataclass(frozen=True)
class Booking:
    """An order the car holds already (assigned … service ended)."""

    order_id: int
    start: datetime
    end: datetime
    on_the_road: bool = False  # departed, at the pickup or in service


@dataclass(frozen=True)
class FleetCar:
    id: int
    plate: str
    source: str
    owner_org_id: int
    home_city: str
    seats: int
    car_level: str
    energy_type: str = "fuel"
    range_km: float | None = None
    depot: Place | None = None
    position: Place | None = None  # live fix (None: none, or not to be used)
    usable_until: date | None = None  # 年检 and 保险 both valid until (None: missing)
    active: bool = True
    bookings: tuple[Booking, ...] = ()


@dataclass(frozen=True)
class DayProblem:
    day: date
    city: str
    origin: datetime  # local midnight: time 0 of the problem
    problem: Problem
    holds: Holds
    trip_of_leg: dict[str, int]  # optimizer request id -> trip request id
    car_of_vehicle: dict[str, int]  # optimizer vehicle id -> car id
    place_of_node: tuple[Place, ...] = field(default=())

    def at(self, seconds: int) -> datetime:
        return self.origin + timedelta(seconds=seconds)

    def seconds(self, moment: datetime) -> int:
        return math.floor((moment - self.origin).total_seconds())

    def first_leg(self, trip_id: int) -> str:
        return str(trip_id)

    def orders_of(self, vehicle_id: str, refs: Sequence[StopRef]) -> list[list[int]]:
        """The trip requests of a route grouped into dispatch orders (optimizer.holds)."""
        vehicle = self.problem.vehicle_by_id[vehicle_id]
        aboard = [item.request_id for item in vehicle.state.on_board] if vehicle.state else []
        groups = []
        for group in order_groups(self.problem, refs, self.holds, aboard):
            trips = list(dict.fromkeys(self.trip_of_leg[rid] for rid in group))
            groups.append(trips)
        return groups


def day_of(trip: QueuedTrip) -> date:
    return trip.planned_start.astimezone(LOCAL).date()


def group_by_day_and_city(trips: Iterable[QueuedTrip]) -> dict[tuple[date, str], list[QueuedTrip]]:
    groups: dict[tuple[date, str], list[QueuedTrip]] = defaultdict(list)
    for trip in trips:
        groups[(day_of(trip), trip.origin.city_code)].append(trip)
    return dict(sorted(groups.items()))


def car_misfit(car: FleetCar, city: str, org_ids: set[int], day: date) -> str | None:
    """Why a car is not in the city's plan for that day (the assignment checks, up front)."""
    if not car.active:
        return "car_inactive"
    if car.source not in DIRECT_SOURCES:
        return "leased_via_company"
    if car.home_city != city:
        return "other_city"
    if car.source == "unit_retained" and car.owner_org_id not in org_ids:
        return "retained_by_other_unit"
    if car.usable_until is None or car.usable_until < day:
        return "documents"
    if car.depot is None or car.seats < 2:
        return "no_depot"
    return None


def build_day_problem(day: date, city: str, trips: Sequence[QueuedTrip],
                      cars: Sequence[FleetCar], now: datetime) -> DayProblem:
    origin = datetime.combine(day, time(0), tzinfo=LOCAL)
    org_ids = {trip.org_id for trip in trips}
    fleet = [car for car in cars if car_misfit(car, city, org_ids, day) is None]
    now_s = math.floor((now - origin).total_seconds())
    book = _Places()
    for car in fleet:
        book.node(car.depot)  # type: ignore[arg-type]
    legs_of = {trip.id: _leg_places(trip) for trip in trips}
    for trip in trips:
        for a, b in legs_of[trip.id]:
            book.node(a)
            book.node(b)
    on_road = {car.id: car.position for car in fleet
               if car.position is not None and _on_the_road(car, now)}
    for position in on_road.values():
        book.node(position)
    matrix = GreatCircleProvider().matrix(book.nodes)
    horizon_s = max([PLAN_HORIZON_S] + [
        math.floor((t.planned_end - origin).total_seconds()) + 6 * 3600 for t in trips])
    start_s = max(0, now_s)
    requests: list[Request] = []
    trip_of_leg: dict[str, int] = {}
    booking_of: dict[str, str] = {}
    window_of: dict[str, tuple[int, int]] = {}
    for trip in trips:
        legs = _legs(trip, legs_of[trip.id], book, matrix.duration_s, origin)
        requests += legs
        for leg in legs:
            trip_of_leg[leg.id] = trip.id
            booking_of[leg.id] = f"trip-{trip.id}"
        window_of[f"trip-{trip.id}"] = _held(trip, origin)
    vehicles = []
    fixed: dict[str, tuple[tuple[int, int], ...]] = {}
    for car in fleet:
        depot = book.node(car.depot)  # type: ignore[arg-type]
        vehicle_id = str(car.id)
        state = None
        if car.id in on_road and now_s >= 0:
            state = VehicleState(node=book.node(on_road[car.id]), time_s=now_s)
        vehicles.append(Vehicle(
            id=vehicle_id, start_node=depot, end_node=depot, capacity=car.seats - 1,
            shift=TimeWindow(min(start_s, horizon_s), horizon_s), car_level=car.car_level,
            source=car.source,  # type: ignore[arg-type]
            unit_id=str(car.owner_org_id) if car.source == "unit_retained" else None,
            range_m=(round(car.range_km * 1000 * RANGE_RESERVE)
                     if car.energy_type == "bev" and car.range_km else None),
            cost_per_km=cost_per_km_fen(car.car_level, car.energy_type), state=state))
        fixed[vehicle_id] = tuple(_held_booking(b, origin) for b in car.bookings)
    problem = Problem(tuple(book.nodes), matrix.duration_s, matrix.dist_m, tuple(requests),
                      tuple(vehicles), name=f"{city}-{day.isoformat()}")
    holds = Holds(booking_of, window_of, fixed)
    return DayProblem(day, city, origin, problem, holds, trip_of_leg,
                      {str(car.id): car.id for car in fleet}, tuple(book.places))


class _Places:
    """Nodes deduplicated by place (coordinates to about 10 cm, city)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.places: list[Place] = []
        self._index: dict[tuple[float, float, str], int] = {}

    def node(self, place: Place) -> int:
        key = (round(place.lon, 6), round(place.lat, 6), place.city_code)
        if key not in self._index:
            self._index[key] = len(self.nodes)
            self.nodes.append(Node((place.lon, place.lat), place.city_code, place.name))
            self.places.append(place)
        return self._index[key]


def _on_the_road(car: FleetCar, now: datetime) -> bool:
    return any(b.on_the_road and b.start - timedelta(hours=1) <= now for b in car.bookings)


def _leg_places(trip: QueuedTrip) -> list[tuple[Place, Place]]:
    stops = [trip.origin, *trip.destinations]
    if trip.round_trip:
        stops.append(trip.origin)
    return list(zip(stops, stops[1:], strict=False))


def _held(trip: QueuedTrip, origin: datetime) -> tuple[int, int]:
    start = math.floor((trip.planned_start - origin).total_seconds())
    end = math.ceil((trip.planned_end - origin).total_seconds())
    return start, end + BOOKING_BUFFER_S


def _held_booking(booking: Booking, origin: datetime) -> tuple[int, int]:
    start = math.floor((booking.start - origin).total_seconds())
    end = math.ceil((booking.end - origin).total_seconds())
    return start, end + BOOKING_BUFFER_S


def _legs(trip: QueuedTrip, places: list[tuple[Place, Place]], book: _Places,
          duration: Sequence[Sequence[int]], origin: datetime) -> list[Request]:
    """The trip's legs with their pickup windows (module docstring)."""
    nodes = [(book.node(a), book.node(b)) for a, b in places]
    drives = [duration[a][b] for a, b in nodes]
    start_s = math.floor((trip.planned_start - origin).total_seconds())
    span_s = math.floor((trip.planned_end - trip.planned_start).total_seconds())
    busy_s = sum(drives) + len(drives) * (PICKUP_SERVICE_S + DROPOFF_SERVICE_S)
    dwell_s = max(0, (span_s - busy_s) // (len(drives) - 1)) if len(drives) > 1 else 0
    confidential = trip.trip_type == "confidential"
    shareable = trip.carpool_allowed and not confidential and not trip.own_order
    legs = []
    planned_s = start_s
    for k, ((a, b), drive_s) in enumerate(zip(nodes, drives, strict=True)):
        leg_id = str(trip.id) if k == 0 else f"{trip.id}.{k + 1}"
        legs.append(Request(
            id=leg_id, pickup_node=a, dropoff_node=b, passengers=trip.passengers,
            pickup_window=TimeWindow(planned_s - PICKUP_EARLY_S, planned_s + PICKUP_LATE_S),
            max_ride_s=default_max_ride_s(drive_s), pickup_service_s=PICKUP_SERVICE_S,
            dropoff_service_s=DROPOFF_SERVICE_S,
            priority=PRIORITY_OF.get(trip.trip_type, "ordinary"),  # type: ignore[arg-type]
            car_levels=(trip.car_level,) if trip.car_level else (), confidential=confidential,
            shareable=shareable, unit_id=str(trip.org_id),
            follows=legs[-1].id if legs else None,
            driver_waits=bool(legs) and trip.driver_waits and not shareable))
        planned_s += PICKUP_SERVICE_S + drive_s + DROPOFF_SERVICE_S + dwell_s
    return legs
