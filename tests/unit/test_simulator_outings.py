"""The world's reports of its random outings (what the demo files orders for), the estimated
returns, the day the outings keep to, and the demo's filings built from them. Pure."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from shapely import Point

from fleet.scenario.load import load_scenario
from simulator.demo_orders import LEAD_S, MARGIN_S, files_order, filing_of
from simulator.plan import Destination, Outing, Step, keep_to_daytime, survey_outing
from simulator.route import Geography
from simulator.world import CST, World

MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=CST)   # a Monday
HOUR = 3600.0


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


@pytest.fixture(scope="module")
def day_of_reports(scenario):
    world = World(scenario, start=MORNING, seed=7, interval_s=10, vehicles=25,
                  report_outings=True)
    messages = world.advance_to(8 * HOUR)
    return world, messages, world.take_outing_reports()


def test_reporting_outings_changes_nothing_the_devices_send(scenario):
    quiet = World(scenario, start=MORNING, seed=3, vehicles=8).advance_to(2 * HOUR)
    told = World(scenario, start=MORNING, seed=3, vehicles=8, report_outings=True)
    assert [m.payload for m in told.advance_to(2 * HOUR)] == [m.payload for m in quiet]
    assert told.take_outing_reports() and told.take_outing_reports() == []


def test_each_outing_is_planned_before_it_leaves_then_departs_and_returns(day_of_reports):
    world, messages, reports = day_of_reports
    planned = {(r.plate, r.number): r for r in reports if r.kind == "planned"}
    departed = {(r.plate, r.number): r for r in reports if r.kind == "departed"}
    returned = {(r.plate, r.number): r for r in reports if r.kind == "returned"}
    assert len(returned) >= 25 and set(returned) <= set(departed) <= set(planned)
    for key, d in departed.items():
        p = planned[key]
        assert p.at_s < d.at_s == p.outing.depart_s
        assert p.outing.destinations and all(x.city_code for x in p.outing.destinations)
        assert returned.get(key) is None or returned[key].odometer_km > d.odometer_km
    # the device reports its departure at that second, ACC on
    by_uid = {v.vehicle.plate: v.uid for v in world.vehicles}
    starts = {(m.uid, m.t_s) for m in messages if m.payload["acc"]}
    assert all((by_uid[d.plate], d.at_s) in starts for d in departed.values())


def test_the_estimated_return_is_within_half_an_hour(day_of_reports, scenario):
    """The order's planned end is the estimate plus 20 min: R13 allows 60 min either way."""
    _, _, reports = day_of_reports
    planned = {(r.plate, r.number): r for r in reports if r.kind == "planned"}
    returned = [r for r in reports if r.kind == "returned"]
    errors_min = [(r.at_s - planned[(r.plate, r.number)].return_s) / 60 for r in returned]
    assert errors_min and max(abs(e) for e in errors_min) <= 30
    home = {p: v.city_code for p, v in scenario.vehicle_by_plate.items()}
    assert any(d.city_code != home[r.plate]   # expressway trips were estimated too
               for r in returned for d in planned[(r.plate, r.number)].outing.destinations)


def test_an_order_names_the_cities_crossed_on_the_way(scenario):
    """Wuhan to Huangshi runs through Ezhou: the survey names it, at a point the car passes."""
    geography = Geography(scenario)
    car = next(v for v in scenario.vehicles if v.city_code == "420100" and v.device)
    gate = scenario.depot_by_code[car.depot_code].location
    place = scenario.places_in("420200")[0]
    outing = Outing(60.0, (Destination(place.name_zh, place.location, "420200"),), (1800.0,),
                    (Step("drive", not_before_s=60.0, target=place.location),
                     Step("drive", delay_s=1800.0, to_lot=True)))
    survey = survey_outing(geography, gate, outing)
    assert [d.city_code for d in survey.transit] == ["420700"]
    assert geography.city_at(survey.transit[0].at) == "420700"
    driven = geography.route(gate, place.location, random.Random(99)).points
    assert survey.transit[0].at in driven
    assert survey.return_s > 60.0 + 1800.0 + 2 * 3600 * 0.5   # two expressway hours at least
    local = Destination("武汉站", (114.424, 30.607), "420100")
    assert survey_outing(geography, gate, replace(outing, destinations=(local,))).transit == ()


def _outing(depart_s: float) -> Outing:
    place = Destination("武汉站", (114.424, 30.607), "420100")
    return Outing(depart_s, (place,), (600.0,), (Step("drive", not_before_s=depart_s),))


@pytest.mark.parametrize(("start_h", "depart_h", "back_h", "moved_to_h"), [
    (8, 2, 4, None),        # 10:00-12:00: as planned
    (8, 12.5, 13.2, 7),     # back at 21:12: next morning 07:00-08:30
    (20, 3, 5, 7),          # leaves at 23:00: next morning
    (0, 5, 6, 7),           # leaves at 05:00: at 07:00 the same morning
])
def test_outings_keep_to_the_day(start_h, depart_h, back_h, moved_to_h):
    outing = _outing(depart_h * HOUR)
    delay_s = keep_to_daytime(outing, back_h * HOUR, start_h * HOUR)
    if moved_to_h is None:
        assert delay_s == 0
        return
    local_h = ((start_h + depart_h) * HOUR + delay_s) % (24 * HOUR) / HOUR
    assert delay_s > 0 and moved_to_h <= local_h <= moved_to_h + 1.5
    assert keep_to_daytime(outing.shifted(delay_s), back_h * HOUR + delay_s, start_h * HOUR) == 0


def test_cars_are_back_in_their_lots_at_night(scenario):
    """Started at 16:00, the world's cars stand in their lots at 22:00 and at 05:00 (R4, R2),
    but for a long outing begun in the start's first minutes (the demo shows moving cars at
    once, whatever the hour)."""
    start = datetime(2026, 11, 23, 16, 0, tzinfo=CST)
    world = World(scenario, start=start, seed=5, interval_s=30, vehicles=25,
                  report_outings=True)
    lots = {v.uid: v.lot.buffer(0.0005) for v in world.vehicles}
    plate_of = {v.uid: v.vehicle.plate for v in world.vehicles}
    for hours, first_ones in ((6, True), (13, False)):
        messages = world.advance_to(hours * HOUR)
        reports = world.take_outing_reports()
        last = {m.uid: m for m in messages}
        assert len(last) == len(lots)
        outside = {plate_of[uid] for uid, m in last.items() if m.payload["acc"]
                   or not lots[uid].contains(Point(m.payload["lon"], m.payload["lat"]))}
        at_once = {r.plate for r in reports if r.kind == "planned" and r.number == 0
                   and r.outing.depart_s <= 120} if first_ones else set()
        assert outside <= at_once, f"at {(16 + hours) % 24}:00"
        assert len(outside) <= 2


def test_the_share_of_filed_outings_is_seeded(scenario):
    draws = [files_order(1, plate, n, 0.9) for plate in scenario.vehicle_by_plate for n in range(10)]
    assert draws == [files_order(1, plate, n, 0.9)
                     for plate in scenario.vehicle_by_plate for n in range(10)]
    assert 0.86 <= sum(draws) / len(draws) <= 0.94
    assert not any(files_order(1, plate, 0, 0.0) for plate in scenario.vehicle_by_plate)


def test_a_filing_covers_its_outing(day_of_reports, scenario):
    _, _, reports = day_of_reports
    planned = [r for r in reports if r.kind == "planned"]
    for report in planned:
        filing = filing_of(report, scenario, MORNING)
        depart = MORNING + timedelta(seconds=report.outing.depart_s)
        back = MORNING + timedelta(seconds=report.return_s)
        assert depart - timedelta(seconds=LEAD_S + 60) < filing.planned_start < depart
        assert back + timedelta(seconds=MARGIN_S) <= filing.planned_end \
            < back + timedelta(seconds=MARGIN_S + 300)
        home = scenario.vehicle_by_plate[report.plate].city_code
        cities = [d["city_code"] for d in filing.destinations]
        assert cities == [d.city_code for d in (*report.transit, *report.outing.destinations)]
        assert filing.cross_city == any(c != home for c in cities)
        assert filing.origin["city_code"] == home and 1 <= len(filing.passengers) <= 3
    assert any(filing_of(r, scenario, MORNING).cross_city for r in planned)
