"""一车一档 document schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentKind = Literal["registration", "insurance", "annual_inspection"]  # 行驶证 / 保险 / 年检


class VehicleDocumentRead(BaseModel):
    vehicle_id: int
    plate: str
    kind: DocumentKind
    number: str
    expires_on: date
    updated_at: datetime
    days_left: int  # negative: expired that many days ago
    city_code: str | None = None


class VehicleDocumentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"number": "PICC-4201-2026-00123", "expires_on": "2027-11-30"}]},
    )
    number: str = Field("", max_length=60)
    expires_on: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
