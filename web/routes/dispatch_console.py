"""The dispatcher's console API: the queue of requests, cars for a request, carpool proposals."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch console"])
