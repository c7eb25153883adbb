"""Every API route meets bad input with a 4xx in the one error shape, never a 500: each path of
the OpenAPI document is called with malformed ids and bodies by a logged-in admin (the widest
reach) and by a driver (the narrowest)."""

from __future__ import annotations

import re

import pytest

from tests.integration.web_app import login, new_client
from tests.trip_dates import working_day_at

IDS = ("1", "0", "-1", "abc", "99999999999", "1e3", "%00")  # "1": a real row, bad body
BAD_BODIES = (b"{}", b"[]", b'"x"', b"{bad json", b'{"event": null, "version": "x"}',
              b'{"month": "2026-13", "request_ids": [0, 0]}', b"\x00\xff")
SKIPPED = {"/api/v1/auth/logout", "/api/v1/auth/login"}  # they end or throttle the session


def _paths(openapi: dict) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in openapi["paths"].items()
            for method in item if method in {"get", "post", "put", "delete", "patch"}
            and path.startswith("/api/") and path not in SKIPPED]


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.mark.parametrize("username", ["admin", "driver1"])
async def test_no_route_answers_bad_input_with_a_500(app, username):
    async with new_client(app) as client:
        await login(client, username)
        await _some_rows(app)
        openapi = (await client.get("/openapi.json")).json()
        failures = []
        seen: set[int] = set()
        for method, path in _paths(openapi):
            for bad_id in IDS:
                for body in (BAD_BODIES if method in {"POST", "PUT", "PATCH"} else (None,)):
                    url = _fill(path, bad_id) + "?month=13-2026&day=yesterday&limit=-5&format=exe"
                    response = await client.request(
                        method, url, content=body,
                        headers={"Content-Type": "application/json"} if body is not None else {})
                    seen.add(response.status_code)
                    if response.status_code >= 500:
                        failures.append(f"{method} {url} {body!r} -> {response.status_code}")
                    elif response.status_code >= 400:
                        error = response.json().get("error", {})
                        if not (error.get("code") and error.get("message")):
                            failures.append(f"{method} {url}: not the error shape: {response.text[:120]}")
        assert failures == [], "\n".join(failures[:20])
        assert {404, 422} <= seen and 401 not in seen, seen  # the calls reached the handlers


async def _some_rows(app) -> None:
    """A request with an order, so that id 1 reaches the handlers of requests and orders."""
    async with new_client(app) as requester, new_client(app) as dispatcher:
        await login(requester, "requester")
        await login(dispatcher, "dispatcher")
        body = {"trip_type": "official", "reason": "调研", "passenger_count": 1,
                "planned_start": working_day_at(9).isoformat(),
                "planned_end": working_day_at(12).isoformat(),
                "origin": {"name": "A", "lat": 30.59, "lon": 114.30, "city_code": "420100"},
                "destinations": [{"name": "B", "lat": 30.55, "lon": 114.33, "city_code": "420100"}]}
        created = (await requester.post("/api/v1/trip-requests", json=body)).json()
        if created.get("id") == 1:
            await requester.post("/api/v1/trip-requests/1/events", json={"event": "submit", "version": 1})
