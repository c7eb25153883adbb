"""The review of a violation (监督检查, domain.md §7): its states, who may move it and how, and
the explanation deadline in working days. Pure code.

    open ──send──▶ awaiting_explanation ──explain──▶ under_review ──dismiss──▶ dismissed
      │                 │  ▲                               └──confirm──▶ confirmed
      │           overdue│  │send (a new deadline)     confirmed ──rectify──▶ rectified ──close──▶ closed
      │                 ▼  │                          confirmed ──refer──▶ referred (移交纪检)
      │               overdue ──explain (late)──▶ under_review
      ├──dismiss / confirm (the evidence suffices)
      └──auto_close / retract (the system: approved in time, late data)

Inspectors (and admins) send, decide, close and refer; the owning unit (an org_admin of the
violation's organisation or of one above it) explains and reports rectification; the system
marks overdue, auto-closes and retracts. A decision, a referral and every system move carry a
reason; an explanation and a rectification report carry the unit's text. INFO violations are
logged, never sent to a unit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum

from dispatch.calendar import is_working_day
from dispatch.transitions import IllegalTransition, Machine

__all__ = ["IllegalTransition"]

DEFAULT_DEADLINE_WORKING_DAYS = 3
MAX_DEADLINE_WORKING_DAYS = 30


class State(StrEnum):
    OPEN = "open"
    AUTO_CLOSED = "auto_closed"
    RETRACTED = "retracted"
    AWAITING_EXPLANATION = "awaiting_explanation"
    OVERDUE = "overdue"
    UNDER_REVIEW = "under_review"
    DISMISSED = "dismissed"
    CONFIRMED = "confirmed"
    RECTIFIED = "rectified"
    CLOSED = "closed"
    REFERRED = "referred"


class Event(StrEnum):
    SEND = "send"  # 下发单位说明, with a deadline
    EXPLAIN = "explain"  # 提交情况说明
    DISMISS = "dismiss"  # 不予认定 (合规 / 误报)
    CONFIRM = "confirm"  # 认定违规
    RECTIFY = "rectify"  # 整改完成
    CLOSE = "close"  # 办结
    REFER = "refer"  # 移交纪检
    OVERDUE = "overdue"  # 逾期未说明
    AUTO_CLOSE = "auto_close"  # 自动关闭
    RETRACT = "retract"  # 撤销 (late data no longer supports it)


class Actor(StrEnum):
    INSPECTOR = "inspector"
    UNIT = "unit"
    SYSTEM = "system"


S, E = State, Event
MACHINE: Machine[State, Event] = Machine("violation review", {
    (S.OPEN, E.SEND): S.AWAITING_EXPLANATION,
    (S.OPEN, E.DISMISS): S.DISMISSED,
    (S.OPEN, E.CONFIRM): S.CONFIRMED,
    (S.OPEN, E.AUTO_CLOSE): S.AUTO_CLOSED,
    (S.OPEN, E.RETRACT): S.RETRACTED,
    (S.AWAITING_EXPLANATION, E.EXPLAIN): S.UNDER_REVIEW,
    (S.AWAITING_EXPLANATION, E.OVERDUE): S.OVERDUE,
    (S.AWAITING_EXPLANATION, E.AUTO_CLOSE): S.AUTO_CLOSED,
    (S.AWAITING_EXPLANATION, E.RETRACT): S.RETRACTED,
    (S.OVERDUE, E.EXPLAIN): S.UNDER_REVIEW,
    (S.OVERDUE, E.SEND): S.AWAITING_EXPLANATION,
    (S.OVERDUE, E.DISMISS): S.DISMISSED,
    (S.OVERDUE, E.CONFIRM): S.CONFIRMED,
    (S.OVERDUE, E.AUTO_CLOSE): S.AUTO_CLOSED,
    (S.OVERDUE, E.RETRACT): S.RETRACTED,
    (S.UNDER_REVIEW, E.DISMISS): S.DISMISSED,
    (S.UNDER_REVIEW, E.CONFIRM): S.CONFIRMED,
    (S.UNDER_REVIEW, E.SEND): S.AWAITING_EXPLANATION,  # 补充说明: asked again, a new deadline
    (S.CONFIRMED, E.RECTIFY): S.RECTIFIED,
    (S.CONFIRMED, E.REFER): S.REFERRED,
    (S.RECTIFIED, E.CLOSE): S.CLOSED,
})

ACTOR_OF: dict[Event, Actor] = {
    E.SEND: Actor.INSPECTOR, E.DISMISS: Actor.INSPECTOR, E.CONFIRM: Actor.INSPECTOR,
    E.CLOSE: Actor.INSPECTOR, E.REFER: Actor.INSPECTOR,
    E.EXPLAIN: Actor.UNIT, E.RECTIFY: Actor.UNIT,
    E.OVERDUE: Actor.SYSTEM, E.AUTO_CLOSE: Actor.SYSTEM, E.RETRACT: Actor.SYSTEM,
}
# Events whose record must say why (a unit's explanation and rectification carry their text).
REASON_REQUIRED = frozenset({E.DISMISS, E.CONFIRM, E.REFER, E.AUTO_CLOSE, E.RETRACT,
                             E.EXPLAIN, E.RECTIFY})
# Where the review is over: nothing but a reading is left to do.
FINAL_STATES = frozenset({S.AUTO_CLOSED, S.RETRACTED, S.DISMISSED, S.CLOSED, S.REFERRED})
# What the unit has before it (its page lists these).
UNIT_STATES = frozenset({S.AWAITING_EXPLANATION, S.OVERDUE, S.UNDER_REVIEW, S.CONFIRMED,
                         S.RECTIFIED})
INSPECTOR_ROLES = frozenset({"inspector", "admin"})
UNIT_ROLES = frozenset({"org_admin"})


class ReviewRefused(Exception):
    """A move that is legal in the machine but not allowed here; `code` is the API's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def actor_kind(roles: frozenset[str], in_unit_scope: bool) -> set[Actor]:
    """The parts a user may play on one violation: inspectors and admins decide; an org_admin
    whose subtree holds the violation's organisation answers for the unit."""
    kinds: set[Actor] = set()
    if not roles.isdisjoint(INSPECTOR_ROLES):
        kinds.add(Actor.INSPECTOR)
    if in_unit_scope and not roles.isdisjoint(UNIT_ROLES):
        kinds.add(Actor.UNIT)
    return kinds


def check_move(state: State, event: Event, acting_as: set[Actor], severity: str,
               reason: str) -> State:
    """The next state, or why not: IllegalTransition (the machine), ReviewRefused (403 not
    this user's part, 409 an INFO violation sent to a unit, 422 a missing reason)."""
    needed = ACTOR_OF[event]
    if needed not in acting_as:
        who = {Actor.INSPECTOR: "an inspector or an admin",
               Actor.UNIT: "the unit's org admin (or one above it)",
               Actor.SYSTEM: "the platform itself"}[needed]
        raise ReviewRefused(403, "forbidden", f"'{event.value}' is done by {who}.")
    target = MACHINE.next(state, event)
    if event is E.SEND and severity == "info":
        raise ReviewRefused(409, "info_not_sent", "INFO violations are logged, never sent to a unit.")
    if event in REASON_REQUIRED and not reason.strip():
        raise ReviewRefused(422, "reason_required", f"'{event.value}' needs a reason.")
    return target


def allowed_events(state: State, acting_as: set[Actor], severity: str) -> list[str]:
    """The buttons a page shows this user for a violation in `state`."""
    events = [Event(e) for e in MACHINE.allowed(state)]
    return [e.value for e in events if ACTOR_OF[e] in acting_as
            and not (e is E.SEND and severity == "info")]


def add_working_days(start: date, n: int,
                     working: Callable[[date], bool] = is_working_day) -> date:
    """The n-th working day after `start` (start itself not counted): sent on a Friday with
    3 days, due on Wednesday; over 国庆 the holiday days do not count, 调休 Saturdays do."""
    if n < 1:
        raise ValueError("a deadline is at least one working day")
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if working(day):
            left -= 1
    return day


def deadline_working_days(value: int | None) -> int:
    """The deadline asked for, checked (default 3 working days)."""
    days = DEFAULT_DEADLINE_WORKING_DAYS if value is None else value
    if not 1 <= days <= MAX_DEADLINE_WORKING_DAYS:
        raise ReviewRefused(422, "bad_deadline",
                            f"The deadline is 1 to {MAX_DEADLINE_WORKING_DAYS} working days.")
    return days


def is_overdue(due: date | None, today: date) -> bool:
    """Past the due day (the unit may still answer on the due day itself)."""
    return due is not None and today > due
