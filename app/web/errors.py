"""Domain errors become HTTP answers here, and nowhere else.

Every refusal of the JSON API has one shape, `{"error": kind, "message": sentence}`: domain
errors, invalid requests (bodies that are not JSON objects, fields that break their type),
unknown addresses, bodies too large. Pages answer in HTML (app/web/pages/routing.py).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.domain.errors import Conflict, DomainError, Invalid, NotAllowed, NotAuthenticated, NotFound
from app.web.templating import is_htmx, render

API_PREFIX = "/api/"

STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    Invalid: 422,
    NotAuthenticated: 401,
}

#: The `error` of an answer by its status, when no domain error says it.
KINDS = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "invalid",
    422: "invalid",
    429: "too_many_attempts",
    503: "unavailable",
}


class ApiError(BaseModel):
    """What every refusal of the JSON API says: a kind for programs, a sentence for people."""

    error: str
    message: str


#: Declared on every API operation (app/main.py), so the OpenAPI schema says what refusals are.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ApiError, "description": "Refused; the message says why"},
    422: {"model": ApiError, "description": "Invalid request; the message names the field"},
}


def status_of(error: DomainError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def _kind(error: DomainError) -> str:
    for kind in STATUS:
        if isinstance(error, kind):
            return (
                kind.__name__.lower()
                .replace("notallowed", "forbidden")
                .replace("notauthenticated", "unauthenticated")
                .replace("notfound", "not_found")
            )
    return "error"


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def refusal(request: Request, *, status: int, message: str, error: str | None = None) -> Response:
    """A refusal in the form of the part of Rolltext asked: JSON under /api/, else the error
    page (a fragment for HTMX). For answers made outside a route: middleware, unknown paths."""
    if is_api(request):
        return JSONResponse(
            {"error": error or KINDS.get(status, "error"), "message": message}, status_code=status
        )
    template = "errors/_message.html" if is_htmx(request) else "errors/page.html"
    return render(request, template, {"message": message}, status_code=status)


def _http_message(request: Request, exc: HTTPException) -> str:
    """A sentence for the framework's own refusals (its `detail` is a few words)."""
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        return (
            f"There is no {where} in the Rolltext API; its operations are listed in "
            f"{API_PREFIX}v1/openapi.json."
        )
    if exc.status_code == 405:
        return f"{where} is not an operation of the Rolltext API (the method is not allowed)."
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        return "The request body is not valid UTF-8: send JSON as UTF-8 text."
    if exc.status_code == 400:
        return "The request body could not be read: send a JSON object (or the form it asks for)."
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if detail.endswith("."):
        return detail
    return f"{HTTPStatus(exc.status_code).phrase}: {detail or 'refused'}."


def _problem(err: dict[str, Any]) -> str:
    """One validation error as "field: what is wrong", the body's own problems in words."""
    location = tuple(err.get("loc", ()))
    if err.get("type") == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "")
        position = location[-1] if len(location) == 2 else None
        at = f", at character {position + 1}" if isinstance(position, int) else ""
        return f"the request body is not valid JSON ({reason or 'unreadable'}{at})"
    if location == ("body",) and err.get("type") in ("model_attributes_type", "dict_type"):
        return "the request body must be a JSON object (sent as application/json)"
    if location == ("body",) and err.get("type") == "missing":
        return "the request body is missing: send a JSON object"
    where = ".".join(str(p) for p in location if p != "body")
    message = str(err.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


UNAVAILABLE = "The database is unavailable; try again in a moment."


def install(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        """The database is down or restarting: say so as JSON, not a bare 500. Dead connections
        are replaced (the pool checks one that sat idle; the log's read tries a fresh one), so
        the next request after it is back succeeds."""
        return JSONResponse(
            {"error": "unavailable", "message": UNAVAILABLE},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            {"error": _kind(exc), "message": exc.message}, status_code=status_of(exc)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(err) for err in exc.errors()]
        return JSONResponse(
            {"error": "invalid", "message": "The request is not valid: " + "; ".join(problems)},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        """The framework's refusals (unknown address, wrong method, unreadable or too large
        body) in the API's format; pages keep the framework's answer, except a body too large,
        which gets the error page."""
        if not is_api(request) and exc.status_code != 413:
            return await http_exception_handler(request, exc)
        response = refusal(request, status=exc.status_code, message=_http_message(request, exc))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
