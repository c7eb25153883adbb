"""The driver's page API (驾驶员): today's orders, the steps with odometer and costs, location."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/driver", tags=["driver"])
