"""Every error leaves the API as `{"error": {"code", "message"}}` JSON."""

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)

# Codes for errors raised by the framework itself (unknown route, wrong method, ...).
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}
_MAX_DETAILS = 20
_CONNECT_FAILED = "Failed client connect"


class ErrorDetail(BaseModel):
    """One problem of a request that failed validation."""

    location: str
    message: str


class ErrorInfo(BaseModel):
    """What went wrong: a stable code and a message for people."""

    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


# Documented on every operation, so that clients (and the schema fuzzing) know the shape.
# 429 is documented only on the rate-limited routes.
_DOCUMENTED = {s: c for s, c in _STATUS_CODES.items() if s != 429}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": code.replace("_", " ")}
    for status, code in sorted(
        {**_DOCUMENTED, 500: "internal_error", 502: "temporal_error"}.items()
    )
}


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable machine-readable code."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of an error response."""
    return {"error": {"code": code, "message": message, **extra}}


async def send_error(
    send: Send, status: int, code: str, message: str, headers: Sequence[tuple[bytes, bytes]]
) -> None:
    """Answer an error from ASGI middleware, before any route (and its parsing) runs."""
    payload = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def error_response(
    status_code: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_body(code, message, **extra), status_code, headers=headers)


# A 503 says when to come back, so a sender under load retries instead of timing out.
_RETRY = {"Retry-After": "1"}


def install_error_handlers(app: FastAPI) -> None:
    """Turn framework, validation, Temporal and unexpected errors into the JSON shape."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RPCError, _temporal_error)
    app.add_exception_handler(RPCTimeoutOrCancelledError, _temporal_timeout)
    app.add_exception_handler(RuntimeError, _runtime_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [_detail(error) for error in exc.errors()[:_MAX_DETAILS]]
    message = "; ".join(f"{d['location']}: {d['message']}" for d in details[:3]) or "invalid"
    return error_response(422, "validation_error", message, details=details)


async def _temporal_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        log.warning("Temporal unavailable: %s", exc)
        return error_response(
            503, "temporal_unavailable", "the case engine is unavailable", headers=_RETRY
        )
    if exc.status is RPCStatusCode.RESOURCE_EXHAUSTED:
        log.warning("Temporal over its limits: %s", exc)
        return error_response(503, "temporal_busy", "the case engine is busy", headers=_RETRY)
    log.error("Temporal call failed: %s", exc, exc_info=exc)
    return error_response(502, "temporal_error", "the case engine refused the call")


async def _temporal_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.warning("Temporal call timed out: %s", exc)
    return error_response(
        503, "temporal_unavailable", "the case engine did not answer in time", headers=_RETRY
    )


async def _runtime_error(request: Request, exc: Exception) -> JSONResponse:
    # The lazily connected client raises a bare RuntimeError while Temporal is unreachable.
    if str(exc).startswith(_CONNECT_FAILED):
        log.warning("Temporal unreachable: %s", exc)
        return error_response(
            503, "temporal_unavailable", "the case engine is unavailable", headers=_RETRY
        )
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log only: it may name internals or data.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "unexpected error; see the server log")


def _detail(error: Mapping[str, Any]) -> dict[str, str]:
    # Inputs are left out on purpose: they may carry contacts or secrets.
    location: Sequence[Any] = error.get("loc", ())
    return {"location": ".".join(str(part) for part in location), "message": str(error["msg"])}
