"""The dispatch workflow's state machines: every legal transition goes where domain.md §4
says, every other (state, event) pair is refused with a clear error."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from dispatch.orders import ORDER_MACHINE, OrderEvent, OrderState
from dispatch.transitions import IllegalTransition
from dispatch.trip_requests import (
    REQUEST_MACHINE,
    ApprovalPolicy,
    RequestEvent,
    RequestState,
    TripRequest,
    TripType,
    apply,
    approval_levels,
    emergency_overdue,
)

CST = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 23, 9, 0, tzinfo=CST)  # a Monday, a working day

OS, OE = OrderState, OrderEvent
ORDER_PATH = [  # the whole happy path of one order
    (OE.ASSIGN, OS.ASSIGNED), (OE.DRIVER_ACCEPT, OS.ACCEPTED), (OE.DEPART, OS.DEPARTED),
    (OE.ARRIVE_PICKUP, OS.AT_PICKUP), (OE.START_SERVICE, OS.IN_SERVICE),
    (OE.END_SERVICE, OS.SERVICE_ENDED), (OE.RETURN, OS.RETURNED), (OE.CONFIRM, OS.CONFIRMED),
    (OE.RATE, OS.RATED), (OE.SETTLE, OS.SETTLED),
]


def test_order_happy_path():
    state = OS.CREATED
    for event, expected in ORDER_PATH:
        state = ORDER_MACHINE.next(state, event)
        assert state == expected


def test_rental_path_and_its_way_back_to_the_queue():
    assert ORDER_MACHINE.next(OS.CREATED, OE.SEND_TO_RENTAL) == OS.SENT_TO_RENTAL
    assert ORDER_MACHINE.next(OS.SENT_TO_RENTAL, OE.RENTAL_ACCEPT) == OS.ASSIGNED
    assert ORDER_MACHINE.next(OS.SENT_TO_RENTAL, OE.RENTAL_REJECT) == OS.CREATED
    assert ORDER_MACHINE.next(OS.SENT_TO_RENTAL, OE.RENTAL_TIMEOUT) == OS.CREATED


def test_cancel_only_before_departure_and_change_car_only_on_the_road():
    for state in OS:
        can_cancel = state in (OS.CREATED, OS.ASSIGNED, OS.SENT_TO_RENTAL, OS.ACCEPTED)
        assert ORDER_MACHINE.can(state, OE.CANCEL) == can_cancel, state
        on_the_road = state in (OS.DEPARTED, OS.AT_PICKUP, OS.IN_SERVICE)
        assert ORDER_MACHINE.can(state, OE.CHANGE_CAR) == on_the_road, state


@pytest.mark.parametrize(("state", "event"), list(itertools.product(OS, OE)))
def test_every_order_pair_is_legal_or_refused_with_a_reason(state, event):
    if ORDER_MACHINE.can(state, event):
        assert ORDER_MACHINE.next(state, event) in OS
        return
    with pytest.raises(IllegalTransition) as refused:
        ORDER_MACHINE.next(state, event)
    assert state.value in str(refused.value) and event.value in str(refused.value)
    assert refused.value.allowed == ORDER_MACHINE.allowed(state)


def test_terminal_order_states_accept_nothing():
    assert ORDER_MACHINE.allowed(OS.SETTLED) == [] and ORDER_MACHINE.allowed(OS.CANCELLED) == []


def request(trip_type=TripType.OFFICIAL, dest=("420100",), start=AT, hours=3, **kw) -> TripRequest:
    return TripRequest(1, trip_type, "420100", dest, start, start + timedelta(hours=hours), **kw)


def working_day(d: date) -> bool:
    return chinese_calendar.is_workday(d)


def test_approval_levels_grow_for_cross_city_night_and_holiday():
    policy = ApprovalPolicy(base_levels=1)
    assert approval_levels(request(), policy, working_day) == (1, [])
    assert approval_levels(request(dest=("420100", "420200")), policy, working_day) == (2, ["cross_city"])
    late = request(start=AT.replace(hour=18), hours=4)  # until 22:00
    assert approval_levels(late, policy, working_day) == (2, ["night"])
    early = request(start=AT.replace(hour=5), hours=2)  # from 05:00
    assert approval_levels(early, policy, working_day)[1] == ["night"]
    # 2026-10-01 is National Day (a holiday by the State Council's notice)
    holiday = request(start=datetime(2026, 10, 1, 9, 0, tzinfo=CST))
    assert approval_levels(holiday, policy, working_day) == (2, ["holiday"])
    everything = request(dest=("420200",), start=datetime(2026, 10, 1, 19, 0, tzinfo=CST))
    assert approval_levels(everything, policy, working_day) == (4, ["cross_city", "night", "holiday"])


def test_multi_level_approval_then_dispatch_to_close():
    r = replace_levels(request(), 2)
    r = apply(apply(r, RequestEvent.SUBMIT, AT), RequestEvent.CHECKED, AT)
    assert r.state == RequestState.PENDING_APPROVAL
    r = apply(r, RequestEvent.APPROVE, AT, "科长")
    assert (r.state, r.approved_levels) == (RequestState.PENDING_APPROVAL, 1)
    r = apply(r, RequestEvent.APPROVE, AT, "处长")
    assert r.state == RequestState.APPROVED
    for event, expected in [(RequestEvent.DISPATCH, RequestState.DISPATCHING),
                            (RequestEvent.ALL_ASSIGNED, RequestState.DISPATCHED),
                            (RequestEvent.DEPART, RequestState.IN_PROGRESS),
                            (RequestEvent.COMPLETE, RequestState.COMPLETED),
                            (RequestEvent.SETTLE, RequestState.SETTLED),
                            (RequestEvent.CLOSE, RequestState.CLOSED)]:
        r = apply(r, event, AT)
        assert r.state == expected
    assert [h[0] for h in r.history][:5] == ["submit", "checked", "approve", "approve", "dispatch"]


def replace_levels(r: TripRequest, levels: int) -> TripRequest:
    from dataclasses import replace

    return replace(r, approval_levels=levels)


def test_reject_and_withdraw():
    r = apply(apply(request(), RequestEvent.SUBMIT, AT), RequestEvent.CHECKED, AT)
    assert apply(r, RequestEvent.REJECT, AT, "理由不充分").state == RequestState.REJECTED
    assert apply(r, RequestEvent.WITHDRAW, AT).state == RequestState.WITHDRAWN
    on_the_way = RequestState.IN_PROGRESS
    with pytest.raises(IllegalTransition):
        REQUEST_MACHINE.next(on_the_way, RequestEvent.WITHDRAW)  # a car is out: too late


def test_emergency_is_dispatched_at_once_and_approved_afterwards():
    r = request(TripType.EMERGENCY)
    r = apply(apply(r, RequestEvent.SUBMIT, AT), RequestEvent.CHECKED, AT)
    assert r.state == RequestState.DISPATCHING and r.emergency_deadline == AT + timedelta(hours=24)
    r = apply(r, RequestEvent.ALL_ASSIGNED, AT)
    assert emergency_overdue(r, AT + timedelta(hours=23)) is False
    assert emergency_overdue(r, AT + timedelta(hours=25)) is True  # R14
    approved = apply(r, RequestEvent.APPROVE, AT + timedelta(hours=2))
    assert approved.state == RequestState.DISPATCHED and approved.emergency_approved is True
    assert emergency_overdue(approved, AT + timedelta(hours=25)) is False
    with pytest.raises(IllegalTransition):
        apply(approved, RequestEvent.REJECT, AT)  # decided already
    rejected = apply(r, RequestEvent.REJECT, AT + timedelta(hours=2), "非紧急事项")
    assert rejected.emergency_approved is False and emergency_overdue(rejected, AT + timedelta(hours=25))


def test_an_emergency_rejected_before_a_car_is_held_is_rejected():
    r = request(TripType.EMERGENCY)
    r = apply(apply(r, RequestEvent.SUBMIT, AT), RequestEvent.CHECKED, AT)
    rejected = apply(r, RequestEvent.REJECT, AT + timedelta(hours=1), "非紧急事项")
    assert (rejected.state, rejected.emergency_approved) == (RequestState.REJECTED, False)
    assert REQUEST_MACHINE.allowed(rejected.state) == ["close"]  # no dispatch any more
    with pytest.raises(IllegalTransition):
        apply(rejected, RequestEvent.ALL_ASSIGNED, AT)
    # a car is held already (one of two orders assigned): the trip goes on, rejection recorded
    held = apply(r, RequestEvent.REJECT, AT + timedelta(hours=1), "非紧急事项", cars_held=True)
    assert (held.state, held.emergency_approved) == (RequestState.DISPATCHING, False)
    # on its way or back: whatever the orders, only recorded
    for state in (RequestState.DISPATCHED, RequestState.IN_PROGRESS, RequestState.COMPLETED):
        later = apply(replace_state(r, state), RequestEvent.REJECT, AT)
        assert (later.state, later.emergency_approved) == (state, False)
    # an ordinary request is rejected while pending only, cars or not
    with pytest.raises(IllegalTransition):
        apply(request(state=RequestState.DISPATCHING), RequestEvent.REJECT, AT)


def replace_state(r: TripRequest, state: RequestState) -> TripRequest:
    from dataclasses import replace

    return replace(r, state=state)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(RequestState, RequestEvent)))
def test_every_request_pair_is_legal_or_refused(state, event):
    r = request(state=state, approval_levels=1)
    if REQUEST_MACHINE.can(state, event):
        assert apply(r, event, AT).state in RequestState
    else:
        with pytest.raises(IllegalTransition):
            apply(r, event, AT)
