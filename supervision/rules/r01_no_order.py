"""R1 无派车单出车: an outing without a covering dispatch order (domain.md §6, a.3).

R1 judges outings (rules/outings.py): from the trip that leaves the designated lot through
every following trip until the car is back at its lot (or the loaded data ends) — one finding
per outing, keyed by its first trip, however many legs it has. A leg is covered when an order
covers it (a.2); an outing whose uncovered legs make ≥ 1 km or ≥ 5 min in total → ALARM, its
summary listing the legs, the km and the stops. Runs that do not start at the lot (the car
stood elsewhere for hours) are not R1: they did not leave the lot. A car without a lot is
judged trip by trip.

Excluded: an outing whose every stop is at a 定点 site (fuel, repair, wash…) and lasted at
most 60 min — a refuelling run is not private use. While the car drives (the last leg goes
on) and nothing settled makes it an R1 yet, after 10 min of driving a provisional finding
under the same key says so live; once the car parks it is confirmed, amended or retracted.
The profiles (执法/应急 on duty → INFO) are applied by rules.evaluate.
"""

from __future__ import annotations

from supervision.model import Finding, StopView, TripView, VehicleDay
from supervision.rules import common as c
from supervision.rules import outings as out
from supervision.rules.outings import Outing

RULE = "R1"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    return [f for o in out.owned(ctx) if (f := _judge(ctx, o, v)) is not None]


def _enough(ctx: VehicleDay, legs: list[TripView], v: dict) -> bool:
    metres = sum(t.dist_m for t in legs)
    seconds = sum(c.trip_seconds(ctx, t) for t in legs)
    return bool(legs) and (metres >= float(v["min_trip_m"]) or seconds >= int(v["min_trip_s"]))


def _judge(ctx: VehicleDay, outing: Outing, v: dict) -> Finding | None:
    if outing.from_lot is False:
        return None                               # it did not leave the lot
    if len(outing.legs) == 1 and c.stayed_in_lot(ctx, outing.first):
        return None
    covering = {leg.start_ms: c.covering_orders(ctx, leg.start_ms, leg.end_ms)
                for leg in outing.legs}
    uncovered = [leg for leg in outing.legs if not covering[leg.start_ms]]
    if not _enough(ctx, uncovered, v):
        return None
    max_s = int(v["service_stop_max_s"])
    stops = out.stops(ctx, outing)
    if outing.from_lot is None:                   # no lot: where it came from counts too
        before = c.stop_before(ctx, outing.first)
        stops = [before or StopView(outing.start_ms, outing.start_ms, outing.first.start, 0),
                 *stops]
    service_so_far = all(out.service_stop(ctx, s, max_s) for s in stops)
    if outing.ongoing:
        settled = _enough(ctx, [t for t in uncovered if t.end_ms is not None], v) \
            and not service_so_far
        driving_s = c.trip_seconds(ctx, outing.last)
        live_s = driving_s if service_so_far else sum(c.trip_seconds(ctx, t) for t in uncovered)
        if not settled and live_s <= int(v["live_after_s"]):
            return None
        provisional = not settled
    else:
        if stops and service_so_far:
            return None                           # a 定点 service run
        provisional = False
    return _finding(ctx, outing, uncovered, covering, provisional, v)


def _finding(ctx: VehicleDay, outing: Outing, uncovered: list[TripView],
             covering: dict, provisional: bool, v: dict) -> Finding:
    km = round(sum(t.dist_m for t in uncovered) / 1000.0, 2)
    seconds = sum(c.trip_seconds(ctx, t) for t in uncovered)
    orders = sorted({o.id: o for found in covering.values() for o in found}.values(),
                    key=lambda o: o.id)
    summary = out.summary(ctx, outing)
    for leg, row in zip(outing.legs, summary["legs"], strict=True):
        row["covered"] = bool(covering[leg.start_ms])
    summary.update({
        "uncovered_km": km, "uncovered_s": seconds, "legs_uncovered": len(uncovered),
        "distance_from_lot_m": c.rounded(c.lot_distance_m(ctx, outing.first.start), 0),
        "orders_checked": c.orders_checked(ctx, outing.start_ms, outing.end_ms),
    })
    minutes, live = seconds // 60, outing.ongoing
    legs_zh = f"（{len(outing.legs)}段）" if len(outing.legs) > 1 else ""
    legs_en = f" in {len(outing.legs)} legs" if len(outing.legs) > 1 else ""
    return Finding(
        rule_id=RULE, key=c.trip_key(ctx, outing.first), severity=str(v["severity"]),
        start_ms=outing.start_ms, end_ms=outing.end_ms, summary=summary,
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders), provisional=provisional,
        trigger_ms=(outing.start_ms,) if live else (outing.start_ms, outing.end_ms),
        message_zh=f"{ctx.vehicle.plate} {c.local_hm(outing.start_ms)}起无派车单出车{legs_zh}，"
                   f"行驶{km}公里、{minutes}分钟" + ("（行驶中）" if live else ""),
        message_en=f"{ctx.vehicle.plate} drove without a dispatch order from "
                   f"{c.local_hm(outing.start_ms)}{legs_en}: {km} km in {minutes} min"
                   + (" (still driving)" if live else ""),
    )
