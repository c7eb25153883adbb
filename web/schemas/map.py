"""Map layers as GeoJSON FeatureCollections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FeatureCollection(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


class MapLayersRead(BaseModel):
    city_boundaries: FeatureCollection
    lots: FeatureCollection
    sensitive_zones: FeatureCollection
