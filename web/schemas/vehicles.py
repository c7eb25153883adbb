"""Vehicles, their live state and tracks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

VehicleStatus = Literal["moving", "idle", "parked", "offline", "no_data"]
Source = Literal["platform", "entrusted", "unit_retained", "leased"]


class CityRef(BaseModel):
    code: str
    name_zh: str
    name_en: str


class Ref(BaseModel):
    id: int
    code: str
    name_zh: str
    name_en: str


class DepotRef(Ref):
    lat: float
    lon: float


class StateRead(BaseModel):
    """The newest fix; lat/lon/heading are null when the position is withheld (机要)."""

    vehicle_id: int
    device_uid: str | None = None
    ts_ms: int = Field(description="Device time of the fix, epoch milliseconds")
    received_ms: int | None = None
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    heading_deg: int | None = None
    acc: bool | None = None
    odometer_km: float | None = None
    fuel_l: float | None = None
    soc_pct: float | None = None
    alarm: int = 0


class VehicleRead(BaseModel):
    id: int
    plate: str
    city: CityRef
    source: Source
    use_category: str
    car_level: str
    seats: int
    energy_type: str
    brand_model: str
    device_uid: str | None
    device_status: str | None
    report_interval_s: int | None
    offline_after_s: int = Field(description="No fix for this long means offline")
    position_withheld: bool = Field(description="True for 机要 vehicles the user may not locate")
    status: VehicleStatus
    state: StateRead | None


class VehiclePage(BaseModel):
    items: list[VehicleRead]
    total: int = Field(description="Vehicles matching the filters, before limit/offset")
    counts: dict[str, int] = Field(description="Matching vehicles per status")


class VehicleDetailRead(VehicleRead):
    tank_l: float | None
    battery_kwh: float | None
    range_km: float | None
    marking: str
    owner_org: Ref
    depot: DepotRef | None
    rental_company: Ref | None


class TrackPoint(BaseModel):
    ts_ms: int = Field(description="Device time, epoch milliseconds")
    lat: float
    lon: float
    speed_kmh: float | None
    heading_deg: int | None
    acc: bool | None


class SegmentRead(BaseModel):
    """A trip (行程) or a stop (停车): times in epoch ms; an open one is still going on."""

    start_ms: int
    end_ms: int | None = Field(description="Null while the segment is open")
    open: bool = Field(description="True for the current segment (no end yet)")
    duration_s: int = Field(description="So far, for an open segment")
    clip_start_ms: int = Field(description="Where the part inside the requested window starts")
    clip_end_ms: int = Field(description="Where the part inside the requested window ends")
    clipped_start: bool = Field(description="True when the segment started before the window")
    clipped_end: bool = Field(description="True when the segment ends after the window")


class TripRead(SegmentRead):
    start_lat: float | None = Field(description="Null when the position is withheld (机要)")
    start_lon: float | None
    end_lat: float | None = Field(description="The last fix so far while open")
    end_lon: float | None
    dist_m: float = Field(description="Along the fixes (GNSS)")
    max_speed_kmh: float
    mean_speed_kmh: float
    odo_start_km: float | None
    odo_end_km: float | None
    odo_source: Literal["device", "gnss"]
    detected_by: Literal["acc", "speed"]
    position_count: int


class StopRead(SegmentRead):
    lat: float | None = Field(description="Null when the position is withheld (机要)")
    lon: float | None


class TrackRead(BaseModel):
    vehicle_id: int
    from_ms: int
    to_ms: int
    max_points: int = Field(description="The point budget asked for")
    points: list[TrackPoint] = Field(
        description="Fixes in device-time order, simplified to the budget (Douglas–Peucker); "
        "trip and stop boundaries are always kept"
    )
    trips: list[TripRead] = Field(description="Trips overlapping the window, oldest first")
    stops: list[StopRead] = Field(description="Stops overlapping the window, oldest first")
    raw_point_count: int = Field(description="Fixes stored for the window")
    point_count: int = Field(description="Fixes returned in `points`")
    simplify_tolerance_m: float = Field(
        description="Every dropped fix lies within this distance of the returned line; "
        "0 when nothing was simplified"
    )
    sample_stride: int = Field(
        description="1, or k when the window held so many fixes that every k-th (plus the "
        "boundaries) was simplified"
    )
    truncated: bool = Field(description="True when the fixes were sampled (sample_stride > 1)")
    distance_m: float = Field(description="Length of the fixes considered, along great circles")


class VehicleDayRead(BaseModel):
    """One vehicle's Asia/Shanghai day so far: its trips and stops, distance and driving time."""

    vehicle_id: int
    day: str = Field(description="YYYY-MM-DD, Asia/Shanghai")
    from_ms: int
    to_ms: int
    position_withheld: bool = Field(description="Coordinates are null for a 机要 vehicle")
    trips: list[TripRead]
    stops: list[StopRead]
    trip_count: int
    distance_m: float = Field(
        description="Driven today; a trip crossing midnight counts with its share of time"
    )
    driving_s: int = Field(description="Time in trips today")
