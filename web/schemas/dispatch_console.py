"""Schemas of the dispatcher's console API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class QueueOrder(BaseModel):
    id: int
    state: str
    version: int
    rental_company_id: int | None = None
    rental_deadline: datetime | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    passenger_count: int | None = None
    request_ids: list[int] = []


class QueueRequest(BaseModel):
    id: int
    trip_type: str
    reason: str
    passenger_count: int
    planned_start: datetime
    planned_end: datetime
    origin: dict[str, Any]
    destinations: list[dict[str, Any]]
    round_trip: bool
    driver_waits: bool
    car_level_wanted: str | None
    carpool_allowed: bool
    state: str
    version: int
    emergency_deadline: datetime | None
    emergency_approved: bool | None
    org_id: int
    org_name_zh: str
    org_name_en: str
    home_city: str | None
    applicant_name: str
    open_orders: list[QueueOrder]
    held_orders: int


class RentalWaiting(QueueOrder):
    request_id: int


class OrderOnRoad(BaseModel):
    id: int
    state: str
    version: int
    planned_start: datetime
    planned_end: datetime
    vehicle_id: int
    plate: str
    driver_name: str | None
    request_id: int
    origin: dict[str, Any]
    destinations: list[dict[str, Any]]
    lat: float | None
    lon: float | None


class DisputedOrder(BaseModel):
    id: int
    version: int
    state: str
    planned_start: datetime
    planned_end: datetime
    plate: str | None
    driver_name: str | None
    dispute_reason: str
    odometer_start_km: float | None
    odometer_end_km: float | None
    tolls_cny: Decimal
    parking_cny: Decimal
    fuel_cny: Decimal
    billed_km: Decimal | None
    gnss_km: Decimal | None
    fee_cny: Decimal | None
    request_id: int
    request_reason: str


class QueueRead(BaseModel):
    requests: list[QueueRequest]
    rental_waiting: list[RentalWaiting]
    on_the_road: list[OrderOnRoad]
    disputed: list[DisputedOrder]


class CandidateCar(BaseModel):
    vehicle_id: int
    plate: str
    tier: int  # 1 the unit's own retained car, 2 the city's platform/entrusted car
    source: str
    seats: int
    car_level: str
    energy_type: str
    status: str
    reason: str | None  # None: may take the order; else seats, car_level, booked, document_*
    dist_m: int | None
    eta_min: float | None
    from_depot: bool
    driver_id: int | None
    driver_name: str | None


class FreeDriverRead(BaseModel):
    id: int
    name: str
    orders_that_day: int


class CompanyOffer(BaseModel):
    id: int
    code: str
    name_zh: str
    name_en: str
    accept_timeout_s: int
    prices: dict[str, Decimal]  # charter type -> base price (车+驾) for the class needed


class CandidatesRead(BaseModel):
    order_id: int | None  # None: candidates for a request that has no order yet
    request_ids: list[int]
    version: int | None
    state: str | None
    passengers: int
    car_level: str
    pickup: dict[str, Any]
    cars: list[CandidateCar]
    drivers: list[FreeDriverRead]
    companies: list[CompanyOffer]


class CarpoolProposalRead(BaseModel):
    request_ids: list[int]
    stops: list[str]  # p1 p2 d1 d2 in driving order (p: pickup, d: drop-off)
    detour_min: dict[str, float]
    shared_km: float
    saved_km: float
    passengers: int
    versions: list[int]


class ReminderIn(BaseModel):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [
        {"order_id": 42, "text": "请于22:00前返回停放点", "tts": True}]}}
    order_id: int = Field(ge=1, le=2**31 - 1)
    text: str = Field(min_length=1, max_length=200)
    tts: bool = True


class ReminderRead(BaseModel):
    order_id: int
    driver_notified: bool
    device_command_id: str | None  # the cmd sent to the car's terminal, when it has one
