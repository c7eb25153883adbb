"""Trip requests (用车申请): file, list, read, and move through the workflow by events.

Scope: a user sees and acts on the requests of the units in their scope subtree only; any
other id is a 404 (whether it exists is not revealed). Who may send which event is decided
here by role; whether the event is legal in the request's state, by the pure state machine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Annotated

import asyncpg
import chinese_calendar
from fastapi import APIRouter, Path, Query

from dispatch import store
from dispatch.transitions import IllegalTransition
from dispatch.trip_requests import (
    REQUEST_MACHINE,
    ApprovalPolicy,
    RequestEvent,
    RequestState,
    TripRequest,
    apply,
    approval_levels,
)
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.schemas.common import error_responses
from web.schemas.trip_requests import (
    TripRequestCreate,
    TripRequestEventIn,
    TripRequestEventRead,
    TripRequestPage,
    TripRequestRead,
)

router = APIRouter(prefix="/api/v1/trip-requests", tags=["trip requests"])
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Trip request id")]

FILERS = frozenset({"requester", "org_admin", "admin"})
# Who may send an event (the applicant may always submit and withdraw their own request).
EVENT_ROLES: dict[RequestEvent, frozenset[str]] = {
    RequestEvent.SUBMIT: FILERS,
    RequestEvent.WITHDRAW: FILERS,
    RequestEvent.APPROVE: frozenset({"approver", "org_admin", "admin"}),
    RequestEvent.REJECT: frozenset({"approver", "org_admin", "admin"}),
    RequestEvent.CLOSE: frozenset({"dispatcher", "org_admin", "admin"}),
    RequestEvent.DISPATCH: frozenset({"dispatcher", "admin"}),
    RequestEvent.ALL_ASSIGNED: frozenset({"dispatcher", "admin"}),
    RequestEvent.UNASSIGNED: frozenset({"dispatcher", "admin"}),
    RequestEvent.DEPART: frozenset({"dispatcher", "driver", "admin"}),
    RequestEvent.COMPLETE: frozenset({"dispatcher", "admin"}),
    RequestEvent.SETTLE: frozenset({"dispatcher", "admin"}),
}
POLICY = ApprovalPolicy()  # per-organisation policies arrive with the approval settings page


def is_working_day(day: date) -> bool:
    """China's working days with 调休 (chinese-calendar); beyond its data, Monday–Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def _read(row: asyncpg.Record) -> dict:
    item = dict(row)
    item["allowed_events"] = REQUEST_MACHINE.allowed(RequestState(row["state"]))
    return item


@router.post("", response_model=TripRequestRead, status_code=201, responses=error_responses(401, 403, 422))
async def create_request(body: TripRequestCreate, user: CurrentUser, pool: PoolDep) -> dict:
    """File a request (草稿 draft); send `submit` to start the approval."""
    if not user.has_any_role(FILERS):
        raise ApiError(403, "Only requesters may file trip requests.", code="forbidden")
    data = body.model_dump(mode="json")
    data["planned_start"], data["planned_end"] = body.planned_start, body.planned_end
    async with pool.acquire() as conn:
        request_id = await store.insert(conn, user.id, user.org.id, data)
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id)
    return _read(row)


@router.get("", response_model=TripRequestPage, responses=error_responses(401, 422))
async def list_requests(
    user: CurrentUser,
    pool: PoolDep,
    state: RequestState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    rows, total = await store.list_in_scope(
        pool, user.scope_root_id, None if state is None else state.value, limit, offset
    )
    return {"items": [_read(r) for r in rows], "total": total}


@router.get("/{request_id}", response_model=TripRequestRead, responses=error_responses(401, 404, 422))
async def get_request(request_id: RequestId, user: CurrentUser, pool: PoolDep) -> dict:
    row = await store.fetch_in_scope(pool, request_id, user.scope_root_id)
    if row is None:
        raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
    return _read(row)


@router.get("/{request_id}/events", response_model=list[TripRequestEventRead],
            responses=error_responses(401, 404, 422))
async def request_history(request_id: RequestId, user: CurrentUser, pool: PoolDep) -> list[dict]:
    if await store.fetch_in_scope(pool, request_id, user.scope_root_id) is None:
        raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
    return [dict(r) for r in await store.history(pool, request_id)]


@router.post("/{request_id}/events", response_model=TripRequestRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def send_event(
    request_id: RequestId, body: TripRequestEventIn, user: CurrentUser, pool: PoolDep
) -> dict:
    """Move the request on: submit, approve, reject (with the reason in `note`), withdraw, …
    Refused with 409 when the event is not allowed in the request's state, or when `version`
    is not the current one (someone acted on it meanwhile: reload and decide again)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
        if row is None:
            raise ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")
        _authorise(user, body.event, row)
        if row["version"] != body.version:
            raise ApiError(409, "The request changed since you read it; reload it.",
                           code="stale_version", details={"version": row["version"]})
        before = store.to_domain(row)
        try:
            after, note = _transition(before, body.event, body.note)
        except IllegalTransition as exc:
            raise ApiError(409, str(exc), code="illegal_transition",
                           details={"state": before.state.value, "allowed": exc.allowed}) from None
        await store.save(conn, before, after, row["version"], body.event.value, user.id, note)
        if body.event == RequestEvent.SUBMIT:  # pre-checks: into the approval chain
            checked = apply(after, RequestEvent.CHECKED, datetime.now(UTC))
            await store.save(conn, after, checked, row["version"] + 1, "checked", user.id, "")
        fresh = await store.fetch_in_scope(conn, request_id, user.scope_root_id)
    return _read(fresh)


def _authorise(user: Principal, event: RequestEvent, row: asyncpg.Record) -> None:
    roles = EVENT_ROLES.get(event)
    if roles is None:
        raise ApiError(422, f"'{event.value}' is done by the system, not sent.", code="not_an_action")
    if event in (RequestEvent.SUBMIT, RequestEvent.WITHDRAW) and row["applicant_id"] == user.id:
        return
    if not user.has_any_role(roles):
        wanted = ", ".join(sorted(roles))
        raise ApiError(403, f"'{event.value}' requires one of the roles: {wanted}.", code="forbidden")


def _transition(
    before: TripRequest, event: RequestEvent, note: str
) -> tuple[TripRequest, str]:
    """Apply the event; a submission fixes the number of approval levels first (and says
    why there are extra ones: cross-city, night, holiday)."""
    if event == RequestEvent.SUBMIT:
        levels, reasons = approval_levels(before, POLICY, is_working_day)
        before = replace(before, approval_levels=levels)
        if reasons and not note:
            note = "extra approval: " + ", ".join(reasons)
    return apply(before, event, datetime.now(UTC), note), note
