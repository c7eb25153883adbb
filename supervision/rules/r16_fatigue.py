"""R16 疲劳驾驶: one driver drives more than 4 h without a 20 min break (domain.md §6, a.3).

Drivers are known from the orders: the trips covered by orders a driver holds that day are
theirs. Consecutive trips of one driver separated by less than the break (20 min) form one
stint; its driving time is the sum of the trips' durations (short halts do not count as
driving, nor reset it). A stint over 4 h → WARN, keyed by the driver and the stint's first
trip; live while the last trip goes on. (One car's data: a driver switching cars is not seen.)
"""

from __future__ import annotations

from supervision.model import Finding, TripView, VehicleDay
from supervision.rules import common as c

RULE = "R16"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    by_driver: dict[int, list[tuple[TripView, int]]] = {}
    for trip in sorted(ctx.trips, key=lambda t: t.start_ms):
        orders = [o for o in c.covering_orders(ctx, trip.start_ms, trip.end_ms)
                  if o.driver_id is not None]
        if orders:
            by_driver.setdefault(orders[0].driver_id, []).append((trip, orders[0].id))  # type: ignore[arg-type]
    found = []
    for driver_id, trips in by_driver.items():
        for stint in _stints(ctx, trips, int(v["min_break_s"]) * 1000):
            finding = _judge(ctx, driver_id, stint, v)
            if finding is not None:
                found.append(finding)
    return found


def _stints(ctx: VehicleDay, trips: list[tuple[TripView, int]],
            break_ms: int) -> list[list[tuple[TripView, int]]]:
    stints: list[list[tuple[TripView, int]]] = []
    for trip, order_id in trips:
        if stints and trip.start_ms - c.trip_end(ctx, stints[-1][-1][0]) < break_ms:
            stints[-1].append((trip, order_id))
        else:
            stints.append([(trip, order_id)])
    return stints


def _judge(ctx: VehicleDay, driver_id: int, stint: list[tuple[TripView, int]],
           v: dict) -> Finding | None:
    first = stint[0][0]
    if not c.owned(ctx, first.start_ms):
        return None
    driving_s = sum(c.trip_seconds(ctx, t) for t, _ in stint)
    if driving_s <= int(v["max_driving_s"]):
        return None
    last = stint[-1][0]
    span_s = (c.trip_end(ctx, last) - first.start_ms) // 1000
    hours = driving_s / 3600.0
    return Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:driver:{driver_id}:{first.start_ms}",
        severity=str(v["severity"]), start_ms=first.start_ms, end_ms=last.end_ms,
        summary={"driving_s": driving_s, "span_s": span_s, "trips": len(stint),
                 "longest_break_s": _longest_break_s(ctx, stint), "driver_id": driver_id,
                 "from": c.local_iso(first.start_ms), "to": c.local_iso(last.end_ms),
                 "km": round(sum(t.dist_m for t, _ in stint) / 1000.0, 1)},
        order_ids=tuple(sorted({o for _, o in stint})), driver_id=driver_id,
        trigger_ms=(first.start_ms,),
        message_zh=f"{ctx.vehicle.plate} 驾驶员连续驾驶{hours:.1f}小时未休息20分钟，疲劳驾驶",
        message_en=f"{ctx.vehicle.plate}: the driver drove {hours:.1f} h without a 20 min break",
    )


def _longest_break_s(ctx: VehicleDay, stint: list[tuple[TripView, int]]) -> int:
    breaks = [(b.start_ms - c.trip_end(ctx, a)) // 1000
              for (a, _), (b, _) in zip(stint, stint[1:], strict=False)]
    return max(breaks, default=0)
