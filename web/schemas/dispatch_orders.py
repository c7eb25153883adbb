"""Dispatch order (派车单) schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dispatch.orders import OrderEvent, OrderState


class DispatchOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: int = Field(ge=1, le=2**31 - 1)


class DispatchOrderEventIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"event": "assign", "version": 1, "vehicle_id": 12, "driver_id": 3},
            {"event": "depart", "version": 3, "odometer_km": 12345.6},
        ]},
    )
    event: OrderEvent
    version: int = Field(ge=1, description="The version you read: a stale one is refused (409)")
    vehicle_id: int | None = Field(None, ge=1, le=2**31 - 1, description="assign / change_car")
    driver_id: int | None = Field(None, ge=1, le=2**31 - 1, description="assign / change_car")
    odometer_km: float | None = Field(None, ge=0, le=1e7, description="depart / return")
    note: str = Field("", max_length=500)


class DispatchOrderRead(BaseModel):
    id: int
    request_id: int
    vehicle_id: int | None
    plate: str | None
    driver_id: int | None
    driver_name: str | None
    state: OrderState
    planned_start: datetime
    planned_end: datetime
    departed_at: datetime | None
    returned_at: datetime | None
    odometer_start_km: float | None
    odometer_end_km: float | None
    version: int
    allowed_events: list[str]
