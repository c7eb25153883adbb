"""Scoring what a system found against the labels. Pure.

Per day and rule the system's verdict is the highest severity among its violations of that
rule (retracted ones excluded), or None. Against the label:
- TP: a label, and the verdict has the labelled severity;
- FN: a label, and the verdict is missing or of another severity;
- FP: a verdict where the label is None, or of another severity than the labelled one
  (a wrong severity counts once as FN and once as FP: an ALARM where an INFO was due is a
  false alarm, and the INFO was missed).
Precision = TP / (TP + FP), recall = TP / (TP + FN). `alarms_on_clean` counts the ALARM
violations (rows) on the clean look-alike days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from simulator.days.model import RULES, LabelledDay


@dataclass
class RuleScore:
    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    labelled: int = 0

    @property
    def precision(self) -> float | None:
        return None if self.tp + self.fp == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return None if self.tp + self.fn == 0 else self.tp / (self.tp + self.fn)


@dataclass
class Score:
    rules: dict[str, RuleScore]
    alarms_on_clean: int
    clean_days: int
    days: int
    mismatches: list[tuple[LabelledDay, str, str | None, str | None]] = field(default_factory=list)


def score(days: Sequence[LabelledDay], verdicts: Mapping[str, Mapping[str, str | None]],
          clean_alarms: Mapping[str, int]) -> Score:
    """`verdicts`: day id → rule → highest severity found; `clean_alarms`: day id → number of
    ALARM violations found that day (only clean days are counted)."""
    rules = {r: RuleScore(r) for r in RULES}
    result = Score(rules, 0, sum(d.clean for d in days), len(days))
    for day in days:
        found = verdicts.get(day.id, {})
        for rule in RULES:
            expected, got = day.labels[rule], found.get(rule)
            s = rules[rule]
            s.labelled += expected is not None
            if expected is not None and got == expected:
                s.tp += 1
                continue
            if expected is not None:
                s.fn += 1
            if got is not None:
                s.fp += 1
            if expected != got:
                result.mismatches.append((day, rule, expected, got))
        if day.clean:
            result.alarms_on_clean += clean_alarms.get(day.id, 0)
    return result


def table(result: Score, goal_rules: Iterable[str] = ("R1", "R2", "R3", "R4", "R5", "R6", "R7",
                                                      "R8", "R9"), goal: float = 0.98) -> str:
    goals = set(goal_rules)
    lines = [f"{'rule':<5} {'labelled':>8} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} "
             f"{'recall':>7}  goal"]
    for rule in RULES:
        s = result.rules[rule]
        p, r = s.precision, s.recall
        met = "" if rule not in goals else (
            "met" if (p is None or p >= goal) and (r is None or r >= goal) else "MISSED")
        lines.append(f"{rule:<5} {s.labelled:>8} {s.tp:>4} {s.fp:>4} {s.fn:>4} "
                     f"{_fmt(p):>9} {_fmt(r):>7}  {met}")
    lines.append(f"ALARMs on clean days: {result.alarms_on_clean} "
                 f"({result.clean_days} clean of {result.days} days; goal 0)")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
