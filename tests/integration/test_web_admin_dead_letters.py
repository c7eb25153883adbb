"""Dead letters for admins: counts per reason since a time, each reason's kind (a contract
violation, a filter's refusal, a storage failure), and the admin page."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.web_app import assert_error, login


async def add_letters(db) -> None:
    await db.execute(
        """INSERT INTO dead_letters (received_at, topic, payload, reason, detail, device_uid)
           VALUES (now() - interval '10 days', 't', 'old', 'bad_json', '', 'a'),
                  (now() - interval '2 hours', 't', '{"lat":0,"lon":0}', 'zero_coordinates', '', 'a'),
                  (now() - interval '2 hours', 't', '{"lat":0,"lon":0}', 'zero_coordinates', '', 'a'),
                  (now() - interval '30 minutes', 't', '\\xc3'::bytea, 'bad_json', '', 'b'),
                  (now() - interval '5 minutes', 't', 'x', 'store_error', '', NULL),
                  (now() - interval '1 minute', 't', 'y', 'something_new', '', 'c')"""
    )


async def test_counts_by_reason_since_a_time_with_their_kind(client, db):
    await add_letters(db)
    await login(client, "admin")
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    recent = (await client.get("/api/v1/admin/dead-letters", params={"since": since})).json()
    kinds = {c["reason"]: (c["kind"], c["count"]) for c in recent["counts"]}
    assert kinds == {
        "bad_json": ("contract", 1),
        "store_error": ("store", 1),
        "something_new": ("other", 1),
    }
    assert recent["total"] == 3
    assert datetime.fromisoformat(recent["counts_since"]) == datetime.fromisoformat(since)

    day = (await client.get("/api/v1/admin/dead-letters?hours=24")).json()
    by_reason = {c["reason"]: c for c in day["counts"]}
    assert by_reason["zero_coordinates"]["kind"] == "filter"
    assert by_reason["zero_coordinates"]["count"] == 2
    assert day["total"] == 5
    month = (await client.get("/api/v1/admin/dead-letters?hours=720")).json()
    assert month["total"] == 6 and len(month["items"]) == 6

    undecodable = next(i for i in month["items"] if i["device_uid"] == "b")
    assert undecodable["payload_text"] is None
    assert base64.b64decode(undecodable["payload_base64"]) == b"\xc3"


@pytest.mark.parametrize(
    "since", ["2026-11-20T10:00:00", "1999-12-31T23:00:00+08:00", "soon", "9999-01-01T00:00:00Z"]
)
async def test_a_bad_since_is_422(client, since):
    await login(client, "admin")
    response = await client.get("/api/v1/admin/dead-letters", params={"since": since})
    assert_error(response, 422)


async def test_the_admin_page_is_for_admins(client):
    assert (await client.get("/admin/dead-letters")).headers["location"] == "/login"
    await login(client, "dispatcher")
    assert (await client.get("/admin/dead-letters")).headers["location"] == "/console"
    await login(client, "admin")
    page = await client.get("/admin/dead-letters")
    assert page.status_code == 200
    assert 'data-testid="dl-counts"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert (await client.get("/static/js/admin_dead_letters.js")).status_code == 200
