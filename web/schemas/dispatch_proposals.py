"""Proposal (方案) schemas: the optimizer's plan for the dispatcher's queue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ProposalPin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: int = Field(ge=1, le=2**31 - 1)
    vehicle_id: int = Field(ge=1, le=2**31 - 1, description="The car this request must go on")


class ProposalCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {}, {"request_ids": [42, 57, 61]},
            {"base_proposal_id": "5f0c8a3e9b2d4c1fa6e7d8c9b0a1f2e3",
             "pins": [{"request_id": 57, "vehicle_id": 12}]},
        ]},
    )
    request_ids: list[int] | None = Field(
        None, max_length=1000,
        description="The requests to plan (default: every request of your queue waiting for a car)")
    base_proposal_id: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$",
        description="Re-propose from this proposal: its routes are the starting point, its "
        "selection and pins carry over, new requests are inserted")
    pins: list[ProposalPin] = Field(
        default_factory=list, max_length=100,
        description="Cars the dispatcher fixes for requests (pin and re-propose)")
    replan_s: float = Field(
        5.0, ge=0, le=10,
        description="Seconds the background re-plan may take (0: none)")

    @model_validator(mode="after")
    def _distinct(self) -> ProposalCreate:
        if self.request_ids is not None:
            if any(not 1 <= i < 2**31 for i in self.request_ids):
                raise ValueError("request_ids must be positive ids")
            if len(set(self.request_ids)) != len(self.request_ids):
                raise ValueError("request_ids must be distinct")
        if len({p.request_id for p in self.pins}) != len(self.pins):
            raise ValueError("one pin per request")
        return self


class ProposalAccept(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"revision": 2}, {"revision": 1, "vehicle_ids": [12, 31]}]},
    )
    revision: int = Field(ge=1, le=1000, description="The revision you were shown")
    vehicle_ids: list[int] | None = Field(
        None, min_length=1, max_length=500,
        description="Accept only these cars' routes (default: all not yet accepted)")

    @model_validator(mode="after")
    def _ids(self) -> ProposalAccept:
        if self.vehicle_ids is not None and any(not 1 <= i < 2**31 for i in self.vehicle_ids):
            raise ValueError("vehicle_ids must be positive ids")
        return self


class StopRead(BaseModel):
    seq: int
    request_id: int
    leg: str
    kind: Literal["pickup", "dropoff"]
    name: str
    lat: float
    lon: float
    city_code: str
    arrival: datetime
    start: datetime
    departure: datetime
    load: int


class ProposedOrder(BaseModel):
    request_ids: list[int]
    shared: bool = Field(description="Several requests in one order (公务拼车)")


class RouteRead(BaseModel):
    vehicle_id: int
    plate: str
    car_level: str
    source: str
    seats: int
    city_code: str
    day: str
    cost_cny: float
    km: float
    start: datetime
    end: datetime
    shared: bool
    path: list[list[float]] = Field(description="[lat, lon] from the start, through the stops, "
                                    "back to the depot")
    stops: list[StopRead]
    orders: list[ProposedOrder]
    accepted: bool


class UnservedRead(BaseModel):
    request_id: int
    reason: str = Field(description="no_vehicle, infeasible_time, linked_unserved, no_capacity, "
                        "too_costly, not_planned, not_waiting, merged_order, pinned_car")
    message: str
    message_zh: str
    reason_text: str


class TotalsRead(BaseModel):
    cost_cny: float
    km: float
    vehicles: int
    orders: int
    shared_rides: int
    served: int
    unserved: int


class OutcomeRead(BaseModel):
    order_id: int | None = None
    vehicle_id: int
    plate: str | None = None
    driver_id: int | None = None
    driver_name: str | None = None
    request_ids: list[int]
    state: str | None = None
    code: str | None = None
    message: str | None = None


class ProposalRead(BaseModel):
    id: str
    revision: int
    revisions: list[int]
    state: Literal["open", "partly_accepted", "accepted", "rejected"]
    solver: str
    replanning: bool = Field(description="The background re-plan is still running")
    created_at: datetime
    revised_at: datetime
    request_ids: list[int]
    pins: list[ProposalPin]
    totals: TotalsRead
    routes: list[RouteRead]
    unserved: list[UnservedRead]


class AcceptRead(BaseModel):
    proposal: ProposalRead
    orders: list[OutcomeRead] = Field(description="Orders assigned now")
    refused: list[OutcomeRead] = Field(description="Orders the checks refused, with the reason")
