"""Attachments (附件) of a trip request over the API: upload real PDF/PNG/DOCX bytes, list,
download the same bytes with safe headers, delete (marked, kept on record); refusals by content
(an .exe renamed .pdf), by size (10 MiB + 1 byte, reading stops at the limit), by count (the
eleventh, also when two race for the tenth place), by state (after approval) and by scope
(another city's user and another unit of the same city get 404)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import zipfile
import zlib
from datetime import timedelta, timezone
from urllib.parse import quote

from dispatch.attachments import MAX_SIZE_BYTES
from fleet.users import upsert_user
from tests.integration.web_app import PASSWORD, assert_error, login, new_client
from tests.trip_dates import working_day_at

CST = timezone(timedelta(hours=8))
START = working_day_at(9)  # the next working day

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode."


def png_bytes() -> bytes:
    """A real 1×1 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def trip(**extra) -> dict:
    return {
        "trip_type": "meeting", "reason": "参加省厅会议", "passengers": ["张三"], "passenger_count": 1,
        "planned_start": START.isoformat(), "planned_end": (START + timedelta(hours=4)).isoformat(),
        "origin": {"name": "市政府", "lat": 30.5928, "lon": 114.3055, "city_code": "420100"},
        "destinations": [{"name": "洪山宾馆", "lat": 30.55, "lon": 114.33, "city_code": "420100"}],
        **extra,
    }


async def others(db) -> None:
    """outsider: a requester of a unit in 黄石; neighbour: a requester of another 武汉 unit."""
    other_city = await db.fetchval(
        "SELECT code FROM organisations WHERE kind = 'unit' AND city_code = '420200' ORDER BY id LIMIT 1")
    other_unit = await db.fetchval(
        """SELECT code FROM organisations WHERE kind = 'unit' AND city_code = '420100'
             AND id <> (SELECT org_id FROM users WHERE username = 'requester') ORDER BY id LIMIT 1""")
    await upsert_user(db, username="outsider", display_name="黄石用车人", org_code=other_city,
                      roles=["requester", "approver"], password=PASSWORD)
    await upsert_user(db, username="neighbour", display_name="邻单位用车人", org_code=other_unit,
                      roles=["requester", "approver"], password=PASSWORD)


async def draft(client) -> dict:
    created = await client.post("/api/v1/trip-requests", json=trip())
    assert created.status_code == 201, created.text
    return created.json()


def url(request_id: int, attachment_id: int | None = None) -> str:
    base = f"/api/v1/trip-requests/{request_id}/attachments"
    return base if attachment_id is None else f"{base}/{attachment_id}"


async def upload(client, request_id: int, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return await client.post(url(request_id), files={"file": (name, data, content_type)})


async def test_upload_list_download_and_delete(client, db):
    await login(client, "requester")
    r = await draft(client)
    pdf = await upload(client, r["id"], "会议通知（第1号）.pdf", PDF, "application/pdf")
    assert pdf.status_code == 201, pdf.text
    meta = pdf.json()
    assert (meta["filename"], meta["content_type"], meta["size_bytes"]) == (
        "会议通知（第1号）.pdf", "application/pdf", len(PDF))
    assert meta["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert meta["uploaded_by_name"].startswith("用车人") and meta["request_id"] == r["id"]
    assert meta["download_url"] == url(r["id"], meta["id"])
    png = await upload(client, r["id"], "../../现场照片.png", png_bytes())  # declared octet-stream
    assert png.status_code == 201, png.text
    assert (png.json()["filename"], png.json()["content_type"]) == ("现场照片.png", "image/png")
    docx = await upload(client, r["id"], "出差审批单", docx_bytes())  # no extension: added
    assert docx.json()["filename"] == "出差审批单.docx"
    assert docx.json()["content_type"].endswith("wordprocessingml.document")

    listed = (await client.get(url(r["id"]))).json()
    assert [a["filename"] for a in listed] == ["会议通知（第1号）.pdf", "现场照片.png", "出差审批单.docx"]
    assert all("data" not in a for a in listed)

    got = await client.get(url(r["id"], meta["id"]))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, no-store"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"1.pdf\"; filename*=UTF-8''" + quote("会议通知（第1号）.pdf", safe=""))
    image = await client.get(url(r["id"], png.json()["id"]))
    assert image.content == png_bytes() and image.headers["content-type"] == "image/png"

    gone = await client.delete(url(r["id"], meta["id"]))
    assert gone.status_code == 204, gone.text
    assert [a["id"] for a in (await client.get(url(r["id"]))).json()] == [png.json()["id"], docx.json()["id"]]
    assert assert_error(await client.get(url(r["id"], meta["id"])), 404)["code"] == "attachment_not_found"
    assert assert_error(await client.delete(url(r["id"], meta["id"])), 404)["code"] == "attachment_not_found"
    kept = await db.fetchrow(
        "SELECT data, deleted_at, deleted_by FROM trip_request_attachments WHERE id = $1", meta["id"])
    assert kept["data"] == PDF and kept["deleted_at"] is not None  # marked, not lost
    assert kept["deleted_by"] == await db.fetchval("SELECT id FROM users WHERE username = 'requester'")


async def test_files_are_judged_by_their_bytes_and_size(client, db):
    await login(client, "requester")
    r = await draft(client)
    exe = assert_error(await upload(client, r["id"], "会议通知.pdf", EXE, "application/pdf"), 415)
    assert exe["code"] == "unsupported_attachment_type"
    assert exe["details"]["allowed"] == ["pdf", "jpeg", "png", "docx", "xlsx"]
    html = assert_error(await upload(client, r["id"], "x.pdf", b"<html><script>alert(1)</script>", "application/pdf"), 415)
    assert html["code"] == "unsupported_attachment_type"
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert_error(await upload(client, r["id"], "a.docx", plain_zip.getvalue()), 415)
    mismatch = assert_error(await upload(client, r["id"], "photo.png", PDF, "image/png"), 415)
    assert mismatch["details"] == {"allowed": ["pdf", "jpeg", "png", "docx", "xlsx"],
                                   "detected": "pdf", "extension": ".png"}
    assert assert_error(await upload(client, r["id"], "empty.pdf", b""), 422)["code"] == "empty_attachment"

    big = assert_error(await upload(client, r["id"], "big.pdf", PDF + b"0" * (MAX_SIZE_BYTES + 1 - len(PDF))), 413)
    assert big["code"] == "attachment_too_large" and big["details"] == {"max_size_bytes": MAX_SIZE_BYTES}
    exactly = await upload(client, r["id"], "exactly.pdf", PDF + b"0" * (MAX_SIZE_BYTES - len(PDF)))
    assert exactly.status_code == 201, exactly.text
    assert exactly.json()["size_bytes"] == MAX_SIZE_BYTES

    not_multipart = await client.post(url(r["id"]), content=PDF, headers={"content-type": "application/pdf"})
    assert assert_error(not_multipart, 415)["code"] == "multipart_required"
    no_file = await client.post(url(r["id"]), data={"file": "not a file"}, files={"other": ("a.pdf", PDF)})
    assert assert_error(no_file, 422)["code"] == "invalid_upload"
    two = await client.post(url(r["id"]), files=[("file", ("a.pdf", PDF)), ("file", ("b.pdf", PDF))])
    assert assert_error(two, 422)["code"] == "invalid_upload"
    broken = await client.post(url(r["id"]), content=b"--xyz\r\nnonsense",
                               headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert assert_error(broken, 422)["code"] == "invalid_upload"
    assert await db.fetchval("SELECT count(*) FROM trip_request_attachments") == 1  # only `exactly`


async def test_reading_stops_once_the_limit_is_passed(client):
    await login(client, "requester")
    r = await draft(client)
    sent_mib = 0

    async def body():  # 50 MiB offered in 1 MiB chunks, no Content-Length
        nonlocal sent_mib
        yield (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.pdf\"\r\n"
               b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n")
        for _ in range(50):
            sent_mib += 1
            yield b"0" * (1024 * 1024)
        yield b"\r\n--B--\r\n"

    response = await client.post(url(r["id"]), content=body(),
                                 headers={"content-type": "multipart/form-data; boundary=B"})
    assert assert_error(response, 413)["code"] == "attachment_too_large"
    assert sent_mib <= 12, sent_mib  # the server stopped asking for more just past 10 MiB
    declared = await client.post(url(r["id"]), content=b"x" * 100, headers={
        "content-type": "multipart/form-data; boundary=B", "content-length": str(200 * 1024 * 1024)})
    assert assert_error(declared, 413)["code"] == "attachment_too_large"  # refused unread


async def test_at_most_ten_live_attachments_also_when_two_race(app, client):
    await login(client, "requester")
    r = await draft(client)
    ids = []
    for n in range(9):
        created = await upload(client, r["id"], f"附件{n}.pdf", PDF + str(n).encode())
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    async with new_client(app) as second:
        await login(second, "requester")
        racing = await asyncio.gather(upload(client, r["id"], "a.png", png_bytes()),
                                      upload(second, r["id"], "b.png", png_bytes()))
    assert sorted(x.status_code for x in racing) == [201, 409]
    eleventh = assert_error(await upload(client, r["id"], "c.pdf", PDF), 409)
    assert eleventh["code"] == "too_many_attachments" and eleventh["details"] == {"max": 10, "count": 10}
    assert len((await client.get(url(r["id"]))).json()) == 10
    assert (await client.delete(url(r["id"], ids[0]))).status_code == 204  # a place freed
    assert (await upload(client, r["id"], "c.pdf", PDF)).status_code == 201


async def test_only_inside_the_scope_and_only_the_applicant_changes_them(app, client, db):
    await others(db)
    await login(client, "requester")
    r = await draft(client)
    meta = (await upload(client, r["id"], "会议通知.pdf", PDF)).json()
    for username in ("outsider", "neighbour", "driver1", "rental1"):
        async with new_client(app) as stranger:
            await login(stranger, username)
            for response in (await stranger.get(url(r["id"])),
                             await stranger.get(url(r["id"], meta["id"])),
                             await upload(stranger, r["id"], "x.pdf", PDF),
                             await stranger.delete(url(r["id"], meta["id"]))):
                assert assert_error(response, 404)["code"] == "trip_request_not_found", username
    async with new_client(app) as approver, new_client(app) as dispatcher, new_client(app) as admin:
        await login(approver, "approver")
        await login(dispatcher, "dispatcher")
        await login(admin, "admin")
        for reader in (approver, dispatcher, admin):  # the request's unit, its city, the platform
            assert [a["id"] for a in (await reader.get(url(r["id"]))).json()] == [meta["id"]]
            assert (await reader.get(url(r["id"], meta["id"]))).content == PDF
        assert assert_error(await upload(approver, r["id"], "x.pdf", PDF), 403)["code"] == "forbidden"
        assert_error(await dispatcher.delete(url(r["id"], meta["id"])), 403)
        on_behalf = await upload(admin, r["id"], "补充材料.pdf", PDF)  # an administrator may help
        assert on_behalf.status_code == 201 and on_behalf.json()["uploaded_by_name"] != meta["uploaded_by_name"]
    assert await db.fetchval("SELECT count(*) FROM trip_request_attachments WHERE deleted_at IS NULL") == 2


async def test_papers_are_fixed_once_the_request_is_decided(app, client):
    await login(client, "requester")
    r = await draft(client)
    first = (await upload(client, r["id"], "会议通知.pdf", PDF)).json()
    r = (await client.post(f"/api/v1/trip-requests/{r['id']}/events",
                           json={"event": "submit", "version": r["version"]})).json()
    assert r["state"] == "pending_approval"
    second = await upload(client, r["id"], "议程.png", png_bytes())  # still under approval
    assert second.status_code == 201, second.text
    async with new_client(app) as approver:
        await login(approver, "approver")
        decided = await approver.post(f"/api/v1/trip-requests/{r['id']}/events",
                                      json={"event": "approve", "version": r["version"], "note": "同意"})
        assert decided.json()["state"] == "approved", decided.text
        assert (await approver.get(url(r["id"], first["id"]))).content == PDF  # still readable
    late = assert_error(await upload(client, r["id"], "补充.pdf", PDF), 409)
    assert late["code"] == "request_not_editable" and late["details"] == {"state": "approved"}
    assert assert_error(await client.delete(url(r["id"], first["id"])), 409)["code"] == "request_not_editable"
    assert len((await client.get(url(r["id"]))).json()) == 2


async def test_bad_ids_are_422_or_404_never_500(client):
    await login(client, "requester")
    r = await draft(client)
    for path in ("/api/v1/trip-requests/0/attachments", "/api/v1/trip-requests/abc/attachments",
                 f"/api/v1/trip-requests/{2**31}/attachments", f"{url(r['id'])}/0",
                 f"{url(r['id'])}/x", f"{url(r['id'])}/{2**40}"):
        assert assert_error(await client.get(path), 422)["code"] == "validation_error", path
    assert_error(await client.delete(f"{url(r['id'])}/-1"), 422)
    assert_error(await client.get(url(999_999)), 404)
    assert assert_error(await client.get(url(r["id"], 999_999)), 404)["code"] == "attachment_not_found"
    assert_error(await client.delete(url(r["id"], 999_999)), 404)
    assert_error(await upload(client, 999_999, "a.pdf", PDF), 404)


async def test_login_required(client):
    assert assert_error(await client.get(url(1)), 401)["code"] == "not_authenticated"
    assert_error(await upload(client, 1, "a.pdf", PDF), 401)
