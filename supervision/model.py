"""The pure data types of supervision (issue #5): what the episode trackers found, the views
of trips, stops and orders the rules judge, the vehicle-day an evaluation works on, and the
findings it returns. Frozen dataclasses; times are epoch milliseconds (device time); positions
are WGS-84 and written (lon, lat) in tuples, [lon, lat] in GeoJSON."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # G1's zones module; only the type is needed here
    from supervision.zones import Zone

SEVERITIES = ("info", "warn", "alarm")


@dataclass(frozen=True)
class Fix:
    """One stored position."""
    ts_ms: int
    lat: float
    lon: float
    speed_kmh: float | None
    acc: bool | None
    fix: bool = True
    alarm: int = 0
    odometer_km: float | None = None


@dataclass(frozen=True)
class Episode:
    """What the trackers found (table vehicle_episodes).

    kind zone: key str(zone id), data {"zone_id", "version", "purpose", "category", "fixes",
        "enter": [lon, lat], "exit": [lon, lat]}
    kind speeding: key "", data {"max_speed_kmh", "limit_kmh", "limit_source": "zone"|"default",
        "zone_id", "fixes"}
    kind gap: key "", data {"from": [lon, lat], "to": [lon, lat] | None, "acc": bool | None,
        "speed_kmh": float | None, "dist_m": float | None}
    kind alarm: key str(bit), data {"bit": int}
    end_ms None: still going on at the horizon."""
    kind: str
    key: str
    start_ms: int
    end_ms: int | None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TripView:
    """A row of `trips` (telemetry motion). start/end are (lon, lat); while the trip goes on,
    end is the last fix so far and end_ms is None."""
    start_ms: int
    end_ms: int | None
    start: tuple[float, float]
    end: tuple[float, float]
    dist_m: float
    max_speed_kmh: float
    duration_s: int
    odo_km: float | None = None          # odometer delta over the trip (device, else GNSS)


@dataclass(frozen=True)
class StopView:
    """A row of `stops`; at is (lon, lat)."""
    start_ms: int
    end_ms: int | None
    at: tuple[float, float]
    duration_s: int


@dataclass(frozen=True)
class OrderView:
    """A dispatch order of the vehicle, with its requests (none cancelled)."""
    id: int
    state: str
    planned_start_ms: int
    planned_end_ms: int
    departed_ms: int | None
    returned_ms: int | None
    origin: tuple[float, float, str]                 # lon, lat, city code
    destinations: tuple[tuple[float, float, str], ...]
    request_ids: tuple[int, ...]
    trip_types: tuple[str, ...]
    emergency: bool
    emergency_approved: bool | None
    emergency_deadline_ms: int | None
    driver_id: int | None
    # Planned driving (R10): great circle × 1.3 over the car's base → origin → destinations
    # (→ origin again for a round trip) → base, where the base is the car's designated lot's
    # centre, else its depot (the drive to the pickup and back to the lot is planned too);
    # origin → destinations (→ origin) alone when the car has neither. 0: unknown.
    planned_km: float
    round_trip: bool


@dataclass(frozen=True)
class VehicleProfile:
    id: int
    plate: str
    source: str                                      # platform | entrusted | unit_retained | leased
    use_category: str                                # confidential | emergency | law_enforcement | special_technical | general
    home_city: str                                   # GB/T 2260 code
    owner_org_id: int
    org_path: tuple[int, ...]
    lot_zone_id: int | None
    report_interval_s: int
    rental_company_id: int | None


@dataclass(frozen=True)
class RuleParams:
    rule_id: str
    version: int                                     # 0: the code defaults (no rule_params row)
    values: dict
    problems: tuple[str, ...] = ()                   # stored values ignored (the default held)


@dataclass(frozen=True)
class VehicleDay:
    """Everything one evaluation needs; built by the worker, pure from here on."""
    vehicle: VehicleProfile
    day: date                                        # Asia/Shanghai
    day_start_ms: int
    day_end_ms: int
    horizon_ms: int                                  # evaluate up to here (newest fix, or now for timers)
    working_day: bool
    tomorrow_working_day: bool
    seals: tuple[tuple[int, int], ...]               # holiday seals covering the car's org
    duty: tuple[tuple[int, int], ...]                # its duty registrations
    trips: tuple[TripView, ...]                      # overlapping the day (± 6 h margin)
    stops: tuple[StopView, ...]
    episodes: tuple[Episode, ...]                    # overlapping the day (± 6 h)
    orders: tuple[OrderView, ...]                    # overlapping the day ± 1 day
    zones: dict[int, Zone]                         # the zones episodes and stops refer to, and the lot
    places_of: Callable[[tuple[float, float]], list[Zone]]   # zones containing a point, honouring time/binding
    last_fix: Fix | None                             # the newest fix (R4 at check time, R7)
    params: dict[str, RuleParams]
    # Added by G2 (defaults keep the design's constructor valid):
    # R17 "R4 at the same place ≥ 3 nights in 7 days": the R4 stops of the previous 6 days,
    # (stop start ms, lon, lat) — the worker loads them from stored R4 violations' summaries.
    recent_night_stops: tuple[tuple[int, float, float], ...] = ()
    # R13(a): per order id, the nearest approach (m) of any fix in the order's window to each
    # of its destinations, in the order of OrderView.destinations. Missing or None (no fix
    # to look at; an entry None likewise): the trips' ends and the stops stand in, and with
    # nothing to judge from the destination is not judged.
    order_nearest_m: dict[int, tuple[float | None, ...] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    rule_id: str                                     # "R1" … "R17"
    key: str                                         # stable across re-evaluations
    severity: str                                    # info | warn | alarm
    start_ms: int
    end_ms: int | None
    summary: dict                                    # numbers for lists/exports
    order_ids: tuple[int, ...] = ()
    driver_id: int | None = None
    provisional: bool = False                        # live (e.g. R1 after 10 min of an ongoing trip)
    zone_ids: tuple[int, ...] = ()
    trigger_ms: tuple[int, ...] = ()                 # device times of the positions that triggered it
    part_keys: tuple[tuple[str, str], ...] = ()      # R17: the (rule_id, key) of the findings it bundles
    message_zh: str = ""
    message_en: str = ""
    request_id: int | None = None                    # R14: the emergency request (violations.request_id)


@dataclass(frozen=True)
class EmergencyView:
    """An emergency request (应急) dispatched before approval, for R14."""
    request_id: int
    dispatched_ms: int                               # when the first order was created/dispatched
    deadline_ms: int | None                          # trip_requests.emergency_deadline (None: params)
    approved: bool | None                            # None: not decided yet
    decided_ms: int | None = None                    # when it was approved or refused
    vehicle_id: int | None = None
    order_ids: tuple[int, ...] = ()
    driver_id: int | None = None
    plate: str = ""
