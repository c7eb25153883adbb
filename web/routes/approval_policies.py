"""Approval policies (审批规则) per organisation and trip type.

Anyone may read the policies that govern their scope (those of their node, above it and below
it). Platform admins set them for any organisation; an org admin for their own organisation and
the ones below it. A request takes the nearest organisation's policy (pick_policy)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path
from starlette.responses import Response

from dispatch import policy_store
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.schemas.approval_policies import (
    ApprovalPolicyCreate,
    ApprovalPolicyRead,
    ApprovalPolicyRules,
)
from web.schemas.common import error_responses

router = APIRouter(prefix="/api/v1/approval-policies", tags=["approval policies"])
PolicyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Approval policy id")]

EDITORS = frozenset({"admin", "org_admin"})


def _may_edit(user: Principal, org_path: list[int]) -> bool:
    """Admins edit anywhere; an org admin inside their own subtree."""
    if "admin" in user.roles:
        return True
    return "org_admin" in user.roles and user.scope_root_id in org_path


def _visible(user: Principal, org_id: int, org_path: list[int], scope_path: list[int]) -> bool:
    return "admin" in user.roles or user.scope_root_id in org_path or org_id in scope_path


async def _scope_path(conn: asyncpg.Connection | asyncpg.Pool, user: Principal) -> list[int]:
    org = await policy_store.organisation(conn, user.scope_root_id)
    return list(org["path"]) if org else []


def _read(row: asyncpg.Record, user: Principal) -> dict:
    item = dict(row)
    item["editable"] = _may_edit(user, list(row["org_path"]))
    return item


def _require_editor(user: Principal) -> None:
    if not user.has_any_role(EDITORS):
        raise ApiError(403, "Only admins and org admins set approval policies.", code="forbidden")


async def _check_org(conn: asyncpg.Connection, user: Principal, org_id: int) -> None:
    """404 for an organisation that does not exist or that the user cannot see; 403 for one
    they see (above them) but may not set."""
    org = await policy_store.organisation(conn, org_id)
    if org is None or not _visible(user, org_id, list(org["path"]), await _scope_path(conn, user)):
        raise ApiError(404, f"Organisation {org_id} not found.", code="organisation_not_found")
    if not _may_edit(user, list(org["path"])):
        raise ApiError(403, "You may set the policies of your own organisation and those below it.",
                       code="forbidden")


async def _policy_to_edit(conn: asyncpg.Connection, user: Principal, policy_id: int) -> asyncpg.Record:
    row = await policy_store.fetch(conn, policy_id)
    if row is None or not _visible(user, row["org_id"], list(row["org_path"]), await _scope_path(conn, user)):
        raise ApiError(404, f"Approval policy {policy_id} not found.", code="approval_policy_not_found")
    if not _may_edit(user, list(row["org_path"])):
        raise ApiError(403, "You may change the policies of your own organisation and those below it.",
                       code="forbidden")
    return row


@router.get("", response_model=list[ApprovalPolicyRead], responses=error_responses(401))
async def list_policies(user: CurrentUser, pool: PoolDep) -> list[dict]:
    """The policies of the caller's scope node, of the organisations above it and below it,
    from the root down (a policy for every trip type first)."""
    return [_read(r, user) for r in await policy_store.list_visible(pool, user.scope_root_id)]


@router.post("", response_model=ApprovalPolicyRead, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
async def create_policy(body: ApprovalPolicyCreate, user: CurrentUser, pool: PoolDep) -> dict:
    """A policy for an organisation, for one trip type or (trip_type null) for all of them;
    409 when that organisation already has one for that trip type."""
    _require_editor(user)
    rules = body.model_dump(include=set(policy_store.RULE_FIELDS))
    trip_type = None if body.trip_type is None else body.trip_type.value
    async with pool.acquire() as conn, conn.transaction():
        await _check_org(conn, user, body.org_id)
        try:
            async with conn.transaction():
                policy_id = await policy_store.insert(conn, body.org_id, trip_type, rules)
        except asyncpg.UniqueViolationError:
            raise ApiError(409, "This organisation already has a policy for this trip type; change "
                           "that one instead.", code="policy_exists") from None
        row = await policy_store.fetch(conn, policy_id)
    return _read(row, user)


@router.put("/{policy_id}", response_model=ApprovalPolicyRead,
            responses=error_responses(401, 403, 404, 422))
async def update_policy(
    policy_id: PolicyId, body: ApprovalPolicyRules, user: CurrentUser, pool: PoolDep
) -> dict:
    """Replace a policy's rules (its organisation and trip type stay)."""
    _require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        await _policy_to_edit(conn, user, policy_id)
        await policy_store.update(conn, policy_id, body.model_dump())
        row = await policy_store.fetch(conn, policy_id)
    return _read(row, user)


@router.delete("/{policy_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_policy(policy_id: PolicyId, user: CurrentUser, pool: PoolDep) -> Response:
    """Requests of the organisation then take the next policy up its path."""
    _require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        await _policy_to_edit(conn, user, policy_id)
        await policy_store.delete(conn, policy_id)
    return Response(status_code=204)
