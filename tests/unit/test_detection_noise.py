"""The noise model of the labelled days (simulator/days/noise.py): parked jitter of 5–30 m,
single 150–250 m spikes, gaps shorter than R7's threshold, exact duplicates, late 盲区补报
batches, clock noise — seeded, and never losing what it does not mean to lose."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime

import pytest

from fleet.scenario.geo import distance_m
from fleet.scenario.load import load_scenario
from simulator.days.builder import messages_of
from simulator.days.catalogue import one_of_each
from simulator.days.kit import Kit
from simulator.days.noise import QUIET, NoiseSettings, apply_noise
from simulator.days.offline import FILTERS, World, received

NOW = date(2026, 12, 1)


@pytest.fixture(scope="module")
def kit() -> Kit:
    return Kit(load_scenario())


@pytest.fixture(scope="module")
def day(kit):
    return one_of_each(kit, ["R1.covered"], seed=11, today=NOW)[0]


@pytest.fixture(scope="module")
def messages(kit, day):
    return messages_of(kit, day)


def only(**changes) -> NoiseSettings:
    return replace(QUIET, **changes)


def items(deliveries) -> list[dict]:
    return [p for d in deliveries for p in d.items]


def true_position(messages) -> dict:
    return {m.payload["seq"]: (m.payload["lon"], m.payload["lat"]) for m in messages}


def test_quiet_noise_sends_exactly_what_the_terminal_had(messages):
    out = apply_noise(messages, "x", QUIET)
    assert items(out) == [m.payload for m in messages]
    assert all(len(d.items) == 1 for d in out)


def test_the_same_seed_gives_the_same_noise_and_another_seed_other_noise(messages):
    one = [d.payload for d in apply_noise(messages, "a")]
    assert one == [d.payload for d in apply_noise(messages, "a")]
    assert one != [d.payload for d in apply_noise(messages, "b")]


def test_parked_fixes_wander_5_to_30_m_around_where_the_car_stands(messages):
    truth = true_position(messages)
    out = items(apply_noise(messages, "j", only(parked_jitter_m=(5.0, 30.0))))
    parked = [distance_m(truth[p["seq"]], (p["lon"], p["lat"])) for p in out if not p["acc"]]
    moving = [distance_m(truth[p["seq"]], (p["lon"], p["lat"])) for p in out if p["acc"]]
    assert max(parked) <= 30.5                         # the radius drawn per stop, at most 30 m
    assert sum(d > 3 for d in parked) > len(parked) / 2
    assert max(moving) < 1.0                           # driving noise is another setting


def test_a_spike_throws_a_single_fix_150_to_250_m_and_keeps_its_speed(messages):
    truth = true_position(messages)
    speeds = {m.payload["seq"]: m.payload["speed_kmh"] for m in messages}
    out = items(apply_noise(messages, "s", only(spike_share=1.0)))
    thrown = [distance_m(truth[p["seq"]], (p["lon"], p["lat"])) for p in out]
    assert min(thrown) >= 149.5 and max(thrown) <= 250.5
    assert all(p["speed_kmh"] == speeds[p["seq"]] for p in out)
    few = items(apply_noise(messages, "s", only(spike_share=0.002)))
    moved = sum(distance_m(truth[p["seq"]], (p["lon"], p["lat"])) > 100 for p in few)
    assert 0 < moved < len(few) / 100                  # occasional


def test_gaps_drop_stretches_shorter_than_the_r7_threshold(messages):
    out = items(apply_noise(messages, "g", only(gaps_per_hour=6.0)))
    times = sorted(datetime.fromisoformat(p["ts"]).timestamp() for p in out)
    steps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(out) < len(messages)
    assert max(steps) > 30                             # some gaps
    assert max(steps) < 150 + 2 * 60 + 1               # never near R7's 10 min


def test_duplicates_repeat_a_message_exactly(messages):
    out = items(apply_noise(messages, "d", only(duplicate_share=0.1)))
    keys = Counter((p["ts"], p["seq"]) for p in out)
    repeated = [k for k, n in keys.items() if n > 1]
    assert len(out) == len(messages) + len(repeated)
    assert 0.05 < len(repeated) / len(messages) < 0.15
    by_key = {}
    for p in out:
        assert by_key.setdefault((p["ts"], p["seq"]), p) == p


def test_a_late_burst_is_one_message_of_older_positions_sent_later(messages):
    out = apply_noise(messages, "b", only(bursts_per_day=6.0))
    newest, late = "", []
    for d in out:
        first = min(p["ts"] for p in d.items)
        if first < newest:
            late.append(d)
        newest = max(newest, max(p["ts"] for p in d.items))
    assert late and any(len(d.items) > 5 for d in late)
    assert len(items(out)) == len(messages)            # late, not lost


def test_clock_noise_stays_under_a_second(messages):
    out = items(apply_noise(messages, "c", only(clock_ms=800)))
    true_ts = {m.payload["seq"]: datetime.fromisoformat(m.payload["ts"]) for m in messages}
    offsets = [abs((datetime.fromisoformat(p["ts"]) - true_ts[p["seq"]]).total_seconds())
               for p in out]
    assert max(offsets) <= 0.8 and sum(o > 0 for o in offsets) > len(out) / 2


def test_gateway_batches_hold_one_to_ten_positions(messages):
    out = apply_noise(messages, "x", only(batch=(1, 10)))
    assert {len(d.items) for d in out} <= set(range(1, 11)) and max(len(d.items) for d in out) > 1


def test_the_noisy_day_goes_through_the_real_decoder_and_filters(kit, day):
    """Spikes thrown at 5 s reports imply ~150 km/h: under the jump filter's 250, stored like
    real data; a burst of duplicates is not stored twice."""
    world = World(kit)
    noisy = replace(NoiseSettings(), spike_share=0.02, duplicate_share=0.05)
    positions, rejected = received(world, day, noisy, FILTERS, int(datetime(2026, 12, 1).timestamp() * 1000))
    keys = [(p.ts_ms, p.seq) for p in positions]
    assert len(keys) == len(set(keys))
    assert rejected.get("duplicate", 0) > 0
    assert set(rejected) <= {"duplicate", "impossible_jump"}
    assert len(positions) > 0.9 * len(messages_of(kit, day))
