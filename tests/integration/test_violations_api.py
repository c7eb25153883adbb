"""The review API (监督检查): the list with its filters and keyset pages, counts, the reach
of each role (another city's user gets 404), the moves with their roles and reasons, a unit's
explanation with a file, exports that open, the overdue job, and the audit trail behind it."""

from __future__ import annotations

import csv
import io
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from fleet.db import create_pool
from fleet.users import upsert_user
from supervision import audit_store, violation_store
from tests.integration.violation_fixtures import (
    PASSWORD,
    make_violation,
    review_users,
    unit_car,
)
from tests.integration.web_app import assert_error, login, new_client
from web import export_names
from web.jobs import platform_jobs, run_once

DAY = date(2026, 11, 30)  # a Monday
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def cars(db):
    wuhan = await unit_car(db, "420100")
    huangshi = await unit_car(db, "420200")
    await review_users(db, wuhan)
    return wuhan, huangshi


@pytest.fixture
async def three(db, cars):
    """Two Wuhan R1 alarms (two days), one Huangshi R6 warning."""
    wuhan, huangshi = cars
    first = await make_violation(db, wuhan, DAY)
    second = await make_violation(db, wuhan, DAY + timedelta(days=1), with_positions=False)
    third = await make_violation(db, huangshi, DAY, rule_id="R6", severity="warn", with_positions=False)
    return first, second, third


async def root_code(db) -> str:
    return await db.fetchval("SELECT code FROM organisations WHERE parent_id IS NULL")


@asynccontextmanager
async def as_user(app, username):
    async with new_client(app) as client:
        await login(client, username)
        yield client


async def ids(client, **params) -> list[int]:
    response = await client.get("/api/v1/violations", params=params)
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()["items"]]


async def test_list_filters_and_pages(app, client, cars, three):
    first, second, third = three
    wuhan, huangshi = cars
    await login(client, "inspector")
    assert await ids(client) == [second, third, first]  # newest day first, then id
    assert await ids(client, rule="R1") == [second, first]
    assert await ids(client, rule=["R6", "R1"], severity="warn") == [third]
    assert await ids(client, state="open") == [second, third, first]
    assert await ids(client, state="confirmed") == []
    assert await ids(client, city="420200") == [third]
    assert await ids(client, unit_id=wuhan.org_id) == [second, first]
    assert await ids(client, vehicle_id=huangshi.id) == [third]
    assert await ids(client, plate=wuhan.plate[-3:]) == [second, first]
    assert await ids(client, **{"from": DAY.isoformat(), "to": DAY.isoformat()}) == [third, first]
    assert await ids(client, q="住宅") == [second, third, first]
    assert await ids(client, q="100%_") == []
    page = (await client.get("/api/v1/violations", params={"limit": 2})).json()
    assert [i["id"] for i in page["items"]] == [second, third]
    rest = (await client.get("/api/v1/violations", params={"limit": 2, "before": page["next_before"]})).json()
    assert [i["id"] for i in rest["items"]] == [first] and rest["next_before"] is None
    item = page["items"][0]
    assert item["plate"] == wuhan.plate and item["message"]["zh"].startswith(wuhan.plate)
    assert_error(await client.get("/api/v1/violations", params={"before": "nonsense"}), 422)
    assert_error(await client.get("/api/v1/violations", params={"state": "bogus"}), 422)
    assert_error(await client.get("/api/v1/violations", params={"from": "2026-12-02", "to": "2026-12-01"}), 422)
    counts = (await client.get("/api/v1/violations/counts")).json()
    assert counts["total"] == 3 and counts["by_state"] == {"open": 3}
    assert counts["by_severity"] == {"alarm": 2, "warn": 1}
    assert [(r["rule_id"], r["total"]) for r in counts["by_rule"]] == [("R1", 2), ("R6", 1)]
    only = (await client.get("/api/v1/violations/counts", params={"city": "420100"})).json()
    assert only["total"] == 2


async def test_reach_of_each_role(app, cars, three):
    first, second, third = three
    for username, seen in (("admin", {first, second, third}), ("dispatcher", {first, second}),
                           ("unitadmin", {first, second}), ("hs_dispatcher", {third}),
                           ("hs_admin", set())):
        async with as_user(app, username) as client:
            assert set(await ids(client)) == seen, username
            for vid in {first, second, third} - seen:  # another city's: 404, not 403
                assert assert_error(await client.get(f"/api/v1/violations/{vid}"), 404)["code"] == "violation_not_found"
                assert_error(await client.post(f"/api/v1/violations/{vid}/events",
                                               json={"event": "send", "version": 1}), 404)
                assert_error(await client.get(f"/api/v1/violations/{vid}/playback"), 404)
    async with as_user(app, "requester") as client:
        assert_error(await client.get("/api/v1/violations"), 403)
        assert_error(await client.get(f"/api/v1/violations/{first}"), 403)
    async with new_client(app) as anonymous:
        assert_error(await anonymous.get("/api/v1/violations"), 401)


async def test_the_whole_review_with_an_explanation_and_its_file(app, db, cars, three):
    first = three[0]
    async with AsyncExitStack() as stack:
        inspector, unit, dispatcher = [await stack.enter_async_context(as_user(app, u))
                                       for u in ("inspector", "unitadmin", "dispatcher")]
        await _review(db, first, inspector, unit, dispatcher)


async def _review(db, first, inspector, unit, dispatcher):
    url = f"/api/v1/violations/{first}"
    detail = (await inspector.get(url)).json()
    assert detail["acting_as"] == ["inspector"] and detail["allowed_events"] == ["confirm", "dismiss", "send"]
    assert detail["evidence"][0]["bundle"]["format"] == 1
    assert [a["action"] for a in detail["audit"]] == ["detected"]
    # who may not
    assert assert_error(await dispatcher.post(f"{url}/events", json={"event": "send", "version": 1}), 403)["code"] == "forbidden"
    assert_error(await unit.post(f"{url}/events", json={"event": "confirm", "version": 1, "reason": "x"}), 403)
    assert assert_error(await inspector.post(f"{url}/events", json={"event": "confirm", "version": 1}), 422)["code"] == "reason_required"
    assert assert_error(await inspector.post(f"{url}/events", json={"event": "close", "version": 1}), 409)["code"] == "illegal_transition"
    assert_error(await inspector.post(f"{url}/events", json={"event": "explain", "version": 1, "reason": "x"}), 422)
    # send to the unit: 3 working days from today
    sent = await inspector.post(f"{url}/events", json={"event": "send", "version": 1, "reason": "请说明"})
    assert sent.status_code == 200, sent.text
    sent = sent.json()
    assert sent["state"] == "awaiting_explanation" and sent["version"] == 2
    due = date.fromisoformat(sent["explanation_due"])
    assert due > violation_store.local_today()
    assert assert_error(await inspector.post(f"{url}/events", json={"event": "dismiss", "version": 1, "reason": "x"}), 409)["code"] in ("illegal_transition", "stale_version")
    unit_view = (await unit.get(url)).json()
    assert unit_view["acting_as"] == ["unit"] and unit_view["allowed_events"] == ["explain"]
    assert first in await ids(unit, sent="true")
    # the unit uploads a file, then answers with it
    refused = await unit.post(f"{url}/attachments", files={"file": ("x.pdf", b"MZ\x90\x00", "application/pdf")})
    assert assert_error(refused, 415)["code"] == "unsupported_attachment_type"
    assert_error(await inspector.post(f"{url}/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}), 403)
    uploaded = await unit.post(f"{url}/attachments", files={"file": ("情况说明.pdf", PDF, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    assert_error(await inspector.get(f"{url}/attachments/{file_id}"), 404)  # not sent yet: the uploader's
    assert (await unit.get(f"{url}/attachments/{file_id}")).content == PDF
    stale = await unit.post(f"{url}/explanations", json={"text": "x", "version": 1})
    assert assert_error(stale, 409)["code"] == "stale_version"
    answered = await unit.post(f"{url}/explanations", json={
        "text": "当晚为防汛应急用车，已补办派车单。", "version": 2, "attachment_ids": [file_id]})
    assert answered.status_code == 201, answered.text
    answered = answered.json()
    assert answered["state"] == "under_review"
    [explanation] = answered["explanations"]
    assert explanation["kind"] == "explanation" and explanation["attachments"][0]["filename"] == "情况说明.pdf"
    got = await inspector.get(explanation["attachments"][0]["download_url"])
    assert got.content == PDF and "attachment" in got.headers["content-disposition"]
    again = await unit.post(f"{url}/explanations", json={"text": "x", "version": 3, "attachment_ids": [file_id]})
    assert_error(again, 409)  # under review: nothing for the unit to answer
    # the inspector confirms; the unit rectifies; the inspector closes
    confirmed = await inspector.post(f"{url}/events", json={"event": "confirm", "version": 3, "reason": "说明不成立"})
    assert confirmed.json()["state"] == "confirmed"
    rectified = await unit.post(f"{url}/explanations", json={"kind": "rectification", "version": 4,
                                                              "text": "已对驾驶员批评教育并扣减绩效。"})
    assert rectified.json()["state"] == "rectified"
    closed = (await inspector.post(f"{url}/events", json={"event": "close", "version": 5})).json()
    assert closed["state"] == "closed" and closed["allowed_events"] == []
    assert [(a["action"], a["to_state"]) for a in closed["audit"]] == [
        ("detected", "open"), ("send", "awaiting_explanation"), ("explain", "under_review"),
        ("confirm", "confirmed"), ("rectify", "rectified"), ("close", "closed")]
    explain_record = closed["audit"][2]
    assert explain_record["actor_name"] == "单位管理员 Unit admin"
    assert explain_record["data"]["attachments"][0]["sha256"] == explanation["attachments"][0]["sha256"]
    assert closed["audit"][1]["data"]["explanation_due"] == due.isoformat()
    result = await audit_store.verify(db)
    assert result.ok, result.problems


async def test_info_is_never_sent_and_refer(app, db, cars):
    wuhan, _ = cars
    info = await make_violation(db, wuhan, DAY, severity="info", with_positions=False)
    async with as_user(app, "inspector") as client:
        refused = await client.post(f"/api/v1/violations/{info}/events", json={"event": "send", "version": 1})
        assert assert_error(refused, 409)["code"] == "info_not_sent"
        confirmed = await client.post(f"/api/v1/violations/{info}/events",
                                      json={"event": "confirm", "version": 1, "reason": "轨迹清楚"})
        assert confirmed.json()["allowed_events"] == ["refer"]
        referred = await client.post(f"/api/v1/violations/{info}/events",
                                     json={"event": "refer", "version": 2, "reason": "移交市纪委"})
        assert referred.json()["state"] == "referred"


class LateEvening(datetime):
    """17:30 UTC: 01:30 of the next day in Wuhan."""

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001, ANN206
        return datetime(2026, 12, 1, 17, 30, tzinfo=UTC).astimezone(tz)


async def test_exports_open(app, cars, three, monkeypatch):
    monkeypatch.setattr(export_names, "datetime", LateEvening)
    async with as_user(app, "inspector") as client:
        got = await client.get("/api/v1/violations/export", params={"format": "csv", "rule": "R1"})
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        assert "filename*=UTF-8''" in got.headers["content-disposition"]
        assert "violations-20261202.csv" in got.headers["content-disposition"]  # Wuhan's day
        assert got.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
        assert rows[0][0] == "编号 (id)" and len(rows) == 3
        assert {r[2] for r in rows[1:]} == {"无派车单出车"} and {r[4] for r in rows[1:]} == {"待处理"}
        got = await client.get("/api/v1/violations/export", params={"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(got.content)).active
        values = list(sheet.values)
        assert len(values) == 4 and values[0][1] == "规则 (rule)"
        assert isinstance(values[1][0], int)
        assert_error(await client.get("/api/v1/violations/export", params={"format": "pdf"}), 422)
    async with as_user(app, "hs_dispatcher") as client:
        got = await client.get("/api/v1/violations/export", params={"format": "csv"})
        assert len(list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))) == 2


async def test_overdue_job_and_a_late_answer(app, db, seeded_db_url, cars, three):
    first, second, _ = three
    async with as_user(app, "inspector") as client:
        for vid in (first, second):
            sent = await client.post(f"/api/v1/violations/{vid}/events",
                                     json={"event": "send", "version": 1, "deadline_working_days": 1})
            assert sent.status_code == 200, sent.text
    await db.execute("UPDATE violations SET explanation_due = $1 WHERE id = $2",
                     violation_store.local_today() - timedelta(days=1), first)
    pool = await create_pool(seeded_db_url)
    try:
        [job] = [j for j in platform_jobs() if j.name == "violation_overdue"]
        assert await run_once(pool, job) == 1  # the web process's job, under its lock
        assert await violation_store.mark_overdue(pool) == 0
    finally:
        await pool.close()
    states = dict(await db.fetch("SELECT id, state FROM violations WHERE id = ANY($1::bigint[])", [first, second]))
    assert states == {first: "overdue", second: "awaiting_explanation"}
    trail = await audit_store.trail(db, f"violation:{first}")
    assert (trail[-1]["action"], trail[-1]["actor_id"]) == ("overdue", None)
    async with as_user(app, "unitadmin") as client:
        late = await client.post(f"/api/v1/violations/{first}/explanations",
                                 json={"text": "迟复：系加班送件。", "version": 3})
        assert late.json()["state"] == "under_review"
    assert (await audit_store.verify(db)).ok


async def test_playback_follows_the_stored_fixes(app, cars, three):
    first, second, _ = three
    async with as_user(app, "inspector") as client:
        play = (await client.get(f"/api/v1/violations/{first}/playback")).json()
        assert play["source"] == "positions" and len(play["points"]) > 50
        times = [p["ts_ms"] for p in play["points"]]
        assert times == sorted(times) and play["from_ms"] <= times[0] and times[-1] <= play["to_ms"]
        spread = (await client.get(f"/api/v1/violations/{second}/playback")).json()
        assert spread["source"] == "evidence" and len(spread["points"]) > 50


async def test_bad_input_on_a_real_violation(app, cars, three):
    first = three[0]
    url = f"/api/v1/violations/{first}"
    async with as_user(app, "inspector") as inspector:
        for body in ({}, {"event": "send"}, {"event": "send", "version": "x"},
                     {"event": "send", "version": 1, "deadline_working_days": 0},
                     {"event": "send", "version": 1, "deadline_working_days": 31},
                     {"event": "send", "version": 2**40}, {"event": "overdue", "version": 1},
                     {"event": "send", "version": 1, "reason": "x" * 2001},
                     {"event": "send", "version": 1, "extra": True}):
            assert_error(await inspector.post(f"{url}/events", json=body), 422)
        assert_error(await inspector.post(f"{url}/events", content=b"\x00\xff",
                                          headers={"content-type": "application/json"}), 422)
        assert_error(await inspector.get(f"{url}/attachments/99"), 404)
        assert_error(await inspector.get("/api/v1/violations/99999999"), 404)
        assert_error(await inspector.get("/api/v1/violations", params={"rule": "R" * 11}), 422)
        sent = await inspector.post(f"{url}/events", json={"event": "send", "version": 1})
        assert sent.status_code == 200
    async with as_user(app, "unitadmin") as unit:
        for body in ({"text": "", "version": 2}, {"text": "x" * 4001, "version": 2},
                     {"text": "x", "version": 2, "kind": "apology"},
                     {"text": "x", "version": 2, "attachment_ids": list(range(11))}):
            assert_error(await unit.post(f"{url}/explanations", json=body), 422)
        unknown = await unit.post(f"{url}/explanations", json={"text": "x", "version": 2, "attachment_ids": [12345]})
        assert assert_error(unknown, 422)["code"] == "unknown_attachment"
        not_multipart = await unit.post(f"{url}/attachments", json={"file": "x"})
        assert assert_error(not_multipart, 415)["code"] == "multipart_required"
        empty = await unit.post(f"{url}/attachments", files={"file": ("a.pdf", b"", "application/pdf")})
        assert_error(empty, 422)


async def test_two_inspectors_on_the_same_version_the_loser_is_told_it_is_stale(app, db, cars, three):
    first = three[0]
    await upsert_user(db, username="inspector2", display_name="稽查员二", org_code=await root_code(db),
                      roles=["inspector"], password=PASSWORD)
    async with as_user(app, "inspector") as one, as_user(app, "inspector2") as two:
        url = f"/api/v1/violations/{first}/events"
        assert (await one.get(f"/api/v1/violations/{first}")).json()["version"] == 1
        assert (await two.get(f"/api/v1/violations/{first}")).json()["version"] == 1
        sent = await one.post(url, json={"event": "send", "version": 1})
        assert sent.status_code == 200, sent.text
        lost = await two.post(url, json={"event": "confirm", "version": 1, "reason": "轨迹清楚"})
        error = assert_error(lost, 409)
        assert (error["code"], error["details"]["version"]) == ("stale_version", 2)


async def test_a_city_inspector_reads_the_province_but_acts_in_its_city(app, db, cars, three):
    first, _, third = three                       # Wuhan's, and 黄石's
    await upsert_user(db, username="hs_inspector", display_name="黄石稽查员", org_code="420200",
                      roles=["inspector"], password=PASSWORD)
    async with as_user(app, "hs_inspector") as inspector:
        assert set(await ids(inspector)) == set(three)          # reads province-wide
        wuhan = (await inspector.get(f"/api/v1/violations/{first}")).json()
        assert wuhan["acting_as"] == [] and wuhan["allowed_events"] == []
        for body in ({"event": "send", "version": 1},
                     {"event": "confirm", "version": 1, "reason": "轨迹清楚"},
                     {"event": "dismiss", "version": 1, "reason": "误报"}):
            refused = await inspector.post(f"/api/v1/violations/{first}/events", json=body)
            assert assert_error(refused, 404)["code"] == "violation_not_found"
        own = (await inspector.get(f"/api/v1/violations/{third}")).json()
        assert own["acting_as"] == ["inspector"] and "send" in own["allowed_events"]
        sent = await inspector.post(f"/api/v1/violations/{third}/events", json={"event": "send", "version": 1})
        assert sent.status_code == 200, sent.text
    state = await db.fetchval("SELECT state FROM violations WHERE id = $1", first)
    assert state == "open"
    async with as_user(app, "inspector") as province:             # the province's: everywhere
        sent = await province.post(f"/api/v1/violations/{first}/events", json={"event": "send", "version": 1})
        assert sent.status_code == 200, sent.text
