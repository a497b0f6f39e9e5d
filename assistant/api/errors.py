"""The one place errors become HTTP: Tether's error tree (core/errors.py) mapped to statuses.

NotFoundError        404        AuthenticationError   401 (WWW-Authenticate: Bearer)
ForbiddenError       403        ConflictError         409
DatabaseError        503        ConfigurationError    500, naming the setting
    BusyError            503 with Retry-After: every place for a message is taken
RateLimitedError     429 (Retry-After, in seconds)
a malformed request  422, with every field that is wrong
(a body over TETHER_MAX_BODY_BYTES is 413 before it is read: assistant/api/middleware.py)

Every error body is ``{"detail": "...", "errors": [...]}`` (schemas.ErrorPublic; ``errors`` only
on a 422: schemas.ValidationErrorPublic), and is always valid UTF-8.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from assistant.api.ratelimit import RateLimitedError
from assistant.workers import BusyError
from core.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    DatabaseError,
    ForbiddenError,
    NotFoundError,
    TetherError,
)

log = logging.getLogger(__name__)


class ErrorResponse(JSONResponse):
    """JSON that is valid UTF-8 whatever it quotes (a lone surrogate becomes U+FFFD)."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode("utf-8")


_STATUS: dict[type[TetherError], int] = {
    NotFoundError: 404,
    ForbiddenError: 403,
    ConflictError: 409,
}


async def _plain(_: Request, exc: Exception) -> JSONResponse:
    code = next((code for error, code in _STATUS.items() if isinstance(exc, error)), 500)
    return ErrorResponse(status_code=code, content={"detail": str(exc)})


async def _unauthenticated(_: Request, exc: Exception) -> JSONResponse:
    return ErrorResponse(
        status_code=401, content={"detail": str(exc)}, headers={"WWW-Authenticate": "Bearer"}
    )


async def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    wait = exc.retry_after if isinstance(exc, RateLimitedError) else 60
    return ErrorResponse(
        status_code=429, content={"detail": str(exc)}, headers={"Retry-After": str(wait)}
    )


async def _busy(_: Request, exc: Exception) -> JSONResponse:
    # Every place for a message is taken: refused before anything was stored, so nothing is
    # lost; the client is told when to try again.
    wait = exc.retry_after if isinstance(exc, BusyError) else 5
    return ErrorResponse(
        status_code=503, content={"detail": str(exc)}, headers={"Retry-After": str(wait)}
    )


async def _misconfigured(_: Request, exc: Exception) -> JSONResponse:
    # The operator's fault, not the caller's: a server error that says which setting.
    log.error("misconfigured", extra={"error": str(exc)})
    return ErrorResponse(status_code=500, content={"detail": f"the server is misconfigured: {exc}"})


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    return ErrorResponse(
        status_code=503,
        content={"detail": f"the conversation database is unavailable, retry later ({exc})"},
    )


async def _malformed(_: Request, exc: Exception) -> JSONResponse:
    found = exc.errors() if isinstance(exc, RequestValidationError) else []
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in found
    ]
    summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return ErrorResponse(
        status_code=422, content={"detail": f"malformed request: {summary}", "errors": errors}
    )


def install(app: FastAPI) -> None:
    for error in _STATUS:
        app.add_exception_handler(error, _plain)
    app.add_exception_handler(AuthenticationError, _unauthenticated)
    app.add_exception_handler(RateLimitedError, _rate_limited)
    app.add_exception_handler(ConfigurationError, _misconfigured)
    app.add_exception_handler(DatabaseError, _database_down)
    app.add_exception_handler(BusyError, _busy)
    app.add_exception_handler(RequestValidationError, _malformed)
