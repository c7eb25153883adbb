"""R9 敏感区域停留: a stop at a sensitive place (domain.md §6, a.3).

A stop ≥ 10 min inside a sensitive_place zone of a watched category (娱乐场所 entertainment,
会所/高档酒店 club_hotel, 景区 scenic_area, 高尔夫/度假村 golf_resort; 居民小区 residential
only outside office hours when `residential_off_hours` is on) → ALARM; a covering order whose
destination lies in that zone → INFO (an official meeting or reception). The 机要 profile
(INFO only) is applied by rules.evaluate.
"""

from __future__ import annotations

from supervision import zones as zones_mod
from supervision.model import Finding, StopView, VehicleDay
from supervision.rules import common as c

RULE = "R9"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    found = []
    for stop in ctx.stops:
        if c.owned(ctx, stop.start_ms) and c.stop_seconds(ctx, stop) >= int(v["min_stop_s"]):
            finding = _judge(ctx, stop, v)
            if finding is not None:
                found.append(finding)
    return found


def sensitive_zones(ctx: VehicleDay, stop: StopView, v: dict) -> list:
    categories = set(v["categories"])
    off_hours = not any(s <= stop.start_ms < e for s, e in c.office_hours(ctx))
    if v.get("residential_off_hours") and off_hours:
        categories.add("residential")
    return [z for z in c.places(ctx, stop.at, stop.start_ms)
            if z.purpose == c.SENSITIVE_PURPOSE and z.category in categories]


def _judge(ctx: VehicleDay, stop: StopView, v: dict) -> Finding | None:
    zones = sensitive_zones(ctx, stop, v)
    if not zones:
        return None
    orders = c.covering_orders(ctx, stop.start_ms, stop.end_ms)
    approved = [o for o in orders if any(zones_mod.contains(z, d[0], d[1])
                                         for z in zones for d in o.destinations)]
    seconds = c.stop_seconds(ctx, stop)
    zone = zones[0]
    summary = {
        "duration_s": seconds, "since": c.local_iso(stop.start_ms),
        "until": c.local_iso(stop.end_ms), "at": list(stop.at),
        "zones": c.zone_names(zones), "category": zone.category,
        "order_destination_inside": bool(approved), "ongoing": stop.end_ms is None,
        "outside_office_hours": not any(s <= stop.start_ms < e for s, e in c.office_hours(ctx)),
    }
    minutes = seconds // 60
    note_zh, note_en = ("（派车单目的地）", " (the order's destination)") if approved else ("", "")
    return Finding(
        rule_id=RULE, key=c.stop_key(ctx, stop),
        severity="info" if approved else str(v["severity"]),
        start_ms=stop.start_ms, end_ms=stop.end_ms, summary=summary,
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
        zone_ids=tuple(z.id for z in zones), trigger_ms=(stop.start_ms,),
        message_zh=f"{ctx.vehicle.plate} 在敏感场所{zone.name_zh}停留{minutes}分钟{note_zh}",
        message_en=f"{ctx.vehicle.plate} stopped {minutes} min at the sensitive place "
                   f"{zone.name_en}{note_en}",
    )
