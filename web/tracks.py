"""Track requests: the time window rules and the distance of a polyline (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fleet.geodesy import haversine_m

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=7)


class TrackWindowError(ValueError):
    """The requested window is unusable; the message says why (shown to the user)."""


def _aware(value: datetime) -> datetime:
    # A time without an offset is local (Asia/Shanghai), as every time shown by the platform.
    return value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TZ)


def resolve_window(
    from_ts: datetime | None, to_ts: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[from, to] with the defaults filled in: to = now, from = to − 1 h."""
    end = _aware(to_ts) if to_ts is not None else now
    start = _aware(from_ts) if from_ts is not None else end - DEFAULT_WINDOW
    if end <= start:
        raise TrackWindowError("'to' must be later than 'from'.")
    if end - start > MAX_WINDOW:
        raise TrackWindowError("The track window may span at most 7 days.")
    return start, end


def polyline_length_m(points: Iterable[tuple[float, float]]) -> float:
    """Length of a (lat, lon) polyline along great circles."""
    total_m = 0.0
    previous: tuple[float, float] | None = None
    for point in points:
        if previous is not None:
            total_m += haversine_m(previous[0], previous[1], point[0], point[1])
        previous = point
    return total_m
