"""R2 非工作时间出车: a trip in the night window of a working day (domain.md §6, a.3).

On a working day (calendar date, 调休 included) any part of a trip inside 20:00–06:00: covered
by an order → INFO (已审批), otherwise ALARM. The km driven inside the window is recorded (pro
rata of the trip's time: the trip row has no fixes). A trip must spend at least `min_night_s`
inside the window: a trip ending at 20:00:10 by the device's clock is not night use.
"""

from __future__ import annotations

from supervision.model import Finding, TripView, VehicleDay
from supervision.rules import common as c

RULE = "R2"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    windows = c.night_windows(ctx)
    if not windows:
        return []
    found = []
    for trip in ctx.trips:
        if c.owned(ctx, trip.start_ms):
            finding = _judge(ctx, trip, windows, v)
            if finding is not None:
                found.append(finding)
    return found


def _judge(ctx: VehicleDay, trip: TripView, windows: list[tuple[int, int]],
           v: dict) -> Finding | None:
    end = c.trip_end(ctx, trip)
    inside = [(max(trip.start_ms, s), min(end, e)) for s, e in windows
              if c.overlap_ms(trip.start_ms, end, s, e) > 0]
    night_ms = sum(e - s for s, e in inside)
    if night_ms < int(v.get("min_night_s", 60)) * 1000:
        return None
    orders = c.covering_orders(ctx, trip.start_ms, trip.end_ms)
    severity = str(v["severity_covered"] if orders else v["severity"])
    night_km = round(c.km_within(ctx, trip, inside), 2)
    summary = c.trip_summary(ctx, trip)
    summary.update({
        "night_km": night_km, "night_s": night_ms // 1000,
        "night_from": c.local_iso(inside[0][0]), "night_to": c.local_iso(inside[-1][1]),
        "window": f"{v['night_from']}–{v['night_to']}", "covered": bool(orders),
    })
    if not orders:
        summary["orders_checked"] = c.orders_checked(ctx, trip.start_ms, trip.end_ms)
    approved_zh, approved_en = ("（已审批）", " (approved)") if orders else ("", "")
    return Finding(
        rule_id=RULE, key=c.trip_key(ctx, trip), severity=severity,
        start_ms=trip.start_ms, end_ms=trip.end_ms, summary=summary,
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
        provisional=trip.end_ms is None, trigger_ms=(inside[0][0],),
        message_zh=f"{ctx.vehicle.plate} 工作日非工作时间出车{approved_zh}，"
                   f"{c.local_hm(inside[0][0])}–{c.local_hm(inside[-1][1])}行驶{night_km}公里",
        message_en=f"{ctx.vehicle.plate} drove outside working hours on a working day"
                   f"{approved_en}: {night_km} km between {c.local_hm(inside[0][0])} and "
                   f"{c.local_hm(inside[-1][1])}",
    )
