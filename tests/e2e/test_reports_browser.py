"""The reports page (统计报表) in Debian's Chromium: a dispatcher opens it from the top bar,
switches to the generated month (2026-11, 300 requests on the seeded scenario), reads the
figures by city, unit and vehicle, sorts a column, downloads a company's rental statement as
CSV, and switches to English. The web app runs alone on the seeded database (no simulator)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatch.months import Month
from fleet.db import connect
from fleet.month_generator import generate_month
from fleet.month_seed import seed_month
from fleet.scenario.load import load_scenario
from tests.e2e.browser import CHROMIUM, launch, log_in, new_page, serve_web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@dataclass(frozen=True)
class Seeded:
    base_url: str
    wuhan_trips: int
    company_id: int
    company_orders: int


@pytest.fixture(scope="module")
async def seeded_web(databases, services) -> AsyncIterator[Seeded]:
    database_url = await databases.create(template=await databases.template("seeded"))
    db = await connect(database_url)
    try:
        await seed_month(db, generate_month(load_scenario(), Month(2026, 11), 300, seed=4))
        back = """d.state IN ('returned', 'disputed', 'confirmed', 'rated') AND d.departed_at IS NOT NULL
                  AND d.returned_at >= '2026-11-01 00:00+08' AND d.returned_at < '2026-12-01 00:00+08'"""
        wuhan_trips = await db.fetchval(
            f"""SELECT count(*) FROM dispatch_orders d JOIN trip_requests r ON r.id = d.request_id
                JOIN organisations o ON o.id = r.org_id WHERE {back} AND o.city_code = '420100'""")
        company_id, company_orders = await db.fetchrow(
            f"""SELECT d.rental_company_id, count(*) FROM dispatch_orders d
                JOIN trip_requests r ON r.id = d.request_id JOIN organisations o ON o.id = r.org_id
                WHERE {back} AND d.price_plan_id IS NOT NULL AND o.city_code = '420100'
                GROUP BY 1 ORDER BY 2 DESC LIMIT 1""")
    finally:
        await db.close()
    with serve_web(database_url, services.redis_url, f"rp{int(time.time() * 1000)}") as base_url:
        yield Seeded(base_url, wuhan_trips, company_id, company_orders)


async def test_dispatcher_reads_the_month_and_downloads_a_statement(seeded_web, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(browser, errors, viewport={"width": 1440, "height": 900})
        try:
            await _read_reports(page, seeded_web, output_dir, expect)
        finally:
            await page.screenshot(path=str(output_dir / "reports-last.png"), full_page=True)
            await browser.close()
    assert errors == [], errors  # no script errors, no CSP violations


async def _read_reports(page, seeded: Seeded, output_dir: Path, expect) -> None:
    await log_in(page, seeded.base_url, "dispatcher")
    await page.get_by_test_id("nav-reports").click()
    await page.wait_for_url("**/reports**")
    table = page.get_by_test_id("figures-table")
    await expect(table).to_have_attribute("data-loaded", "true")

    # October: nothing was generated — the page says so.
    await page.get_by_test_id("month").fill("2026-10")
    await expect(page.get_by_test_id("figures-message")).to_have_text("该月份暂无数据")
    # November: the generated month, Wuhan only (the dispatcher's city).
    await page.get_by_test_id("month-next").click()
    await expect(page.get_by_test_id("period")).to_contain_text("2026-11 · 工作日 21 天")
    await expect(page.get_by_test_id("figures-message")).to_be_hidden()
    rows = table.get_by_test_id("figure-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-key", "420100")
    await expect(rows.first.locator("td").nth(0)).to_have_text("武汉")
    await expect(rows.first.locator("td").nth(2)).to_have_text(f"{seeded.wuhan_trips:,}")
    await expect(page.get_by_test_id("kpi-trips").locator("strong")).to_have_text(f"{seeded.wuhan_trips:,}")
    assert "month=2026-11" in page.url
    await expect(page.get_by_test_id("rank-fuel").first).to_be_visible()
    statement = page.locator(f"[data-testid=statement-row][data-company='{seeded.company_id}']")
    await expect(statement.locator("td").nth(1)).to_have_text(str(seeded.company_orders))
    await page.screenshot(path=str(output_dir / "reports-city.png"), full_page=True)

    # By vehicle, sorted by trips (most first, then fewest first).
    await page.get_by_test_id("tab-vehicle").click()
    await expect(table).to_have_attribute("data-by", "vehicle")
    await expect(page.get_by_test_id("tab-vehicle")).to_have_attribute("aria-selected", "true")
    await page.get_by_test_id("col-trips").click()
    await expect(page.get_by_test_id("col-trips")).to_have_attribute("aria-sort", "descending")
    trips = [int(x.replace(",", "")) for x in await rows.locator("td:nth-child(5)").all_inner_texts()]
    assert trips == sorted(trips, reverse=True) and trips[0] > 0
    await page.get_by_test_id("col-trips").click()
    trips = [int(x.replace(",", "")) for x in await rows.locator("td:nth-child(5)").all_inner_texts()]
    assert trips == sorted(trips)
    await page.screenshot(path=str(output_dir / "reports-vehicle.png"), full_page=True)
    await page.get_by_test_id("tab-unit").click()
    await expect(table).to_have_attribute("data-by", "unit")
    assert await rows.count() >= 3

    # The company's statement as CSV: Excel's UTF-8 (BOM), Chinese headers, one row per order.
    async with page.expect_download() as download_info:
        await statement.get_by_test_id(f"download-{seeded.company_id}-csv").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("租赁对账单_2026-11_") and download.suggested_filename.endswith(".csv")
    saved = output_dir / "reports-statement.csv"
    await download.save_as(str(saved))
    content = saved.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("租赁公司 (company),派车单号 (order)")
    assert len(lines) == 1 + seeded.company_orders + 1

    # English.
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("tab-city")).to_have_text("By city")
    await expect(page.get_by_test_id("col-name")).to_have_text("Unit")
    await page.get_by_test_id("tab-city").click()
    await expect(rows.first.locator("td").nth(0)).to_have_text("Wuhan")
    await expect(page.get_by_test_id("period")).to_contain_text("21 working days")
    await page.screenshot(path=str(output_dir / "reports-english.png"), full_page=True)
