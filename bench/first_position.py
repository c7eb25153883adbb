"""Time from typing the README's first command to the first live position on the console page.

Runs the command (default `./dev up`) in a checkout, waits for the console, logs in through the
page in Debian's Chromium, and stops the clock when the page has drawn a vehicle with a fix.
Then Ctrl-C, and the same again ("warm": data directory and virtualenv kept).

    python bench/first_position.py --repo /tmp/fresh-clone --runs 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from playwright.async_api import async_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait_http(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the command exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


async def first_position_on_page(base_url: str, password: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = await browser.new_page()
        await page.goto(base_url + "/login")
        await page.get_by_test_id("login-username").fill("dispatcher")
        await page.get_by_test_id("login-password").fill(password)
        await page.get_by_test_id("login-submit").click()
        await page.wait_for_url("**/console")
        # polled with evaluate: the page's CSP forbids wait_for_function's string eval
        deadline = time.monotonic() + 120
        while not await page.evaluate("window.__console ? window.__console.markerCount() : 0"):
            if time.monotonic() > deadline:
                raise TimeoutError("no vehicle drawn on the page in 120 s")
            await asyncio.sleep(0.1)
        await browser.close()


def run_once(repo: Path, command: list[str], port: int) -> tuple[float, float]:
    env = dict(os.environ, FLEET_HTTP_PORT=str(port), PYTHONUNBUFFERED="1")
    for name in ("FLEET_DATABASE_URL", "FLEET_REDIS_URL", "FLEET_MQTT_URL"):
        env.pop(name, None)
    started = time.monotonic()
    with open(repo / "first_position.log", "ab") as log:
        proc = subprocess.Popen(command, cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", proc, 900)
        console_s = time.monotonic() - started
        asyncio.run(first_position_on_page(base, env.get("FLEET_DEMO_PASSWORD", "fleet-demo")))
        return console_s, time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=Path("."))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    for run in range(args.runs):
        console_s, position_s = run_once(args.repo, ["./dev", "up"], args.port)
        label = "first" if run == 0 else "again"
        print(f"run {run + 1} ({label}): console answers after {console_s:.1f} s, "
              f"first live position on the page after {position_s:.1f} s")


if __name__ == "__main__":
    main()
