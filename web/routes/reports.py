"""Figures (统计) and rental statements (对账单): per vehicle, unit, city, company and month.

Reach: dispatchers and org admins see what lies in their organisation subtree (the units of
the requests), admins and inspectors everything (their scope is the province); a rental
company's operator may fetch their own company's rental statement only. Anyone else: 403.
A unit outside the caller's subtree, or an unknown company: 404; a company the caller's units
never hired: an empty statement.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from dispatch import billing_store
from dispatch.months import Month
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.exports import CSV_TYPE, XLSX_TYPE, attachment, csv_bytes, xlsx_bytes
from web.principal import Principal
from web.queries import figures as figure_queries
from web.queries import statements
from web.report_exports import rental_tables, unit_tables
from web.schemas.common import error_responses
from web.schemas.reports import (
    MONTH_PATTERN,
    BillingRunIn,
    BillingRunRead,
    FiguresRead,
    RentalStatementRead,
    UnitStatementRead,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

REPORT_ROLES = frozenset({"admin", "org_admin", "dispatcher", "inspector"})
BILLING_ROLES = frozenset({"dispatcher", "admin"})
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (Asia/Shanghai)",
                                  examples=["2026-11"])]
FormatQuery = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]
IdQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
FILE_RESPONSES = {200: {"content": {"text/csv": {}, XLSX_TYPE: {}},
                        "description": "JSON, or the statement as CSV (UTF-8 with BOM) or XLSX"}}


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise ApiError(422, str(exc), code="bad_month") from None


def _require(user: Principal, roles: frozenset[str]) -> None:
    if not user.has_any_role(roles):
        raise ApiError(403, f"This requires one of the roles: {', '.join(sorted(roles))}.",
                       code="forbidden")


def _file(tables, fmt: str, name_zh: str, name_ascii: str) -> Response:
    if fmt == "csv":
        return Response(csv_bytes(tables), media_type=CSV_TYPE,
                        headers=attachment(f"{name_zh}.csv", f"{name_ascii}.csv"))
    return Response(xlsx_bytes(tables), media_type=XLSX_TYPE,
                    headers=attachment(f"{name_zh}.xlsx", f"{name_ascii}.xlsx"))


@router.get("/figures", response_model=FiguresRead, responses=error_responses(401, 403, 422))
async def get_figures(
    user: CurrentUser, pool: PoolDep, month: MonthQuery,
    by: Annotated[Literal["vehicle", "unit", "city", "company"], Query()] = "city",
) -> dict:
    """The month's figures per vehicle, unit, city or rental company (trips, km, service
    hours, utilisation, L/100 km or kWh/100 km, cost per km, rental spend, new-energy share,
    approved requests and 满足率, dispatch response), the totals, and the fuel/energy ranking."""
    _require(user, REPORT_ROLES)
    return await figure_queries.figures(pool, user.scope_root_id, _month(month), by)


@router.get("/statements/rental", response_model=RentalStatementRead,
            responses=FILE_RESPONSES | error_responses(401, 403, 404, 422))
async def rental_statement(
    user: CurrentUser, pool: PoolDep, month: MonthQuery, company_id: IdQuery = None,
    format: FormatQuery = "json",  # noqa: A002 - the query parameter's name
):
    """租赁对账单: per rental company, every priced order back in the month with its fee lines,
    and the company's totals."""
    period = _month(month)
    if user.has_any_role(REPORT_ROLES):
        scope: int | None = user.scope_root_id
        if company_id is not None and not await statements.company_exists(pool, company_id):
            raise ApiError(404, f"Rental company {company_id} not found.", code="company_not_found")
    elif "rental_operator" in user.roles and user.rental_company_id is not None:
        if company_id is not None and company_id != user.rental_company_id:
            raise ApiError(404, f"Rental company {company_id} not found.", code="company_not_found")
        scope, company_id = None, user.rental_company_id
    else:
        raise ApiError(403, "Statements are for dispatchers, inspectors, admins and the rental "
                       "company's operator.", code="forbidden")
    statement = await statements.rental_statement(pool, period, scope, company_id)
    if format == "json":
        return statement
    parts = statement["companies"]
    one = parts[0]["company"] if len(parts) == 1 else None
    name_zh = f"租赁对账单_{period.text}_{one['name_zh'] if one else '全部'}"
    name_ascii = f"rental-statement-{period.text}-{one['code'] if one else 'all'}"
    return _file(rental_tables(statement), format, name_zh, name_ascii)


@router.get("/statements/units", response_model=UnitStatementRead,
            responses=FILE_RESPONSES | error_responses(401, 403, 404, 422))
async def unit_statement(
    user: CurrentUser, pool: PoolDep, month: MonthQuery, unit_id: IdQuery = None,
    format: FormatQuery = "json",  # noqa: A002
):
    """单位对账单: what each unit spent in the month — its shares of rental fees and of the
    platform cars' direct costs — with its requests, orders and km."""
    _require(user, REPORT_ROLES)
    period = _month(month)
    if unit_id is not None and not await statements.unit_in_scope(pool, unit_id, user.scope_root_id):
        raise ApiError(404, f"Unit {unit_id} not found.", code="unit_not_found")
    statement = await statements.unit_statement(pool, period, user.scope_root_id, unit_id)
    if format == "json":
        return statement
    return _file(unit_tables(statement), format, f"单位用车对账单_{period.text}",
                 f"unit-statement-{period.text}")


@router.post("/billing-runs", response_model=BillingRunRead, status_code=201,
             responses=error_responses(401, 403, 404, 422))
async def billing_run(body: BillingRunIn, user: CurrentUser, pool: PoolDep) -> dict:
    """结算: every confirmed or rated order of the month (by its return, Asia/Shanghai) in your
    reach goes to 已结算, each with its event; requests whose orders are all settled follow."""
    _require(user, BILLING_ROLES)
    period = _month(body.month)
    if body.company_id is not None and not await statements.company_exists(pool, body.company_id):
        raise ApiError(404, f"Rental company {body.company_id} not found.", code="company_not_found")
    async with pool.acquire() as conn, conn.transaction():
        run = await billing_store.settle_month(conn, period, user.scope_root_id, body.company_id,
                                               user.id)
    return {"month": period.text, "company_id": body.company_id,
            "orders_settled": run.orders_settled, "requests_settled": run.requests_settled,
            "rental_fee_cny": float(run.rental_fee_cny), "direct_cost_cny": float(run.direct_cost_cny),
            "total_cny": float(run.total_cny)}
