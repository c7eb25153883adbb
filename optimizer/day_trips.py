"""The trip requests of a generated Wuhan-circle day (for optimizer/day_generator.py). Pure,
seeded.

A trip is one request or several linked by `follows` (a round trip's return leg, the next leg
of a multi-stop trip). Trips come from the units of each city, a city's share of trips being
its share of the fleet; units with cars of their own (unit-retained) ask three times as often.
Kinds, by share of trips (each kind at least once when the day is big enough):

- one way, in the city or to another (35 % of one-way and round trips are drawn to another
  city; with the county seats, which count as towns of their own, ~45 % of trips cross);
- round trips with a wait at the destination: the driver waits there (`driver_waits`), or the
  car is free meanwhile and comes back in time (`follows` only); an outbound leg with a pickup
  window ("ready 08:30–08:45") or an arrival window (a meeting at 09:30: "there 09:00–09:30");
- multi-stop trips (an inspection tour O → A → B → O, the driver waiting at each stop);
- carpool groups (公务拼车 candidates): two or three units of a city going to the same meeting,
  from offices a few km apart, arrival window shared, starts within ±30 min, shareable;
- station and airport transfers (接站/送站), a 300 s pickup with luggage;
- emergencies (应急, pickup within 30 min of the call, never shared), law enforcement (执法,
  priority, not shared), 机要 (confidential, never shared, the driver waits).

Times: pickups from 07:30, a morning peak 08:00–10:00 and an afternoon wave 14:00–16:00;
every trip can be driven from its city's motor pool within 07:30–18:30 and 7 h at the wheel
(the generator redraws a trip that cannot), so a day is feasible for a fleet large enough.
Passengers: mostly 1–3, a few groups for minibuses and buses; the car class follows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from optimizer.day_places import TRANSFER_KINDS, NodeBook
from optimizer.problem import Priority, Request, TimeWindow, default_max_ride_s

MIN_S = 60
HOUR_S = 3600
FIRST_PICKUP_S = 7 * HOUR_S + 30 * MIN_S  # a car leaving the pool at 07:30 can be there
HOME_BY_S = 18 * HOUR_S + 30 * MIN_S  # the earliest shift end of a pool driver
TRIP_DRIVING_S = 7 * HOUR_S  # pool to pool, within the 8 h limit with room to spare
PICKUP_SLACK_S = 15 * MIN_S
ARRIVAL_SLACK_S = 30 * MIN_S
RETURN_SLACK_S = 30 * MIN_S
EMERGENCY_SLACK_S = 30 * MIN_S
PICKUP_SERVICE_S = 180
TRANSFER_SERVICE_S = 300
DROPOFF_SERVICE_S = 60
CROSS_CITY_SHARE = 0.35
KIND_WEIGHTS = (("one_way", 0.22), ("round_trip", 0.34), ("multi_stop", 0.07),
                ("carpool_group", 0.10), ("transfer", 0.10), ("emergency", 0.06),
                ("law_enforcement", 0.07), ("confidential", 0.04))
# (start, end, weight) of the planned start, in minutes after midnight
DAY_WAVES = ((450, 480, 0.05), (480, 600, 0.40), (600, 690, 0.11), (690, 840, 0.05),
             (840, 960, 0.31), (960, 1020, 0.08))
DAY_TRIP_WAVES = ((450, 600, 0.75), (600, 690, 0.10), (810, 900, 0.15))  # leaving town
PASSENGERS = ((1, 0.38), (2, 0.28), (3, 0.14), (4, 0.08), (5, 0.04), (6, 0.03),
              (10, 0.03), (14, 0.01), (30, 0.01))
# units by the end of their code: who files emergencies, law enforcement, 机要
EMERGENCY_UNITS = ("YJJ", "WJW")
LAW_UNITS = ("GAJ", "CGJ", "SCJGJ")
CONFIDENTIAL_UNITS = ("SWBGT", "SWBGS")
T = TypeVar("T")


@dataclass(frozen=True)
class Party:
    """Who travels on a trip, and on what terms."""

    unit_id: str
    passengers: int
    car_levels: tuple[str, ...]
    priority: Priority = "ordinary"
    confidential: bool = False
    shareable: bool = True


def car_levels_for(rng: random.Random, passengers: int) -> tuple[str, ...]:
    """The classes a request allows: a small party takes a sedan or a business car (some ask
    for one of them only: a sedan by the rules, a business car to receive guests)."""
    if passengers <= 4:
        return rng.choices((("sedan", "business"), ("sedan",), ("business",)), (60, 25, 15))[0]
    if passengers <= 6:
        return ("business",)
    return ("minibus",) if passengers <= 16 else ("bus",)


class TripMaker:
    """Draws the day's trips; `day(count)` returns exactly `count` requests."""

    def __init__(self, rng: random.Random, book: NodeBook, city_weights: dict[str, float],
                 unit_weights: dict[str, float]) -> None:
        self.rng = rng
        self.book = book
        self.cities = sorted(city_weights)
        self.city_weights = [city_weights[c] for c in self.cities]
        self.units: dict[str, list[str]] = {}
        for org in book.scenario.organisations:
            if org.kind == "unit" and org.city_code:
                self.units.setdefault(org.city_code, []).append(org.code)
        self.unit_weights = unit_weights
        self.sites = 0
        self.trip_no = 0

    # --- the day ------------------------------------------------------------------------------

    def day(self, count: int) -> list[Request]:
        makers: dict[str, Callable[[str], list[list[Request]] | None]] = {
            "one_way": self.one_way, "round_trip": self.round_trip,
            "multi_stop": self.multi_stop, "carpool_group": self.carpool_group,
            "transfer": self.transfer, "emergency": self.emergency,
            "law_enforcement": self.law_enforcement, "confidential": self.confidential}
        kinds = [name for name, _ in KIND_WEIGHTS]
        self.rng.shuffle(kinds)
        upfront = kinds if count >= 40 else []  # every kind once, when there is room
        requests: list[Request] = []
        while len(requests) < count:
            kind = upfront.pop() if upfront else _weighted(self.rng, KIND_WEIGHTS)
            trips = self._draw(makers[kind])
            if sum(len(t) for t in trips) > count - len(requests):
                trips = self._draw(self.one_way)  # one request: it always fits
            for trip in trips:
                requests += trip
        return requests

    def one_ways(self, count: int) -> list[Request]:
        """`count` one-way trips: what replaces trips no car of the fleet could drive."""
        return [r for _ in range(count) for trip in self._draw(self.one_way) for r in trip]

    def _draw(self, maker: Callable[[str], list[list[Request]] | None]) -> list[list[Request]]:
        """A kind's trips from a city drawn by fleet share; redrawn until they fit the day."""
        for _ in range(40):
            city = self.rng.choices(self.cities, self.city_weights)[0]
            first_trip = self.trip_no
            trips = maker(city)
            if trips is not None and all(self._fits_day(t, city) for t in trips):
                return trips
            self.trip_no = first_trip
        return [self._fallback()]

    def _fallback(self) -> list[Request]:
        """A short one-way morning trip in Wuhan: always feasible."""
        book = self.book
        party = self._party("420100", passengers=1)
        origin = book.office(party.unit_id)
        dest = book.place(book.government("420100"))
        return [self._leg(f"{self._id()}-1", party, origin, dest,
                          pickup=_window(9 * HOUR_S, PICKUP_SLACK_S))[0]]

    def _fits_day(self, trip: list[Request], city: str) -> bool:
        depot = self.book.city_depot(city)
        first, last = trip[0], trip[-1]
        duration = self.book.duration_s
        if first.pickup_window is not None:
            latest_pickup = first.pickup_window.end_s
        else:
            assert first.dropoff_window is not None
            latest_pickup = (first.dropoff_window.end_s - first.pickup_service_s
                             - duration(first.pickup_node, first.dropoff_node))
        if latest_pickup < FIRST_PICKUP_S + duration(depot, first.pickup_node):
            return False
        if _free_after(self.book, last) + duration(last.dropoff_node, depot) > HOME_BY_S:
            return False
        stops = [depot, *(n for r in trip for n in (r.pickup_node, r.dropoff_node)), depot]
        return sum(duration(a, b) for a, b in zip(stops, stops[1:], strict=False)) <= TRIP_DRIVING_S

    # --- the kinds ----------------------------------------------------------------------------

    def one_way(self, city: str) -> list[list[Request]]:
        cross = self.rng.random() < CROSS_CITY_SHARE
        party = self._party(city)
        origin = self._origin(city, party)
        dest = self._destination(city, cross, (origin,))
        start = self._start(cross)
        return [[self._leg(f"{self._id()}-1", party, origin, dest,
                           pickup=_window(start, PICKUP_SLACK_S))[0]]]

    def round_trip(self, city: str, party: Party | None = None, *,
                   cross: bool | None = None, waits: bool | None = None) -> list[list[Request]]:
        rng = self.rng
        cross = rng.random() < CROSS_CITY_SHARE if cross is None else cross
        waits = rng.random() < 0.5 if waits is None else waits
        party = party or self._party(city)
        origin = self._origin(city, party)
        dest = self._destination(city, cross, (origin,))
        trip_id = self._id()
        start = self._start(cross)
        if rng.random() < 0.4:  # a meeting: be there by its start
            meeting = start + self.book.duration_s(origin, dest) + 30 * MIN_S
            out, free = self._leg(f"{trip_id}-1", party, origin, dest,
                                  arrival=_window(meeting - ARRIVAL_SLACK_S, ARRIVAL_SLACK_S))
        else:
            out, free = self._leg(f"{trip_id}-1", party, origin, dest,
                                  pickup=_window(start, PICKUP_SLACK_S))
        back_from = free + self._visit_s(cross)
        if rng.random() < 0.25:  # "back by 12:00"
            back_at = back_from + PICKUP_SERVICE_S + self.book.duration_s(dest, origin)
            back, _ = self._leg(f"{trip_id}-2", party, dest, origin, follows=out.id, waits=waits,
                                arrival=_window(back_at, RETURN_SLACK_S))
        else:
            back, _ = self._leg(f"{trip_id}-2", party, dest, origin, follows=out.id, waits=waits,
                                pickup=_window(back_from, RETURN_SLACK_S))
        return [[out, back]]

    def multi_stop(self, city: str) -> list[list[Request]]:
        """An inspection tour: origin → A → B → origin, the driver waiting at A and B."""
        rng = self.rng
        cross = rng.random() < 0.5
        party = self._party(city)
        origin = self._origin(city, party)
        target = self._other_city(city) if cross else city
        first = self._destination(city, cross, (origin,), target=target)
        second = self._destination(city, cross, (origin, first), target=target)
        trip_id = self._id()
        legs: list[Request] = []
        pickup = _window(self._start(cross), PICKUP_SLACK_S)
        for k, (a, b) in enumerate(((origin, first), (first, second), (second, origin)), 1):
            leg, free = self._leg(f"{trip_id}-{k}", party, a, b, pickup=pickup,
                                  follows=legs[-1].id if legs else None, waits=bool(legs))
            legs.append(leg)
            pickup = _window(free + rng.choice((30, 45, 60, 90)) * MIN_S, RETURN_SLACK_S)
        return [legs]

    def carpool_group(self, city: str) -> list[list[Request]] | None:
        """Two or three units of a city to one meeting: compatible origins (their offices, a few
        km apart), one destination, one arrival window, back after the meeting."""
        rng = self.rng
        cross = rng.random() < 0.5
        units = self.units.get(city, [])
        if len(units) < 2:
            return None
        target = self._other_city(city) if cross else city
        venues = self.book.places_of(target, ("conference", "government"))
        dest = self.book.place(rng.choice(venues))
        meeting = self._start(cross) + 60 * MIN_S
        ends = meeting + rng.choice((90, 120, 150, 180)) * MIN_S
        trips = []
        for unit in rng.sample(units, min(len(units), rng.choice((2, 3)))):
            party = Party(unit, rng.choice((1, 1, 2)), ("sedan", "business"))
            origin = self.book.office(unit)
            if origin == dest:
                continue
            trip_id = self._id()
            out, _ = self._leg(f"{trip_id}-1", party, origin, dest,
                               arrival=_window(meeting - ARRIVAL_SLACK_S, ARRIVAL_SLACK_S))
            back, _ = self._leg(f"{trip_id}-2", party, dest, origin, follows=out.id,
                                pickup=_window(ends, RETURN_SLACK_S))
            trips.append([out, back])
        return trips if len(trips) >= 2 else None

    def transfer(self, city: str) -> list[list[Request]] | None:
        """接站 / 送站: guests met at a station or the airport (the city's own, or Wuhan's),
        or officials taken to their train or flight."""
        rng = self.rng
        hub_city = "420100" if rng.random() < 0.4 else city
        hubs = self.book.places_of(hub_city, TRANSFER_KINDS)
        if not hubs:
            return None
        hub = self.book.place(rng.choice(hubs))
        party = self._party(city)
        office = self.book.office(party.unit_id)
        start = self._start(hub_city != city)
        if rng.random() < 0.5:
            leg, _ = self._leg(f"{self._id()}-1", party, hub, office,
                               pickup=_window(start, 20 * MIN_S))
        else:
            leg, _ = self._leg(f"{self._id()}-1", party, office, hub,
                               arrival=_window(start - 45 * MIN_S, 25 * MIN_S))
        return [[leg]]

    def emergency(self, city: str) -> list[list[Request]]:
        rng = self.rng
        party = self._party(city, units=EMERGENCY_UNITS, priority="emergency",
                            passengers=rng.choice((1, 2, 3, 4)), shareable=False)
        origin = self.book.office(party.unit_id)
        cross = rng.random() < 0.3
        target = self._other_city(city) if cross else city
        self.sites += 1
        dest = self.book.site(rng, target, self.sites)
        start = 5 * round(rng.uniform(FIRST_PICKUP_S, 17 * HOUR_S) / 300) * MIN_S
        trip_id = self._id()
        out, free = self._leg(f"{trip_id}-1", party, origin, dest,
                              pickup=_window(start, EMERGENCY_SLACK_S))
        if rng.random() < 0.5:
            return [[out]]
        back, _ = self._leg(f"{trip_id}-2", party, dest, origin, follows=out.id, waits=True,
                            pickup=_window(free + rng.choice((60, 90, 120)) * MIN_S,
                                           RETURN_SLACK_S))
        return [[out, back]]

    def law_enforcement(self, city: str) -> list[list[Request]]:
        party = self._party(city, units=LAW_UNITS, priority="law_enforcement",
                            passengers=self.rng.choice((1, 2, 2, 3)), shareable=False)
        return self.round_trip(city, party, cross=self.rng.random() < 0.15)

    def confidential(self, city: str) -> list[list[Request]]:
        party = Party(self._unit(city, CONFIDENTIAL_UNITS), self.rng.choice((1, 1, 2)),
                      ("sedan",), confidential=True, shareable=False)
        return self.round_trip(city, party, cross=self.rng.random() < 0.4, waits=True)

    # --- the parts ----------------------------------------------------------------------------

    def _id(self) -> str:
        """A new trip's id; its legs are <id>-1, <id>-2 …"""
        self.trip_no += 1
        return f"t{self.trip_no:03d}"

    def _leg(self, rid: str, party: Party, origin: int, dest: int, *,
             pickup: TimeWindow | None = None, arrival: TimeWindow | None = None,
             follows: str | None = None, waits: bool = False) -> tuple[Request, int]:
        """The request, and when its party is free at the destination at the latest."""
        transfer = self.book.kinds[origin] in TRANSFER_KINDS
        request = Request(
            id=rid, pickup_node=origin, dropoff_node=dest, passengers=party.passengers,
            pickup_window=pickup, dropoff_window=arrival,
            max_ride_s=default_max_ride_s(self.book.duration_s(origin, dest)),
            pickup_service_s=TRANSFER_SERVICE_S if transfer else PICKUP_SERVICE_S,
            dropoff_service_s=DROPOFF_SERVICE_S, priority=party.priority,
            car_levels=party.car_levels, confidential=party.confidential,
            shareable=party.shareable, unit_id=party.unit_id, follows=follows,
            driver_waits=waits)
        return request, _free_after(self.book, request)

    def _party(self, city: str, *, units: tuple[str, ...] = (), priority: Priority = "ordinary",
               passengers: int | None = None, shareable: bool = True) -> Party:
        count = passengers or int(_weighted(self.rng, PASSENGERS))
        return Party(self._unit(city, units), count, car_levels_for(self.rng, count),
                     priority=priority, shareable=shareable)

    def _unit(self, city: str, roles: tuple[str, ...] = ()) -> str:
        units = self.units[city]
        fitting = [u for u in units if u.endswith(roles)] if roles else units
        fitting = fitting or units
        return self.rng.choices(fitting, [self.unit_weights.get(u, 1.0) for u in fitting])[0]

    def _origin(self, city: str, party: Party) -> int:
        roll = self.rng.random()
        if roll < 0.65:
            return self.book.office(party.unit_id)
        if roll < 0.85:
            return self.book.place(self.rng.choice(self.book.places_of(city)))
        self.sites += 1
        return self.book.site(self.rng, city, self.sites)

    def _destination(self, city: str, cross: bool, avoid: Sequence[int], *,
                     target: str | None = None) -> int:
        """A place, a site or another unit's office in the city or, crossing, in another one;
        never one of the nodes in `avoid` (a leg goes somewhere)."""
        rng = self.rng
        target = target or (self._other_city(city) if cross else city)
        for _ in range(10):
            roll = rng.random()
            if roll < 0.45:
                dest = self.book.place(rng.choice(self.book.places_of(target)))
            elif roll < 0.85 or len(self.units.get(target, [])) < 2:
                self.sites += 1
                dest = self.book.site(rng, target, self.sites)
            else:
                dest = self.book.office(rng.choice(self.units[target]))
            if dest not in avoid:
                return dest
        self.sites += 1
        return self.book.site(rng, target, self.sites)

    def _other_city(self, city: str) -> str:
        """Another city, the nearer the likelier; Wuhan, the capital, three times as likely."""
        book = self.book
        home = book.city_depot(city)
        others = [c.code for c in book.scenario.cities if c.code != city]
        weights = [(3.0 if c == "420100" else 1.0) / book.leg(home, book.city_depot(c))[1]
                   for c in others]
        return self.rng.choices(others, weights)[0]

    def _start(self, cross: bool) -> int:
        waves = DAY_TRIP_WAVES if cross else DAY_WAVES
        low, high, _ = self.rng.choices(waves, [w for *_, w in waves])[0]
        return 5 * round(self.rng.uniform(low, high) / 5) * MIN_S

    def _visit_s(self, cross: bool) -> int:
        minutes = (60, 90, 120, 180, 240) if cross else (30, 45, 60, 90, 120)
        return self.rng.choice(minutes) * MIN_S


def _window(start_s: int, width_s: int) -> TimeWindow:
    """[start, start + width], the start rounded up to 5 min as people plan (never earlier)."""
    start_s = -(-start_s // 300) * 300
    return TimeWindow(start_s, start_s + width_s)


def _free_after(book: NodeBook, request: Request) -> int:
    """The latest moment the party is done at the destination (window ends, direct drive)."""
    if request.dropoff_window is not None:
        return request.dropoff_window.end_s + request.dropoff_service_s
    assert request.pickup_window is not None
    return (request.pickup_window.end_s + request.pickup_service_s
            + book.duration_s(request.pickup_node, request.dropoff_node)
            + request.dropoff_service_s)


def _weighted(rng: random.Random, choices: Sequence[tuple[T, float]]) -> T:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]
