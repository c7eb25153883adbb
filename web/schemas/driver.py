"""The driver's page API (驾驶员): his orders with what he needs on the road, his steps, and
his phone's position for a car without a terminal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.orders import OrderState

Money = Decimal  # yuan, two decimals
DriverEvent = Literal["driver_accept", "request_reassignment", "depart", "arrive_pickup",
                      "start_service", "end_service", "return"]


class DriverPlace(BaseModel):
    name: str
    lat: float
    lon: float
    city_code: str
    city_name_zh: str
    city_name_en: str


class DriverTripRequest(BaseModel):
    """A request the order carries: who to pick up, who to call."""
    id: int
    trip_type: str
    reason: str = Field(description="事由")
    passengers: list[str]
    passenger_count: int
    planned_start: datetime
    planned_end: datetime
    origin: DriverPlace
    destinations: list[DriverPlace]
    round_trip: bool
    driver_waits: bool = Field(description="round trip: the car waits at the destination")
    applicant_name: str
    applicant_phone: str
    contact_phone: str = Field(description="who the driver calls (the applicant's phone if empty)")
    unit_name_zh: str
    unit_name_en: str


class DriverOrderRead(BaseModel):
    id: int
    state: OrderState
    version: int
    allowed_events: list[DriverEvent] = Field(description="the driver's own next steps")
    planned_start: datetime
    planned_end: datetime
    assigned_at: datetime | None
    accepted_at: datetime | None
    departed_at: datetime | None
    arrived_pickup_at: datetime | None
    service_started_at: datetime | None
    service_ended_at: datetime | None
    returned_at: datetime | None
    vehicle_id: int
    plate: str
    car_level: str
    seats: int
    energy_type: str
    vehicle_source: str
    brand_model: str
    rental_company_name_zh: str | None
    rental_company_name_en: str | None
    has_terminal: bool = Field(description="the car has its own GPS terminal")
    shares_phone_location: bool = Field(
        description="no terminal: the phone's location is wanted while on the road")
    last_odometer_km: float | None = Field(description="best guess to prefill the odometer")
    odometer_start_km: float | None
    odometer_end_km: float | None
    tolls_cny: Money
    parking_cny: Money
    fuel_cny: Money
    fuel_l: Decimal
    charge_kwh: Decimal
    nights_out_of_town: int
    passenger_count: int
    origin: DriverPlace = Field(description="the first pickup")
    pickups: list[DriverPlace] = Field(
        description="every request's origin, in order (a carpooled order picks up several)")
    destinations: list[DriverPlace] = Field(description="every request's destinations, in order")
    requests: list[DriverTripRequest]


class DriverOrderList(BaseModel):
    day: date
    orders: list[DriverOrderRead]


class DriverEventIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"event": "driver_accept", "version": 2},
            {"event": "depart", "version": 3, "odometer_km": 12345.6},
            {"event": "return", "version": 7, "odometer_km": 12466.2, "tolls_cny": "45.00",
             "parking_cny": "10.00", "fuel_cny": "120.00", "fuel_l": "15.5",
             "nights_out_of_town": 0},
            {"event": "request_reassignment", "version": 2, "note": "车辆故障，无法出车"},
        ]},
    )
    event: DriverEvent
    version: int = Field(ge=1, description="The version you read: a stale one is refused (409)")
    odometer_km: float | None = Field(None, ge=0, le=1e7, description="depart / return")
    tolls_cny: Money = Field(Decimal(0), ge=0, le=100_000, decimal_places=2, description="return: 通行费")
    parking_cny: Money = Field(Decimal(0), ge=0, le=100_000, decimal_places=2, description="return: 停车费")
    fuel_cny: Money = Field(Decimal(0), ge=0, le=100_000, decimal_places=2,
                            description="return: 燃油费 or 充电费")
    fuel_l: Decimal = Field(Decimal(0), ge=0, le=10_000, decimal_places=2, description="return: litres")
    charge_kwh: Decimal = Field(Decimal(0), ge=0, le=10_000, decimal_places=2, description="return: kWh")
    nights_out_of_town: int = Field(0, ge=0, le=60, description="return: nights away (异地住宿)")
    note: str = Field("", max_length=500, description="request_reassignment: the reason (required)")


class LocationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "lat": 30.5928, "lon": 114.3055, "accuracy_m": 12.0, "speed_kmh": 36.5,
            "heading_deg": 270, "ts": "2026-11-24T09:15:02.000+08:00",
        }]},
    )
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=100_000, description="the fix's radius; > 100 m: flagged fix=false")
    speed_kmh: float | None = Field(None, ge=0, le=1000)
    heading_deg: float | None = Field(None, ge=0, le=360)
    ts: AwareDatetime = Field(description="the fix's time, with its offset")


class LocationAccepted(BaseModel):
    order_id: int
    vehicle_id: int
    device_uid: str = Field(description="the phone's device: phone-v{vehicle_id}")
    ts: datetime
