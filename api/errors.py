"""Every error the API gives is JSON ``{"detail": ...}``: user errors are 4xx with a zh/en message, never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.editing import OverlapError, StaleVersionError
from geo.errors import ConflictError, CRSError, DataError, NotFoundError, RenewalError

#: Where 5xx answers are explained: the request and the traceback, never in the response body.
log = logging.getLogger("renewal.api")

#: HTTP status for each error class of `geo.errors` (most specific first).
STATUS: tuple[tuple[type[RenewalError], int], ...] = (
    (StaleVersionError, 412),
    (ConflictError, 409),
    (NotFoundError, 404),
    (CRSError, 400),
    (DataError, 422),
    (RenewalError, 400),
)


def request_lang(request: Request) -> str:
    """``?lang=en`` or an English ``Accept-Language`` gives English messages; Chinese otherwise."""
    lang = request.query_params.get("lang")
    if lang in ("zh", "en"):
        return lang
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def status_for(exc: RenewalError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


async def renewal_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RenewalError)
    body: dict[str, object] = {"detail": exc.message(request_lang(request))}
    if isinstance(exc, OverlapError):
        body["overlaps"] = exc.overlaps
    if isinstance(exc, StaleVersionError):
        body["current_version"] = exc.current
    if exc.rows:
        body["rows"] = [str(r) for r in exc.rows]
    headers = {"ETag": f'"{exc.current}"'} if isinstance(exc, StaleVersionError) else None
    return JSONResponse(body, status_code=status_for(exc), headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": problems}, status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database dropped or refused the connection (restart, failover): tell the client to retry, as JSON."""
    if isinstance(exc, DBAPIError) and not (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    ):
        # Handled here, so not re-raised to the server's own error log like other exceptions: log it ourselves.
        log.error("500 %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
        return await internal_error(request, exc)
    log.warning("503 %s %s: database unavailable: %s", request.method, request.url.path, exc, exc_info=exc)
    return JSONResponse(
        {"detail": "数据库暂时不可用，请稍后重试 / the database is unavailable, retry shortly"},
        status_code=503,
        headers={"Retry-After": "2"},
    )


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not bad input: still JSON, without internals (the traceback goes to the server log)."""
    return JSONResponse({"detail": "服务器内部错误 / internal server error"}, status_code=500)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """422 bodies carry either FastAPI's list of field problems or one zh/en message (a `DataError`)."""
    comps = schema.get("components", {}).get("schemas", {})
    if "HTTPValidationError" in comps:
        comps["HTTPValidationError"]["properties"]["detail"] = {
            "title": "Detail",
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
            ],
        }
    return schema


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(Exception, internal_error)
    for cls in (DBAPIError, DisconnectionError, PoolTimeout):
        app.add_exception_handler(cls, database_unavailable)
    app.add_exception_handler(RenewalError, renewal_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
