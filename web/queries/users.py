"""Users: login lookup and the principal behind a session."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from web.principal import OrgRef, Principal, scope_root

_PRINCIPAL_SQL = """
SELECT u.id, u.username, u.display_name, u.roles, u.cleared_confidential, u.rental_company_id,
       (SELECT dr.id FROM drivers dr WHERE dr.user_id = u.id) AS driver_id,
       o.id AS org_id, o.code AS org_code, o.kind AS org_kind, o.name_zh AS org_name_zh,
       o.name_en AS org_name_en, o.city_code AS org_city_code, o.parent_id AS org_parent_id,
       p.id AS parent_id, p.code AS parent_code, p.kind AS parent_kind,
       p.name_zh AS parent_name_zh, p.name_en AS parent_name_en, p.city_code AS parent_city_code
FROM users u
JOIN organisations o ON o.id = u.org_id
LEFT JOIN organisations p ON p.id = o.parent_id
WHERE {where} AND u.active
"""


@dataclass(frozen=True)
class LoginRow:
    user_id: int
    password_hash: str | None


def _principal(row: asyncpg.Record) -> Principal:
    org = OrgRef(
        row["org_id"],
        row["org_code"],
        row["org_kind"],
        row["org_name_zh"],
        row["org_name_en"],
        row["org_city_code"],
    )
    root_id = scope_root(org.id, org.kind, row["org_parent_id"], frozenset(row["roles"]))
    scope_org = org
    if row["parent_id"] is not None and root_id == row["parent_id"]:
        scope_org = OrgRef(
            row["parent_id"],
            row["parent_code"],
            row["parent_kind"],
            row["parent_name_zh"],
            row["parent_name_en"],
            row["parent_city_code"],
        )
    return Principal(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=frozenset(row["roles"]),
        cleared_confidential=row["cleared_confidential"],
        org=org,
        scope_root_id=root_id,
        scope_org=scope_org,
        rental_company_id=row["rental_company_id"],
        driver_id=row["driver_id"],
    )


async def login_row(pool: asyncpg.Pool, username: str) -> LoginRow | None:
    row = await pool.fetchrow(
        "SELECT id, password_hash FROM users WHERE username = $1 AND active", username
    )
    return None if row is None else LoginRow(row["id"], row["password_hash"])


async def principal_by_id(pool: asyncpg.Pool, user_id: int) -> Principal | None:
    row = await pool.fetchrow(_PRINCIPAL_SQL.format(where="u.id = $1"), user_id)
    return None if row is None else _principal(row)
