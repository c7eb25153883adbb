"""Track playback (轨迹回放) and the admins' dead-letter page in Debian's Chromium.

The web app runs alone (uvicorn in a thread) on a seeded database holding yesterday's trips,
stops and fixes of one car — no simulator, so what the page shows is exactly what was seeded.
The page's CSP stays on: waiting is done on locators and on the console's hooks."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.db import connect
from tests.e2e.browser import CHROMIUM, launch, log_in, new_page, serve_web
from tests.e2e.test_console_browser import poll
from tests.integration.test_track_playback_api import (
    build_day,
    insert_trip,
    store_day,
    wuhan_vehicle,
)
from web.tracks import LOCAL_TZ, local_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@dataclass(frozen=True)
class Seeded:
    base_url: str
    vehicle_id: int
    plate: str


async def seed(db) -> tuple[int, str]:
    vehicle_id, device_id = await wuhan_vehicle(db)
    yesterday = datetime.now(LOCAL_TZ).date() - timedelta(days=1)
    await store_day(db, build_day(vehicle_id, device_id, yesterday))
    # Yesterday's last trip ended with its last fix: today's is the one going on.
    await db.execute(
        """UPDATE trips SET end_ts = start_ts + make_interval(secs => duration_s)
           WHERE vehicle_id = $1 AND end_ts IS NULL""",
        vehicle_id,
    )
    day_start, _ = local_day(datetime.now(UTC))
    base = {
        "start_lat": 30.55,
        "start_lon": 114.25,
        "end_lat": 30.6,
        "end_lon": 114.3,
        "max_speed_kmh": 60.0,
        "mean_speed_kmh": 20.0,
        "position_count": 100,
    }
    today_trips = [
        {
            "start_ts": day_start + timedelta(minutes=10),
            "end_ts": day_start + timedelta(minutes=40),
            "dist_gnss_m": 10_000.0,
            "duration_s": 1800,
        },
        {
            "start_ts": day_start + timedelta(hours=1),
            "end_ts": None,
            "dist_gnss_m": 3_000.0,
            "duration_s": 600,
        },
    ]
    for trip in today_trips:
        await insert_trip(db, vehicle_id, **base, **trip)
    await db.execute(
        """INSERT INTO dead_letters (received_at, topic, payload, reason, detail, device_uid)
           VALUES (now() - interval '5 minutes', 'fleet/v1/devices/gw-7/telemetry',
                   convert_to('{"lat": 0, "lon": 0, "ts": 1}', 'UTF8'), 'zero_coordinates',
                   'lat = lon = 0', 'gw-7'),
                  (now() - interval '3 minutes', 'fleet/v1/devices/gw-7/telemetry',
                   '\\xff00fe'::bytea, 'bad_json', 'not UTF-8', 'gw-7'),
                  (now() - interval '1 minute', 'fleet/v1/devices/gw-8/telemetry',
                   convert_to('{"ts": 1}', 'UTF8'), 'missing_field', 'lat is missing', 'gw-8')"""
    )
    plate = await db.fetchval("SELECT plate FROM vehicles WHERE id = $1", vehicle_id)
    return vehicle_id, plate


@pytest.fixture(scope="module")
async def seeded_web(databases, services) -> AsyncIterator[Seeded]:
    database_url = await databases.create(template=await databases.template("seeded"))
    db = await connect(database_url)
    try:
        vehicle_id, plate = await seed(db)
    finally:
        await db.close()
    with serve_web(database_url, services.redis_url, f"pb{int(time.time() * 1000)}") as base_url:
        yield Seeded(base_url, vehicle_id, plate)


async def browser_page(playwright, errors: list[str]):
    browser = await launch(playwright)
    return browser, await new_page(browser, errors, viewport={"width": 1440, "height": 860})


async def playback(page) -> dict:
    return await page.evaluate("window.__console.playback()")


async def test_playback_of_yesterday(seeded_web, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser, page = await browser_page(playwright, errors)
        try:
            await _play_yesterday(page, seeded_web, output_dir, playwright_api.expect)
        finally:
            await page.screenshot(path=str(output_dir / "playback-last.png"))
            await browser.close()
    assert errors == [], errors  # no script errors, no CSP violations


async def _play_yesterday(page, seeded: Seeded, output_dir: Path, expect) -> None:
    await log_in(page, seeded.base_url, "dispatcher")
    await expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "live")
    await expect(page.get_by_test_id("nav-admin_dead_letters")).to_have_count(0)  # admins only

    # The car's details: today's two trips (one still going on) and the playback action.
    await page.get_by_test_id("filter-search").fill(seeded.plate.replace("·", ""))
    await page.locator(f"[data-testid=vehicle-row][data-vehicle-id='{seeded.vehicle_id}']").click()
    panel = page.get_by_test_id("details-panel")
    await expect(panel.get_by_test_id("details-plate")).to_have_text(seeded.plate)
    today = panel.get_by_test_id("details-today")
    await expect(today).to_have_attribute("data-state", "loaded")
    await expect(today.get_by_test_id("today-trips")).to_have_text("2 次")
    await expect(today.get_by_test_id("today-distance")).to_have_text("13.0 km")
    await expect(today.get_by_test_id("today-trip")).to_have_count(2)

    # Playback opens on today (no fixes today: the trips come from the trip rows only).
    await panel.get_by_test_id("playback-open").click()
    bar = page.get_by_test_id("playback-panel")
    await expect(bar).to_be_visible()
    await expect(bar.get_by_test_id("playback-status")).to_have_attribute("data-state", "empty")

    # Yesterday: three trips, three stops.
    await bar.get_by_test_id("playback-preset-yesterday").click()
    await expect(bar.get_by_test_id("playback-status")).to_have_attribute("data-state", "loaded")
    state = await playback(page)
    assert state["open"] and state["pointCount"] > 100
    assert state["pointCount"] == state["rawPointCount"]  # fits the budget: nothing dropped
    assert state["tripCount"] == 3 and state["stopCount"] == 3
    assert state["tripMarkerCount"] == 6 and state["stopMarkerCount"] == 3
    assert await page.locator(".pb-pin-start").count() == 3
    assert await page.locator(".pb-pin-end").count() == 3
    assert await page.locator(".pb-pin-stop").count() == 3
    assert state["tsMs"] == state["startMs"] and not state["playing"]
    start_latlng = state["markerLatLng"]
    await expect(bar.get_by_test_id("playback-time")).to_contain_text(":")
    await page.wait_for_timeout(400)  # the fit-to-route settles, for the screenshot
    await page.screenshot(path=str(output_dir / "playback-loaded.png"))

    # Play at 300×: time runs and the car moves along the route.
    await bar.get_by_test_id("playback-speed-300").click()
    await bar.get_by_test_id("playback-play").click()
    await expect(bar.get_by_test_id("playback-play")).to_have_attribute("data-playing", "true")
    moving = await poll(
        page,
        "window.__console.playback()",
        lambda s: s["tsMs"] > state["startMs"] + 120_000 and s["markerLatLng"] != start_latlng,
        timeout_s=15,
        what="the car moving during playback",
    )
    assert moving["playing"] and moving["speed"] == 300
    await expect(bar.get_by_test_id("playback-phase")).to_have_text("行程 1/3")
    await page.screenshot(path=str(output_dir / "playback-playing.png"))
    await bar.get_by_test_id("playback-play").click()
    await expect(bar.get_by_test_id("playback-play")).to_have_attribute("data-playing", "false")
    paused = await playback(page)

    # Scrub: dragging the slider to about 60 % moves the time and the car there.
    slider = bar.get_by_test_id("playback-slider")
    box = await slider.bounding_box()
    y = box["y"] + box["height"] / 2
    await page.mouse.move(box["x"] + box["width"] * 0.1, y)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
    await page.mouse.up()
    scrubbed = await playback(page)
    share = (scrubbed["tsMs"] - scrubbed["startMs"]) / (scrubbed["endMs"] - scrubbed["startMs"])
    assert 0.5 < share < 0.7, share
    assert scrubbed["markerLatLng"] != paused["markerLatLng"]
    assert not scrubbed["playing"]

    # A stop's pin tells how long the car stood there: the second stop, 09:10–11:00.
    await page.locator(".pb-pin-stop").nth(1).click()
    popup = page.locator(".pb-popup")
    await expect(popup).to_contain_text("停车 1 小时 50 分")
    await expect(popup).to_contain_text("09:10–11:00")
    await page.wait_for_timeout(300)  # the popup's fade-in, for the screenshot
    await page.screenshot(path=str(output_dir / "playback-stop-popup.png"))

    # English, then close: the bar goes, the details stay.
    await page.get_by_test_id("lang-toggle").click()
    await expect(bar.get_by_test_id("playback-play")).to_contain_text("Play")
    await expect(bar.get_by_test_id("playback-preset-yesterday")).to_have_text("Yesterday")
    await expect(panel.get_by_test_id("today-trips")).to_have_text("2")
    assert await page.locator(".pb-pin-start").first.inner_text() == "S"  # pins relabelled
    await page.screenshot(path=str(output_dir / "playback-en.png"))
    await bar.get_by_test_id("playback-close").click()
    await expect(bar).to_be_hidden()
    assert (await playback(page))["open"] is False
    assert await page.locator(".pb-pin").count() == 0
    await expect(panel).to_be_visible()

    # One of today's trips replays its own time range (a minute either side).
    await panel.get_by_test_id("today-trip").first.click()
    await expect(bar).to_be_visible()
    await expect(bar.get_by_test_id("playback-from")).to_have_value(re.compile(r"T00:09$"))
    await expect(bar.get_by_test_id("playback-to")).to_have_value(re.compile(r"T00:41$"))
    await page.keyboard.press("Escape")
    await expect(bar).to_be_hidden()


async def test_admin_reads_dead_letters(seeded_web, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser, page = await browser_page(playwright, errors)
        try:
            await log_in(page, seeded_web.base_url, "admin")
            await page.get_by_test_id("nav-admin_dead_letters").click()
            await page.wait_for_url("**/admin/dead-letters")
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
            counts = await page.evaluate("window.__admin.counts()")
            assert counts == {"zero_coordinates": 1, "bad_json": 1, "missing_field": 1}
            await expect(page.get_by_test_id("dl-total")).to_have_text("3")
            filter_row = page.locator("[data-testid=dl-count-row][data-reason=zero_coordinates]")
            await expect(filter_row).to_have_attribute("data-kind", "filter")
            await expect(filter_row).to_contain_text("过滤器拒收")
            await expect(page.get_by_test_id("dl-item")).to_have_count(3)
            binary = page.locator("[data-testid=dl-item][data-reason=bad_json]")
            await expect(binary.get_by_test_id("dl-payload")).to_have_text("/wD+")  # base64
            await expect(binary.get_by_test_id("dl-payload")).to_have_attribute(
                "data-encoding", "base64"
            )
            text = page.locator("[data-testid=dl-item][data-reason=missing_field]")
            await expect(text.get_by_test_id("dl-payload")).to_have_text('{"ts": 1}')
            await page.screenshot(path=str(output_dir / "admin-dead-letters.png"))

            await filter_row.click()  # one reason's letters only
            await expect(page.get_by_test_id("dl-item")).to_have_count(1)
            await expect(page.get_by_test_id("dl-reason")).to_have_value("zero_coordinates")
            await page.get_by_test_id("lang-toggle").click()
            await expect(filter_row).to_contain_text("Refused by a filter")
            await page.screenshot(path=str(output_dir / "admin-dead-letters-en.png"))
        finally:
            await browser.close()
    assert errors == [], errors
