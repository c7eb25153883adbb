"""Geofences as GeoJSON FeatureCollections for the console's map layers."""

from __future__ import annotations

from typing import Any

import asyncpg

# Map layer name -> geofence purposes drawn in it.
LAYER_PURPOSES: dict[str, tuple[str, ...]] = {
    "city_boundaries": ("city_boundary",),
    "lots": ("designated_lot",),
    "sensitive_zones": ("sensitive_place", "forbidden_zone"),
}


def _feature(row: asyncpg.Record) -> dict[str, Any]:
    stored = row["geojson"]
    # The column may hold a bare geometry or a whole Feature; either way, one Feature out.
    geometry = stored.get("geometry") if stored.get("type") == "Feature" else stored
    properties = {
        "id": row["id"],
        "code": row["code"],
        "name_zh": row["name_zh"],
        "name_en": row["name_en"],
        "shape": row["shape"],
        "purpose": row["purpose"],
        "category": row["category"],
        "city_code": row["city_code"],
        "radius_m": row["radius_m"],
    }
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": properties}


async def map_layers(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    purposes = [p for group in LAYER_PURPOSES.values() for p in group]
    rows = await pool.fetch(
        """
        SELECT id, code, name_zh, name_en, shape, purpose, category, city_code, radius_m, geojson
        FROM geofences
        WHERE active AND purpose = ANY($1::text[])
        ORDER BY purpose, code
        """,
        purposes,
    )
    layers: dict[str, dict[str, Any]] = {}
    for layer, layer_purposes in LAYER_PURPOSES.items():
        features = [_feature(row) for row in rows if row["purpose"] in layer_purposes]
        layers[layer] = {"type": "FeatureCollection", "features": features}
    return layers
