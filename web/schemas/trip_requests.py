"""Trip request (用车申请) schemas: what comes in, what goes out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from dispatch.trip_requests import RequestEvent, RequestState, TripType

CarLevel = Literal["sedan", "business", "minibus", "bus"]

# When a trip may be planned: an emergency is filed up to a day after it started (the car
# went at once); nothing further ahead than half a year; no trip longer than a month.
EARLIEST_START_BEFORE_NOW = timedelta(hours=24)
LATEST_START_AHEAD = timedelta(days=180)
LONGEST_TRIP = timedelta(days=31)


def check_trip_window(start: datetime, end: datetime, now: datetime) -> None:
    """ValueError (→ 422) naming the bound when the planned times are out of reason."""
    if end <= start:
        raise ValueError("planned_end must be after planned_start")
    if start < now - EARLIEST_START_BEFORE_NOW:
        raise ValueError("planned_start may be at most 24 hours in the past (an emergency filed "
                         "after it started)")
    if start > now + LATEST_START_AHEAD:
        raise ValueError("planned_start may be at most 180 days ahead")
    if end - start > LONGEST_TRIP:
        raise ValueError("a trip may last at most 31 days (planned_end - planned_start)")


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    city_code: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code, e.g. 420100")


class TripRequestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "trip_type": "official", "reason": "赴鄂州调研", "passengers": ["张三", "李四"],
            "passenger_count": 2, "planned_start": "2026-11-23T09:00:00+08:00",
            "planned_end": "2026-11-23T17:00:00+08:00",
            "origin": {"name": "市政府", "lat": 30.5928, "lon": 114.3055, "city_code": "420100"},
            "destinations": [{"name": "鄂州市政府", "lat": 30.3908, "lon": 114.895, "city_code": "420700"}],
            "round_trip": True, "driver_waits": True, "car_level_wanted": "sedan",
            "carpool_allowed": True, "contact_phone": "13800000000",
        }]},
    )
    trip_type: TripType
    reason: str = Field(min_length=2, max_length=500, description="事由")
    passengers: list[str] = Field(default_factory=list, max_length=60)
    passenger_count: int = Field(ge=1, le=60)
    planned_start: AwareDatetime
    planned_end: AwareDatetime
    origin: PlaceIn
    destinations: list[PlaceIn] = Field(min_length=1, max_length=10)
    round_trip: bool = True
    driver_waits: bool = Field(True, description="round trip: the car waits at the destination")
    car_level_wanted: CarLevel | None = None
    carpool_allowed: bool = False
    contact_phone: str = Field("", max_length=20, pattern=r"^[0-9+\- ]*$",
                               description="who the driver calls")

    @model_validator(mode="after")
    def _times(self) -> TripRequestCreate:
        check_trip_window(self.planned_start, self.planned_end, datetime.now(UTC))
        if self.passengers and len(self.passengers) > self.passenger_count:
            raise ValueError("more passenger names than passenger_count")
        return self


class TripRequestUpdate(TripRequestCreate):
    """A draft rewritten (草稿修改): every field again, with the version read."""

    version: int = Field(ge=1, description="The version you read: a stale one is refused (409)")


class TripRequestEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: RequestEvent
    version: int = Field(ge=1, description="The version you read: a stale one is refused (409)")
    note: str = Field("", max_length=500, description="e.g. the reason of a rejection")


class TripRequestRead(BaseModel):
    id: int
    trip_type: TripType
    reason: str
    passengers: list[str]
    passenger_count: int
    planned_start: datetime
    planned_end: datetime
    origin: dict
    destinations: list[dict]
    round_trip: bool
    driver_waits: bool
    car_level_wanted: str | None
    carpool_allowed: bool
    contact_phone: str
    state: RequestState
    approval_levels: int
    approved_levels: int
    emergency_deadline: datetime | None
    emergency_approved: bool | None
    precheck_warnings: list[str] = Field(description="for the approver, e.g. transport_subsidy (车补)")
    approval_reasons: list[str] = Field(
        description="why extra levels: cross_city, night, holiday; chain_capped: fewer levels "
                    "than the policy asks, for want of distinct approvers")
    version: int
    applicant_id: int
    applicant_name: str
    org_id: int
    org_name_zh: str
    org_name_en: str
    allowed_events: list[str]
    created_at: datetime


class TripRequestPage(BaseModel):
    items: list[TripRequestRead]
    total: int


class TripRequestEventRead(BaseModel):
    event: str
    from_state: str
    to_state: str
    at: datetime
    note: str
    actor: str | None
