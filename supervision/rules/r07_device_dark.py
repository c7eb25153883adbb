"""R7 设备离线/断电/拔出: the terminal went dark, lost power or its antenna (domain.md §6, a.3).

- A data gap longer than max(3 × the report interval, 10 min) while the ACC was on or the car
  moving → WARN. A car asleep with ACC off is not offline.
- Dark while moving (or parked), then reappearing far away (≥ `far_m`) after a gap whose
  implied speed is plausible for driving → "离线期间疑似行驶" ALARM; under a covering order
  (a tunnel on an approved trip) it stays WARN.
- A gap still open at the horizon (the tick) counts from the last fix: the same key as the gap
  episode the tracker will write when data comes back (keyed by the last fix's time).
- Main-power-cut (bit 8) and GNSS-antenna (bit 5) alarm episodes → ALARM / WARN (params).
"""

from __future__ import annotations

from typing import Any

from supervision.model import Finding, VehicleDay
from supervision.rules import common as c

RULE = "R7"
BIT_NAMES = {8: ("主电源掉电", "main power cut"), 5: ("GNSS天线断开", "GNSS antenna cut"),
             7: ("欠压", "low voltage"), 6: ("GNSS天线短路", "GNSS antenna short")}


def detect(ctx: VehicleDay) -> list[Finding]:
    v = c.values(ctx, RULE)
    return _gaps(ctx, v) + _alarms(ctx, v)


def threshold_s(ctx: VehicleDay, v: dict) -> int:
    return max(int(v["gap_intervals"]) * int(ctx.vehicle.report_interval_s), int(v["min_gap_s"]))


def _gaps(ctx: VehicleDay, v: dict) -> list[Finding]:
    found = []
    limit_s = threshold_s(ctx, v)
    seen = set()
    for e in c.episodes(ctx, "gap"):
        seen.add(e.start_ms)
        if c.owned(ctx, e.start_ms):
            finding = _judge_gap(ctx, v, e.start_ms, e.end_ms, e.data, limit_s)
            if finding is not None:
                found.append(finding)
    fix = ctx.last_fix
    if fix is not None and fix.ts_ms not in seen and c.owned(ctx, fix.ts_ms):
        data = {"from": [fix.lon, fix.lat], "to": None, "acc": fix.acc,
                "speed_kmh": fix.speed_kmh, "dist_m": None}
        finding = _judge_gap(ctx, v, fix.ts_ms, None, data, limit_s)
        if finding is not None:
            found.append(finding)
    return found


def _judge_gap(ctx: VehicleDay, v: dict, start: int, end: int | None, data: dict[str, Any],
               limit_s: int) -> Finding | None:
    gap_s = (c.end_or_horizon(ctx, end) - start) // 1000
    if gap_s < limit_s:
        return None
    speed = data.get("speed_kmh")
    moving = speed is not None and float(speed) >= float(v["moving_kmh"])
    acc_on = data.get("acc") is True or (data.get("acc") is None and moving)
    dist = data.get("dist_m")
    far = (end is not None and dist is not None and float(dist) >= float(v["far_m"])
           and float(dist) / 1000.0 / max(gap_s / 3600.0, 1e-6) <= float(v["max_plausible_kmh"]))
    if not acc_on and not far:
        return None                                 # asleep, ACC off: not offline
    orders = c.covering_orders(ctx, start, end)
    severity = "alarm" if far and not orders else str(v["severity"])
    summary = {
        "gap_s": gap_s, "threshold_s": limit_s, "last_seen": c.local_iso(start),
        "reappeared": c.local_iso(end), "from": data.get("from"), "to": data.get("to"),
        "reappear_dist_m": None if dist is None else round(float(dist)),
        "acc": data.get("acc"), "speed_kmh": speed, "moved_while_dark": far,
        "ongoing": end is None,
    }
    minutes = gap_s // 60
    if far:
        zh = f"离线{minutes}分钟后在{float(dist) / 1000:.1f}公里外出现，疑似离线行驶"
        en = f"dark for {minutes} min, reappeared {float(dist) / 1000:.1f} km away"
    else:
        zh, en = f"行驶中设备离线{minutes}分钟", f"went dark for {minutes} min with ACC on"
    return Finding(
        rule_id=RULE, key=f"v{ctx.vehicle.id}:gap:{start}", severity=severity,
        start_ms=start, end_ms=end, summary=summary, order_ids=c.order_ids(orders),
        driver_id=c.driver_of(orders), trigger_ms=(start,) if end is None else (start, end),
        message_zh=f"{ctx.vehicle.plate} {zh}", message_en=f"{ctx.vehicle.plate} {en}",
    )


def _alarms(ctx: VehicleDay, v: dict) -> list[Finding]:
    severities = {int(v["power_cut_bit"]): str(v["power_cut_severity"]),
                  int(v["antenna_bit"]): str(v["antenna_severity"])}
    found = []
    for e in c.episodes(ctx, "alarm"):
        bit = int(e.data.get("bit", e.key or -1))
        if bit not in severities or not c.owned(ctx, e.start_ms):
            continue
        zh, en = BIT_NAMES.get(bit, (f"报警位{bit}", f"alarm bit {bit}"))
        orders = c.covering_orders(ctx, e.start_ms, e.end_ms)
        duration_s = (c.end_or_horizon(ctx, e.end_ms) - e.start_ms) // 1000
        found.append(Finding(
            rule_id=RULE, key=f"v{ctx.vehicle.id}:alarm{bit}:{e.start_ms}",
            severity=severities[bit], start_ms=e.start_ms, end_ms=e.end_ms,
            summary={"bit": bit, "alarm": en, "duration_s": duration_s,
                     "since": c.local_iso(e.start_ms), "until": c.local_iso(e.end_ms),
                     "ongoing": e.end_ms is None},
            order_ids=c.order_ids(orders), driver_id=c.driver_of(orders),
            trigger_ms=(e.start_ms,),
            message_zh=f"{ctx.vehicle.plate} {c.local_hm(e.start_ms)}终端报警：{zh}",
            message_en=f"{ctx.vehicle.plate} terminal alarm at {c.local_hm(e.start_ms)}: {en}",
        ))
    return found
