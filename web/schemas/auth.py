"""Login and the current user."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class OrgRead(BaseModel):
    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    city_code: str | None


class MeRead(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    cleared_confidential: bool
    org: OrgRead
    scope_org: OrgRead
    pages: list[str] = []  # the pages this user may open, in menu order (web/navigation.py)
    landing: str = "/console"  # where to go after login
