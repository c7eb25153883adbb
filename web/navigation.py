"""The pages of the platform and who may open them (pure). One table, used by the page routes
(access and the landing page after login) and sent to the browser in /api/v1/auth/me so that
every page's top bar links exactly the pages its user may open."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    path: str
    key: str  # i18n key of its title: nav.<key>
    file: str  # under web/static
    roles: frozenset[str]


# In landing order: a user lands on the first page their roles open.
PAGES: tuple[Page, ...] = (
    Page("/console", "console", "console.html",
         frozenset({"admin", "org_admin", "dispatcher", "inspector"})),
    Page("/approvals", "approvals", "approvals.html", frozenset({"approver", "org_admin", "admin"})),
    Page("/requests", "requests", "requests.html", frozenset({"requester", "org_admin", "admin"})),
    Page("/driver", "driver", "driver.html", frozenset({"driver"})),
    Page("/rental", "rental", "rental.html", frozenset({"rental_operator"})),
    Page("/reports", "reports", "reports.html",
         frozenset({"admin", "org_admin", "dispatcher", "inspector"})),
    Page("/inspections", "inspections", "inspections.html", frozenset({"inspector", "admin"})),
    Page("/explanations", "explanations", "explanations.html", frozenset({"org_admin"})),
    Page("/admin/dead-letters", "dead_letters", "admin_dead_letters.html", frozenset({"admin"})),
)

BY_PATH = {page.path: page for page in PAGES}


def pages_for(roles: frozenset[str]) -> list[Page]:
    return [page for page in PAGES if not page.roles.isdisjoint(roles)]


def landing_path(roles: frozenset[str]) -> str:
    """Where a user goes after login; someone with no page role lands on the login page."""
    pages = pages_for(roles)
    return pages[0].path if pages else "/login"
