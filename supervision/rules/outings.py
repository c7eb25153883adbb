"""Outings (出车): what R1 and R2 judge. Pure code.

An outing is the run of trips from the one that leaves the car's designated lot (its start
within the lot's tolerance, or inside the lot's zone visit) through every following trip until
one ends back at the lot — a car that goes lot → somewhere, parks, and comes back made one
outing of two legs, not two outings. A run also ends where the car stayed parked for
`BREAK_MS` or more (6 h, the margin the worker loads around a day): the next trip begins a new
run. That keeps every day's view of a run the same: a trip owned by a day always has its
predecessor of the same run loaded, so two days never judge one run twice.

Runs that do not start at the lot (the car was parked elsewhere for more than 6 h, e.g. at
home overnight) are outings too, with `from_lot` False: R1 (a trip that *leaves the lot*)
passes them by, R2 judges them. A car without a lot (or a leased car, watched per order) has
no outings: each trip is its own, `from_lot` None, judged as before.

An outing belongs to the local day its first trip starts on and is keyed by that trip
(`trip_key`): late data extending it keeps the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supervision.model import StopView, TripView, VehicleDay
from supervision.rules import common as c

BREAK_MS = 6 * c.HOUR_MS            # = supervision/day_context.MARGIN_MS


@dataclass(frozen=True)
class Outing:
    legs: tuple[TripView, ...]
    from_lot: bool | None           # its first trip left the lot; None: the car has no lot
    back_at_lot: bool               # its last trip ended at the lot

    @property
    def first(self) -> TripView:
        return self.legs[0]

    @property
    def last(self) -> TripView:
        return self.legs[-1]

    @property
    def start_ms(self) -> int:
        return self.legs[0].start_ms

    @property
    def end_ms(self) -> int | None:
        return self.legs[-1].end_ms

    @property
    def ongoing(self) -> bool:
        return self.legs[-1].end_ms is None


_CACHE: dict[int, tuple[VehicleDay, list[Outing]]] = {}


def outings(ctx: VehicleDay) -> list[Outing]:
    """The car's outings over the loaded trips, in time order (memoised per context)."""
    hit = _CACHE.get(id(ctx))
    if hit is not None and hit[0] is ctx:
        return hit[1]
    found = _build(ctx)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[id(ctx)] = (ctx, found)
    return found


def owned(ctx: VehicleDay) -> list[Outing]:
    """The outings the evaluated day judges (their first trip starts on it)."""
    return [o for o in outings(ctx) if c.owned(ctx, o.start_ms)]


def starting_at(ctx: VehicleDay, start_ms: int) -> Outing | None:
    return next((o for o in outings(ctx) if o.start_ms == start_ms), None)


def per_trip(ctx: VehicleDay) -> bool:
    """No outings for this car: each trip is judged on its own."""
    return c.lot(ctx) is None or ctx.vehicle.source == "leased"


def at_lot(ctx: VehicleDay, at: tuple[float, float], ts_ms: int) -> bool:
    return c.in_lot(ctx, at) or c.lot_visit_at(ctx, ts_ms)


def ends_at_lot(ctx: VehicleDay, trip: TripView, next_start_ms: int | None) -> bool:
    """The trip ended in the lot: its end point, or the lot's visit as the car settled there
    (before the next trip began)."""
    if trip.end_ms is None:
        return False
    settle_ms = c.SETTLE_MS if next_start_ms is None \
        else max(0, min(c.SETTLE_MS, next_start_ms - trip.end_ms))
    return c.in_lot(ctx, trip.end) or c.lot_visit_at(ctx, trip.end_ms, settle_ms)


def leaves_lot(ctx: VehicleDay, trip: TripView, previous: TripView | None) -> bool:
    """The trip left the lot: it starts there, the previous trip ended there, or the car was
    parked there just before. Without an ACC wire a trip starts at its first minute of speed,
    in town traffic hundreds of metres out of the lot: where it stood tells."""
    if at_lot(ctx, trip.start, trip.start_ms):
        return True
    if previous is not None and ends_at_lot(ctx, previous, trip.start_ms):
        return True
    before = _stop_before(ctx, trip.start_ms)
    return before is not None and c.parked_in_lot(ctx, before)


def _stop_before(ctx: VehicleDay, start_ms: int) -> StopView | None:
    """The stop the trip ended (it ran until the trip began, give or take the detector's
    back-dating)."""
    candidates = [s for s in ctx.stops if s.start_ms < start_ms
                  and (s.end_ms is None or s.end_ms >= start_ms - c.SETTLE_MS)]
    return max(candidates, key=lambda s: s.start_ms, default=None)


def _build(ctx: VehicleDay) -> list[Outing]:
    trips = sorted(ctx.trips, key=lambda t: t.start_ms)
    if per_trip(ctx):
        return [Outing((t,), None, False) for t in trips]
    runs: list[list[TripView]] = []
    leaving: list[bool] = []
    previous: TripView | None = None
    for trip in trips:
        leaves = leaves_lot(ctx, trip, previous)
        joined = (previous is not None and runs and not leaves
                  and previous.end_ms is not None
                  and trip.start_ms - previous.end_ms < BREAK_MS)
        if joined:
            runs[-1].append(trip)
        else:
            runs.append([trip])
            leaving.append(leaves)
        previous = trip
    found = []
    for index, run in enumerate(runs):
        following = runs[index + 1][0].start_ms if index + 1 < len(runs) else None
        found.append(Outing(tuple(run), leaving[index], ends_at_lot(ctx, run[-1], following)))
    return found


def stops(ctx: VehicleDay, outing: Outing) -> list[StopView]:
    """Where the car stood between its legs, and after the last one unless it is back at the
    lot or still driving (a stop row, else the pause at the leg's end point)."""
    found = []
    legs = outing.legs
    for leg, following in zip(legs, legs[1:], strict=False):
        found.append(_between(ctx, leg, following.start_ms))
    if not outing.back_at_lot and not outing.ongoing:
        found.append(_between(ctx, outing.last, None))
    return found


def _between(ctx: VehicleDay, leg: TripView, next_start_ms: int | None) -> StopView:
    assert leg.end_ms is not None
    candidates = [s for s in ctx.stops if s.start_ms >= leg.end_ms - c.MINUTE_MS
                  and (next_start_ms is None or s.start_ms < next_start_ms)]
    stop = min(candidates, key=lambda s: s.start_ms, default=None)
    if stop is not None:
        return stop
    duration = 0 if next_start_ms is None else (next_start_ms - leg.end_ms) // 1000
    return StopView(leg.end_ms, next_start_ms, leg.end, duration)


def service_stop(ctx: VehicleDay, stop: StopView, max_s: int) -> bool:
    """A short stop at a 定点 service site (fuel, repair, wash…)."""
    return c.service_site(ctx, stop.at, stop.start_ms) is not None \
        and c.stop_seconds(ctx, stop) <= max_s


def summary(ctx: VehicleDay, outing: Outing) -> dict[str, Any]:
    """Figures of the whole outing: km, driving time, each leg and each stop."""
    legs = outing.legs
    odometer = [t.odo_km for t in legs]
    max_s = int(c.values(ctx, "R1")["service_stop_max_s"])
    return {
        "km": c.rounded(sum(t.dist_m for t in legs) / 1000.0, 2),
        "odometer_km": None if any(o is None for o in odometer)
        else c.rounded(sum(o for o in odometer if o is not None), 2),
        "duration_s": sum(c.trip_seconds(ctx, t) for t in legs),
        "max_speed_kmh": c.rounded(max(t.max_speed_kmh for t in legs)),
        "start": c.local_iso(outing.start_ms), "end": c.local_iso(outing.end_ms),
        "from": list(outing.first.start), "to": list(outing.last.end),
        "ongoing": outing.ongoing, "back_at_lot": outing.back_at_lot,
        "legs": [{"start": c.local_iso(t.start_ms), "end": c.local_iso(t.end_ms),
                  "from": list(t.start), "to": list(t.end),
                  "km": c.rounded(t.dist_m / 1000.0, 2),
                  "duration_s": c.trip_seconds(ctx, t)} for t in legs],
        "stops": [{"since": c.local_iso(s.start_ms), "until": c.local_iso(s.end_ms),
                   "at": list(s.at), "duration_s": c.stop_seconds(ctx, s),
                   "service_site": service_stop(ctx, s, max_s)}
                  for s in stops(ctx, outing)],
    }
