"""Notification schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NotificationRead(BaseModel):
    id: int
    kind: str = Field(description="order_assigned, carpool_merged, rental_order, reminder, …")
    text: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationsReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"ids": [12, 13]}]})
    ids: list[int] = Field(min_length=1, max_length=500)


class MarkedRead(BaseModel):
    marked: int
