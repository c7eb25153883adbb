from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeadLetterRead(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str = Field(description="Machine code, see docs/device-contract.md")
    detail: str
    device_uid: str | None
    payload_text: str | None = Field(description="The raw payload as UTF-8, when it is text")
    payload_base64: str = Field(description="The raw payload, byte for byte")


class DeadLetterReasonCount(BaseModel):
    reason: str
    count: int
    last_at: datetime


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    next_before_id: int | None = Field(description="Pass as before_id for the next (older) page")
    counts: list[DeadLetterReasonCount] = Field(description="Per reason over the last `hours`")
