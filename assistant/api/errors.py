"""The one place errors become HTTP: Tether's error tree (core/errors.py) mapped to statuses.

NotFoundError        404        AuthenticationError   401 (WWW-Authenticate: Bearer)
ForbiddenError       403        ConflictError         409
DatabaseError        503        ConfigurationError    500, naming the setting
a malformed request  422, with every field that is wrong
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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

_STATUS: dict[type[TetherError], int] = {
    NotFoundError: 404,
    ForbiddenError: 403,
    ConflictError: 409,
}


async def _plain(_: Request, exc: Exception) -> JSONResponse:
    code = next((code for error, code in _STATUS.items() if isinstance(exc, error)), 500)
    return JSONResponse(status_code=code, content={"detail": str(exc)})


async def _unauthenticated(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=401, content={"detail": str(exc)}, headers={"WWW-Authenticate": "Bearer"}
    )


async def _misconfigured(_: Request, exc: Exception) -> JSONResponse:
    # The operator's fault, not the caller's: a server error that says which setting.
    log.error("misconfigured", extra={"error": str(exc)})
    return JSONResponse(status_code=500, content={"detail": f"the server is misconfigured: {exc}"})


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
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
    return JSONResponse(
        status_code=422, content={"detail": f"malformed request: {summary}", "errors": errors}
    )


def install(app: FastAPI) -> None:
    for error in _STATUS:
        app.add_exception_handler(error, _plain)
    app.add_exception_handler(AuthenticationError, _unauthenticated)
    app.add_exception_handler(ConfigurationError, _misconfigured)
    app.add_exception_handler(DatabaseError, _database_down)
    app.add_exception_handler(RequestValidationError, _malformed)
