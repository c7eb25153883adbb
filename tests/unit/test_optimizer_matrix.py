"""Travel matrices: the great-circle default (domain.md §9) and the OSRM provider, the latter
against a hand-written recorded response served by a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from fleet.geodesy import haversine_m
from optimizer import Node
from optimizer.matrix import GreatCircleProvider
from optimizer.osrm import OsrmError, OsrmProvider

WUHAN = Node((114.3055, 30.5928), "420100", "武汉")
HUANGSHI = Node((115.0389, 30.1999), "420200", "黄石")
EZHOU = Node((114.8950, 30.3908), "420700", "鄂州")
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "osrm_table_wuhan.json"


def kmh(dist_m: int, duration_s: int) -> float:
    return dist_m / 1000 / (duration_s / 3600)


def test_wuhan_to_huangshi_is_road_factor_times_the_straight_line_at_90_kmh():
    m = GreatCircleProvider().matrix([WUHAN, HUANGSHI])
    straight_m = haversine_m(30.5928, 114.3055, 30.1999, 115.0389)
    assert 80_000 < straight_m < 86_000
    assert m.dist_m[0][1] == round(1.3 * straight_m)
    assert kmh(m.dist_m[0][1], m.duration_s[0][1]) == pytest.approx(90, abs=0.1)
    assert m.duration_s[0][0] == m.dist_m[1][1] == 0
    assert m.dist_m[0][1] == m.dist_m[1][0] and m.duration_s[0][1] == m.duration_s[1][0]


def test_within_a_city_at_30_kmh():
    across_town = Node((114.4015, 30.5050), "420100", "光谷")
    m = GreatCircleProvider().matrix([WUHAN, across_town])
    assert kmh(m.dist_m[0][1], m.duration_s[0][1]) == pytest.approx(30, abs=0.1)


def test_a_short_leg_across_a_city_border_is_not_an_expressway_trip():
    near_border = Node((114.30, 30.60), "420100")
    over_border = Node((114.31, 30.61), "420900")  # ~1.9 km of road, another city code
    m = GreatCircleProvider().matrix([near_border, over_border])
    speed = kmh(m.dist_m[0][1], m.duration_s[0][1])
    assert 30 < speed < 40


def test_intercity_time_grows_with_distance():
    provider = GreatCircleProvider()
    origin = Node((114.0, 30.0), "A")
    times = [provider.leg(origin, Node((114.0 + d / 1000, 30.0), "B"))[0] for d in range(1, 400)]
    assert times == sorted(times)


def test_the_default_provider_is_deterministic():
    nodes = [WUHAN, HUANGSHI, EZHOU]
    assert GreatCircleProvider().matrix(nodes) == GreatCircleProvider().matrix(nodes)


# ---- OSRM ------------------------------------------------------------------------------------

class RecordedOsrm(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/... from the recorded table: the whole recorded document for
    the recorded request, a slice of it for a block (sources/destinations) of its coordinates."""

    recorded: dict = json.loads(FIXTURE.read_text(encoding="utf-8"))
    requests: list[tuple[str, dict[str, list[str]]]] = []
    override: dict | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        type(self).requests.append((self.path, query))
        if self.override is not None:
            return self._send(400 if self.override.get("code") != "Ok" else 200, self.override)
        coords = unquote(url.path).removeprefix("/table/v1/driving/").split(";")
        known = [f"{lon:.6f},{lat:.6f}" for lon, lat in self.recorded["_request"]]
        if coords == known and "sources" not in query:
            body = FIXTURE.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
            return None
        index = [known.index(c) for c in coords]
        sources = [index[int(k)] for k in query["sources"][0].split(";")]
        targets = [index[int(k)] for k in query["destinations"][0].split(";")]
        table = {"code": "Ok"}
        for key in ("durations", "distances"):
            table[key] = [[self.recorded[key][i][j] for j in targets] for i in sources]
        return self._send(200, table)

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def osrm_url() -> Iterator[str]:
    RecordedOsrm.requests = []
    RecordedOsrm.override = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordedOsrm)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def recorded_nodes() -> list[Node]:
    return [Node((lon, lat)) for lon, lat in RecordedOsrm.recorded["_request"]]


def test_osrm_table_is_read_into_integer_seconds_and_metres(osrm_url):
    m = OsrmProvider(osrm_url).matrix(recorded_nodes())
    recorded = RecordedOsrm.recorded
    assert m.duration_s == tuple(tuple(round(v) for v in row) for row in recorded["durations"])
    assert m.dist_m == tuple(tuple(round(v) for v in row) for row in recorded["distances"])
    assert m.duration_s[0][3] == 4235 and m.dist_m[3][0] == 103_602  # 武汉 → 黄石 and back
    [(path, query)] = RecordedOsrm.requests
    assert path == ("/table/v1/driving/114.305500,30.592800;114.401500,30.505000;"
                    "114.895000,30.390800;115.038900,30.199900;113.916900,30.924600"
                    "?annotations=duration,distance")  # as OSRM documents it, unescaped
    assert query == {"annotations": ["duration,distance"]}


def test_large_tables_are_asked_for_in_blocks(osrm_url):
    whole = OsrmProvider(osrm_url).matrix(recorded_nodes())
    RecordedOsrm.requests = []
    blocks = OsrmProvider(osrm_url, max_table_size=4).matrix(recorded_nodes())
    assert blocks == whole
    assert len(RecordedOsrm.requests) == 9  # 3 blocks of at most 2 nodes, each way
    coords = [urlsplit(path).path.split("/")[-1] for path, _ in RecordedOsrm.requests]
    assert all(len(c.split(";")) <= 4 for c in coords)
    assert "sources=0;1&destinations=2;3" in RecordedOsrm.requests[1][0]


def test_no_route_is_an_error(osrm_url):
    RecordedOsrm.override = {"code": "Ok", "durations": [[0, None], [60, 0]],
                             "distances": [[0, None], [900, 0]]}
    with pytest.raises(OsrmError, match="no route from node 0 to node 1"):
        OsrmProvider(osrm_url).matrix(recorded_nodes()[:2])


def test_an_osrm_error_code_is_an_error(osrm_url):
    RecordedOsrm.override = {"code": "TooBig", "message": "Too many table coordinates"}
    with pytest.raises(OsrmError, match="400 TooBig: Too many table coordinates"):
        OsrmProvider(osrm_url).matrix(recorded_nodes())


def test_an_unreachable_server_is_an_error():
    with pytest.raises(OsrmError, match="request failed"):
        OsrmProvider("http://127.0.0.1:9", timeout_s=2).matrix(recorded_nodes()[:2])
