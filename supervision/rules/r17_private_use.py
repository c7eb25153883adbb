"""R17 疑似公车私用: a case of suspected private use, built from the other findings of one car
and day (domain.md §6, a.3) — a case for the inspectors, not a verdict.

Patterns (only findings above INFO count, after the profiles):
- r1_r9: a trip without an order (R1) and a stop at a sensitive place (R9) the same day;
- night_home: an off-hours (R2) or rest-day (R3) trip ending in a residential zone (居民小区);
- same_place_nights: the car parked outside its lot at night (R4) at the same place (within
  R4's `same_place_m`) on ≥ 3 nights of 7 — the earlier nights come from
  VehicleDay.recent_night_stops.
One case per car and day, keyed by the day, bundling the parts' (rule, key); ALARM.
"""

from __future__ import annotations

from collections.abc import Iterable

from supervision.model import Finding, VehicleDay
from supervision.rules import common as c

RULE = "R17"
RESIDENTIAL = "residential"


def build(ctx: VehicleDay, findings: Iterable[Finding]) -> list[Finding]:
    v = c.values(ctx, RULE)
    serious = [f for f in findings if f.severity != "info" and f.rule_id != RULE
               and c.owned(ctx, f.start_ms)]
    parts: list[Finding] = []
    patterns: list[str] = []
    r1 = [f for f in serious if f.rule_id == "R1" and not f.provisional]
    r9 = [f for f in serious if f.rule_id == "R9"]
    if r1 and r9:
        patterns.append("r1_r9")
        parts += r1 + r9
    home = [f for f in serious if f.rule_id in ("R2", "R3") and _ends_residential(ctx, f)]
    nights = [f for f in serious if f.rule_id == "R4"]
    if home:
        patterns.append("night_home")
        trip_keys = {f.key for f in home}
        parts += home + [f for f in serious if f.rule_id == "R1" and f.key in trip_keys]
        parts += [n for n in nights if _near_end_of(ctx, n, home)]
    count = _same_place_nights(ctx, nights[0]) if nights else 0
    if count >= int(v["same_place_nights"]):
        patterns.append("same_place_nights")
        parts += nights
    else:
        count = 0
    if not patterns:
        return []
    unique = {(p.rule_id, p.key): p for p in parts}
    keys = tuple(sorted(unique))
    start = min(p.start_ms for p in unique.values())
    ends = [p.end_ms for p in unique.values()]
    summary = {"patterns": patterns, "parts": [list(k) for k in keys],
               "same_place_nights": count or None,
               "km": round(sum(float(p.summary.get("km") or 0.0) for p in unique.values()
                               if p.rule_id in ("R1", "R2", "R3")), 2)}
    zh = {"r1_r9": "无单出车并在敏感场所停留", "night_home": "非工作时间行程终点在居民小区",
          "same_place_nights": f"一周内{count}晚停放在同一非指定地点"}
    en = {"r1_r9": "a trip without an order and a stop at a sensitive place",
          "night_home": "an off-hours trip ending in a residential area",
          "same_place_nights": f"parked at the same place outside its lot {count} nights in a week"}
    return [Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:case:{ctx.day.isoformat()}",
        severity=str(v["severity"]), start_ms=start,
        end_ms=None if any(e is None for e in ends) else max(e for e in ends if e is not None),
        summary=summary, part_keys=keys,
        order_ids=tuple(sorted({o for p in unique.values() for o in p.order_ids})),
        driver_id=next((p.driver_id for p in unique.values() if p.driver_id), None),
        zone_ids=tuple(sorted({z for p in unique.values() for z in p.zone_ids})),
        trigger_ms=tuple(sorted({t for p in unique.values() for t in p.trigger_ms})),
        message_zh=f"{ctx.vehicle.plate} 疑似公车私用：" + "；".join(zh[p] for p in patterns),
        message_en=f"{ctx.vehicle.plate} suspected private use: "
                   + "; ".join(en[p] for p in patterns),
    )]


def _ends_residential(ctx: VehicleDay, finding: Finding) -> bool:
    trip = next((t for t in ctx.trips if t.start_ms == finding.start_ms), None)
    if trip is None or trip.end_ms is None:
        return False
    points = [trip.end]
    stop = c.stop_after(ctx, trip)
    if stop is not None:
        points.append(stop.at)
    return any(z.purpose == c.SENSITIVE_PURPOSE and z.category == RESIDENTIAL
               for p in points for z in c.places(ctx, p))


def _near_end_of(ctx: VehicleDay, night: Finding, trips: list[Finding]) -> bool:
    """The night's parking place is where one of these trips ended."""
    at = night.summary.get("at")
    radius = float(c.values(ctx, "R4")["same_place_m"])
    return bool(at) and any(
        f.summary.get("to") and c.dist_m((at[0], at[1]), tuple(f.summary["to"])) <= radius
        for f in trips)


def _same_place_nights(ctx: VehicleDay, tonight: Finding) -> int:
    at = tonight.summary.get("at")
    if not at:
        return 0
    v4 = c.values(ctx, "R4")
    window_ms = int(c.values(ctx, RULE)["window_days"]) * c.DAY_MS
    radius = float(v4["same_place_m"])
    here = (float(at[0]), float(at[1]))
    days = {ctx.day_start_ms}
    for ts_ms, lon, lat in ctx.recent_night_stops:
        if ctx.day_end_ms - window_ms <= ts_ms < ctx.day_start_ms \
                and c.dist_m(here, (lon, lat)) <= radius:
            days.add(ctx.day_start_ms - ((ctx.day_start_ms - ts_ms - 1) // c.DAY_MS + 1) * c.DAY_MS)
    return len(days)
