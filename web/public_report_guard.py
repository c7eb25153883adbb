"""What keeps the public report form (监督举报) from abuse without a captcha: a signed form
token that must be at least 3 s and at most 2 h old and is good for one report; a honeypot
field a person never fills; and limits per client counted in Redis under a keyed hash of the
client's address (the address itself is never stored):

- reports: 5 an hour, 20 a day — only submissions that passed validation count (a citizen
  whose form came back with a mistake, fixed it and sent it again has reported once);
- attempts: 30 an hour, whatever they are (junk, bad tokens, reports) — the flood limit.

A client at its report limit is refused at once, before its body is even looked at.
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
ATTEMPTS_PER_HOUR = 30


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

    def _keys(self, client_key: str, now_s: float) -> tuple[str, str, str]:
        hour, day = int(now_s // 3600), int(now_s // 86400)
        return (f"{self.prefix}:report_rate:h:{client_key}:{hour}",
                f"{self.prefix}:report_rate:d:{client_key}:{day}",
                f"{self.prefix}:report_rate:a:{client_key}:{hour}")

    @staticmethod
    def _refuse(in_hour: int, in_day: int, now_s: float, over: int = 0) -> None:
        """Refused (429) when the counts (after this one: over=0; before it: over=1) pass the
        report limits."""
        if in_day + over > PER_DAY:
            raise Refused(429, "too_many_reports", "Too many reports from here today.",
                          int(86400 - now_s % 86400) + 1)
        if in_hour + over > PER_HOUR:
            raise Refused(429, "too_many_reports", "Too many reports from here this hour.",
                          int(3600 - now_s % 3600) + 1)

    async def attempt(self, client_key: str, now_s: float | None = None) -> None:
        """Counts one attempt, whatever it turns out to be; Refused (429) past 30 an hour, or
        when the client has used up its reports (nothing it sends now could be taken)."""
        now_s = now_s or time.time()
        hour_key, day_key, attempts_key = self._keys(client_key, now_s)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(attempts_key)
            pipe.expire(attempts_key, 3600, nx=True)
            pipe.get(hour_key)
            pipe.get(day_key)
            attempts, _, in_hour, in_day = await pipe.execute()
        if attempts > ATTEMPTS_PER_HOUR:
            raise Refused(429, "too_many_reports", "Too many attempts from here this hour.",
                          int(3600 - now_s % 3600) + 1)
        self._refuse(int(in_hour or 0), int(in_day or 0), now_s, over=1)

    async def count(self, client_key: str, now_s: float | None = None) -> None:
        """Counts one report that passed validation; Refused (429) past 5 an hour or 20 a day."""
        now_s = now_s or time.time()
        hour_key, day_key, _ = self._keys(client_key, now_s)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(hour_key)
            pipe.expire(hour_key, 3600, nx=True)
            pipe.incr(day_key)
            pipe.expire(day_key, 86400, nx=True)
            in_hour, _, in_day, _ = await pipe.execute()
        self._refuse(in_hour, in_day, now_s)
