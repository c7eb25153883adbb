"""The frozen evidence bundle of a violation (violation_evidence.bundle, format 1 of the
design): what the rule judged, with the track around it, the positions that triggered it,
the zones and orders involved (with the car's lot and the zones of the places the finding
names: `zone_ids_of`), the driver and the distance. Pure code; the worker loads the
inputs and stores the result as a new revision (never edited).

The track covers start − 10 min … end + 10 min (the horizon while it goes on; at most a day
past the start), simplified to at most 1,000 points by Douglas–Peucker (web/simplify.py) with
the triggering positions always kept. Times are ISO 8601 in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fleet.geodesy import haversine_m
from supervision.model import Finding, Fix, OrderView, RuleParams, VehicleProfile
from supervision.rules.common import DAY_MS, local_iso
from supervision.zones import Zone, retired
from web.simplify import simplify_to_budget

FORMAT = 1
MARGIN_MS = 10 * 60_000
MAX_SPAN_MS = DAY_MS            # a finding lasting longer shows its first day
TRACK_POINTS = 1000


@dataclass(frozen=True)
class Subject:
    """What the bundle is about: a finding, or (for a retraction) the stored violation."""
    rule_id: str
    key: str
    severity: str
    start_ms: int
    end_ms: int | None
    summary: dict
    trigger_ms: tuple[int, ...] = ()
    zone_ids: tuple[int, ...] = ()
    order_ids: tuple[int, ...] = ()
    provisional: bool = False
    part_keys: tuple[tuple[str, str], ...] = ()
    message_zh: str = ""
    message_en: str = ""

    @classmethod
    def of(cls, f: Finding) -> Subject:
        return cls(f.rule_id, f.key, f.severity, f.start_ms, f.end_ms, f.summary, f.trigger_ms,
                   f.zone_ids, f.order_ids, f.provisional, f.part_keys, f.message_zh, f.message_en)


@dataclass(frozen=True)
class Vehicle:
    profile: VehicleProfile
    org_name_zh: str
    org_name_en: str


def window(subject: Subject, horizon_ms: int) -> tuple[int, int]:
    """[start − 10 min, end + 10 min] (the horizon while it goes on; a day at most)."""
    end = subject.end_ms if subject.end_ms is not None else max(horizon_ms, subject.start_ms)
    end = min(end, subject.start_ms + MAX_SPAN_MS)
    return subject.start_ms - MARGIN_MS, end + MARGIN_MS


# Summary entries that are a place of the car ([lon, lat]): a trip's ends (R1–R3), where it
# stood (R4, R8, R9), where it left or entered an area (R5), where a gap began and ended (R7).
PLACE_KEYS = ("from", "to", "at", "exit", "enter")
# The zones that say where a car stood (not the areas around it: a city's boundary or a
# permitted area would only zoom the evidence map out to the whole city).
PLACE_PURPOSES = frozenset({"designated_lot", "sensitive_place", "service_site",
                            "forbidden_zone"})


def _place(value: Any) -> tuple[float, float] | None:
    if (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        return float(value[0]), float(value[1])
    return None


def zone_ids_of(subject: Subject, lot_zone_id: int | None,
                places_of: Callable[[tuple[float, float]], Iterable[Zone]] | None) -> list[int]:
    """The zones a bundle shows: the finding's own, the car's designated lot (where it should
    be), and the places (lots, sensitive places, 定点 sites, forbidden zones) containing the
    points of its summary (a trip's ends, where it stood) that counted then — so that even an
    R1 trip shows whether it left the lot and where it went."""
    ids = list(subject.zone_ids)
    if lot_zone_id is not None:
        ids.append(lot_zone_id)
    if places_of is not None:
        for key in PLACE_KEYS:
            at = _place(subject.summary.get(key))
            if at is not None:
                ids.extend(z.id for z in places_of(at) if z.purpose in PLACE_PURPOSES
                           and not retired(z, subject.start_ms))
    return list(dict.fromkeys(ids))


def build(subject: Subject, *, params: RuleParams | None, vehicle: Vehicle | None,
          driver: dict[str, Any] | None, horizon_ms: int, fixes: Sequence[Fix],
          zones: Iterable[Zone], orders: Iterable[OrderView],
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bundle; `fixes` are the car's stored positions over `window(subject, horizon)`."""
    lo, hi = window(subject, horizon_ms)
    inside = [f for f in fixes if lo <= f.ts_ms <= hi]
    triggers = trigger_fixes(inside, subject.trigger_ms)
    orders = sorted(orders, key=lambda o: o.id)
    checked = subject.summary.get("orders_checked") or {
        "from": local_iso(subject.start_ms - DAY_MS), "to": local_iso(hi - MARGIN_MS + DAY_MS)}
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "rule": {"id": subject.rule_id,
                 "params": dict(params.values) if params is not None else {},
                 "params_version": params.version if params is not None else 0},
        "finding": {"key": subject.key, "severity": subject.severity,
                    "start": local_iso(subject.start_ms), "end": local_iso(subject.end_ms),
                    "provisional": subject.provisional,
                    "parts": [list(p) for p in subject.part_keys]},
        "vehicle": vehicle_json(vehicle),
        "driver": driver,
        "window": {"from": local_iso(lo), "to": local_iso(hi)},
        "track": track(inside, [f.ts_ms for f in triggers]),
        "points": [point(f) for f in triggers],
        "zones": [zone_json(z) for z in sorted(zones, key=lambda z: z.id)],
        "orders": [order_json(o) for o in orders],
        "orders_checked": None if orders else checked,
        "distance": distance(inside, subject.start_ms,
                             subject.end_ms if subject.end_ms is not None else hi - MARGIN_MS),
        "summary": subject.summary,
        "message": {"zh": subject.message_zh, "en": subject.message_en},
    }
    if extra:
        bundle.update(extra)
    return bundle


def vehicle_json(vehicle: Vehicle | None) -> dict[str, Any] | None:
    if vehicle is None:
        return None
    p = vehicle.profile
    return {"id": p.id, "plate": p.plate, "source": p.source, "use_category": p.use_category,
            "org": {"id": p.owner_org_id, "name_zh": vehicle.org_name_zh,
                    "name_en": vehicle.org_name_en}}


def trigger_fixes(fixes: Sequence[Fix], trigger_ms: Iterable[int]) -> list[Fix]:
    """The stored position nearest in time to each trigger (once each, in time order)."""
    if not fixes:
        return []
    chosen: dict[int, Fix] = {}
    for t in trigger_ms:
        nearest = min(fixes, key=lambda f: (abs(f.ts_ms - t), f.ts_ms))
        chosen[nearest.ts_ms] = nearest
    return [chosen[t] for t in sorted(chosen)]


def track(fixes: Sequence[Fix], keep_ms: Iterable[int] = ()) -> dict[str, Any]:
    located = [f for f in fixes if f.fix]
    if not located:
        return {"type": "LineString", "coordinates": []}
    keep_set = set(keep_ms)
    keep = [i for i, f in enumerate(located) if f.ts_ms in keep_set]
    kept = simplify_to_budget([f.lat for f in located], [f.lon for f in located],
                              TRACK_POINTS, keep=keep).indices
    return {"type": "LineString",
            "coordinates": [[located[i].lon, located[i].lat] for i in kept]}


def point(f: Fix) -> dict[str, Any]:
    return {"ts": local_iso(f.ts_ms), "lat": f.lat, "lon": f.lon, "speed_kmh": f.speed_kmh,
            "acc": f.acc, "fix": f.fix, "alarm": f.alarm}


def zone_json(z: Zone) -> dict[str, Any]:
    return {"id": z.id, "version": z.version, "code": z.code, "name_zh": z.name_zh,
            "name_en": z.name_en, "purpose": z.purpose, "category": z.category,
            "speed_limit_kmh": z.speed_limit_kmh, "geojson": z.geojson}


def order_json(o: OrderView) -> dict[str, Any]:
    return {"id": o.id, "state": o.state, "planned_start": local_iso(o.planned_start_ms),
            "planned_end": local_iso(o.planned_end_ms), "departed_at": local_iso(o.departed_ms),
            "returned_at": local_iso(o.returned_ms), "request_ids": list(o.request_ids),
            "trip_types": list(o.trip_types), "driver_id": o.driver_id,
            "origin": {"lon": o.origin[0], "lat": o.origin[1], "city_code": o.origin[2]},
            "destinations": [{"lon": d[0], "lat": d[1], "city_code": d[2]}
                             for d in o.destinations],
            "planned_km": o.planned_km, "round_trip": o.round_trip}


def distance(fixes: Sequence[Fix], start_ms: int, end_ms: int) -> dict[str, float | None]:
    """GNSS km along the fixed positions in [start, end], and the odometer's difference."""
    span = [f for f in fixes if start_ms <= f.ts_ms <= end_ms]
    located = [f for f in span if f.fix]
    metres = sum(haversine_m(a.lat, a.lon, b.lat, b.lon)
                 for a, b in zip(located, located[1:], strict=False))
    odometers = [f.odometer_km for f in span if f.odometer_km is not None]
    odo = odometers[-1] - odometers[0] if len(odometers) >= 2 else None
    return {"gnss_km": round(metres / 1000.0, 2),
            "odometer_km": None if odo is None or odo < 0 else round(odo, 2)}
