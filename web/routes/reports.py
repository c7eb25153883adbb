"""Figures (统计) and rental statements (对账单): per vehicle, unit, city, company and month."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
