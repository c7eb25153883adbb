"""Douglas–Peucker to a tolerance and to a point budget (web/simplify.py). Pure: no servers.

(Kept beside the track API tests; nothing here touches PostgreSQL.)"""

from __future__ import annotations

import math
import random

import pytest

from web.simplify import douglas_peucker, simplify_to_budget

M_PER_DEG_LAT = 111_195.0  # the mean-sphere degree: R·π/180


def walk(n: int, seed: int, *, lat0: float = 30.5, step_m: float = 15.0):
    """A car's wandering path near latitude 30° (lat, lon lists)."""
    rng = random.Random(seed)
    lats, lons = [lat0], [114.3]
    heading = 0.0
    for _ in range(n - 1):
        heading += rng.gauss(0, 0.25)
        north, east = math.cos(heading) * step_m, math.sin(heading) * step_m
        lats.append(lats[-1] + north / M_PER_DEG_LAT)
        lons.append(lons[-1] + east / (M_PER_DEG_LAT * math.cos(math.radians(lats[-1]))))
    return lats, lons


def segment_gap_m(p, a, b) -> float:
    """Distance from p to segment a–b in metres: a projection of its own (not the module's)."""
    kx = M_PER_DEG_LAT * math.cos(math.radians((a[0] + b[0]) / 2))
    px, py = (p[1] - a[1]) * kx, (p[0] - a[0]) * M_PER_DEG_LAT
    bx, by = (b[1] - a[1]) * kx, (b[0] - a[0]) * M_PER_DEG_LAT
    chord2 = bx * bx + by * by
    t = 0.0 if chord2 == 0 else max(0.0, min(1.0, (px * bx + py * by) / chord2))
    return math.hypot(px - t * bx, py - t * by)


def worst_dropped_m(lats, lons, kept: list[int]) -> float:
    worst = 0.0
    for a, b in zip(kept, kept[1:], strict=False):
        for k in range(a + 1, b):
            gap = segment_gap_m((lats[k], lons[k]), (lats[a], lons[a]), (lats[b], lons[b]))
            worst = max(worst, gap)
    return worst


def test_a_straight_line_collapses_to_its_ends():
    lats = [30.0 + i * 1e-4 for i in range(200)]
    lons = [114.0 + i * 2e-4 for i in range(200)]
    assert douglas_peucker(lats, lons, 1.0) == [0, 199]
    simplified = simplify_to_budget(lats, lons, 50)
    assert simplified.indices == [0, 199]
    assert simplified.tolerance_m < 0.01


def test_the_corner_of_an_l_is_kept():
    # 2 km east, then 1 km north, a fix every 10 m.
    lats = [30.5] * 201 + [30.5 + i * 10 / M_PER_DEG_LAT for i in range(1, 101)]
    kx = M_PER_DEG_LAT * math.cos(math.radians(30.5))
    lons = [114.3 + i * 10 / kx for i in range(201)] + [114.3 + 2000 / kx] * 100
    assert douglas_peucker(lats, lons, 5.0) == [0, 200, 300]
    simplified = simplify_to_budget(lats, lons, 3)
    assert simplified.indices == [0, 200, 300]
    assert simplified.tolerance_m < 0.01  # nothing else is off the two legs


def test_distances_are_metres_at_latitude_30():
    # A fix 100 m east of a north–south chord, and one 100 m north of an east–west chord.
    kx = M_PER_DEG_LAT * math.cos(math.radians(30.0))
    ns = ([30.0, 30.005, 30.01], [114.0, 114.0 + 100 / kx, 114.0])
    ew = ([30.0, 30.0 + 100 / M_PER_DEG_LAT, 30.0], [114.0, 114.005, 114.01])
    for lats, lons in (ns, ew):
        assert douglas_peucker(lats, lons, 99.0) == [0, 1, 2]
        assert douglas_peucker(lats, lons, 101.0) == [0, 2]


def test_an_out_and_back_trip_keeps_its_far_end():
    # Out 1 km east and back: the chord is a point; the far end is 1 km from it.
    kx = M_PER_DEG_LAT * math.cos(math.radians(30.5))
    east = [i * 50 for i in range(21)] + [1000 - i * 50 for i in range(1, 21)]
    lats = [30.5] * len(east)
    lons = [114.3 + e / kx for e in east]
    assert 20 in douglas_peucker(lats, lons, 10.0)
    assert simplify_to_budget(lats, lons, 3).indices == [0, 20, 40]


@pytest.mark.parametrize("budget", [2, 10, 57, 300, 1999])
def test_the_budget_is_honoured_and_the_tolerance_is_a_true_bound(budget):
    lats, lons = walk(2000, seed=budget)
    simplified = simplify_to_budget(lats, lons, budget)
    kept = simplified.indices
    assert len(kept) <= budget
    assert kept[0] == 0 and kept[-1] == 1999 and kept == sorted(set(kept))
    assert worst_dropped_m(lats, lons, kept) <= simplified.tolerance_m + 1e-6
    # The result is exactly Douglas–Peucker with the tolerance it states.
    assert kept == douglas_peucker(lats, lons, simplified.tolerance_m)


def test_the_tolerance_never_shrinks_as_the_budget_does():
    lats, lons = walk(3000, seed=3)
    budgets = [2, 3, 5, 8, 20, 50, 120, 400, 1000, 2999]
    tolerances = [simplify_to_budget(lats, lons, b).tolerance_m for b in budgets]
    assert tolerances == sorted(tolerances, reverse=True)
    assert tolerances[-1] > 0 and tolerances[0] > tolerances[-1]
    # and a smaller ε keeps a superset of what a larger one keeps
    coarse = set(douglas_peucker(lats, lons, 50.0))
    fine = set(douglas_peucker(lats, lons, 5.0))
    assert coarse < fine


def test_kept_points_survive_any_budget():
    lats, lons = walk(1000, seed=11)
    keep = {137, 138, 500, 873}
    for budget in (2, 6, 40):
        simplified = simplify_to_budget(lats, lons, budget, keep=keep)
        assert keep <= set(simplified.indices)
        # Kept points beyond the budget are returned all the same, and nothing else.
        assert len(simplified.indices) <= max(budget, len(keep) + 2)
        assert worst_dropped_m(lats, lons, simplified.indices) <= simplified.tolerance_m + 1e-6


def test_a_track_within_the_budget_is_returned_whole():
    lats, lons = walk(50, seed=1)
    simplified = simplify_to_budget(lats, lons, 50)
    assert simplified.indices == list(range(50)) and simplified.tolerance_m == 0


def test_tiny_inputs():
    assert simplify_to_budget([], [], 2).indices == []
    assert simplify_to_budget([30.0], [114.0], 2).indices == [0]
    assert douglas_peucker([30.0, 30.1], [114.0, 114.1], 1.0) == [0, 1]
    # Repeated fixes (a car standing still) are no trouble.
    assert simplify_to_budget([30.0] * 10, [114.0] * 10, 3).indices == [0, 9]
    with pytest.raises(ValueError):
        simplify_to_budget([30.0, 30.1], [114.0, 114.1], 1)
    with pytest.raises(ValueError):
        simplify_to_budget([30.0, 30.1], [114.0], 5)
