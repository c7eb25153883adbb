"""Trip requests (用车申请): states, events and approval levels (domain.md §4). Pure code.

draft → submitted → pending approval (level k of n) → approved | rejected | withdrawn →
dispatching → dispatched (已派车) → in progress (在途) → completed → settled → closed.

An emergency request (应急) goes to dispatching at once, before anyone approves it; it then
carries an approval deadline (24 h, R14) and is approved or rejected afterwards while the car
is already on its way. Rejected while still dispatching with no car held yet, it is rejected
like any request (no car goes out for it); once a car is held, the rejection is only recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from dispatch.transitions import IllegalTransition, Machine


class RequestState(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交
    PENDING_APPROVAL = "pending_approval"  # 待审批
    APPROVED = "approved"  # 已批准
    REJECTED = "rejected"  # 已驳回
    WITHDRAWN = "withdrawn"  # 已撤回
    DISPATCHING = "dispatching"  # 派车中
    DISPATCHED = "dispatched"  # 已派车
    IN_PROGRESS = "in_progress"  # 在途
    COMPLETED = "completed"  # 已完成
    SETTLED = "settled"  # 已结算
    CLOSED = "closed"  # 已关闭


class RequestEvent(StrEnum):
    SUBMIT = "submit"
    CHECKED = "checked"  # pre-checks passed: into the approval chain
    APPROVE = "approve"  # one level; the last one approves the request
    REJECT = "reject"
    WITHDRAW = "withdraw"
    DISPATCH = "dispatch"  # the dispatcher takes it up
    ALL_ASSIGNED = "all_assigned"  # every needed car has a dispatch order
    UNASSIGNED = "unassigned"  # an order was cancelled: back to dispatching
    DEPART = "depart"  # the first car left
    COMPLETE = "complete"  # every order returned
    SETTLE = "settle"
    CLOSE = "close"


class TripType(StrEnum):
    OFFICIAL = "official"  # 公务
    MEETING = "meeting"  # 会议
    RECEPTION = "reception"  # 接待
    EMERGENCY = "emergency"  # 应急
    CONFIDENTIAL = "confidential"  # 机要
    LAW_ENFORCEMENT = "law_enforcement"  # 执法


S, E = RequestState, RequestEvent
REQUEST_MACHINE: Machine[RequestState, RequestEvent] = Machine("trip request", {
    (S.DRAFT, E.SUBMIT): S.SUBMITTED,
    (S.DRAFT, E.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, E.CHECKED): S.PENDING_APPROVAL,
    (S.SUBMITTED, E.WITHDRAW): S.WITHDRAWN,
    (S.PENDING_APPROVAL, E.APPROVE): S.PENDING_APPROVAL,  # a level; the last one → APPROVED
    (S.PENDING_APPROVAL, E.REJECT): S.REJECTED,
    (S.PENDING_APPROVAL, E.WITHDRAW): S.WITHDRAWN,
    (S.APPROVED, E.DISPATCH): S.DISPATCHING,
    (S.APPROVED, E.WITHDRAW): S.WITHDRAWN,
    (S.DISPATCHING, E.ALL_ASSIGNED): S.DISPATCHED,
    (S.DISPATCHING, E.WITHDRAW): S.WITHDRAWN,
    (S.DISPATCHED, E.UNASSIGNED): S.DISPATCHING,
    (S.DISPATCHED, E.DEPART): S.IN_PROGRESS,
    (S.DISPATCHED, E.WITHDRAW): S.WITHDRAWN,  # before any car left: its orders are cancelled
    (S.IN_PROGRESS, E.COMPLETE): S.COMPLETED,
    (S.COMPLETED, E.SETTLE): S.SETTLED,
    (S.SETTLED, E.CLOSE): S.CLOSED,
    (S.REJECTED, E.CLOSE): S.CLOSED,
    (S.WITHDRAWN, E.CLOSE): S.CLOSED,
})

# An emergency request is being carried out while it waits for approval: these events are
# legal for it in the dispatch states too (approve/reject do not move the state then).
_EMERGENCY_APPROVAL_STATES = {S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, S.COMPLETED}

EMERGENCY_APPROVAL_DEADLINE = timedelta(hours=24)


@dataclass(frozen=True)
class ApprovalPolicy:
    """Per organisation and trip type: how many approval levels, and when more are added."""

    base_levels: int = 1
    cross_city_extra: int = 1  # 跨市/异地
    night_extra: int = 1  # any part in the night window
    holiday_extra: int = 1  # starts or ends on an off day (调休 included)
    night_start: time = time(20, 0)
    night_end: time = time(6, 0)
    allowed_car_levels: frozenset[str] | None = None  # 用车制度: car classes allowed; None: any


@dataclass(frozen=True)
class PolicyCandidate:
    """A policy found on the request unit's organisation path."""

    depth: int  # 0 = the root (province); the unit itself is the deepest
    trip_type: TripType | None  # None: for every trip type
    policy: ApprovalPolicy


def pick_policy(candidates: Iterable[PolicyCandidate], trip_type: TripType) -> ApprovalPolicy:
    """The policy that governs a request: the nearest organisation's (the deepest on the path);
    at one organisation, its policy for this trip type wins over its policy for every type.
    No policy anywhere on the path: the defaults."""
    fitting = [c for c in candidates if c.trip_type is None or c.trip_type == trip_type]
    if not fitting:
        return ApprovalPolicy()
    return max(fitting, key=lambda c: (c.depth, c.trip_type is not None)).policy


@dataclass(frozen=True)
class TripRequest:
    id: int
    trip_type: TripType
    home_city: str  # the applicant unit's city
    destination_cities: tuple[str, ...]
    planned_start: datetime  # aware, in Asia/Shanghai: night windows and holidays are local
    planned_end: datetime
    state: RequestState = RequestState.DRAFT
    approval_levels: int = 1
    approved_levels: int = 0
    emergency_deadline: datetime | None = None  # emergency dispatched before approval
    emergency_approved: bool | None = None  # None: not decided yet
    history: tuple[tuple[str, datetime, str], ...] = field(default=())  # (event, at, note)

    @property
    def emergency(self) -> bool:
        return self.trip_type == TripType.EMERGENCY

    @property
    def cross_city(self) -> bool:
        return any(city != self.home_city for city in self.destination_cities)


def approval_levels(
    request: TripRequest, policy: ApprovalPolicy, is_working_day: Callable[[date], bool]
) -> tuple[int, list[str]]:
    """How many levels must approve, and why the extra ones (shown to the approver)."""
    levels = policy.base_levels
    reasons: list[str] = []
    if request.cross_city and policy.cross_city_extra:
        levels += policy.cross_city_extra
        reasons.append("cross_city")
    if policy.night_extra and _touches_night(request.planned_start, request.planned_end, policy):
        levels += policy.night_extra
        reasons.append("night")
    days = {request.planned_start.date(), request.planned_end.date()}
    if policy.holiday_extra and any(not is_working_day(d) for d in days):
        levels += policy.holiday_extra
        reasons.append("holiday")
    return levels, reasons


def _touches_night(start: datetime, end: datetime, policy: ApprovalPolicy) -> bool:
    """Does [start, end] overlap any night window (night_start..night_end of the next day)?"""
    day = start.date() - timedelta(days=1)
    while day <= end.date():
        night_from = datetime.combine(day, policy.night_start, start.tzinfo)
        night_to = datetime.combine(day + timedelta(days=1), policy.night_end, start.tzinfo)
        if start < night_to and end > night_from:
            return True
        day += timedelta(days=1)
    return False


def apply(
    request: TripRequest, event: RequestEvent, at: datetime, note: str = "", *, cars_held: bool = False,
) -> TripRequest:
    """The request after `event`; IllegalTransition if the event is not allowed now.
    `cars_held`: whether an order of the request holds a car (assigned or beyond); it decides
    what an emergency's post-approval rejection does while the request is still dispatching."""
    history = (*request.history, (event.value, at, note))
    if request.emergency:
        handled = _apply_emergency(request, event, at, history, cars_held)
        if handled is not None:
            return handled
    if request.state == S.PENDING_APPROVAL and event == E.APPROVE:
        approved = request.approved_levels + 1
        state = S.APPROVED if approved >= request.approval_levels else S.PENDING_APPROVAL
        return replace(request, state=state, approved_levels=approved, history=history)
    return replace(request, state=REQUEST_MACHINE.next(request.state, event), history=history)


def _apply_emergency(
    request: TripRequest, event: RequestEvent, at: datetime, history: tuple, cars_held: bool
) -> TripRequest | None:
    if request.state == S.SUBMITTED and event == E.CHECKED:
        # dispatched at once, approved afterwards (deadline 24 h: R14)
        return replace(request, state=S.DISPATCHING, history=history,
                       emergency_deadline=at + EMERGENCY_APPROVAL_DEADLINE)
    if request.state in _EMERGENCY_APPROVAL_STATES and event in (E.APPROVE, E.REJECT):
        if request.emergency_approved is not None:
            raise IllegalTransition(REQUEST_MACHINE.name, request.state, event, [])
        if event == E.REJECT:
            # No car held yet: nothing goes out for a rejected trip. A car held or on its way:
            # the rejection is recorded (R14 material), the trip goes on.
            state = S.REJECTED if request.state == S.DISPATCHING and not cars_held else request.state
            return replace(request, state=state, emergency_approved=False, history=history)
        approved = request.approved_levels + 1
        return replace(request, approved_levels=approved, history=history,
                       emergency_approved=True if approved >= request.approval_levels else None)
    return None


def emergency_overdue(request: TripRequest, now: datetime) -> bool:
    """R14: an emergency request not approved within its deadline."""
    return (request.emergency and request.emergency_deadline is not None
            and request.emergency_approved is not True and now > request.emergency_deadline)
