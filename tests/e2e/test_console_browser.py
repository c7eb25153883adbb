"""The dispatcher's live console in Debian's Chromium, against the whole platform (`fleet up`).

The page's CSP stays on (no bypass): waiting is done with Playwright locators and polled
`page.evaluate` calls on the console's own test hooks (window.__console), never eval'd strings.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


async def poll(page, expression: str, predicate, *, timeout_s: float, what: str):
    """Evaluates `expression` until `predicate(value)` holds; returns the value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await page.evaluate(expression)
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout_s} s")
        await asyncio.sleep(0.2)


async def row_texts(page) -> dict[str, str]:
    rows = page.locator("[data-testid=vehicle-row]")
    plates = await rows.locator("[data-testid=row-plate]").all_inner_texts()
    speeds = await rows.locator("[data-testid=row-speed]").all_inner_texts()
    return dict(zip(plates, speeds, strict=True))


async def test_dispatcher_watches_the_fleet_live(live_platform, output_dir):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        try:
            await _walk_through(page, live_platform, output_dir, expect)
        finally:
            await page.screenshot(path=str(output_dir / "console-last.png"))
            await browser.close()
        # The deliberately wrong password's 401 is the only failed load allowed.
        unexpected = [e for e in errors if "401 (Unauthorized)" not in e]
        assert unexpected == [], unexpected  # no script errors, no CSP violations


async def _walk_through(page, platform, output_dir: Path, expect) -> None:
    # 1. Log in through the form.
    await page.goto(platform.base_url + "/")
    await expect(page).to_have_url(platform.base_url + "/login")
    await expect(page.get_by_test_id("login-submit")).to_have_text("登录")
    await page.get_by_test_id("login-username").fill(platform.username)
    await page.get_by_test_id("login-password").fill("wrong-password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")
    await page.screenshot(path=str(output_dir / "console-login.png"))
    await page.get_by_test_id("login-password").fill(platform.password)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url("**/console")

    # 2. The live feed fills the map and the list.
    await expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "live")
    markers = await poll(
        page, "window.__console.markerCount()", lambda n: n >= 20, timeout_s=30,
        what="vehicle markers on the map",
    )
    vehicles = await page.evaluate("window.__console.vehicleCount()")
    assert vehicles >= 50 and markers <= vehicles
    await expect(page.get_by_test_id("vehicle-row")).to_have_count(vehicles)
    assert await page.get_by_test_id("map").get_attribute("data-marker-count") == str(markers)
    total = int(await page.get_by_test_id("status-count-all").inner_text())
    assert total == vehicles

    # 3. Rows change as positions arrive: a newer fix and a different speed somewhere.
    newest_ms = await page.evaluate("window.__console.newestFixMs()")
    before = await row_texts(page)
    await poll(
        page, "window.__console.newestFixMs()", lambda ms: ms > newest_ms, timeout_s=10,
        what="newest fix time",
    )
    deadline = time.monotonic() + 15
    while (after := await row_texts(page)) == before:
        assert time.monotonic() < deadline, "no row changed its speed in 15 s"
        await asyncio.sleep(0.3)
    assert set(after) == set(before)
    await page.screenshot(path=str(output_dir / "console-live.png"))

    # 4. English, and back.
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_test_id("status-tab-moving")).to_contain_text("Moving")
    await expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    await page.screenshot(path=str(output_dir / "console-en.png"))

    # 5. Click a moving car in the list: details, its last hour of track, the map flies there.
    row = page.locator("[data-testid=vehicle-row][data-status=moving][data-withheld=false]").first
    await expect(row).to_be_visible(timeout=20000)
    plate = await row.get_by_test_id("row-plate").inner_text()
    await row.click()
    panel = page.get_by_test_id("details-panel")
    await expect(panel).to_be_visible()
    await expect(panel.get_by_test_id("details-plate")).to_have_text(plate)
    await expect(panel.get_by_test_id("details-seats")).to_contain_text("seats")
    await expect(panel.get_by_test_id("details-device")).not_to_have_text("—")
    await expect(panel.get_by_test_id("track-summary")).to_have_attribute("data-state", "loaded")
    await expect(panel.get_by_test_id("track-summary")).to_contain_text("points")
    await poll(
        page, "window.__console.trackPointCount()", lambda n: n >= 2, timeout_s=10,
        what="track points drawn",
    )
    await expect(row).to_have_attribute("aria-selected", "true")
    await page.wait_for_timeout(1200)  # let the fly-to animation settle for the screenshot
    await page.screenshot(path=str(output_dir / "console-details-en.png"))

    await page.get_by_test_id("lang-toggle").click()
    await expect(panel.get_by_test_id("details-seats")).to_contain_text("座")
    await expect(page.get_by_test_id("status-tab-moving")).to_contain_text("行驶")
    await page.screenshot(path=str(output_dir / "console-details.png"))

    # 6. A marker on the map opens its vehicle too.
    await panel.get_by_test_id("details-close").click()
    await expect(panel).to_be_hidden()
    await page.evaluate("window.__console.fitAll()")
    await page.wait_for_timeout(600)
    target = await poll(
        page, "window.__console.isolatedMarker(14)", lambda v: v is not None, timeout_s=10,
        what="an isolated marker to click",
    )
    await page.mouse.click(target["x"], target["y"])
    await expect(panel).to_be_visible()
    expected_plate = await page.evaluate(f"window.__console.vehicle({target['id']}).plate")
    await expect(panel.get_by_test_id("details-plate")).to_have_text(expected_plate)
