"""Checks of rule parameter values an admin sets (规则参数). Pure code.

A new version may give some of a rule's values: each must be a name the rule knows
(supervision/params.DEFAULTS) with a value of the default's kind — a number (not negative), a
flag, a clock time "HH:MM", a severity, a list of names; `by_category` maps a use category to
such values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from supervision.params import DEFAULTS

SEVERITIES = ("info", "warn", "alarm")
USE_CATEGORIES = ("confidential", "emergency", "law_enforcement", "special_technical", "general")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_value(name: str, default: Any, value: Any) -> str | None:
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"{name}: a flag (true/false)"
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name}: a number"
        return None if value >= 0 else f"{name}: not negative"
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
        return None if ok else f"{name}: a list of names"
    return f"{name}: cannot be set"


def check_values(rule_id: str, values: Mapping[str, Any]) -> list[str]:
    """What is wrong with the values (an empty list: they may be stored)."""
    if rule_id not in DEFAULTS:
        return [f"unknown rule {rule_id}"]
    if not values:
        return ["give at least one value"]
    defaults = DEFAULTS[rule_id]
    problems = []
    for name, value in values.items():
        if name == "by_category":
            problems += _check_categories(defaults, value)
        elif name not in defaults:
            problems.append(f"{name}: not a parameter of {rule_id}")
        elif (problem := _check_value(name, defaults[name], value)) is not None:
            problems.append(problem)
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
                elif (problem := _check_value(name, defaults[name], v)) is not None:
                    problems.append(f"by_category.{category}.{problem}")
    return problems
