"""A citizen's report (监督举报) matched against the named car's track. Pure code.

The public can identify an official car only by its plate and its marking (喷涂标识): a
report names a plate, a time and, when given, a place. The car's fixes within ± 15 min of that
time say whether it was out, and how near it came to the place: the nearest fix in time, the
nearest fix in space and its distance. The verdict is for the inspector, who decides; the
person who reported never sees any of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from fleet.geodesy import haversine_m

WINDOW = timedelta(minutes=15)
NEAR_M = 500.0  # a fix this close to the place: the car was there
MOVING_KMH = 5.0
_PLATE_NOISE = re.compile(r"[\s·•.\-_]")


def normalise_plate(plate: str) -> str:
    """鄂A·12345, 鄂a 12345 and 鄂A12345 are one plate."""
    return _PLATE_NOISE.sub("", plate).upper()


@dataclass(frozen=True)
class TimedFix:
    ts: datetime
    lat: float
    lon: float
    speed_kmh: float | None
    acc: bool | None


@dataclass(frozen=True)
class Match:
    verdict: str  # near | far | moving | parked | no_data
    fixes: int
    at_time: TimedFix | None  # the fix nearest the reported time
    nearest: TimedFix | None  # the fix nearest the reported place (a place given)
    nearest_m: float | None
    moved: bool  # any fix in the window shows the car moving

    def as_dict(self) -> dict:
        def fix(f: TimedFix | None) -> dict | None:
            return None if f is None else {"ts": f.ts.isoformat(), "lat": f.lat, "lon": f.lon,
                                           "speed_kmh": f.speed_kmh, "acc": f.acc}
        return {"verdict": self.verdict, "fixes": self.fixes, "at_time": fix(self.at_time),
                "nearest": fix(self.nearest),
                "nearest_m": None if self.nearest_m is None else round(self.nearest_m, 1),
                "moved": self.moved, "window_min": int(WINDOW.total_seconds() // 60),
                "near_m": NEAR_M}


def match(fixes: list[TimedFix], seen_at: datetime, place: tuple[float, float] | None) -> Match:
    """`fixes`: the car's within ± WINDOW of `seen_at`, any order; `place`: (lat, lon) or None.
    Verdict: near / far (a place given: nearest fix within NEAR_M or not), else moving /
    parked; no_data when the car sent nothing then."""
    if not fixes:
        return Match("no_data", 0, None, None, None, False)
    at_time = min(fixes, key=lambda f: abs((f.ts - seen_at).total_seconds()))
    moved = any((f.speed_kmh or 0) >= MOVING_KMH for f in fixes)
    if place is None:
        return Match("moving" if moved else "parked", len(fixes), at_time, None, None, moved)
    distances = [(haversine_m(place[0], place[1], f.lat, f.lon), f) for f in fixes]
    nearest_m, nearest = min(distances, key=lambda d: (d[0], d[1].ts))
    verdict = "near" if nearest_m <= NEAR_M else "far"
    return Match(verdict, len(fixes), at_time, nearest, nearest_m, moved)


MAX_TRACK_POINTS = 1000
VERDICT_TEXT = {  # verdict: (zh, en), for the violation's message
    "near": ("车辆当时在举报地点附近", "the car was near the place then"),
    "far": ("车辆当时不在举报地点附近", "the car was not near the place then"),
    "moving": ("车辆当时在行驶", "the car was moving then"),
    "parked": ("车辆当时停放", "the car was parked then"),
    "no_data": ("当时无定位数据", "no positions then"),
    "unmatched": ("未匹配到标识车辆", "no marked car matched"),
}


@dataclass(frozen=True)
class ReportView:
    id: int
    plate: str
    seen_at: datetime
    place: str
    lat: float | None
    lon: float | None
    description: str
    contact: str


def _thin(fixes: list[TimedFix], keep: set[datetime]) -> list[TimedFix]:
    if len(fixes) <= MAX_TRACK_POINTS:
        return fixes
    stride = -(-len(fixes) // MAX_TRACK_POINTS)
    return [f for i, f in enumerate(fixes) if i % stride == 0 or f.ts in keep or i == len(fixes) - 1]


def bundle(report: ReportView, vehicle: dict | None, fixes: list[TimedFix], result: Match | None,
           orders: list[dict], why_unmatched: str = "") -> dict:
    """The evidence (format 1) of a PUBLIC violation: the report, the car's track of the ± 15
    min window with the fix nearest the time and the one nearest the place, the orders of the
    car around then, and the verdict."""
    fixes = sorted(fixes, key=lambda f: f.ts)
    marked = [f for f in (result.at_time, result.nearest) if f is not None] if result else []
    track = _thin(fixes, {f.ts for f in marked})
    place_text = report.place or (f"{report.lat:.5f}, {report.lon:.5f}" if report.lat is not None else "")
    verdict = result.verdict if result else "unmatched"
    distance = "" if not result or result.nearest_m is None else f"，最近 {result.nearest_m:.0f} m"
    distance_en = "" if not result or result.nearest_m is None else f", nearest {result.nearest_m:.0f} m"
    return {
        "format": 1,
        "rule": {"id": "PUBLIC", "params": {"window_min": int(WINDOW.total_seconds() // 60),
                                            "near_m": NEAR_M}, "params_version": 1},
        "vehicle": vehicle,
        "driver": None,
        "window": {"from": (report.seen_at - WINDOW).isoformat(),
                   "to": (report.seen_at + WINDOW).isoformat()},
        "track": {"type": "LineString", "coordinates": [[f.lon, f.lat] for f in track]} if len(track) >= 2 else None,
        "points": [{"ts": f.ts.isoformat(), "lat": f.lat, "lon": f.lon, "speed_kmh": f.speed_kmh,
                    "acc": f.acc} for f in marked],
        "zones": [],
        "orders": orders,
        "orders_checked": {"from": (report.seen_at - timedelta(hours=1)).isoformat(),
                           "to": (report.seen_at + timedelta(hours=1)).isoformat()},
        "distance": {"nearest_m": None if not result or result.nearest_m is None else round(result.nearest_m, 1)},
        "summary": {"plate": report.plate, "place": place_text, "verdict": verdict,
                    "fixes": result.fixes if result else 0,
                    **({"unmatched": why_unmatched} if why_unmatched else {})},
        "report": {"id": report.id, "plate": report.plate, "seen_at": report.seen_at.isoformat(),
                   "place": report.place, "lat": report.lat, "lon": report.lon,
                   "description": report.description, "contact": report.contact},
        "match": result.as_dict() if result else {"verdict": "unmatched", "reason": why_unmatched},
        "message": {"zh": f"群众举报 {report.plate}：{place_text}（{VERDICT_TEXT[verdict][0]}{distance}）",
                    "en": f"Public report on {report.plate}: {place_text} "
                          f"({VERDICT_TEXT[verdict][1]}{distance_en})"},
    }
