"""A calendar month in Asia/Shanghai ("2026-11"): the period of statements, figures, billing
runs and the seeded month. Pure code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """ "YYYY-MM" → Month; ValueError for anything else."""
        match = _PATTERN.match(text or "")
        if not match or not 2000 <= int(match.group(1)) <= 2100:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, when: datetime) -> Month:
        local = when.astimezone(LOCAL)
        return cls(local.year, local.month)

    @property
    def text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def start(self) -> datetime:
        """Midnight of the first day, Asia/Shanghai (aware)."""
        return datetime.combine(self.first_day, datetime.min.time(), LOCAL)

    @property
    def end(self) -> datetime:
        """Midnight of the next month's first day: the period is [start, end)."""
        return datetime.combine(self.next_first_day, datetime.min.time(), LOCAL)

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day < self.next_first_day:
            yield day
            day += timedelta(days=1)
