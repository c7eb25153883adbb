"""Attachments (附件) in Debian's Chromium: the requester chooses a 会议通知 PDF, an .exe renamed
.pdf and a file over 10 MB while filing; the page refuses the big one at once, the server the
.exe (the request stays a draft, each file shows its result); without the .exe the request is
submitted with its PDF. In 我的申请 the requester adds a PNG and deletes it again. The unit's
approver sees the PDF in the request's detail and downloads it: the same bytes, the user's name.
Screenshots: test-output/attachments-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fleet.db import connect
from tests.e2e.browser import (
    CHROMIUM,
    PHONE,
    Site,
    launch,
    log_in,
    new_page,
    seeded_site,
)
from tests.e2e.test_requests_browser import trip_day
from tests.integration.test_attachments_api import EXE, PDF, png_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

NOTICE = "关于召开全市公务用车管理工作会议的通知.pdf"


@pytest.fixture(scope="module")
async def site(databases, services) -> AsyncIterator[Site]:
    async with seeded_site(databases, services, "att") as served:
        yield served


def upload(name: str, data: bytes, mime: str = "application/pdf") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


async def test_requester_attaches_approver_downloads(site: Site, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            request_id = await _file_with_attachments(browser, site, output_dir, expect, errors)
            await _manage_in_my_requests(browser, site, request_id, output_dir, expect, errors)
            await _approver_downloads(browser, site, request_id, output_dir, expect, errors)
        finally:
            await browser.close()
    # The .exe's refusal is the only failed request the browser logs.
    assert errors == ["console: Failed to load resource: the server responded with a status of "
                      "415 (Unsupported Media Type)"], errors
    db = await connect(site.database_url)
    try:
        rows = await db.fetch(
            """SELECT filename, data, deleted_at IS NOT NULL AS deleted FROM trip_request_attachments
               WHERE request_id = $1 ORDER BY id""", request_id)
    finally:
        await db.close()
    assert [(r["filename"], r["deleted"]) for r in rows] == [(NOTICE, False), ("议程.png", True)]
    assert rows[0]["data"] == PDF


async def _file_with_attachments(browser, site: Site, output_dir: Path, expect, errors) -> int:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "requester", landing="/requests")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    form = page.get_by_test_id("request-form")
    await form.get_by_test_id("rf-trip-type").select_option("meeting")
    await form.get_by_test_id("rf-reason").fill("参加全市公务用车管理工作会议")
    day = trip_day().isoformat()
    await form.get_by_test_id("rf-start").fill(f"{day}T09:00")
    await form.get_by_test_id("rf-end").fill(f"{day}T12:00")
    await form.get_by_test_id("rf-place-search").fill("汉口站")
    await form.locator("[data-testid=place-option][data-code=PL-420100-HKSTN]").click()
    await form.get_by_test_id("rf-place-search").fill("洪山宾馆")
    await form.locator("[data-testid=place-option][data-code=PL-420100-HONGSHAN]").click()

    await form.get_by_test_id("rf-files").set_input_files([
        upload(NOTICE, PDF),
        upload("安装程序.pdf", EXE),
        upload("扫描件.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)),
    ])
    rows = form.get_by_test_id("file-status")
    await expect(rows).to_have_count(3)
    big = form.locator("[data-testid=file-status][data-name='扫描件.pdf']")
    await expect(big).to_have_attribute("data-status", "refused")  # refused by the page, not sent
    await expect(big.get_by_test_id("file-reason")).to_have_text("文件超过 10 MB")
    await expect(form.locator("[data-testid=file-status][data-name='安装程序.pdf']")).to_have_attribute(
        "data-status", "waiting")
    await form.get_by_test_id("rf-submit").click()
    outcome = form.get_by_test_id("rf-outcome")
    await expect(outcome).to_contain_text("请先移除无法上传的附件")  # nothing sent yet
    await big.get_by_test_id("file-remove").click()
    await expect(rows).to_have_count(2)

    await form.get_by_test_id("rf-submit").click()
    await expect(outcome).to_have_attribute("data-code", "attachment_refused")
    await expect(outcome).to_contain_text("仍为草稿")
    exe = form.locator("[data-testid=file-status][data-name='安装程序.pdf']")
    await expect(exe).to_have_attribute("data-status", "refused")
    await expect(exe).to_have_attribute("data-code", "unsupported_attachment_type")
    await expect(exe.get_by_test_id("file-reason")).to_contain_text("不支持的文件类型")
    notice = form.locator(f"[data-testid=file-status][data-name='{NOTICE}']")
    await expect(notice).to_have_attribute("data-status", "uploaded")
    await expect(notice).to_contain_text("已上传")
    await expect(page.get_by_test_id("request-item").get_by_test_id("request-state")).to_have_text("草稿")
    await form.get_by_test_id("rf-files").scroll_into_view_if_needed()
    await page.screenshot(path=str(output_dir / "attachments-form-refused.png"))

    await exe.get_by_test_id("file-remove").click()
    await form.get_by_test_id("rf-submit").click()  # the same draft, its PDF already uploaded
    await expect(outcome).to_have_attribute("data-state", "pending")
    await expect(outcome).to_have_attribute("data-attachments", "1")
    await expect(outcome).to_contain_text(f"已上传附件：{NOTICE}")
    await expect(rows).to_have_count(0)  # the form is cleared for the next request
    await page.screenshot(path=str(output_dir / "attachments-form-submitted.png"))
    request_id = int(await outcome.get_attribute("data-request-id"))
    await page.context.close()
    return request_id


async def _manage_in_my_requests(browser, site: Site, request_id: int, output_dir: Path, expect, errors) -> None:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "requester", landing="/requests")
    item = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
    await expect(item.get_by_test_id("request-state")).to_have_text("待审批")
    await item.get_by_test_id("request-toggle").click()
    attachments = item.get_by_test_id("request-attachments")
    await expect(attachments.get_by_test_id("attachment-item")).to_have_count(1)
    await expect(attachments.get_by_test_id("attachment-download")).to_have_text(NOTICE)
    await attachments.get_by_test_id("attachment-add").set_input_files([upload("议程.png", png_bytes(), "image/png")])
    await expect(attachments.get_by_test_id("attachment-item")).to_have_count(2)
    await expect(attachments.locator("[data-testid=file-status][data-status=uploaded]")).to_contain_text("议程.png")
    await page.screenshot(path=str(output_dir / "attachments-my-requests.png"))
    agenda = attachments.locator("[data-testid=attachment-item][data-filename='议程.png']")
    await agenda.get_by_test_id("attachment-delete").click()
    await expect(agenda.get_by_test_id("attachment-delete")).to_have_text("确认删除？")
    await agenda.get_by_test_id("attachment-delete").click()
    await expect(attachments.get_by_test_id("attachment-item")).to_have_count(1)
    await expect(item.get_by_test_id("request-message")).to_contain_text("已删除附件 议程.png")
    await expect(attachments.get_by_test_id("file-status")).to_have_count(0)  # its "uploaded" line too

    await page.get_by_test_id("lang-toggle").click()
    await expect(attachments.locator("h3")).to_have_text("Attachments (1)")
    await expect(attachments.get_by_test_id("attachment-add")).to_be_attached()
    await expect(page.get_by_test_id("rf-attachments")).to_contain_text("Choose files")
    await page.screenshot(path=str(output_dir / "attachments-my-requests-en.png"))
    await page.get_by_test_id("lang-toggle").click()
    await page.context.close()


async def _approver_downloads(browser, site: Site, request_id: int, output_dir: Path, expect, errors) -> None:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "approver", landing="/approvals")
    await page.locator(f"[data-testid=approval-item][data-request-id='{request_id}']").click()
    detail = page.get_by_test_id("approval-detail")
    box = detail.get_by_test_id("approval-attachments")
    await expect(box).to_have_attribute("data-loaded", "true")
    await expect(box.get_by_test_id("attachment-item")).to_have_count(1)
    await expect(box.get_by_test_id("attachment-delete")).to_have_count(0)  # the approver only reads
    link = box.get_by_test_id("attachment-download")
    await expect(link).to_have_text(NOTICE)
    await page.screenshot(path=str(output_dir / "attachments-approver.png"))
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == NOTICE
    assert Path(await download.path()).read_bytes() == PDF
    await detail.get_by_test_id("approval-approve").click()
    await expect(detail.get_by_test_id("approval-message")).to_have_attribute("data-state", "done")
    await expect(box.get_by_test_id("attachment-item")).to_have_count(1)  # still there to read
    await page.context.close()

    page = await new_page(browser, errors, viewport=PHONE, mobile=True)
    await log_in(page, site.base_url, "approver", landing="/approvals")
    await page.locator(f"[data-testid=decided-item][data-request-id='{request_id}']").click()
    await expect(page.get_by_test_id("approval-attachments").get_by_test_id("attachment-item")).to_have_count(1)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # a long Chinese file name wraps, nothing sticks out
    await page.get_by_test_id("approval-attachments").scroll_into_view_if_needed()
    await page.screenshot(path=str(output_dir / "attachments-approver-phone.png"))
    await page.context.close()
