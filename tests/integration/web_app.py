"""An in-process web app on a seeded database and a real Redis, for the API tests.

The fixtures (`settings`, `broker_settings`, `app`, `client`, `db`, `redis`) are registered in
conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from fleet.config import Settings
from fleet.db import connect
from web.app import create_app

PASSWORD = "test-password"


def make_settings(database_url: str, redis_url: str, prefix: str) -> Settings:
    return Settings(demo=True, database_url=database_url, redis_url=redis_url, redis_prefix=prefix)


@pytest.fixture
async def settings(seeded_db_url, services, unique_prefix) -> Settings:
    return make_settings(seeded_db_url, services.redis_url, unique_prefix)


@pytest.fixture
def broker_settings(seeded_db_url, services, unique_prefix) -> Settings:
    """The web app with a publisher on the real broker, under a topic root of its own."""
    return make_settings(seeded_db_url, services.redis_url, unique_prefix).model_copy(
        update={"mqtt_url": services.mqtt_url, "mqtt_topic_root": f"{unique_prefix}/v1"})


@pytest.fixture
async def app(settings) -> AsyncIterator:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def new_client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as c:
        yield c


@pytest.fixture
async def db(seeded_db_url) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(seeded_db_url)
    yield conn
    await conn.close()


@pytest.fixture
async def redis(services) -> AsyncIterator[Redis]:
    r = Redis.from_url(services.redis_url)
    yield r
    await r.aclose()


async def login(client: httpx.AsyncClient, username: str) -> httpx.Response:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response


def assert_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    return body["error"]


