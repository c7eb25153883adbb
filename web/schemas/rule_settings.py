"""Rule parameters (规则参数), holiday seals (节假日封存) and duty registrations (值班报备)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class RuleParamsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "org_id": 9, "rule_id": "R2", "params": {"night_from": "21:00"},
        "note": "夏季作息：晚九点后计非工作时间"}]})
    org_id: int | None = Field(None, ge=1, le=2**31 - 1, description="null: the platform's default")
    rule_id: str = Field(pattern=r"^R[0-9]{1,2}$")
    params: dict[str, Any] = Field(description="the values to set; the others keep the defaults")
    note: str = Field("", max_length=500)
    valid_from: AwareDatetime | None = Field(None, description="default: now")


class RuleParamsRow(BaseModel):
    id: int
    org_id: int | None
    rule_id: str
    version: int
    params: dict[str, Any]
    valid_from: datetime
    created_by: int | None
    created_at: datetime
    note: str


class EffectiveRule(BaseModel):
    rule_id: str
    version: int = Field(description="0: the code defaults")
    source_org_id: int | None = Field(description="whose row holds: an organisation on the path, "
                                      "null with version ≥ 1 the platform's, null with 0 the code's")
    values: dict[str, Any]
    defaults: dict[str, Any]


class RuleParamsRead(BaseModel):
    org_id: int
    rules: list[EffectiveRule]
    history: list[RuleParamsRow] = Field(description="the rows of this organisation and the "
                                         "platform, newest first")


class _Window(BaseModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _order(self):  # type: ignore[no-untyped-def]
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).days > 366:
            raise ValueError("at most a year")
        return self


class SealIn(_Window):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "org_id": 9, "name": "2026年国庆节封存", "starts_at": "2026-09-30T18:00:00+08:00",
        "ends_at": "2026-10-08T08:00:00+08:00"}]})
    org_id: int = Field(ge=1, le=2**31 - 1, description="its cars (and those below it) are sealed")
    name: str = Field(min_length=1, max_length=100)


class SealChange(_Window):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


class SealRead(BaseModel):
    id: int
    org_id: int
    org_name_zh: str = ""
    org_name_en: str = ""
    name: str
    starts_at: datetime
    ends_at: datetime
    created_by: int | None
    created_at: datetime


class DutyIn(_Window):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "vehicle_id": 12, "reason": "防汛值班", "starts_at": "2026-07-01T00:00:00+08:00",
        "ends_at": "2026-07-08T00:00:00+08:00"}]})
    vehicle_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(min_length=1, max_length=200)


class DutyChange(_Window):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)


class DutyRead(BaseModel):
    id: int
    vehicle_id: int
    plate: str = ""
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: int | None
    created_at: datetime
