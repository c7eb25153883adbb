from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from web.dead_letter_kinds import DeadLetterKind


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
    kind: DeadLetterKind = Field(
        description="contract (the message broke the device contract), filter (a position "
        "refused by a filter), store (PostgreSQL refused the row), other"
    )
    count: int
    last_at: datetime


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    next_before_id: int | None = Field(description="Pass as before_id for the next (older) page")
    counts_since: datetime = Field(description="Start of the counts' window")
    counts: list[DeadLetterReasonCount] = Field(
        description="Per reason since counts_since (`since`, or the last `hours`)"
    )
    total: int = Field(description="All dead letters since counts_since")
