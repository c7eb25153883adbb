"""The local metric plane of the Wuhan circle, and geodesic distances. Pure code.

Zones are stored in WGS-84 (lon, lat); anything measured in metres (a circle's radius, a
corridor's buffer, the distance from a position to a zone's edge) is done in a transverse
Mercator centred on 114° E on the GRS 80 ellipsoid (CGCS2000's, the same as WGS-84's to a
tenth of a millimetre): GB/T's 3° zone 38, without the false easting's zone prefix. Its scale
error, at most 0.11 % across 111–117° E at 30° N, is taken out of radii and buffers (the local
scale factor), and distances are measured on the ellipsoid (pyproj's Geod, Karney's
algorithm) between the position and the nearest edge point found in the plane.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import Geod, Proj, Transformer
from shapely.geometry.base import BaseGeometry

LOCAL_CRS = (
    "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
)
GEOD = Geod(ellps="GRS80")
_FORWARD = Transformer.from_crs("EPSG:4326", LOCAL_CRS, always_xy=True)
_INVERSE = Transformer.from_crs(LOCAL_CRS, "EPSG:4326", always_xy=True)
_PROJ = Proj(LOCAL_CRS)

# GRS 80: the radii of curvature give the metres per degree at a latitude (for display rings).
_A_M = 6_378_137.0
_E2 = 0.00669438002290


def to_local(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat (arrays) -> local (x_m, y_m)."""
    return _FORWARD.transform(lons, lats)


def to_wgs84(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local (x_m, y_m) -> WGS-84 lon/lat."""
    return _INVERSE.transform(xs, ys)


def _forward_coords(coords: np.ndarray) -> np.ndarray:
    x, y = _FORWARD.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _inverse_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = _INVERSE.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


# A straight edge in lon/lat is not straight in the plane (nor the reverse): edges are cut to
# these lengths before a geometry changes sides, so that both follow the same line to a
# millimetre or so (a 50 km edge along 31° N bows 38 m off its chord in the plane).
MAX_EDGE_DEG = 0.0005
MAX_EDGE_M = 50.0


def project(geometry: BaseGeometry) -> BaseGeometry:
    """A WGS-84 geometry (edges straight in lon/lat) in the local metric plane."""
    return shapely.transform(shapely.segmentize(geometry, MAX_EDGE_DEG), _forward_coords)


def unproject(geometry: BaseGeometry) -> BaseGeometry:
    """A local-plane geometry (edges straight in the plane) back in WGS-84."""
    return shapely.transform(shapely.segmentize(geometry, MAX_EDGE_M), _inverse_coords)


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on the ellipsoid in metres."""
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def segments_for(radius_m: float, max_error_m: float = 0.5) -> int:
    """Quarter-circle segments so that the polygon strays at most max_error_m from the arc."""
    if radius_m <= max_error_m:
        return 4
    n = math.pi / math.acos(1.0 - max_error_m / radius_m)
    return max(16, math.ceil(n / 4))


def scale_at(lon: float, lat: float) -> float:
    """Plane metres per ground metre there (1 on 114° E, 1.0010 at 111° E and 30.5° N): what
    makes a radius drawn in the plane the same number of metres on the ground."""
    return float(_PROJ.get_factors(lon, lat).meridional_scale)


def circle(centre: tuple[float, float], radius_m: float) -> BaseGeometry:
    """The disc of radius_m ground metres around centre (lon, lat), in WGS-84: its vertices
    are on the geodesic circle (exact on the ellipsoid), close enough that a chord strays at
    most half a metre inside."""
    count = 4 * segments_for(radius_m)
    azimuths = np.linspace(0.0, 360.0, count, endpoint=False)
    lons, lats, _ = GEOD.fwd(np.full(count, centre[0]), np.full(count, centre[1]), azimuths,
                             np.full(count, float(radius_m)))
    ring = np.column_stack([lons, lats])[::-1]  # counter-clockwise
    return shapely.Polygon(ring)


def corridor(line: BaseGeometry, buffer_m: float) -> BaseGeometry:
    """Everything within buffer_m ground metres of a WGS-84 line, in WGS-84 (the plane's
    scale taken at the line's centre: within 0.03 % along a route of 100 km)."""
    mid = line.centroid
    plane_m = buffer_m * scale_at(mid.x, mid.y)
    band = project(line).buffer(plane_m, quad_segs=segments_for(buffer_m))
    return unproject(band)


def display_ring(
    centre: tuple[float, float], radius_m: float, segments: int = 48
) -> list[list[float]]:
    """The 48-gon stored for maps: symmetric offsets in lon/lat, so that the mean of its
    vertices is exactly the centre (which is how the centre is read back, see zones)."""
    lat = math.radians(centre[1])
    w = 1.0 - _E2 * math.sin(lat) ** 2
    meridional_m = _A_M * (1.0 - _E2) / w**1.5
    normal_m = _A_M / math.sqrt(w)
    m_per_deg_lat = math.radians(1.0) * meridional_m
    m_per_deg_lon = math.radians(1.0) * normal_m * math.cos(lat)
    ring = []
    for k in range(segments):
        angle = 2.0 * math.pi * k / segments
        ring.append([
            centre[0] + radius_m * math.sin(angle) / m_per_deg_lon,
            centre[1] + radius_m * math.cos(angle) / m_per_deg_lat,
        ])
    ring.append(list(ring[0]))
    return ring


def ring_centre(ring: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The centre of a stored circle's ring: the mean of its vertices (closing one excluded)."""
    points = list(ring)
    if len(points) > 1 and list(points[0]) == list(points[-1]):
        points = points[:-1]
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )
