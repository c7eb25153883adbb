"""What the rules share: local time of day, coverage of a trip by an order (domain.md §6,
a.2), the night window, the designated lot with its tolerance, known places (定点 sites, order
waypoints), duty, and the finding keys. Pure code.

Times are epoch ms of device time. The local day is Asia/Shanghai (UTC+8 all year, no DST), so
a local time of day is the day's start plus minutes. A trip, a stop or an episode belongs to
the local day it starts on: re-evaluating a day finds the same ones again under the same keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from fleet.geodesy import haversine_m
from supervision import zones as zones_mod
from supervision.model import Episode, OrderView, StopView, TripView, VehicleDay
from supervision.params import values_for

if TYPE_CHECKING:
    from supervision.zones import Zone

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
CST = timezone(timedelta(hours=8))

# Orders that hold the car (a.2: dispatched, in progress, completed and after).
COVERING_STATES = frozenset({
    "assigned", "accepted", "departed", "at_pickup", "in_service", "service_ended", "returned",
    "disputed", "confirmed", "rated", "settled",
})
ON_THE_ROAD = frozenset({"departed", "at_pickup", "in_service", "service_ended"})
DUTY_CATEGORIES = frozenset({"law_enforcement", "emergency"})   # 执法执勤, 应急保障
SERVICE_PURPOSE = "service_site"
LOT_PURPOSE = "designated_lot"
SENSITIVE_PURPOSE = "sensitive_place"


# ---- parameters and time -------------------------------------------------------------

_VALUES: dict[tuple[int, str, str], tuple[object, dict[str, Any]]] = {}


def values(ctx: VehicleDay, rule_id: str) -> dict[str, Any]:
    """The rule's values for this vehicle (organisation's params, category overrides).
    Memoised by the identity of the RuleParams object (the rules ask for them per trip); the
    caller must not change what it gets."""
    params = ctx.params.get(rule_id)
    ident = (id(params), rule_id, ctx.vehicle.use_category)
    hit = _VALUES.get(ident)
    if hit is not None and hit[0] is params:
        return hit[1]
    merged = values_for(params, rule_id, ctx.vehicle.use_category)
    if len(_VALUES) > 4096:
        _VALUES.clear()
    _VALUES[ident] = (params, merged)
    return merged


def hhmm_min(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    return int(hours) * 60 + int(minutes or 0)


def at_time(ctx: VehicleDay, text: str, day_offset: int = 0) -> int:
    """Epoch ms of the local time `HH:MM` on the evaluated day (+ day_offset days)."""
    return ctx.day_start_ms + day_offset * DAY_MS + hhmm_min(text) * MINUTE_MS


def local_hm(ts_ms: int | None) -> str:
    if ts_ms is None:
        return "…"
    return datetime.fromtimestamp(ts_ms / 1000, CST).strftime("%H:%M")


def local_iso(ts_ms: int | None) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, CST).isoformat(timespec="seconds")


def owned(ctx: VehicleDay, ts_ms: int) -> bool:
    """Whether something starting at ts_ms belongs to the evaluated day."""
    return ctx.day_start_ms <= ts_ms < ctx.day_end_ms


def end_or_horizon(ctx: VehicleDay, end_ms: int | None) -> int:
    return ctx.horizon_ms if end_ms is None else end_ms


def overlap_ms(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def intervals_overlap_ms(a0: int, a1: int, spans: Iterable[tuple[int, int]]) -> int:
    return sum(overlap_ms(a0, a1, s, e) for s, e in spans)


def night_windows(ctx: VehicleDay) -> list[tuple[int, int]]:
    """The non-working night windows (default 20:00–06:00) on the calendar dates of working
    days that a trip starting on the evaluated day can reach: this day's early morning and
    evening if it is a working day, tomorrow's early morning if tomorrow is one."""
    v = values(ctx, "R2")
    night_from, night_to = hhmm_min(v["night_from"]), hhmm_min(v["night_to"])
    spans: list[tuple[int, int]] = []
    for offset, working in ((0, ctx.working_day), (1, ctx.tomorrow_working_day)):
        if not working:
            continue
        base = ctx.day_start_ms + offset * DAY_MS
        if night_from > night_to:                    # past midnight: two pieces on one date
            spans.append((base, base + night_to * MINUTE_MS))
            if offset == 0:
                spans.append((base + night_from * MINUTE_MS, base + DAY_MS))
        else:
            spans.append((base + night_from * MINUTE_MS, base + night_to * MINUTE_MS))
    return spans


def office_hours(ctx: VehicleDay) -> list[tuple[int, int]]:
    if not ctx.working_day:
        return []
    v = values(ctx, "R1")
    return [(at_time(ctx, v["office_from"]), at_time(ctx, v["office_to"]))]


# ---- geometry --------------------------------------------------------------------------

def dist_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres between two (lon, lat)."""
    return haversine_m(a[1], a[0], b[1], b[0])


def lot(ctx: VehicleDay) -> Zone | None:
    lot_id = ctx.vehicle.lot_zone_id
    return None if lot_id is None else ctx.zones.get(lot_id)


def lot_distance_m(ctx: VehicleDay, at: tuple[float, float]) -> float | None:
    """Metres from the designated lot's edge (0 inside); None without a lot."""
    zone = lot(ctx)
    return None if zone is None else zones_mod.distance_to_m(zone, at[0], at[1])


def in_lot(ctx: VehicleDay, at: tuple[float, float]) -> bool:
    """In the designated lot, or within its tolerance (a.2: 100 m)."""
    distance = lot_distance_m(ctx, at)
    return distance is not None and distance <= float(values(ctx, "R4")["lot_tolerance_m"])


def binds_car(ctx: VehicleDay, zone: Zone) -> bool:
    """The zone applies to this car: its binding, and its owner's scope (a zone of another
    organisation's subtree never judges the car)."""
    return zones_mod.binds(zone, ctx.vehicle.id, ctx.vehicle.org_path)


def places(ctx: VehicleDay, at: tuple[float, float], at_ms: int | None = None) -> list[Zone]:
    """The zones containing the point that apply to the car and counted at at_ms (a zone
    deleted later still counts before its deletion; None: now)."""
    return [z for z in ctx.places_of(at)
            if binds_car(ctx, z) and not zones_mod.retired(z, at_ms)]


def service_site(ctx: VehicleDay, at: tuple[float, float],
                 at_ms: int | None = None) -> Zone | None:
    """A 定点 site (fuel, repair, wash, inspection…) containing the point."""
    return next((z for z in places(ctx, at, at_ms) if z.purpose == SERVICE_PURPOSE), None)


def known_lot(ctx: VehicleDay, at: tuple[float, float], at_ms: int | None = None) -> bool:
    """The car's lot (with tolerance) or any designated lot containing the point."""
    return in_lot(ctx, at) or any(z.purpose == LOT_PURPOSE for z in places(ctx, at, at_ms))


def zone_names(found: Iterable[Zone]) -> list[dict[str, Any]]:
    return [{"id": z.id, "name_zh": z.name_zh, "name_en": z.name_en, "purpose": z.purpose,
             "category": z.category} for z in found]


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


# ---- orders ------------------------------------------------------------------------------

def coverage_spans(ctx: VehicleDay, order: OrderView) -> list[tuple[int, int]]:
    """[planned start − 30 min, planned end + 60 min] and the actual departed → returned."""
    if order.state not in COVERING_STATES:
        return []
    v = values(ctx, "R1")
    spans = [(order.planned_start_ms - int(v["cover_before_s"]) * 1000,
              order.planned_end_ms + int(v["cover_after_s"]) * 1000)]
    if order.departed_ms is not None:
        if order.returned_ms is not None:
            spans.append((order.departed_ms, order.returned_ms))
        elif order.state in ON_THE_ROAD:           # still out: covered until it is back
            spans.append((order.departed_ms, max(ctx.horizon_ms, order.departed_ms + 1)))
    return spans


def covering_orders(ctx: VehicleDay, start_ms: int, end_ms: int | None) -> list[OrderView]:
    """Orders of the car whose coverage overlaps [start, end] (a.2). An instant (start == end)
    is covered when it falls inside a span."""
    end = end_or_horizon(ctx, end_ms)
    found = []
    for order in ctx.orders:
        for s, e in coverage_spans(ctx, order):
            if (overlap_ms(start_ms, end, s, e) > 0) or (start_ms == end and s <= start_ms <= e):
                found.append(order)
                break
    return sorted(found, key=lambda o: o.id)


def order_window(ctx: VehicleDay, order: OrderView) -> tuple[int, int]:
    """Where the order's own driving is: departed → returned when known, else the planned
    window with the coverage margins."""
    v = values(ctx, "R1")
    start = order.departed_ms if order.departed_ms is not None else (
        order.planned_start_ms - int(v["cover_before_s"]) * 1000)
    if order.returned_ms is not None:
        end = order.returned_ms
    else:
        end = order.planned_end_ms + int(v["cover_after_s"]) * 1000
        if order.departed_ms is not None and order.state in ON_THE_ROAD:
            end = max(end, ctx.horizon_ms)
    return start, max(start, end)


def order_finished(ctx: VehicleDay, order: OrderView) -> bool:
    """Returned, or (not on the road any more) past its planned end plus the margin."""
    v = values(ctx, "R1")
    if order.returned_ms is not None:
        return True
    if order.departed_ms is not None and order.state in ON_THE_ROAD:
        return False
    return ctx.horizon_ms >= order.planned_end_ms + int(v["cover_after_s"]) * 1000


def trips_of_order(ctx: VehicleDay, order: OrderView) -> list[TripView]:
    start, end = order_window(ctx, order)
    return [t for t in ctx.trips if overlap_ms(t.start_ms, end_or_horizon(ctx, t.end_ms),
                                               start, end) > 0]


def waypoints(order: OrderView) -> list[tuple[float, float]]:
    return [(order.origin[0], order.origin[1])] + [(d[0], d[1]) for d in order.destinations]


def driver_of(orders: Iterable[OrderView]) -> int | None:
    return next((o.driver_id for o in orders if o.driver_id is not None), None)


def out_of_town(ctx: VehicleDay, order: OrderView) -> bool:
    return any(d[2] and d[2] != ctx.vehicle.home_city for d in order.destinations)


def order_ids(orders: Iterable[OrderView]) -> tuple[int, ...]:
    return tuple(sorted({o.id for o in orders}))


def orders_checked(ctx: VehicleDay, start_ms: int, end_ms: int | None) -> dict[str, Any]:
    """The ± 24 h searched for a covering order (evidence when none covered)."""
    return {"from": local_iso(start_ms - DAY_MS),
            "to": local_iso(end_or_horizon(ctx, end_ms) + DAY_MS),
            "orders_seen": [o.id for o in ctx.orders]}


# ---- duty and seals --------------------------------------------------------------------------

def on_duty(ctx: VehicleDay, start_ms: int, end_ms: int | None) -> bool:
    """执法执勤/应急 cars on duty: a duty registration overlaps, or (configurable) office hours
    of a working day. Other categories are never 'on duty' for the profiles."""
    if ctx.vehicle.use_category not in DUTY_CATEGORIES:
        return False
    end = max(end_or_horizon(ctx, end_ms), start_ms + 1)
    if intervals_overlap_ms(start_ms, end, ctx.duty) > 0:
        return True
    if values(ctx, "R1").get("office_hours_on_duty"):
        return intervals_overlap_ms(start_ms, end, office_hours(ctx)) >= end - start_ms
    return False


def registered_duty(ctx: VehicleDay, start_ms: int, end_ms: int | None) -> bool:
    end = max(end_or_horizon(ctx, end_ms), start_ms + 1)
    return intervals_overlap_ms(start_ms, end, ctx.duty) > 0


def under_order(ctx: VehicleDay, start_ms: int, end_ms: int | None) -> bool:
    return bool(covering_orders(ctx, start_ms, end_ms))


# ---- trips, stops, episodes ----------------------------------------------------------------

def trip_end(ctx: VehicleDay, trip: TripView) -> int:
    return end_or_horizon(ctx, trip.end_ms)


def trip_seconds(ctx: VehicleDay, trip: TripView) -> int:
    if trip.end_ms is None:
        return max(trip.duration_s, (ctx.horizon_ms - trip.start_ms) // 1000)
    return trip.duration_s


def stop_seconds(ctx: VehicleDay, stop: StopView) -> int:
    if stop.end_ms is None:
        return max(stop.duration_s, (ctx.horizon_ms - stop.start_ms) // 1000)
    return stop.duration_s


def km_within(ctx: VehicleDay, trip: TripView, spans: Iterable[tuple[int, int]]) -> float:
    """Km driven inside the spans, pro rata of the trip's time (no fixes at hand)."""
    start, end = trip.start_ms, trip_end(ctx, trip)
    if end <= start:
        return 0.0
    share = intervals_overlap_ms(start, end, spans) / (end - start)
    return trip.dist_m / 1000.0 * min(1.0, share)


def stop_after(ctx: VehicleDay, trip: TripView) -> StopView | None:
    """The stop that follows the trip (starts at its end, a minute's slack)."""
    if trip.end_ms is None:
        return None
    later = [s for s in ctx.stops if s.start_ms >= trip.end_ms - MINUTE_MS]
    return min(later, key=lambda s: s.start_ms, default=None)


def stop_before(ctx: VehicleDay, trip: TripView) -> StopView | None:
    earlier = [s for s in ctx.stops if s.start_ms < trip.start_ms
               and (s.end_ms is None or s.end_ms <= trip.start_ms + MINUTE_MS)]
    return max(earlier, key=lambda s: s.start_ms, default=None)


def stop_at(ctx: VehicleDay, ts_ms: int) -> StopView | None:
    return next((s for s in ctx.stops
                 if s.start_ms <= ts_ms and (s.end_ms is None or ts_ms < s.end_ms)), None)


def trip_at(ctx: VehicleDay, ts_ms: int) -> TripView | None:
    return next((t for t in ctx.trips
                 if t.start_ms <= ts_ms and (t.end_ms is None or ts_ms < t.end_ms)), None)


def zone_of(ctx: VehicleDay, episode: Episode) -> Zone | None:
    """The zone of a visit or speeding episode, if it applies to the car (a visit of another
    organisation's zone, recorded before bindings were checked, judges nothing)."""
    try:
        zone = ctx.zones.get(int(episode.data.get("zone_id", episode.key)))
    except (TypeError, ValueError):
        return None
    return zone if zone is not None and binds_car(ctx, zone) else None


def episodes(ctx: VehicleDay, kind: str) -> list[Episode]:
    return sorted((e for e in ctx.episodes if e.kind == kind), key=lambda e: e.start_ms)


def stayed_in_lot(ctx: VehicleDay, trip: TripView) -> bool:
    """The lot's zone visit spans the whole trip: it moved inside the lot and never left."""
    lot_id = ctx.vehicle.lot_zone_id
    if lot_id is None:
        return False
    end = trip_end(ctx, trip)
    return any(e.kind == "zone" and e.key == str(lot_id) and e.start_ms <= trip.start_ms
               and (e.end_ms is None or e.end_ms >= end) for e in ctx.episodes)


# A car that parks is taken to be where the trackers place it within this time after it
# stopped: the zone visit needs two fixes (persistence), and the stop's own position is its
# first fix, which one multipath spike can throw 200 m away.
SETTLE_MS = 3 * MINUTE_MS


def lot_visit_at(ctx: VehicleDay, ts_ms: int, settle_ms: int = 0) -> bool:
    """The trackers had the car inside its lot at ts_ms (or, with settle_ms, from at most that
    long after it, without having left it before ts_ms)."""
    lot_id = ctx.vehicle.lot_zone_id
    return lot_id is not None and any(
        e.kind == "zone" and e.key == str(lot_id) and e.start_ms <= ts_ms + settle_ms
        and (e.end_ms is None or ts_ms < e.end_ms) for e in ctx.episodes)


def parked_in_lot(ctx: VehicleDay, stop: StopView) -> bool:
    """The stop is in the car's lot: its position, or the lot's zone visit as it settled."""
    settle_ms = SETTLE_MS if stop.end_ms is None else min(SETTLE_MS, stop.end_ms - stop.start_ms)
    return in_lot(ctx, stop.at) or lot_visit_at(ctx, stop.start_ms, settle_ms)


# ---- keys -------------------------------------------------------------------------------

def trip_key(ctx: VehicleDay, trip: TripView) -> str:
    return f"v{ctx.vehicle.id}:trip:{trip.start_ms}"


def stop_key(ctx: VehicleDay, stop: StopView) -> str:
    return f"v{ctx.vehicle.id}:stop:{stop.start_ms}"


def trip_summary(ctx: VehicleDay, trip: TripView) -> dict[str, Any]:
    return {
        "km": rounded(trip.dist_m / 1000.0, 2),
        "odometer_km": rounded(trip.odo_km, 2),
        "duration_s": trip_seconds(ctx, trip),
        "max_speed_kmh": rounded(trip.max_speed_kmh),
        "start": local_iso(trip.start_ms), "end": local_iso(trip.end_ms),
        "from": list(trip.start), "to": list(trip.end),
        "ongoing": trip.end_ms is None,
    }
