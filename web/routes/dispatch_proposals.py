"""Proposals (方案) for the dispatcher's queue (issue #6, online use): the optimizer plans the
waiting requests — which car takes which, in which order, shared rides where the rules allow —
the dispatcher looks at the routes on the map, accepts them all or some cars' routes (they
become dispatch orders through the ordinary path, every check applied), pins a car to a
request and asks again, or rejects the proposal. A background re-plan may improve an open
proposal (a new revision) within seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from web import proposal_keeper as keeper
from web import proposal_service
from web.deps import CurrentUser, ResourcesDep, SettingsDep
from web.errors import ApiError
from web.order_events import DISPATCHERS
from web.principal import Principal
from web.proposal_accept import accept_route
from web.schemas.common import error_responses
from web.schemas.dispatch_proposals import AcceptRead, ProposalAccept, ProposalCreate, ProposalRead

router = APIRouter(prefix="/api/v1/dispatch/proposals", tags=["dispatch proposals"])
ProposalIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Proposal id")]


def _dispatcher(user: Principal) -> None:
    if not user.has_any_role(DISPATCHERS):
        raise ApiError(403, "Proposals are for dispatchers.", code="forbidden")


def read(record: dict[str, Any], number: int | None = None) -> dict[str, Any]:
    shown = keeper.latest(record) if number is None else keeper.revision(record, number)
    accepted = set(record["accepted_vehicle_ids"])
    routes = [route | {"accepted": route["vehicle_id"] in accepted} for route in shown["routes"]]
    return {
        "id": record["id"], "revision": shown["revision"],
        "revisions": [r["revision"] for r in record["revisions"]], "state": record["state"],
        "solver": shown["solver"], "replanning": record["replanning"],
        "created_at": record["created_at"], "revised_at": shown["at"],
        "request_ids": record["request_ids"],
        "pins": [{"request_id": int(k), "vehicle_id": v} for k, v in record["pins"].items()],
        "totals": shown["totals"], "routes": routes, "unserved": shown["unserved"],
    }


async def _load(resources, prefix: str, proposal_id: str, user: Principal) -> dict[str, Any]:
    record = await keeper.load(resources.redis, prefix, proposal_id)
    if record is None or record["scope_root_id"] != user.scope_root_id:
        raise ApiError(404, f"Proposal {proposal_id} not found (or expired).",
                       code="proposal_not_found")
    return record


@router.post("", response_model=ProposalRead, status_code=201,
             responses=error_responses(401, 403, 422))
async def propose(body: ProposalCreate, user: CurrentUser, resources: ResourcesDep,
                  settings: SettingsDep) -> dict[str, Any]:
    """Plan the queue (or `request_ids` of it): routes per car with cost, km and the orders
    they make (shared rides merged), and the requests left out with the reason. With
    `base_proposal_id`, the previous proposal is the starting point (its selection and pins
    carry over; new requests are inserted into it) — pin a car with `pins` and ask again. A
    background re-plan follows for up to `replan_s` seconds (GET shows its revision)."""
    _dispatcher(user)
    pins = {p.request_id: p.vehicle_id for p in body.pins}
    if body.base_proposal_id is not None:
        await _load(resources, settings.redis_prefix, body.base_proposal_id, user)
    record = await proposal_service.propose(resources, settings.redis_prefix, user,
                                            body.request_ids, body.base_proposal_id, pins,
                                            body.replan_s)
    return read(record)


@router.get("/{proposal_id}", response_model=ProposalRead,
            responses=error_responses(401, 403, 404, 422))
async def get_proposal(proposal_id: ProposalIdPath, user: CurrentUser, resources: ResourcesDep,
                       settings: SettingsDep) -> dict[str, Any]:
    """The proposal's latest revision (`replanning` while the background re-plan runs)."""
    _dispatcher(user)
    return read(await _load(resources, settings.redis_prefix, proposal_id, user))


@router.post("/{proposal_id}/accept", response_model=AcceptRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def accept(proposal_id: ProposalIdPath, body: ProposalAccept, user: CurrentUser,
                 resources: ResourcesDep, settings: SettingsDep) -> dict[str, Any]:
    """Accept the routes of the revision you were shown — all, or `vehicle_ids` — as dispatch
    orders: each order opened (merged for a shared ride) and assigned its car and a free
    driver through the ordinary path (POST /api/v1/dispatch-orders, then `assign`), so every
    check applies; a refused order is reported with its code and stays in the queue."""
    _dispatcher(user)
    prefix = settings.redis_prefix
    async with keeper.lock(resources.redis, prefix, proposal_id):
        record = await _load(resources, prefix, proposal_id, user)
        if record["state"] in ("accepted", "rejected"):
            raise ApiError(409, f"The proposal is {record['state']} already.",
                           code="proposal_closed", details={"state": record["state"]})
        shown = keeper.revision(record, body.revision)
        if shown is None:
            raise ApiError(409, "That revision of the proposal is gone; reload it.",
                           code="stale_proposal", details={"revision": keeper.latest(record)["revision"]})
        done_before = set(record["accepted_vehicle_ids"])
        routes = [r for r in shown["routes"] if r["vehicle_id"] not in done_before]
        if body.vehicle_ids is not None:
            unknown = sorted(set(body.vehicle_ids) - {r["vehicle_id"] for r in routes})
            if unknown:
                raise ApiError(422, f"No open route of the proposal for cars {unknown}.",
                               code="unknown_route", details={"vehicle_ids": unknown})
            routes = [r for r in routes if r["vehicle_id"] in set(body.vehicle_ids)]
        orders, refused = [], []
        for route in routes:
            done, failed = await accept_route(resources.pool, user, route, record["open_orders"])
            orders += done
            refused += failed
            record["accepted_vehicle_ids"].append(route["vehicle_id"])
        every = {r["vehicle_id"] for r in shown["routes"]}
        record["state"] = "accepted" if every <= set(record["accepted_vehicle_ids"]) \
            else "partly_accepted"
        record["outcomes"] += orders + refused
        record["accepted_at"] = datetime.now(UTC)
        await keeper.save(resources.redis, prefix, record)
    return {"proposal": read(record, body.revision), "orders": orders, "refused": refused}


@router.post("/{proposal_id}/reject", response_model=ProposalRead,
             responses=error_responses(401, 403, 404, 409, 422))
async def reject(proposal_id: ProposalIdPath, user: CurrentUser, resources: ResourcesDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """Discard the proposal (nothing was written; its background re-plan is ignored)."""
    _dispatcher(user)
    prefix = settings.redis_prefix
    async with keeper.lock(resources.redis, prefix, proposal_id):
        record = await _load(resources, prefix, proposal_id, user)
        if record["state"] == "accepted":
            raise ApiError(409, "The proposal was accepted already.", code="proposal_closed",
                           details={"state": record["state"]})
        record["state"] = "rejected"
        record["replanning"] = False
        await keeper.save(resources.redis, prefix, record)
    return read(record)
