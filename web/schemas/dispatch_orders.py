"""Dispatch order (派车单) schemas."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.orders import OrderEvent, OrderState

Money = Decimal  # yuan, two decimals
CharterType = Literal["trip", "half_day", "full_day", "multi_day"]
ServiceMode = Literal["with_driver", "car_only"]


class DispatchOrderCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"request_id": 42}, {"request_ids": [42, 57]},
                                        {"request_id": 42, "additional": True}]},
    )
    request_id: int | None = Field(None, ge=1, le=2**31 - 1, description="One request")
    request_ids: list[int] | None = Field(
        None, min_length=1, max_length=6,
        description="Several requests sharing one car (公务拼车): a merge the dispatcher confirms",
    )
    additional: bool = Field(
        False, description="Another car for a request that already has one (a large group); "
        "without it a request with a live order is refused (409 request_has_order)")

    @model_validator(mode="after")
    def _one_of(self) -> DispatchOrderCreate:
        if (self.request_id is None) == (self.request_ids is None):
            raise ValueError("give either request_id or request_ids")
        ids = self.request_ids or [self.request_id]
        if any(not 1 <= i < 2**31 for i in ids) or len(set(ids)) != len(ids):
            raise ValueError("request_ids must be distinct positive ids")
        return self

    @property
    def ids(self) -> list[int]:
        return list(self.request_ids or [self.request_id])  # type: ignore[list-item]


class DispatchOrderEventIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"event": "assign", "version": 1, "vehicle_id": 12, "driver_id": 3},
            {"event": "send_to_rental", "version": 1, "rental_company_id": 2,
             "charter_type": "full_day", "service_mode": "with_driver"},
            {"event": "rental_accept", "version": 2, "vehicle_id": 140, "driver_id": 171},
            {"event": "depart", "version": 3, "odometer_km": 12345.6},
            {"event": "return", "version": 7, "odometer_km": 12466.2, "tolls_cny": "45.00",
             "parking_cny": "10.00", "fuel_cny": "0", "fuel_l": "0", "nights_out_of_town": 0},
            {"event": "dispute", "version": 8, "note": "实际未到第二个目的地"},
            {"event": "rate", "version": 9, "rating": 5, "feedback": "准时、礼貌"},
        ]},
    )
    event: OrderEvent
    version: int = Field(ge=1, description="The version you read: a stale one is refused (409)")
    vehicle_id: int | None = Field(None, ge=1, le=2**31 - 1, description="assign / change_car / rental_accept")
    driver_id: int | None = Field(None, ge=1, le=2**31 - 1, description="assign / change_car / rental_accept")
    rental_company_id: int | None = Field(None, ge=1, le=2**31 - 1, description="send_to_rental")
    charter_type: CharterType = Field("trip", description="send_to_rental: 趟/半日/整日/多日")
    service_mode: ServiceMode = Field("with_driver", description="send_to_rental: 车+驾 / 仅车")
    odometer_km: float | None = Field(None, ge=0, le=1e7, description="depart / return")
    tolls_cny: Money = Field(Decimal(0), ge=0, le=100_000, decimal_places=2, description="return: 通行费")
    parking_cny: Money = Field(Decimal(0), ge=0, le=100_000, decimal_places=2, description="return: 停车费")
    fuel_cny: Money = Field(Decimal(0), ge=0, le=100_000, decimal_places=2, description="return: 燃油/充电费")
    fuel_l: Decimal = Field(Decimal(0), ge=0, le=10_000, decimal_places=2, description="return: litres refuelled")
    charge_kwh: Decimal = Field(Decimal(0), ge=0, le=10_000, decimal_places=2, description="return: kWh charged")
    nights_out_of_town: int = Field(0, ge=0, le=60, description="return: nights away (异地住宿)")
    rating: int | None = Field(None, ge=1, le=5, description="rate: 1–5")
    feedback: str = Field("", max_length=500, description="rate")
    note: str = Field("", max_length=500, description="reject / dispute reason, or a remark")


class DispatchOrderRead(BaseModel):
    id: int
    request_id: int
    request_ids: list[int]
    passenger_count: int
    vehicle_id: int | None
    plate: str | None
    car_level: str | None
    seats: int | None
    vehicle_source: str | None
    driver_id: int | None
    driver_name: str | None
    driver_phone: str | None
    rental_company_id: int | None
    rental_company_name_zh: str | None
    rental_company_name_en: str | None
    charter_type: str | None
    service_mode: str | None
    state: OrderState
    planned_start: datetime
    planned_end: datetime
    sent_to_rental_at: datetime | None
    rental_deadline: datetime | None
    assigned_at: datetime | None
    accepted_at: datetime | None
    departed_at: datetime | None
    arrived_pickup_at: datetime | None
    service_started_at: datetime | None
    service_ended_at: datetime | None
    returned_at: datetime | None
    odometer_start_km: float | None
    odometer_end_km: float | None
    tolls_cny: Decimal
    parking_cny: Decimal
    fuel_cny: Decimal
    fuel_l: Decimal
    charge_kwh: Decimal
    nights_out_of_town: int
    rating: int | None
    feedback: str
    dispute_reason: str
    gnss_km: Decimal | None
    billed_km: Decimal | None
    fee_cny: Decimal | None
    fee_lines: list[dict[str, Any]] | None
    version: int
    allowed_events: list[str]


class DispatchOrderEventRead(BaseModel):
    event: str
    from_state: str
    to_state: str
    at: datetime
    note: str
    data: dict[str, Any]
    actor: str | None
