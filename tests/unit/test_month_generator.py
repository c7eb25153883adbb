"""The generated month (fleet/month_generator.py): the mix of requests and orders the brief
asks for, never a car or a driver booked twice within 30 min, histories the state machines
accept, trips inside their orders, and the same month again for the same seed."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from dispatch.months import LOCAL, Month
from fleet.month_generator import MonthPlan, generate_month
from fleet.scenario.load import load_scenario

NOVEMBER = Month(2026, 11)
LATER = datetime(2027, 1, 1, tzinfo=LOCAL)            # the month long over


@pytest.fixture(scope="module")
def plan() -> MonthPlan:
    return generate_month(load_scenario(), NOVEMBER, requests=1500, seed=11, now=LATER)


def _window(order):
    t = order.timeline
    return min(order.planned_start, t.departed_at), max(order.planned_end, t.returned_at)


def test_counts_and_shares(plan):
    requests, orders = plan.requests, plan.orders
    assert len(requests) == 1500
    types = Counter(r.spec.trip_type for r in requests)
    assert 0.03 <= types["emergency"] / len(requests) <= 0.07
    assert {"official", "meeting", "reception", "law_enforcement", "confidential"} <= set(types)
    states = Counter(r.state for r in requests)
    assert states["rejected"] > 0 and states["withdrawn"] > 0 and states["completed"] > 0.8 * len(requests)
    assert 0.05 <= sum(r.spec.cross_city for r in requests) / len(requests) <= 0.14
    assert any(r.spec.nights for r in requests)  # multi-day out of town
    assert any(len(r.spec.destinations) > 1 for r in requests)
    rental = [o for o in orders if o.booking.company_code]
    assert 0.12 <= len(rental) / len(orders) <= 0.22
    assert {o.booking.charter_type for o in rental} >= {"trip", "half_day", "full_day", "multi_day"}
    pairs = sum(r.spec.partner is not None for r in requests) // 2
    merged = [o for o in orders if len(o.specs) == 2]
    assert pairs > 0 and 0.1 <= len(merged) / pairs <= 0.5  # about a quarter merged
    for order in merged:
        a, b = order.specs
        assert a.city == b.city and abs(a.planned_start - b.planned_start) <= timedelta(minutes=30)
    order_states = Counter(o.state for o in orders)
    assert order_states["confirmed"] + order_states["rated"] > 0.7 * len(orders)
    assert order_states["cancelled"] > 0 and order_states["disputed"] + order_states["confirmed"] > 0
    assert sum(t.private for t in plan.trips) >= 6


def test_no_car_or_driver_booked_twice_within_30_minutes(plan):
    busy: dict[str, list] = defaultdict(list)
    for order in plan.orders:
        if order.timeline is None:
            continue  # cancelled before it left: it holds nothing
        start, end = _window(order)
        busy["car " + order.booking.plate].append((start, end))
        busy["driver " + order.booking.driver_code].append((start, end))
    for trip in plan.trips:
        if trip.private:
            busy["car " + trip.plate].append((trip.start, trip.end))
    for key, spans in busy.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end + timedelta(minutes=30), key


def test_the_car_fits_the_request(plan):
    cars = {v.plate: v for v in load_scenario().vehicles}
    for order in plan.orders:
        car = cars[order.booking.plate]
        lead = order.specs[0]
        assert car.seats - 1 >= sum(s.passenger_count for s in order.specs)
        if order.booking.company_code:
            assert car.rental_company_code == order.booking.company_code
        elif car.source == "unit_retained":
            assert car.owner_org_code == lead.org_code
        else:
            assert car.source in ("platform", "entrusted") and car.city_code == lead.city


def test_histories_chain_and_trips_lie_within_their_orders(plan):
    for order in plan.orders:
        states = [order.events[0].from_state] + [e.to_state for e in order.events]
        assert states[0] == "created" and states[-1] == order.state
        assert all(e.from_state == prev for e, prev in zip(order.events, states, strict=False))
        times = [e.at for e in order.events]
        assert times == sorted(times)
    for request in plan.requests:
        assert request.events[0].from_state == "draft" and request.events[-1].to_state == request.state
        assert [e.at for e in request.events] == sorted(e.at for e in request.events)
    for order in plan.orders:
        if order.timeline is None:
            continue
        t = order.timeline
        assert t.departed_at <= t.arrived_pickup_at <= t.service_ended_at <= t.returned_at
        assert t.legs and all(t.departed_at <= leg.depart < leg.arrive <= t.returned_at for leg in t.legs)
        assert order.odometer_end_km - order.odometer_start_km == pytest.approx(order.timeline.km, abs=0.1)


def test_every_emergency_ends_approved_some_late(plan):
    emergencies = [r for r in plan.requests if r.spec.emergency]
    late = [r for r in emergencies if r.emergency_deadline and any(
        e.event == "approve" and e.at > r.emergency_deadline for e in r.events)]
    assert late  # R14 material
    # a past month leaves no emergency waiting in an approver's queue
    assert emergencies and all(r.emergency_approved is True for r in emergencies)


def test_the_same_seed_gives_the_same_month():
    scenario = load_scenario()

    def summary(p: MonthPlan):
        return [(o.booking.plate, o.booking.driver_code, o.state, o.timeline and o.timeline.departed_at)
                for o in p.orders]

    a = generate_month(scenario, NOVEMBER, requests=200, seed=5, now=LATER)
    b = generate_month(scenario, NOVEMBER, requests=200, seed=5, now=LATER)
    c = generate_month(scenario, NOVEMBER, requests=200, seed=6, now=LATER)
    assert summary(a) == summary(b)
    assert [len(t.specs) for t in a.orders] == [len(t.specs) for t in b.orders]
    assert summary(a) != summary(c)


def _times(plan: MonthPlan) -> list[tuple[str, datetime]]:
    """Every time the plan says something happened (plans and deadlines aside)."""
    out = []
    for r in plan.requests:
        out.append(("filed", r.spec.created_at))
        out += [(f"request {e.event}", e.at) for e in r.events]
    for o in plan.orders:
        out += [(f"order {e.event}", e.at) for e in o.events]
        out += [(f"order {name}", at) for name, at in o.times.items()]
        if o.timeline is not None:
            t = o.timeline
            out += [("departed", t.departed_at), ("returned", t.returned_at)]
            out += [("leg", leg.arrive) for leg in t.legs]
    out += [("trip", t.end) for t in plan.trips]
    return out


def test_nothing_happens_after_the_generator_runs():
    """Generated on the month's last evening: the multi-day trips leaving near its end are not
    back yet (not dispatched), late approvals and the requesters' word are still to come."""
    now = datetime(2026, 11, 30, 18, 0, tzinfo=LOCAL)
    scenario = load_scenario()
    plan = generate_month(scenario, NOVEMBER, requests=1500, seed=11, now=now)
    later = [(what, at) for what, at in _times(plan) if at > now]
    assert later == []
    full = generate_month(scenario, NOVEMBER, requests=1500, seed=11, now=LATER)
    assert [(w, a) for w, a in _times(full) if a > now]        # there was something to hold back
    assert len(plan.requests) == len(full.requests)             # all filed before the evening
    # the emergencies' late approvals (R14) are given by then at the latest: none waits
    assert all(r.emergency_approved is True for r in plan.requests if r.spec.emergency)
    assert all(o.rating is None for o in plan.orders if o.state not in ("rated",))
    assert all(not o.dispute_reason for o in plan.orders
               if not any(e.event == "dispute" for e in o.events))
    # a month still going on: what is filed after now is not there at all
    early = generate_month(scenario, NOVEMBER, requests=300, seed=11,
                           now=datetime(2026, 11, 15, 12, 0, tzinfo=LOCAL))
    assert [(w, a) for w, a in _times(early) if a > datetime(2026, 11, 15, 12, 0, tzinfo=LOCAL)] == []
    assert 0 < len(early.requests) < 300
