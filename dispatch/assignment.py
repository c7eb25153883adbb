"""May this car and this driver take this order? Pure code; the database still refuses a
double booking on its own (exclusion constraints), this decides everything else.

Two ways a car gets an order (domain.md §4): the dispatcher assigns a platform, entrusted or
(for its own unit) retained car with a platform driver; or a rental company, having been sent
the order, accepts it with one of its own cars and drivers. Either way the car needs the seats,
the class asked for, and a valid 年检 and 保险 until the order ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dispatch.sources import Car, Need, tier, why_not

# Every refusal's code, with the message a dispatcher reads (the API sends both).
MESSAGES = {
    "car_inactive": "The car is out of service.",
    "leased_via_company": "A leased car comes through its rental company: send the order to the company.",
    "retained_by_other_unit": "A unit's retained car (保留车辆) serves only its own unit.",
    "other_city": "The car belongs to another city's pool.",
    "seats": "The car has too few seats for the passengers and the driver.",
    "car_level": "The car is not of the class the request asks for.",
    "document_annual_inspection": "The car's annual inspection (年检) is expired or missing.",
    "document_insurance": "The car's insurance (保险) is expired or missing.",
    "driver_of_rental_company": "The driver works for a rental company; choose a platform driver.",
    "driver_other_city": "The driver belongs to another city's pool.",
    "not_company_car": "The car is not one of your company's cars.",
    "not_company_driver": "The driver is not one of your company's drivers.",
}


@dataclass(frozen=True)
class Driver:
    id: int
    rental_company_id: int | None
    home_city: str = ""


def platform_problem(car: Car, active: bool, driver: Driver, need: Need, today: date) -> str | None:
    """Why the dispatcher may not assign this car and driver, or None."""
    if not active:
        return "car_inactive"
    if tier(car, need) is None:
        if car.source == "leased":
            return "leased_via_company"
        if car.source == "unit_retained":
            return "retained_by_other_unit"
        return "other_city"
    if driver.rental_company_id is not None:
        return "driver_of_rental_company"
    if driver.home_city and driver.home_city != car.home_city:
        return "driver_other_city"
    return why_not(car, need, today)


def rental_problem(
    car: Car, car_company_id: int | None, active: bool, driver: Driver, company_id: int,
    need: Need, today: date,
) -> str | None:
    """Why a rental company may not accept the order with this car and driver, or None."""
    if not active:
        return "car_inactive"
    if car.source != "leased" or car_company_id != company_id:
        return "not_company_car"
    if driver.rental_company_id != company_id:
        return "not_company_driver"
    return why_not(car, need, today)
