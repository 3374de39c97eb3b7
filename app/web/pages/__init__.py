"""The browser workspace: server-rendered pages (Jinja2 + HTMX). Installed by create_app().

One module per resource; each page route is thin: it calls the same services as the JSON API
and renders their views. Fragments re-fetch themselves when the live stream (app/web/live.py)
says their part of the text changed.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web import live, security  # noqa: F401  (security: the csrf_input() template global)
from app.web.pages import (
    api_docs,
    auth,
    calendar,
    consolidate,
    inputs,
    negotiations,
    notifications,
    overview,
    process,
    proposals,
    revisions,
    screen,
    text,
    word,
)
from app.web.pages.uploads import UploadStore
from app.web.templating import STATIC


def install(app: FastAPI) -> None:
    """Mount the pages, static files and the live stream on the application."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    live.install(app)
    live.publish_changes(app.state.database, live.broadcaster_of(app), process.process_messages)
    app.state.uploads = UploadStore.for_database(app.state.database.url)
    for module in (
        auth,
        negotiations,
        text,
        proposals,
        consolidate,
        revisions,
        overview,
        screen,
        process,
        inputs,
        notifications,
        word,
        calendar,
        api_docs,
    ):
        app.include_router(module.router)
