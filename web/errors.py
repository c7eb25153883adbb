"""One error shape for every API failure: {"error": {"code", "message", "details"}}.

Routes raise `ApiError` (or FastAPI's HTTPException); validation failures and anything
unexpected are turned into the same shape by the handlers installed in `install_error_handlers`.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.responses import JSONBytesResponse

log = logging.getLogger(__name__)

# Machine-readable codes for the statuses the API uses when a route gives none of its own.
_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An expected failure with its HTTP status, a stable code and a human message."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code or _CODE_BY_STATUS.get(status_code, "error")
        self.message = message
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status_code: int, code: str, message: str, details: Any = None, headers: dict | None = None
) -> JSONBytesResponse:
    return JSONBytesResponse(
        error_body(code, message, jsonable_encoder(details)),
        status_code=status_code,
        headers=headers,
    )


def _validation_message(errors: list[dict[str, Any]]) -> str:
    if any(err.get("type") == "json_invalid" for err in errors):
        return "The request body is not valid JSON."
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def _clean_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drops what should not be echoed back (raw input may hold a password, ctx may hold objects)."""
    return [
        {"loc": list(err.get("loc", ())), "type": err.get("type"), "msg": err.get("msg")}
        for err in errors
    ]


async def _api_error(_: Request, exc: Exception) -> JSONBytesResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(_: Request, exc: Exception) -> JSONBytesResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "error")
    detail = exc.detail
    message = detail if isinstance(detail, str) else code.replace("_", " ")
    details = None if isinstance(detail, str) else detail
    return error_response(exc.status_code, code, message, details, getattr(exc, "headers", None))


async def _validation_error(_: Request, exc: Exception) -> JSONBytesResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return error_response(
        422, "validation_error", _validation_message(errors), _clean_validation_errors(errors)
    )


async def _data_error(request: Request, exc: Exception) -> JSONBytesResponse:
    """A value PostgreSQL cannot take (an id past int32, a NUL byte in text): the caller's
    input is wrong, not the server."""
    log.info("refused input on %s %s: %s", request.method, request.url.path, exc)
    return error_response(422, "invalid_value", "A value in the request cannot be used.")


async def _unexpected_error(request: Request, exc: Exception) -> JSONBytesResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Internal server error.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(asyncpg.DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_error)
