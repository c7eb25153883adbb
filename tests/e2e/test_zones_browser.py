"""The console's 围栏 (zones) mode in Debian's Chromium: an admin draws a polygon and a circle on
the map, saves them, drags a corner of the polygon and saves again (a new version), and
exports the zones as GeoJSON; a dispatcher sees the same zones read-only. Screenshots go to
test-output/zones-*.png."""

from __future__ import annotations

import json

import pytest

from fleet.db import connect
from supervision import zone_store
from tests.e2e.browser import CHROMIUM, launch, log_in, new_page, seeded_site
from tests.e2e.test_console_browser import poll

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

ZONES = "window.__console.zones()"


async def map_box(page) -> dict:
    return await page.get_by_test_id("map").bounding_box()


async def settle(page) -> None:
    await poll(page, ZONES, lambda z: z and not z["flying"], timeout_s=10, what="map flight")


async def test_admin_draws_edits_and_exports_zones(databases, services, output_dir):
    playwright_api = pytest.importorskip("playwright.async_api")
    async_playwright, expect = playwright_api.async_playwright, playwright_api.expect
    async with seeded_site(databases, services, "zones") as site, async_playwright() as pw:
        browser = await launch(pw)
        errors: list[str] = []
        page = await new_page(browser, errors)
        page.on("dialog", lambda dialog: dialog.accept())
        await log_in(page, site.base_url, "admin")
        await page.get_by_test_id("mode-zones").click()
        await expect(page.get_by_test_id("zn-count")).to_contain_text("个围栏")
        seeded = (await poll(page, ZONES, lambda z: z and z["count"] > 20, timeout_s=10,
                             what="zones listed"))["count"]

        # Fly to the East Lake scenic area, then draw a polygon west of it.
        await page.get_by_test_id("zn-search").fill("EASTLAKE")
        await expect(page.locator("[data-code='SZ-420100-EASTLAKE']")).to_be_visible()
        await page.locator("[data-code='SZ-420100-EASTLAKE']").click()
        await expect(page.get_by_test_id("zn-form-title")).to_contain_text("东湖")
        await settle(page)
        await page.screenshot(path=str(output_dir / "zones-1-selected.png"))
        await page.get_by_test_id("zn-search").fill("")
        await poll(page, ZONES, lambda z: z["count"] == seeded, timeout_s=10, what="all zones again")

        box = await map_box(page)
        x0, y0 = box["x"] + 160, box["y"] + 200
        await page.get_by_test_id("zn-draw-polygon").click()
        await expect(page.get_by_test_id("zn-hint")).to_be_visible()
        for dx, dy in ((0, 0), (180, 10), (200, 170), (20, 190)):
            await page.mouse.click(x0 + dx, y0 + dy)
        await expect(page.get_by_test_id("zn-vertex-3")).to_be_visible()
        await page.get_by_test_id("zn-vertex-0").click()  # closes the ring
        await expect(page.get_by_test_id("zn-form-panel")).to_be_visible()
        await page.get_by_test_id("zn-name-zh").fill("测试禁入区")
        await page.get_by_test_id("zn-name-en").fill("Test forbidden zone")
        await page.get_by_test_id("zn-purpose").select_option("forbidden_zone")
        await page.get_by_test_id("zn-city").select_option("420100")
        await page.screenshot(path=str(output_dir / "zones-2-polygon-drawn.png"))
        await page.get_by_test_id("zn-save").click()
        await expect(page.get_by_test_id("zn-notice")).to_contain_text("已保存：测试禁入区（版本 1）")

        # A circle of 200 m: centre, a click for the radius, then the exact radius typed.
        await page.get_by_test_id("zn-form-close").click()
        await page.get_by_test_id("zn-draw-circle").click()
        await page.mouse.click(x0 + 420, y0 + 120)
        await page.mouse.click(x0 + 480, y0 + 120)
        await expect(page.get_by_test_id("zn-size-input")).to_be_visible()
        await page.get_by_test_id("zn-size-input").fill("200")
        await page.get_by_test_id("zn-name-zh").fill("测试定点加油站")
        await page.get_by_test_id("zn-category").select_option("fuel")
        await page.get_by_test_id("zn-city").select_option("420100")
        await page.get_by_test_id("zn-save").click()
        await expect(page.get_by_test_id("zn-notice")).to_contain_text("已保存：测试定点加油站")
        await page.screenshot(path=str(output_dir / "zones-3-circle-saved.png"))

        # A corridor: three route points, a double-click to finish, 80 m half-width.
        await page.get_by_test_id("zn-form-close").click()
        await page.get_by_test_id("zn-draw-corridor").click()
        await page.mouse.click(x0 + 40, y0 + 300)
        await page.mouse.click(x0 + 200, y0 + 330)
        await page.mouse.dblclick(x0 + 330, y0 + 280)
        await expect(page.get_by_test_id("zn-vertex-2")).to_be_visible()
        await expect(page.get_by_test_id("zn-vertex-3")).to_have_count(0)
        await page.get_by_test_id("zn-size-input").fill("80")
        await page.get_by_test_id("zn-name-zh").fill("测试限速走廊")
        await expect(page.get_by_test_id("zn-purpose")).to_have_value("speed_zone")
        await page.get_by_test_id("zn-save").click()
        await expect(page.get_by_test_id("zn-notice")).to_contain_text("已保存：测试限速走廊")

        conn = await connect(site.database_url)
        try:
            road = await conn.fetchrow("SELECT shape, buffer_m, speed_limit_kmh, line_geojson"
                                       " FROM geofences WHERE name_zh = '测试限速走廊'")
            assert (road["shape"], road["buffer_m"], road["speed_limit_kmh"]) == ("corridor", 80, 60)
            assert len(road["line_geojson"]["coordinates"]) == 3
            rows = {r["name_zh"]: r for r in await conn.fetch(
                "SELECT id, name_zh, shape, purpose, radius_m, geojson, version FROM geofences"
                " WHERE name_zh LIKE '测试%'")}
            polygon, circle = rows["测试禁入区"], rows["测试定点加油站"]
            assert (polygon["shape"], polygon["purpose"], polygon["version"]) == (
                "polygon", "forbidden_zone", 1)
            corners = polygon["geojson"]["coordinates"][0]
            assert len(corners) == 5 and corners[0] == corners[-1]
            assert (circle["shape"], circle["purpose"], circle["radius_m"]) == (
                "circle", "service_site", 200)
        finally:
            await conn.close()

        # Drag the polygon's second corner 60 px down and save: version 2.
        await page.get_by_test_id(f"zn-row-{polygon['id']}").click()
        await settle(page)
        await page.get_by_test_id("zn-edit-shape").click()
        handle = page.get_by_test_id("zn-vertex-1")
        await expect(handle).to_be_visible()
        corner = await handle.bounding_box()
        cx, cy = corner["x"] + corner["width"] / 2, corner["y"] + corner["height"] / 2
        await page.mouse.move(cx, cy)
        await page.mouse.down()
        await page.mouse.move(cx + 20, cy + 30, steps=5)
        await page.mouse.move(cx + 30, cy + 60, steps=5)
        await page.mouse.up()
        await page.screenshot(path=str(output_dir / "zones-4-vertex-dragged.png"))
        await page.get_by_test_id("zn-save").click()
        await expect(page.get_by_test_id("zn-notice")).to_contain_text("（版本 2）")
        await page.get_by_test_id("zn-versions").click()
        await expect(page.get_by_test_id("zn-versions-list")).to_contain_text("版本 1")
        await page.screenshot(path=str(output_dir / "zones-5-versions.png"))

        conn = await connect(site.database_url)
        try:
            moved = {z.id: z for z in await zone_store.load_zones(conn)}[polygon["id"]]
            after = moved.geojson["coordinates"][0]
            assert moved.version == 2 and len(after) == 5
            assert after[1][1] < corners[1][1] - 1e-4  # dragged down: further south
            assert after[0] == corners[0] and after[2] == corners[2]
        finally:
            await conn.close()

        # Export: a GeoJSON download holding both new zones.
        async with page.expect_download() as download_info:
            await page.get_by_test_id("zn-export").click()
        download = await download_info.value
        target = output_dir / "zones-export.geojson"
        await download.save_as(str(target))
        exported = json.loads(target.read_text())
        names = {f["properties"]["name_zh"] for f in exported["features"]}
        assert {"测试禁入区", "测试定点加油站", "测试限速走廊"} <= names and len(names) >= seeded

        # The dispatcher reads the zones but has no drawing tools.
        reader = await new_page(browser, errors)
        await log_in(reader, site.base_url, "dispatcher")
        await reader.get_by_test_id("mode-zones").click()
        await expect(reader.get_by_test_id("zn-count")).to_contain_text("个围栏")
        await expect(reader.get_by_test_id("zn-draw-polygon")).to_have_count(0)
        await reader.get_by_test_id(f"zn-row-{circle['id']}").click()
        await expect(reader.get_by_test_id("zn-name-zh")).to_be_disabled()
        await expect(reader.get_by_test_id("zn-save")).to_have_count(0)
        await settle(reader)
        await reader.screenshot(path=str(output_dir / "zones-6-dispatcher-read-only.png"))
        await reader.get_by_test_id("lang-toggle").click()
        await expect(reader.get_by_test_id("mode-zones")).to_have_text("Zones")
        await expect(reader.get_by_test_id("zn-count")).to_contain_text("zones")
        await expect(reader.get_by_test_id("zn-form-panel")).to_contain_text("Designated service site")
        await reader.screenshot(path=str(output_dir / "zones-7-english.png"))
        await browser.close()
        assert errors == []
