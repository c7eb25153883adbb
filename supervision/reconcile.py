"""What to do with the stored violations of a vehicle and days after a re-evaluation. Pure code.

The rules are pure functions of the day's inputs, so re-running them on fuller data (late
positions, an order entered afterwards) gives the corrected answer; reconcile compares it with
what is stored, by (rule_id, key), and says what to write, each with its reason — nothing
changes silently:

- insert: found and not stored (state open; INFO ones are stored open as well and listed as
  INFO, never sent to units);
- amend: stored and found, still in the system's hands (open, awaiting_explanation,
  overdue), but its severity, end, provisional flag or summary changed (a new evidence
  revision; audit 'amended'). A retracted or auto-closed one found again is reinstated
  (to_state 'open') — late data can take back a retraction;
- retract: stored, no longer found, still in the system's hands (open, awaiting_explanation,
  overdue) → 'retracted';
- auto_close: an R14 no longer found (its emergency request was approved in time after all)
  → 'auto_closed';
- keep: nothing to write — unchanged, or an ongoing finding whose numbers grew (amended once it
  ends), or already retracted/closed. A stored one in people's hands (under review, decided:
  dismissed, confirmed, rectified, closed, referred) is never changed by the system: late
  data that no longer supports it, or would now judge it otherwise (another severity, other
  figures), is kept as it is with an audit note saying so (audit=True), for the inspector.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from supervision.model import Finding

SYSTEM_STATES = frozenset({"open", "awaiting_explanation", "overdue"})
GONE_STATES = frozenset({"retracted", "auto_closed"})
# In people's hands: under review or decided. The system never amends them.
DECIDED_STATES = frozenset({"under_review", "dismissed", "confirmed", "rectified", "closed",
                            "referred"})
AUTO_CLOSE_RULES = frozenset({"R14"})


@dataclass(frozen=True)
class Stored:
    """A stored violation as reconcile needs it."""
    rule_id: str
    key: str
    severity: str
    state: str
    summary: dict
    ended_ms: int | None
    provisional: bool
    id: int | None = None


@dataclass(frozen=True)
class Action:
    kind: str                        # insert | amend | retract | auto_close | keep
    rule_id: str
    key: str
    reason: str
    finding: Finding | None = None   # insert, amend: what to write
    stored: Stored | None = None     # amend, retract, auto_close, keep
    to_state: str | None = None      # the violation's new state, if it changes
    audit: bool = False              # write an audit record (keep with a note)


def reconcile(existing: Iterable[Stored], found: Iterable[Finding]) -> list[Action]:
    """Actions for the stored violations of one vehicle and the evaluated days, given the
    findings of the same vehicle and days; ordered as (rule, key)."""
    stored = {(s.rule_id, s.key): s for s in existing}
    fresh = {(f.rule_id, f.key): f for f in found}
    actions = []
    for ident in sorted(set(stored) | set(fresh), key=_order):
        s, f = stored.get(ident), fresh.get(ident)
        if s is None:
            assert f is not None
            actions.append(Action("insert", f.rule_id, f.key,
                                  "detected (live)" if f.provisional else "detected", finding=f,
                                  to_state="open"))
        elif f is None:
            actions.append(_gone(s))
        else:
            actions.append(_compare(s, f))
    return actions


def _gone(s: Stored) -> Action:
    if s.state in GONE_STATES:
        return Action("keep", s.rule_id, s.key, "already " + s.state, stored=s)
    if s.state in SYSTEM_STATES:
        if s.rule_id in AUTO_CLOSE_RULES:
            return Action("auto_close", s.rule_id, s.key,
                          "auto-closed: the emergency request was approved in time",
                          stored=s, to_state="auto_closed", audit=True)
        return Action("retract", s.rule_id, s.key, "retracted: " + retract_reason(s),
                      stored=s, to_state="retracted", audit=True)
    return Action("keep", s.rule_id, s.key,
                  f"late data no longer supports it ({retract_reason(s)}); left {s.state} "
                  "for the reviewer", stored=s, audit=True)


def retract_reason(s: Stored) -> str:
    if s.provisional:
        return "the live finding was not confirmed when the trip ended"
    return REASONS.get(s.rule_id, "re-evaluated on fuller data, the rule no longer finds it")


REASONS = {
    "R1": "on fuller data the trip is covered by an order, or is a 定点 service run, or too short",
    "R2": "on fuller data the trip is not in the night window of a working day",
    "R3": "on fuller data the trip is not on a rest day, or not a sealed car's movement",
    "R4": "on fuller data the car was in its lot (or held by an order) at the check time",
    "R5": "on fuller data the car did not stay outside its permitted area, or an order covers it",
    "R6": "on fuller data the speeding did not last long enough or stayed within tolerance",
    "R7": "late positions filled the gap: the terminal was not dark that long",
    "R8": "on fuller data the stop was shorter or at a known place",
    "R9": "on fuller data the stop was shorter or not at the sensitive place",
    "R10": "on fuller data the distance is within the plan",
    "R13": "on fuller data the track matches the approval",
    "R16": "on fuller data the driver took a break in time",
    "R17": "its parts no longer make a case",
}


def _compare(s: Stored, f: Finding) -> Action:
    changes = []
    if s.severity != f.severity:
        changes.append(f"severity {s.severity} → {f.severity}")
    if s.ended_ms != f.end_ms:
        changes.append("ended" if s.ended_ms is None else "end changed")
    if s.provisional and not f.provisional:
        changes.append("confirmed (no longer live)")
    elif f.provisional and not s.provisional:
        changes.append("live again")
    summary_changes = _summary_changes(s.summary, f.summary)
    reinstated = s.state in GONE_STATES
    if reinstated:
        return Action("amend", f.rule_id, f.key,
                      "reinstated: fuller data supports it again"
                      + (f" ({'; '.join(changes + summary_changes)})" if changes or summary_changes
                         else ""),
                      finding=f, stored=s, to_state="open", audit=True)
    if not changes:
        if not summary_changes:
            return Action("keep", f.rule_id, f.key, "unchanged", finding=f, stored=s)
        if f.end_ms is None:
            return Action("keep", f.rule_id, f.key, "ongoing: figures grow until it ends",
                          finding=f, stored=s)
    if s.state not in SYSTEM_STATES:
        return _left_for_reviewer(s, f, summary_changes)
    reason = "amended: " + "; ".join(changes + summary_changes[:4])
    return Action("amend", f.rule_id, f.key, reason, finding=f, stored=s, audit=True)


def _left_for_reviewer(s: Stored, f: Finding, summary_changes: list[str]) -> Action:
    """A violation under review or decided stays as the reviewer saw it; the note says what
    late data would now make of it (names only: the note is written once per wording)."""
    if f.end_ms is None and s.severity == f.severity:
        return Action("keep", f.rule_id, f.key, "ongoing: figures grow until it ends",
                      finding=f, stored=s)
    judged = f"{f.severity} (was {s.severity})" if f.severity != s.severity \
        else f"{f.severity} as before"
    names = sorted({c.split(" ")[0] for c in summary_changes})
    figures = f", other figures ({', '.join(names[:6])})" if names else ""
    ended = "" if s.ended_ms == f.end_ms else ", another end"
    return Action("keep", f.rule_id, f.key,
                  f"late data would now judge it {judged}{figures}{ended}; left {s.state} "
                  "for the reviewer", finding=f, stored=s, audit=True)


def _summary_changes(old: dict, new: dict) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new), key=str):
        a, b = old.get(name), new.get(name)
        if _same(a, b):
            continue
        if isinstance(a, int | float) and isinstance(b, int | float):
            out.append(f"{name} {a} → {b}")
        else:
            out.append(f"{name} changed")
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) < 1e-9
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _order(ident: tuple[str, str]) -> tuple[int, str]:
    rule_id, key = ident
    return (int(rule_id[1:]) if rule_id[1:].isdigit() else 99, key)
