"""A generated month in a seeded database, and the reports over it: the statements and the
figures add up to the orders' own costs, each user sees what their scope holds (another
city's dispatcher: nothing of Wuhan; a unit outside the scope: 404), CSV and XLSX downloads,
and a billing run that settles the month once."""

from __future__ import annotations

import io
from contextlib import asynccontextmanager
from decimal import Decimal

import openpyxl
import pytest

from dispatch.months import Month
from fleet.month_generator import generate_month
from fleet.month_seed import MonthAlreadyGenerated, seed_month
from fleet.scenario.load import load_scenario
from fleet.users import upsert_user
from tests.integration.test_cli import SECRET, clean_env, fleet
from tests.integration.web_app import PASSWORD, assert_error, login, new_client

NOVEMBER = Month(2026, 11)
BACK = "state IN ('returned', 'disputed', 'confirmed', 'rated', 'settled') AND departed_at IS NOT NULL"
IN_MONTH = "returned_at >= '2026-11-01 00:00+08' AND returned_at < '2026-12-01 00:00+08'"


async def seeded_month(db, requests: int = 300) -> dict:
    return await seed_month(db, generate_month(load_scenario(), NOVEMBER, requests, seed=3))


@asynccontextmanager
async def as_user(app, username: str):
    async with new_client(app) as client:
        await login(client, username)
        yield client


async def test_the_month_is_written_once_and_replaced_on_demand(db):
    counts = await seeded_month(db)
    assert counts["requests"] == 300 and counts["orders"] > 250 and counts["trips"] > 500
    assert await db.fetchval("SELECT count(*) FROM trip_requests") == 300
    with pytest.raises(MonthAlreadyGenerated):
        await seeded_month(db)
    again = await seed_month(db, generate_month(load_scenario(), NOVEMBER, 300, seed=3), replace=True)
    assert again == counts
    assert await db.fetchval("SELECT count(*) FROM trip_requests") == 300
    assert await db.fetchval("SELECT count(*) FROM dispatch_orders") == counts["orders"]
    # every order back is priced; rental ones carry a fee, and the shares add up per order
    assert await db.fetchval(f"SELECT count(*) FROM dispatch_orders WHERE {BACK} AND fee_computed_at IS NULL") == 0
    assert await db.fetchval(f"SELECT count(*) FROM dispatch_orders WHERE {BACK} AND price_plan_id IS NOT NULL "
                             "AND fee_cny IS NULL") == 0
    assert await db.fetchval(
        f"""SELECT count(*) FROM dispatch_orders d WHERE {BACK} AND coalesce(d.fee_cny,
                d.tolls_cny + d.parking_cny + d.fuel_cny) <> (SELECT sum(share_cny)
                FROM dispatch_order_requests x WHERE x.order_id = d.id)""") == 0


async def test_statements_and_figures_add_up(app, db):
    await seeded_month(db)
    order_costs = await db.fetchval(
        f"SELECT sum(coalesce(fee_cny, tolls_cny + parking_cny + fuel_cny)) FROM dispatch_orders "
        f"WHERE {BACK} AND {IN_MONTH}")
    rental_fees = await db.fetchval(f"SELECT sum(fee_cny) FROM dispatch_orders WHERE {BACK} AND {IN_MONTH} "
                                    "AND price_plan_id IS NOT NULL")
    trips = await db.fetchval(f"SELECT count(*) FROM dispatch_orders WHERE {BACK} AND {IN_MONTH}")
    async with as_user(app, "admin") as admin:
        units = (await admin.get("/api/v1/reports/statements/units?month=2026-11")).json()
        assert Decimal(str(units["totals"]["total_cny"])) == order_costs
        assert sum(Decimal(str(u["total_cny"])) for u in units["units"]) == order_costs
        rental = (await admin.get("/api/v1/reports/statements/rental?month=2026-11")).json()
        assert Decimal(str(rental["fee_cny"])).quantize(Decimal("0.01")) == rental_fees
        for company in rental["companies"]:
            fee = sum(Decimal(str(o["fee_cny"])) for o in company["orders"])
            assert Decimal(str(company["totals"]["fee_cny"])).quantize(Decimal("0.01")) == fee
            assert all(round(sum(o["lines"].values()), 2) == o["fee_cny"] for o in company["orders"])
        by_city = (await admin.get("/api/v1/reports/figures?month=2026-11&by=city")).json()
        totals = by_city["totals"]
        assert totals["trips"] == trips == sum(r["trips"] for r in by_city["rows"])
        assert sum(r["vehicles"] for r in by_city["rows"]) == totals["vehicles"] == 200
        assert totals["rental_cny"] == pytest.approx(float(rental_fees), abs=0.01)
        assert totals["cost_cny"] == pytest.approx(float(order_costs), abs=0.01)
        assert 0 < totals["utilisation"] < 1 and 0.8 < totals["fulfilment_rate"] <= 1
        assert totals["gnss_km"] > 0 and totals["fuel_l_per_100km"] > 3 and totals["kwh_per_100km"] > 5
        assert by_city["working_days"] == 21  # November 2026
        by_unit = (await admin.get("/api/v1/reports/figures?month=2026-11&by=unit")).json()
        assert sum(r["cost_cny"] for r in by_unit["rows"]) == pytest.approx(float(order_costs), abs=0.05)
        by_vehicle = (await admin.get("/api/v1/reports/figures?month=2026-11&by=vehicle")).json()
        assert len(by_vehicle["rows"]) == 200
        fuel = by_vehicle["ranking"]["fuel"]
        assert fuel and [r["per_100km"] for r in fuel] == sorted(r["per_100km"] for r in fuel)
        by_company = (await admin.get("/api/v1/reports/figures?month=2026-11&by=company")).json()
        assert sum(r["rental_cny"] for r in by_company["rows"]) == pytest.approx(float(rental_fees), abs=0.01)
        assert_error(await admin.get("/api/v1/reports/figures?month=2026-13"), 422)
        assert_error(await admin.get("/api/v1/reports/figures?month=2026-11&by=driver"), 422)


async def test_each_user_sees_their_scope_only(app, db):
    await seeded_month(db)
    await upsert_user(db, username="hs_dispatcher", display_name="黄石调度", org_code="420200-PF",
                      roles=["dispatcher"], password=PASSWORD)
    wuhan_unit = await db.fetchval("SELECT id FROM organisations WHERE code = '420100-GAJ'")
    async with as_user(app, "dispatcher") as wuhan, as_user(app, "hs_dispatcher") as huangshi:
        rows = (await wuhan.get("/api/v1/reports/figures?month=2026-11&by=city")).json()["rows"]
        assert [r["key"] for r in rows] == ["420100"]
        units = (await wuhan.get("/api/v1/reports/statements/units?month=2026-11")).json()["units"]
        assert units and {u["city_code"] for u in units} == {"420100"}
        one = (await wuhan.get(f"/api/v1/reports/statements/units?month=2026-11&unit_id={wuhan_unit}")).json()
        assert [u["unit_id"] for u in one["units"]] in ([wuhan_unit], [])
        theirs = (await huangshi.get("/api/v1/reports/statements/units?month=2026-11")).json()["units"]
        assert {u["city_code"] for u in theirs} <= {"420200"}
        assert_error(await huangshi.get(f"/api/v1/reports/statements/units?month=2026-11&unit_id={wuhan_unit}"), 404)
        figures = (await huangshi.get("/api/v1/reports/figures?month=2026-11&by=unit")).json()
        assert all(r["city_code"] == "420200" for r in figures["rows"])
        rental = (await huangshi.get("/api/v1/reports/statements/rental?month=2026-11")).json()
        plates = {o["plate"] for c in rental["companies"] for o in c["orders"]}
        assert not any(p.startswith("鄂A") for p in plates)  # no Wuhan order
        assert_error(await huangshi.get("/api/v1/reports/statements/rental?month=2026-11&company_id=99999"), 404)
    company = await db.fetchval("SELECT rental_company_id FROM users WHERE username = 'rental1'")
    other = await db.fetchval("SELECT id FROM rental_companies WHERE id <> $1 ORDER BY id LIMIT 1", company)
    async with as_user(app, "rental1") as operator, as_user(app, "requester") as requester:
        own = (await operator.get("/api/v1/reports/statements/rental?month=2026-11")).json()
        assert [c["company"]["id"] for c in own["companies"]] == [company]
        expected = await db.fetchval(f"SELECT count(*) FROM dispatch_orders WHERE {BACK} AND {IN_MONTH} "
                                     "AND rental_company_id = $1", company)
        assert own["companies"][0]["totals"]["orders"] == expected > 0
        assert_error(await operator.get(f"/api/v1/reports/statements/rental?month=2026-11&company_id={other}"), 404)
        assert_error(await operator.get("/api/v1/reports/statements/units?month=2026-11"), 403)
        assert_error(await operator.get("/api/v1/reports/figures?month=2026-11"), 403)
        assert_error(await requester.get("/api/v1/reports/statements/rental?month=2026-11"), 403)
        assert_error(await requester.post("/api/v1/reports/billing-runs", json={"month": "2026-11"}), 403)


async def test_csv_and_xlsx_downloads(app, db):
    await seeded_month(db)
    company = await db.fetchrow("SELECT id, code FROM rental_companies ORDER BY id LIMIT 1")
    async with as_user(app, "admin") as admin:
        json_body = (await admin.get(f"/api/v1/reports/statements/rental?month=2026-11&company_id={company['id']}")).json()
        orders = len(json_body["companies"][0]["orders"])
        csv_response = await admin.get(
            f"/api/v1/reports/statements/rental?month=2026-11&company_id={company['id']}&format=csv")
        assert csv_response.status_code == 200
        assert csv_response.headers["content-type"].startswith("text/csv")
        disposition = csv_response.headers["content-disposition"]
        assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
        assert f'filename="rental-statement-2026-11-{company["code"]}.csv"' in disposition
        assert csv_response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
        lines = csv_response.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("租赁公司 (company),派车单号 (order),日期 (date)")
        assert len(lines) == 1 + orders + 1 and lines[-1].split(",")[1] == "合计 (total)"
        xlsx = await admin.get("/api/v1/reports/statements/units?month=2026-11&format=xlsx")
        assert xlsx.status_code == 200 and "unit-statement-2026-11.xlsx" in xlsx.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        sheet = book.worksheets[0]
        units = (await admin.get("/api/v1/reports/statements/units?month=2026-11")).json()
        assert sheet.max_row == 1 + len(units["units"]) + 1
        assert sheet.cell(1, 1).value == "单位 (unit)"
        assert sheet.cell(sheet.max_row, 10).value == pytest.approx(units["totals"]["total_cny"])
        assert_error(await admin.get("/api/v1/reports/statements/units?month=2026-11&format=pdf"), 422)


async def test_a_billing_run_settles_the_month_once(app, db):
    await seeded_month(db)
    scope_sql = f"""FROM dispatch_orders d WHERE {IN_MONTH} AND EXISTS (
        SELECT 1 FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
        JOIN organisations o ON o.id = r.org_id WHERE x.order_id = d.id AND o.code LIKE '4201%')"""
    settleable = await db.fetchval(f"SELECT count(*) {scope_sql} AND d.state IN ('confirmed', 'rated')")
    untouched = await db.fetchval("SELECT count(*) FROM dispatch_orders WHERE state IN ('returned', 'disputed')")
    async with as_user(app, "dispatcher") as dispatcher:
        assert_error(await dispatcher.post("/api/v1/reports/billing-runs", json={"month": "11/2026"}), 422)
        response = await dispatcher.post("/api/v1/reports/billing-runs", json={"month": "2026-11"})
        assert response.status_code == 201, response.text
        run = response.json()
        assert run["orders_settled"] == settleable > 0 and run["requests_settled"] > 0
        assert run["total_cny"] == pytest.approx(run["rental_fee_cny"] + run["direct_cost_cny"])
        again = (await dispatcher.post("/api/v1/reports/billing-runs", json={"month": "2026-11"})).json()
        assert again["orders_settled"] == 0 and again["requests_settled"] == 0
    assert await db.fetchval(f"SELECT count(*) {scope_sql} AND d.state = 'settled'") == settleable
    assert await db.fetchval("SELECT count(*) FROM dispatch_orders WHERE state IN ('returned', 'disputed')") == untouched
    assert await db.fetchval("SELECT count(*) FROM dispatch_order_events WHERE event = 'settle'") == settleable
    events = await db.fetch("SELECT from_state, to_state FROM trip_request_events WHERE event = 'settle'")
    assert len(events) == run["requests_settled"] and {(e["from_state"], e["to_state"]) for e in events} == {
        ("completed", "settled")}
    # a settled request has no order left to settle; only Wuhan's requests were touched
    assert await db.fetchval(
        """SELECT count(*) FROM trip_requests r JOIN organisations o ON o.id = r.org_id
           WHERE r.state = 'settled' AND (o.city_code <> '420100' OR EXISTS (
               SELECT 1 FROM dispatch_order_requests x JOIN dispatch_orders d ON d.id = x.order_id
               WHERE x.request_id = r.id AND d.state NOT IN ('settled', 'cancelled')))""") == 0


async def test_the_generate_month_command_refuses_a_second_run(seeded_db_url, db):
    env = clean_env(FLEET_DATABASE_URL=seeded_db_url, FLEET_SECRET_KEY=SECRET)
    first = fleet("generate-month", "--month", "2026-10", "--requests", "60", "--seed", "2", env=env)
    assert first.returncode == 0, first.stderr
    assert "generated 2026-10" in first.stdout and "requests=60" in first.stdout
    second = fleet("generate-month", "--month", "2026-10", "--requests", "60", env=env)
    assert second.returncode != 0 and "already generated" in second.stderr and "Traceback" not in second.stderr
    replaced = fleet("generate-month", "--month", "2026-10", "--requests", "80", "--replace", env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert await db.fetchval("SELECT count(*) FROM trip_requests") == 80
    assert await db.fetchval("SELECT requests FROM generated_months WHERE month = '2026-10'") == 80
    bad = fleet("generate-month", "--month", "2026-13", env=env)
    assert bad.returncode != 0 and "not a month" in bad.stderr
