"""Carpool merges (公务拼车): compatible requests share a car within the detour rule; 机要,
seats and start times keep others apart; costs split per passenger-km."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dispatch.carpool import (
    CarpoolRules,
    Place,
    RideRequest,
    propose,
    split_cost,
    travel_min,
    why_not,
)

CST = timezone(timedelta(hours=8))
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
RULES = CarpoolRules()

WUHAN_HALL = Place(30.5928, 114.3055, "420100")  # 武汉 city centre
WUHAN_EAST = Place(30.6050, 114.3300, "420100")  # ~2.7 km away
EZHOU = Place(30.3908, 114.8950, "420700")
HUANGGANG = Place(30.4537, 114.8724, "421100")  # near Ezhou, across the river
XIAOGAN = Place(30.9246, 113.9169, "420900")  # the other direction


def ride(i, origin, dest, start=NINE, passengers=1, **kw) -> RideRequest:
    return RideRequest(i, origin, dest, start, passengers, **kw)


def test_two_trips_to_neighbouring_cities_share_a_car():
    a = ride(1, WUHAN_HALL, EZHOU)
    b = ride(2, WUHAN_EAST, HUANGGANG, NINE + timedelta(minutes=20), passengers=2)
    merge = propose(a, b, seats=5, rules=RULES)
    assert merge is not None
    assert merge.first == 1 and merge.order[:2] == ("p1", "p2")
    for request, detour in merge.detour_min.items():
        direct = travel_min(*((WUHAN_HALL, EZHOU) if request == 1 else (WUHAN_EAST, HUANGGANG)))
        assert detour <= 15 or detour <= 0.2 * direct
    assert merge.saved_km > 40  # one car to the east instead of two


def test_opposite_directions_do_not_merge():
    assert propose(ride(1, WUHAN_HALL, EZHOU), ride(2, WUHAN_EAST, XIAOGAN), 5, RULES) is None


@pytest.mark.parametrize(("b_kw", "seats", "reason"), [
    ({"confidential": True}, 5, "confidential"),
    ({"carpool_allowed": False}, 5, "not_allowed"),
    ({"passengers": 4}, 5, "seats"),  # 1 + 4 passengers, the driver: 6 > 5
    ({"start": NINE + timedelta(minutes=31)}, 5, "start_times"),
])
def test_what_keeps_requests_apart(b_kw, seats, reason):
    a = ride(1, WUHAN_HALL, EZHOU)
    b = ride(2, WUHAN_EAST, HUANGGANG, **b_kw)
    assert why_not(a, b, seats, RULES) == reason
    assert propose(a, b, seats, RULES) is None


def test_a_minibus_takes_the_larger_group():
    a = ride(1, WUHAN_HALL, EZHOU, passengers=3)
    b = ride(2, WUHAN_EAST, HUANGGANG, passengers=4)
    assert propose(a, b, seats=5, rules=RULES) is None
    assert propose(a, b, seats=14, rules=RULES) is not None


def test_cost_split_per_passenger_km_adds_up():
    shares = split_cost(1723.45, {1: 1 * 80.0, 2: 2 * 95.0})
    assert sum(shares.values()) == pytest.approx(1723.45, abs=1e-9)
    assert shares[2] > shares[1]
    assert shares == {1: 510.65, 2: 1212.8}
    with pytest.raises(ValueError):
        split_cost(10.0, {1: 0.0})
