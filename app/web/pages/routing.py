"""How page routes answer when something goes wrong, decided once for every page.

The JSON API maps domain errors to JSON (app/web/errors.py). Pages answer in HTML with the same
status codes (`errors.status_of`): a whole error page for a navigation, a short message for an
HTMX request. No session → the sign-in page. Forms catch their own refusals and re-render
themselves with the message (see proposals.py); this is the net for everything else.

HTMX swaps 4xx answers too (the `htmx-config` meta tag in base.html): a refused form comes back
with 422/409/403 and its message, and is swapped in like a 200.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from app.domain.errors import DomainError, NotAuthenticated
from app.web.api.types import MAX_ID
from app.web.errors import status_of
from app.web.pages.viewer import SignInRequired
from app.web.templating import is_htmx, render

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path
    if request.method in SAFE_METHODS and not is_htmx(request):
        if request.url.query:
            target += "?" + request.url.query
    elif is_htmx(request):
        target = urlsplit(request.headers.get("hx-current-url", "/")).path or "/"
    location = "/sign-in?next=" + quote(target, safe="/")
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_response(request: Request, message: str, status_code: int) -> Response:
    template = "errors/_message.html" if is_htmx(request) else "errors/page.html"
    return render(request, template, {"message": message}, status_code=status_code)


def _same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (the cookie is SameSite=Lax already: belt and braces)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _ids_in_range(request: Request) -> bool:
    """An id in a page's address is a database integer (1 to MAX_ID, as in the JSON API); any
    other number names nothing, and is answered before it reaches a query."""
    numbers = [
        value
        for name, value in request.path_params.items()
        if name.endswith("_id") and isinstance(value, str) and value.isascii() and value.isdigit()
    ]
    return all(len(n) <= 10 and 1 <= int(n) <= MAX_ID for n in numbers)


class PageRoute(APIRoute):
    """An APIRoute whose failures become HTML (or a redirect to sign in), never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            if request.method not in SAFE_METHODS and not _same_origin(request):
                return error_response(request, "This form was sent from another site.", 403)
            if not _ids_in_range(request):
                return error_response(request, "There is no such page in Rolltext.", 404)
            try:
                return await handler(request)
            except (SignInRequired, NotAuthenticated):
                request.session.pop("user_id", None)
                return sign_in_redirect(request)
            except DomainError as exc:
                return error_response(request, exc.message, status_of(exc))
            except RequestValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: "
                    f"{e.get('msg', 'invalid')}"
                    for e in exc.errors()
                )
                return error_response(request, f"The form is not complete: {problems}", 422)

        return page_handler
