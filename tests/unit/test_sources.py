"""Car sources in priority order: own retained cars → the city's platform and entrusted cars →
rental companies covering the trip; seats, class, documents and bookings leave cars out, each
with its reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from dispatch.sources import Car, Need, Offer, RentalCompany, expiring, offers, why_not

CST = timezone(timedelta(hours=8))
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
TODAY = date(2026, 11, 22)
VALID = {"annual_inspection": date(2027, 5, 1), "insurance": date(2027, 3, 1)}
UNIT, OTHER_UNIT = 10, 11


def car(i, source="platform", org=99, city="420100", seats=5, level="sedan", docs=VALID, booked=()):
    return Car(i, source, org, city, seats, level, dict(docs), tuple(booked))


def need(passengers=2, level=None, cities=("420100",)) -> Need:
    return Need(UNIT, "420100", frozenset(cities), NINE, NINE + timedelta(hours=3), passengers, level)


def test_priority_own_retained_then_city_pool_then_rental():
    cars = [car(1), car(2, "unit_retained", org=UNIT), car(3, "unit_retained", org=OTHER_UNIT),
            car(4, "entrusted"), car(5, city="420200"), car(6, "leased")]
    companies = [RentalCompany(7, frozenset({"420100", "420700"})), RentalCompany(8, frozenset({"420200"}))]
    found, left_out = offers(need(cities=("420100", "420700")), cars, companies, TODAY)
    assert found == [Offer(1, "car", 2), Offer(2, "car", 1), Offer(2, "car", 4),
                     Offer(3, "rental_company", 7)]
    assert left_out == {}  # other units' retained, other cities' and leased cars are not in reach


def test_reasons_for_leaving_a_car_out():
    expired = {**VALID, "insurance": date(2026, 11, 1)}
    expires_during_trip = {**VALID, "annual_inspection": date(2026, 11, 22)}
    cars = [car(1, seats=2), car(2, level="business"), car(3, docs=expired),
            car(4, docs={"insurance": date(2027, 1, 1)}), car(5, docs=expires_during_trip),
            car(6, booked=[(NINE - timedelta(hours=2), NINE - timedelta(minutes=20))]),
            car(7, booked=[(NINE - timedelta(hours=2), NINE - timedelta(minutes=30))])]
    found, left_out = offers(need(level="sedan"), cars, [], TODAY)
    assert left_out == {1: "seats", 2: "car_level", 3: "document_insurance",
                        4: "document_annual_inspection", 5: "document_annual_inspection", 6: "booked"}
    assert found == [Offer(2, "car", 7)]  # back 30 min before: just in time


def test_seats_count_the_driver():
    assert why_not(car(1, seats=5), need(passengers=4), TODAY) is None
    assert why_not(car(1, seats=5), need(passengers=5), TODAY) == "seats"


def test_documents_expiring_within_30_days_are_reminded():
    docs = {"annual_inspection": date(2026, 12, 10), "insurance": date(2027, 6, 1), "license": date(2026, 12, 1)}
    assert expiring(car(1, docs=docs), TODAY) == [("license", date(2026, 12, 1)),
                                                  ("annual_inspection", date(2026, 12, 10))]
