"""Douglas–Peucker simplification of a GNSS track, to a tolerance or to a point budget. Pure.

Distances are metric: each chord is measured in a local equirectangular projection centred on
the chord's mean latitude (x = R·Δλ·cos φ₀, y = R·Δφ), which at the Wuhan circle's latitudes
(~30°) stays within a few parts per million of the great circle over a city-sized chord. A
point's deviation is its distance to the chord as a *segment* (not the infinite line), so a car
that drives out and back along one road keeps its far end.

Douglas–Peucker splits a run of points at the one farthest from its chord while that distance
exceeds the tolerance ε. Where it splits does not depend on ε, so every point has an
*importance*: the smallest deviation along its chain of splits. DP(ε) keeps exactly the points
whose importance exceeds ε, and a larger ε keeps a subset of what a smaller one keeps. To fit a
budget, the splits are taken in order of importance from a heap (a child is never more
important than its parent) until the budget is spent; ε is the importance of the first split
not taken. The result is exactly DP(ε), every dropped point lies within ε of the returned line,
and ε never decreases as the budget shrinks.

Points given in `keep` (trip starts and ends, stops) are never dropped: the track is cut there
and each piece is simplified with the same ε.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from fleet.geodesy import EARTH_RADIUS_M

# Splits this close to their chord are not worth a point: below GNSS resolution, so that a
# straight run of fixes collapses to its ends however large the budget.
MIN_TOLERANCE_M = 0.01


@dataclass(frozen=True)
class Simplified:
    indices: list[int]  # kept points, ascending, always including the first and the last
    tolerance_m: float  # every dropped point lies within this of the returned polyline


class _Track:
    """Coordinates in radians, and the farthest point of a run from its chord."""

    # Runs shorter than this are measured in plain Python: numpy's per-call cost would
    # dominate, and most runs near the end of a simplification are short.
    SHORT_RUN = 40

    def __init__(self, lat_deg: Sequence[float], lon_deg: Sequence[float]) -> None:
        self.phi = np.radians(np.asarray(lat_deg, dtype=np.float64))
        self.lam = np.radians(np.asarray(lon_deg, dtype=np.float64))
        if self.phi.shape != self.lam.shape or self.phi.ndim != 1:
            raise ValueError("lat and lon must be sequences of the same length")
        self.phi_list: list[float] = self.phi.tolist()
        self.lam_list: list[float] = self.lam.tolist()

    def farthest(self, i: int, j: int) -> tuple[int, float]:
        """(index, distance in metres) of the point of (i, j) farthest from chord i–j."""
        phi, lam = self.phi_list, self.lam_list
        kx = EARTH_RADIUS_M * math.cos((phi[i] + phi[j]) / 2)
        bx = (lam[j] - lam[i]) * kx
        by = (phi[j] - phi[i]) * EARTH_RADIUS_M
        chord2 = bx * bx + by * by
        if j - i <= self.SHORT_RUN:
            return self._farthest_short(i, j, kx, bx, by, chord2)
        px = (self.lam[i + 1 : j] - lam[i]) * kx
        py = (self.phi[i + 1 : j] - phi[i]) * EARTH_RADIUS_M
        if chord2 > 0.0:
            t = (px * bx + py * by) / chord2
            np.maximum(t, 0.0, out=t)
            np.minimum(t, 1.0, out=t)
            px -= t * bx
            py -= t * by
        d2 = px * px + py * py
        k = int(d2.argmax())
        return i + 1 + k, math.sqrt(d2[k])

    def _farthest_short(
        self, i: int, j: int, kx: float, bx: float, by: float, chord2: float
    ) -> tuple[int, float]:
        phi, lam = self.phi_list, self.lam_list
        phi0, lam0 = phi[i], lam[i]
        best_k, best_d2 = i + 1, -1.0
        for k in range(i + 1, j):
            px = (lam[k] - lam0) * kx
            py = (phi[k] - phi0) * EARTH_RADIUS_M
            if chord2 > 0.0:
                t = (px * bx + py * by) / chord2
                t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
                px -= t * bx
                py -= t * by
            d2 = px * px + py * py
            if d2 > best_d2:
                best_k, best_d2 = k, d2
        return best_k, math.sqrt(best_d2)


def _walk(
    track: _Track, n: int, keep: Iterable[int], max_new: int | float, floor_m: float
) -> Simplified:
    """Takes up to `max_new` splits by importance, none at or below `floor_m`."""
    fixed = sorted({0, n - 1, *(k for k in keep if 0 <= k < n)})
    heap: list[tuple[float, int, int, int]] = []

    def push(i: int, j: int, parent_importance: float) -> None:
        if j - i >= 2:
            k, dist_m = track.farthest(i, j)
            heapq.heappush(heap, (-min(dist_m, parent_importance), i, j, k))

    for i, j in zip(fixed, fixed[1:], strict=False):
        push(i, j, float("inf"))
    taken: list[tuple[float, int]] = []
    while heap and len(taken) < max_new and -heap[0][0] > floor_m:
        neg_importance, i, j, k = heapq.heappop(heap)
        taken.append((-neg_importance, k))
        push(i, k, -neg_importance)
        push(k, j, -neg_importance)
    tolerance_m = -heap[0][0] if heap else 0.0
    # A split as important as the first one not taken is tied with it: DP(ε) drops both.
    kept = [k for importance, k in taken if importance > tolerance_m]
    return Simplified(sorted(fixed + kept), max(tolerance_m, 0.0))


def simplify_to_budget(
    lat_deg: Sequence[float],
    lon_deg: Sequence[float],
    max_points: int,
    *,
    keep: Iterable[int] = (),
    min_tolerance_m: float = MIN_TOLERANCE_M,
) -> Simplified:
    """The Douglas–Peucker simplification with the smallest ε that fits `max_points`.

    The points in `keep` and both ends are always returned, even when they alone exceed
    the budget. A track that already fits is returned whole with tolerance 0.
    """
    if max_points < 2:
        raise ValueError("max_points must be at least 2")
    track = _Track(lat_deg, lon_deg)
    n = len(track.phi)
    if n <= max_points:
        return Simplified(list(range(n)), 0.0)
    keep = list(keep)
    fixed_count = len({0, n - 1, *(k for k in keep if 0 <= k < n)})
    return _walk(track, n, keep, max(0, max_points - fixed_count), min_tolerance_m)


def douglas_peucker(
    lat_deg: Sequence[float],
    lon_deg: Sequence[float],
    tolerance_m: float,
    *,
    keep: Iterable[int] = (),
) -> list[int]:
    """Indices kept by the classic Douglas–Peucker with tolerance ε = `tolerance_m`."""
    track = _Track(lat_deg, lon_deg)
    n = len(track.phi)
    if n <= 2:
        return list(range(n))
    return _walk(track, n, keep, float("inf"), tolerance_m).indices
