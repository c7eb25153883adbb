"""一车一档: vehicle documents and their expiry reminders."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/vehicle-documents", tags=["vehicle documents"])
