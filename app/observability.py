"""Structured logs: one JSON object per line, so a log collector can index every request.

Each request gets an id (taken from X-Request-ID when a proxy sets one) that is returned in the
response headers and written with the request's method, path, status and duration.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("rolltext.request")
#: Probes a load balancer sends every few seconds: not worth a log line each.
HEALTH = frozenset({"/health", "/health/ready"})

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    #: The last second written, and how: a line per request, most of them in the same second.
    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{self._utc_second(int(record.created))}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)

    def _utc_second(self, second: int) -> str:
        known, written = self._second
        if known != second:
            written = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, written)
        return written


def configure(level: str = "INFO", *, json_logs: bool = True) -> None:
    handler = logging.StreamHandler()
    formatter: logging.Formatter = (
        JsonFormatter() if json_logs else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    formatter.converter = time.gmtime  # type: ignore[attr-defined]
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our request log replaces it


class RequestLog:
    """One log line per request, with its id (also sent back as X-Request-ID).

    A pure ASGI middleware: it only watches the messages go by. (Starlette's
    BaseHTTPMiddleware passes every body chunk through an extra task and stream, which delayed
    the live stream's events behind ordinary requests when 100 pages re-fetched at once.)
    `ms` is the time to the last byte; for a live stream, how long it stayed open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            if path not in HEALTH and not path.startswith("/static"):
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
