"""Domain errors become HTTP answers here, and nowhere else."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.domain.errors import Conflict, DomainError, Invalid, NotAllowed, NotAuthenticated, NotFound

STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    Invalid: 422,
    NotAuthenticated: 401,
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


UNAVAILABLE = "The database is unavailable; try again in a moment."


def install(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        """The database is down or restarting: say so as JSON, not a bare 500. The engine's
        pre-ping replaces dead connections, so the next request after it is back succeeds."""
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
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(
                f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "")
            )
        return JSONResponse(
            {"error": "invalid", "message": "The request is not valid: " + "; ".join(problems)},
            status_code=422,
        )
