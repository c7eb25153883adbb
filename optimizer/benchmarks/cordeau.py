"""Cordeau (2006) dial-a-ride instances (a/b series) into Problems; their best known costs.

File format: ../shared/benchmarks/cordeau2006_darp/FORMAT.md. Header `K n T Q L`, then nodes
`id x y d q e l`: 0 the start depot, 1..n pickups, n+1..2n their drop-offs, 2n+1 the end depot.
The model: K vehicles of Q seats, route duration ≤ T (the depot window [0, T] is the shift:
leaving at 0 or later and back by T keeps every route within T), ride time ≤ L, service d,
windows on the start of service. All requests are mandatory: the unserved penalty dwarfs any
routing cost. Cost = distance (cost_per_km 1000 on units of 1/1000 of the plane's distance).
"""

from __future__ import annotations

import csv
from pathlib import Path

from optimizer.benchmarks.plane import SCALE, PlaneInstance, plane_matrices, scaled
from optimizer.problem import (
    Node,
    Problem,
    Request,
    StopRef,
    TimeWindow,
    UnservedPenalty,
    Vehicle,
)

MANDATORY = UnservedPenalty(10**9, 10**9, 10**9)  # total routing costs stay below 2 × 10^6


def read_instance(path: Path | str) -> PlaneInstance:
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        k, n, horizon, capacity, ride = (float(v) for v in lines[0][:5])
        rows = [[float(v) for v in line[:7]] for line in lines[1:]]
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path.name}: not a Cordeau instance ({exc})") from exc
    n = int(n)
    if len(rows) != 2 * n + 2 or any(len(row) != 7 for row in rows):
        raise ValueError(f"{path.name}: expected {2 * n + 2} node lines of 7 numbers")
    coords = tuple((row[1], row[2]) for row in rows)
    duration_s, dist_m = plane_matrices(coords)
    nodes = tuple(Node(coord) for coord in coords)
    requests = []
    stop_at_node = {}
    for i in range(1, n + 1):
        pickup, dropoff = rows[i], rows[n + i]
        if pickup[4] != -dropoff[4]:
            raise ValueError(f"{path.name}: loads of nodes {i} and {n + i} do not pair")
        requests.append(Request(
            id=str(i), pickup_node=i, dropoff_node=n + i, passengers=int(pickup[4]),
            pickup_window=TimeWindow(scaled(pickup[5]), scaled(pickup[6])),
            dropoff_window=TimeWindow(scaled(dropoff[5]), scaled(dropoff[6])),
            max_ride_s=scaled(ride),
            pickup_service_s=scaled(pickup[3]), dropoff_service_s=scaled(dropoff[3])))
        stop_at_node[i] = StopRef(str(i), "pickup")
        stop_at_node[n + i] = StopRef(str(i), "dropoff")
    depot = rows[0]
    shift = TimeWindow(scaled(depot[5]), min(scaled(depot[6]), scaled(horizon)))
    vehicles = tuple(
        Vehicle(id=f"v{v + 1}", start_node=0, end_node=2 * n + 1, capacity=int(capacity),
                shift=shift, cost_per_km=SCALE)
        for v in range(int(k)))
    problem = Problem(nodes, duration_s, dist_m, tuple(requests), vehicles, MANDATORY, path.name)
    return PlaneInstance(path.name, problem, coords, stop_at_node)


def read_bks(path: Path | str) -> dict[str, float]:
    """bks.csv: instance -> best known (proven optimal) routing cost."""
    with Path(path).open(newline="") as f:
        return {row["instance"]: float(row["bks_cost"]) for row in csv.DictReader(f)}
