"""Scripted days about trips and the calendar: R1 无派车单出车, R2 非工作时间出车, R3 节假日出车,
and the profiles (执法/应急 on duty, leased cars outside an order)."""

from __future__ import annotations

from simulator.days.builder import Builder
from simulator.days.family import (
    Family,
    back_by,
    both,
    covering,
    duty_car,
    general,
    leased,
    ordinary,
    trips_count,
    trips_within,
    with_sites,
)
from simulator.days.model import Draft, Place, Span, hm, labels


def _errand(b: Builder, lo: str, hi: str, stop_min: tuple[float, float] = (10, 40),
            km: tuple[float, float] = (3, 15)) -> tuple[list, Place]:
    dest = b.dest(*km)
    return b.errand(dest, b.at(lo, hi), b.minutes(*stop_min)), dest


# ---- R1 ------------------------------------------------------------------------------------------

def r1_no_order(b: Builder) -> Draft:
    legs, _ = _errand(b, "08:45", "15:30")
    return Draft(legs, labels(R1="alarm"), checks=[trips_within(hm("07:00"), hm("18:30"))])


def r1_covered(b: Builder) -> Draft:
    legs, dest = _errand(b, "08:30", "16:00")
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:00"))])


def r1_fuel_run(b: Builder) -> Draft:
    """To a 定点 filling station, repair shop or charging station and back, no order."""
    site = b.kit.zone_place(b.rng.choice(b.kit.zones("service_site", b.city)))
    legs = b.errand(site, b.at("09:00", "16:00"), b.minutes(5, 25))
    return Draft(legs, labels(), checks=[trips_within(hm("07:00"), hm("19:00")), trips_count()])


def r1_lot_shuffle(b: Builder) -> Draft:
    """Moved 150–220 m out of the lot and back: parking-lot moves, not trips (< 500 m)."""
    spot = Place("路边", b.kit.point_from_lot(b.plate, b.rng.uniform(150, 220), b.rng), b.city)
    legs = b.errand(spot, b.at("09:00", "15:00"), b.minutes(10, 40))
    return Draft(legs, labels(), checks=[back_by(b, hm("18:00"))])


def r1_duty_office_hours(b: Builder) -> Draft:
    """执法执勤/应急 car in office hours without an order: on duty, R1 INFO."""
    legs, _ = _errand(b, "09:00", "14:30", stop_min=(10, 30), km=(3, 10))
    return Draft(legs, labels(R1="info"), checks=[trips_within(hm("08:35"), hm("17:25"))])


def r1_makeup_no_order(b: Builder) -> Draft:
    """A 调休 Saturday is a working day: no order → R1, but not R3."""
    legs, _ = _errand(b, "09:00", "15:30")
    return Draft(legs, labels(R1="alarm"), checks=[trips_within(hm("07:00"), hm("18:30"))])


# ---- R2 ------------------------------------------------------------------------------------------

def r2_night(b: Builder) -> Draft:
    legs, _ = _errand(b, "20:10", "20:50", stop_min=(10, 25), km=(3, 8))
    return Draft(legs, labels(R1="alarm", R2="alarm"), checks=[back_by(b, hm("21:50"))])


def r2_dawn(b: Builder) -> Draft:
    legs, _ = _errand(b, "04:50", "05:20", stop_min=(10, 20), km=(3, 8))
    return Draft(legs, labels(R1="alarm", R2="alarm"), checks=[back_by(b, hm("07:30"))])


def r2_across_midnight(b: Builder) -> Draft:
    """Out at 23:15–23:35, back after midnight (the way back is the next day's trip)."""
    legs, _ = _errand(b, "23:15", "23:35", stop_min=(15, 30), km=(3, 8))
    return Draft(legs, labels(R1="alarm", R2="alarm"), checks=[back_by(b, hm("01:30", 1))])


def r2_across_midnight_approved(b: Builder) -> Draft:
    legs, dest = _errand(b, "23:15", "23:35", stop_min=(15, 30), km=(3, 8))
    return Draft(legs, labels(R2="info"), orders=covering(b, [dest]),
                 checks=[back_by(b, hm("01:30", 1))])


def r2_night_approved(b: Builder) -> Draft:
    legs, dest = _errand(b, "20:10", "20:50", stop_min=(10, 25), km=(3, 8))
    return Draft(legs, labels(R2="info"), orders=covering(b, [dest]),
                 checks=[back_by(b, hm("21:50"))])


def r2_evening_before_20(b: Builder) -> Draft:
    legs, dest = _errand(b, "17:20", "18:10", stop_min=(10, 20), km=(3, 8))
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


# ---- R3 ------------------------------------------------------------------------------------------

def r3_rest_no_order(b: Builder) -> Draft:
    legs, _ = _errand(b, "09:00", "16:00")
    return Draft(legs, labels(R1="alarm", R3="alarm"), checks=[trips_within(hm("07:00"), hm("19:00"))])


def r3_rest_covered(b: Builder) -> Draft:
    legs, dest = _errand(b, "09:00", "16:00")
    return Draft(legs, labels(R3="info"), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:00"))])


def r3_rest_duty(b: Builder) -> Draft:
    """A duty car registered on duty (值班报备) drives on a rest day without an order."""
    legs, _ = _errand(b, "09:00", "15:00", stop_min=(10, 30), km=(3, 10))
    duty = (Span(hm("08:00"), hm("20:00"), "节假日值班"),)
    return Draft(legs, labels(R1="info", R3="info"), duty=duty,
                 checks=[trips_within(hm("08:10"), hm("19:30"))])


def r3_makeup_covered(b: Builder) -> Draft:
    legs, dest = _errand(b, "09:00", "16:00")
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:00"))])


def _seal() -> tuple[Span, ...]:
    return (Span(hm("18:00", -1), hm("08:00", 1), "节假日封存"),)


def r3_sealed_move(b: Builder) -> Draft:
    legs, _ = _errand(b, "09:00", "16:00", km=(3, 10))
    return Draft(legs, labels(R1="alarm", R3="alarm"), seals=_seal(),
                 checks=[trips_within(hm("07:00"), hm("19:00"))])


def r3_sealed_duty(b: Builder) -> Draft:
    legs, _ = _errand(b, "09:00", "15:00", stop_min=(10, 30), km=(3, 10))
    duty = (Span(hm("08:00"), hm("20:00"), "封存期间应急值班"),)
    return Draft(legs, labels(R1="info", R3="info"), seals=_seal(), duty=duty,
                 checks=[trips_within(hm("08:10"), hm("19:30"))])


def r3_sealed_parked(b: Builder) -> Draft:
    """Sealed and parked; moved 150–220 m to a wash bay and back (not a movement > 500 m)."""
    spot = Place("洗车位", b.kit.point_from_lot(b.plate, b.rng.uniform(150, 220), b.rng), b.city)
    legs = b.errand(spot, b.at("10:00", "15:00"), b.minutes(10, 30))
    return Draft(legs, labels(), seals=_seal(), checks=[back_by(b, hm("18:00"))])


# ---- leased cars ---------------------------------------------------------------------------------

def leased_private(b: Builder) -> Draft:
    """A leased car outside any platform order is the rental company's: not watched, even at
    night, even parked away overnight."""
    legs = [b.go(b.dest(3, 12), b.at("19:00", "20:30")), b.stay(b.minutes(40, 90)),
            b.go(b.dest(2, 10)), b.go("lot", hm("07:30", 1))]
    return Draft(legs, labels(), end_s=hm("12:00", 1),
                 unguarded=frozenset({"R2", "R4", "R8"}))


FAMILIES = [
    Family("R1.no_order", "R1", False, "working", ordinary, r1_no_order, 1.5),
    Family("R1.makeup_no_order", "R1", False, "makeup", ordinary, r1_makeup_no_order, 0.7),
    Family("R1.covered", "R1", True, "working", ordinary, r1_covered, 1.2),
    Family("R1.fuel_run", "R1", True, "working", with_sites, r1_fuel_run),
    Family("R1.lot_shuffle", "R1", True, "working", ordinary, r1_lot_shuffle),
    Family("R1.duty_office_hours", "R1", True, "working", duty_car, r1_duty_office_hours),
    Family("R2.night", "R2", False, "working", ordinary, r2_night),
    Family("R2.dawn", "R2", False, "working", ordinary, r2_dawn),
    Family("R2.across_midnight", "R2", False, "working", ordinary, r2_across_midnight, 0.7),
    Family("R2.night_approved", "R2", True, "working", ordinary, r2_night_approved),
    Family("R2.across_midnight_approved", "R2", True, "working", ordinary,
           r2_across_midnight_approved, 0.7),
    Family("R2.evening_before_20", "R2", True, "working", ordinary, r2_evening_before_20),
    Family("R3.rest_no_order", "R3", False, "rest", ordinary, r3_rest_no_order),
    Family("R3.sealed_move", "R3", False, "sealed", ordinary, r3_sealed_move),
    Family("R3.rest_covered", "R3", True, "rest", ordinary, r3_rest_covered),
    Family("R3.rest_duty", "R3", True, "rest", duty_car, r3_rest_duty),
    Family("R3.makeup_covered", "R3", True, "makeup", ordinary, r3_makeup_covered, 0.7),
    Family("R3.sealed_duty", "R3", True, "sealed", duty_car, r3_sealed_duty, 0.7),
    Family("R3.sealed_parked", "R3", True, "sealed", both(ordinary), r3_sealed_parked, 0.7),
    Family("L.leased_private", "R1", True, "working", leased, leased_private),
]

__all__ = ["FAMILIES", "general"]
