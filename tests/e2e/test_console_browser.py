"""The dispatcher's live console in Debian's Chromium, against the whole platform (`fleet up`).

The page's CSP stays on (no bypass): waiting is done with Playwright locators and polled
`page.evaluate` calls on the console's own test hooks (window.__console), never eval'd strings.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

# Skipped before `live_platform` starts anything when there is no browser to drive.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is not installed (apt-get install chromium)",
    ),
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


async def row_fixes(page) -> dict[str, int]:
    """Plate -> the fix time (epoch ms) each list row currently shows."""
    return await page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-testid=vehicle-row]')]"
        ".map((row) => [row.querySelector('[data-testid=row-plate]').firstChild.textContent,"
        " Number(row.dataset.fixMs)]))"
    )


async def test_dispatcher_watches_the_fleet_live(live_platform, output_dir):
    playwright_api = pytest.importorskip("playwright.async_api")
    async_playwright, expect = playwright_api.async_playwright, playwright_api.expect

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
        page,
        "window.__console.markerCount()",
        lambda n: n >= 20,
        timeout_s=30,
        what="vehicle markers on the map",
    )
    vehicles = await page.evaluate("window.__console.vehicleCount()")
    assert vehicles >= 50 and markers <= vehicles
    await expect(page.get_by_test_id("vehicle-row")).to_have_count(vehicles)
    assert await page.get_by_test_id("map").get_attribute("data-marker-count") == str(markers)
    total = int(await page.get_by_test_id("status-count-all").inner_text())
    assert total == vehicles

    # 3. Rows change as positions arrive: newer fixes reach the list's rows.
    newest_ms = await page.evaluate("window.__console.newestFixMs()")
    before = await row_fixes(page)
    await poll(
        page,
        "window.__console.newestFixMs()",
        lambda ms: ms > newest_ms,
        timeout_s=10,
        what="newest fix time",
    )
    deadline = time.monotonic() + 10
    while True:
        after = await row_fixes(page)
        if any(after[plate] > fix_ms for plate, fix_ms in before.items()):
            break
        assert time.monotonic() < deadline, "no list row showed a newer fix in 10 s"
        await asyncio.sleep(0.3)

    # 3b. The map moves: a driving car's marker changes place as its positions arrive (the
    #     simulator sends cars out from a few seconds after start).
    moving_ids = await poll(
        page, "window.__console.movingIds()", bool, timeout_s=60, what="moving vehicles"
    )
    starts = {
        vid: await page.evaluate(f"window.__console.markerLatLng({vid})") for vid in moving_ids
    }
    deadline = time.monotonic() + 15
    while True:
        moved = [
            vid for vid, start in starts.items()
            if start and await page.evaluate(f"window.__console.markerLatLng({vid})") != start
        ]
        if moved:
            break
        assert time.monotonic() < deadline, "no moving car's marker changed place in 15 s"
        await asyncio.sleep(0.3)
    await page.screenshot(path=str(output_dir / "console-live.png"))

    # 4. Filters: a status tab, then a plate search.
    visible_statuses = (
        "[...document.querySelectorAll('[data-testid=vehicle-row]:not(.hidden)')]"
        ".map((row) => row.dataset.status)"
    )
    await page.get_by_test_id("status-tab-moving").click()
    await expect(page.get_by_test_id("status-tab-moving")).to_have_attribute("aria-pressed", "true")
    assert set(await page.evaluate(visible_statuses)) <= {"moving"}
    await page.get_by_test_id("status-tab-moving").click()
    some_plate = next(iter(before))
    await page.get_by_test_id("filter-search").fill(some_plate.replace("·", ""))
    await expect(page.locator("[data-testid=vehicle-row]:not(.hidden)")).to_have_count(1)
    shown = page.locator("[data-testid=vehicle-row]:not(.hidden) [data-testid=row-plate]")
    await expect(shown).to_contain_text(some_plate)
    await page.get_by_test_id("filter-search").fill("")
    await expect(page.locator("[data-testid=vehicle-row]:not(.hidden)")).to_have_count(vehicles)

    # 5. English, and back.
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_test_id("status-tab-moving")).to_contain_text("Moving")
    await expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    await page.screenshot(path=str(output_dir / "console-en.png"))

    # 6. Click a car in the list (a moving one if any: at night the fleet sleeps): details,
    #    its last hour of track, the map flies there.
    located = "[data-testid=vehicle-row][data-withheld=false]:not([data-status=no_data])"
    moving = page.locator(located + "[data-status=moving]")
    any_moving = await moving.count() > 0
    row = moving.first if any_moving else page.locator(located).first
    await expect(row).to_be_visible()
    vehicle_id = await row.get_attribute("data-vehicle-id")
    plate = await page.evaluate(f"window.__console.vehicle({vehicle_id}).plate")
    await row.click()
    panel = page.get_by_test_id("details-panel")
    await expect(panel).to_be_visible()
    await expect(panel.get_by_test_id("details-plate")).to_have_text(plate)
    await expect(panel.get_by_test_id("details-seats")).to_contain_text("seats")
    await expect(panel.get_by_test_id("details-device")).not_to_have_text("—")
    await expect(panel.get_by_test_id("track-summary")).to_have_attribute("data-state", "loaded")
    await expect(panel.get_by_test_id("track-summary")).to_contain_text("point")
    # A parked car may have reported once since the platform started; a moving one, often.
    await poll(
        page,
        "window.__console.trackPointCount()",
        lambda n: n >= (2 if any_moving else 1),
        timeout_s=10,
        what="track points drawn",
    )
    await expect(row).to_have_attribute("aria-selected", "true")
    await page.wait_for_timeout(1200)  # let the fly-to animation settle for the screenshot
    await page.screenshot(path=str(output_dir / "console-details-en.png"))

    await page.get_by_test_id("lang-toggle").click()
    await expect(panel.get_by_test_id("details-seats")).to_contain_text("座")
    await expect(page.get_by_test_id("status-tab-moving")).to_contain_text("行驶")
    await page.screenshot(path=str(output_dir / "console-details.png"))

    # 7. A marker on the map opens its vehicle too. Crowded cars are folded into clusters
    #    (a depot lot holds dozens): zoom or spiderfy until another car's own marker shows.
    first_id = await page.evaluate("window.__console.selectedId()")
    await panel.get_by_test_id("details-close").click()
    await expect(panel).to_be_hidden()
    other_id = await page.evaluate(
        f"window.__console.visibleIds().find((id) => id !== {first_id} && "
        "window.__console.vehicle(id).state?.lat != null)"
    )
    assert await page.evaluate(f"window.__console.reveal({other_id})")
    await page.wait_for_timeout(800)  # the zoom and spiderfy animations
    target = await page.evaluate(f"window.__console.markerPoint({other_id})")
    under_pointer = await page.evaluate(
        f"window.__console.markersNear({target['x']}, {target['y']}, 8)"
    )
    assert other_id in under_pointer
    await page.mouse.click(target["x"], target["y"])
    await expect(panel).to_be_visible()
    plates = await page.evaluate(f"{under_pointer}.map((id) => window.__console.vehicle(id).plate)")
    # Where markers still touch, the one drawn on top answers the click.
    await expect(panel.get_by_test_id("details-plate")).to_have_text(
        re.compile("^(" + "|".join(map(re.escape, plates)) + ")$")
    )
    await expect(panel.get_by_test_id("track-summary")).to_have_attribute("data-state", "loaded")
    await page.wait_for_timeout(1200)
    await page.screenshot(path=str(output_dir / "console-map-click.png"))
