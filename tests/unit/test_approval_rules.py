"""Approval policies picked by depth and trip type, the 用车制度 / 车补 pre-checks, the
approval chain (who decides which level), and the working-day calendar. Pure code."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from dispatch.approval_chain import may_decide, next_approvers, refusal
from dispatch.calendar import is_working_day
from dispatch.prechecks import MAX_LEVELS, PrecheckRefused, precheck, subsidy_warning
from dispatch.trip_requests import (
    ApprovalPolicy,
    PolicyCandidate,
    TripRequest,
    TripType,
    pick_policy,
)

CST = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 24, 9, 0, tzinfo=CST)  # a Tuesday, a working day
PROVINCE, CITY, DISTRICT, UNIT = 1, 2, 3, 4
PATH = [PROVINCE, CITY, DISTRICT, UNIT]


def policy(base: int, **kw) -> ApprovalPolicy:
    return ApprovalPolicy(base_levels=base, **kw)


def test_no_policy_anywhere_gives_the_defaults():
    assert pick_policy([], TripType.OFFICIAL) == ApprovalPolicy()


def test_the_deepest_organisation_wins():
    found = [PolicyCandidate(0, None, policy(1)), PolicyCandidate(3, None, policy(3)),
             PolicyCandidate(1, None, policy(2))]
    assert pick_policy(found, TripType.OFFICIAL).base_levels == 3


def test_a_trip_type_policy_beats_the_generic_one_of_the_same_organisation():
    found = [PolicyCandidate(1, TripType.RECEPTION, policy(4)), PolicyCandidate(1, None, policy(2))]
    assert pick_policy(found, TripType.RECEPTION).base_levels == 4
    assert pick_policy(found, TripType.MEETING).base_levels == 2  # not a reception: generic
    assert pick_policy(list(reversed(found)), TripType.RECEPTION).base_levels == 4  # order-free


def test_a_nearer_generic_policy_beats_a_farther_trip_type_one():
    found = [PolicyCandidate(0, TripType.RECEPTION, policy(4)), PolicyCandidate(2, None, policy(1))]
    assert pick_policy(found, TripType.RECEPTION).base_levels == 1


def test_a_policy_for_another_trip_type_only_is_ignored():
    found = [PolicyCandidate(3, TripType.EMERGENCY, policy(1, cross_city_extra=0))]
    assert pick_policy(found, TripType.OFFICIAL) == ApprovalPolicy()


def request(trip_type=TripType.OFFICIAL, dest=("420100",), start=AT, hours=3) -> TripRequest:
    return TripRequest(1, trip_type, "420100", dest, start, start + timedelta(hours=hours))


def test_car_level_outside_the_policy_is_refused_naming_the_allowed_ones():
    sedans_only = policy(1, allowed_car_levels=frozenset({"sedan"}))
    with pytest.raises(PrecheckRefused) as refused:
        precheck(request(), "business", sedans_only, False, is_working_day)
    assert refused.value.code == "car_level_not_allowed"
    assert "轿车 sedan" in refused.value.message and refused.value.details["allowed_car_levels"] == ["sedan"]
    assert precheck(request(), "sedan", sedans_only, False, is_working_day).approval_levels == 1
    assert precheck(request(), None, sedans_only, False, is_working_day).approval_levels == 1
    assert precheck(request(), "bus", policy(1), False, is_working_day).approval_levels == 1  # any


def test_transport_subsidy_warns_on_an_in_city_ordinary_trip_only():
    assert subsidy_warning(request(), True)
    assert not subsidy_warning(request(), False)
    assert not subsidy_warning(request(dest=("420100", "420700")), True)  # leaves the city
    assert not subsidy_warning(request(TripType.MEETING), True)
    result = precheck(request(), None, policy(1), True, is_working_day)
    assert result.warnings == ("transport_subsidy",) and result.approval_reasons == ()


def test_levels_and_reasons_and_their_bound():
    night_cross = request(dest=("420700",), start=AT.replace(hour=19), hours=4)
    result = precheck(night_cross, None, policy(1), False, is_working_day)
    assert (result.approval_levels, result.approval_reasons) == (3, ("cross_city", "night"))
    heavy = policy(5, cross_city_extra=2, night_extra=2, holiday_extra=2)
    on_holiday = request(dest=("420700",), start=datetime(2026, 10, 1, 19, 0, tzinfo=CST), hours=4)
    assert precheck(on_holiday, None, heavy, False, is_working_day).approval_levels == MAX_LEVELS


def test_level_one_at_the_unit_or_above_later_levels_only_above():
    assert may_decide(1, UNIT, PATH) and may_decide(1, CITY, PATH)
    assert not may_decide(2, UNIT, PATH)
    assert may_decide(2, CITY, PATH) and may_decide(3, DISTRICT, PATH)
    assert not may_decide(1, 99, PATH)  # another branch of the tree


def test_nobody_decides_two_levels():
    assert refusal(2, 10, CITY, PATH, decided_by=[10]).code == "already_approved_by_you"
    not_yours = refusal(2, 11, UNIT, PATH, decided_by=[10])
    assert not_yours.code == "not_your_level" and "above the requesting unit" in not_yours.message
    assert refusal(2, 12, CITY, PATH, decided_by=[10]) is None


def test_the_nearest_eligible_approvers_are_asked():
    approvers = [(10, UNIT), (11, UNIT), (20, DISTRICT), (30, CITY)]
    assert next_approvers(1, PATH, approvers, []) == [10, 11]
    assert next_approvers(2, PATH, approvers, [10]) == [20]  # the nearest leadership above
    assert next_approvers(3, PATH, approvers, [10, 20]) == [30]
    assert next_approvers(1, PATH, [(30, CITY)], []) == [30]  # a unit without its own approver
    assert next_approvers(4, PATH, approvers, [10, 20, 30]) == []


def test_working_days_follow_the_holiday_notice_then_monday_to_friday():
    assert is_working_day(date(2026, 11, 24))
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert is_working_day(date(2099, 3, 2)) and not is_working_day(date(2099, 3, 1))  # beyond the data


def test_a_reason_that_adds_no_level_is_not_given():
    free_cross_city = policy(1, cross_city_extra=0)
    result = precheck(request(dest=("420700",)), None, free_cross_city, False, is_working_day)
    assert (result.approval_levels, result.approval_reasons) == (1, ())
