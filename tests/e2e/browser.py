"""Shared by the page tests: the web app alone on a seeded database (uvicorn in a thread, no
simulator), Debian's Chromium through Playwright, and logging in as a demo user."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from fleet.stack import pick_port
from tests.integration.web_app import PASSWORD, make_settings
from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1440, "height": 860}
PHONE = {"width": 390, "height": 844}  # an iPhone 12-14 sized screen


@contextmanager
def serve_web(database_url: str, redis_url: str, prefix: str, **settings) -> Iterator[str]:
    """The web app on a free port until the block ends; yields its base URL."""
    app_settings = make_settings(database_url, redis_url, prefix)
    if settings:
        app_settings = app_settings.model_copy(update=settings)
    port = pick_port(0)
    server = uvicorn.Server(
        uvicorn.Config(create_app(app_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "web app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass(frozen=True)
class Site:
    base_url: str
    database_url: str


@asynccontextmanager
async def seeded_site(databases, services, prefix: str, **settings) -> AsyncIterator[Site]:
    """The web app alone on a fresh copy of the seeded database (scenario and demo users)."""
    database_url = await databases.create(template=await databases.template("seeded"))
    with serve_web(database_url, services.redis_url, f"{prefix}{int(time.time() * 1000)}",
                   **settings) as base_url:
        yield Site(base_url, database_url)


async def new_page(browser, errors: list[str], *, viewport=DESKTOP, mobile: bool = False):
    """A page in its own context (own cookies: one person), collecting script errors."""
    context = await browser.new_context(
        viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
        is_mobile=mobile, has_touch=mobile, device_scale_factor=2 if mobile else 1,
    )
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    return page


async def launch(playwright):
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


async def log_in(page, base_url: str, username: str, landing: str = "/console") -> None:
    await page.goto(base_url + "/login")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(f"**{landing}")
