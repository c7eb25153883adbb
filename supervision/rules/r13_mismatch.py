"""R13 轨迹与审批不符: the track does not match the approved order (domain.md §6, a.3).

For an order of the car that starts on the evaluated day:
(a) once it is finished and the car drove under it: some approved destination never came
    within 1 km of the car. The worker may pass the nearest approach over all fixes
    (VehicleDay.order_nearest_m); where it has none (no fixes) the trips' ends and the stops
    in the order's window stand in (a drop-off with the engine running leaves no stop: pass
    the fixes' figure); with nothing to judge from, the destination is not judged;
(b) departed or returned more than 60 min off the plan (each judged once it is known).
One WARN per order with every reason found; a reason appearing later amends it.
"""

from __future__ import annotations

from supervision.model import Finding, OrderView, VehicleDay
from supervision.rules import common as c
from supervision.rules.r10_mileage import order_start

RULE = "R13"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    return [f for o in ctx.orders if (f := _judge(ctx, o, v)) is not None]


def nearest_m(ctx: VehicleDay, order: OrderView) -> list[float | None]:
    """Per destination, the car's nearest approach (m): the worker's figure over all fixes,
    else the trips' ends and the stops in the order's window; None: nothing to judge from."""
    given = ctx.order_nearest_m.get(order.id)
    given = tuple(given) if given is not None and len(given) == len(order.destinations) else ()
    start, end = c.order_window(ctx, order)
    points = [p for t in c.trips_of_order(ctx, order) for p in (t.start, t.end)]
    points += [s.at for s in ctx.stops
               if c.overlap_ms(s.start_ms, c.end_or_horizon(ctx, s.end_ms), start, end) > 0]
    out: list[float | None] = []
    for i, d in enumerate(order.destinations):
        if given and given[i] is not None:
            out.append(float(given[i]))
        else:
            out.append(min((c.dist_m(p, (d[0], d[1])) for p in points), default=None))
    return out


def _judge(ctx: VehicleDay, order: OrderView, v: dict) -> Finding | None:
    if order.state not in c.COVERING_STATES or not c.owned(ctx, order_start(order)):
        return None
    reasons: list[str] = []
    summary: dict = {"order_id": order.id}
    off_ms = int(v["time_off_s"]) * 1000
    if order.departed_ms is not None:
        late = (order.departed_ms - order.planned_start_ms) // 60000
        summary["departure_off_min"] = late
        if abs(order.departed_ms - order.planned_start_ms) > off_ms:
            reasons.append("departure")
    if order.returned_ms is not None:
        late = (order.returned_ms - order.planned_end_ms) // 60000
        summary["return_off_min"] = late
        if abs(order.returned_ms - order.planned_end_ms) > off_ms:
            reasons.append("return")
    if c.order_finished(ctx, order) and c.trips_of_order(ctx, order) and order.destinations:
        distances = nearest_m(ctx, order)
        summary["destination_nearest_m"] = [None if d is None else round(d) for d in distances]
        radius = float(v["destination_radius_m"])
        if any(d is not None and d > radius for d in distances):   # None: could not look
            reasons.append("destination")
    if not reasons:
        return None
    summary["reasons"] = reasons
    zh = {"departure": "出车时间与计划相差超过60分钟", "return": "还车时间与计划相差超过60分钟",
          "destination": "未到达审批目的地1公里内"}
    en = {"departure": "departed more than 60 min off plan",
          "return": "returned more than 60 min off plan",
          "destination": "never came within 1 km of an approved destination"}
    start, end = c.order_window(ctx, order)
    return Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:order:{order.id}", severity=str(v["severity"]),
        start_ms=start, end_ms=order.returned_ms if order.returned_ms is not None else (
            end if c.order_finished(ctx, order) else None),
        summary=summary, order_ids=(order.id,), driver_id=order.driver_id,
        trigger_ms=tuple(t for t in (order.departed_ms, order.returned_ms) if t is not None),
        message_zh=f"{ctx.vehicle.plate} 派车单{order.id}轨迹与审批不符：" + "；".join(
            zh[r] for r in reasons),
        message_en=f"{ctx.vehicle.plate} order {order.id} does not match its approval: "
                   + "; ".join(en[r] for r in reasons),
    )
