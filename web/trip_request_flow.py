"""What happens around a trip request's transitions, inside the command's transaction: the
pre-checks of a submission (policy, 用车制度, 车补, approval levels capped to the approvers
there are), who may decide a level of the approval chain, the orders a withdrawn request (or a
rejected emergency) lets go, and who is told (通知) — the approvers who can act next, the
applicant once it is decided. The route (web/routes/trip_requests.py) owns the transaction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import asyncpg

from dispatch import notification_store, order_release_store, order_store, policy_store, store
from dispatch.approval_chain import Chain
from dispatch.calendar import is_working_day
from dispatch.orders import OrderEvent, OrderState
from dispatch.prechecks import PrecheckRefused, PrecheckResult, precheck
from dispatch.trip_requests import RequestEvent, RequestState, TripRequest
from web import order_events
from web.errors import ApiError
from web.principal import Principal

CHAIN_CAPPED = "chain_capped"  # approval_reasons: fewer levels, for want of approvers
# A cancelled order lets its car and driver go (as the dispatch order API's cancel does).
_CLEARED = {"vehicle_id": None, "driver_id": None, "assigned_at": None, "accepted_at": None}


async def run_prechecks(conn: asyncpg.Connection, row: asyncpg.Record, request: TripRequest) -> PrecheckResult:
    """The submission's pre-checks under the policy that governs the unit and trip type;
    409 car_level_not_allowed (the request stays a draft) when 用车制度 refuses the car class."""
    policy = await policy_store.policy_for(conn, row["org_id"], request.trip_type)
    subsidised = await store.transport_subsidy(conn, row["applicant_id"])
    try:
        return precheck(request, row["car_level_wanted"], policy, subsidised, is_working_day)
    except PrecheckRefused as refused:
        raise ApiError(409, refused.message, code=refused.code, details=refused.details) from None


def with_levels(request: TripRequest, result: PrecheckResult) -> TripRequest:
    return replace(request, approval_levels=result.approval_levels)


async def chain_of(conn: asyncpg.Connection, row: asyncpg.Record) -> Chain:
    path = list(row["org_path"])
    return Chain.of(path, await store.approvers_on_path(conn, path), row["applicant_id"],
                    await store.deciders(conn, row["id"]))


async def capped(conn: asyncpg.Connection, row: asyncpg.Record, result: PrecheckResult) -> PrecheckResult:
    """No more levels than distinct people can decide: a chain nobody can complete would
    leave the request waiting for ever. The cap is kept as the reason chain_capped."""
    most = (await chain_of(conn, row)).completable_levels()
    if result.approval_levels <= most:
        return result
    return replace(result, approval_levels=most,
                   approval_reasons=(*result.approval_reasons, CHAIN_CAPPED))


async def check_decider(conn: asyncpg.Connection, user: Principal, row: asyncpg.Record) -> None:
    """May this person approve or reject the request's next level? 403 own_request or
    not_your_level, or 409 already_approved_by_you (one person, one level)."""
    level = row["approved_levels"] + 1
    chain = await chain_of(conn, row)
    refused = chain.refusal(level, user.id, user.org.id, any_level="admin" in user.roles)
    if refused is not None:
        status = 409 if refused.code == "already_approved_by_you" else 403
        raise ApiError(status, refused.message, code=refused.code,
                       details={"level": level, "approval_levels": row["approval_levels"]})


def _payload(row: asyncpg.Record, after: TripRequest, **extra: Any) -> dict[str, Any]:
    data = {
        "request_id": row["id"], "reason": row["reason"],
        "planned_start": row["planned_start"].isoformat(), "trip_type": row["trip_type"],
        "applicant_name": row["applicant_name"], "org_name_zh": row["org_name_zh"],
        "org_name_en": row["org_name_en"], "level": after.approved_levels + 1,
        "approval_levels": after.approval_levels, "emergency": after.emergency,
    }
    if after.emergency_deadline is not None:
        data["emergency_deadline"] = after.emergency_deadline.isoformat()
    return {**data, **extra}


async def _ask_next_level(conn: asyncpg.Connection, row: asyncpg.Record, after: TripRequest) -> None:
    people = (await chain_of(conn, row)).next_approvers(after.approved_levels + 1)
    await notification_store.notify(conn, people, "approval_pending", _payload(row, after))


async def notify_after(
    conn: asyncpg.Connection, event: RequestEvent, row: asyncpg.Record, after: TripRequest, note: str
) -> None:
    """Tell who must act next, or the applicant once the approval is decided."""
    applicant = [row["applicant_id"]]
    waiting = after.state == RequestState.PENDING_APPROVAL or (
        after.emergency and after.emergency_deadline is not None and after.emergency_approved is None)
    if event == RequestEvent.REJECT:
        await notification_store.notify(conn, applicant, "request_rejected",
                                        _payload(row, after, rejection_reason=note), text=note)
    elif event == RequestEvent.APPROVE and (
            after.state == RequestState.APPROVED or after.emergency_approved is True):
        await notification_store.notify(conn, applicant, "request_approved", _payload(row, after))
    elif event in (RequestEvent.SUBMIT, RequestEvent.APPROVE) and waiting:
        await _ask_next_level(conn, row, after)


async def release_orders(conn: asyncpg.Connection, request_id: int, actor_id: int, note: str) -> None:
    """A request withdrawn before any car left (or an emergency rejected before a car was
    held): each of its orders that has not departed is cancelled — the car and driver let go,
    the driver, the rental company and the applicants told — unless it also carries another
    request still going (公务拼车): then only this request leaves it, noted in its events."""
    for order in await order_release_store.orders_before_departure(conn, request_id):
        others = [rid for rid in order["request_ids"] or [] if rid != request_id]
        live = await order_release_store.live_request_ids(conn, others)
        state = order["state"]
        if live:
            await order_release_store.remove_request(conn, order["id"], request_id, live[0])
            await order_store.save_order(
                conn, order["id"], order["version"], state, state, "request_removed", actor_id,
                f"#{request_id} {note}", {},
                {"request_id": request_id})
            continue
        await order_store.save_order(conn, order["id"], order["version"], state,
                                     OrderState.CANCELLED.value, OrderEvent.CANCEL.value, actor_id,
                                     note, dict(_CLEARED))
        await order_events.notify_cancelled(conn, order["id"], order)
