"""Web security, decided once for every response: CSRF tokens, security headers, the API page.

**CSRF.** The session cookie is sent by the browser with any request to Rolltext, including one
a hostile page makes it send. So every state-changing request (POST, PUT, PATCH, DELETE) that is
authenticated by the cookie must also prove it comes from a Rolltext page: it carries the
session's CSRF token, either in the `X-CSRF-Token` header (HTMX sends it on every request, see
rolltext.js; JSON API clients send the one returned when they signed in) or in the hidden
`csrf_token` field every form renders (`{{ csrf_input() }}`), for forms sent without JavaScript.

- The token is random (32 bytes), kept in the signed session cookie, and compared in constant
  time. It is replaced whenever the session signs in, so a token seen before sign-in (or taken
  from another session) is worthless; the new one is returned in the `X-CSRF-Token` response
  header of the sign-in (page or `POST /api/v1/session`).
- Requests authenticated by `Authorization: Bearer <token>` are exempt: a browser never adds
  that header by itself. Requests with no signed-in session are not authenticated by the cookie
  and are left to the route (which refuses them, or is the sign-in form, itself protected by the
  same-origin check in pages/routing.py and by SameSite=Lax).
- A missing, forged or foreign token is refused with 403 and a message, before any route runs:
  nothing is changed.

**Headers.** Every response carries a Content-Security-Policy that allows only Rolltext's own
static files — no inline script or style anywhere, no eval (htmx runs with `allowEval: false`) —
and the usual companions (nosniff, same-origin referrer, no framing, no powerful features).

**API page.** /docs serves Swagger UI from vendored files (app/static/vendor/swagger-ui), under
the same strict policy: no third-party script ever runs next to the session.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

import itsdangerous
from fastapi import FastAPI, Request
from itsdangerous.encoding import want_bytes
from itsdangerous.exc import SignatureExpired
from jinja2 import pass_context
from markupsafe import Markup, escape
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.accounts import SignInThrottled
from app.web.templating import env, render

CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
}
HSTS = "max-age=31536000; includeSubDomains"

PAGE_REFUSAL = (
    "This request did not carry the security token of your session, so nothing was changed. "
    "It may have been sent by another site, or the page is out of date: reload it and try again."
)
API_REFUSAL = (
    "Missing or wrong CSRF token: a request signed in with the session cookie must send the "
    "X-CSRF-Token header returned when you signed in (or use a personal API token). "
    "Nothing was changed."
)


# -- the token ---------------------------------------------------------------------------------


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use (a page renders it into its forms)."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def _matches(expected: object, sent: str | None) -> bool:
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


@pass_context
def _csrf_input(context: Any) -> Markup:
    """`{{ csrf_input() }}` in a form: the hidden field for forms sent without JavaScript."""
    request: Request = context["request"]
    token = csrf_token(request.session)
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


@pass_context
def _csrf_value(context: Any) -> str:
    request: Request = context["request"]
    return csrf_token(request.session)


env.globals.update(csrf_input=_csrf_input, csrf_token=_csrf_value)


# -- the middleware ----------------------------------------------------------------------------


async def _token_in_form(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
    """Read the `csrf_token` field of a form body, and a `receive` that replays the body.

    The body is kept as it came, so the route parses exactly what the browser sent.
    """
    messages: list[Message] = []

    async def recording() -> Message:
        message = await receive()
        messages.append(message)
        return message

    request = Request(scope, recording)
    try:
        form = await request.form()
    except HTTPException:  # a refusal from below (a body too large): not a malformed form
        raise
    except Exception:  # a malformed body: no token; the refusal says what to do
        form = None
    sent = form.get(CSRF_FIELD) if form is not None else None
    if form is not None:
        await form.close()
    # Whatever the parser did not read is still to come from the original receive.
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return (sent if isinstance(sent, str) else None), replay


def _refusal(scope: Scope) -> Response:
    request = Request(scope)
    if scope["path"].startswith("/api/"):
        return JSONResponse({"error": "forbidden", "message": API_REFUSAL}, status_code=403)
    htmx = request.headers.get("hx-request") == "true"
    template = "errors/_message.html" if htmx else "errors/page.html"
    return render(request, template, {"message": PAGE_REFUSAL}, status_code=403)


class CSRFMiddleware:
    """Refuse cookie-authenticated state changes without the session's token; hand out tokens.

    Installed inside SessionMiddleware (it reads and writes `scope["session"]`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "session" not in scope:
            await self.app(scope, receive, send)
            return
        session: MutableMapping[str, Any] = scope["session"]
        token_before = session.get(CSRF_SESSION_KEY)
        headers = Headers(scope=scope)
        if (
            scope["method"] in UNSAFE_METHODS
            and "authorization" not in headers
            and session.get("user_id") is not None
        ):
            sent = headers.get(CSRF_HEADER)
            content_type = headers.get("content-type", "")
            if sent is None and content_type.startswith(FORM_TYPES):
                sent, receive = await _token_in_form(scope, receive)
            if not _matches(token_before, sent):
                await _refusal(scope)(scope, receive, send)
                return

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start":
                token = session.get(CSRF_SESSION_KEY)
                if session.get("user_id") is not None and not token:
                    token = csrf_token(session)  # signed in just now: the session was cleared
                if token and token != token_before:
                    MutableHeaders(scope=message)[CSRF_HEADER] = token
            await send(message)

        await self.app(scope, receive, send_with_token)


class SecurityHeadersMiddleware:
    """The same security headers on every response: pages, fragments, JSON, static files."""

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if production:
            self.headers["Strict-Transport-Security"] = HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_csrf(app: FastAPI) -> None:
    """Add the CSRF check. Call it before SessionMiddleware is added: it must run inside it."""
    app.add_middleware(CSRFMiddleware)


def install_headers(app: FastAPI, *, production: bool) -> None:
    """Add the security headers (call last: outermost, so every answer gets them)."""
    app.add_middleware(SecurityHeadersMiddleware, production=production)


def install_handlers(app: FastAPI) -> None:
    """A throttled sign-in through the API is 429 Too Many Requests, with Retry-After."""

    @app.exception_handler(SignInThrottled)
    async def _throttled(request: Request, exc: SignInThrottled) -> JSONResponse:
        return JSONResponse(
            {"error": "too_many_attempts", "message": exc.message},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )


class _CheckedOnce(itsdangerous.TimestampSigner):
    """The session cookie's signature checked once per cookie, its age at every request. A
    browser sends the same cookie with each of its requests, and checking it (base64, HMAC)
    cost more than everything else the session middleware does."""

    SIZE = 4096  # cookies remembered: more than the delegates signed in on one worker

    def __init__(self, secret_key: str) -> None:
        super().__init__(secret_key)
        self._checked: OrderedDict[bytes, tuple[bytes, int]] = OrderedDict()
        self._lock = threading.Lock()

    def unsign(  # type: ignore[override]
        self, signed_value: str | bytes, max_age: int | None = None, return_timestamp: bool = False
    ) -> bytes | tuple[bytes, datetime]:
        cookie = want_bytes(signed_value)
        with self._lock:
            checked = self._checked.get(cookie)
        if checked is None:
            value, signed = super().unsign(cookie, return_timestamp=True)
            checked = (value, int(signed.timestamp()))
            with self._lock:
                self._checked[cookie] = checked
                while len(self._checked) > self.SIZE:
                    self._checked.popitem(last=False)
        value, signed_at = checked
        age = self.get_timestamp() - signed_at
        if max_age is not None and (age > max_age or age < 0):
            raise SignatureExpired(
                f"Signature age {age} is outside 0…{max_age} seconds",
                payload=value,
                date_signed=self.timestamp_to_datetime(signed_at),
            )
        return (value, self.timestamp_to_datetime(signed_at)) if return_timestamp else value


class Sessions(SessionMiddleware):
    """Starlette's signed-cookie sessions, each cookie's signature checked once (`_CheckedOnce`)."""

    def __init__(self, app: ASGIApp, secret_key: str, **options: Any) -> None:
        super().__init__(app, secret_key, **options)
        self.signer = _CheckedOnce(secret_key)
