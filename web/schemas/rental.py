"""Schemas of the rental companies' API (社会化租赁): the company, its orders as its operator sees
them, its cars and drivers, and the answer (accept with car and driver, or reject)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OrderGroup = Literal["waiting", "accepted", "in_service", "history"]


class RentalCompanyRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "code": "RC-JIANGCHENG", "name_zh": "武汉江城公务汽车租赁有限公司",
        "name_en": "Wuhan Jiangcheng Official Car Rental Co., Ltd.", "contract_no": "WH-ZL-2025-01",
        "contract_start": "2025-01-01", "contract_end": "2027-12-31",
        "service_city_codes": ["420100", "420700"], "accept_timeout_s": 600, "in_force": True}]})
    id: int
    code: str
    name_zh: str
    name_en: str
    contract_no: str
    contract_start: date
    contract_end: date
    service_city_codes: list[str]
    accept_timeout_s: int = Field(description="How long an order waits for an answer")
    in_force: bool = Field(description="Today lies within the contract")


class RentalPlaceRead(BaseModel):
    name: str | None
    city_code: str | None
    city_name_zh: str | None
    city_name_en: str | None


class RentalRequestRead(BaseModel):
    """One trip request the order carries, as far as the company needs it."""
    request_id: int
    unit_name_zh: str
    unit_name_en: str
    passenger_count: int
    trip_type: str
    planned_start: datetime
    planned_end: datetime
    round_trip: bool
    driver_waits: bool
    car_level_wanted: str | None
    origin: RentalPlaceRead
    destinations: list[RentalPlaceRead]
    applicant_name: str | None = Field(description="Only once the company holds the order")
    contact_phone: str | None = Field(description="Only once the company holds the order")


class RentalPricePlanRead(BaseModel):
    id: int
    car_level: str
    charter_type: str
    mode: str
    base_price_cny: Decimal
    included_hours: Decimal
    included_km: int
    overtime_cny_per_h: Decimal
    over_km_cny_per_km: Decimal
    night_surcharge_cny: Decimal
    out_of_town_cny_per_day: Decimal
    late_penalty_cny: Decimal


class RentalOrderRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 17, "state": "sent_to_rental", "version": 2,
        "planned_start": "2026-11-24T09:00:00+08:00", "planned_end": "2026-11-24T15:00:00+08:00",
        "sent_to_rental_at": "2026-11-23T16:02:11+08:00",
        "rental_deadline": "2026-11-23T16:12:11+08:00", "charter_type": "full_day",
        "service_mode": "with_driver", "passenger_count": 3, "car_level_wanted": "business",
        "vehicle_id": None, "plate": None, "driver_id": None, "driver_name": None,
        "allowed_events": ["cancel", "rental_accept", "rental_reject", "rental_timeout"]}]})
    id: int
    state: str
    version: int
    planned_start: datetime
    planned_end: datetime
    sent_to_rental_at: datetime | None
    rental_deadline: datetime | None = Field(description="Answer by then, or the order goes back")
    charter_type: str | None
    service_mode: str | None
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    departed_at: datetime | None = None
    returned_at: datetime | None = None
    fee_cny: Decimal | None = None
    passenger_count: int
    car_level_wanted: str | None
    price_plan: RentalPricePlanRead | None = None
    vehicle_id: int | None = None
    plate: str | None = None
    vehicle_car_level: str | None = None
    vehicle_seats: int | None = None
    driver_id: int | None = None
    driver_name: str | None = None
    driver_phone: str | None = None
    requests: list[RentalRequestRead] = []
    allowed_events: list[str] = []


class RentalDeclinedRead(BaseModel):
    """An order the company let go (rejected, or not answered in time)."""
    order_id: int
    event: Literal["rental_reject", "rental_timeout"]
    at: datetime
    note: str
    planned_start: datetime
    planned_end: datetime


class RentalOrderPage(BaseModel):
    now: datetime = Field(description="The server's clock, for the pages' countdowns")
    items: list[RentalOrderRead]
    counts: dict[str, int] = Field(description="Orders per tab: waiting, accepted, in_service, history")
    declined: list[RentalDeclinedRead] = Field(
        [], description="With state=history: orders rejected or not answered in time")


class RentalBookingRead(BaseModel):
    order_id: int
    state: str
    planned_start: datetime
    planned_end: datetime


class RentalCarRead(BaseModel):
    id: int
    plate: str
    car_level: str
    seats: int
    energy_type: str
    brand_model: str
    home_city_code: str
    home_city_name_zh: str
    home_city_name_en: str
    active: bool
    documents: dict[str, date] = Field(description="一车一档: kind → expiry date")
    documents_valid: bool = Field(description="年检 and 保险 valid today")
    documents_expiring: list[str] = Field(description="Expired or expiring within 30 days")
    busy_now: bool
    bookings: list[RentalBookingRead]
    fits: bool | None = Field(description="With order_id: may take that order")
    reason: str | None = Field(description="Why not: seats, car_level, document_*, booked, car_inactive")


class RentalDriverRead(BaseModel):
    id: int
    code: str
    name: str
    phone: str
    license_class: str
    home_city_code: str
    has_login: bool = Field(description="Can use the driver page (is told of the order there)")
    busy_now: bool
    bookings: list[RentalBookingRead]
    fits: bool | None
    reason: str | None = Field(description="booked: within 30 min of the order")


class RentalFleetRead(BaseModel):
    company_id: int
    order_id: int | None
    cars: list[RentalCarRead]
    drivers: list[RentalDriverRead]


class RentalAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"version": 2, "vehicle_id": 25, "driver_id": 175}]})
    version: int = Field(ge=1, description="The version you read: a stale one is refused (409)")
    vehicle_id: int = Field(ge=1, le=2**31 - 1, description="One of the company's cars")
    driver_id: int = Field(ge=1, le=2**31 - 1, description="One of the company's drivers")


class RentalRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"version": 2, "reason": "该时段无空闲商务车"}]})
    version: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=500, description="拒单原因, kept in the order's history")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a rejection needs its reason")
        return value.strip()

