"""The review (监督检查) in Debian's Chromium — the acceptance test of issue #5's inspectors.

A unit's car left its lot at 21:10 yesterday without an order and drove to a residential
compound: its fixes are stored and the violation (R1, ALARM) carries the evidence bundle of the
design. The inspector opens it on /inspections, plays its evidence (the time slider moves the
car along the track), and sends it to the unit for an explanation; the unit's org admin answers
on /explanations with a PDF; the inspector confirms it with a reason; the filtered list
downloads as CSV and XLSX. A citizen's report on /report lands in the inspector's queue.
Screenshots: test-output/inspections-*.png, explanations-*.png, report-*.png."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fleet.db import connect
from tests.e2e.browser import CHROMIUM, Site, launch, log_in, new_page, seeded_site
from tests.integration.test_violations_api import PDF
from tests.integration.violation_fixtures import LOCAL, make_violation, review_users, unit_car

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


async def shot(page, output_dir: Path, name: str) -> None:
    """A full-page screenshot from the top (the sticky top bar would sit where it scrolled)."""
    await page.evaluate("() => { window.scrollTo(0, 0); document.body.scrollTo(0, 0); }")
    await page.screenshot(path=str(output_dir / name), full_page=True)


@dataclass(frozen=True)
class Case:
    site: Site
    violation_id: int
    plate: str


@pytest.fixture(scope="module")
async def case(databases, services) -> AsyncIterator[Case]:
    async with seeded_site(databases, services, "insp") as site:
        db = await connect(site.database_url)
        try:
            car = await unit_car(db)
            await review_users(db, car)
            yesterday = datetime.now(LOCAL).date() - timedelta(days=1)
            violation_id = await make_violation(db, car, yesterday)
        finally:
            await db.close()
        yield Case(site, violation_id, car.plate)


async def test_inspector_plays_sends_unit_answers_inspector_confirms_exports(case: Case, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            inspector = await new_page(browser, errors)
            await log_in(inspector, case.site.base_url, "inspector")
            await _open_and_play(inspector, case, output_dir, expect)
            await _send_to_unit(inspector, case, output_dir, expect)
            unit = await new_page(browser, errors)
            await log_in(unit, case.site.base_url, "unitadmin")
            await _unit_answers(unit, case, output_dir, expect)
            await _confirm(inspector, case, output_dir, expect)
            await _export(inspector, output_dir, expect)
        finally:
            await browser.close()
    assert errors == [], errors


async def _open_and_play(page, case: Case, output_dir: Path, expect) -> None:
    await page.goto(case.site.base_url + "/inspections")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    item = page.locator(f'[data-testid="violation-item"][data-violation-id="{case.violation_id}"]')
    await expect(item).to_be_visible()
    await expect(page.get_by_test_id("count-row")).to_have_count(1)
    await shot(page, output_dir, "inspections-list.png")
    await item.click()
    detail = page.get_by_test_id("violation-detail")
    await expect(detail).to_have_attribute("data-violation-id", str(case.violation_id))
    await expect(page.get_by_test_id("violation-title")).to_contain_text("R1")
    evidence = page.get_by_test_id("evidence-map")
    await expect(evidence).to_have_attribute("data-triggers", "3")
    await expect(evidence).to_have_attribute("data-zones", "2")
    await expect(page.locator(".vd-map path.leaflet-interactive").first).to_be_visible()
    slider = page.get_by_test_id("evidence-slider")
    start = (await evidence.get_attribute("data-marker-lat"), await evidence.get_attribute("data-marker-lon"))
    # drag the time slider to the middle of the window: the car moves along the track
    await slider.evaluate("""(s) => {
        s.value = String((Number(s.min) + Number(s.max)) / 2);
        s.dispatchEvent(new Event('input', { bubbles: true }));
    }""")
    middle = (await evidence.get_attribute("data-marker-lat"), await evidence.get_attribute("data-marker-lon"))
    assert middle != start, (start, middle)
    assert float(middle[1]) > float(start[1])  # driving east, towards the compound
    await expect(page.get_by_test_id("evidence-time")).to_contain_text("21:")
    await shot(page, output_dir, "inspections-evidence.png")
    # and play: the time runs on by itself
    player = page.get_by_test_id("evidence-player")
    before = int(await player.get_attribute("data-time"))
    await page.get_by_test_id("evidence-play").click()
    await expect(player).to_have_attribute("data-playing", "true")
    await page.wait_for_function(
        "(t) => Number(document.querySelector('[data-testid=evidence-player]').dataset.time) > t",
        arg=before + 60000)
    await page.get_by_test_id("evidence-play").click()
    await expect(player).to_have_attribute("data-playing", "false")


async def _send_to_unit(page, case: Case, output_dir: Path, expect) -> None:
    await page.get_by_test_id("review-reason").fill("请说明当晚 21:10 出车事由，并提供派车审批材料")
    await page.get_by_test_id("review-deadline").fill("3")
    await page.get_by_test_id("review-send").click()
    detail = page.get_by_test_id("violation-detail")
    await expect(detail).to_have_attribute("data-state", "awaiting_explanation")
    await expect(page.get_by_test_id("review-message")).to_be_visible()
    await expect(page.locator('[data-testid="audit-entry"][data-action="send"]')).to_have_count(1)
    await shot(page, output_dir, "inspections-sent.png")


async def _unit_answers(page, case: Case, output_dir: Path, expect) -> None:
    await page.goto(case.site.base_url + "/explanations")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    item = page.locator(f'[data-testid="violation-item"][data-violation-id="{case.violation_id}"]')
    await expect(item.get_by_test_id("violation-due")).to_be_visible()
    await item.click()
    await expect(page.get_by_test_id("evidence-map")).to_have_attribute("data-triggers", "3")
    await expect(page.get_by_test_id("review-send")).to_have_count(0)  # the unit does not decide
    await page.get_by_test_id("explain-text").fill("当晚为防汛应急送文件至光谷片区，已补办派车单，见附件。")
    await page.get_by_test_id("explain-files").set_input_files(
        {"name": "防汛应急用车说明.pdf", "mimeType": "application/pdf", "buffer": PDF})
    await expect(page.locator('[data-testid="file-status"][data-status="uploaded"]')).to_have_count(1)
    await shot(page, output_dir, "explanations-answer.png")
    await page.get_by_test_id("explain-submit").click()
    await expect(page.get_by_test_id("violation-detail")).to_have_attribute("data-state", "under_review")
    await expect(page.get_by_test_id("explanation")).to_have_count(1)
    await expect(page.get_by_test_id("attachment-download")).to_have_text("防汛应急用车说明.pdf")
    await shot(page, output_dir, "explanations-answered.png")


async def _confirm(page, case: Case, output_dir: Path, expect) -> None:
    await page.goto(f"{case.site.base_url}/inspections#{case.violation_id}")
    await page.reload()  # the same address: a fresh page opens the violation from its #id
    detail = page.get_by_test_id("violation-detail")
    await expect(detail).to_have_attribute("data-state", "under_review")
    await expect(page.get_by_test_id("explanation")).to_contain_text("防汛应急")
    await page.get_by_test_id("review-confirm").click()  # without a reason: refused on the page
    await expect(page.get_by_test_id("review-error")).to_be_visible()
    await page.get_by_test_id("review-reason").fill("说明不成立：派车单为事后补办，目的地为住宅小区")
    await page.get_by_test_id("review-confirm").click()
    await expect(detail).to_have_attribute("data-state", "confirmed")
    await expect(page.locator('[data-testid="audit-entry"]')).to_have_count(4)
    item = page.locator(f'[data-testid="violation-item"][data-violation-id="{case.violation_id}"]')
    await expect(item.get_by_test_id("violation-state")).to_have_attribute("data-state", "confirmed")
    await shot(page, output_dir, "inspections-confirmed.png")


async def _export(page, output_dir: Path, expect) -> None:
    await page.get_by_test_id("filter-rule").select_option("R1")
    await page.get_by_test_id("filter-apply").click()
    await expect(page.get_by_test_id("violation-item")).to_have_count(1)
    async with page.expect_download() as info:
        await page.get_by_test_id("export-csv").click()
    download = await info.value
    target = output_dir / "inspections-export.csv"
    await download.save_as(str(target))
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert download.suggested_filename.endswith(".csv")
    assert rows[0][0] == "编号 (id)" and len(rows) == 2 and rows[1][4] == "已认定"
    async with page.expect_download() as info:
        await page.get_by_test_id("export-xlsx").click()
    download = await info.value
    target = output_dir / "inspections-export.xlsx"
    await download.save_as(str(target))
    values = list(load_workbook(target).active.values)
    assert len(values) == 2 and values[1][2] == "无派车单出车"
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("filter-apply")).to_have_text("Search")
    await shot(page, output_dir, "inspections-english.png")
    await page.get_by_test_id("lang-toggle").click()


async def test_public_report_lands_in_the_queue(case: Case, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            citizen = await new_page(browser, errors)
            await citizen.goto(case.site.base_url + "/report")  # no login
            await expect(citizen.locator("body")).to_have_attribute("data-ready", "true")
            await citizen.get_by_test_id("report-plate").fill(case.plate)
            await citizen.get_by_test_id("report-place").fill("光谷某小区东门")
            map_box = citizen.get_by_test_id("report-map")
            await map_box.click(position={"x": 200, "y": 120})
            await expect(citizen.get_by_test_id("report-map-clear")).to_be_visible()
            await citizen.get_by_test_id("report-description").fill("晚上九点半看到这辆公车停在小区门口，司机进了小区。")
            await shot(citizen, output_dir, "report-form.png")
            # the form token must be 3 s old: a person takes longer than that to fill it in
            await citizen.wait_for_timeout(3200)
            await citizen.get_by_test_id("report-submit").click()
            await expect(citizen.get_by_test_id("report-done")).to_be_visible()
            await shot(citizen, output_dir, "report-received.png")
            inspector = await new_page(browser, errors)
            await log_in(inspector, case.site.base_url, "inspector")
            await inspector.goto(case.site.base_url + "/inspections")
            await inspector.get_by_test_id("filter-rule").select_option("PUBLIC")
            await inspector.get_by_test_id("filter-apply").click()
            item = inspector.locator('[data-testid="violation-item"][data-rule="PUBLIC"]')
            await expect(item).to_have_count(1)
            await item.click()
            await expect(inspector.get_by_test_id("public-report")).to_contain_text("司机进了小区")
            await shot(inspector, output_dir, "inspections-public-report.png")
        finally:
            await browser.close()
    assert errors == [], errors
