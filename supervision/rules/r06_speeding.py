"""R6 超速: speeding (domain.md §6, a.3).

The speeding tracker records episodes of speed above a limit (the zone's, else the vehicle
default); here an episode counts when its maximum exceeds limit × (1 + 10 %) and it lasted at
least 15 s — one violation per episode, WARN, with the maximum speed and the duration. An
episode still going on counts as soon as it has lasted long enough (its end comes later).
"""

from __future__ import annotations

from supervision.model import Finding, VehicleDay
from supervision.rules import common as c

RULE = "R6"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    factor = 1.0 + float(v["tolerance_pct"]) / 100.0
    found = []
    for e in c.episodes(ctx, "speeding"):
        if not c.owned(ctx, e.start_ms):
            continue
        duration_s = (c.end_or_horizon(ctx, e.end_ms) - e.start_ms) // 1000
        limit = float(e.data.get("limit_kmh") or v["default_limit_kmh"])
        top = float(e.data.get("max_speed_kmh") or 0.0)
        if duration_s < int(v["min_duration_s"]) or top <= limit * factor:
            continue
        zone = c.zone_of(ctx, e) if e.data.get("zone_id") is not None else None
        orders = c.covering_orders(ctx, e.start_ms, e.end_ms)
        summary = {
            "max_speed_kmh": round(top, 1), "limit_kmh": round(limit, 1),
            "over_pct": round((top / limit - 1.0) * 100.0, 1), "duration_s": duration_s,
            "limit_source": e.data.get("limit_source", "default"),
            "zone": c.zone_names([zone])[0] if zone is not None else None,
            "fixes": e.data.get("fixes"),
        }
        found.append(Finding(
            rule_id=RULE, key=f"v{ctx.vehicle.id}:speed:{e.start_ms}",
            severity=str(v["severity"]), start_ms=e.start_ms, end_ms=e.end_ms,
            summary=summary, order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
            zone_ids=(zone.id,) if zone is not None else (), trigger_ms=(e.start_ms,),
            message_zh=f"{ctx.vehicle.plate} {c.local_hm(e.start_ms)}超速，最高{top:.0f}公里/小时"
                       f"（限速{limit:.0f}），持续{duration_s}秒",
            message_en=f"{ctx.vehicle.plate} sped at {c.local_hm(e.start_ms)}: up to {top:.0f} "
                       f"km/h (limit {limit:.0f}) for {duration_s} s",
        ))
    return found
