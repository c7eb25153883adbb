"""`live_platform`: the whole platform (`fleet up`) running for the end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.e2e.platform_process import PlatformProcess, platform_env


@dataclass(frozen=True)
class LivePlatform:
    base_url: str
    username: str
    password: str
    process: PlatformProcess


@pytest.fixture(scope="package")  # stopped when the e2e tests are done, not at session end
async def live_platform(services, databases, tmp_path_factory, output_dir) -> AsyncIterator[LivePlatform]:
    """`fleet up` on the test servers (a fresh database), simulator at 1 s, ingest and web."""
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    database_url = await databases.create(prefix="fleet_e2e")
    env = platform_env(
        prefix=prefix,
        data_dir=tmp_path_factory.mktemp("platform"),
        urls={"database": database_url, "redis": services.redis_url, "mqtt": services.mqtt_url},
    )
    process = PlatformProcess(env=env, log_path=output_dir / "fleet-up-live.log")
    process.start()
    yield LivePlatform(process.base_url, "dispatcher", "e2e-password", process)
    process.stop()
