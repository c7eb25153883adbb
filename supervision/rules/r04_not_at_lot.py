"""R4 未按规定停放: not back at the designated lot at night (domain.md §6, a.3).

At the check time (22:00, every day) the car is parked (ACC off, a stop) outside its lot —
farther than the tolerance (100 m) from the lot's edge — and no order holds it → WARN, which
sends the remote reminder. The lot's zone visit (with the trackers' persistence) covering that
time also counts as in the lot, whatever the stop's first fix said. Parked outside at the alarm
time (23:00) → ALARM under the same key (one per car and night). An order holding the car at
that time exempts it; an order that keeps the car away overnight (异地公务) exempts it only
within `exempt_radius_m` (5 km) of one of its destinations. A car left at a 定点 repair or
inspection site is in for service, not parked out. Judged only once the horizon has
passed the check time: until then there is nothing to say. A car without a lot is not judged.
"""

from __future__ import annotations

from typing import Any

from supervision.model import Finding, VehicleDay
from supervision.rules import common as c

RULE = "R4"


def detect(ctx: VehicleDay) -> list[Finding]:
    if c.lot(ctx) is None:
        return []
    v = c.values(ctx, RULE)
    check_ms = c.at_time(ctx, v["check_time"])
    alarm_ms = c.at_time(ctx, v["alarm_time"])
    if alarm_ms <= check_ms:                       # e.g. 00:30: after midnight
        alarm_ms += c.DAY_MS
    if ctx.horizon_ms < check_ms:
        return []
    at_check = parked_outside(ctx, check_ms, v)
    at_alarm = parked_outside(ctx, alarm_ms, v) if ctx.horizon_ms >= alarm_ms else None
    if at_check is None and at_alarm is None:
        return []
    judged = at_alarm or at_check
    assert judged is not None
    severity = "alarm" if at_alarm is not None else "warn"
    summary = {
        "check_time": v["check_time"], "alarm_time": v["alarm_time"],
        "distance_to_lot_m": judged["distance_to_lot_m"],
        "tolerance_m": v["lot_tolerance_m"],
        "parked_since": c.local_iso(judged["since_ms"]), "at": list(judged["at"]),
        "places": c.zone_names(c.places(ctx, judged["at"], judged["ts_ms"])),
        "outside_at_check": at_check is not None, "outside_at_alarm": at_alarm is not None,
        "stop_start_ms": judged["since_ms"],
    }
    lot = c.lot(ctx)
    distance = judged["distance_to_lot_m"]
    orders = c.covering_orders(ctx, judged["ts_ms"], judged["ts_ms"])
    zh_level = "仍未返回" if at_alarm is not None else "未按规定停放"
    return [Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:night:{ctx.day.isoformat()}",
        severity=severity, start_ms=check_ms if at_check is not None else alarm_ms,
        end_ms=judged["until_ms"], summary=summary,
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
        zone_ids=(lot.id,) if lot is not None else (),
        trigger_ms=tuple(t for t, j in ((check_ms, at_check), (alarm_ms, at_alarm)) if j),
        message_zh=f"{ctx.vehicle.plate} {v['alarm_time'] if at_alarm else v['check_time']}"
                   f"{zh_level}，停在距停放点{distance:.0f}米处，请返回停放点",
        message_en=f"{ctx.vehicle.plate} is parked {distance:.0f} m from its designated lot at "
                   f"{v['alarm_time'] if at_alarm else v['check_time']}: please return it",
    )]


def parked_outside(ctx: VehicleDay, ts_ms: int, v: dict) -> dict[str, Any] | None:
    """Where the car is parked at ts_ms if that is outside its lot and nothing exempts it."""
    place = _parked_at(ctx, ts_ms)
    if place is None:
        return None
    at, since_ms, until_ms = place
    if c.in_lot(ctx, at) or c.lot_visit_at(ctx, ts_ms):
        return None
    if _exempt(ctx, ts_ms, at, float(v["exempt_radius_m"])):
        return None
    site = c.service_site(ctx, at, ts_ms)
    if site is not None and site.category in set(v.get("exempt_site_categories", ())):
        return None                                # in for repair at a 定点 garage
    distance = c.lot_distance_m(ctx, at)
    return {"at": at, "since_ms": since_ms, "until_ms": until_ms, "ts_ms": ts_ms,
            "distance_to_lot_m": round(distance or 0.0)}


def _parked_at(ctx: VehicleDay, ts_ms: int) -> tuple[tuple[float, float], int, int | None] | None:
    stop = c.stop_at(ctx, ts_ms)
    if stop is not None:
        return stop.at, stop.start_ms, stop.end_ms
    if c.trip_at(ctx, ts_ms) is not None:
        return None                                # driving: R2 speaks for it
    fix = ctx.last_fix
    if fix is not None and fix.ts_ms <= ts_ms and (
            fix.acc is False or (fix.acc is None and (fix.speed_kmh or 0.0) < 3.0)):
        later = [t for t in ctx.trips if t.start_ms > fix.ts_ms]
        if not later:
            return (fix.lon, fix.lat), fix.ts_ms, None
    return None


def _exempt(ctx: VehicleDay, ts_ms: int, at: tuple[float, float], radius_m: float) -> bool:
    for order in c.covering_orders(ctx, ts_ms, ts_ms):
        if order.returned_ms is not None and order.returned_ms <= ts_ms:
            continue                               # handed back: it no longer holds the car
        overnight = order.planned_end_ms >= ctx.day_end_ms
        if not overnight:
            return True
        if any(c.dist_m(at, (d[0], d[1])) <= radius_m for d in order.destinations):
            return True
    return False
