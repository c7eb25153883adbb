"""A month of dispatch work, generated (seeded random, pure code): the material for the
figures, the statements and the bench (issue #4). fleet/month_seed.py writes it.

The requests (fleet/month_requests.py) are dispatched in the order of their planned start the
way a dispatcher would (domain.md §4): the unit's own retained car, else a platform or
entrusted car of the city, else a rental company covering every city of the trip (also first
choice for multi-day out-of-town trips, and often for large groups); a quarter of the
compatible carpool pairs share one order (dispatch/carpool.propose decides compatibility).
No car and no driver is ever booked twice within 30 min of their actual or planned times.
Each order then unfolds on the road (fleet/month_routes.py): times, odometer, fuel or charge,
tolls, parking, and the GNSS trips the terminal would have produced; a few trips happen
without any order (private-use material). The events of requests and orders come from the
state machines themselves (dispatch/trip_requests.apply, dispatch/orders.ORDER_MACHINE).

Nothing happens after `now` (the time the generator runs): a request is filed before it, an
order that would come back after it is not dispatched (its request stays approved, as when
no car is free — a multi-day trip leaving near the month's end), and the histories stop at it
(an emergency's late approval, the requester's confirmation or rating still to come).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.carpool import CarpoolRules, Place, RideRequest, propose
from dispatch.months import LOCAL, Month
from fleet.month_events import approval_plan, order_events, request_events
from fleet.month_fleet import Booking, Fleet
from fleet.month_requests import Spec, make_requests
from fleet.month_routes import Costs, GenTrip, Timeline, costs, unfold
from fleet.scenario.model import Scenario


@dataclass(frozen=True)
class GenEvent:
    event: str
    from_state: str
    to_state: str
    at: datetime
    actor: str | None = None  # "applicant": the request's applicant; None: not recorded
    note: str = ""


@dataclass
class GenRequest:
    spec: Spec
    state: str = "draft"
    approval_levels: int = 1
    approved_levels: int = 0
    approval_reasons: tuple[str, ...] = ()
    emergency_deadline: datetime | None = None
    emergency_approved: bool | None = None
    events: list[GenEvent] = field(default_factory=list)


@dataclass
class GenOrder:
    key: int
    specs: list[Spec]  # the first leads the order
    booking: Booking
    planned_start: datetime
    planned_end: datetime
    timeline: Timeline | None  # None: cancelled before it left
    costs: Costs | None
    odometer_start_km: float | None = None
    odometer_end_km: float | None = None
    state: str = "created"
    times: dict[str, datetime] = field(default_factory=dict)  # assigned_at, accepted_at, …
    rating: int | None = None
    feedback: str = ""
    dispute_reason: str = ""
    events: list[GenEvent] = field(default_factory=list)
    first_company: str | None = None  # a rental company that rejected it before the one that took it


@dataclass
class MonthPlan:
    month: Month
    seed: int
    requests: list[GenRequest]
    orders: list[GenOrder]
    trips: list[GenTrip]
    fleet: Fleet

    def counts(self) -> dict[str, int]:
        rental = [o for o in self.orders if o.booking.company_code]
        return {
            "requests": len(self.requests), "orders": len(self.orders),
            "carpooled_orders": sum(len(o.specs) > 1 for o in self.orders),
            "rental_orders": len(rental), "trips": len(self.trips),
            "private_trips": sum(t.private for t in self.trips),
        }


def _ride(spec: Spec) -> RideRequest:
    o, d = spec.origin, spec.destinations[0]
    return RideRequest(spec.key, Place(o.lat, o.lon, o.city_code), Place(d.lat, d.lon, d.city_code),
                       spec.planned_start, spec.passenger_count, carpool_allowed=spec.carpool_allowed)


def _merge(rng: random.Random, spec: Spec, partner: Spec) -> bool:
    """A quarter of the compatible pairs are merged by the dispatcher."""
    return (partner.outcome == "carry" and rng.random() < 0.3
            and propose(_ride(spec), _ride(partner), 5, CarpoolRules()) is not None)


def _trips(order: GenOrder, rng: random.Random) -> list[GenTrip]:
    assert order.timeline is not None
    return [GenTrip(order.booking.plate, leg.depart, leg.arrive, leg.start, leg.end,
                    leg.km * rng.uniform(0.96, 1.0) * 1000) for leg in order.timeline.legs]


def _unfold(rng: random.Random, fleet: Fleet, specs: list[Spec], booking: Booking) -> tuple[Timeline, Costs]:
    lead = specs[0]
    late_share = 0.1 if booking.company_code else 0.05
    lateness = rng.uniform(16, 40) if rng.random() < late_share else rng.uniform(-10, 8)
    car = fleet.vehicles[booking.plate]
    timeline = unfold(rng, fleet.depot_of(booking.plate), [s.origin for s in specs],
                      [d for s in specs for d in s.destinations], lead.round_trip,
                      lead.planned_start, max(s.planned_end for s in specs), lateness, lead.nights)
    pays_fuel = booking.company_code is None or booking.mode == "car_only"
    return timeline, costs(rng, timeline, car.car_level, car.energy_type,
                           fleet.efficiency[booking.plate], lead.nights, pays_fuel)


FILING_SLACK = timedelta(minutes=10)   # a request is submitted up to 10 min after it is made


def generate_month(scenario: Scenario, month: Month, requests: int = 3000, seed: int = 1,
                   now: datetime | None = None) -> MonthPlan:
    """The month; `now` (default: the wall clock) bounds every time it holds."""
    now = now if now is not None else datetime.now(LOCAL)
    rng = random.Random(seed)
    specs = [s for s in make_requests(rng, scenario, month, requests)
             if s.created_at + FILING_SLACK <= now]
    fleet = Fleet(scenario, random.Random(seed + 1))
    by_key = {s.key: s for s in specs}
    orders: list[GenOrder] = []
    served: set[int] = set()
    for spec in sorted(specs, key=lambda s: (s.planned_start, s.key)):
        if spec.key in served or spec.outcome in ("reject", "withdraw_early"):
            continue
        group = [spec]
        partner = by_key.get(spec.partner) if spec.partner is not None else None
        if partner is not None and partner.key not in served and _merge(rng, spec, partner):
            group.append(partner)
        served |= {s.key for s in group}
        start = min(s.planned_start for s in group)
        end = max(s.planned_end for s in group)
        withdrawn = spec.outcome == "withdraw_late" and len(group) == 1
        found = fleet.assign(group, start, end, lambda b, g=group: _unfold(rng, fleet, g, b),
                             hold=not withdrawn, fits=lambda made: made[0].returned_at <= now)
        if found is None:
            continue  # no car (or not back by now): the request stays approved, not fulfilled
        booking, (timeline, cost) = found
        order = GenOrder(len(orders), group, booking, start, end,
                         None if withdrawn else timeline, None if withdrawn else cost)
        for member in group:  # filed early enough for the car to leave on time
            if member.emergency:
                member.ready_by = timeline.departed_at - timedelta(minutes=5)
                if member.created_at > timeline.departed_at - timedelta(minutes=20):
                    member.created_at = timeline.departed_at - timedelta(minutes=rng.uniform(20, 30))
            else:
                member.ready_by = timeline.departed_at - timedelta(minutes=45)
                if member.created_at > member.ready_by - timedelta(minutes=90):
                    member.created_at = member.ready_by - timedelta(minutes=rng.uniform(90, 240))
        if not withdrawn:
            order.odometer_start_km = fleet.odometer[booking.plate]
            order.odometer_end_km = round(order.odometer_start_km + timeline.km, 1)
            fleet.odometer[booking.plate] = order.odometer_end_km
        orders.append(order)
    plans = {s.key: approval_plan(rng, s) for s in specs}
    gen_requests = [GenRequest(s) for s in specs]
    for order in orders:
        order_events(rng, order, plans, month, now)
    request_events(gen_requests, orders, plans, now)
    trips = [trip for order in orders if order.timeline for trip in _trips(order, rng)]
    trips += [t for t in fleet.private_trips(rng, month, max(3, requests // 150)) if t.end <= now]
    return MonthPlan(month, seed, gen_requests, orders, trips, fleet)
