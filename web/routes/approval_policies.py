"""Approval policies (审批规则) per organisation and trip type."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/approval-policies", tags=["approval policies"])
