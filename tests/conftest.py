"""Shared fixtures: the real servers, and fresh databases.

Servers: when FLEET_DATABASE_URL, FLEET_REDIS_URL and FLEET_MQTT_URL are all set (CI points
them at the machine's PostgreSQL, Redis and Mosquitto), the tests use those; otherwise they
start the embedded stack once for the session. FLEET_DATABASE_URL names the server only: every
test that needs a database gets its own, cloned from a migrated template.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from fleet.db import connect, with_database
from fleet.migrate import migrate
from fleet.stack import EmbeddedStack, ServerUrls

OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUrls]:
    env = [os.environ.get(f"FLEET_{k}_URL") for k in ("DATABASE", "REDIS", "MQTT")]
    if all(env):
        yield ServerUrls(*env)  # type: ignore[arg-type]
        return
    stack = EmbeddedStack(
        tmp_path_factory.mktemp("stack"),
        database_url=env[0],
        redis_url=env[1],
        mqtt_url=env[2],
        redis_port=0,
        mqtt_port=0,
    )
    urls = stack.start()
    yield urls
    stack.stop()


class DatabaseFactory:
    """Creates databases on the test server and drops them at the end of the session."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []
        self._templates: dict[str, str] = {}

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(with_database(self.server_url, "postgres"))

    async def create(self, *, template: str | None = None, prefix: str = "fleet_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        admin = await self._admin()
        try:
            clause = f" TEMPLATE {template}" if template else ""
            await admin.execute(f"CREATE DATABASE {name}{clause}")
        finally:
            await admin.close()
        self.created.append(name)
        return with_database(self.server_url, name)

    async def template(self, kind: str) -> str:
        """A migrated (kind='migrated') or migrated and seeded (kind='seeded') template."""
        if kind not in self._templates:
            url = await self.create(prefix=f"fleet_tpl_{kind}")
            conn = await connect(url)
            try:
                await migrate(conn)
                if kind == "seeded":
                    from fleet.scenario.load import load_scenario
                    from fleet.seed import seed_scenario

                    await seed_scenario(conn, load_scenario(), demo_password="test-password")
            finally:
                await conn.close()
            self._templates[kind] = urlsplit(url).path.lstrip("/")
        return self._templates[kind]

    async def drop_all(self) -> None:
        admin = await self._admin()
        try:
            for name in reversed(self.created):
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


@pytest.fixture(scope="session")
async def databases(services: ServerUrls) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(services.database_url)
    yield factory
    await factory.drop_all()


@pytest.fixture
async def migrated_db_url(databases: DatabaseFactory) -> str:
    """A fresh database with every migration applied and no data."""
    return await databases.create(template=await databases.template("migrated"))


@pytest.fixture
async def seeded_db_url(databases: DatabaseFactory) -> str:
    """A fresh database with the Wuhan-circle scenario and the demo users (password 'test-password')."""
    return await databases.create(template=await databases.template("seeded"))


@pytest.fixture
async def db_conn(migrated_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(migrated_db_url)
    yield conn
    await conn.close()


@pytest.fixture
def unique_prefix() -> str:
    """Isolates Redis keys and MQTT topics of one test from every other run on the same servers."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR
