"""The web API against a seeded database and a real Redis (in-process app, httpx ASGI transport)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from redis.asyncio import Redis

from tests.integration.web_app import PASSWORD, assert_error, login, make_settings, new_client
from web.app import create_app
from web.tracks import TrackWindowError, resolve_window
from web.vehicle_state import derive_status, offline_after_s

WUHAN = "420100"


def state(vehicle_id: int, *, lat=30.6, lon=114.3, speed_kmh=40.0, acc=True, age_s=5) -> dict:
    ts_ms = int(time.time() * 1000) - age_s * 1000
    return {
        "vehicle_id": vehicle_id,
        "device_uid": f"dev-{vehicle_id}",
        "ts_ms": ts_ms,
        "received_ms": ts_ms + 100,
        "lat": lat,
        "lon": lon,
        "speed_kmh": speed_kmh,
        "heading_deg": 90,
        "acc": acc,
        "odometer_km": 1234.5,
        "fuel_l": 30.0,
        "soc_pct": None,
        "alarm": 0,
    }


async def put_latest(redis: Redis, prefix: str, *states: dict) -> None:
    await redis.hset(
        f"{prefix}:latest", mapping={str(s["vehicle_id"]): orjson.dumps(s) for s in states}
    )


# --- auth -------------------------------------------------------------------------------


async def test_login_sets_a_signed_httponly_cookie_and_me_answers(client, settings):
    response = await login(client, "dispatcher")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert f"max-age={settings.session_max_age_s}" in cookie
    me = (await client.get("/api/v1/auth/me")).json()
    assert me["username"] == "dispatcher"
    assert me["roles"] == ["dispatcher"]
    assert me["org"]["kind"] == "platform"
    assert me["scope_org"]["city_code"] == WUHAN  # a platform's staff see their whole city


async def test_bad_password_and_unknown_user_are_401(client):
    for username in ("dispatcher", "nobody"):
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": "wrong"}
        )
        assert_error(response, 401)
        assert "set-cookie" not in response.headers


async def test_repeated_failures_are_throttled_even_with_the_right_password(client):
    for _ in range(10):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "inspector", "password": "wrong"}
        )
        assert response.status_code == 401
    response = await client.post(
        "/api/v1/auth/login", json={"username": "inspector", "password": PASSWORD}
    )
    error = assert_error(response, 429)
    assert error["code"] == "login_throttled"
    assert int(response.headers["retry-after"]) > 0
    await login(client, "dispatcher")  # other accounts are not affected


async def test_logout_ends_the_session_even_for_a_kept_cookie(client):
    await login(client, "dispatcher")
    kept = dict(client.cookies)
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    client.cookies.clear()
    client.cookies.update(kept)
    assert_error(await client.get("/api/v1/auth/me"), 401)


async def test_a_forged_cookie_is_refused(client):
    client.cookies.set("fleet_session", "eyJ1c2VyIjoxfQ.forged.signature")
    assert_error(await client.get("/api/v1/auth/me"), 401)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/me",
        "/api/v1/vehicles",
        "/api/v1/vehicles/1",
        "/api/v1/vehicles/1/track",
        "/api/v1/map/layers",
        "/api/v1/config",
    ],
)
async def test_api_without_a_session_is_401(client, path):
    assert assert_error(await client.get(path), 401)["code"] == "not_authenticated"


@pytest.mark.parametrize("username", ["requester", "driver1"])
async def test_vehicle_routes_need_a_monitoring_role(client, username):
    await login(client, username)
    error = assert_error(await client.get("/api/v1/vehicles"), 403)
    assert "dispatcher" in error["message"]
    assert_error(await client.get("/api/v1/vehicles/1"), 403)


# --- bad input ---------------------------------------------------------------------------


async def test_bad_bodies_are_4xx_with_the_error_shape(client):
    bad_json = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert "JSON" in assert_error(bad_json, 422)["message"]
    missing = await client.post("/api/v1/auth/login", json={"username": "x"})
    assert "password" in assert_error(missing, 422)["message"]
    wrong_type = await client.post("/api/v1/auth/login", json=["dispatcher", PASSWORD])
    assert_error(wrong_type, 422)
    # a NUL byte cannot go into PostgreSQL text: refused as input, not a server error
    nul = await client.post("/api/v1/auth/login", json={"username": "adm\u0000in", "password": "x"})
    assert nul.status_code in (401, 422), nul.text
    # A password is never echoed back in the error details.
    leaked = await client.post("/api/v1/auth/login", json={"username": "", "password": "s3cret"})
    assert "s3cret" not in leaked.text


async def test_bad_queries_are_422_and_unknown_paths_404(client):
    await login(client, "dispatcher")
    assert_error(await client.get("/api/v1/vehicles?source=spaceship"), 422)
    assert_error(await client.get("/api/v1/vehicles?limit=0"), 422)
    assert_error(await client.get("/api/v1/vehicles/abc"), 422)
    assert_error(await client.get("/api/v1/vehicles?q=" + "A" * 21), 422)
    assert_error(await client.get("/api/v1/nothing-here"), 404)
    # past PostgreSQL's integer range, or a NUL byte: the input is wrong, never a 500
    assert_error(await client.get("/api/v1/vehicles/2147483648"), 422)
    assert_error(await client.get("/api/v1/vehicles/2147483648/track"), 422)
    assert_error(await client.get("/api/v1/vehicles?q=%00"), 422)


async def test_an_unexpected_failure_is_a_500_in_the_error_shape(client, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("web.routes.vehicles.list_vehicle_items", broken)
    await login(client, "dispatcher")
    response = await client.get("/api/v1/vehicles")
    error = assert_error(response, 500)
    assert error["code"] == "internal_error"
    assert "exploded" not in response.text  # internals stay in the log


# --- vehicles ----------------------------------------------------------------------------


async def test_dispatcher_sees_only_wuhan_and_admin_sees_all(app, db):
    wuhan_count = await db.fetchval(
        "SELECT count(*) FROM vehicles WHERE active AND home_city_code = $1", WUHAN
    )
    all_count = await db.fetchval("SELECT count(*) FROM vehicles WHERE active")
    async with new_client(app) as dispatcher, new_client(app) as admin:
        await login(dispatcher, "dispatcher")
        await login(admin, "admin")
        mine = (await dispatcher.get("/api/v1/vehicles")).json()
        everything = (await admin.get("/api/v1/vehicles")).json()
    assert mine["total"] == len(mine["items"]) == wuhan_count > 0
    assert {item["city"]["code"] for item in mine["items"]} == {WUHAN}
    assert everything["total"] == all_count >= 150
    assert sum(everything["counts"].values()) == all_count


async def test_a_vehicle_outside_the_scope_is_404(client, db):
    await login(client, "dispatcher")
    outside = await db.fetchval(
        "SELECT id FROM vehicles WHERE home_city_code <> $1 ORDER BY id LIMIT 1", WUHAN
    )
    assert_error(await client.get(f"/api/v1/vehicles/{outside}"), 404)
    assert_error(await client.get(f"/api/v1/vehicles/{outside}/track"), 404)
    assert_error(await client.get("/api/v1/vehicles/999999"), 404)


async def test_latest_state_comes_from_redis_then_postgres_with_a_derived_status(
    client, db, redis, settings
):
    ids = [
        r["id"]
        for r in await db.fetch(
            "SELECT v.id FROM vehicles v JOIN devices d ON d.vehicle_id = v.id "
            "WHERE v.home_city_code = $1 AND v.use_category <> 'confidential' ORDER BY v.id LIMIT 5",
            WUHAN,
        )
    ]
    moving, idle, parked, stale, from_db = ids
    await put_latest(
        redis,
        settings.redis_prefix,
        state(moving, speed_kmh=42.0),
        state(idle, speed_kmh=1.0),
        state(parked, acc=False, speed_kmh=0),
        state(stale, age_s=3600),
    )
    device_id = await db.fetchval("SELECT id FROM devices WHERE vehicle_id = $1", from_db)
    await db.execute(
        """INSERT INTO latest_vehicle_state (vehicle_id, device_id, ts, received_at, lat, lon,
               speed_kmh, heading_deg, acc) VALUES ($1, $2, now(), now(), 30.5, 114.2, 0, 0, false)""",
        from_db,
        device_id,
    )
    await login(client, "dispatcher")
    items = {i["id"]: i for i in (await client.get("/api/v1/vehicles")).json()["items"]}
    assert items[moving]["status"] == "moving"
    assert items[moving]["state"]["speed_kmh"] == 42.0
    assert items[idle]["status"] == "idle"
    assert items[parked]["status"] == "parked"
    assert items[stale]["status"] == "offline"
    assert items[from_db]["status"] == "parked"
    assert items[from_db]["state"]["lat"] == 30.5
    untouched = next(i for i in items.values() if i["id"] not in ids and i["state"] is None)
    assert untouched["status"] == "no_data"

    only_moving = (await client.get("/api/v1/vehicles?status=moving")).json()
    assert [i["id"] for i in only_moving["items"]] == [moving]
    assert only_moving["total"] == 1 and only_moving["counts"]["moving"] == 1

    detail = (await client.get(f"/api/v1/vehicles/{moving}")).json()
    assert detail["state"]["speed_kmh"] == 42.0
    assert detail["owner_org"]["code"]
    assert detail["depot"] is not None


async def test_filters_by_city_source_and_plate(client, db):
    await login(client, "admin")
    huangshi = (await client.get("/api/v1/vehicles?city=420200")).json()
    assert huangshi["total"] > 0
    assert {i["city"]["code"] for i in huangshi["items"]} == {"420200"}
    leased = (await client.get("/api/v1/vehicles?source=leased")).json()
    assert leased["total"] > 0 and {i["source"] for i in leased["items"]} == {"leased"}
    plate = await db.fetchval("SELECT plate FROM vehicles ORDER BY id LIMIT 1")
    digits = plate.split("·")[-1]
    found = (await client.get("/api/v1/vehicles", params={"q": plate[1] + digits})).json()
    assert plate in {i["plate"] for i in found["items"]}
    page = (await client.get("/api/v1/vehicles?limit=5&offset=5")).json()
    assert len(page["items"]) == 5 and page["total"] > 10


async def test_confidential_positions_are_withheld_from_uncleared_users(app, db, redis, settings):
    secret = await db.fetchval(
        "SELECT id FROM vehicles WHERE use_category = 'confidential' AND home_city_code = $1 LIMIT 1",
        WUHAN,
    )
    assert secret is not None, "the scenario has a 机要 car in Wuhan"
    await put_latest(redis, settings.redis_prefix, state(secret, lat=30.55, lon=114.25))
    async with new_client(app) as dispatcher, new_client(app) as admin:
        await login(dispatcher, "dispatcher")
        await login(admin, "admin")
        listed = {i["id"]: i for i in (await dispatcher.get("/api/v1/vehicles")).json()["items"]}
        hidden = listed[secret]
        assert hidden["position_withheld"] is True
        assert hidden["state"]["lat"] is None and hidden["state"]["lon"] is None
        assert hidden["state"]["heading_deg"] is None
        assert hidden["status"] == "moving"  # status stays visible; only the place is hidden
        detail = (await dispatcher.get(f"/api/v1/vehicles/{secret}")).json()
        assert detail["state"]["lat"] is None
        track = await dispatcher.get(f"/api/v1/vehicles/{secret}/track")
        assert assert_error(track, 403)["code"] == "position_restricted"

        seen = (await admin.get(f"/api/v1/vehicles/{secret}")).json()
        assert seen["position_withheld"] is False
        assert seen["state"]["lat"] == 30.55
        assert (await admin.get(f"/api/v1/vehicles/{secret}/track")).status_code == 200


# --- tracks ------------------------------------------------------------------------------


async def test_track_is_ordered_with_its_distance(client, db):
    vehicle_id, device_id = await db.fetchrow(
        "SELECT v.id, d.id FROM vehicles v JOIN devices d ON d.vehicle_id = v.id "
        "WHERE v.home_city_code = $1 AND v.use_category <> 'confidential' ORDER BY v.id LIMIT 1",
        WUHAN,
    )
    now = datetime.now(UTC)
    # Inserted out of order (late data); 0.1° of latitude apart ≈ 11.1 km each.
    rows = [
        (
            vehicle_id,
            device_id,
            now - timedelta(minutes=m),
            m,
            now,
            30.50 + 0.01 * (30 - m),
            114.30,
            40.0,
            0,
            True,
        )
        for m in (10, 30, 20)
    ]
    rows.append(
        (vehicle_id, device_id, now - timedelta(hours=3), 99, now, 31.0, 115.0, 0, 0, False)
    )
    await db.copy_records_to_table(
        "positions",
        records=rows,
        columns=[
            "vehicle_id",
            "device_id",
            "ts",
            "seq",
            "received_at",
            "lat",
            "lon",
            "speed_kmh",
            "heading_deg",
            "acc",
        ],
    )
    await login(client, "dispatcher")
    track = (await client.get(f"/api/v1/vehicles/{vehicle_id}/track")).json()
    ts = [p["ts_ms"] for p in track["points"]]
    assert len(ts) == 3 and ts == sorted(ts)  # the 3-hour-old fix is outside the default hour
    assert track["points"][0]["lat"] == pytest.approx(30.50)
    assert track["distance_m"] == pytest.approx(2 * 11_119, rel=0.01)
    assert track["to_ms"] - track["from_ms"] == 3600 * 1000

    wide = await client.get(
        f"/api/v1/vehicles/{vehicle_id}/track",
        params={"from": (now - timedelta(hours=4)).isoformat(), "to": now.isoformat()},
    )
    assert len(wide.json()["points"]) == 4


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "2026-11-20T10:00:00+08:00", "to": "2026-11-20T09:00:00+08:00"}, "later"),
        ({"from": "2026-10-01T00:00:00+08:00", "to": "2026-11-20T00:00:00+08:00"}, "31 days"),
        ({"from": "yesterday"}, "from"),
    ],
)
async def test_track_window_errors_are_422_with_a_message(client, db, params, fragment):
    vehicle_id = await db.fetchval(
        "SELECT id FROM vehicles WHERE home_city_code = $1 ORDER BY id LIMIT 1", WUHAN
    )
    await login(client, "dispatcher")
    response = await client.get(f"/api/v1/vehicles/{vehicle_id}/track", params=params)
    assert fragment in assert_error(response, 422)["message"]


# --- map, tiles, pages, health -----------------------------------------------------------


async def test_map_layers_and_config(client, db, settings):
    await login(client, "dispatcher")
    layers = (await client.get("/api/v1/map/layers")).json()
    boundaries = layers["city_boundaries"]["features"]
    assert len(boundaries) == await db.fetchval(
        "SELECT count(*) FROM geofences WHERE purpose = 'city_boundary' AND active"
    )
    assert boundaries[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert layers["lots"]["features"] and layers["sensitive_zones"]["features"]
    config = (await client.get("/api/v1/config")).json()
    assert config["tile_url"] == settings.tile_url
    assert config["tile_max_native_zoom"] == 6
    assert config["map_centre"]["lat"] == pytest.approx(30.59, abs=0.05)  # Wuhan


async def test_offline_tiles(client):
    tile = await client.get("/tiles/0/0/0.png")
    assert tile.status_code == 200
    assert tile.headers["content-type"] == "image/png"
    assert tile.content.startswith(b"\x89PNG")
    assert "max-age" in tile.headers["cache-control"]
    wuhan = await client.get("/tiles/6/52/26.png")  # the tile holding Wuhan at zoom 6
    assert wuhan.status_code == 200 and wuhan.content != tile.content
    for path in ("/tiles/7/104/52.png", "/tiles/2/4/0.png", "/tiles/3/0/-1.png"):
        assert (await client.get(path)).status_code in (404, 422), path


async def test_pages_redirect_by_session(client):
    assert (await client.get("/")).headers["location"] == "/login"
    assert (await client.get("/console")).headers["location"] == "/login"
    login_page = await client.get("/login")
    assert login_page.status_code == 200 and 'data-testid="login-form"' in login_page.text
    await login(client, "dispatcher")
    assert (await client.get("/")).headers["location"] == "/console"
    console = await client.get("/console")
    assert console.status_code == 200
    assert "script-src 'self'" in console.headers["content-security-policy"]
    assert (await client.get("/vendor/leaflet/leaflet.js")).status_code == 200
    assert (await client.get("/static/js/console.js")).status_code == 200


async def test_healthz_is_200_when_both_answer(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["redis"] == "ok"


async def test_healthz_is_503_when_redis_is_down(seeded_db_url, unique_prefix):
    app = create_app(make_settings(seeded_db_url, "redis://127.0.0.1:9/0", unique_prefix))
    async with app.router.lifespan_context(app), new_client(app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "error"


async def test_openapi_documents_the_response_models(client):
    schema = (await client.get("/openapi.json")).json()
    names = set(schema["components"]["schemas"])
    assert {"VehicleRead", "VehiclePage", "VehicleDetailRead", "TrackRead", "ErrorRead"} <= names
    docs = await client.get("/docs")
    assert docs.status_code == 200
    # offline: the Swagger UI comes from our own server, never a CDN
    assert "cdn" not in docs.text.lower()
    for asset in ("/vendor/swagger-ui/swagger-ui-bundle.js", "/vendor/swagger-ui/swagger-ui.css"):
        assert asset in docs.text
        assert (await client.get(asset)).status_code == 200


# --- pure rules --------------------------------------------------------------------------


def test_status_rules():
    now_ms = 1_000_000_000
    base = {"ts_ms": now_ms - 1000, "acc": True, "speed_kmh": 5.0}

    def status(**changes):
        return derive_status(
            {**base, **changes}, device_status="online", offline_after=600, now_ms=now_ms
        )

    assert status() == "moving"
    assert status(speed_kmh=4.9) == "idle"
    assert status(acc=False, speed_kmh=30) == "parked"
    assert status(acc=None, speed_kmh=30) == "moving"
    assert status(ts_ms=now_ms - 601_000) == "offline"
    assert (
        derive_status(base, device_status="offline", offline_after=600, now_ms=now_ms) == "offline"
    )
    assert (
        derive_status(None, device_status="online", offline_after=600, now_ms=now_ms) == "no_data"
    )
    assert offline_after_s(10) == 600 and offline_after_s(300) == 900


def test_track_window_rules():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert resolve_window(None, None, now) == (now - timedelta(hours=1), now)
    naive = datetime(2026, 11, 22, 8, 0)  # read as Asia/Shanghai
    start, end = resolve_window(naive, None, now)
    assert start == datetime(2026, 11, 22, 0, 0, tzinfo=UTC) and end == now
    with pytest.raises(TrackWindowError):
        resolve_window(now, now, now)
    with pytest.raises(TrackWindowError):
        resolve_window(now - timedelta(days=31, seconds=1), now, now)
