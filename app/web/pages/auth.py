"""Signing in and out of the workspace (the session cookie the JSON API also reads)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from app.config import Settings
from app.domain.errors import NotAuthenticated, NotFound
from app.services import accounts, documents
from app.services.demo import demo_data
from app.web import deps
from app.web.deps import DatabaseDep, OptionalActorDep
from app.web.pages.routing import PageRoute
from app.web.router import Router
from app.web.templating import render

router = Router(route_class=PageRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a sign-in link must not bounce people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def demo_accounts(request: Request) -> list[dict[str, Any]]:
    """The demo's accounts, listed on the sign-in page in demo mode.

    Demo mode: Settings.demo, or the demo negotiation is loaded outside production (where
    printing passwords on a public page would be a leak even for a demo).
    """
    settings: Settings = request.app.state.settings
    data = demo_data()
    if not settings.demo:
        if settings.environment == "production":
            return []
        try:
            documents.find_negotiation(
                request.app.state.database, symbol=data["negotiation"]["symbol"]
            )
        except NotFound:
            return []
    return [dict(u) for u in data["user"]]


@router.get("/sign-in")
def sign_in_page(request: Request, actor: OptionalActorDep, next: str | None = None) -> Response:
    return render(
        request,
        "auth/sign_in.html",
        {
            "next": _safe_next(next),
            "accounts": demo_accounts(request),
            "signed_in_as": actor,
            "username": "",
        },
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    database: DatabaseDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        actor = accounts.authenticate(
            database,
            username=username.strip(),
            password=password,
            address=request.client.host if request.client else None,
        )
    except NotAuthenticated as exc:
        retry = exc.retry_after if isinstance(exc, accounts.SignInThrottled) else None
        return render(
            request,
            "auth/sign_in.html",
            {
                "next": _safe_next(next),
                "accounts": demo_accounts(request),
                "error": exc.message,
                "username": username,
                "signed_in_as": None,
            },
            status_code=401 if retry is None else 429,
            headers=None if retry is None else {"Retry-After": str(retry)},
        )
    deps.sign_in(request, database, actor)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/sign-out")
def sign_out(request: Request, database: DatabaseDep) -> Response:
    deps.sign_out(request, database)
    return RedirectResponse("/sign-in", status_code=303)
