"""Exported files are named by the day in Asia/Shanghai, not the server's (UTC) day."""

from __future__ import annotations

from datetime import UTC, datetime

from web.export_names import local_stamp


def test_the_local_day_names_the_file():
    evening_utc = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)      # 01:30 on the 2nd in Wuhan
    assert local_stamp(now=evening_utc) == "20261202"
    assert local_stamp("%Y%m%d-%H%M", now=evening_utc) == "20261202-0130"
    assert local_stamp(now=datetime(2026, 12, 1, 15, 59, tzinfo=UTC)) == "20261201"
