"""Which local days an evaluation covers, and the VehicleDay of each built from what the
worker loaded for all of them at once. Pure code.

- The days: from the day on which the trip or stop containing the oldest changed time began
  (a trip 23:50–00:30 belongs to the day before) to the day of the newest fix, at most
  MAX_DAYS_BACK days before the latter.
- The horizon: the newest fix or now, whichever is later. A day is judged on what is known
  now: a silent terminal (R7), the check time of R4 passing while the car sleeps — the same
  horizon whether positions or the clock woke the worker, so verdicts do not flip between
  the two. It never passes now + FUTURE_TOLERANCE_MS: a position stamped later than that (a
  terminal's clock far ahead; ingest takes device times up to a day ahead) is not known yet
  (`known_until_ms`) and waits, unfolded, until its time comes.
- Per day: trips, stops and episodes overlapping the day ± 6 h, orders overlapping it ± 1 day,
  the seals and duty registrations around it, the parameters in force at the end of the day
  (or now, for today).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone

from dispatch.calendar import is_working_day
from supervision.model import (
    Episode,
    Fix,
    OrderView,
    StopView,
    TripView,
    VehicleDay,
    VehicleProfile,
)
from supervision.params import ParamRow, resolve_all
from supervision.rules import common
from supervision.rules.r10_mileage import order_start
from supervision.zones import Zone, ZoneIndex

CST = timezone(timedelta(hours=8))
DAY_MS = 86_400_000
MARGIN_MS = 6 * 3_600_000          # trips, stops, episodes: the day ± 6 h
ORDER_MARGIN_MS = DAY_MS           # orders: the day ± 1 day
MAX_DAYS_BACK = 7
FUTURE_TOLERANCE_MS = 5 * 60_000   # device clocks a little ahead of ours still count


def local_day(ts_ms: int) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, CST).date()


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=CST).timestamp() * 1000)


def days_to_evaluate(first_ms: int, newest_ms: int, max_back: int = MAX_DAYS_BACK) -> list[date]:
    last = local_day(newest_ms)
    first = max(min(local_day(first_ms), last), last - timedelta(days=max_back))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def known_until_ms(now_ms: int) -> int:
    """The newest device time a pass takes in: positions stamped later wait for their time."""
    return now_ms + FUTURE_TOLERANCE_MS


def horizon_ms(newest_ms: int | None, now_ms: int) -> int:
    if newest_ms is None:
        return now_ms
    return min(max(newest_ms, now_ms), known_until_ms(now_ms))


def load_window(days: Sequence[date]) -> tuple[int, int]:
    """What to load for these days: trips, stops and episodes of [lo, hi)."""
    return day_start_ms(days[0]) - MARGIN_MS, day_start_ms(days[-1]) + DAY_MS + MARGIN_MS


@dataclass(frozen=True)
class Loaded:
    """What the worker read for a run of days (each day takes its part)."""
    trips: tuple[TripView, ...] = ()
    stops: tuple[StopView, ...] = ()
    episodes: tuple[Episode, ...] = ()
    orders: tuple[OrderView, ...] = ()
    seals: tuple[tuple[int, int], ...] = ()
    duty: tuple[tuple[int, int], ...] = ()
    param_rows: tuple[ParamRow, ...] = ()
    zones: dict[int, Zone] = field(default_factory=dict)


def _overlaps(start: int, end: int | None, lo: int, hi: int) -> bool:
    return start < hi and (end is None or end > lo)


def vehicle_day(vehicle: VehicleProfile, day: date, horizon: int, loaded: Loaded,
                index: ZoneIndex, last_fix: Fix | None) -> VehicleDay:
    start = day_start_ms(day)
    end = start + DAY_MS
    lo, hi = start - MARGIN_MS, end + MARGIN_MS
    o_lo, o_hi = start - ORDER_MARGIN_MS, end + ORDER_MARGIN_MS
    orders = tuple(o for o in loaded.orders if _order_overlaps(o, o_lo, o_hi))
    vehicle_id, org_path = vehicle.id, vehicle.org_path
    return VehicleDay(
        vehicle=vehicle, day=day, day_start_ms=start, day_end_ms=end, horizon_ms=horizon,
        working_day=is_working_day(day),
        tomorrow_working_day=is_working_day(day + timedelta(days=1)),
        seals=tuple(s for s in loaded.seals if s[0] < o_hi and s[1] > o_lo),
        duty=tuple(s for s in loaded.duty if s[0] < o_hi and s[1] > o_lo),
        trips=tuple(t for t in loaded.trips if _overlaps(t.start_ms, t.end_ms, lo, hi)),
        stops=tuple(s for s in loaded.stops if _overlaps(s.start_ms, s.end_ms, lo, hi)),
        episodes=tuple(e for e in loaded.episodes if _overlaps(e.start_ms, e.end_ms, lo, hi)),
        orders=orders, zones=loaded.zones,
        # the zones binding this car (its own binding and its owner's org subtree); deleted
        # ones included: the rules count each only before its deletion (zones.retired)
        places_of=lambda p: index.containing(p[0], p[1], None, vehicle_id, org_path),
        last_fix=last_fix,
        params=resolve_all(vehicle.org_path, loaded.param_rows, min(horizon, end)),
    )


def _order_overlaps(o: OrderView, lo: int, hi: int) -> bool:
    start = min(o.planned_start_ms, o.departed_ms if o.departed_ms is not None else o.planned_start_ms)
    end = max(o.planned_end_ms, o.returned_ms if o.returned_ms is not None else o.planned_end_ms)
    ongoing = o.departed_ms is not None and o.returned_ms is None
    return start < hi and (end > lo or ongoing)


def orders_to_measure(ctx: VehicleDay) -> list[tuple[OrderView, int, int]]:
    """The orders R13 judges on this day (finished, begun on it), with the window in which
    the car's nearest approach to their destinations counts (VehicleDay.order_nearest_m)."""
    found = []
    for order in ctx.orders:
        if order.state not in common.COVERING_STATES or not order.destinations:
            continue
        if not common.owned(ctx, order_start(order)) or not common.order_finished(ctx, order):
            continue
        lo, hi = common.order_window(ctx, order)
        found.append((order, lo, hi))
    return found


def with_measures(ctx: VehicleDay, nearest: dict[int, tuple[float | None, ...]],
                  night_stops: tuple[tuple[int, float, float], ...]) -> VehicleDay:
    return replace(ctx, order_nearest_m=nearest, recent_night_stops=night_stops)
