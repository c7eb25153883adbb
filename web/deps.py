"""Dependencies as Annotated aliases: routes declare what they need, the lifespan provides it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from redis.asyncio import Redis

from fleet.config import Settings
from web.errors import ApiError
from web.principal import VEHICLE_ROLES, Principal
from web.queries.users import principal_by_id
from web.resources import Resources
from web.sessions import SESSION_COOKIE


def get_resources(request: Request) -> Resources:
    return request.app.state.resources


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_pool(resources: Annotated[Resources, Depends(get_resources)]) -> asyncpg.Pool:
    return resources.pool


def get_redis(resources: Annotated[Resources, Depends(get_resources)]) -> Redis:
    return resources.redis


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
RedisDep = Annotated[Redis, Depends(get_redis)]


async def optional_user(request: Request, resources: ResourcesDep) -> Principal | None:
    """The user behind the session cookie, or None (no cookie, bad signature, expired, inactive)."""
    user_id = await resources.sessions.user_id(request.cookies.get(SESSION_COOKIE))
    if user_id is None:
        return None
    return await principal_by_id(resources.pool, user_id)


async def current_user(user: Annotated[Principal | None, Depends(optional_user)]) -> Principal:
    if user is None:
        raise ApiError(401, "Login required.", code="not_authenticated")
    return user


OptionalUser = Annotated[Principal | None, Depends(optional_user)]
CurrentUser = Annotated[Principal, Depends(current_user)]


def require_roles(roles: frozenset[str]) -> Callable[[Principal], Principal]:
    def check(user: CurrentUser) -> Principal:
        if not user.has_any_role(roles):
            wanted = ", ".join(sorted(roles))
            raise ApiError(403, f"This requires one of the roles: {wanted}.", code="forbidden")
        return user

    return check


VehicleUser = Annotated[Principal, Depends(require_roles(VEHICLE_ROLES))]
AdminUser = Annotated[Principal, Depends(require_roles(frozenset({"admin"})))]
