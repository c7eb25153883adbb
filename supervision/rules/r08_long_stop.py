"""R8 长时间停留: a long stop away from known places (domain.md §6, a.3).

Stationary ≥ 60 min outside the car's lot (with its tolerance), any designated lot, 定点
service sites, and more than 1 km from every waypoint of an order holding the car then → INFO
(logged for the inspectors' context; R9 and R4 judge the places that matter). A stop going on
counts once it has lasted long enough.
"""

from __future__ import annotations

from supervision.model import Finding, StopView, VehicleDay
from supervision.rules import common as c

RULE = "R8"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    found = []
    for stop in ctx.stops:
        if c.owned(ctx, stop.start_ms) and c.stop_seconds(ctx, stop) >= int(v["min_stop_s"]):
            finding = _judge(ctx, stop, v)
            if finding is not None:
                found.append(finding)
    return found


def _judge(ctx: VehicleDay, stop: StopView, v: dict) -> Finding | None:
    if c.known_lot(ctx, stop.at, stop.start_ms) or c.parked_in_lot(ctx, stop) \
            or c.service_site(ctx, stop.at, stop.start_ms) is not None:
        return None
    orders = c.covering_orders(ctx, stop.start_ms, stop.end_ms)
    radius = float(v["waypoint_radius_m"])
    if any(c.dist_m(stop.at, w) <= radius for o in orders for w in c.waypoints(o)):
        return None
    seconds = c.stop_seconds(ctx, stop)
    found_places = c.places(ctx, stop.at, stop.start_ms)
    summary = {
        "duration_s": seconds, "since": c.local_iso(stop.start_ms),
        "until": c.local_iso(stop.end_ms), "at": list(stop.at),
        "distance_to_lot_m": c.rounded(c.lot_distance_m(ctx, stop.at), 0),
        "places": c.zone_names(found_places), "ongoing": stop.end_ms is None,
    }
    minutes = seconds // 60
    return Finding(
        rule_id=RULE, key=c.stop_key(ctx, stop), severity=str(v["severity"]),
        start_ms=stop.start_ms, end_ms=stop.end_ms, summary=summary,
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
        zone_ids=tuple(z.id for z in found_places), trigger_ms=(stop.start_ms,),
        message_zh=f"{ctx.vehicle.plate} {c.local_hm(stop.start_ms)}起在非指定地点停留{minutes}分钟",
        message_en=f"{ctx.vehicle.plate} stopped {minutes} min away from known places from "
                   f"{c.local_hm(stop.start_ms)}",
    )
