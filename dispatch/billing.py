"""Rental billing (计费): the fee of one order from its price plan and what actually happened.
Pure code; money in Decimal yuan (CNY), rounded half-up to the fen.

    fee = base (per trip, half day, day; × days for multi-day)
        + overtime: hours beyond the included ones, billed in steps (0.5 h), × rate
        + over-km: km beyond the included ones, × rate
        + night surcharge: once per night the service spans (22:00–06:00)
        + out-of-town allowance: per night away from the home city (driver's meals/lodging)
        + pass-through: tolls, parking (and fuel when the car comes without it)
        − SLA penalty: arrival at the pickup more than 15 min late

(domain-research.md b.5; the included hours/km and every rate are contract values, carried by
the price plan.) Billed km are the GNSS or odometer distance garage-out → garage-in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
NIGHT_FROM, NIGHT_TO = time(22, 0), time(6, 0)


@dataclass(frozen=True)
class PricePlan:
    charter_type: str  # trip | half_day | full_day | multi_day
    mode: str  # with_driver | car_only
    base_price_cny: Decimal
    included_hours: Decimal  # per charter unit (a day for multi_day)
    included_km: int
    overtime_cny_per_h: Decimal
    over_km_cny_per_km: Decimal
    night_surcharge_cny: Decimal = Decimal(0)
    out_of_town_cny_per_day: Decimal = Decimal(0)
    billing_step_h: Decimal = Decimal("0.5")
    late_grace_min: int = 15
    late_penalty_cny: Decimal = Decimal(0)  # per late arrival beyond the grace


@dataclass(frozen=True)
class Usage:
    """What the order actually did (its timestamps in Asia/Shanghai, aware)."""

    departed_at: datetime  # garage-out
    returned_at: datetime  # garage-in
    distance_km: Decimal
    planned_pickup_at: datetime
    arrived_pickup_at: datetime
    nights_out_of_town: int = 0
    tolls_cny: Decimal = Decimal(0)
    parking_cny: Decimal = Decimal(0)
    fuel_cny: Decimal = Decimal(0)


@dataclass(frozen=True)
class FeeLine:
    code: str  # base | overtime | over_km | night | out_of_town | tolls | parking | fuel | late_penalty
    label_zh: str
    quantity: Decimal
    amount_cny: Decimal


@dataclass(frozen=True)
class Fee:
    lines: tuple[FeeLine, ...]

    @property
    def total_cny(self) -> Decimal:
        return sum((line.amount_cny for line in self.lines), Decimal(0)).quantize(FEN)


def _money(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def charter_days(usage: Usage) -> int:
    """Calendar days the service touches (multi-day charters bill per day)."""
    return (usage.returned_at.date() - usage.departed_at.date()).days + 1


def billed_hours(usage: Usage, step_h: Decimal) -> Decimal:
    """Service duration rounded up to the billing step."""
    hours = Decimal((usage.returned_at - usage.departed_at).total_seconds()) / Decimal(3600)
    steps = math.ceil(hours / step_h)
    return step_h * steps


def nights_spanned(start: datetime, end: datetime) -> int:
    """How many 22:00–06:00 windows the interval overlaps."""
    count = 0
    day = start.date() - timedelta(days=1)
    while day <= end.date():
        night_from = datetime.combine(day, NIGHT_FROM, start.tzinfo)
        night_to = datetime.combine(day + timedelta(days=1), NIGHT_TO, start.tzinfo)
        if start < night_to and end > night_from:
            count += 1
        day += timedelta(days=1)
    return count


def fee(plan: PricePlan, usage: Usage) -> Fee:
    if usage.returned_at < usage.departed_at:
        raise ValueError("returned before it departed")
    units = charter_days(usage) if plan.charter_type == "multi_day" else 1
    hours = billed_hours(usage, plan.billing_step_h)
    extra_h = max(Decimal(0), hours - plan.included_hours * units)
    extra_km = max(Decimal(0), usage.distance_km - Decimal(plan.included_km * units))
    nights = nights_spanned(usage.departed_at, usage.returned_at)
    late_min = (usage.arrived_pickup_at - usage.planned_pickup_at).total_seconds() / 60
    lines = [
        FeeLine("base", "基本费", Decimal(units), _money(plan.base_price_cny * units)),
        FeeLine("overtime", "超时费", extra_h, _money(extra_h * plan.overtime_cny_per_h)),
        FeeLine("over_km", "超公里费", extra_km, _money(extra_km * plan.over_km_cny_per_km)),
        FeeLine("night", "夜间服务费", Decimal(nights), _money(plan.night_surcharge_cny * nights)),
        FeeLine("out_of_town", "异地补助", Decimal(usage.nights_out_of_town),
                _money(plan.out_of_town_cny_per_day * usage.nights_out_of_town)),
        FeeLine("tolls", "通行费", Decimal(1), _money(usage.tolls_cny)),
        FeeLine("parking", "停车费", Decimal(1), _money(usage.parking_cny)),
    ]
    if plan.mode == "car_only":
        lines.append(FeeLine("fuel", "燃油费", Decimal(1), _money(usage.fuel_cny)))
    if late_min > plan.late_grace_min:
        lines.append(FeeLine("late_penalty", "迟到扣款", Decimal(1), _money(-plan.late_penalty_cny)))
    return Fee(tuple(line for line in lines if line.amount_cny != 0 or line.code == "base"))


# The odometer is the contract's measure, but it is typed in by the driver: when the car's
# GNSS trips over the same interval disagree by more than this (R10(c): 10 %), the GNSS
# distance is billed instead and the difference stays visible (billed_km beside gnss_km).
ODOMETER_TOLERANCE = Decimal("0.10")
ODOMETER_SLACK_KM = Decimal(2)


def billed_distance(odometer_km: Decimal | None, gnss_km: Decimal) -> Decimal:
    """The km billed: the odometer's, unless the GNSS distance (when the car reported any)
    disagrees beyond the tolerance; the GNSS distance when there is no odometer reading."""
    if odometer_km is None:
        return gnss_km
    if gnss_km > 0 and abs(odometer_km - gnss_km) > max(gnss_km * ODOMETER_TOLERANCE, ODOMETER_SLACK_KM):
        return gnss_km
    return odometer_km
