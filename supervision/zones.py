"""Geofences (电子围栏) as the rules see them, and the index answering "which zones contain
this position". Pure code: shapely 2, numpy and the local metric plane (local_metric.py).

A zone is a polygon, a circle (centre + radius in metres) or a corridor (a route polyline
buffered by metres), in WGS-84 lon/lat. It may be limited to time windows (Asia/Shanghai
local time, ISO weekdays 1 = Monday … 7 = Sunday; a window whose end is before its start runs
past midnight and belongs to the weekday it starts on), to a range of local dates (both ends
included), and to a group of vehicles or one vehicle. A position on a zone's edge is inside.

Ownership: a zone owned by an organisation (`org_id`) binds only the cars owned within that
organisation's subtree (the car's org path holds it); `org_id` NULL is the province's and
binds every car. A deleted zone is only deactivated: it still counts for the times before its
deactivation (`retired_ms`), so that re-judging a past day finds what was found then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.geometry import shape as geojson_shape
from shapely.geometry.base import BaseGeometry

from supervision import local_metric
from supervision.zone_grid import ZoneGrid
from supervision.zone_windows import (  # kept importable from here as before
    TimeWindow,
    parse_hhmm,  # noqa: F401
    parse_time_windows,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

SHAPES = ("polygon", "circle", "corridor")
PURPOSES = (
    "designated_lot", "city_boundary", "permitted_area", "forbidden_zone",
    "sensitive_place", "service_site", "speed_zone",
)
# 娱乐场所, 会所/高档酒店, 景区, 高尔夫/度假村, 居民小区 (R9, R17)
SENSITIVE_CATEGORIES = ("entertainment", "club_hotel", "scenic_area", "golf_resort", "residential")
# 定点 sites: a stop there is service, not private use (R1, R8)
SERVICE_CATEGORIES = ("fuel", "repair", "charging", "wash", "inspection")
APPLIES_TO = ("all", "group", "vehicle")


@dataclass(frozen=True, eq=False)
class Zone:
    """One version of a geofence. Compared and hashed by identity (it holds a geometry)."""

    id: int
    version: int
    code: str
    name_zh: str
    name_en: str
    shape: str
    purpose: str
    category: str | None
    city_code: str | None
    org_id: int | None
    speed_limit_kmh: float | None
    time_windows: tuple[TimeWindow, ...]
    valid_from: date | None
    valid_to: date | None
    applies_to: str
    vehicle_group_ids: frozenset[int] | None   # the group's member vehicles (applies_to 'group')
    vehicle_id: int | None
    geometry: BaseGeometry = field(repr=False)  # WGS-84 lon/lat, metres honoured
    geojson: dict[str, Any] = field(repr=False)  # the stored geometry (a circle's 48-gon)
    radius_m: float | None = None
    buffer_m: float | None = None
    centre: tuple[float, float] | None = None  # circle: (lon, lat)
    line_geojson: dict[str, Any] | None = field(default=None, repr=False)  # corridor route
    vehicle_group_id: int | None = None
    active: bool = True
    retired_ms: int | None = None  # deactivated (deleted) at; None while active or unknown

    @property
    def always(self) -> bool:
        """No time windows, no dates and not retired: in force at any time."""
        return (self.active and not self.time_windows and self.valid_from is None
                and self.valid_to is None)

    def to_json(self) -> dict[str, Any]:
        """The zone's fields as JSON (versions history, evidence, GeoJSON properties)."""
        return {
            "id": self.id, "version": self.version, "code": self.code,
            "name_zh": self.name_zh, "name_en": self.name_en, "shape": self.shape,
            "purpose": self.purpose, "category": self.category, "city_code": self.city_code,
            "org_id": self.org_id, "speed_limit_kmh": self.speed_limit_kmh,
            "time_windows": [w.to_json() for w in self.time_windows],
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "applies_to": self.applies_to, "vehicle_group_id": self.vehicle_group_id,
            "vehicle_id": self.vehicle_id, "radius_m": self.radius_m, "buffer_m": self.buffer_m,
            "centre": list(self.centre) if self.centre else None,
            "line_geojson": self.line_geojson, "geojson": self.geojson, "active": self.active,
            "retired_ms": self.retired_ms,
        }


def _field(row: Any, key: str, default: Any = None) -> Any:
    try:
        value = row[key]
    except (KeyError, IndexError):
        return default
    return default if value is None else value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _bare_geometry(stored: Mapping[str, Any]) -> dict[str, Any]:
    return dict(stored["geometry"]) if stored.get("type") == "Feature" else dict(stored)


def zone_from_row(row: Any) -> Zone:
    """A Zone from a geofences row (any mapping, an asyncpg Record included), plus the group's
    members under "vehicle_group_ids" when the zone binds a group."""
    stored = _bare_geometry(_json(row["geojson"]))
    shape_kind = row["shape"]
    radius_m = _field(row, "radius_m")
    buffer_m = _field(row, "buffer_m")
    line = _json(_field(row, "line_geojson"))
    centre = None
    if shape_kind == "circle" and radius_m:
        ring = stored["coordinates"][0]
        centre = local_metric.ring_centre(ring)
        geometry = local_metric.circle(centre, float(radius_m))
    elif shape_kind == "corridor" and line and buffer_m:
        geometry = local_metric.corridor(geojson_shape(_bare_geometry(line)), float(buffer_m))
    else:
        geometry = geojson_shape(stored)
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
    windows = parse_time_windows(_field(row, "time_windows", []))
    members = _field(row, "vehicle_group_ids")
    valid_from, valid_to = _field(row, "valid_from"), _field(row, "valid_to")
    limit = _field(row, "speed_limit_kmh")
    active = bool(_field(row, "active", True))
    return Zone(
        id=row["id"], version=_field(row, "version", 1), code=row["code"],
        name_zh=row["name_zh"], name_en=row["name_en"], shape=shape_kind,
        purpose=row["purpose"], category=_field(row, "category"),
        city_code=_field(row, "city_code"), org_id=_field(row, "org_id"),
        speed_limit_kmh=float(limit) if limit is not None else None,
        time_windows=windows, valid_from=valid_from, valid_to=valid_to,
        applies_to=_field(row, "applies_to", "all"),
        vehicle_group_ids=frozenset(members or ()) if _field(row, "applies_to") == "group" else None,
        vehicle_id=_field(row, "vehicle_id"), geometry=geometry, geojson=stored,
        radius_m=float(radius_m) if radius_m else None,
        buffer_m=float(buffer_m) if buffer_m else None, centre=centre,
        line_geojson=_bare_geometry(line) if line else None,
        vehicle_group_id=_field(row, "vehicle_group_id"),
        active=active,
        retired_ms=None if active else _retired_ms(row),
    )


def _retired_ms(row: Any) -> int | None:
    """An inactive zone's deactivation time: its `retired_ms`, else its last change
    (`updated_at`: deleting a zone is its last change); None if neither is known."""
    given = _field(row, "retired_ms")
    if given is not None:
        return int(given)
    changed = _field(row, "updated_at")
    if isinstance(changed, datetime):
        return int(changed.timestamp() * 1000)
    if isinstance(changed, str):
        return int(datetime.fromisoformat(changed).timestamp() * 1000)
    return None


def local_time(at_ms: int) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000.0, SHANGHAI)


def binds(zone: Zone, vehicle_id: int | None,
          org_path: Sequence[int] | None = None) -> bool:
    """Whether the zone applies to the vehicle: its owner's scope and its binding.

    vehicle_id None: any vehicle (neither checked). org_path: the car's owner's organisation
    path (root … owner, VehicleProfile.org_path); a zone of organisation X binds only cars
    whose path holds X, a zone without an organisation (the province's) every car. Every
    caller judging a car must pass it: None leaves the owner unchecked."""
    if vehicle_id is None:
        return True
    if zone.org_id is not None and org_path is not None and zone.org_id not in org_path:
        return False
    if zone.applies_to == "all":
        return True
    if zone.applies_to == "vehicle":
        return zone.vehicle_id == vehicle_id
    return vehicle_id in (zone.vehicle_group_ids or ())


def retired(zone: Zone, at_ms: int | None) -> bool:
    """Whether the zone no longer counts at at_ms (None: now): deactivated at or before it.
    An inactive zone whose deactivation time is unknown counts at no time."""
    if zone.active:
        return False
    return zone.retired_ms is None or at_ms is None or at_ms >= zone.retired_ms


def in_force(zone: Zone, at_ms: int | None) -> bool:
    """Whether the zone's dates and time windows hold at at_ms and it was not yet retired
    (None: time not checked — a retired zone included)."""
    if at_ms is None or zone.always:
        return True
    if retired(zone, at_ms):
        return False
    if not zone.time_windows and zone.valid_from is None and zone.valid_to is None:
        return True
    local = local_time(at_ms)
    day = local.date()
    if zone.valid_from is not None and day < zone.valid_from:
        return False
    if zone.valid_to is not None and day > zone.valid_to:
        return False
    return not zone.time_windows or any(w.covers(local) for w in zone.time_windows)


def active(zone: Zone, at_ms: int | None = None, vehicle_id: int | None = None,
           org_path: Sequence[int] | None = None) -> bool:
    """Whether the zone counts at at_ms for the vehicle. at_ms None: now, its time windows
    not checked (a retired zone does not count now); a retired zone counts before its
    deactivation."""
    return not retired(zone, at_ms) and in_force(zone, at_ms) and binds(zone, vehicle_id, org_path)


def contains(zone: Zone, lon: float, lat: float) -> bool:
    """Whether (lon, lat) is inside the zone or on its edge (geometry only)."""
    return bool(shapely.intersects_xy(zone.geometry, lon, lat))


def permitted_area(zones: Iterable[Zone], city_code: str, vehicle_id: int | None = None,
                   org_path: Sequence[int] | None = None, at_ms: int | None = None) -> list[Zone]:
    """Where a car may go without an order naming another city (R5): its home city's boundary
    (the default permitted area) and any permitted_area zone that binds it (a wider area);
    the zones counting at at_ms (None: now)."""
    return [z for z in zones if not retired(z, at_ms) and binds(z, vehicle_id, org_path) and (
        (z.purpose == "city_boundary" and z.city_code == city_code)
        or z.purpose == "permitted_area")]


@lru_cache(maxsize=4096)
def _local_geometry(zone: Zone) -> BaseGeometry:
    """The zone in the local plane, prepared (kept: a zone is immutable)."""
    geometry = local_metric.project(zone.geometry)
    shapely.prepare(geometry)
    return geometry


def distance_to_m(zone: Zone, lon: float, lat: float) -> float:
    """0 inside; else metres on the ellipsoid from (lon, lat) to the nearest point of the edge."""
    if contains(zone, lon, lat):
        return 0.0
    x, y = local_metric.to_local(lon, lat)
    local_zone = _local_geometry(zone)
    nearest = shapely.shortest_line(shapely.Point(x, y), local_zone).coords[-1]
    near_lon, near_lat = local_metric.to_wgs84(nearest[0], nearest[1])
    return local_metric.geodesic_m(lon, lat, float(near_lon), float(near_lat))


class ZoneIndex:
    """An STRtree over the zones' prepared geometries, with a grid of cells it fills at build
    time (zone_grid.py: which zones cover each cell whole, which cross it) so that a position
    costs a lookup and point-in-polygon tests against the crossing zones only."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        # Retired zones with a known deactivation time stay: they count before it.
        self.zones: tuple[Zone, ...] = tuple(
            z for z in zones if z.active or z.retired_ms is not None)
        self._geoms = np.array([z.geometry for z in self.zones], dtype=object)
        shapely.prepare(self._geoms)
        self._ids = np.array([z.id for z in self.zones], dtype=np.int64)
        self._tree = shapely.STRtree(self._geoms)
        self._by_id = {z.id: z for z in self.zones}

    @cached_property
    def _grid(self) -> ZoneGrid:
        """Filled on the first query (~0.6 s for the seeded zones, ~2 s for 10,000)."""
        return ZoneGrid(self._geoms, self._tree)

    def __len__(self) -> int:
        return len(self.zones)

    def get(self, zone_id: int) -> Zone | None:
        return self._by_id.get(zone_id)

    def containing(
        self, lon: float, lat: float, at_ms: int | None = None, vehicle_id: int | None = None,
        org_path: Sequence[int] | None = None,
    ) -> list[Zone]:
        """The zones containing (lon, lat), in force at at_ms (retired zones only before
        their deactivation) and binding the vehicle whose id and owner's org path are given
        (None: that condition is not checked — at_ms None includes retired zones), in index
        order."""
        found = [self.zones[i] for i in self._grid.zones_at(float(lon), float(lat))]
        if at_ms is None and vehicle_id is None:
            return found
        return [z for z in found if in_force(z, at_ms) and binds(z, vehicle_id, org_path)]

    def containing_pairs(
        self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised, geometry only: (position index, zone index) for every containment,
        sorted by position, then zone."""
        xs = np.asarray(lons, dtype=np.float64)
        ys = np.asarray(lats, dtype=np.float64)
        return self._grid.pairs_of(xs, ys)

    def containing_pairs_strtree(
        self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The same answer from the STRtree alone (one bulk query of the positions, then the
        candidates' point-in-polygon tests): the reference the grid is checked against."""
        xs = np.asarray(lons, dtype=np.float64)
        ys = np.asarray(lats, dtype=np.float64)
        pos_idx, zone_idx = self._tree.query(shapely.points(xs, ys))
        inside = shapely.intersects_xy(self._geoms[zone_idx], xs[pos_idx], ys[pos_idx])
        pos_idx, zone_idx = pos_idx[inside], zone_idx[inside]
        order = np.lexsort((zone_idx, pos_idx))
        return pos_idx[order], zone_idx[order]

    def containing_many(
        self,
        lons: Sequence[float] | np.ndarray,
        lats: Sequence[float] | np.ndarray,
        at_ms: int | None = None,
        vehicle_id: int | None = None,
        org_path: Sequence[int] | None = None,
    ) -> list[list[int]]:
        """For each position, the ids of the zones containing it (conditions as containing)."""
        count = len(lons)
        pos_idx, zone_idx = self.containing_pairs(lons, lats)
        if at_ms is not None or vehicle_id is not None:
            keep = np.array(
                [in_force(z, at_ms) and binds(z, vehicle_id, org_path) for z in self.zones],
                dtype=bool,
            )
            if len(keep):
                mask = keep[zone_idx]
                pos_idx, zone_idx = pos_idx[mask], zone_idx[mask]
        ids = self._ids[zone_idx].tolist()
        bounds = np.searchsorted(pos_idx, np.arange(count + 1)).tolist()
        return [ids[bounds[i]:bounds[i + 1]] for i in range(count)]
