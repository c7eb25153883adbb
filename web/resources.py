"""What the web process holds open: built by the app's lifespan, closed when it ends."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from fleet.config import Settings
from fleet.db import create_pool
from web.live.hub import LiveHub, live_channel
from web.mqtt_publisher import DevicePublisher
from web.sessions import LoginThrottle, SessionStore


@dataclass
class Resources:
    pool: asyncpg.Pool
    redis: Redis
    sessions: SessionStore
    throttle: LoginThrottle
    hub: LiveHub
    # Publishes a driver's phone positions into the telemetry pipeline; None without a broker.
    publisher: DevicePublisher | None = None

    @classmethod
    async def open(cls, settings: Settings) -> Resources:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("the web app needs FLEET_DATABASE_URL and FLEET_REDIS_URL")
        pool = await create_pool(settings.database_url)
        redis = Redis.from_url(settings.redis_url, health_check_interval=30)
        sessions = SessionStore(
            redis,
            prefix=settings.redis_prefix,
            secret_key=settings.secret_key.get_secret_value(),
            max_age_s=settings.session_max_age_s,
        )
        throttle = LoginThrottle(redis, prefix=settings.redis_prefix)
        hub = LiveHub(redis, live_channel(settings.redis_prefix))
        hub.start()
        publisher = None
        if settings.mqtt_url:
            publisher = DevicePublisher(settings.mqtt_url, topic_root=settings.mqtt_topic_root)
            publisher.start()
        return cls(pool, redis, sessions, throttle, hub, publisher)

    async def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        await self.hub.stop()
        with contextlib.suppress(Exception):
            await self.redis.aclose()
        await self.pool.close()
