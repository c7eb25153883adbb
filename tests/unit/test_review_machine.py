"""The review of a violation (supervision/review.py): every (state, event) pair of domain.md
§7 goes where it should or is refused; who may do what; reasons; working-day deadlines."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from supervision.review import (
    ACTOR_OF,
    FINAL_STATES,
    MACHINE,
    Actor,
    Event,
    IllegalTransition,
    ReviewRefused,
    State,
    actor_kind,
    add_working_days,
    allowed_events,
    check_move,
    deadline_working_days,
    is_overdue,
)

S, E = State, Event
EXPECTED = {
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
    (S.UNDER_REVIEW, E.SEND): S.AWAITING_EXPLANATION,
    (S.CONFIRMED, E.RECTIFY): S.RECTIFIED,
    (S.CONFIRMED, E.REFER): S.REFERRED,
    (S.RECTIFIED, E.CLOSE): S.CLOSED,
}
ALL = {Actor.INSPECTOR, Actor.UNIT, Actor.SYSTEM}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)),
                         ids=lambda v: v.value)
def test_every_pair(state: State, event: Event) -> None:
    if (state, event) in EXPECTED:
        assert MACHINE.next(state, event) == EXPECTED[(state, event)]
        assert check_move(state, event, ALL, "alarm", "because") == EXPECTED[(state, event)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            MACHINE.next(state, event)
        assert state.value in str(refused.value) and event.value in str(refused.value)
        with pytest.raises(IllegalTransition):
            check_move(state, event, ALL, "alarm", "because")


def test_the_states_are_the_database_check() -> None:
    from pathlib import Path

    sql = (Path(__file__).resolve().parents[2] / "fleet/migrations/0009_supervision.sql").read_text()
    for state in State:
        assert f"'{state.value}'" in sql


def test_final_states_have_no_way_out() -> None:
    for state in FINAL_STATES:
        assert MACHINE.allowed(state) == []
    assert MACHINE.allowed(S.CONFIRMED) == ["rectify", "refer"]


def test_the_happy_path_of_domain_md() -> None:
    state = S.OPEN
    for event in (E.SEND, E.EXPLAIN, E.CONFIRM, E.RECTIFY, E.CLOSE):
        state = MACHINE.next(state, event)
    assert state == S.CLOSED


def test_who_does_what() -> None:
    inspector = actor_kind(frozenset({"inspector"}), in_unit_scope=False)
    unit = actor_kind(frozenset({"org_admin"}), in_unit_scope=True)
    other_unit = actor_kind(frozenset({"org_admin"}), in_unit_scope=False)
    dispatcher = actor_kind(frozenset({"dispatcher"}), in_unit_scope=True)
    assert inspector == {Actor.INSPECTOR} and unit == {Actor.UNIT}
    assert other_unit == set() == dispatcher
    assert actor_kind(frozenset({"admin"}), in_unit_scope=False) == {Actor.INSPECTOR}
    for event, needed in ACTOR_OF.items():
        for acting in (inspector, unit, dispatcher):
            if needed not in acting:
                with pytest.raises(ReviewRefused) as refused:
                    check_move(S.OPEN, event, acting, "alarm", "x")
                assert refused.value.status == 403
    with pytest.raises(ReviewRefused):
        check_move(S.AWAITING_EXPLANATION, E.OVERDUE, inspector | unit, "alarm", "x")


def test_reasons_and_info() -> None:
    for event in (E.DISMISS, E.CONFIRM):
        with pytest.raises(ReviewRefused) as refused:
            check_move(S.UNDER_REVIEW, event, ALL, "alarm", "   ")
        assert (refused.value.status, refused.value.code) == (422, "reason_required")
    assert check_move(S.OPEN, E.SEND, ALL, "alarm", "") == S.AWAITING_EXPLANATION
    with pytest.raises(ReviewRefused) as refused:
        check_move(S.OPEN, E.SEND, ALL, "info", "")
    assert (refused.value.status, refused.value.code) == (409, "info_not_sent")


def test_allowed_events_are_the_users_buttons() -> None:
    assert allowed_events(S.OPEN, {Actor.INSPECTOR}, "alarm") == ["confirm", "dismiss", "send"]
    assert allowed_events(S.OPEN, {Actor.INSPECTOR}, "info") == ["confirm", "dismiss"]
    assert allowed_events(S.AWAITING_EXPLANATION, {Actor.UNIT}, "alarm") == ["explain"]
    assert allowed_events(S.CONFIRMED, {Actor.UNIT}, "alarm") == ["rectify"]
    assert allowed_events(S.CONFIRMED, {Actor.INSPECTOR}, "alarm") == ["refer"]
    assert allowed_events(S.CLOSED, ALL, "alarm") == []


def test_working_day_deadlines() -> None:
    assert add_working_days(date(2026, 11, 23), 3) == date(2026, 11, 26)  # Mon → Thu
    assert add_working_days(date(2026, 11, 27), 3) == date(2026, 12, 2)  # Fri → Wed
    # 国庆 2025: 1–8 October off, Saturday 11 October a 调休 working day
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 10, 9), 2) == date(2025, 10, 11)
    assert add_working_days(date(2026, 11, 23), 1, working=lambda d: True) == date(2026, 11, 24)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 11, 23), 0)
    assert deadline_working_days(None) == 3
    for bad in (0, 31, -1):
        with pytest.raises(ReviewRefused):
            deadline_working_days(bad)
    assert not is_overdue(date(2026, 11, 26), date(2026, 11, 26))
    assert is_overdue(date(2026, 11, 26), date(2026, 11, 27))
    assert not is_overdue(None, date(2026, 11, 27))
