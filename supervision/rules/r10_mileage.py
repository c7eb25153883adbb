"""R10 绕道/里程异常: detours and abnormal daily mileage (domain.md §6, a.3).

(a) An order's driving (its trips between departure and return, else its planned window with
    the coverage margins) longer than 1.3 × the planned km and more than planned + 10 km →
    WARN, judged once the order is finished and only when its driving lies within the loaded
    trips (an order of several days is judged by the day it starts if its end is in reach).
(b) The day's km (trips pro rata of their time on the local day) over 300 km (特种专业技术:
    500 km) with no out-of-town order that day → WARN.
"""

from __future__ import annotations

from supervision.model import Finding, OrderView, VehicleDay
from supervision.rules import common as c

RULE = "R10"
MARGIN_MS = 6 * c.HOUR_MS


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    found = [f for o in ctx.orders if (f := _detour(ctx, o, v)) is not None]
    day = _day_km(ctx, v)
    return found + ([day] if day is not None else [])


def order_start(order: OrderView) -> int:
    return order.departed_ms if order.departed_ms is not None else order.planned_start_ms


def _detour(ctx: VehicleDay, order: OrderView, v: dict) -> Finding | None:
    if order.state not in c.COVERING_STATES or not c.owned(ctx, order_start(order)):
        return None
    if order.planned_km <= 0 or not c.order_finished(ctx, order):
        return None
    start, end = c.order_window(ctx, order)
    if end > ctx.day_end_ms + MARGIN_MS:
        return None                                 # its driving is not all loaded
    trips = c.trips_of_order(ctx, order)
    driven_km = sum(t.dist_m for t in trips) / 1000.0
    planned = float(order.planned_km)
    limit = max(planned * float(v["detour_factor"]), planned + float(v["detour_extra_km"]))
    if driven_km <= limit:
        return None
    summary = {"driven_km": round(driven_km, 2), "planned_km": round(planned, 2),
               "excess_km": round(driven_km - planned, 2), "ratio": round(driven_km / planned, 2),
               "trips": len(trips), "from": c.local_iso(start), "to": c.local_iso(end)}
    return Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:order:{order.id}", severity=str(v["severity"]),
        start_ms=start, end_ms=end, summary=summary, order_ids=(order.id,),
        driver_id=order.driver_id, trigger_ms=tuple(t.start_ms for t in trips),
        message_zh=f"{ctx.vehicle.plate} 派车单{order.id}实际行驶{driven_km:.1f}公里，"
                   f"计划{planned:.1f}公里，疑似绕道",
        message_en=f"{ctx.vehicle.plate} drove {driven_km:.1f} km on order {order.id}, "
                   f"planned {planned:.1f} km: a detour?",
    )


def _day_km(ctx: VehicleDay, v: dict) -> Finding | None:
    day_span = [(ctx.day_start_ms, ctx.day_end_ms)]
    km = sum(c.km_within(ctx, t, day_span) for t in ctx.trips)
    if km <= float(v["day_max_km"]):
        return None
    away = [o for o in ctx.orders if o.state in c.COVERING_STATES and c.out_of_town(ctx, o)
            and any(c.overlap_ms(ctx.day_start_ms, ctx.day_end_ms, s, e) > 0
                    for s, e in c.coverage_spans(ctx, o))]
    if away:
        return None
    orders = [o for o in ctx.orders if o.state in c.COVERING_STATES
              and any(c.overlap_ms(ctx.day_start_ms, ctx.day_end_ms, s, e) > 0
                      for s, e in c.coverage_spans(ctx, o))]
    return Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:day:{ctx.day.isoformat()}",
        severity=str(v["severity"]), start_ms=ctx.day_start_ms,
        end_ms=ctx.day_end_ms if ctx.horizon_ms >= ctx.day_end_ms else None,
        summary={"day_km": round(km, 1), "limit_km": v["day_max_km"],
                 "trips": sum(1 for t in ctx.trips if c.km_within(ctx, t, day_span) > 0)},
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
        message_zh=f"{ctx.vehicle.plate} 当日行驶{km:.0f}公里，超过{v['day_max_km']}公里且无外地派车单",
        message_en=f"{ctx.vehicle.plate} drove {km:.0f} km in the day, over {v['day_max_km']} km "
                   "without an out-of-town order",
    )
