"""R5 越界: leaving the permitted area, or entering a forbidden zone (domain.md §6, a.3).

The permitted area is the home city's boundary zone (purpose city_boundary, the vehicle's
home city) together with any permitted_area zones binding the car. The zone trackers record
visits with persistence (two fixes to enter or leave); the car is outside where no visit of
those zones runs. An outside spell ≥ `persist_s` (60 s) that overlaps the car's trips or stops
(there is data to say where it was) and that no order's destination cities explain → ALARM.
The cities visited come from the other cities' boundary visits in that spell; with none known
(outside the circle), any order with an out-of-town destination explains it. A spell already
going on when the loaded window starts belongs to an earlier day and is left to it.

A visit to a forbidden zone of ≥ `persist_s` → ALARM, unless an order's destination lies in it.
"""

from __future__ import annotations

from supervision import zones as zones_mod
from supervision.model import Episode, Finding, VehicleDay
from supervision.rules import common as c

RULE = "R5"
MARGIN_MS = 6 * c.HOUR_MS


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    return _left_area(ctx, v) + _forbidden(ctx, v)


def home_zone_ids(ctx: VehicleDay) -> set[int]:
    """The zones of the car's permitted area (its home city's boundary, permitted areas
    binding it — of its own organisations only). A zone deleted since still counts: its
    visits were recorded while it stood."""
    return {z.id for z in ctx.zones.values() if c.binds_car(ctx, z) and (
            (z.purpose == "city_boundary" and z.city_code == ctx.vehicle.home_city)
            or z.purpose == "permitted_area")}


def outside_spells(ctx: VehicleDay) -> list[tuple[int, int | None, Episode | None]]:
    """(start, end or None, the visit that ended at its start) where the car was outside."""
    home = {str(i) for i in home_zone_ids(ctx)}
    if not home:
        return []
    inside = sorted((e for e in ctx.episodes if e.kind == "zone" and e.key in home),
                    key=lambda e: e.start_ms)
    data = [(t.start_ms, c.trip_end(ctx, t)) for t in ctx.trips] + [
        (s.start_ms, c.end_or_horizon(ctx, s.end_ms)) for s in ctx.stops]
    if not data and not inside:
        return []
    low = min([s for s, _ in data] + [e.start_ms for e in inside])
    low = max(low, ctx.day_start_ms - MARGIN_MS)
    spells: list[tuple[int, int | None, Episode | None]] = []
    cursor, previous = low, None
    for visit in inside:
        if visit.start_ms > cursor:
            spells.append((cursor, visit.start_ms, previous))
        end = c.end_or_horizon(ctx, visit.end_ms)
        if end > cursor:
            cursor, previous = end, visit
        if visit.end_ms is None:
            cursor = max(cursor, ctx.horizon_ms)
    if cursor < ctx.horizon_ms:
        spells.append((cursor, None, previous))
    # A spell with no visit before it has no known beginning (an earlier day's, or before
    # the car's first data): the caller leaves it alone.
    return spells


def _left_area(ctx: VehicleDay, v: dict) -> list[Finding]:
    found = []
    persist_ms = int(v["persist_s"]) * 1000
    for start, end, previous in outside_spells(ctx):
        if previous is None or not c.owned(ctx, start):
            continue
        stop = c.end_or_horizon(ctx, end)
        if stop - start < persist_ms or not _has_data(ctx, start, stop):
            continue
        cities = _cities_visited(ctx, start, stop)
        orders = c.covering_orders(ctx, start, end)
        if _explained(ctx, orders, cities):
            continue
        exit_at = previous.data.get("exit")
        summary = {
            "duration_s": (stop - start) // 1000, "left_at": c.local_iso(start),
            "back_at": c.local_iso(end), "exit": exit_at, "cities": sorted(cities),
            "home_city": ctx.vehicle.home_city,
            "order_destinations": sorted({d[2] for o in orders for d in o.destinations}),
        }
        found.append(Finding(
            rule_id=RULE, key=f"v{ctx.vehicle.id}:out:{start}", severity=str(v["severity"]),
            start_ms=start, end_ms=end, summary=summary, order_ids=c.order_ids(orders),
            driver_id=c.driver_of(orders), provisional=False,
            zone_ids=tuple(sorted(home_zone_ids(ctx))), trigger_ms=(start,),
            message_zh=f"{ctx.vehicle.plate} {c.local_hm(start)}驶出允许区域"
                       f"（{'、'.join(sorted(cities)) or '区域外'}），无相应派车单",
            message_en=f"{ctx.vehicle.plate} left its permitted area at {c.local_hm(start)} "
                       f"({', '.join(sorted(cities)) or 'outside the known cities'}) "
                       "without an order going there",
        ))
    return found


def _has_data(ctx: VehicleDay, start: int, stop: int) -> bool:
    return any(c.overlap_ms(start, stop, t.start_ms, c.trip_end(ctx, t)) > 0 for t in ctx.trips) \
        or any(c.overlap_ms(start, stop, s.start_ms, c.end_or_horizon(ctx, s.end_ms)) > 0
               for s in ctx.stops)


def _cities_visited(ctx: VehicleDay, start: int, stop: int) -> set[str]:
    cities = set()
    for e in ctx.episodes:
        if e.kind != "zone" or c.overlap_ms(start, stop, e.start_ms,
                                            c.end_or_horizon(ctx, e.end_ms)) <= 0:
            continue
        zone = c.zone_of(ctx, e)
        if zone is not None and zone.purpose == "city_boundary" and zone.city_code \
                and zone.city_code != ctx.vehicle.home_city:
            cities.add(zone.city_code)
    return cities


def _explained(ctx: VehicleDay, orders: list, cities: set[str]) -> bool:
    destinations = {d[2] for o in orders for d in o.destinations}
    if cities:
        return bool(cities & destinations)
    return any(c.out_of_town(ctx, o) for o in orders)


def _forbidden(ctx: VehicleDay, v: dict) -> list[Finding]:
    found = []
    persist_ms = int(v["persist_s"]) * 1000
    for e in c.episodes(ctx, "zone"):
        zone = c.zone_of(ctx, e)
        if zone is None or zone.purpose != "forbidden_zone" or not c.owned(ctx, e.start_ms):
            continue
        stop = c.end_or_horizon(ctx, e.end_ms)
        if stop - e.start_ms < persist_ms:
            continue
        orders = c.covering_orders(ctx, e.start_ms, e.end_ms)
        if any(zones_mod.contains(zone, d[0], d[1]) for o in orders for d in o.destinations):
            continue
        found.append(Finding(
            rule_id=RULE, key=f"v{ctx.vehicle.id}:zone{zone.id}:{e.start_ms}",
            severity=str(v["severity"]), start_ms=e.start_ms, end_ms=e.end_ms,
            summary={"duration_s": (stop - e.start_ms) // 1000, "zone": c.zone_names([zone])[0],
                     "enter": e.data.get("enter"), "exit": e.data.get("exit")},
            order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
            zone_ids=(zone.id,), trigger_ms=(e.start_ms,),
            message_zh=f"{ctx.vehicle.plate} {c.local_hm(e.start_ms)}驶入禁入区域{zone.name_zh}",
            message_en=f"{ctx.vehicle.plate} entered the forbidden zone {zone.name_en} at "
                       f"{c.local_hm(e.start_ms)}",
        ))
    return found
