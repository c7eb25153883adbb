"""Runs `fleet up` as a person would, in a child process, and stops it with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fleet.stack import pick_port


@dataclass
class PlatformProcess:
    env: dict[str, str]
    log_path: Path
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    lines: list[str] = field(default_factory=list)
    started_at: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['FLEET_HTTP_PORT']}"

    def start(self, *, timeout_s: float = 180) -> float:
        """Start and wait for "console ready"; returns the seconds it took."""
        self.lines.clear()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fleet.cli", "up", "--demo", *self.args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        if not ready.wait(timeout_s):
            self.stop()
            raise TimeoutError(f"fleet up not ready in {timeout_s} s:\n" + "".join(self.lines[-40:]))
        if self.proc.poll() is not None:
            raise RuntimeError("fleet up exited:\n" + "".join(self.lines[-40:]))
        return time.monotonic() - self.started_at

    def _pump(self, ready: threading.Event) -> None:
        assert self.proc and self.proc.stdout
        with open(self.log_path, "a", encoding="utf-8") as log:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.lines.append(line)
                log.write(line)
                log.flush()
                if "console ready" in line:
                    ready.set()
        ready.set()  # exited: let start() see it

    def stop(self, *, timeout_s: float = 60, sig: signal.Signals = signal.SIGINT) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def login(self, username: str = "dispatcher", password: str = "e2e-password") -> httpx.Client:
        client = httpx.Client(base_url=self.base_url, timeout=10)
        response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
        return client


def platform_env(*, prefix: str, data_dir: Path, urls: dict[str, str] | None) -> dict[str, str]:
    """Environment for `fleet up`: given server URLs, or none at all for the embedded default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    env.update(
        FLEET_DEMO="true",
        FLEET_DEMO_PASSWORD="e2e-password",
        FLEET_DATA_DIR=str(data_dir),
        FLEET_HTTP_PORT=str(pick_port(0)),
        FLEET_EMBEDDED_MQTT_PORT="0",
        FLEET_EMBEDDED_REDIS_PORT="0",
        FLEET_REDIS_PREFIX=prefix,
        FLEET_MQTT_TOPIC_ROOT=f"{prefix}/v1",
        FLEET_INGEST_CLIENT_ID=f"ingest-{prefix}",
        FLEET_SIM_INTERVAL_S="1",
        FLEET_INGEST_FLUSH_MS="100",
        PYTHONUNBUFFERED="1",
    )
    for name, value in (urls or {}).items():
        env[f"FLEET_{name.upper()}_URL"] = value
    return env
