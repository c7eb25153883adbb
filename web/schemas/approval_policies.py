"""Approval policy (审批规则) schemas: how many levels approve a trip, per organisation and
trip type, and which car classes it may ask for (用车制度)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.trip_requests import TripType

CarLevel = Literal["sedan", "business", "minibus", "bus"]

_EXAMPLE = {
    "base_levels": 1, "cross_city_extra": 1, "night_extra": 1, "holiday_extra": 1,
    "allowed_car_levels": ["sedan", "business"],
}


class ApprovalPolicyRules(BaseModel):
    """The rules of a policy (what an update replaces)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    base_levels: int = Field(1, ge=1, le=5, description="levels every request needs")
    cross_city_extra: int = Field(1, ge=0, le=2, description="added for a cross-city trip (跨市)")
    night_extra: int = Field(1, ge=0, le=2, description="added when any part is 20:00–06:00")
    holiday_extra: int = Field(1, ge=0, le=2, description="added on an off day (调休 included)")
    allowed_car_levels: list[CarLevel] | None = Field(
        None, min_length=1, max_length=4, description="用车制度: car classes allowed; null: any")

    @field_validator("allowed_car_levels")
    @classmethod
    def _distinct(cls, levels: list[str] | None) -> list[str] | None:
        return None if levels is None else sorted(set(levels))


class ApprovalPolicyCreate(ApprovalPolicyRules):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"org_id": 2, "trip_type": "reception", **_EXAMPLE}]},
    )
    org_id: int = Field(ge=1, le=2**31 - 1)
    trip_type: TripType | None = Field(None, description="null: every trip type of the organisation")


class ApprovalPolicyRead(BaseModel):
    id: int
    org_id: int
    org_code: str
    org_kind: str
    org_name_zh: str
    org_name_en: str
    trip_type: TripType | None
    base_levels: int
    cross_city_extra: int
    night_extra: int
    holiday_extra: int
    allowed_car_levels: list[str] | None
    updated_at: datetime
    editable: bool = Field(description="whether the caller may change or delete it")
