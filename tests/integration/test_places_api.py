"""The map picker's places: the city a point lies in (city boundaries, loaded once), the
cities, and the named places (常用地点) seeded from the scenario."""

from __future__ import annotations

from tests.integration.web_app import assert_error, login


async def test_a_point_is_located_in_its_city_or_refused_outside(app, client):
    assert_error(await client.get("/api/v1/places/locate?lat=30.59&lon=114.30"), 401)
    await login(client, "requester")
    wuhan = await client.get("/api/v1/places/locate?lat=30.5928&lon=114.3055")
    assert wuhan.json() == {"code": "420100", "name_zh": "武汉", "name_en": "Wuhan"}
    ezhou = (await client.get("/api/v1/places/locate?lat=30.3908&lon=114.895")).json()
    assert ezhou["code"] == "420700"
    tianmen = (await client.get("/api/v1/places/locate?lat=30.6633&lon=113.1661")).json()
    assert tianmen["code"] == "429006"
    beijing = await client.get("/api/v1/places/locate?lat=39.9&lon=116.4")
    assert assert_error(beijing, 404)["code"] == "outside_service_area"
    assert_error(await client.get("/api/v1/places/locate?lat=95&lon=114"), 422)
    assert_error(await client.get("/api/v1/places/locate?lat=30.5"), 422)
    assert hasattr(app.state, "city_shapes") and len(app.state.city_shapes) == 9  # kept


async def test_every_city_centre_lies_in_its_own_city(client):
    await login(client, "requester")
    cities = (await client.get("/api/v1/places/cities")).json()
    assert len(cities) == 9
    for city in cities:
        found = await client.get(
            f"/api/v1/places/locate?lat={city['centre_lat']}&lon={city['centre_lon']}")
        assert found.json()["code"] == city["code"], city


async def test_named_places_by_city_and_name(client):
    await login(client, "requester")
    ezhou = (await client.get("/api/v1/places?city_code=420700")).json()
    assert ezhou and {p["city_code"] for p in ezhou} == {"420700"}
    assert {"PL-420700-GOV", "PL-420700-STN"} <= {p["code"] for p in ezhou}
    assert ezhou[0]["city_name_zh"] == "鄂州"
    station = (await client.get("/api/v1/places", params={"q": "汉口"})).json()
    assert [p["code"] for p in station] == ["PL-420100-HKSTN"]
    english = (await client.get("/api/v1/places", params={"q": "tianhe"})).json()
    assert [p["code"] for p in english] == ["PL-420100-AIRPORT"]
    assert (await client.get("/api/v1/places", params={"q": "%"})).json() == []  # no wildcard
    for place in ezhou:  # each named place lies in its own city
        found = await client.get(f"/api/v1/places/locate?lat={place['lat']}&lon={place['lon']}")
        assert found.json()["code"] == "420700", place
    assert_error(await client.get("/api/v1/places?city_code=wuhan"), 422)
