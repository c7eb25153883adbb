"""R3 节假日出车: use on a rest day or holiday, and any movement of a sealed car (domain.md
§6, a.3).

A trip with a part on an off day (calendar date: weekends and holidays, 调休 make-up working
days excepted) and neither a covering order nor a duty registration (值班/应急报备) → ALARM;
covered or registered → INFO (logged). During a holiday seal (节假日封存) covering the car's
organisation, any movement of more than `sealed_min_m` (R10(d): 0.5 km) → ALARM at level
"high", even if short; a registered duty car is exempt but logged (INFO).
"""

from __future__ import annotations

from supervision.model import Finding, TripView, VehicleDay
from supervision.rules import common as c

RULE = "R3"


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    off_spans = _off_spans(ctx)
    found = []
    for trip in ctx.trips:
        if c.owned(ctx, trip.start_ms):
            finding = _judge(ctx, trip, off_spans, v)
            if finding is not None:
                found.append(finding)
    return found


def _off_spans(ctx: VehicleDay) -> list[tuple[int, int]]:
    spans = []
    if not ctx.working_day:
        spans.append((ctx.day_start_ms, ctx.day_end_ms))
    if not ctx.tomorrow_working_day:
        spans.append((ctx.day_end_ms, ctx.day_end_ms + c.DAY_MS))
    return spans


def _judge(ctx: VehicleDay, trip: TripView, off_spans: list[tuple[int, int]],
           v: dict) -> Finding | None:
    end = c.trip_end(ctx, trip)
    off_ms = c.intervals_overlap_ms(trip.start_ms, end, off_spans)
    seals = [(s, e) for s, e in ctx.seals if c.overlap_ms(trip.start_ms, end, s, e) > 0]
    sealed_km = c.km_within(ctx, trip, seals) if seals else 0.0
    sealed = bool(seals) and sealed_km * 1000 >= float(v["sealed_min_m"])
    if off_ms <= 0 and not sealed:
        return None
    orders = c.covering_orders(ctx, trip.start_ms, trip.end_ms)
    duty = c.registered_duty(ctx, trip.start_ms, trip.end_ms)
    severity = str(v["severity_covered"] if duty or orders else v["severity"])
    summary = c.trip_summary(ctx, trip)
    summary.update({
        "off_day_km": round(c.km_within(ctx, trip, off_spans), 2),
        "off_day": off_ms > 0, "sealed": sealed, "level": "high" if sealed else "normal",
        "sealed_km": round(sealed_km, 2), "covered": bool(orders), "duty": duty,
    })
    if sealed:
        summary["seal"] = {"from": c.local_iso(seals[0][0]), "to": c.local_iso(seals[0][1])}
    if not orders:
        summary["orders_checked"] = c.orders_checked(ctx, trip.start_ms, trip.end_ms)
    km = summary["km"]
    if sealed:
        zh, en = "封存期间车辆移动", "a sealed car moved during a holiday seal"
    else:
        zh, en = "节假日/休息日出车", "drove on a rest day"
    if orders or duty:
        zh, en = zh + "（已审批/报备）", en + " (approved or on duty)"
    return Finding(
        rule_id=RULE, key=c.trip_key(ctx, trip), severity=severity,
        start_ms=trip.start_ms, end_ms=trip.end_ms, summary=summary,
        order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
        provisional=trip.end_ms is None, trigger_ms=(trip.start_ms,),
        message_zh=f"{ctx.vehicle.plate} {zh}，{c.local_hm(trip.start_ms)}起行驶{km}公里",
        message_en=f"{ctx.vehicle.plate}: {en}, {km} km from {c.local_hm(trip.start_ms)}",
    )
