"""R2 非工作时间出车: an outing in the night window of a working day (domain.md §6, a.3).

On a working day (calendar date, 调休 included) any part of an outing (rules/outings.py: the
legs from leaving the lot until back at it; a car without a lot, each trip) inside
20:00–06:00: every night leg covered by an order → INFO (已审批), otherwise ALARM. One finding
per outing, keyed by its first trip, whatever the number of its legs. The km driven inside the
window is recorded, summed over the legs (pro rata of each leg's time: the trip rows have no
fixes). The outing must spend at least `min_night_s` inside the window: a trip ending at
20:00:10 by the device's clock is not night use.
"""

from __future__ import annotations

from supervision.model import Finding, OrderView, VehicleDay
from supervision.rules import common as c
from supervision.rules import outings as out
from supervision.rules.outings import Outing

RULE = "R2"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    windows = c.night_windows(ctx)
    if not windows:
        return []
    return [f for o in out.owned(ctx) if (f := _judge(ctx, o, windows, v)) is not None]


def _judge(ctx: VehicleDay, outing: Outing, windows: list[tuple[int, int]],
           v: dict) -> Finding | None:
    inside: list[tuple[int, int]] = []
    night_km = 0.0
    orders: dict[int, OrderView] = {}
    covered = True
    for leg in outing.legs:
        end = c.trip_end(ctx, leg)
        parts = [(max(leg.start_ms, s), min(end, e)) for s, e in windows
                 if c.overlap_ms(leg.start_ms, end, s, e) > 0]
        if not parts:
            continue
        inside += parts
        night_km += c.km_within(ctx, leg, parts)
        found = c.covering_orders(ctx, leg.start_ms, leg.end_ms)
        covered = covered and bool(found)
        orders.update({o.id: o for o in found})
    night_ms = sum(e - s for s, e in inside)
    if night_ms < int(v.get("min_night_s", 60)) * 1000:
        return None
    inside.sort()
    night_km = round(night_km, 2)
    held = [orders[i] for i in sorted(orders)]
    severity = str(v["severity_covered"] if covered else v["severity"])
    summary = out.summary(ctx, outing)
    summary.update({
        "night_km": night_km, "night_s": night_ms // 1000,
        "night_from": c.local_iso(inside[0][0]), "night_to": c.local_iso(inside[-1][1]),
        "window": f"{v['night_from']}–{v['night_to']}", "covered": covered,
    })
    if not covered:
        summary["orders_checked"] = c.orders_checked(ctx, outing.start_ms, outing.end_ms)
    approved_zh, approved_en = ("（已审批）", " (approved)") if covered else ("", "")
    return Finding(
        rule_id=RULE, key=c.trip_key(ctx, outing.first), severity=severity,
        start_ms=outing.start_ms, end_ms=outing.end_ms, summary=summary,
        order_ids=c.order_ids(held), driver_id=c.driver_of(held),
        provisional=outing.ongoing, trigger_ms=(inside[0][0],),
        message_zh=f"{ctx.vehicle.plate} 工作日非工作时间出车{approved_zh}，"
                   f"{c.local_hm(inside[0][0])}–{c.local_hm(inside[-1][1])}行驶{night_km}公里",
        message_en=f"{ctx.vehicle.plate} drove outside working hours on a working day"
                   f"{approved_en}: {night_km} km between {c.local_hm(inside[0][0])} and "
                   f"{c.local_hm(inside[-1][1])}",
    )
