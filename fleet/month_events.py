"""The histories of a generated month's requests and orders (for fleet/month_generator.py):
when each was submitted, approved level by level (or rejected, withdrawn), dispatched, carried
out, confirmed, disputed, rated. Pure code; every transition is asked of the state machines
(dispatch/trip_requests.apply, dispatch/orders.ORDER_MACHINE), so an impossible history
fails here rather than in the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import takewhile
from typing import TYPE_CHECKING

from dispatch.calendar import is_working_day
from dispatch.months import Month
from dispatch.orders import ORDER_MACHINE, OrderEvent, OrderState
from dispatch.trip_requests import (
    ApprovalPolicy,
    RequestEvent,
    TripRequest,
    TripType,
    apply,
    approval_levels,
)
from fleet.month_requests import Spec
from fleet.seed_dispatch import DEFAULT_POLICIES

if TYPE_CHECKING:
    from fleet.month_generator import GenOrder, GenRequest

POLICIES = {trip_type: ApprovalPolicy(base, cross, night, holiday)
            for trip_type, base, cross, night, holiday in DEFAULT_POLICIES}
FEEDBACK = ("准时、礼貌", "车辆整洁", "驾驶平稳", "服务周到", "")
DISPUTES = ("实际未到第二个目的地", "里程与实际不符", "迟到较久")


def _min(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def domain(spec: Spec) -> TripRequest:
    return TripRequest(id=spec.key, trip_type=TripType(spec.trip_type), home_city=spec.city,
                       destination_cities=tuple(d.city_code for d in spec.destinations),
                       planned_start=spec.planned_start, planned_end=spec.planned_end)


@dataclass(frozen=True)
class ApprovalPlan:
    submit_at: datetime
    levels: int
    reasons: tuple[str, ...]
    decisions: tuple[tuple[datetime, RequestEvent], ...]  # approve … | reject | withdraw

    @property
    def approved_at(self) -> datetime | None:
        if self.decisions and all(e == RequestEvent.APPROVE for _, e in self.decisions) \
                and len(self.decisions) >= self.levels:
            return self.decisions[-1][0]
        return None


def approval_plan(rng: random.Random, spec: Spec) -> ApprovalPlan:
    policy = POLICIES.get(spec.trip_type, POLICIES[None])
    levels, reasons = approval_levels(domain(spec), policy, is_working_day)
    submit = spec.created_at + _min(rng, 1, 10)
    if spec.emergency:
        # Dispatched at once, approved afterwards: mostly within the 24 h, some late (R14
        # material) — but every one in the end, so that no past month's emergency still waits
        # in an approver's queue.
        late = rng.random() >= 0.85
        last = submit + (_min(rng, 1500, 2880) if late else _min(rng, 120, 1200))
        times = [submit + (last - submit) * (i + 1) / levels for i in range(levels)]
        return ApprovalPlan(submit, levels, tuple(reasons), tuple((t, RequestEvent.APPROVE) for t in times))
    latest = spec.planned_start - timedelta(minutes=150)
    if spec.ready_by is not None:
        latest = min(latest, spec.ready_by)
    step = max((latest - submit) / (levels + 1), timedelta(minutes=2))
    times = [submit + step * (i + rng.uniform(0.3, 1.0)) for i in range(levels)]
    if spec.outcome == "reject":
        return ApprovalPlan(submit, levels, tuple(reasons), ((times[0], RequestEvent.REJECT),))
    if spec.outcome == "withdraw_early":
        return ApprovalPlan(submit, levels, tuple(reasons), ((times[0], RequestEvent.WITHDRAW),))
    return ApprovalPlan(submit, levels, tuple(reasons), tuple((t, RequestEvent.APPROVE) for t in times))


def _walk(order: GenOrder, steps: list[tuple[OrderEvent, datetime, str | None, str]],
          now: datetime) -> None:
    """Applies the steps up to `now` (what comes later has not happened yet: the order stays
    where the last one left it, without the rating or the dispute still to come)."""
    from fleet.month_generator import GenEvent

    state = OrderState(order.state)
    done = list(takewhile(lambda step: step[1] <= now, steps))
    if not any(event == OrderEvent.RATE for event, *_ in done):
        order.rating, order.feedback = None, ""
    if not any(event == OrderEvent.DISPUTE for event, *_ in done):
        order.dispute_reason = ""
    for event, at, actor, note in done:
        after = ORDER_MACHINE.next(state, event)
        order.events.append(GenEvent(event.value, state.value, after.value, at, actor, note))
        state = after
    order.state = state.value


def order_events(rng: random.Random, order: GenOrder, plans: dict[int, ApprovalPlan], month: Month,
                 now: datetime) -> None:
    """The order's times and events, from its requests' approvals to the requester's word,
    up to `now`."""
    lead = order.specs[0]
    ready = max((plans[s.key].submit_at if s.emergency else plans[s.key].approved_at) or plans[s.key].submit_at
                for s in order.specs)
    leave = order.timeline.departed_at if order.timeline else order.planned_start - timedelta(minutes=45)
    room = max((leave - timedelta(minutes=5) - ready).total_seconds() / 60, 4.0)
    quick = lead.emergency
    # offsets (minutes after `ready`) of dispatch, sending/answering, assignment, acceptance
    offsets = [rng.uniform(1, 2) if quick else rng.uniform(2, 20)]
    booking = order.booking
    if booking.company_code:
        offsets += [rng.uniform(1, 8)] + ([rng.uniform(2, 9), rng.uniform(2, 10)] if booking.rejected_by else [])
    offsets += [rng.uniform(1, 9) if booking.company_code else rng.uniform(1, 5) if quick else rng.uniform(1, 40),
                rng.uniform(1, 3) if quick else rng.uniform(1, 20)]
    scale = min(1.0, room / sum(offsets))
    clock, times = ready, []
    for offset in offsets:
        clock += timedelta(minutes=offset * scale)
        times.append(clock)
    order.times["dispatch"] = times[0]
    steps: list[tuple[OrderEvent, datetime, str | None, str]] = []
    if booking.company_code:
        sent = times[1]
        order.times["sent_to_rental_at"] = sent
        steps.append((OrderEvent.SEND_TO_RENTAL, sent, None, booking.rejected_by or booking.company_code))
        if booking.rejected_by:
            steps += [(OrderEvent.RENTAL_REJECT, times[2], None, "车辆不足"),
                      (OrderEvent.SEND_TO_RENTAL, times[3], None, booking.company_code)]
            order.times["sent_to_rental_at"] = times[3]
        steps.append((OrderEvent.RENTAL_ACCEPT, times[-2], None, ""))
    else:
        steps.append((OrderEvent.ASSIGN, times[-2], None, ""))
    order.times["assigned_at"], order.times["accepted_at"] = times[-2], times[-1]
    steps.append((OrderEvent.DRIVER_ACCEPT, times[-1], None, ""))
    if order.timeline is None:  # withdrawn after the car was assigned: the order is cancelled
        cancel_at = min(times[-1] + _min(rng, 10, 120), order.planned_start - timedelta(minutes=20))
        order.times["cancelled_at"] = max(cancel_at, times[-1] + timedelta(minutes=1))
        steps.append((OrderEvent.CANCEL, order.times["cancelled_at"], None, "用车人撤回申请"))
        _walk(order, steps, now)
        return
    tl = order.timeline
    steps += [(OrderEvent.DEPART, tl.departed_at, None, ""),
              (OrderEvent.ARRIVE_PICKUP, tl.arrived_pickup_at, None, ""),
              (OrderEvent.START_SERVICE, tl.service_started_at, None, ""),
              (OrderEvent.END_SERVICE, tl.service_ended_at, None, ""),
              (OrderEvent.RETURN, tl.returned_at, None, "")]
    steps += _afterwards(rng, order, tl.returned_at, month)
    _walk(order, steps, now)


def _afterwards(rng: random.Random, order: GenOrder, back: datetime, month: Month) -> list:
    """The requester's word: most confirm, many rate, a few dispute; the last days' orders
    are often not confirmed yet."""
    r = rng.random()
    if back > month.end - timedelta(days=2) and rng.random() < 0.5:
        return []
    confirm_at = back + _min(rng, 30, 1440)
    if r < 0.03:
        order.dispute_reason = rng.choice(DISPUTES)
        steps = [(OrderEvent.DISPUTE, confirm_at, "applicant", order.dispute_reason)]
        if rng.random() < 0.6:
            steps.append((OrderEvent.RESOLVE_DISPUTE, confirm_at + _min(rng, 1440, 4320), None, "核实后确认"))
        return steps
    if r < 0.10:
        return []
    steps = [(OrderEvent.CONFIRM, confirm_at, "applicant", "")]
    if r < 0.6:
        order.rating = rng.choices((5, 4, 3, 2), (60, 30, 8, 2))[0]
        order.feedback = rng.choice(FEEDBACK)
        steps.append((OrderEvent.RATE, confirm_at + _min(rng, 1, 2880), "applicant", order.feedback))
    return steps


def request_events(requests: list[GenRequest], orders: list[GenOrder], plans: dict[int, ApprovalPlan],
                   now: datetime) -> None:
    """Each request's history, its own decisions merged in time with its order's progress, up
    to `now`: an emergency's approval planned later is given at `now` at the latest (approved
    late — R14 material — but by the time the month is generated: none left waiting in a
    queue); anything else after `now` has not happened (a request still awaiting approval)."""
    from fleet.month_generator import GenEvent

    order_of = {s.key: o for o in orders for s in o.specs}
    for gen in requests:
        spec, plan = gen.spec, plans[gen.spec.key]
        timeline: list[tuple[datetime, int, RequestEvent, str | None, str]] = [
            (plan.submit_at, 0, RequestEvent.SUBMIT, "applicant", ""),
            (plan.submit_at, 1, RequestEvent.CHECKED, None, ""),
        ]
        for planned_at, event in plan.decisions:
            at = min(planned_at, now) if spec.emergency else planned_at
            actor = "applicant" if event == RequestEvent.WITHDRAW else None
            note = "同意" if event == RequestEvent.APPROVE else "理由不充分，请改乘公共交通" \
                if event == RequestEvent.REJECT else ""
            timeline.append((at, 2, event, actor, note))
        order = order_of.get(spec.key)
        if order is not None:
            if not spec.emergency:
                timeline.append((order.times["dispatch"], 3, RequestEvent.DISPATCH, None, ""))
            timeline.append((order.times["assigned_at"], 4, RequestEvent.ALL_ASSIGNED, None, ""))
            if order.timeline is None:
                timeline.append((order.times["cancelled_at"], 5, RequestEvent.WITHDRAW, "applicant", "行程取消"))
            else:
                timeline.append((order.timeline.departed_at, 5, RequestEvent.DEPART, None, ""))
                timeline.append((order.timeline.returned_at, 6, RequestEvent.COMPLETE, None, ""))
        request = replace(domain(spec), approval_levels=plan.levels)
        for at, _, event, actor, note in sorted(timeline, key=lambda t: (t[0], t[1])):
            if at > now:
                break
            after = apply(request, event, at, note)
            gen.events.append(GenEvent(event.value, request.state.value, after.state.value, at, actor, note))
            request = after
        gen.state = request.state.value
        gen.approval_levels, gen.approved_levels = request.approval_levels, request.approved_levels
        gen.approval_reasons = plan.reasons
        gen.emergency_deadline, gen.emergency_approved = request.emergency_deadline, request.emergency_approved
