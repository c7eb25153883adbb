"""Who may decide which level of a request's approval chain (审批链). Pure code.

Level 1 is decided by an approver of the request's unit or of an organisation above it (科室
负责人 / 办公室); every later level needs an organisation strictly above the unit — the district
or city leadership (分管领导), which a cross-city trip must go through (domain-research.md
b.1). Nobody decides two levels of one request: a second level is a second person.
Emergency post-approval (事后补批) follows the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    code: str  # not_your_level | already_approved_by_you
    message: str


def who_may_decide(level: int) -> str:
    """For the person refused: who may decide this level (English; the page says it in zh)."""
    if level <= 1:
        return "Level 1 is decided by an approver of the requesting unit or of an organisation above it."
    return (f"Level {level} needs an approver of an organisation above the requesting unit "
            "(district or city leadership, 分管领导), who has not decided another level.")


def may_decide(level: int, approver_org_id: int, unit_path: Sequence[int]) -> bool:
    """Is an approver of this organisation entitled to decide `level` (1-based)? `unit_path` is
    the organisation ids from the root down to the request's unit."""
    if approver_org_id not in unit_path:
        return False
    return level <= 1 or approver_org_id != unit_path[-1]


def refusal(
    level: int, approver_id: int, approver_org_id: int, unit_path: Sequence[int],
    decided_by: Iterable[int],
) -> Refusal | None:
    """Why this person may not decide `level` now, or None when they may."""
    if approver_id in set(decided_by):
        return Refusal("already_approved_by_you",
                       "You already decided a level of this request; another person must decide "
                       f"level {level}. {who_may_decide(level)}")
    if not may_decide(level, approver_org_id, unit_path):
        return Refusal("not_your_level", f"You may not decide level {level}. {who_may_decide(level)}")
    return None


def next_approvers(
    level: int, unit_path: Sequence[int], approvers: Iterable[tuple[int, int]],
    decided_by: Iterable[int],
) -> list[int]:
    """The people to ask for `level`: of the approvers (user id, organisation id) entitled to
    it who have not decided a level yet, those of the nearest organisation to the unit (its own
    approvers for level 1, else the nearest leadership above)."""
    done = set(decided_by)
    depth = {org_id: i for i, org_id in enumerate(unit_path)}
    eligible = [(user_id, org_id) for user_id, org_id in approvers
                if user_id not in done and may_decide(level, org_id, unit_path)]
    if not eligible:
        return []
    nearest = max(depth[org_id] for _, org_id in eligible)
    return sorted(user_id for user_id, org_id in eligible if depth[org_id] == nearest)
