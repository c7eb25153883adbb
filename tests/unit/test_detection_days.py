"""The scripted days (simulator/days): labels that cover every rule, scripts that do what they
say (checked on what the car really did), the allocation of cars and dates, and every family
judged by the pure engine on its noisy messages (the same parts as the real pipeline minus
the servers; tests/integration/test_detection_days.py runs the processes)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fleet.scenario.geo import distance_m
from fleet.scenario.load import load_scenario
from simulator.days.builder import messages_of
from simulator.days.catalogue import FAMILIES, dates_for, labelled_set, one_of_each, quotas, waves
from simulator.days.kit import Kit
from simulator.days.model import RULES, LabelledDay, hm, labels
from simulator.days.noise import QUIET
from simulator.days.offline import FILTERS, World, judge, motion, received
from simulator.days.truth import Truth

TODAY = date(2026, 12, 1)
NOW_MS = 1_796_000_000_000        # 2026-12-01 (the days are judged after the fact)


@pytest.fixture(scope="module")
def kit() -> Kit:
    return Kit(load_scenario())


@pytest.fixture(scope="module")
def world(kit) -> World:
    return World(kit)


def test_labels_name_every_rule_and_a_clean_day_expects_at_most_info():
    assert set(labels(R4="warn")) == set(RULES) and labels(R4="warn")["R1"] is None
    with pytest.raises(ValueError):
        labels(R99="alarm")
    base = {"id": "x", "family": "f", "rule": "R1", "plate": "p", "day": TODAY, "legs": (),
            "end_s": 0}
    with pytest.raises(ValueError, match="clean"):
        LabelledDay(clean=True, labels=labels(R1="alarm"), **base)
    with pytest.raises(ValueError, match="missing"):
        LabelledDay(clean=False, labels={"R1": "alarm"}, **base)
    assert LabelledDay(clean=True, labels=labels(R2="info"), **base).expected() == {"R2": "info"}


def test_every_rule_has_violations_and_r1_to_r9_have_clean_look_alikes():
    assert {f.rule for f in FAMILIES if not f.clean} >= {"R1", "R2", "R3", "R4", "R5", "R6",
                                                         "R7", "R8", "R9", "R10", "R13", "R14",
                                                         "R16"}
    assert {f.rule for f in FAMILIES if f.clean} >= {"R1", "R2", "R3", "R4", "R5", "R6", "R7",
                                                     "R8", "R9"}
    wanted = quotas(FAMILIES, 300)
    assert sum(wanted.values()) == 300
    assert sum(n for name, n in wanted.items() if next(f for f in FAMILIES if f.name == name).clean) == 150


def test_calendars_follow_the_state_council_notice():
    assert date(2026, 10, 10) in dates_for("makeup") and date(2026, 9, 20) in dates_for("makeup")
    assert date(2026, 10, 2) in dates_for("rest") and date(2026, 9, 25) in dates_for("rest")
    assert date(2026, 10, 2) not in dates_for("working")
    assert date(2026, 9, 30) not in dates_for("working")       # tomorrow is 国庆


# Families the engine is known to misjudge (none now), marked xfail with the reason.
KNOWN: dict = {}


@pytest.mark.parametrize("family", [pytest.param(f.name, marks=KNOWN.get(f.name, ()))
                                    for f in FAMILIES])
def test_each_family_is_judged_as_labelled_by_the_pure_engine(kit, world, family):
    day = one_of_each(kit, [family], seed=7, today=TODAY, terminals="acc")[0]
    judged = judge(world, day, NOW_MS)
    assert judged.mismatches() == {}, f"{day.id} {day.plate} {day.day}"


def test_an_obd_terminal_in_town_traffic_gets_its_trips(kit, world):
    """An OBD plug-in terminal (no ACC wire) on a 2.5 km run to the 定点 repair shop in 孝感 and
    back, through traffic lights: the trips without ACC (speed rule, domain.md §6) must be the
    car's real trips. Here both are lost; where only the way back is, the stop at the shop
    lasts all night and R1 takes the way there for a trip without an order."""
    day = one_of_each(kit, ["R1.fuel_run"], seed=6, today=TODAY, terminals="obd")[0]
    assert not day.acc_wire
    truth = Truth(messages_of(kit, day))
    positions, _ = received(world, day, QUIET, FILTERS, NOW_MS)
    trips, _ = motion(positions)
    counted = [t for t in truth.moving_trips() if t.duration_s >= 180]
    assert len(trips) == len(counted) == 2


def _truth(kit, family: str, seed: int = 3) -> tuple[LabelledDay, Truth]:
    day = one_of_each(kit, [family], seed=seed, today=TODAY)[0]
    return day, Truth(messages_of(kit, day))


def test_parked_80_m_from_the_lot_means_60_to_85_m_from_its_edge_all_night(kit):
    day, truth = _truth(kit, "R4.lot_80m")
    for t in (hm("22:00"), hm("23:00"), hm("03:00", 1)):
        assert 60 <= kit.lot_edge_distance_m(day.plate, truth.where(t)) <= 85 + 3


def test_a_lot_shuffle_stays_under_500_m(kit):
    _, truth = _truth(kit, "R1.lot_shuffle")
    assert truth.trips and not truth.moving_trips() and max(t.dist_m for t in truth.trips) < 500


def test_the_sleeping_terminal_sends_nothing_at_night(kit):
    day, truth = _truth(kit, "R7.sleep_all_night")
    night = [t for t in truth.t if hm("23:00") <= t < hm("06:00", 1)]
    assert night == [] and not truth.driving(hm("23:00"))


def test_a_dark_drive_reappears_kilometres_away(kit):
    day, truth = _truth(kit, "R7.dark_covered")
    dark = next(leg for leg in day.legs if leg.action == "device_dark")
    start, end = dark.start_offset_s, dark.start_offset_s + dark.duration_s
    inside = [t for t in truth.t if start < t < end]
    assert inside == []
    assert distance_m(truth.where(start - 1), truth.where(end + 60)) > 2000


def test_orders_carry_the_actual_departure_and_return(kit):
    day, truth = _truth(kit, "R1.covered")
    order = day.orders[0]
    assert order.departed_s == int(truth.first_departure())
    assert order.returned_s == int(truth.last_arrival())
    assert order.start_s <= order.departed_s and order.destinations


def test_an_emergency_is_decided_after_its_deadline_or_refused(kit):
    day = one_of_each(kit, ["R14.late_or_refused"], seed=3, today=TODAY)[0]
    order = day.orders[0]
    assert order.emergency and order.trip_type == "emergency"
    approved, at_s = order.decision
    assert (approved and at_s > order.deadline_s) or not approved
    assert TODAY - timedelta(days=27) <= day.day < TODAY        # R14 is judged 30 days back


def test_a_labelled_set_keeps_days_apart_and_waves_hold_each_car_once(kit):
    families = [f for f in FAMILIES if f.name.startswith(("R1.", "R3."))]
    days = labelled_set(kit, 24, seed=2, families=families, today=TODAY)
    assert len(days) == 24 and sum(d.clean for d in days) == 12
    by_car: dict[str, list[date]] = {}
    for d in days:
        by_car.setdefault(d.plate, []).append(d.day)
    for dates in by_car.values():
        dates.sort()
        assert all((b - a).days >= 8 for a, b in zip(dates, dates[1:], strict=False))
    for wave in waves(days):
        assert len({d.plate for d in wave}) == len(wave)
    sealed = [d for d in days if d.seals]
    owners = {kit.vehicle(d.plate).owner_org_code for d in sealed}
    for d in days:
        if d.seals:
            continue
        assert not any(kit.vehicle(d.plate).owner_org_code == kit.vehicle(s.plate).owner_org_code
                       and abs((d.day - s.day).days) <= 1 for s in sealed), owners


def test_an_obd_car_driving_home_from_its_lot_without_an_order_is_r1(kit, world):
    """An OBD terminal (no ACC wire): the car leaves its lot at 17:40–18:40 without an order
    and parks at home overnight — R1, R4 and R8 like the same evening with an ACC wire."""
    day = one_of_each(kit, ["R4.home_overnight"], seed=0, today=TODAY, terminals="obd")[0]
    assert not day.acc_wire
    assert judge(world, day, NOW_MS).mismatches() == {}
