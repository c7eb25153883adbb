"""R17 疑似公车私用: a case of suspected private use, built from the other findings of one car
and day (domain.md §6, a.3) — a case for the inspectors, not a verdict.

Patterns (only findings above INFO count, after the profiles):
- r1_r9: a trip without an order (R1) and a stop at a sensitive place (R9) the same day;
- night_home: an off-hours outing (R2) or rest-day trip (R3) with a leg ending in a residential
  zone (居民小区);
- same_place_nights: the car parked outside its lot at night (R4) at the same place (within
  R4's `same_place_m`) on ≥ 3 nights of 7 — the earlier nights come from
  VehicleDay.recent_night_stops.
One case per car and day, keyed by the day, bundling the parts' (rule, key); ALARM.
"""

from __future__ import annotations

from collections.abc import Iterable

from supervision.model import Finding, VehicleDay
from supervision.rules import common as c
from supervision.rules import outings as out

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
               "km": _km(unique.values())}
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


def _km(parts: Iterable[Finding]) -> float:
    """The km driven by the parts' outings and trips, each once (R1 and R2 of one outing
    share its key)."""
    km: dict[str, float] = {}
    for p in parts:
        if p.rule_id in ("R1", "R2", "R3"):
            km[p.key] = max(km.get(p.key, 0.0), float(p.summary.get("km") or 0.0))
    return round(sum(km.values()), 2)


def _ends_residential(ctx: VehicleDay, finding: Finding) -> bool:
    """A leg of the finding's outing (R2; R3's trip) ended in a residential zone."""
    outing = out.starting_at(ctx, finding.start_ms)
    legs = outing.legs if outing is not None else tuple(
        t for t in ctx.trips if t.start_ms == finding.start_ms)
    for leg in legs:
        if leg.end_ms is None:
            continue
        points = [leg.end]
        stop = c.stop_after(ctx, leg)
        if stop is not None:
            points.append(stop.at)
        if any(z.purpose == c.SENSITIVE_PURPOSE and z.category == RESIDENTIAL
               for p in points for z in c.places(ctx, p, leg.end_ms)):
            return True
    return False


def _near_end_of(ctx: VehicleDay, night: Finding, trips: list[Finding]) -> bool:
    """The night's parking place is where one of these trips (or legs of an outing) ended."""
    at = night.summary.get("at")
    radius = float(c.values(ctx, "R4")["same_place_m"])
    if not at:
        return False
    ends = [tuple(f.summary["to"]) for f in trips if f.summary.get("to")]
    ends += [tuple(leg["to"]) for f in trips for leg in f.summary.get("legs") or ()
             if leg.get("to")]
    return any(c.dist_m((at[0], at[1]), end) <= radius for end in ends)


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
