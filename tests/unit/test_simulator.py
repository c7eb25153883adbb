"""The simulator's pure core: world, vehicles, scripts, clock, and the device contract."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta

import orjson
import pytest
from shapely import Point, Polygon

from fleet.scenario.geo import distance_m
from fleet.scenario.load import load_scenario
from simulator.clock import SimClock
from simulator.script import Script, ScriptedLeg, ScriptError, parse_scripts
from simulator.world import CST, DeviceMessage, World

START = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


@pytest.fixture(scope="module")
def two_hours(scenario) -> tuple[World, list[DeviceMessage]]:
    world = World(scenario, start=START, seed=7, interval_s=5, vehicles=40)
    return world, world.advance_to(2 * 3600)


def by_device(messages: list[DeviceMessage]) -> dict[str, list[DeviceMessage]]:
    grouped: dict[str, list[DeviceMessage]] = defaultdict(list)
    for m in messages:
        grouped[m.uid].append(m)
    return grouped


def lonlat(m: DeviceMessage) -> tuple[float, float]:
    return (m.payload["lon"], m.payload["lat"])


def wuhan_car(scenario, index: int = 0) -> str:
    return [v.plate for v in scenario.vehicles if v.city_code == "420100"][index]


def test_same_seed_same_messages_however_time_is_sliced(scenario):
    one = World(scenario, start=START, seed=3, vehicles=15).advance_to(1800)
    world = World(scenario, start=START, seed=3, vehicles=15)
    sliced = [m for t in [*range(0, 1800, 7), 1800] for m in world.advance_to(t)]
    assert [m.payload for m in one] == [m.payload for m in sliced]
    other = World(scenario, start=START, seed=4, vehicles=15).advance_to(1800)
    assert [m.payload for m in one] != [m.payload for m in other]


def test_two_thirds_leave_within_five_minutes(scenario):
    world = World(scenario, start=START, seed=11)
    moving = {m.uid for m in world.advance_to(5 * 60 + 1) if m.payload["acc"]}
    assert 0.5 <= len(moving) / len(world.vehicles) <= 0.8


def test_moving_vehicles_have_plausible_speeds_and_odometer(two_hours):
    _, messages = two_hours
    moved = 0
    for uid, ms in by_device(messages).items():
        driven_m = 0.0
        for a, b in zip(ms, ms[1:], strict=False):
            dt = b.t_s - a.t_s
            chord_m = distance_m(lonlat(a), lonlat(b))
            assert chord_m / dt * 3.6 <= 130, (uid, a.payload, b.payload)
            odo_m = (b.payload["odometer_km"] - a.payload["odometer_km"]) * 1000
            assert odo_m >= chord_m - 120, (uid, a.payload, b.payload)  # 0.1 km rounding
            if a.payload["acc"] or b.payload["acc"]:
                driven_m += chord_m
            else:
                assert odo_m == 0
        odo_total_m = (ms[-1].payload["odometer_km"] - ms[0].payload["odometer_km"]) * 1000
        assert abs(odo_total_m - driven_m) <= 0.03 * driven_m + 150, uid
        moved += driven_m > 1000
    assert moved >= 20


def test_seq_increases_and_cadence_follows_acc(two_hours):
    _, messages = two_hours
    for ms in by_device(messages).values():
        seqs = [m.payload["seq"] for m in ms]
        assert seqs == list(range(1, len(seqs) + 1))
        for a, b in zip(ms, ms[1:], strict=False):
            if a.payload["acc"]:
                assert b.t_s - a.t_s == pytest.approx(5.0)
            else:
                assert 0 < b.t_s - a.t_s <= 30.0 + 1e-9


def test_parked_cars_report_acc_off_inside_their_lot(scenario, two_hours):
    world, messages = two_hours
    lots = {
        v.device.uid: Polygon(scenario.depot_by_code[v.depot_code].lot)
        for v in scenario.vehicles if v.device is not None
    }
    early = [m for m in messages if m.t_s < 5]  # all report at power-on; nobody leaves before 5 s
    assert {m.uid for m in early} == set(world.uids)
    for m in early:
        assert m.payload["acc"] is False and m.payload["speed_kmh"] == 0
        assert lots[m.uid].contains(Point(lonlat(m))), m.payload
    # a car that came back is parked inside its lot again
    back = [
        ms[-1]
        for ms in by_device(messages).values()
        if any(m.payload["acc"] for m in ms)
        and not ms[-1].payload["acc"]
        and lots[ms[-1].uid].contains(Point(lonlat(ms[-1])))
    ]
    assert back


def test_messages_match_the_device_contract(scenario, two_hours):
    world, messages = two_hours
    energy = {v.device.uid: v.energy_type for v in scenario.vehicles if v.device is not None}
    required = {
        "ts",
        "lat",
        "lon",
        "speed_kmh",
        "heading_deg",
        "acc",
        "fix",
        "odometer_km",
        "alarm",
        "seq",
    }
    for m in messages:
        p = m.payload
        assert re.fullmatch(r"\d{12}", m.uid)
        assert required <= set(p)
        assert TS_RE.match(p["ts"]), p["ts"]
        assert datetime.fromisoformat(p["ts"]) == START + timedelta(seconds=m.t_s)
        assert round(p["lat"], 6) == p["lat"] and round(p["lon"], 6) == p["lon"]
        assert 29 < p["lat"] < 32 and 112 < p["lon"] < 117
        assert isinstance(p["acc"], bool) and p["fix"] is True and p["alarm"] == 0
        assert 0 <= p["heading_deg"] < 360 and p["speed_kmh"] >= 0
        kind = energy[m.uid]
        assert ("fuel_l" in p) == (kind in ("fuel", "phev"))
        assert ("soc_pct" in p) == (kind in ("bev", "phev"))
        assert orjson.loads(orjson.dumps(p)) == p


def test_energy_is_used_while_driving(two_hours):
    _, messages = two_hours
    used = {"fuel_l": 0, "soc_pct": 0}
    for ms in by_device(messages).values():
        first, last = ms[0].payload, ms[-1].payload
        if last["odometer_km"] - first["odometer_km"] > 10:
            for key in used:
                if key in first and last[key] < first[key]:
                    used[key] += 1
    assert used["fuel_l"] > 0 and used["soc_pct"] > 0


def test_scripted_trip_out_of_the_city_ends_outside_its_boundary(scenario):
    plate = wuhan_car(scenario)
    script = Script(plate, (ScriptedLeg("drive_to", start_offset_s=120, city="420900"),))
    world = World(scenario, start=START, seed=1, vehicles=0, scripts=[script])
    ms = world.advance_to(3 * 3600)
    assert [m.payload["acc"] for m in ms if m.t_s < 120] == [False] * sum(m.t_s < 120 for m in ms)
    last = ms[-1].payload
    wuhan = Polygon(scenario.city_by_code["420100"].boundary)
    xiaogan = Polygon(scenario.city_by_code["420900"].boundary)
    assert last["acc"] is False
    assert not wuhan.contains(Point(last["lon"], last["lat"]))
    assert xiaogan.contains(Point(last["lon"], last["lat"]))
    assert max(m.payload["speed_kmh"] for m in ms) >= 80  # took the expressway


def test_script_goes_dark_and_backfills_late(scenario):
    plate = wuhan_car(scenario, 1)
    legs = (
        ScriptedLeg("drive_to", start_offset_s=60, place="PL-420100-AIRPORT"),
        ScriptedLeg("device_dark", start_offset_s=600, duration_s=600, backfill=True),
    )
    world = World(scenario, start=START, seed=1, vehicles=0, scripts=[Script(plate, legs)])
    ms = world.advance_to(1500)
    stored = [m for m in ms if 600 <= m.t_s < 1200]
    assert len(stored) >= 100, "positions recorded while dark are sent later"
    assert all(m.payload["ts"] == world.ts(m.t_s) for m in stored)
    first_after = next(i for i, m in enumerate(ms) if m.t_s >= 1200)
    # the live position after the gap comes first, then the stored ones (out of time order)
    assert ms[first_after + 1 : first_after + 1 + len(stored)] == stored
    assert all(m.t_s < 600 for m in ms[:first_after])
    seqs = [m.payload["seq"] for m in sorted(ms, key=lambda m: m.t_s)]
    assert seqs == list(range(1, len(ms) + 1))


def test_script_dark_without_backfill_sends_nothing_then_park_at_jumps(scenario):
    plate = wuhan_car(scenario, 2)
    far = (114.40, 30.50)
    legs = (
        ScriptedLeg("device_dark", start_offset_s=300, duration_s=900),
        ScriptedLeg("park_at", start_offset_s=600, coords=far),
    )
    world = World(scenario, start=START, seed=1, vehicles=0, scripts=[Script(plate, legs)])
    ms = world.advance_to(1800)
    assert not [m for m in ms if 300 <= m.t_s < 1200]
    after = [m for m in ms if m.t_s >= 1200]
    assert after and distance_m(lonlat(after[0]), far) < 10 and after[0].payload["acc"] is False


def test_scripted_speed_and_stay(scenario):
    plate = wuhan_car(scenario, 3)
    legs = (
        ScriptedLeg("stay", start_offset_s=0, duration_s=1200),
        ScriptedLeg("drive_to", coords=(114.60, 30.75), speed_kmh=140),
    )
    world = World(scenario, start=START, seed=1, vehicles=0, scripts=[Script(plate, legs)])
    ms = world.advance_to(3600)
    assert all(not m.payload["acc"] for m in ms if m.t_s < 1200)
    assert max(m.payload["speed_kmh"] for m in ms) > 130


def test_cars_without_a_terminal_are_not_simulated(scenario):
    world = World(scenario, start=START, seed=1)
    fitted = [v for v in scenario.vehicles if v.device is not None]
    assert len(world.vehicles) == len(fitted) < len(scenario.vehicles)
    assert world.uids == [v.device.uid for v in fitted]
    assert len(World(scenario, start=START, seed=1, vehicles=10).vehicles) == 10


def test_scripts_are_validated(scenario):
    with pytest.raises(ScriptError, match="exactly one"):
        ScriptedLeg("drive_to", place="PL-420100-GOV", city="420100")
    with pytest.raises(ScriptError, match="positive duration"):
        ScriptedLeg("device_dark")
    with pytest.raises(ScriptError, match="unknown vehicles"):
        World(
            scenario,
            start=START,
            seed=1,
            scripts=[Script("鄂A·00000", (ScriptedLeg("stay", duration_s=5),))],
        )
    bare = next(v.plate for v in scenario.vehicles if v.device is None)
    with pytest.raises(ScriptError, match="without a device"):
        World(scenario, start=START, seed=1, scripts=[Script(bare, (ScriptedLeg("stay", duration_s=5),))])
    with pytest.raises(ScriptError, match="unknown place"):
        plate = wuhan_car(scenario)
        World(
            scenario,
            start=START,
            seed=1,
            scripts=[Script(plate, (ScriptedLeg("drive_to", place="PL-NOPE"),))],
        )
    scripts = parse_scripts(
        {
            "scripts": [
                {
                    "plate": "鄂A·1",
                    "legs": [
                        {
                            "action": "drive_to",
                            "start_offset_s": 60,
                            "coords": [114.1, 30.2],
                            "speed_kmh": 90,
                        },
                        {
                            "action": "device_dark",
                            "start_offset_s": 90,
                            "duration_s": 60,
                            "backfill": True,
                        },
                    ],
                }
            ]
        }
    )
    assert scripts[0].legs[0].coords == (114.1, 30.2) and scripts[0].legs[1].backfill


def test_sim_clock_scales_wall_time():
    wall = [100.0]
    clock = SimClock(30.0, wall=lambda: wall[0])
    wall[0] = 102.0
    assert clock.now_s() == pytest.approx(60.0)
    assert clock.wall_delay_s(90.0) == pytest.approx(1.0)
