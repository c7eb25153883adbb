"""Schemas shared across the API: the error shape, health, client config."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorRead(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error shape for these statuses."""
    return {status: {"model": ErrorRead} for status in statuses}


class HealthRead(BaseModel):
    status: str
    checks: dict[str, str]


class MapCentre(BaseModel):
    lat: float
    lon: float
    zoom: int


class ConfigRead(BaseModel):
    tile_url: str
    tile_max_native_zoom: int
    tile_attribution: str
    map_centre: MapCentre
    demo: bool
