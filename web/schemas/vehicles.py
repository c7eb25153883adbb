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
    ts_ms: int
    lat: float
    lon: float
    speed_kmh: float | None
    heading_deg: int | None
    acc: bool | None


class TrackRead(BaseModel):
    vehicle_id: int
    from_ms: int
    to_ms: int
    points: list[TrackPoint]
    distance_m: float
    truncated: bool = Field(description="True when the window held more points than returned")
