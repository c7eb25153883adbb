"""Which local days an evaluation covers and the horizon it judges at
(supervision/day_context.py)."""

from __future__ import annotations

from datetime import date

from supervision.day_context import days_to_evaluate, horizon_ms, local_day
from tests.rules_fixtures import ms


def test_days_run_from_the_first_changed_day_to_the_newest_fix():
    assert days_to_evaluate(ms("23:50"), ms("00:30", 1)) == [date(2026, 11, 24), date(2026, 11, 25)]
    assert days_to_evaluate(ms("08:00"), ms("09:00")) == [date(2026, 11, 24)]
    # at most 7 days back from the newest fix
    days = days_to_evaluate(ms("08:00", -30), ms("09:00"))
    assert days[0] == date(2026, 11, 17) and days[-1] == date(2026, 11, 24) and len(days) == 8
    # a mark newer than the newest fix (an order in the future) evaluates the newest fix's day
    assert days_to_evaluate(ms("08:00", 2), ms("09:00")) == [date(2026, 11, 24)]


def test_the_horizon_is_the_newest_fix_or_now():
    assert horizon_ms(ms("21:00"), ms("22:05")) == ms("22:05")
    assert horizon_ms(ms("22:08"), ms("22:05")) == ms("22:08")    # a clock a little ahead
    # a clock far ahead (ingest takes device times up to a day ahead): never past now + 5 min
    assert horizon_ms(ms("23:00"), ms("22:05")) == ms("22:10")
    assert horizon_ms(ms("21:00", 1), ms("22:05")) == ms("22:10")
    assert horizon_ms(None, ms("22:05")) == ms("22:05")
    assert local_day(ms("00:00", 1) - 1) == date(2026, 11, 24)
