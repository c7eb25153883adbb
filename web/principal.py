"""The logged-in user as the web layer sees it: identity, roles and data scope (pure)."""

from __future__ import annotations

from dataclasses import dataclass

# Roles that may watch vehicles (the console, the vehicle API, the live feed).
VEHICLE_ROLES = frozenset({"admin", "org_admin", "dispatcher", "inspector"})


@dataclass(frozen=True)
class OrgRef:
    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    city_code: str | None


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    cleared_confidential: bool
    org: OrgRef
    scope_root_id: int
    scope_org: OrgRef
    rental_company_id: int | None = None  # a rental company's operator: their company
    driver_id: int | None = None  # a driver: their drivers row

    def has_any_role(self, roles: frozenset[str] | set[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def sees_confidential_positions(self) -> bool:
        """机要 vehicles' positions: cleared users and platform admins only (domain.md §1)."""
        return self.cleared_confidential or "admin" in self.roles


# Roles that act on their own orders only (a driver's, a rental company's), never on an
# organisation's data: with only these, a user's scope is empty.
ORDER_ONLY_ROLES = frozenset({"driver", "rental_operator"})
NO_SCOPE = 0  # no organisation has id 0: "path @> ARRAY[0]" matches nothing


def scope_root(org_id: int, org_kind: str, parent_id: int | None, roles: frozenset[str] = frozenset()) -> int:
    """The node whose subtree a user sees: their own org, except that the staff of a city's
    platform (公务用车服务平台, kind 'platform') work for the whole city, so theirs is the city;
    drivers and rental operators see no organisation's data, only their own orders."""
    if roles and roles <= ORDER_ONLY_ROLES:
        return NO_SCOPE
    if org_kind == "platform" and parent_id is not None:
        return parent_id
    return org_id
