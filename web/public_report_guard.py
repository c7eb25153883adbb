"""What keeps the public report form (监督举报) from abuse without a captcha: a signed form
token that must be at least 3 s and at most 2 h old and is good for one report; a honeypot
field a person never fills; and a limit per client (5 an hour, 20 a day) counted in Redis
under a keyed hash of the client's address (the address itself is never stored).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis.asyncio import Redis

MIN_AGE_S = 3
MAX_AGE_S = 2 * 3600
PER_HOUR = 5
PER_DAY = 20


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s


@dataclass
class ReportGuard:
    redis: Redis
    prefix: str
    secret_key: str
    min_age_s: int = MIN_AGE_S
    max_age_s: int = MAX_AGE_S

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt="public-report-form")

    def new_token(self) -> str:
        return self._serializer().dumps({"n": secrets.token_urlsafe(12)})

    def client_key(self, address: str) -> str:
        """A keyed hash of the address: stable for the limits, useless to anyone without the key."""
        return hmac.new(self.secret_key.encode(), f"report:{address}".encode(),
                        hashlib.sha256).hexdigest()[:32]

    async def spend_token(self, token: str, now_s: float | None = None) -> None:
        """Checks the token and marks it used; Refused otherwise."""
        try:
            value, signed_at = self._serializer().loads(token, max_age=self.max_age_s,
                                                         return_timestamp=True)
        except SignatureExpired:
            raise Refused(422, "form_expired", "The form is too old; reload the page.") from None
        except BadSignature:
            raise Refused(422, "bad_form_token", "The form token is not valid; reload the page.") from None
        age_s = (now_s or time.time()) - signed_at.timestamp()
        if age_s < self.min_age_s:
            raise Refused(422, "too_fast", "The form was sent too quickly; check it and send again.")
        nonce = value.get("n") if isinstance(value, dict) else None
        if not isinstance(nonce, str):
            raise Refused(422, "bad_form_token", "The form token is not valid; reload the page.")
        fresh = await self.redis.set(f"{self.prefix}:report_token:{nonce}", "1", nx=True,
                                     ex=self.max_age_s + 60)
        if not fresh:
            raise Refused(409, "form_used", "This form was sent already; reload the page to report again.")

    async def count(self, client_key: str, now_s: float | None = None) -> None:
        """Counts one attempt of the client; Refused (429) past 5 an hour or 20 a day."""
        now_s = now_s or time.time()
        hour, day = int(now_s // 3600), int(now_s // 86400)
        hour_key = f"{self.prefix}:report_rate:h:{client_key}:{hour}"
        day_key = f"{self.prefix}:report_rate:d:{client_key}:{day}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(hour_key)
            pipe.expire(hour_key, 3600, nx=True)
            pipe.incr(day_key)
            pipe.expire(day_key, 86400, nx=True)
            in_hour, _, in_day, _ = await pipe.execute()
        if in_day > PER_DAY:
            raise Refused(429, "too_many_reports", "Too many reports from here today.",
                          int(86400 - now_s % 86400) + 1)
        if in_hour > PER_HOUR:
            raise Refused(429, "too_many_reports", "Too many reports from here this hour.",
                          int(3600 - now_s % 3600) + 1)
