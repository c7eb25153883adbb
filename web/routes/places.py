"""Places for the map picker: which city a point lies in, and the scenario's named places."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/places", tags=["places"])
