"""The parameters of every rule (domain.md §6, domain-research a.2/a.3), and which values hold
for a vehicle. Pure code.

Every threshold is a default that an organisation may override (table rule_params, versioned);
a violation records the values and the version it was judged with. Resolution for a vehicle:
the nearest organisation on the vehicle's org path (its owner first, then up to the root) that
has a row for the rule, else the platform's row (org_id NULL), else the code defaults below
(version 0). A row may give only some values: the others come from the code defaults. Among
one organisation's rows the newest version in force at the evaluation time wins.

`by_category` holds overrides per vehicle use category (特种专业技术 drive far by trade: their
daily-mileage threshold is raised, a.3 "Rule profiles"); `values_for(params, category)` merges
them.

Coverage of a trip by an order (a.2) is defined once, in R1's values (cover_before_s,
cover_after_s): every rule judges coverage the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from supervision.model import RuleParams

DEFAULTS: dict[str, dict[str, Any]] = {
    # 无派车单出车
    "R1": {
        "min_trip_m": 1000, "min_trip_s": 300,          # ≥ 1 km or ≥ 5 min
        "live_after_s": 600,                            # provisional after 10 min of driving
        "service_stop_max_s": 3600,                     # 定点 fuel/repair stop at most this long
        "cover_before_s": 1800, "cover_after_s": 3600,  # coverage: planned start − 30 min … end + 60 min
        "office_hours_on_duty": True,                   # 执法/应急 cars count as on duty in office hours
        "office_from": "08:30", "office_to": "17:30",
        "severity": "alarm",
    },
    # 非工作时间出车
    "R2": {"night_from": "20:00", "night_to": "06:00", "min_night_s": 60,
           "severity_covered": "info", "severity": "alarm"},
    # 节假日出车; a sealed car moving: ALARM, level high
    "R3": {"sealed_min_m": 500, "severity_covered": "info", "severity": "alarm"},
    # 未按规定停放
    "R4": {"check_time": "22:00", "alarm_time": "23:00", "lot_tolerance_m": 100,
           "exempt_radius_m": 5000, "same_place_m": 300,
           "exempt_site_categories": ["repair", "inspection"]},   # left at a 定点 garage
    # 越界
    "R5": {"persist_s": 60, "severity": "alarm"},
    # 超速
    "R6": {"tolerance_pct": 10, "min_duration_s": 15, "default_limit_kmh": 120,
           "urban_limit_kmh": 60, "severity": "warn"},
    # 设备离线/断电/拔出
    "R7": {"gap_intervals": 3, "min_gap_s": 600, "moving_kmh": 5, "far_m": 2000,
           "max_plausible_kmh": 150, "power_cut_bit": 8, "antenna_bit": 5,
           "power_cut_severity": "alarm", "antenna_severity": "warn", "severity": "warn"},
    # 长时间停留
    "R8": {"min_stop_s": 3600, "waypoint_radius_m": 1000, "severity": "info"},
    # 敏感区域停留
    "R9": {"min_stop_s": 600,
           "categories": ["entertainment", "club_hotel", "scenic_area", "golf_resort"],
           "residential_off_hours": False, "severity": "alarm"},
    # 绕道/里程异常
    "R10": {"detour_factor": 1.3, "detour_extra_km": 10, "day_max_km": 300,
            "severity": "warn",
            "by_category": {"special_technical": {"day_max_km": 500}}},
    # 轨迹与审批不符
    "R13": {"destination_radius_m": 1000, "time_off_s": 3600, "severity": "warn"},
    # 应急补单超时
    "R14": {"approve_within_s": 86400, "severity": "alarm"},
    # 疲劳驾驶
    "R16": {"max_driving_s": 14400, "min_break_s": 1200, "severity": "warn"},
    # 疑似公车私用 (a case)
    "R17": {"same_place_nights": 3, "window_days": 7, "severity": "alarm"},
}

RULE_IDS = tuple(DEFAULTS)


@dataclass(frozen=True)
class ParamRow:
    """A rule_params row as the resolution needs it (org_id None: the platform's)."""
    org_id: int | None
    rule_id: str
    version: int
    params: Mapping[str, Any]
    valid_from_ms: int = 0


def defaults(rule_id: str) -> RuleParams:
    return RuleParams(rule_id, 0, _copy(DEFAULTS[rule_id]))


def resolve(rule_id: str, org_path: Sequence[int], rows: Iterable[ParamRow],
            at_ms: int | None = None) -> RuleParams:
    """The parameters in force for a vehicle whose owner's org path (root … owner) is org_path.
    A stored value that does not fit (a wrong kind, not finite, out of range, an unknown name,
    a window left empty) is ignored — its default holds — and said in RuleParams.problems:
    one bad row never stops the rules."""
    candidates = [r for r in rows if r.rule_id == rule_id
                  and (at_ms is None or r.valid_from_ms <= at_ms)]
    for org_id in [*reversed(tuple(org_path)), None]:
        mine = [r for r in candidates if r.org_id == org_id]
        if mine:
            row = max(mine, key=lambda r: r.version)
            values, problems = usable(rule_id, row.params)
            where = f"{rule_id} v{row.version} ({'platform' if org_id is None else f'org {org_id}'})"
            return RuleParams(rule_id, row.version, merge(DEFAULTS.get(rule_id, {}), values),
                              tuple(f"{where}: {p}: ignored, the default holds" for p in problems))
    return defaults(rule_id)


def usable(rule_id: str, stored: Any) -> tuple[dict[str, Any], list[str]]:
    """The stored values that may be used, and what was wrong with the others."""
    from supervision import param_checks  # it checks against DEFAULTS: imported late

    if rule_id not in DEFAULTS:
        return {}, [f"unknown rule {rule_id}"]
    if isinstance(stored, str | bytes):
        try:
            stored = json.loads(stored)
        except ValueError:
            stored = None
    if not isinstance(stored, Mapping):
        return {}, ["the stored values are not a map of names to values"]
    kept: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in stored.items():
        if name == "by_category" and isinstance(value, Mapping):
            cats = _usable_categories(rule_id, value, problems)
            if cats:
                kept[name] = cats
            continue
        found = param_checks.entry_problems(rule_id, name, value)
        if found:
            problems += found
        else:
            kept[name] = value
    merged = merge(DEFAULTS[rule_id], kept)
    for problem, names in param_checks.window_problems(rule_id, merged):
        problems.append(problem)
        for name in names:
            kept.pop(name, None)
    for category, over in list((kept.get("by_category") or {}).items()):
        for problem, names in param_checks.window_problems(rule_id, {**merged, **over}):
            problems.append(f"by_category.{category}.{problem}")
            kept["by_category"][category] = {
                n: v for n, v in kept["by_category"][category].items() if n not in names}
    return kept, problems


def _usable_categories(rule_id: str, value: Mapping[str, Any],
                       problems: list[str]) -> dict[str, dict[str, Any]]:
    from supervision import param_checks

    cats: dict[str, dict[str, Any]] = {}
    for category, values in value.items():
        found = param_checks.entry_problems(rule_id, "by_category", {category: values})
        if not found:
            cats[category] = dict(values)
            continue
        if category not in param_checks.USE_CATEGORIES or not isinstance(values, Mapping):
            problems += found
            continue
        good = {}
        for name, v in values.items():
            bad = param_checks.entry_problems(rule_id, "by_category", {category: {name: v}})
            if bad:
                problems += bad
            else:
                good[name] = v
        if good:
            cats[category] = good
    return cats


def resolve_all(org_path: Sequence[int], rows: Iterable[ParamRow],
                at_ms: int | None = None) -> dict[str, RuleParams]:
    """Every rule's parameters for the vehicle (VehicleDay.params)."""
    rows = list(rows)
    return {rule_id: resolve(rule_id, org_path, rows, at_ms) for rule_id in RULE_IDS}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults with a row's values over them (by_category merged one level deeper)."""
    merged = _copy(base)
    for name, value in override.items():
        if name == "by_category" and isinstance(value, Mapping):
            cats = dict(merged.get("by_category", {}))
            for cat, vals in value.items():
                cats[cat] = {**cats.get(cat, {}), **dict(vals)}
            merged["by_category"] = cats
        else:
            merged[name] = value
    return merged


def values_for(params: RuleParams | None, rule_id: str, use_category: str) -> dict[str, Any]:
    """The values a rule uses for a vehicle of that use category (code defaults if missing)."""
    values = params.values if params is not None else DEFAULTS[rule_id]
    values = merge(DEFAULTS.get(rule_id, {}), values)
    overrides = values.get("by_category", {}).get(use_category, {})
    return {**values, **overrides}


def unknown_names(rule_id: str, values: Mapping[str, Any]) -> list[str]:
    """Names a rule does not know (for the parameters API to refuse typos)."""
    known = DEFAULTS.get(rule_id, {})
    return sorted(name for name in values if name not in known)


def _copy(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            out[name] = _copy(value)
        elif isinstance(value, list):
            out[name] = list(value)
        else:
            out[name] = value
    return out
