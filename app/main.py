"""The application factory: one Database per process, the API under /api/v1, the OpenAPI page."""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI

from app import observability
from app.config import Settings, get_settings
from app.db.session import Database
from app.web import body_limit, errors, kept, pages, security
from app.web.api import (
    amendments,
    auth,
    calendar,
    documents,
    feed,
    inputs,
    negotiations,
    process,
    word,
)
from app.web.background import lifespan

API = "/api/v1"


def tune_garbage_collector() -> None:
    """For a serving process, once the app is built: what start-up allocated (modules,
    templates, routes) is moved out of the collector's sight, and young objects are collected
    less often. A panel allocates tens of thousands of short-lived objects; with the default
    threshold (700) full collections walking every kept answer took 40 ms of a 20 ms request."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Rolltext",
        version="0.1.0",
        summary="Negotiate the text of draft resolutions.",
        docs_url=None,  # served by app/web/pages/api_docs.py from vendored files (strict CSP)
        openapi_url=f"{API}/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    security.install_csrf(app)  # runs inside the session: reads and writes its token
    body_limit.install(app, settings)  # outside the CSRF check, which may read a form
    app.add_middleware(kept.RequestStamps)  # one read of the event log per request
    app.add_middleware(
        security.Sessions,
        secret_key=settings.secret_key,
        session_cookie="rolltext_session",
        same_site="lax",
        https_only=settings.environment == "production",
        max_age=14 * 24 * 3600,
    )
    app.add_middleware(observability.RequestLog)
    security.install_headers(app, production=settings.environment == "production")
    errors.install(app)
    security.install_handlers(app)

    # The health checks come first, and liveness is `async` (no thread hop): a load balancer
    # asks several times a second, and `make bench` measures the framework's ceiling on it.
    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict[str, str | int]:
        # which worker answered: a load balancer's (or a benchmark's) view of the spread
        return {"status": "ok", "process": os.getpid()}

    @app.get(
        "/health/ready",
        tags=["operations"],
        summary="Readiness: the database answers too (503 while it does not)",
    )
    def ready() -> dict[str, str]:
        app.state.database.ping()
        warmed = getattr(app.state, "warm", None)
        kept = "warming" if warmed is not None and not warmed.is_set() else "ready"
        return {"status": "ok", "database": "ok", "kept_answers": kept}

    for module in (
        auth,
        negotiations,
        documents,
        amendments,
        inputs,
        process,
        word,
        calendar,
        feed,
    ):
        app.include_router(module.router, prefix=API, responses=errors.ERROR_RESPONSES)

    pages.install(app)

    return app
