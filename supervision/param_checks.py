"""Checks of rule parameter values an admin sets (规则参数). Pure code.

A new version may give some of a rule's values: each must be a name the rule knows
(supervision/params.DEFAULTS) with a value of the default's kind — a finite number (not
negative; a speed, a factor or a count that must be positive is positive; a JT/T 808 alarm
bit 0…31), a flag, a clock time "HH:MM", a severity, a list of known names; `by_category` maps
a use category to such values. Windows must not be empty: R2's night from ≠ to, R1's office
hours from < to, R4's alarm time ≠ its check time — judged on the values as they would be in
force (the defaults with the new values over them).

The same checks keep a bad stored row from stopping the rules worker: supervision/params.py
ignores (and reports) any stored value that fails them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from supervision.params import DEFAULTS, merge
from supervision.zones import SENSITIVE_CATEGORIES, SERVICE_CATEGORIES

SEVERITIES = ("info", "warn", "alarm")
USE_CATEGORIES = ("confidential", "emergency", "law_enforcement", "special_technical", "general")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# Values that must be above zero (a limit of 0 km/h, a factor of 0, a window of 0 days…).
POSITIVE = frozenset({
    "default_limit_kmh", "urban_limit_kmh", "max_plausible_kmh", "detour_factor",
    "gap_intervals", "same_place_nights", "window_days", "min_duration_s", "persist_s",
})
ALARM_BITS = frozenset({"power_cut_bit", "antenna_bit"})
# Lists of names and the names they may hold.
NAMES = {"categories": SENSITIVE_CATEGORIES, "exempt_site_categories": SERVICE_CATEGORIES}
# (rule, from, to, what is wrong when they make no window)
WINDOWS = (
    ("R2", "night_from", "night_to", "the night window must not be empty (from = to)"),
    ("R1", "office_from", "office_to", "office hours must run from an earlier to a later time"),
    ("R4", "check_time", "alarm_time", "the alarm time must differ from the check time"),
)


def value_problem(name: str, default: Any, value: Any) -> str | None:
    """What is wrong with one value given its default (None: nothing)."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"{name}: a flag (true/false)"
    if isinstance(default, (int, float)):
        return _number_problem(name, value)
    if isinstance(default, str):
        if not isinstance(value, str):
            return f"{name}: text"
        if _CLOCK.match(default):
            return None if _CLOCK.match(value) else f"{name}: a clock time HH:MM"
        if default in SEVERITIES:
            return None if value in SEVERITIES else f"{name}: one of {', '.join(SEVERITIES)}"
        return None if len(value) <= 100 else f"{name}: at most 100 characters"
    if isinstance(default, list):
        ok = isinstance(value, list) and len(value) <= 50 and all(
            isinstance(v, str) and 0 < len(v) <= 50 for v in value)
        if not ok:
            return f"{name}: a list of names"
        known = NAMES.get(name)
        unknown = sorted(set(value) - set(known)) if known is not None else []
        return None if not unknown else f"{name}: unknown {', '.join(unknown)}"
    return f"{name}: cannot be set"


def _number_problem(name: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name}: a number"
    if not math.isfinite(value):
        return f"{name}: a finite number"
    if value < 0:
        return f"{name}: not negative"
    if name in POSITIVE and value <= 0:
        return f"{name}: above zero"
    if name in ALARM_BITS and (value != int(value) or value > 31):
        return f"{name}: an alarm bit 0…31"
    return None


def entry_problems(rule_id: str, name: str, value: Any) -> list[str]:
    """What is wrong with one name and value of a rule's row (by_category included)."""
    defaults = DEFAULTS[rule_id]
    if name == "by_category":
        return _check_categories(defaults, value)
    if name not in defaults:
        return [f"{name}: not a parameter of {rule_id}"]
    problem = value_problem(name, defaults[name], value)
    return [] if problem is None else [problem]


def window_problems(rule_id: str, values: Mapping[str, Any]) -> list[tuple[str, tuple[str, str]]]:
    """Windows left empty by values in force (the defaults merged with a row's values):
    (what is wrong, the two names)."""
    found = []
    for rule, start, end, message in WINDOWS:
        if rule != rule_id:
            continue
        a, b = str(values.get(start, "")), str(values.get(end, ""))
        if not (_CLOCK.match(a) and _CLOCK.match(b)):
            continue
        empty = a >= b if (start, end) == ("office_from", "office_to") else a == b
        if empty:
            found.append((f"{start}/{end}: {message}", (start, end)))
    return found


def check_values(rule_id: str, values: Mapping[str, Any]) -> list[str]:
    """What is wrong with the values (an empty list: they may be stored)."""
    if rule_id not in DEFAULTS:
        return [f"unknown rule {rule_id}"]
    if not isinstance(values, Mapping) or not values:
        return ["give at least one value"]
    problems = []
    for name, value in values.items():
        problems += entry_problems(rule_id, name, value)
    if problems:
        return problems
    merged = merge(DEFAULTS[rule_id], values)
    problems += [p for p, _ in window_problems(rule_id, merged)]
    for category, over in (merged.get("by_category") or {}).items():
        problems += [f"by_category.{category}.{p}"
                     for p, _ in window_problems(rule_id, {**merged, **over})]
    return problems


def _check_categories(defaults: Mapping[str, Any], value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return ["by_category: a map of use category to values"]
    problems = []
    for category, values in value.items():
        if category not in USE_CATEGORIES:
            problems.append(f"by_category: unknown use category {category}")
        elif not isinstance(values, Mapping):
            problems.append(f"by_category.{category}: a map of values")
        else:
            for name, v in values.items():
                if name not in defaults or name == "by_category":
                    problems.append(f"by_category.{category}.{name}: not a parameter")
                elif (problem := value_problem(name, defaults[name], v)) is not None:
                    problems.append(f"by_category.{category}.{problem}")
    return problems
