"""Geofence point checks: 10,000 zones and 1,000,000 positions through supervision.zones.
Prints figures; not a test.

    .venv/bin/python bench/geofence.py                    # ~1-2 min on this machine
    .venv/bin/python bench/geofence.py --positions 200000 --zones 2000

Zones (built by `zone_from_row`, as the rules worker loads them): district-like polygons tiling
the Wuhan circle's box (a Voronoi tessellation, edges cut to ~200 m: ~100-200 vertices each),
500 designated lots (rotated rectangles of 60-200 m) and the rest sensitive places as circles of
50-150 m (geodesic vertices). Positions: 60 % within 300 m of a lot or a sensitive place (cars
stop near them), 40 % anywhere in the box; every position lies in at least one district.

Paths timed, single-threaded, as positions per CPU second (process time) and per wall second:
  STRtree       `ZoneIndex.containing_pairs_strtree`: one STRtree bulk query of all the
                positions (bounding boxes) and one `intersects_xy` over the candidate pairs on
                prepared geometries: (position, zone) pairs as numpy arrays;
  grid          `ZoneIndex.containing_pairs`: the index's cell grid (filled from the STRtree at
                build time, supervision/zone_grid.py): zones covering a position's whole cell
                without a test, point-in-polygon only for the zones crossing the cell;
  grid+lists    `ZoneIndex.containing_many`: the grid's answer as a list of zone ids per
                position (Python lists: what a caller iterating positions gets);
  per position  `ZoneIndex.containing(lon, lat)` in a Python loop (a sample; the grid too);
  naive         a Python loop over every zone's unprepared shapely geometry `covers(Point)`
                (a small sample): the baseline the index is compared with.
The STRtree and grid answers are compared on all positions, and the naive sample's against
the index's (any mismatch exits 1).

PostGIS: the same query in PostgreSQL (ST_Intersects over a GiST index) would be a useful
side-by-side baseline, but PostGIS is not installed on this machine and is not installed by this
script; the run says whether the server offers the extension.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supervision import local_metric  # noqa: E402
from supervision.zones import Zone, ZoneIndex, zone_from_row  # noqa: E402

BOX = (113.70, 29.95, 115.10, 31.40)  # lon/lat: Wuhan and its neighbours' edges
GOAL_PER_S = 500_000


def _polygon_row(zone_id: int, purpose: str, polygon: shapely.Polygon, category=None) -> dict:
    coords = [[float(x), float(y)] for x, y in polygon.exterior.coords]
    return {"id": zone_id, "code": f"B{zone_id}", "name_zh": "", "name_en": "", "shape": "polygon",
            "purpose": purpose, "category": category,
            "geojson": {"type": "Polygon", "coordinates": [coords]}}


def make_zones(rng: np.random.Generator, count: int, lots: int) -> tuple[list[Zone], np.ndarray]:
    """The zones, and the centres of the lots and sensitive places (where cars stop)."""
    districts = max(1, count // 20)
    circles = max(0, count - districts - lots)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(BOX[0], BOX[2], districts),
                                                 rng.uniform(BOX[1], BOX[3], districts)]))
    box = shapely.box(*BOX)
    cells = [c.intersection(box) for c in shapely.voronoi_polygons(seeds, extend_to=box).geoms]
    rows = []
    for cell in cells:
        cell = shapely.segmentize(cell, 0.002)
        if isinstance(cell, shapely.Polygon):
            rows.append(_polygon_row(len(rows) + 1, "permitted_area", cell))
    centres = []
    for _ in range(lots):
        lon, lat = rng.uniform(BOX[0] + 0.05, BOX[2] - 0.05), rng.uniform(BOX[1] + 0.05, BOX[3] - 0.05)
        w_m, h_m = rng.uniform(60, 200, 2)
        rect = shapely.affinity.rotate(
            shapely.box(-w_m / 2, -h_m / 2, w_m / 2, h_m / 2), rng.uniform(0, 90))
        x, y = local_metric.to_local(lon, lat)
        lot = local_metric.unproject(shapely.affinity.translate(rect, float(x), float(y)))
        rows.append(_polygon_row(len(rows) + 1, "designated_lot", lot))
        centres.append((lon, lat))
    for _ in range(circles):
        lon, lat = rng.uniform(BOX[0] + 0.05, BOX[2] - 0.05), rng.uniform(BOX[1] + 0.05, BOX[3] - 0.05)
        radius_m = float(rng.uniform(50, 150))
        ring = local_metric.display_ring((lon, lat), radius_m)
        rows.append({"id": len(rows) + 1, "code": f"S{len(rows) + 1}", "name_zh": "",
                     "name_en": "", "shape": "circle", "purpose": "sensitive_place",
                     "category": "entertainment", "radius_m": radius_m,
                     "geojson": {"type": "Polygon", "coordinates": [ring]}})
        centres.append((lon, lat))
    return [zone_from_row(r) for r in rows], np.array(centres)


def make_positions(rng: np.random.Generator, n: int, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    near = int(n * 0.6)
    picks = centres[rng.integers(0, len(centres), near)]
    dist_m = rng.uniform(0, 300, near)
    angle = rng.uniform(0, 2 * np.pi, near)
    lat_rad = np.radians(picks[:, 1])
    lons_near = picks[:, 0] + dist_m * np.sin(angle) / (111_320 * np.cos(lat_rad))
    lats_near = picks[:, 1] + dist_m * np.cos(angle) / 110_860
    lons = np.concatenate([lons_near, rng.uniform(BOX[0], BOX[2], n - near)])
    lats = np.concatenate([lats_near, rng.uniform(BOX[1], BOX[3], n - near)])
    order = rng.permutation(n)
    return lons[order], lats[order]


def timed(fn):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def line(name: str, count: int, cpu_s: float, wall_s: float, extra: str = "") -> float:
    rate = count / cpu_s if cpu_s > 0 else float("inf")
    print(f"  {name:<14} {count:>9,} positions  {cpu_s:7.3f} s CPU  {wall_s:7.3f} s wall  "
          f"{rate:>12,.0f} /s/core  {count / wall_s:>12,.0f} /s wall {extra}")
    return rate


async def postgis_offered() -> str:
    url = os.environ.get("FLEET_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(url), 5)
        try:
            version = await conn.fetchval(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
        finally:
            await conn.close()
    except Exception as exc:  # noqa: BLE001 (a bench: say why and go on)
        return f"PostgreSQL not reachable ({type(exc).__name__}): no SQL baseline"
    if version is None:
        return ("PostGIS is not installed on this machine (pg_available_extensions has no "
                "'postgis'): no side-by-side SQL baseline; not installed by this bench")
    return f"PostGIS {version} is available but this bench does not use it"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=10_000)
    parser.add_argument("--lots", type=int, default=500)
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--per-position-sample", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"geofence bench: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} cores, shapely {shapely.__version__} (GEOS {shapely.geos_version_string})")
    (zones, centres), cpu_s, wall_s = timed(lambda: make_zones(rng, args.zones, args.lots))
    kinds: dict[str, int] = {}
    for z in zones:
        kinds[z.purpose] = kinds.get(z.purpose, 0) + 1
    vertices = int(sum(shapely.get_num_coordinates(z.geometry) for z in zones))
    print(f"zones: {len(zones):,} ({', '.join(f'{v:,} {k}' for k, v in kinds.items())}), "
          f"{vertices:,} vertices; built in {wall_s:.1f} s")
    index, cpu_s, wall_s = timed(lambda: ZoneIndex(zones))
    _, grid_cpu_s, grid_wall_s = timed(lambda: index._grid)
    wall_s += grid_wall_s
    print(f"index: STRtree over prepared geometries and a {index._grid.nx}×{index._grid.ny} grid "
          f"of {index._grid.cell * 111:.2f} km cells ({index._grid.pairs:,} cell-zone pairs) "
          f"built in {wall_s:.2f} s")
    lons, lats = make_positions(rng, args.positions, centres)
    print(f"positions: {len(lons):,} (60 % within 300 m of a lot or a sensitive place)")

    print("point checks (single thread):")
    (tree_pos, tree_zone), cpu_s, wall_s = timed(
        lambda: index.containing_pairs_strtree(lons, lats))
    tree_rate = line("STRtree", len(lons), cpu_s, wall_s, "(bulk query + intersects_xy)")
    (pos_idx, zone_idx), cpu_s, wall_s = timed(lambda: index.containing_pairs(lons, lats))
    hits = np.bincount(pos_idx, minlength=len(lons))
    grid_rate = line("grid", len(lons), cpu_s, wall_s,
                     f"({len(pos_idx):,} containments, {np.mean(hits):.2f} zones/position, "
                     f"{np.mean(hits > 1):.0%} in more than one)")
    same = np.array_equal(tree_pos, pos_idx) and np.array_equal(tree_zone, zone_idx)
    many, cpu_s, wall_s = timed(lambda: index.containing_many(lons, lats))
    many_rate = line("grid+lists", len(lons), cpu_s, wall_s, "(lists of zone ids)")

    k = min(args.per_position_sample, len(lons))
    single, cpu_s, wall_s = timed(lambda: [index.containing(lons[i], lats[i]) for i in range(k)])
    single_rate = line("per position", k, cpu_s, wall_s, "(ZoneIndex.containing)")

    m = min(args.naive_sample, len(lons))
    geometries = [z.geometry for z in zones]

    def naive() -> list[list[int]]:
        return [[zones[j].id for j, g in enumerate(geometries)
                 if g.covers(shapely.Point(lons[i], lats[i]))] for i in range(m)]

    naive_answers, cpu_s, wall_s = timed(naive)
    naive_rate = line("naive loop", m, cpu_s, wall_s, "(every zone, unprepared)")

    wrong = sum(1 for i in range(m) if naive_answers[i] != many[i]
                or naive_answers[i] != [z.id for z in single[i]])
    print(f"check: STRtree and grid answers {'equal' if same else 'DIFFER'} on all "
          f"{len(lons):,} positions; the index's equal the naive loop's on {m - wrong:,} of {m:,}")
    rates = {"STRtree": tree_rate, "grid": grid_rate, "grid+lists": many_rate,
             "per position": single_rate}
    print("ratio to the naive loop: " + ", ".join(
        f"{name} {rate / naive_rate:,.0f}×" for name, rate in rates.items()))
    for name, rate in rates.items():
        verdict = "reaches" if rate >= GOAL_PER_S else "misses"
        print(f"goal {GOAL_PER_S:,} /s/core: {name} {verdict} it ({rate:,.0f} /s/core)")
    print(asyncio.run(postgis_offered()))
    return 1 if wrong or not same else 0


if __name__ == "__main__":
    sys.exit(main())
