"""Trip times for the tests, relative to today: the API refuses a trip that started more than
24 h ago or starts more than 180 days ahead, and the tests run on any day. The next working day
(no holiday approval level) at 09:00 in Asia/Shanghai is the tests' ordinary trip."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.calendar import is_working_day

LOCAL = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(LOCAL).date()


def next_working_day(after: date | None = None) -> date:
    """The first working day after `after` (today by default)."""
    day = (after or today()) + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_day_at(hour: int = 9, minute: int = 0, *, day: date | None = None) -> datetime:
    """`hour`:`minute` in Asia/Shanghai on `day` (by default the next working day)."""
    return datetime.combine(day or next_working_day(), time(hour, minute), LOCAL)
