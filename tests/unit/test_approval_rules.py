"""Approval policies picked by depth and trip type, the 用车制度 / 车补 pre-checks, the
approval chain (who decides which level), and the working-day calendar. Pure code."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from dispatch.approval_chain import Chain
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


APPLICANT = 99
STAFF = [(10, UNIT), (11, UNIT), (20, DISTRICT), (30, CITY)]


def chain(approvers=STAFF, decided_by=(), applicant=APPLICANT) -> Chain:
    return Chain.of(PATH, approvers, applicant, decided_by)


def test_level_one_is_the_units_when_it_has_an_approver_later_levels_only_above():
    c = chain()
    assert c.level_one_org == UNIT
    assert c.may_decide(1, UNIT) and not c.may_decide(1, CITY) and not c.may_decide(1, DISTRICT)
    assert not c.may_decide(2, UNIT)
    assert c.may_decide(2, CITY) and c.may_decide(3, DISTRICT)
    assert not c.may_decide(1, 77) and not c.may_decide(2, 77)  # another branch of the tree


def test_level_one_goes_to_the_nearest_organisation_above_with_approvers_only_without_one():
    no_unit_approver = chain([(20, DISTRICT), (30, CITY)])
    assert no_unit_approver.level_one_org == DISTRICT
    assert no_unit_approver.may_decide(1, DISTRICT) and not no_unit_approver.may_decide(1, CITY)
    only_the_city = chain([(30, CITY)])
    assert only_the_city.level_one_org == CITY and only_the_city.may_decide(1, CITY)
    # the applicant is the unit's only approver: he does not count, the level goes above
    own = chain([(10, UNIT), (30, CITY)], applicant=10)
    assert own.level_one_org == CITY
    inactive_elsewhere = chain([(40, 77)])  # approvers off the path do not count either
    assert inactive_elsewhere.level_one_org is None
    assert inactive_elsewhere.may_decide(1, UNIT) and inactive_elsewhere.may_decide(1, CITY)


def test_refusals_own_request_twice_and_not_your_level():
    assert chain().refusal(1, APPLICANT, UNIT).code == "own_request"
    assert chain().refusal(1, APPLICANT, PROVINCE, any_level=True).code == "own_request"  # not even an admin
    assert chain(decided_by=[10]).refusal(2, 10, CITY).code == "already_approved_by_you"
    not_yours = chain(decided_by=[10]).refusal(2, 11, UNIT)
    assert not_yours.code == "not_your_level" and "above the requesting unit" in not_yours.message
    above = chain().refusal(1, 30, CITY)
    assert above.code == "not_your_level" and "requesting unit" in above.message
    assert chain(decided_by=[10]).refusal(2, 30, CITY) is None
    assert chain().refusal(1, 1, PROVINCE, any_level=True) is None  # a platform admin


def test_the_nearest_eligible_approvers_are_asked():
    assert chain().next_approvers(1) == [10, 11]
    assert chain(decided_by=[10]).next_approvers(2) == [20]  # the nearest leadership above
    assert chain(decided_by=[10, 20]).next_approvers(3) == [30]
    assert chain([(30, CITY)]).next_approvers(1) == [30]  # a unit without its own approver
    assert chain(decided_by=[10, 20, 30]).next_approvers(4) == []
    assert chain([(10, UNIT), (30, CITY)], applicant=10).next_approvers(1) == [30]  # not himself


def test_levels_that_distinct_approvers_can_complete():
    assert chain().completable_levels() == 3  # one at the unit, two above
    assert chain([(10, UNIT), (11, UNIT)]).completable_levels() == 1  # nobody above
    assert chain([(10, UNIT), (30, CITY)]).completable_levels() == 2
    assert chain([(20, DISTRICT), (30, CITY)]).completable_levels() == 2  # level 1 from above
    assert chain([(30, CITY)]).completable_levels() == 1
    assert chain([]).completable_levels() == 1  # an admin can still decide one
    assert chain([(10, UNIT), (30, CITY)], applicant=30).completable_levels() == 1


def test_working_days_follow_the_holiday_notice():
    assert is_working_day(date(2026, 11, 24))
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert is_working_day(date(2026, 9, 20))  # a Sunday made a working day (调休)


def test_beyond_the_notices_weekends_and_the_fixed_date_holidays_are_off():
    assert is_working_day(date(2099, 3, 2)) and not is_working_day(date(2099, 3, 1))  # Mon, Sun
    assert is_working_day(date(2027, 1, 4)) and not is_working_day(date(2027, 1, 2))  # Mon, Sat
    for day in (date(2027, 1, 1), date(2027, 5, 1), date(2027, 10, 1), date(2027, 10, 2),
                date(2027, 10, 3), date(2030, 5, 1), date(2003, 10, 1)):
        assert not is_working_day(day), day  # 元旦, 劳动节, 国庆 (2027-05-01 is a Saturday anyway)
    assert is_working_day(date(2027, 10, 4)) and is_working_day(date(2027, 4, 30))
    assert not is_working_day(date(2030, 1, 1))  # a Tuesday: 元旦


def test_a_reason_that_adds_no_level_is_not_given():
    free_cross_city = policy(1, cross_city_extra=0)
    result = precheck(request(dest=("420700",)), None, free_cross_city, False, is_working_day)
    assert (result.approval_levels, result.approval_reasons) == (1, ())
