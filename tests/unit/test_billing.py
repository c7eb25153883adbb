"""Rental fees on worked examples (domain-research.md b.5): base, overtime in half-hour steps,
over-km, night surcharge, out-of-town allowance, pass-through costs, lateness penalty."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from dispatch.billing import PricePlan, Usage, billed_hours, fee, nights_spanned

CST = timezone(timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CST)


FULL_DAY = PricePlan("full_day", "with_driver", D("600"), D("8"), 100, D("50"), D("3.5"),
                     night_surcharge_cny=D("80"), out_of_town_cny_per_day=D("150"),
                     late_penalty_cny=D("100"))


def lines(f) -> dict[str, D]:
    return {line.code: line.amount_cny for line in f.lines}


def test_full_day_within_allowance_is_the_base_plus_pass_through():
    usage = Usage(at(23, 8), at(23, 15, 30), D("86.4"), at(23, 8, 30), at(23, 8, 40),
                  tolls_cny=D("35"), parking_cny=D("10"))
    f = fee(FULL_DAY, usage)
    assert lines(f) == {"base": D("600.00"), "tolls": D("35.00"), "parking": D("10.00")}
    assert f.total_cny == D("645.00")


def test_full_day_worked_example_with_every_extra():
    # 07:40 out, 23:10 back: 15.5 h → 15.5 billed, 7.5 h over × 50 = 375
    # 236.7 km: 136.7 km over × 3.5 = 478.45; one night (22:00–23:10) × 80
    # one night out of town × 150; arrived 25 min late (> 15): −100; tolls 120, parking 20
    usage = Usage(at(23, 7, 40), at(23, 23, 10), D("236.7"), at(23, 8, 0), at(23, 8, 25),
                  nights_out_of_town=1, tolls_cny=D("120"), parking_cny=D("20"))
    f = fee(FULL_DAY, usage)
    assert lines(f) == {
        "base": D("600.00"), "overtime": D("375.00"), "over_km": D("478.45"), "night": D("80.00"),
        "out_of_town": D("150.00"), "tolls": D("120.00"), "parking": D("20.00"),
        "late_penalty": D("-100.00"),
    }
    assert f.total_cny == D("1723.45")


def test_overtime_is_billed_in_half_hour_steps():
    assert billed_hours(Usage(at(23, 8), at(23, 16, 1), D(0), at(23, 8), at(23, 8)), D("0.5")) == D("8.5")
    assert billed_hours(Usage(at(23, 8), at(23, 16, 30), D(0), at(23, 8), at(23, 8)), D("0.5")) == D("8.5")
    assert billed_hours(Usage(at(23, 8), at(23, 16), D(0), at(23, 8), at(23, 8)), D("0.5")) == D("8")


def test_lateness_within_grace_is_free():
    usage = Usage(at(23, 8), at(23, 12), D("40"), at(23, 8, 30), at(23, 8, 45))  # exactly 15 min
    assert "late_penalty" not in lines(fee(FULL_DAY, usage))


def test_multi_day_bills_per_calendar_day():
    plan = PricePlan("multi_day", "with_driver", D("550"), D("8"), 150, D("45"), D("3"),
                     out_of_town_cny_per_day=D("150"))
    # Wuhan → Huanggang and back: 3 calendar days, 2 nights away, 512 km (3 × 150 included)
    usage = Usage(at(23, 8), at(25, 18), D("512"), at(23, 8, 30), at(23, 8, 30), nights_out_of_town=2)
    f = fee(plan, usage)
    # 58 h of service against 24 included → 34 h over; 512 − 450 = 62 km over
    assert lines(f) == {"base": D("1650.00"), "overtime": D("1530.00"), "over_km": D("186.00"),
                        "out_of_town": D("300.00")}


def test_car_only_passes_fuel_through():
    plan = PricePlan("half_day", "car_only", D("260"), D("4"), 50, D("40"), D("2.8"))
    usage = Usage(at(23, 13), at(23, 17), D("48"), at(23, 13), at(23, 13), fuel_cny=D("52.3"))
    assert lines(fee(plan, usage)) == {"base": D("260.00"), "fuel": D("52.30")}


def test_nights_spanned():
    assert nights_spanned(at(23, 8), at(23, 21, 59)) == 0
    assert nights_spanned(at(23, 5), at(23, 7)) == 1  # the night before
    assert nights_spanned(at(23, 20), at(25, 7)) == 2


def test_returned_before_departed_is_refused():
    with pytest.raises(ValueError):
        fee(FULL_DAY, Usage(at(23, 10), at(23, 9), D("1"), at(23, 10), at(23, 10)))


def test_the_odometer_is_billed_unless_the_gnss_distance_disagrees():
    from dispatch.billing import billed_distance

    assert billed_distance(D("130.4"), D("0.0")) == D("130.4")  # no GNSS data: the odometer
    assert billed_distance(D("130.4"), D("125.0")) == D("130.4")  # within 10 %
    assert billed_distance(D("130.4"), D("60.0")) == D("60.0")  # typed too high: GNSS billed
    assert billed_distance(D("11.0"), D("9.5")) == D("11.0")  # short trips: 2 km slack
    assert billed_distance(None, D("42.0")) == D("42.0")
