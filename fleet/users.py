"""Operator accounts outside demo mode: `fleet user` creates one or resets it."""

from __future__ import annotations

import asyncpg

from fleet.passwords import hash_password

ROLES = {"admin", "org_admin", "requester", "approver", "dispatcher", "driver", "inspector",
         "rental_operator"}
MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    pass


async def upsert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    org_code: str,
    roles: list[str],
    password: str,
    cleared_confidential: bool = False,
) -> str:
    """Creates the user, or updates its org, roles and password; returns what it did."""
    unknown = set(roles) - ROLES
    if unknown:
        raise UserError(f"unknown role(s) {sorted(unknown)}; roles are {sorted(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if not username or "\x00" in username:
        raise UserError("the username must be non-empty text")
    org_id = await conn.fetchval("SELECT id FROM organisations WHERE code = $1", org_code)
    if org_id is None:
        raise UserError(f"no organisation with code {org_code!r} (run `fleet seed` first?)")
    existed = await conn.fetchval("SELECT true FROM users WHERE username = $1", username)
    await conn.execute(
        """INSERT INTO users (username, display_name, password_hash, org_id, roles,
                              cleared_confidential)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name,
               password_hash = EXCLUDED.password_hash, org_id = EXCLUDED.org_id,
               roles = EXCLUDED.roles, cleared_confidential = EXCLUDED.cleared_confidential,
               active = true""",
        username, display_name, hash_password(password), org_id, sorted(set(roles)),
        cleared_confidential,
    )
    return "updated" if existed else "created"
