"""The largest request body Rolltext reads, decided once for every request.

A body larger than `Settings.max_body_bytes` (2,000,000 bytes) is refused with 413 and the API's
JSON error (the error page for a form) — before it is read when its Content-Length says so,
else as soon as the bytes received pass the limit (a chunked upload), so a client cannot make
the server buffer more. Nothing is changed: no route has run, or the one reading it stops there.

File uploads (multipart/form-data: Word drafts, marked-up copies, Akoma Ntoso, calendar files)
have the larger `Settings.max_upload_bytes`; the file's own limit (20 MB for Word) is checked
when it is read, with a message that names it.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.web.errors import refusal

UPLOAD_TYPE = "multipart/form-data"


def too_large(limit: int) -> str:
    return (
        f"The request body is larger than {limit:,} bytes ({limit / 1_000_000:g} MB), the most "
        "Rolltext accepts here. Nothing was read or changed."
    )


class BodyTooLarge(HTTPException):
    """Raised while a body is received, once it passes the limit; answered as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit))


class BodyLimitMiddleware:
    """Refuse bodies over the limit. Installed outside the CSRF check (which may read a form)
    and inside the session (the error page needs it)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").startswith(UPLOAD_TYPE)
        limit = self.max_upload if upload else self.max_body
        declared = headers.get("content-length", "")
        if declared.isdigit() and (len(declared) > 15 or int(declared) > limit):
            await _refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:  # raised outside a route (a middleware reading a form)
            if started:
                raise
            await _refuse(scope, receive, send, limit)


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    await refusal(Request(scope), status=413, message=too_large(limit))(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the limit; call it between the CSRF check and the session (see the class)."""
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
    )
