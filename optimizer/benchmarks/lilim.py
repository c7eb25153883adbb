"""Li & Lim PDPTW instances into Problems; the SINTEF best known solutions and their routes.

File format: ../shared/benchmarks/lilim_pdptw100/FORMAT.md. Line 1 `K Q S`, then tasks
`task x y demand ET LT ST PICKUP DELIVERY`, task 0 the depot (its window is the horizon).
The objective is hierarchical — vehicles first, then distance —, expressed as a fixed cost per
vehicle used (a price plan's fixed cost) larger than any route set's total distance.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from optimizer.benchmarks.plane import SCALE, PlaneInstance, plane_matrices, scaled
from optimizer.problem import (
    Node,
    PricePlan,
    Problem,
    Request,
    StopRef,
    TimeWindow,
    UnservedPenalty,
    Vehicle,
)

# Distances of these instances stay below 10^4 units, 10^7 scaled: a vehicle outweighs them all.
VEHICLE_COST = 10**8
MANDATORY = UnservedPenalty(10**11, 10**11, 10**11)  # above even 25 vehicles' fixed cost


@dataclass(frozen=True)
class LiLimBks:
    vehicles: int
    distance: float


def read_instance(path: Path | str) -> PlaneInstance:
    path = Path(path)
    name = path.stem
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        k, capacity = int(lines[0][0]), int(lines[0][1])
        rows = [[float(v) for v in line[:9]] for line in lines[1:]]
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{name}: not a Li & Lim instance ({exc})") from exc
    if any(len(row) != 9 or int(row[0]) != i for i, row in enumerate(rows)):
        raise ValueError(f"{name}: expected task lines 0..N of 9 numbers")
    coords = tuple((row[1], row[2]) for row in rows)
    duration_s, dist_m = plane_matrices(coords)
    requests = []
    stop_at_node = {}
    for task, row in enumerate(rows[1:], start=1):
        if row[3] <= 0:
            continue
        delivery = int(row[8])
        if not 0 < delivery < len(rows) or int(rows[delivery][7]) != task \
                or rows[delivery][3] != -row[3]:
            raise ValueError(f"{name}: pickup task {task} and delivery {delivery} do not pair")
        drop = rows[delivery]
        requests.append(Request(
            id=str(task), pickup_node=task, dropoff_node=delivery, passengers=int(row[3]),
            pickup_window=TimeWindow(scaled(row[4]), scaled(row[5])),
            dropoff_window=TimeWindow(scaled(drop[4]), scaled(drop[5])),
            pickup_service_s=scaled(row[6]), dropoff_service_s=scaled(drop[6])))
        stop_at_node[task] = StopRef(str(task), "pickup")
        stop_at_node[delivery] = StopRef(str(task), "dropoff")
    if len(stop_at_node) != len(rows) - 1:
        raise ValueError(f"{name}: some tasks belong to no pickup-delivery pair")
    depot = rows[0]
    shift = TimeWindow(scaled(depot[4]), scaled(depot[5]))
    vehicles = tuple(
        Vehicle(id=f"v{v + 1}", start_node=0, end_node=0, capacity=capacity, shift=shift,
                cost_per_km=SCALE, price_plan=PricePlan(fixed_cost=VEHICLE_COST))
        for v in range(k))
    problem = Problem(tuple(Node(c) for c in coords), duration_s, dist_m, tuple(requests),
                      vehicles, MANDATORY, name)
    return PlaneInstance(name, problem, coords, stop_at_node)


def read_bks(path: Path | str) -> dict[str, LiLimBks]:
    """The SINTEF table snapshot: instance -> (vehicles, distance)."""
    with Path(path).open(newline="") as f:
        return {row["instance"]: LiLimBks(int(row["routes"]), float(row["distance"]))
                for row in csv.DictReader(f)}


def bks_routes_file(bks_dir: Path | str, instance: str) -> Path:
    """bks_solutions/<instance>.<vehicles>_<distance>.txt"""
    matches = sorted(Path(bks_dir).glob(f"{instance}.*.txt"))
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} BKS route files for {instance} in {bks_dir}")
    return matches[0]


def read_bks_routes(path: Path | str) -> list[list[int]]:
    """The routes of a SINTEF solution file: `Route r : t1 t2 ...` (tasks, depot left out)."""
    routes = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("Route"):
            _, _, tasks = line.partition(":")
            routes.append([int(t) for t in tasks.split()])
    if not routes:
        raise ValueError(f"{path}: no Route lines")
    return routes
