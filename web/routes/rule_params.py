"""规则参数: every rule's parameters in force for an organisation, and a new version of them.

Reading: admins and inspectors for any organisation, org admins for those of their subtree
(another's: 404). Setting: admins only; each change is a new version (never an edit), audited,
and makes the rules judge the organisation's cars again from when it holds. Resolution is
supervision/params.py's: the nearest organisation on the path with a row, else the platform's
row, else the code defaults (version 0).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from supervision import settings_store
from supervision.param_checks import check_values
from supervision.params import DEFAULTS, RULE_IDS, ParamRow, merge
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.schemas.common import error_responses
from web.schemas.rule_settings import RuleParamsIn, RuleParamsRead, RuleParamsRow

router = APIRouter(prefix="/api/v1/rule-params", tags=["rule parameters"])
READERS = frozenset({"admin", "inspector", "org_admin"})
_ROW = "id, org_id, rule_id, version, params, valid_from, created_by, created_at, note"


async def _org_path(pool, org_id: int, user: Principal) -> list[int]:  # noqa: ANN001
    if not user.has_any_role(READERS):
        raise ApiError(403, "Rule parameters are for admins, inspectors and org admins.", code="forbidden")
    path = await pool.fetchval("SELECT path FROM organisations WHERE id = $1", org_id)
    wide = user.has_any_role(frozenset({"admin", "inspector"}))
    if path is None or (not wide and user.scope_root_id not in path):
        raise ApiError(404, f"Organisation {org_id} not found.", code="org_not_found")
    return list(path)


def _effective(rule_id: str, path: list[int], rows: list) -> dict:  # noqa: ANN001
    for org_id in [*reversed(path), None]:
        mine = [r for r in rows if r.rule_id == rule_id and r.org_id == org_id]
        if mine:
            row = max(mine, key=lambda r: r.version)
            return {"rule_id": rule_id, "version": row.version, "source_org_id": org_id,
                    "values": merge(DEFAULTS[rule_id], row.params), "defaults": DEFAULTS[rule_id]}
    return {"rule_id": rule_id, "version": 0, "source_org_id": None,
            "values": DEFAULTS[rule_id], "defaults": DEFAULTS[rule_id]}


@router.get("", response_model=RuleParamsRead, responses=error_responses(401, 403, 404, 422))
async def effective_params(
    user: CurrentUser, pool: PoolDep,
    org_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="default: your own scope")] = None,
) -> dict:
    """Each rule's values in force for the organisation's cars now, where they come from, and
    the version history of the organisation's and the platform's rows."""
    org_id = org_id or user.scope_root_id
    path = await _org_path(pool, org_id, user)
    stored = await pool.fetch(
        f"""SELECT {_ROW} FROM rule_params WHERE (org_id = ANY($1::int[]) OR org_id IS NULL)
              AND valid_from <= now() ORDER BY created_at DESC, id DESC""", path)
    rows = [ParamRow(r["org_id"], r["rule_id"], r["version"], r["params"]) for r in stored]
    history = await pool.fetch(
        f"""SELECT {_ROW} FROM rule_params WHERE org_id = $1 OR org_id IS NULL
            ORDER BY created_at DESC, id DESC LIMIT 200""", org_id)
    return {"org_id": org_id, "rules": [_effective(rule, path, rows) for rule in RULE_IDS],
            "history": [dict(r) for r in history]}


@router.post("", response_model=RuleParamsRow, status_code=201,
             responses=error_responses(401, 403, 404, 422))
async def set_params(body: RuleParamsIn, user: CurrentUser, pool: PoolDep) -> dict:
    """A new version of an organisation's (or, org_id null, the platform's) values of one rule:
    only the values given are set; unknown names or wrong kinds are 422 bad_params."""
    if "admin" not in user.roles:
        raise ApiError(403, "Only admins set rule parameters.", code="forbidden")
    if body.org_id is not None:
        await _org_path(pool, body.org_id, user)
    problems = check_values(body.rule_id, body.params)
    if problems:
        raise ApiError(422, "; ".join(problems[:5]), code="bad_params", details={"problems": problems})
    async with pool.acquire() as conn, conn.transaction():
        row = await settings_store.add_rule_params(conn, body.org_id, body.rule_id, body.params,
                                                   body.note.strip(), user.id, body.valid_from)
    return dict(row)
