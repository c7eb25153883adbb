"""监督举报: the public form's API without login — its abuse guards (form token age and reuse,
honeypot, rate limit, size) and the match of a report against the named car's track, which
lands in the inspectors' queue as a PUBLIC violation while the citizen only hears "received"."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from supervision import audit_store
from supervision.public_match import normalise_plate
from tests.integration.violation_fixtures import LOCAL, night_trip, store_positions, unit_car
from tests.integration.web_app import assert_error, login

URL = "/api/v1/public/reports"


def aged_token(settings, age_s: float, nonce: str | None = None) -> str:
    """A form token signed `age_s` ago (what a browser holds after that long)."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_s)

    serializer = URLSafeTimedSerializer(settings.secret_key.get_secret_value(),
                                        salt="public-report-form", signer=Then)
    return serializer.dumps({"n": nonce or f"test-{time.time_ns()}"})


def report(settings, **extra) -> dict:
    body = {"token": aged_token(settings, 10), "plate": "鄂A·00000",
            "seen_at": datetime.now(LOCAL).replace(microsecond=0).isoformat(),
            "place": "光谷广场", "description": "一辆公车晚上停在小区门口。", "contact": "", "website": ""}
    return {**body, **extra}


async def test_page_and_token_need_no_login(client, settings):
    page = await client.get("/report")
    assert page.status_code == 200 and "report.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    token = (await client.get("/api/v1/public/report-token")).json()
    assert token["min_age_s"] == 3 and token["max_age_s"] == 7200
    too_fast = await client.post(URL, json=report(settings, token=token["token"]))
    assert assert_error(too_fast, 422)["code"] == "too_fast"
    assert (await client.get("/api/v1/public/map-config")).json()["tile_url"]


async def test_token_is_good_once_and_for_two_hours(client, db, settings):
    body = report(settings)
    first = await client.post(URL, json=body)
    assert first.status_code == 202 and first.json() == {"status": "received"}
    assert assert_error(await client.post(URL, json=body), 409)["code"] == "form_used"
    old = report(settings, token=aged_token(settings, 2 * 3600 + 5))
    assert assert_error(await client.post(URL, json=old), 422)["code"] == "form_expired"
    forged = report(settings, token=aged_token(settings, 10)[:-3] + "abc")
    assert assert_error(await client.post(URL, json=forged), 422)["code"] == "bad_form_token"
    assert await db.fetchval("SELECT count(*) FROM public_reports") == 1


async def test_honeypot_is_received_and_dropped(client, db, settings):
    got = await client.post(URL, json=report(settings, website="http://spam.example"))
    assert got.status_code == 202 and got.json() == {"status": "received"}
    assert await db.fetchval("SELECT count(*) FROM public_reports") == 0


async def test_rate_limit_per_client(client, settings):
    for _ in range(5):
        assert (await client.post(URL, json=report(settings))).status_code == 202
    sixth = await client.post(URL, json=report(settings))
    assert assert_error(sixth, 429)["code"] == "too_many_reports"
    assert int(sixth.headers["retry-after"]) > 0
    # bad input counts too: a flood of junk is throttled the same way
    assert_error(await client.post(URL, content=b"{}", headers={"content-type": "application/json"}), 429)


async def test_a_citizen_who_fixes_mistakes_is_not_throttled_but_a_flood_is(client, settings):
    """Submissions refused by validation do not count toward the 5 reports an hour; every
    attempt counts toward the flood limit (30 an hour)."""
    for _ in range(10):                              # a form sent back ten times with mistakes
        assert_error(await client.post(URL, json=report(settings, place="", lat=None)), 422)
    assert_error(await client.post(URL, json=report(settings, token="x" * 40)), 422)
    accepted = await client.post(URL, json=report(settings))
    assert accepted.status_code == 202, accepted.text
    for _ in range(18):                              # 30 attempts so far
        assert_error(await client.post(URL, content=b"{}", headers={"content-type": "application/json"}), 422)
    flooded = await client.post(URL, json=report(settings))
    assert assert_error(flooded, 429)["code"] == "too_many_reports"
    assert int(flooded.headers["retry-after"]) > 0


async def test_bad_input_and_size(client, settings):
    assert_error(await client.post(URL, json=report(settings, seen_at="2020-01-01T00:00:00+08:00")), 422)
    assert_error(await client.post(URL, json=report(settings, place="", lat=None)), 422)
    assert_error(await client.post(URL, json=report(settings, lat=30.5)), 422)
    big = report(settings, description="很" * 9000)
    assert assert_error(await client.post(URL, json=big), 413)["code"] == "payload_too_large"
    assert_error(await client.post(URL, content=b"not json", headers={"content-type": "application/json"}), 422)


async def test_report_matched_against_the_track(app, client, db, settings):
    car = await unit_car(db, "420100")
    day = datetime.now(LOCAL).date() - timedelta(days=1)
    fixes = night_trip(day)
    await store_positions(db, car, fixes)
    arrival = [f for f in fixes if f[4]][-1]  # seen as it pulled up at the compound
    goal_ts, goal_lat, goal_lon = arrival[0], arrival[1], arrival[2]
    near = report(settings, plate=car.plate.replace("·", "").lower(), seen_at=goal_ts.isoformat(),
                  lat=goal_lat + 0.001, lon=goal_lon, place="", contact="13800000000")
    got = await client.post(URL, json=near)
    assert got.status_code == 202 and got.json() == {"status": "received"}  # nothing more
    row = await db.fetchrow("SELECT * FROM public_reports ORDER BY id DESC LIMIT 1")
    assert row["state"] == "matched" and row["vehicle_id"] == car.id
    assert row["match"]["verdict"] == "near" and row["match"]["nearest_m"] < 200
    assert row["client_key"] and "127.0.0.1" not in row["client_key"]
    violation = await db.fetchrow("SELECT * FROM violations WHERE id = $1", row["violation_id"])
    assert (violation["rule_id"], violation["severity"], violation["state"]) == ("PUBLIC", "warn", "open")
    assert violation["org_id"] == car.org_id and violation["local_day"] == day
    bundle = await db.fetchval("SELECT bundle FROM violation_evidence WHERE violation_id = $1 AND revision = 1",
                               violation["id"])
    assert bundle["format"] == 1 and bundle["report"]["contact"] == "13800000000"
    assert len(bundle["track"]["coordinates"]) > 20 and len(bundle["points"]) == 2
    far = report(settings, plate=car.plate, seen_at=goal_ts.isoformat(), lat=30.30, lon=114.10, place="")
    await client.post(URL, json=far)
    assert (await db.fetchval("SELECT match->>'verdict' FROM public_reports ORDER BY id DESC LIMIT 1")) == "far"
    when = (datetime.now(LOCAL) - timedelta(days=3)).isoformat()
    quiet = report(settings, plate=car.plate, seen_at=when, place="江汉路")
    await client.post(URL, json=quiet)
    assert (await db.fetchval("SELECT match->>'verdict' FROM public_reports ORDER BY id DESC LIMIT 1")) == "no_data"
    # the inspector sees it in the queue, with the evidence; the audit chain holds
    await login(client, "inspector")
    listed = (await client.get("/api/v1/violations", params={"rule": "PUBLIC"})).json()["items"]
    assert len(listed) == 3 and all(i["plate"] == car.plate for i in listed)
    detail = (await client.get(f"/api/v1/violations/{violation['id']}")).json()
    assert detail["evidence"][0]["bundle"]["match"]["verdict"] == "near"
    assert (await audit_store.verify(db)).ok
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE subject LIKE 'public_report:%'") == 3


async def test_unknown_and_unmarked_plates(client, db, settings):
    await client.post(URL, json=report(settings, plate="鄂Z·99999"))
    row = await db.fetchrow("SELECT * FROM public_reports ORDER BY id DESC LIMIT 1")
    assert row["state"] == "unmatched" and row["vehicle_id"] is None
    root = await db.fetchval("SELECT id FROM organisations WHERE parent_id IS NULL")
    assert await db.fetchval("SELECT org_id FROM violations WHERE id = $1", row["violation_id"]) == root
    exempt = await db.fetchrow("SELECT id, plate FROM vehicles ORDER BY id LIMIT 1")
    await db.execute("UPDATE vehicles SET marking = 'exempt' WHERE id = $1", exempt["id"])
    await client.post(URL, json=report(settings, plate=exempt["plate"]))
    row = await db.fetchrow("SELECT * FROM public_reports ORDER BY id DESC LIMIT 1")
    assert (row["state"], row["vehicle_id"], row["match"]["reason"]) == ("unmatched", None, "unmarked car")


def test_plates_normalise() -> None:
    assert normalise_plate("鄂a 12345") == normalise_plate("鄂A·12345") == "鄂A12345"
