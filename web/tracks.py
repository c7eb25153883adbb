"""Track requests (pure): the time window rules, trips and stops clipped to a window, the
day's totals, and where trip boundaries fall among a track's points."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fleet.geodesy import haversine_m

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=31)
# Devices cannot report before 2000 (device contract); the bound also keeps far-off dates
# away from the arithmetic of timestamps.
EARLIEST = datetime(2000, 1, 1, tzinfo=LOCAL_TZ)
LATEST = datetime(2100, 1, 1, tzinfo=LOCAL_TZ)


class TrackWindowError(ValueError):
    """The requested window is unusable; the message says why (shown to the user)."""


def aware(value: datetime) -> datetime:
    """A time without an offset is local (Asia/Shanghai), as every time shown by the platform."""
    return value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TZ)


def resolve_window(
    from_ts: datetime | None, to_ts: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[from, to] with the defaults filled in: to = now, from = to − 1 h."""
    end = aware(to_ts) if to_ts is not None else now
    start = aware(from_ts) if from_ts is not None else end - DEFAULT_WINDOW
    if not (start >= EARLIEST and end <= LATEST):
        raise TrackWindowError("The track window must lie between the years 2000 and 2100.")
    if end <= start:
        raise TrackWindowError("'to' must be later than 'from'.")
    if end - start > MAX_WINDOW:
        raise TrackWindowError(f"The track window may span at most {MAX_WINDOW.days} days.")
    return start, end


def local_day(now: datetime) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of the Asia/Shanghai day holding `now`."""
    local = now.astimezone(LOCAL_TZ)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=1)).replace(tzinfo=LOCAL_TZ)


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def polyline_length_m(points: Iterable[tuple[float, float]]) -> float:
    """Length of a (lat, lon) polyline along great circles."""
    total_m = 0.0
    previous: tuple[float, float] | None = None
    for point in points:
        if previous is not None:
            total_m += haversine_m(previous[0], previous[1], point[0], point[1])
        previous = point
    return total_m


def segment_end_ms(segment: dict[str, Any]) -> int:
    """A trip's or stop's end, or for an open one the end so far (start + duration)."""
    end_ms = segment["end_ms"]
    return end_ms if end_ms is not None else segment["start_ms"] + segment["duration_s"] * 1000


def clip(segment: dict[str, Any], from_ms: int, to_ms: int) -> dict[str, Any]:
    """The segment with the part of it inside [from_ms, to_ms] stated alongside."""
    end_ms = segment_end_ms(segment)
    return {
        **segment,
        "clip_start_ms": max(segment["start_ms"], from_ms),
        "clip_end_ms": max(min(end_ms, to_ms), from_ms),
        "clipped_start": segment["start_ms"] < from_ms,
        "clipped_end": end_ms > to_ms,
    }


def boundary_times_ms(segments: Iterable[dict[str, Any]], from_ms: int, to_ms: int) -> set[int]:
    """Starts and ends of trips or stops that fall inside the window (closed ends only)."""
    times: set[int] = set()
    for segment in segments:
        for ts_ms in (segment["start_ms"], segment["end_ms"]):
            if ts_ms is not None and from_ms <= ts_ms <= to_ms:
                times.add(ts_ms)
    return times


def nearest_indices(sorted_ts_ms: Sequence[int], wanted_ms: Iterable[int]) -> set[int]:
    """For each wanted time, the index of the nearest time in `sorted_ts_ms`."""
    found: set[int] = set()
    if not sorted_ts_ms:
        return found
    last = len(sorted_ts_ms) - 1
    for ts_ms in wanted_ms:
        i = bisect_left(sorted_ts_ms, ts_ms)
        if i > last:
            found.add(last)
        elif i > 0 and ts_ms - sorted_ts_ms[i - 1] <= sorted_ts_ms[i] - ts_ms:
            found.add(i - 1)
        else:
            found.add(i)
    return found


def day_totals(trips: Iterable[dict[str, Any]], from_ms: int, to_ms: int) -> dict[str, float]:
    """Driving time and distance of the trips within [from_ms, to_ms].

    A trip that crosses the window's edge counts with the share of its time inside it, its
    distance in the same proportion (the trip rows keep no per-day split)."""
    driving_s = 0.0
    dist_m = 0.0
    for trip in trips:
        start_ms, end_ms = trip["start_ms"], segment_end_ms(trip)
        inside_ms = max(0, min(end_ms, to_ms) - max(start_ms, from_ms))
        driving_s += inside_ms / 1000
        total_ms = end_ms - start_ms
        share = inside_ms / total_ms if total_ms > 0 else 1.0
        dist_m += trip["dist_m"] * share
    return {"driving_s": round(driving_s), "distance_m": round(dist_m, 1)}
