"""Login sessions and the failed-login throttle, both kept in Redis.

The cookie holds only a random session id signed with the secret key (itsdangerous); the id
maps to the user id in Redis with the session's lifetime as TTL, so logging out (or an admin
deleting the key) ends the session at once, which a purely stateless cookie could not do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from redis.asyncio import Redis

SESSION_COOKIE = "fleet_session"


class SessionStore:
    def __init__(self, redis: Redis, *, prefix: str, secret_key: str, max_age_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(secret_key, salt="fleet-session")

    @property
    def max_age_s(self) -> int:
        return self._max_age_s

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}:session:{session_id}"

    async def create(self, user_id: int) -> str:
        """Stores a new session and returns the signed cookie value."""
        session_id = secrets.token_urlsafe(24)
        await self._redis.set(self._key(session_id), str(user_id), ex=self._max_age_s)
        return self._serializer.dumps(session_id)

    def _session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._serializer.loads(cookie, max_age=self._max_age_s)
        except BadSignature:  # also covers SignatureExpired
            return None
        return value if isinstance(value, str) else None

    async def user_id(self, cookie: str | None) -> int | None:
        """The user id of a valid, unexpired session, else None."""
        session_id = self._session_id(cookie)
        if session_id is None:
            return None
        raw = await self._redis.get(self._key(session_id))
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            return None

    async def delete(self, cookie: str | None) -> None:
        session_id = self._session_id(cookie)
        if session_id is not None:
            await self._redis.delete(self._key(session_id))


@dataclass(frozen=True)
class ThrottleVerdict:
    blocked: bool
    retry_after_s: int = 0


class LoginThrottle:
    """Refuses logins for a username after `max_failures` failures within `window_s`.

    A fixed window that starts at the first failure; a successful login clears it. Counting
    per username (not per address) stops password guessing against one account from anywhere.
    """

    def __init__(
        self, redis: Redis, *, prefix: str, max_failures: int = 10, window_s: int = 300
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self.max_failures = max_failures
        self.window_s = window_s

    def _key(self, username: str) -> str:
        return f"{self._prefix}:login_fail:{username.strip().lower()}"

    async def check(self, username: str) -> ThrottleVerdict:
        key = self._key(username)
        count = await self._redis.get(key)
        if count is None or int(count) < self.max_failures:
            return ThrottleVerdict(False)
        ttl_s = await self._redis.ttl(key)
        return ThrottleVerdict(True, max(int(ttl_s), 1))

    async def record_failure(self, username: str) -> None:
        key = self._key(username)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window_s, nx=True)
            await pipe.execute()

    async def clear(self, username: str) -> None:
        await self._redis.delete(self._key(username))
