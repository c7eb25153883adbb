"""The `fleet` command as an operator uses it, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys

from fleet.passwords import verify_password

SECRET = "x" * 40


def fleet(*args: str, env: dict[str, str], input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args],
        env=env, capture_output=True, text=True, input=input_text, timeout=120,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    env.update(extra)
    return env


async def test_migrate_seed_and_an_operator_account_outside_demo_mode(migrated_db_url, db_conn):
    env = clean_env(FLEET_DATABASE_URL=migrated_db_url, FLEET_SECRET_KEY=SECRET)
    migrated = fleet("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout  # only the database is needed, no Redis or broker
    seeded = fleet("seed", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "users=0" in seeded.stdout  # no demo accounts outside demo mode
    created = fleet("user", "ops", "--org", "420100-PF", "--role", "dispatcher", "--role", "inspector",
                    env=dict(env, FLEET_NEW_USER_PASSWORD="a-long-password"))
    assert created.returncode == 0, created.stderr
    assert "created ops" in created.stdout
    row = await db_conn.fetchrow("SELECT password_hash, roles FROM users WHERE username = 'ops'")
    assert verify_password(row["password_hash"], "a-long-password")
    assert sorted(row["roles"]) == ["dispatcher", "inspector"]
    refused = fleet("user", "ops", "--org", "nowhere", "--role", "dispatcher",
                    env=dict(env, FLEET_NEW_USER_PASSWORD="a-long-password"))
    assert refused.returncode != 0 and "no organisation" in refused.stderr


def test_clear_one_line_errors_for_missing_settings():
    no_secret = fleet("migrate", env=clean_env(FLEET_DATABASE_URL="postgresql://x@/y"))
    assert no_secret.returncode != 0 and "FLEET_SECRET_KEY must be set" in no_secret.stderr
    short = fleet("migrate", env=clean_env(FLEET_SECRET_KEY="short"))
    assert short.returncode != 0 and "at least 32 characters" in short.stderr
    no_urls = fleet("web", env=clean_env(FLEET_SECRET_KEY=SECRET))
    assert no_urls.returncode != 0
    assert "FLEET_DATABASE_URL and FLEET_REDIS_URL must be set" in no_urls.stderr
    assert "Traceback" not in no_urls.stderr
