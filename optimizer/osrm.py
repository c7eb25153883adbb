"""A MatrixProvider backed by an OSRM server's `table` service, for deployments that run one.

    GET {base_url}/table/v1/{profile}/{lon,lat;lon,lat;...}
        ?annotations=duration,distance[&sources=i;j...&destinations=k;l...]

OSRM answers `{"code": "Ok", "durations": [[s...]], "distances": [[m...]], "sources": [...],
"destinations": [...]}` with floats (seconds, metres) and `null` where no route exists. A server
refuses tables above its `--max-table-size` (100 by default), so larger node lists are asked
for in blocks (sources × destinations, each block sending only its own coordinates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from optimizer.matrix import TravelMatrix
from optimizer.problem import Node


class OsrmError(RuntimeError):
    """The server could not give a usable table (HTTP error, OSRM error code, no route)."""


@dataclass(frozen=True)
class OsrmProvider:
    base_url: str  # e.g. "http://osrm:5000"
    profile: str = "driving"
    max_table_size: int = 100  # the server's --max-table-size
    timeout_s: float = 30.0

    def matrix(self, nodes: Sequence[Node]) -> TravelMatrix:
        size = len(nodes)
        durations = [[0] * size for _ in range(size)]
        distances = [[0] * size for _ in range(size)]
        block = size if size <= self.max_table_size else max(1, self.max_table_size // 2)
        blocks = [list(range(i, min(i + block, size))) for i in range(0, size, block)]
        with httpx.Client(base_url=self.base_url, timeout=self.timeout_s) as client:
            for sources in blocks:
                for targets in blocks:
                    table = self._table(client, nodes, sources, targets, whole=len(blocks) == 1)
                    for a, i in enumerate(sources):
                        for b, j in enumerate(targets):
                            if i != j:
                                durations[i][j], distances[i][j] = _cell(table, a, b, i, j)
        return TravelMatrix(tuple(map(tuple, durations)), tuple(map(tuple, distances)))

    def _table(self, client: httpx.Client, nodes: Sequence[Node], sources: list[int],
               targets: list[int], *, whole: bool) -> dict[str, Any]:
        indices = sources if sources == targets else sources + targets
        coords = ";".join(f"{nodes[i].coord[0]:.6f},{nodes[i].coord[1]:.6f}" for i in indices)
        query = "annotations=duration,distance"
        if not whole:
            first_target = 0 if sources == targets else len(sources)
            query += "&sources=" + ";".join(str(k) for k in range(len(sources)))
            query += "&destinations=" + ";".join(
                str(first_target + k) for k in range(len(targets)))
        try:
            # the query is written out: OSRM's documented form keeps ',' and ';' unescaped
            response = client.get(f"/table/v1/{self.profile}/{coords}?{query}")
        except httpx.HTTPError as exc:
            raise OsrmError(f"OSRM table request failed: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise OsrmError(f"OSRM answered {response.status_code} without JSON") from exc
        if response.status_code != 200 or body.get("code") != "Ok":
            raise OsrmError(f"OSRM answered {response.status_code} {body.get('code')}: "
                            f"{body.get('message', '')}")
        for key in ("durations", "distances"):
            rows = body.get(key)
            if not isinstance(rows, list) or len(rows) != len(sources) or any(
                    not isinstance(row, list) or len(row) != len(targets) for row in rows):
                raise OsrmError(f"OSRM table has no {len(sources)}×{len(targets)} {key} "
                                "(is annotations=duration,distance supported?)")
        return body


def _cell(table: dict[str, Any], a: int, b: int, i: int, j: int) -> tuple[int, int]:
    duration, distance = table["durations"][a][b], table["distances"][a][b]
    if duration is None or distance is None:
        raise OsrmError(f"OSRM finds no route from node {i} to node {j}")
    return round(duration), round(distance)
