"""How a capped approval chain reads in Chromium: a cross-city trip into the night needs three
levels by policy, but only the unit's approver and the city's leader may decide them, so it
gets two and says why — in Chinese with "、", in English with ", " — on the requester's page
and on the approver's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import CHROMIUM, Site, launch, log_in, new_page, seeded_site
from tests.integration.test_trip_requests_api import START, body
from tests.integration.web_app import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="module")
async def site(databases, services) -> AsyncIterator[Site]:
    async with seeded_site(databases, services, "rt") as served:
        yield served


async def _submitted_capped_request(site: Site) -> int:
    async with httpx.AsyncClient(base_url=site.base_url, timeout=20) as requester:
        login = await requester.post("/api/v1/auth/login", json={"username": "requester", "password": PASSWORD})
        assert login.status_code == 200, login.text
        created = await requester.post("/api/v1/trip-requests", json=body(
            dest_city="420700", start=START.replace(hour=19), hours=4, reason="夜间赴鄂州处置"))
        assert created.status_code == 201, created.text
        r = created.json()
        submitted = await requester.post(f"/api/v1/trip-requests/{r['id']}/events",
                                         json={"event": "submit", "version": r["version"]})
        r = submitted.json()
    assert (r["approval_levels"], r["approval_reasons"]) == (2, ["cross_city", "night", "chain_capped"])
    return r["id"]


async def test_a_capped_chain_says_why_in_both_languages(site: Site, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    request_id = await _submitted_capped_request(site)
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await new_page(browser, errors)
            await log_in(page, site.base_url, "requester", landing="/requests")
            item = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
            levels = item.get_by_test_id("request-levels")
            await expect(levels).to_have_text(
                "审批 0/2 级 · 加级原因：跨市、夜间 · 审批人不足，级数已按可审批人数调整")
            await item.get_by_test_id("request-toggle").click()
            timeline = item.get_by_test_id("request-timeline")
            await expect(timeline).to_contain_text("加级原因：跨市、夜间 · 审批人不足")
            await page.screenshot(path=str(output_dir / "requests-chain-capped.png"))
            await page.get_by_test_id("lang-toggle").click()
            await expect(levels).to_have_text(
                "Approval 0/2 · Extra levels: cross-city, night · Levels capped: not enough approvers")
            await expect(timeline).to_contain_text("Extra levels: cross-city, night · Levels capped")
            await page.screenshot(path=str(output_dir / "requests-chain-capped-en.png"))
            await page.get_by_test_id("lang-toggle").click()  # back to Chinese for the next person
            await page.context.close()

            page = await new_page(browser, errors)
            await log_in(page, site.base_url, "approver", landing="/approvals")
            item = page.locator(f"[data-testid=approval-item][data-request-id='{request_id}']")
            await expect(item).to_contain_text("跨市、夜间、审批人不足，级数已按可审批人数调整")
            await page.get_by_test_id("lang-toggle").click()
            await expect(item).to_contain_text("cross-city, night, Levels capped: not enough approvers")
            await item.click()
            await expect(page.get_by_test_id("approval-detail")).to_contain_text("Levels capped")
            await page.screenshot(path=str(output_dir / "approvals-chain-capped-en.png"))
            await page.get_by_test_id("lang-toggle").click()
            await page.context.close()
        finally:
            await browser.close()
    assert errors == []
