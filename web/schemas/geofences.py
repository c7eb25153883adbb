"""Geofences (电子围栏) and vehicle groups over the API: GeoJSON in WGS-84, [lon, lat]."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Shape = Literal["polygon", "circle", "corridor"]
Purpose = Literal["designated_lot", "city_boundary", "permitted_area", "forbidden_zone",
                  "sensitive_place", "service_site", "speed_zone"]
AppliesTo = Literal["all", "group", "vehicle"]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$"

_POLYGON_EXAMPLE = {
    "name_zh": "某会所", "name_en": "A private club", "shape": "polygon",
    "purpose": "sensitive_place", "category": "club_hotel", "city_code": "420100",
    "geometry": {"type": "Polygon", "coordinates": [[[114.30, 30.58], [114.31, 30.58],
                                                     [114.31, 30.59], [114.30, 30.58]]]},
    "time_windows": [{"weekdays": [1, 2, 3, 4, 5], "from": "20:00", "to": "06:00"}],
}
_CIRCLE_EXAMPLE = {
    "name_zh": "定点加油站", "name_en": "Designated filling station", "shape": "circle",
    "purpose": "service_site", "category": "fuel", "city_code": "420100",
    "centre": [114.285, 30.615], "radius_m": 60,
}
_CORRIDOR_EXAMPLE = {
    "name_zh": "机场高速限速", "name_en": "Airport expressway speed zone", "shape": "corridor",
    "purpose": "speed_zone", "speed_limit_kmh": 100, "city_code": "420100",
    "line": {"type": "LineString", "coordinates": [[114.25, 30.65], [114.21, 30.78]]},
    "buffer_m": 60,
}


class TimeWindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    weekdays: list[int] = Field(default=[1, 2, 3, 4, 5, 6, 7], min_length=1, max_length=7,
                                description="ISO weekdays: 1 Monday … 7 Sunday")
    from_: str = Field(alias="from", pattern=r"^\d{2}:\d{2}$", description="HH:MM local time")
    to: str = Field(pattern=r"^\d{2}:\d{2}$",
                    description="HH:MM; before `from`: the window runs past midnight")


class ZoneIn(BaseModel):
    """A zone as drawn: a polygon's `geometry`, a circle's `centre` and `radius_m`, or a
    corridor's `line` and `buffer_m` (metres)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [_POLYGON_EXAMPLE, _CIRCLE_EXAMPLE, _CORRIDOR_EXAMPLE]})
    code: str | None = Field(default=None, pattern=CODE_PATTERN,
                             description="natural key; generated when left out")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    shape: Shape
    purpose: Purpose
    category: str | None = Field(default=None, max_length=40)
    city_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    org_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                               description="owner; null: the province's (admins only)")
    geometry: dict[str, Any] | None = Field(default=None, description="polygon: GeoJSON Polygon")
    centre: list[float] | None = Field(default=None, min_length=2, max_length=2,
                                       description="circle: [lon, lat]")
    radius_m: float | None = Field(default=None, description="circle: 10 m … 50 km")
    line: dict[str, Any] | None = Field(default=None, description="corridor: GeoJSON LineString")
    buffer_m: float | None = Field(default=None, description="corridor: 10 m … 5 km")
    speed_limit_kmh: float | None = Field(default=None, description="speed zone: 5 … 150")
    time_windows: list[TimeWindowIn] = Field(default=[], max_length=20,
                                             description="[] = always")
    valid_from: date | None = None
    valid_to: date | None = None
    applies_to: AppliesTo = "all"
    vehicle_group_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    vehicle_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ZoneUpdate(ZoneIn):
    """The whole zone again, with the version it was read at (409 when someone saved first)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{**_CIRCLE_EXAMPLE, "radius_m": 80, "version": 2}]})
    version: int = Field(ge=1, le=2**31 - 1)
    active: bool = True


class ZoneRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        **_CIRCLE_EXAMPLE, "id": 40, "version": 1, "code": "SS-420100-FUEL1", "org_id": None,
        "geometry": None, "line": None, "buffer_m": None, "time_windows": [],
        "valid_from": None, "valid_to": None, "applies_to": "all", "vehicle_group_id": None,
        "vehicle_id": None, "active": True, "updated_at": "2026-11-30T10:00:00+08:00",
        "geojson": {"type": "Polygon", "coordinates": [[[114.285, 30.6155], "…"]]},
        "editable": True}]})
    id: int
    version: int
    code: str
    name_zh: str
    name_en: str
    shape: str
    purpose: str
    category: str | None
    city_code: str | None
    org_id: int | None
    geojson: dict[str, Any] = Field(description="the area as drawn on maps (a circle's 48-gon)")
    centre: list[float] | None
    radius_m: float | None
    line: dict[str, Any] | None
    buffer_m: float | None
    speed_limit_kmh: float | None
    time_windows: list[dict[str, Any]]
    valid_from: date | None
    valid_to: date | None
    applies_to: str
    vehicle_group_id: int | None
    vehicle_id: int | None
    active: bool
    updated_at: datetime
    editable: bool = Field(description="whether the caller may change it")


class ZoneVersionRead(BaseModel):
    version: int
    changed_at: datetime
    changed_by: int | None
    changed_by_name: str | None
    zone: dict[str, Any] = Field(description="the whole zone as it was at this version")


class FeatureCollectionIn(BaseModel):
    """A GeoJSON FeatureCollection of zones: each feature's properties are a zone's fields (as
    exported); a polygon's area is the feature's geometry, a circle's is `centre` + `radius_m`,
    a corridor's is `line_geojson` (or a LineString geometry) + `buffer_m`. A feature whose
    `code` exists updates that zone; every feature must pass or nothing is written."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": None,
            "properties": {**_CIRCLE_EXAMPLE, "code": "SS-420100-FUEL9"}}]}]})
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(max_length=5000)


class ImportedZone(BaseModel):
    index: int
    code: str
    id: int
    version: int
    action: Literal["created", "updated", "unchanged"]


class ImportRead(BaseModel):
    created: int
    updated: int
    unchanged: int
    zones: list[ImportedZone]


class VehicleGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "code": "VG-420100-LAW", "name_zh": "执法执勤车辆", "name_en": "Law-enforcement cars",
        "org_id": 3, "vehicle_ids": [12, 13]}]})
    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    org_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                               description="owner; default: the caller's scope")
    vehicle_ids: list[int] = Field(default=[], max_length=2000)


class VehicleGroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    vehicle_ids: list[int] = Field(default=[], max_length=2000)


class GroupMember(BaseModel):
    id: int
    plate: str


class VehicleGroupRead(BaseModel):
    id: int
    code: str
    name_zh: str
    name_en: str
    org_id: int
    members: list[GroupMember]
    zone_count: int
    editable: bool
