"""Dates in the names of exported files: the day (and time) in Asia/Shanghai, where the
platform's users are — not the server's zone (UTC in the containers: a file exported at 07:30
in Wuhan would carry yesterday's date)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_stamp(fmt: str = "%Y%m%d", now: datetime | None = None) -> str:
    """`now` (default: this moment) in Asia/Shanghai, formatted for a file name."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).strftime(fmt)
