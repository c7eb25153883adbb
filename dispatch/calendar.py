"""China's working-day calendar (domain.md §5). Pure code.

Working days follow the State Council's yearly holiday notice, 调休 make-up working days on
weekends included (the `chinese-calendar` package). Past the years its data covers, Monday to
Friday stand in: better an ordinary guess than refusing to plan next year's trips.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar


def is_working_day(day: date) -> bool:
    """A working day (工作日) in mainland China, 调休 included; beyond the data, Monday–Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5
