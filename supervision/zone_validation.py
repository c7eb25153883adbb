"""Checks a zone as people (the API, a GeoJSON import) describe it and derives what is stored.
Pure code.

Input: shape, purpose, category, geometry (a GeoJSON Polygon or MultiPolygon, for polygons),
centre [lon, lat] and radius_m (circles), line (a GeoJSON LineString) and buffer_m (corridors),
speed_limit_kmh, time_windows, valid_from, valid_to, applies_to, vehicle_group_id, vehicle_id.
Output: the geofences columns those decide, or the list of problems (all of them, not the first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from shapely.geometry import shape as geojson_shape
from shapely.validation import explain_validity

from supervision import local_metric
from supervision.zones import (
    APPLIES_TO,
    PURPOSES,
    SENSITIVE_CATEGORIES,
    SERVICE_CATEGORIES,
    SHAPES,
    parse_time_windows,
)

# The Wuhan metropolitan circle, roughly: a zone must lie within these bounds.
LAT_RANGE = (28.0, 33.0)
LON_RANGE = (111.0, 117.0)
RADIUS_RANGE_M = (10.0, 50_000.0)
BUFFER_RANGE_M = (10.0, 5_000.0)
SPEED_RANGE_KMH = (5.0, 150.0)
MAX_VERTICES = 5_000


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _position_ok(pos: Any) -> bool:
    return isinstance(pos, list | tuple) and len(pos) in (2, 3) and all(_number(v) for v in pos)


def _in_area(lon: float, lat: float) -> bool:
    return LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]


def _check_positions(field: str, positions: list, problems: list[Problem]) -> bool:
    if not all(_position_ok(p) for p in positions):
        problems.append(Problem(field, "bad_coordinates", "Coordinates must be [lon, lat] numbers."))
        return False
    if not all(_in_area(p[0], p[1]) for p in positions):
        problems.append(Problem(field, "outside_service_area",
                                "The zone must lie within the service area (lat 28–33, lon 111–117)."))
        return False
    return True


def _plain_coords(coords: Any) -> Any:
    """Nested lists of [lon, lat] floats (a third value, the height, dropped)."""
    if coords and _number(coords[0]):
        return [float(coords[0]), float(coords[1])]
    return [_plain_coords(c) for c in coords]


def _plain_coords_geometry(geometry: shapely.Geometry) -> dict[str, Any]:
    mapped = shapely.geometry.mapping(geometry)
    return {"type": mapped["type"], "coordinates": _plain_coords(mapped["coordinates"])}


def _rings(geometry: Any) -> list[list] | None:
    if not isinstance(geometry, Mapping):
        return None
    coords = geometry.get("coordinates")
    if geometry.get("type") == "Polygon" and isinstance(coords, list):
        polygons = [coords]
    elif geometry.get("type") == "MultiPolygon" and isinstance(coords, list):
        polygons = coords
    else:
        return None
    if not polygons or not all(isinstance(p, list) and p for p in polygons):
        return None
    rings = [ring for polygon in polygons for ring in polygon]
    return rings if all(isinstance(r, list) for r in rings) else None


def _polygon(data: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    geometry = data.get("geometry")
    rings = _rings(geometry)
    if rings is None:
        problems.append(Problem("geometry", "bad_geometry",
                                "A polygon zone needs a GeoJSON Polygon or MultiPolygon."))
        return None
    if sum(len(r) for r in rings) > MAX_VERTICES:
        problems.append(Problem("geometry", "too_many_vertices",
                                f"At most {MAX_VERTICES} vertices."))
        return None
    if not _check_positions("geometry", [p for r in rings for p in r], problems):
        return None
    if any(len(r) < 4 for r in rings):
        problems.append(Problem("geometry", "too_few_vertices",
                                "Each ring needs at least three corners and its closing point."))
        return None
    if any(list(r[0][:2]) != list(r[-1][:2]) for r in rings):
        problems.append(Problem("geometry", "ring_not_closed",
                                "Each ring must end where it starts."))
        return None
    shp = geojson_shape(geometry)
    if not shp.is_valid or shp.is_empty or shp.area <= 0:
        problems.append(Problem("geometry", "invalid_polygon",
                                f"The polygon is not valid: {explain_validity(shp)}."))
        return None
    clean = {"type": geometry["type"], "coordinates": _plain_coords(geometry["coordinates"])}
    return {"geojson": clean, "wkb": shapely.to_wkb(shp), "radius_m": None, "buffer_m": None,
            "line_geojson": None}


def _circle(data: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    centre, radius_m = data.get("centre"), data.get("radius_m")
    ok = True
    if not _position_ok(centre):
        problems.append(Problem("centre", "bad_coordinates", "A circle needs its centre [lon, lat]."))
        ok = False
    elif not _check_positions("centre", [centre], problems):
        ok = False
    if not _number(radius_m) or not RADIUS_RANGE_M[0] <= radius_m <= RADIUS_RANGE_M[1]:
        problems.append(Problem("radius_m", "bad_radius", "The radius must be 10 m … 50 km."))
        ok = False
    if not ok:
        return None
    ring = local_metric.display_ring((float(centre[0]), float(centre[1])), float(radius_m))
    polygon = shapely.Polygon(ring)
    return {"geojson": {"type": "Polygon", "coordinates": [ring]}, "wkb": shapely.to_wkb(polygon),
            "radius_m": float(radius_m), "buffer_m": None, "line_geojson": None}


def _corridor(data: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    line, buffer_m = data.get("line"), data.get("buffer_m")
    ok = True
    coords = line.get("coordinates") if isinstance(line, Mapping) else None
    if not isinstance(line, Mapping) or line.get("type") != "LineString" or not isinstance(
            coords, list) or len(coords) < 2:
        problems.append(Problem("line", "bad_line", "A corridor needs a GeoJSON LineString."))
        ok = False
    elif len(coords) > MAX_VERTICES:
        problems.append(Problem("line", "too_many_vertices", f"At most {MAX_VERTICES} vertices."))
        ok = False
    elif not _check_positions("line", coords, problems):
        ok = False
    if not _number(buffer_m) or not BUFFER_RANGE_M[0] <= buffer_m <= BUFFER_RANGE_M[1]:
        problems.append(Problem("buffer_m", "bad_buffer", "The buffer must be 10 m … 5 km."))
        ok = False
    if not ok:
        return None
    clean = {"type": "LineString", "coordinates": _plain_coords(coords)}
    line_shape = geojson_shape(clean)
    if line_shape.length <= 0:
        problems.append(Problem("line", "bad_line", "The route has no length."))
        return None
    band = local_metric.corridor(line_shape, float(buffer_m))
    return {"geojson": _plain_coords_geometry(band), "wkb": shapely.to_wkb(band),
            "radius_m": None, "buffer_m": float(buffer_m), "line_geojson": clean}


def _category(purpose: str, category: Any, problems: list[Problem]) -> str | None:
    allowed = {"sensitive_place": SENSITIVE_CATEGORIES, "service_site": SERVICE_CATEGORIES}
    if purpose in allowed:
        if category not in allowed[purpose]:
            names = ", ".join(allowed[purpose])
            problems.append(Problem("category", "bad_category",
                                    f"A {purpose} needs a category: {names}."))
        return category if isinstance(category, str) else None
    if category is None or category == "":
        return None
    if not isinstance(category, str) or len(category) > 40:
        problems.append(Problem("category", "bad_category", "A category is a short text."))
        return None
    return category


def _binding(data: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    applies_to = data.get("applies_to") or "all"
    group_id, vehicle_id = data.get("vehicle_group_id"), data.get("vehicle_id")
    if applies_to not in APPLIES_TO:
        problems.append(Problem("applies_to", "bad_binding", "applies_to: all, group or vehicle."))
    elif applies_to == "group" and not isinstance(group_id, int):
        problems.append(Problem("vehicle_group_id", "bad_binding", "Name the vehicle group."))
    elif applies_to == "vehicle" and not isinstance(vehicle_id, int):
        problems.append(Problem("vehicle_id", "bad_binding", "Name the vehicle."))
    return {
        "applies_to": applies_to,
        "vehicle_group_id": group_id if applies_to == "group" else None,
        "vehicle_id": vehicle_id if applies_to == "vehicle" else None,
    }


def _dates(data: Mapping[str, Any], problems: list[Problem]) -> tuple[date | None, date | None]:
    values = []
    for key in ("valid_from", "valid_to"):
        value = data.get(key)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                problems.append(Problem(key, "bad_date", "A date is YYYY-MM-DD."))
                value = None
        elif value is not None and not isinstance(value, date):
            problems.append(Problem(key, "bad_date", "A date is YYYY-MM-DD."))
            value = None
        values.append(value)
    if values[0] and values[1] and values[1] < values[0]:
        problems.append(Problem("valid_to", "bad_dates", "valid_to is before valid_from."))
    return values[0], values[1]


def zone_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The stored columns the description decides (geometry, category, limits, windows, dates,
    binding), or None and every problem found."""
    problems: list[Problem] = []
    shape, purpose = data.get("shape"), data.get("purpose")
    if shape not in SHAPES:
        problems.append(Problem("shape", "bad_shape", "shape: polygon, circle or corridor."))
    if purpose not in PURPOSES:
        problems.append(Problem("purpose", "bad_purpose", "Unknown purpose."))
    geometry = None
    if shape == "polygon":
        geometry = _polygon(data, problems)
    elif shape == "circle":
        geometry = _circle(data, problems)
    elif shape == "corridor":
        geometry = _corridor(data, problems)
    category = _category(purpose, data.get("category"), problems) if purpose in PURPOSES else None
    limit = data.get("speed_limit_kmh")
    if purpose == "speed_zone":
        if not _number(limit) or not SPEED_RANGE_KMH[0] <= limit <= SPEED_RANGE_KMH[1]:
            problems.append(Problem("speed_limit_kmh", "bad_speed_limit",
                                    "A speed zone needs a limit of 5 … 150 km/h."))
    else:
        limit = None
    try:
        windows = [w.to_json() for w in parse_time_windows(data.get("time_windows") or [])]
    except (ValueError, TypeError) as exc:
        problems.append(Problem("time_windows", "bad_time_windows", str(exc)))
        windows = []
    valid_from, valid_to = _dates(data, problems)
    binding = _binding(data, problems)
    if problems or geometry is None:
        return None, problems
    return {
        "shape": shape, "purpose": purpose, "category": category,
        "speed_limit_kmh": float(limit) if limit is not None else None,
        "time_windows": windows, "valid_from": valid_from, "valid_to": valid_to,
        **binding, **geometry,
    }, []
