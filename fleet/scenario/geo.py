"""Small geodesy and shapely helpers shared by the scenario loader, the seed and the simulator.

Points are ``(lon, lat)`` in WGS-84. Distances use a spherical earth, which is within 0.5 %
of the ellipsoid at these latitudes: plenty for geofences of tens of metres and more.
"""

from __future__ import annotations

import math
from typing import Any

from shapely import Polygon
from shapely.geometry import mapping

from fleet.geodesy import EARTH_RADIUS_M, haversine_m
from fleet.scenario.model import LonLat, Ring, Zone

CIRCLE_SEGMENTS = 48


def distance_m(a: LonLat, b: LonLat) -> float:
    """Great-circle (haversine) distance in metres between two (lon, lat) points."""
    return haversine_m(a[1], a[0], b[1], b[0])


def bearing_deg(a: LonLat, b: LonLat) -> float:
    """Initial bearing from a to b, degrees clockwise from north in [0, 360)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360.0


def offset(point: LonLat, east_m: float, north_m: float) -> LonLat:
    """The point moved by a small local offset (equirectangular; fine below ~50 km)."""
    lat_rad = math.radians(point[1])
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(lat_rad)))
    return (point[0] + dlon, point[1] + dlat)


def ring_polygon(ring: Ring) -> Polygon:
    return Polygon(ring)


def circle_ring(centre: LonLat, radius_m: float, segments: int = CIRCLE_SEGMENTS) -> Ring:
    """A closed ring approximating a circle on the ground."""
    points = [
        offset(
            centre,
            radius_m * math.sin(2 * math.pi * k / segments),
            radius_m * math.cos(2 * math.pi * k / segments),
        )
        for k in range(segments)
    ]
    return (*points, points[0])


def zone_polygon(zone: Zone) -> Polygon:
    """The zone's area: its polygon, or its circle as a 48-gon."""
    if zone.polygon is not None:
        return Polygon(zone.polygon)
    assert zone.centre is not None and zone.radius_m is not None
    return Polygon(circle_ring(zone.centre, zone.radius_m))


def geojson(polygon: Polygon) -> dict[str, Any]:
    """GeoJSON geometry of a polygon, with plain lists (jsonb-friendly, stable for comparison)."""
    geometry = mapping(polygon)
    return {
        "type": geometry["type"],
        "coordinates": [[[x, y] for x, y in ring] for ring in geometry["coordinates"]],
    }
