"""Admins see every dead letter with its raw bytes and reason; nobody else does."""

from __future__ import annotations

import base64

from tests.integration.web_app import assert_error, login


async def test_admins_page_through_dead_letters_with_raw_payloads(client, db):
    await db.execute(
        """INSERT INTO dead_letters (received_at, topic, payload, reason, detail, device_uid)
           SELECT now() - make_interval(secs => n), 'fleet/v1/devices/x/telemetry',
                  CASE WHEN n = 1 THEN '\\xff00fe'::bytea ELSE convert_to('{"n": ' || n || '}', 'UTF8') END,
                  CASE WHEN n % 2 = 0 THEN 'bad_json' ELSE 'missing_field' END, 'detail ' || n, 'x'
           FROM generate_series(1, 5) AS n"""
    )
    await login(client, "admin")
    first = (await client.get("/api/v1/admin/dead-letters?limit=3")).json()
    assert len(first["items"]) == 3 and first["next_before_id"] is not None
    second = (await client.get(f"/api/v1/admin/dead-letters?limit=3&before_id={first['next_before_id']}")).json()
    assert len(second["items"]) == 2 and second["next_before_id"] is None
    everything = first["items"] + second["items"]
    assert len({item["id"] for item in everything}) == 5
    binary = next(item for item in everything if item["detail"] == "detail 1")
    assert binary["payload_text"] is None
    assert base64.b64decode(binary["payload_base64"]) == b"\xff\x00\xfe"
    text = next(item for item in everything if item["detail"] == "detail 2")
    assert text["payload_text"] == '{"n": 2}'
    counts = {c["reason"]: c["count"] for c in first["counts"]}
    assert counts == {"bad_json": 2, "missing_field": 3}
    only = (await client.get("/api/v1/admin/dead-letters?reason=bad_json")).json()
    assert {item["reason"] for item in only["items"]} == {"bad_json"}


async def test_dead_letters_are_for_admins_only(client):
    assert_error(await client.get("/api/v1/admin/dead-letters"), 401)
    await login(client, "dispatcher")
    assert_error(await client.get("/api/v1/admin/dead-letters"), 403)
    await login(client, "admin")
    assert_error(await client.get("/api/v1/admin/dead-letters?reason=DROP%20TABLE"), 422)
