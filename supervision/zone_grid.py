"""A grid of cells over the zones' bounds that remembers, per cell, which zones cover the whole
cell and which only part of it. Pure code (shapely 2, numpy).

Built once from the STRtree (a bulk query of all the cell boxes) and the prepared geometries
(one vectorised contains / intersects per (cell, zone) pair). A position then costs an index
computation: zones covering its whole cell contain it without a test, and only the zones
crossing the cell are tested point-in-polygon. Most positions fall in cells well inside a
district or outside every small zone, so most of the geometry work disappears; the answers are
exactly those of the geometries (a closed cell inside a zone means every point of it is)."""

from __future__ import annotations

import math

import numpy as np
import shapely

MAX_CELLS = 250_000
MIN_CELL_DEG = 0.0005  # ~50 m: finer buys nothing for zones of 50 m and more


class ZoneGrid:
    def __init__(self, geoms: np.ndarray, tree: shapely.STRtree, max_cells: int = MAX_CELLS) -> None:
        self._geoms = geoms
        if len(geoms) == 0:
            self.nx = self.ny = 0
            self._start = np.zeros(1, dtype=np.int64)
            self._zone = np.zeros(0, dtype=np.int64)
            self._full = np.zeros(0, dtype=bool)
            self.x0 = self.y0 = 0.0
            self.cell = 1.0
            return
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        pad = 1e-7
        minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
        self.cell = max(math.sqrt((maxx - minx) * (maxy - miny) / max_cells), MIN_CELL_DEG)
        self.nx = max(1, math.ceil((maxx - minx) / self.cell))
        self.ny = max(1, math.ceil((maxy - miny) / self.cell))
        self.x0, self.y0 = minx, miny
        cx, cy = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        cx, cy = cx.ravel(), cy.ravel()
        boxes = shapely.box(minx + cx * self.cell, miny + cy * self.cell,
                            minx + (cx + 1) * self.cell, miny + (cy + 1) * self.cell)
        cell_idx, zone_idx = tree.query(boxes)
        pair_geoms, pair_boxes = geoms[zone_idx], boxes[cell_idx]
        full = shapely.contains(pair_geoms, pair_boxes)
        keep = full.copy()
        keep[~full] = shapely.intersects(pair_geoms[~full], pair_boxes[~full])
        cell_idx, zone_idx, full = cell_idx[keep], zone_idx[keep], full[keep]
        order = np.lexsort((zone_idx, cell_idx))
        self._zone, self._full = zone_idx[order], full[order]
        counts = np.bincount(cell_idx, minlength=self.nx * self.ny)
        self._start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @property
    def pairs(self) -> int:
        return len(self._zone)

    def _cells(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each position's cell id, and whether it is on the grid at all."""
        cx = np.floor((xs - self.x0) / self.cell)
        cy = np.floor((ys - self.y0) / self.cell)
        on = (cx >= 0) & (cx < self.nx) & (cy >= 0) & (cy < self.ny)
        cid = np.where(on, cy * self.nx + cx, 0).astype(np.int64)
        return cid, on

    def pairs_of(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position index, zone index) for every containment, sorted by position then zone."""
        cid, on = self._cells(xs, ys)
        starts = self._start[cid]
        counts = np.where(on, self._start[cid + 1] - starts, 0)
        total = int(counts.sum())
        pos_idx = np.repeat(np.arange(len(xs)), counts)
        first = np.cumsum(counts) - counts
        slot = np.repeat(starts - first, counts) + np.arange(total)
        zone_idx, ok = self._zone[slot], self._full[slot].copy()
        test = ~ok
        ok[test] = shapely.intersects_xy(self._geoms[zone_idx[test]], xs[pos_idx[test]],
                                         ys[pos_idx[test]])
        return pos_idx[ok], zone_idx[ok]

    def zones_at(self, x: float, y: float) -> list[int]:
        """The zone indices containing one position, ascending."""
        cx = math.floor((x - self.x0) / self.cell)
        cy = math.floor((y - self.y0) / self.cell)
        if not (0 <= cx < self.nx and 0 <= cy < self.ny):
            return []
        cid = cy * self.nx + cx
        lo, hi = self._start[cid], self._start[cid + 1]
        if lo == hi:
            return []
        zones, full = self._zone[lo:hi], self._full[lo:hi]
        if full.all():
            return zones.tolist()
        ok = full.copy()
        ok[~full] = shapely.intersects_xy(self._geoms[zones[~full]], x, y)
        return zones[ok].tolist()
