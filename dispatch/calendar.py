"""China's working-day calendar (domain.md §5). Pure code.

Working days follow the State Council's yearly holiday notice, 调休 make-up working days on
weekends included (the `chinese-calendar` package). Past the years its data covers (the notice
for a year comes out in its November or December), weekends and the holidays fixed by date
stand in: 元旦 1 January, 劳动节 1 May, 国庆 1-3 October. The lunar holidays (春节, 清明, 端午,
中秋) and the 调休 swaps are only known from the notice: better an ordinary guess than refusing
to plan next year's trips.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar

# (month, day) of the statutory holidays that fall on the same date every year
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})


def is_working_day(day: date) -> bool:
    """A working day (工作日) in mainland China, 调休 included; beyond the package's data,
    Monday–Friday except the fixed-date holidays."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
