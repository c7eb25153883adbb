"""`fleet up`: the whole platform on one machine, from one command.

Starts the embedded servers for whichever of FLEET_DATABASE_URL / FLEET_REDIS_URL /
FLEET_MQTT_URL is unset, migrates, seeds, then runs `fleet ingest`, `fleet rules`, `fleet web`
and `fleet simulate` as child processes with the resolved URLs in their environment.
Ctrl-C (or SIGTERM) stops everything it started, in order: simulator, ingest (which drains
what it holds), rules, web, then the servers. Children also get SIGTERM if this process dies.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

from fleet.bootstrap import migrate_database, seed_database, seed_demo_work
from fleet.config import Settings
from fleet.stack import EmbeddedStack, ServerUrls, die_with_parent, port_is_free

log = logging.getLogger(__name__)

class Stopping(Exception):
    pass


def _raise_stopping(signum: int, frame: object) -> None:
    raise Stopping(signal.Signals(signum).name)


def run_up(settings: Settings, *, with_simulator: bool = True) -> int:
    if not port_is_free(settings.http_port, settings.http_host):
        raise SystemExit(
            f"fleet up: port {settings.http_port} on {settings.http_host} is taken; "
            "set FLEET_HTTP_PORT to a free port"
        )
    # Ctrl-C, `kill`, and a closed terminal or dropped SSH session all stop everything
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stopping)
    started_s = time.monotonic()
    stack = EmbeddedStack(
        settings.data_dir,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        mqtt_url=settings.mqtt_url,
        redis_port=settings.embedded_redis_port,
        mqtt_port=settings.embedded_mqtt_port,
    )
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        urls = stack.start()
        embedded = ", ".join(stack.started_names) or "none (all URLs given)"
        print(f"fleet up: servers ready ({embedded}) in {time.monotonic() - started_s:.1f} s", flush=True)
        applied = asyncio.run(migrate_database(urls.database_url))
        counts = asyncio.run(seed_database(settings, urls.database_url))
        print(
            f"fleet up: migrations applied {len(applied)}, scenario seeded "
            f"({counts.get('vehicles', 0)} vehicles)",
            flush=True,
        )
        if settings.demo:
            work = asyncio.run(seed_demo_work(settings, urls.database_url))
            if work:
                print(f"fleet up: demo dispatch work: last month {work['requests']} requests, "
                      f"{work['open_requests']} open now", flush=True)
        env = _child_env(settings, urls)
        names = ["ingest", "rules", "web"] + (["simulate"] if with_simulator else [])
        for name in names:
            children.append((name, _spawn(name, env)))
        _wait_for_web(settings, children)
        base = f"http://{settings.http_host}:{settings.http_port}"
        print(f"fleet up: console ready at {base}/console "
              f"({time.monotonic() - started_s:.1f} s after start)", flush=True)
        if settings.demo:
            print("fleet up: demo accounts admin, dispatcher, inspector, requester, approver, "
                  "leader, driver1, rental1; "
                  "password from FLEET_DEMO_PASSWORD (default fleet-demo)", flush=True)
        print("fleet up: press Ctrl-C to stop everything", flush=True)
        return _watch(children)
    except Stopping as why:
        print(f"fleet up: {why}, stopping", flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        _stop_children(children)
        stack.stop()
        print("fleet up: stopped", flush=True)


def _child_env(settings: Settings, urls: ServerUrls) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        FLEET_DATABASE_URL=urls.database_url,
        FLEET_REDIS_URL=urls.redis_url,
        FLEET_MQTT_URL=urls.mqtt_url,
        FLEET_DEMO="true" if settings.demo else "false",
        FLEET_HTTP_HOST=settings.http_host,
        FLEET_HTTP_PORT=str(settings.http_port),
        PYTHONUNBUFFERED="1",
    )
    return env


def _spawn(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", name],
        env=env,
        start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops them in order
        preexec_fn=die_with_parent,  # noqa: PLW1509 - needed for PR_SET_PDEATHSIG
    )


def _wait_for_web(settings: Settings, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    url = f"http://{settings.http_host}:{settings.http_port}/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name, proc in children:
            if proc.poll() is not None:
                raise SystemExit(f"fleet up: {name} exited with {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"fleet up: the web app did not answer {url} within 60 s")


def _watch(children: list[tuple[str, subprocess.Popen[bytes]]]) -> int:
    while True:
        for name, proc in children:
            code = proc.poll()
            if code is not None and not (name == "simulate" and code == 0):
                print(f"fleet up: {name} exited with {code}; stopping the platform", flush=True)
                return 1
        time.sleep(0.5)


def _stop_children(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    order = {"simulate": 0, "ingest": 1, "rules": 2, "web": 3}
    for name, proc in sorted(children, key=lambda item: order.get(item[0], 9)):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in 20 s; killing it", name)
                proc.kill()
                proc.wait()
