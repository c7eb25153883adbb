"""The violation rules (domain.md §6): one pure module per rule, `detect(ctx) -> [Finding]`.

`evaluate(ctx)` runs them all on one vehicle-day, applies the rule profiles (a.3 "Rule
profiles by vehicle category") and builds the R17 cases from what remains;
`evaluate_request(view, now_ms, params)` judges one emergency request (R14).

Profiles:
- 执法执勤/应急保障 cars on duty (a duty registration, or office hours when R1's
  `office_hours_on_duty` is on): R1, R2, R3, R4 become INFO;
- 机要通信: R9 INFO only;
- leased cars (社会化租赁): only findings while a platform order holds the car are kept —
  outside an order the car is the rental company's and is not watched.
"""

from __future__ import annotations

from dataclasses import replace

from supervision.model import Finding, VehicleDay
from supervision.rules import (
    common,
    r01_no_order,
    r02_off_hours,
    r03_rest_day,
    r04_not_at_lot,
    r05_left_area,
    r06_speeding,
    r07_device_dark,
    r08_long_stop,
    r09_sensitive_stop,
    r10_mileage,
    r13_mismatch,
    r16_fatigue,
    r17_private_use,
)
from supervision.rules.r14_emergency_overdue import evaluate_request

DETECTORS = {
    "R1": r01_no_order.detect, "R2": r02_off_hours.detect, "R3": r03_rest_day.detect,
    "R4": r04_not_at_lot.detect, "R5": r05_left_area.detect, "R6": r06_speeding.detect,
    "R7": r07_device_dark.detect, "R8": r08_long_stop.detect, "R9": r09_sensitive_stop.detect,
    "R10": r10_mileage.detect, "R13": r13_mismatch.detect, "R16": r16_fatigue.detect,
}
DUTY_SOFTENED = frozenset({"R1", "R2", "R3", "R4"})

__all__ = ["DETECTORS", "evaluate", "evaluate_request", "apply_profile"]


def evaluate(ctx: VehicleDay) -> list[Finding]:
    """Every rule on one vehicle-day, profiles applied, R17 cases added; sorted by rule, key."""
    findings: list[Finding] = []
    for detect in DETECTORS.values():
        findings.extend(detect(ctx))
    findings = apply_profile(ctx, findings)
    findings.extend(r17_private_use.build(ctx, findings))
    return sorted(findings, key=lambda f: (_rule_no(f.rule_id), f.key))


def apply_profile(ctx: VehicleDay, findings: list[Finding]) -> list[Finding]:
    vehicle = ctx.vehicle
    kept = []
    for f in findings:
        if vehicle.source == "leased" and not f.order_ids \
                and not common.under_order(ctx, f.start_ms, f.end_ms):
            continue
        if f.rule_id in DUTY_SOFTENED and f.severity != "info" \
                and common.on_duty(ctx, f.start_ms, f.end_ms):
            f = _soften(f, "on_duty")
        elif f.rule_id == "R9" and vehicle.use_category == "confidential" and f.severity != "info":
            f = _soften(f, "confidential")
        kept.append(f)
    return kept


def _soften(f: Finding, why: str) -> Finding:
    summary = {**f.summary, "profile": why, "severity_before_profile": f.severity}
    return replace(f, severity="info", summary=summary)


def _rule_no(rule_id: str) -> int:
    return int(rule_id[1:]) if rule_id[1:].isdigit() else 99
