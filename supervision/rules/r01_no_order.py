"""R1 无派车单出车: a trip without a covering dispatch order (domain.md §6, a.3).

A trip that leaves the designated lot, is ≥ 1 km or ≥ 5 min, and is covered by no order →
ALARM. Excluded: trips between the lot and 定点 sites (fuel, repair, wash…) whose stops there
last at most 60 min — a refuelling run is not private use. While a trip goes on, after 10 min
of driving without cover, a provisional finding under the same key says so live; at the trip's
end it is confirmed, amended or retracted. The profiles (执法/应急 on duty → INFO) are applied
by rules.evaluate.
"""

from __future__ import annotations

from supervision.model import Finding, StopView, TripView, VehicleDay
from supervision.rules import common as c

RULE = "R1"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    found = []
    for trip in ctx.trips:
        if not c.owned(ctx, trip.start_ms):
            continue
        finding = _judge(ctx, trip, v)
        if finding is not None:
            found.append(finding)
    return found


def _judge(ctx: VehicleDay, trip: TripView, v: dict) -> Finding | None:
    seconds = c.trip_seconds(ctx, trip)
    if trip.dist_m < float(v["min_trip_m"]) and seconds < int(v["min_trip_s"]):
        return None
    if c.stayed_in_lot(ctx, trip):
        return None
    if c.covering_orders(ctx, trip.start_ms, trip.end_ms):
        return None
    live = trip.end_ms is None
    if live and seconds <= int(v["live_after_s"]):
        return None
    if not live and _service_run(ctx, trip, v):
        return None
    summary = c.trip_summary(ctx, trip)
    summary["distance_from_lot_m"] = c.rounded(c.lot_distance_m(ctx, trip.start), 0)
    summary["orders_checked"] = c.orders_checked(ctx, trip.start_ms, trip.end_ms)
    km, minutes = summary["km"], seconds // 60
    return Finding(
        rule_id=RULE, key=c.trip_key(ctx, trip), severity=str(v["severity"]),
        start_ms=trip.start_ms, end_ms=trip.end_ms, summary=summary, provisional=live,
        trigger_ms=(trip.start_ms,) if live else (trip.start_ms, trip.end_ms),
        message_zh=f"{ctx.vehicle.plate} {c.local_hm(trip.start_ms)}起无派车单出车，"
                   f"行驶{km}公里、{minutes}分钟" + ("（行驶中）" if live else ""),
        message_en=f"{ctx.vehicle.plate} drove without a dispatch order from "
                   f"{c.local_hm(trip.start_ms)}: {km} km in {minutes} min"
                   + (" (still driving)" if live else ""),
    )


def _service_run(ctx: VehicleDay, trip: TripView, v: dict) -> bool:
    """Both ends at the lot or at a 定点 site with a short stop, at least one at a site."""
    max_s = int(v["service_stop_max_s"])
    end_kind = _end_kind(ctx, trip.end, c.stop_after(ctx, trip), max_s)
    start_kind = _end_kind(ctx, trip.start, c.stop_before(ctx, trip), max_s)
    kinds = {end_kind, start_kind}
    return "other" not in kinds and "site" in kinds


def _end_kind(ctx: VehicleDay, at: tuple[float, float], stop: StopView | None,
              max_s: int) -> str:
    if stop is not None and c.service_site(ctx, stop.at) is not None:
        return "site" if c.stop_seconds(ctx, stop) <= max_s else "other"
    if stop is None and c.service_site(ctx, at) is not None:
        return "site"
    if c.in_lot(ctx, at):
        return "lot"
    return "other"
