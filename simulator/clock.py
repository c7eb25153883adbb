"""The simulated clock: sim_time = start + (wall - wall_start) x speedup."""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    """Simulated seconds since the start, driven by a monotonic wall clock.

    ``wall`` is injectable so tests need no sleeping.
    """

    def __init__(self, speedup: float = 1.0, *, wall: Callable[[], float] = time.monotonic) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self.speedup = speedup
        self._wall = wall
        self.wall_start = wall()

    def elapsed_wall_s(self) -> float:
        return self._wall() - self.wall_start

    def now_s(self) -> float:
        """Simulated seconds since the start."""
        return self.elapsed_wall_s() * self.speedup

    def wall_delay_s(self, sim_t_s: float) -> float:
        """Wall seconds until the simulated time sim_t_s (negative when already past)."""
        return (sim_t_s - self.now_s()) / self.speedup
