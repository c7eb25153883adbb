"""Applies the plain-SQL migrations in fleet/migrations/ in order, each once.

Each file runs in its own transaction and is recorded in `schema_migrations` with its
checksum; a changed file that was already applied is an error, never silently re-run.
An advisory lock keeps two processes from migrating at once.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

_LOCK_KEY = 0x666C656574  # "fleet"


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) of every migration, ordered by name."""
    folder = resources.files("fleet") / "migrations"
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply what is missing; return the names applied now."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name text PRIMARY KEY,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        done = {r["name"]: r["checksum"] for r in await conn.fetch("SELECT * FROM schema_migrations")}
        applied = []
        for name, sql in migration_files():
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if name in done:
                if done[name] != checksum:
                    raise RuntimeError(f"migration {name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", name, checksum
                )
            log.info("applied migration %s", name)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
