"""Rental companies' operators (租赁公司): incoming orders, accept with car and driver, reject."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/rental", tags=["rental companies"])
