"""Login, logout and the current user (session cookie)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from fastapi import APIRouter, Request, Response

from fleet.passwords import hash_password, verify_password
from web.deps import CurrentUser, ResourcesDep, SettingsDep
from web.errors import ApiError
from web.navigation import landing_path, pages_for
from web.principal import OrgRef, Principal
from web.queries.users import login_row, principal_by_id
from web.schemas.auth import LoginIn, MeRead, OrgRead
from web.schemas.common import error_responses
from web.sessions import SESSION_COOKIE

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verifying against a throwaway hash for unknown users keeps their timing like known ones'.
    return hash_password("no-such-user-dummy-password")


def _org(org: OrgRef) -> OrgRead:
    return OrgRead(
        id=org.id,
        code=org.code,
        kind=org.kind,
        name_zh=org.name_zh,
        name_en=org.name_en,
        city_code=org.city_code,
    )


def me_read(user: Principal) -> MeRead:
    return MeRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.roles),
        cleared_confidential=user.cleared_confidential,
        org=_org(user.org),
        scope_org=_org(user.scope_org),
        pages=[page.path for page in pages_for(user.roles)],
        landing=landing_path(user.roles),
    )


@router.post("/login", response_model=MeRead, responses=error_responses(401, 422, 429))
async def login(
    login_in: LoginIn,
    request: Request,
    response: Response,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> MeRead:
    username = login_in.username.strip()
    verdict = await resources.throttle.check(username)
    if verdict.blocked:
        raise ApiError(
            429,
            f"Too many failed logins for this account; try again in {verdict.retry_after_s} s.",
            code="login_throttled",
            headers={"Retry-After": str(verdict.retry_after_s)},
        )
    row = await login_row(resources.pool, username)
    password_hash = row.password_hash if row is not None else _dummy_hash()
    # argon2 is deliberately slow: keep it off the event loop.
    valid = await asyncio.to_thread(verify_password, password_hash, login_in.password)
    user = await principal_by_id(resources.pool, row.user_id) if valid and row else None
    if user is None:
        await resources.throttle.record_failure(username)
        raise ApiError(401, "Wrong username or password.", code="invalid_credentials")
    await resources.throttle.clear(username)
    # A new session id at every login (no fixation); the previous one, if any, ends.
    await resources.sessions.delete(request.cookies.get(SESSION_COOKIE))
    cookie = await resources.sessions.create(user.id)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return me_read(user)


@router.post("/logout", status_code=204, responses=error_responses(401))
async def logout(_user: CurrentUser, request: Request, resources: ResourcesDep) -> Response:
    await resources.sessions.delete(request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/me", response_model=MeRead, responses=error_responses(401))
async def me(user: CurrentUser) -> MeRead:
    return me_read(user)
