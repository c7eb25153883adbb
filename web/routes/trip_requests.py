"""Trip requests (用车申请): file, list, read, and move through the workflow by events.

Scope: a user sees and acts on the requests of the units in their scope subtree only; any
other id is a 404 (whether it exists is not revealed). Who may send which event is decided
here by role and ownership (only the applicant, or an org admin / admin, submits, withdraws or
edits a request; nobody decides their own); whether the event is legal in the request's state,
by the pure state machine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Query

from dispatch import order_release_store, store
from dispatch.transitions import IllegalTransition
from dispatch.trip_requests import REQUEST_MACHINE, RequestEvent, RequestState, TripRequest, apply
from web import trip_request_flow as flow
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.queries.places import city_codes
from web.schemas.common import error_responses
from web.schemas.trip_requests import (
    TripRequestCreate,
    TripRequestEventIn,
    TripRequestEventRead,
    TripRequestPage,
    TripRequestRead,
    TripRequestUpdate,
)

router = APIRouter(prefix="/api/v1/trip-requests", tags=["trip requests"])
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Trip request id")]

FILERS = frozenset({"requester", "org_admin", "admin"})
# Besides the applicant, who may submit, withdraw or edit a request (of their scope).
OWNER_STANDINS = frozenset({"org_admin", "admin"})
OWNER_EVENTS = frozenset({RequestEvent.SUBMIT, RequestEvent.WITHDRAW})
DECISIONS = frozenset({RequestEvent.APPROVE, RequestEvent.REJECT})
WITHDRAWN_NOTE = "申请已撤回 request withdrawn"
REJECTED_NOTE = "应急申请被驳回 emergency rejected"
# Who may send an event (submit and withdraw: also only the applicant or a stand-in).
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


def _read(row: asyncpg.Record) -> dict:
    item = dict(row)
    item["allowed_events"] = REQUEST_MACHINE.allowed(RequestState(row["state"]))
    return item


def _not_found(request_id: int) -> ApiError:
    return ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")


def _checked_body(body: TripRequestCreate) -> dict:
    data = body.model_dump(mode="json", exclude={"version"})
    data["planned_start"], data["planned_end"] = body.planned_start, body.planned_end
    return data


async def _known_cities(conn: asyncpg.Connection, body: TripRequestCreate) -> None:
    """Every place's city must be one the platform serves (422 unknown_city)."""
    codes = {body.origin.city_code, *(d.city_code for d in body.destinations)}
    if unknown := sorted(codes - await city_codes(conn, codes)):
        raise ApiError(422, f"Unknown city code(s): {', '.join(unknown)}.", code="unknown_city",
                       details={"city_codes": unknown})


@router.post("", response_model=TripRequestRead, status_code=201, responses=error_responses(401, 403, 422))
async def create_request(body: TripRequestCreate, user: CurrentUser, pool: PoolDep) -> dict:
    """File a request (草稿 draft); send `submit` to start the approval."""
    if not user.has_any_role(FILERS):
        raise ApiError(403, "Only requesters may file trip requests.", code="forbidden")
    data = _checked_body(body)
    async with pool.acquire() as conn:
        await _known_cities(conn, body)
        request_id = await store.insert(conn, user.id, user.org.id, data)
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id)
    return _read(row)


@router.put("/{request_id}", response_model=TripRequestRead,
            responses=error_responses(401, 403, 404, 409, 422))
async def update_draft(
    request_id: RequestId, body: TripRequestUpdate, user: CurrentUser, pool: PoolDep
) -> dict:
    """Rewrite your own draft (e.g. another car class after 用车制度 refused the submission);
    409 once it is submitted or when `version` is stale."""
    data = _checked_body(body)
    async with pool.acquire() as conn, conn.transaction():
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
        if row is None:
            raise _not_found(request_id)
        _check_owner(user, row)
        await _known_cities(conn, body)
        if row["state"] != RequestState.DRAFT.value:
            raise ApiError(409, "Only a draft can be changed.", code="not_a_draft",
                           details={"state": row["state"]})
        if await store.update_draft(conn, request_id, body.version, data) is None:
            raise ApiError(409, "The request changed since you read it; reload it.",
                           code="stale_version", details={"version": row["version"]})
        fresh = await store.fetch_in_scope(conn, request_id, user.scope_root_id)
    return _read(fresh)


@router.get("", response_model=TripRequestPage, responses=error_responses(401, 422))
async def list_requests(
    user: CurrentUser,
    pool: PoolDep,
    state: RequestState | None = None,
    mine: Annotated[bool, Query(description="only the requests I filed")] = False,
    awaiting_me: Annotated[bool, Query(
        description="only those whose next approval level I may decide (emergency post-approval "
                    "included)")] = False,
    decided_by_me: Annotated[bool, Query(description="only those I approved or rejected")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    """The requests of the units in your scope, newest planned start first (awaiting_me:
    soonest first)."""
    if awaiting_me and not user.has_any_role(EVENT_ROLES[RequestEvent.APPROVE]):
        return {"items": [], "total": 0}
    rows, total = await store.list_in_scope(
        pool, user.scope_root_id, None if state is None else state.value, limit, offset,
        applicant_id=user.id if mine else None,
        awaiting=(user.id, user.org.id) if awaiting_me else None,
        awaiting_any_level="admin" in user.roles,
        decided_by=user.id if decided_by_me else None,
    )
    return {"items": [_read(r) for r in rows], "total": total}


@router.get("/{request_id}", response_model=TripRequestRead, responses=error_responses(401, 404, 422))
async def get_request(request_id: RequestId, user: CurrentUser, pool: PoolDep) -> dict:
    row = await store.fetch_in_scope(pool, request_id, user.scope_root_id)
    if row is None:
        raise _not_found(request_id)
    return _read(row)


@router.get("/{request_id}/events", response_model=list[TripRequestEventRead],
            responses=error_responses(401, 404, 422))
async def request_history(request_id: RequestId, user: CurrentUser, pool: PoolDep) -> list[dict]:
    if await store.fetch_in_scope(pool, request_id, user.scope_root_id) is None:
        raise _not_found(request_id)
    return [dict(r) for r in await store.history(pool, request_id)]


@router.post("/{request_id}/events", response_model=TripRequestRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def send_event(
    request_id: RequestId, body: TripRequestEventIn, user: CurrentUser, pool: PoolDep
) -> dict:
    """Move the request on: submit, approve, reject (with the reason in `note`), withdraw, …

    Only the applicant (or an org admin / admin) submits or withdraws (403 not_your_request).
    submit runs the pre-checks (409 car_level_not_allowed: the request stays a draft), fixes
    the approval levels (capped to what distinct approvers can decide: chain_capped) and tells
    the first approvers. approve / reject decide the next level: never your own request
    (403 own_request); level 1 by an approver of the unit (of the nearest organisation above
    with approvers when it has none), later levels only from above the unit (403
    not_your_level), one level per person (409 already_approved_by_you). withdraw before any
    car left cancels the request's orders (a carpooled order keeps going without it); an
    emergency rejected before a car was held is rejected and its orders cancelled. Also 409
    when the event is not allowed in the request's state, or when `version` is not the
    current one."""
    note = body.note.strip()
    if body.event == RequestEvent.REJECT and not note:
        raise ApiError(422, "A rejection needs its reason in `note`.", code="reason_required")
    async with pool.acquire() as conn, conn.transaction():
        if body.event in (RequestEvent.WITHDRAW, RequestEvent.REJECT):
            await order_release_store.lock_orders_of_request(conn, request_id)  # orders first
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
        if row is None:
            raise _not_found(request_id)
        _authorise(user, body.event, row)
        if row["version"] != body.version:
            raise ApiError(409, "The request changed since you read it; reload it.",
                           code="stale_version", details={"version": row["version"]})
        before = store.to_domain(row)
        held = body.event == RequestEvent.REJECT and await order_release_store.cars_held(conn, request_id)
        try:
            after = apply(before, body.event, datetime.now(UTC), note, cars_held=held)
        except IllegalTransition as exc:
            raise ApiError(409, str(exc), code="illegal_transition",
                           details={"state": before.state.value, "allowed": exc.allowed}) from None
        if body.event in DECISIONS:
            await flow.check_decider(conn, user, row)
        if body.event == RequestEvent.SUBMIT:
            after = await _submit(conn, row, before, after, user, note)
        else:
            await store.save(conn, before, after, row["version"], body.event.value, user.id, note)
        if after.state == RequestState.WITHDRAWN:
            await flow.release_orders(conn, request_id, user.id, WITHDRAWN_NOTE)
        elif after.state == RequestState.REJECTED and before.state == RequestState.DISPATCHING:
            await flow.release_orders(conn, request_id, user.id, REJECTED_NOTE)
        await flow.notify_after(conn, body.event, row, after, note)
        fresh = await store.fetch_in_scope(conn, request_id, user.scope_root_id)
    return _read(fresh)


async def _submit(
    conn: asyncpg.Connection, row: asyncpg.Record, before: TripRequest, submitted: TripRequest,
    user: Principal, note: str,
) -> TripRequest:
    """Pre-checks, the levels they fix (and why: cross-city, night, holiday), then into the
    approval chain — or, for an emergency, straight to dispatching."""
    result = await flow.capped(conn, row, await flow.run_prechecks(conn, row, before))
    submitted = flow.with_levels(submitted, result)
    if result.approval_reasons and not note:
        note = "extra approval: " + ", ".join(result.approval_reasons)
    await store.save(conn, before, submitted, row["version"], RequestEvent.SUBMIT.value, user.id, note)
    checked = apply(submitted, RequestEvent.CHECKED, datetime.now(UTC))
    await store.save(conn, submitted, checked, row["version"] + 1, "checked", user.id,
                     ", ".join(result.warnings))
    await store.set_prechecks(conn, row["id"], list(result.warnings), list(result.approval_reasons))
    return checked


def _check_owner(user: Principal, row: asyncpg.Record) -> None:
    """Only the applicant, or an org admin / admin of the scope, acts for the request."""
    if row["applicant_id"] != user.id and not user.has_any_role(OWNER_STANDINS):
        raise ApiError(403, "Only the applicant (or an organisation admin) may submit, withdraw "
                       "or change this request.", code="not_your_request")


def _authorise(user: Principal, event: RequestEvent, row: asyncpg.Record) -> None:
    roles = EVENT_ROLES.get(event)
    if roles is None:
        raise ApiError(422, f"'{event.value}' is done by the system, not sent.", code="not_an_action")
    if event in OWNER_EVENTS:
        _check_owner(user, row)
        return
    if not user.has_any_role(roles):
        wanted = ", ".join(sorted(roles))
        raise ApiError(403, f"'{event.value}' requires one of the roles: {wanted}.", code="forbidden")
    if event in DECISIONS and row["applicant_id"] == user.id:
        raise ApiError(403, "You may not approve or reject your own request.", code="own_request")
