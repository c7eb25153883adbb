"""Periodic jobs of the web process (e.g. rental orders not accepted in time go back to the
queue). Each job runs every `interval_s` under a PostgreSQL advisory lock, so that with several
web processes only one runs it at a time; a failing run is logged and retried next time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from supervision import violation_store
from web import rental_timeouts

log = logging.getLogger(__name__)

JobFn = Callable[[asyncpg.Pool], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: float
    run: JobFn


def lock_key(name: str) -> int:
    return 0x4A0B0000 + zlib.crc32(name.encode()) % 0xFFFF


async def run_once(pool: asyncpg.Pool, job: Job) -> object:
    """One run under the job's advisory lock; None when another process holds it."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(job.name)):
            return None
        try:
            return await job.run(pool)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key(job.name))


async def _loop(pool: asyncpg.Pool, job: Job) -> None:
    while True:
        try:
            await run_once(pool, job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed; retrying in %.0f s", job.name, job.interval_s)
        await asyncio.sleep(job.interval_s)


class JobRunner:
    def __init__(self, pool: asyncpg.Pool, jobs: list[Job]) -> None:
        self._pool = pool
        self._jobs = jobs
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(_loop(self._pool, job), name=f"job:{job.name}")
                       for job in self._jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []


def platform_jobs() -> list[Job]:
    """The jobs of the platform (the dispatch workflow adds its own here)."""
    return [
        Job("rental_timeouts", rental_timeouts.INTERVAL_S, rental_timeouts.return_expired),
        Job("violation_overdue", 600, violation_store.mark_overdue),
    ]
