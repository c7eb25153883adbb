"""Who may decide which level of a request's approval chain (审批链). Pure code.

Level 1 belongs to the approvers of the request's own unit (科室负责人) whenever the unit has
one; only a unit without an approver of its own has level 1 decided at the nearest
organisation above it that has approvers. Every later level needs an organisation strictly
above the unit — the district or city leadership (分管领导), which a cross-city trip must go
through (domain-research.md b.1). Nobody decides two levels of one request (a second level is
a second person), and nobody decides their own request. A chain that needs more distinct
people than there are is capped when the request is submitted (`completable_levels`), so that
no request waits for a level nobody may decide. Platform admins may decide any level.
Emergency post-approval (事后补批) follows the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    code: str  # own_request | already_approved_by_you | not_your_level
    message: str


def who_may_decide(level: int) -> str:
    """For the person refused: who may decide this level (English; the page says it in zh)."""
    if level <= 1:
        return ("Level 1 is decided by an approver of the requesting unit, or, when the unit has "
                "none, of the nearest organisation above it that has approvers.")
    return (f"Level {level} needs an approver of an organisation above the requesting unit "
            "(district or city leadership, 分管领导), who has not decided another level.")


@dataclass(frozen=True)
class Chain:
    """One request's approval chain as the people who may decide it see it."""

    unit_path: tuple[int, ...]  # organisation ids from the root down to the request's unit
    approvers: tuple[tuple[int, int], ...]  # (user id, organisation id): active approvers
    applicant_id: int
    decided_by: frozenset[int] = frozenset()  # who approved or rejected a level already

    @classmethod
    def of(cls, unit_path: Iterable[int], approvers: Iterable[tuple[int, int]], applicant_id: int,
           decided_by: Iterable[int] = ()) -> Chain:
        return cls(tuple(unit_path), tuple(approvers), applicant_id, frozenset(decided_by))

    @property
    def unit_id(self) -> int:
        return self.unit_path[-1]

    def _people(self) -> list[tuple[int, int]]:
        """The approvers on the path who may decide anything of it (not the applicant)."""
        return [(user_id, org_id) for user_id, org_id in self.approvers
                if user_id != self.applicant_id and org_id in self.unit_path]

    @property
    def level_one_org(self) -> int | None:
        """The organisation whose approvers decide level 1: the unit when it has an approver
        (the applicant aside), else the nearest one above that has; None when nobody on the
        path is an approver (then anyone entitled on the path may)."""
        orgs = {org_id for _, org_id in self._people()}
        return next((org_id for org_id in reversed(self.unit_path) if org_id in orgs), None)

    def may_decide(self, level: int, org_id: int) -> bool:
        """Is a person of this organisation entitled to decide `level` (1-based)?"""
        if org_id not in self.unit_path:
            return False
        if level <= 1:
            first = self.level_one_org
            return first is None or org_id == first
        return org_id != self.unit_id

    def refusal(self, level: int, user_id: int, org_id: int, *, any_level: bool = False) -> Refusal | None:
        """Why this person may not decide `level` now, or None when they may. `any_level`: a
        platform admin, who may decide any level (but not their own request, nor twice)."""
        if user_id == self.applicant_id:
            return Refusal("own_request", "You may not approve or reject your own request.")
        if user_id in self.decided_by:
            return Refusal("already_approved_by_you",
                           "You already decided a level of this request; another person must "
                           f"decide level {level}. {who_may_decide(level)}")
        if not any_level and not self.may_decide(level, org_id):
            return Refusal("not_your_level", f"You may not decide level {level}. {who_may_decide(level)}")
        return None

    def next_approvers(self, level: int) -> list[int]:
        """The people to ask for `level`: of the approvers entitled to it who have not decided
        a level yet, those of the nearest organisation to the unit."""
        depth = {org_id: i for i, org_id in enumerate(self.unit_path)}
        eligible = [(user_id, org_id) for user_id, org_id in self._people()
                    if user_id not in self.decided_by and self.may_decide(level, org_id)]
        if not eligible:
            return []
        nearest = max(depth[org_id] for _, org_id in eligible)
        return sorted(user_id for user_id, org_id in eligible if depth[org_id] == nearest)

    def completable_levels(self) -> int:
        """How many levels distinct people can decide (at least 1: an admin can always decide
        one): one at the unit when it has an approver, plus one per person above the unit —
        who also decides level 1 when the unit has none."""
        people = self._people()
        above = {user_id for user_id, org_id in people if org_id != self.unit_id}
        at_unit = any(org_id == self.unit_id for _, org_id in people)
        return max(1, len(above) + (1 if at_unit else 0))
