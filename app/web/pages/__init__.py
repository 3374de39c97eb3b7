"""The browser workspace: server-rendered pages (Jinja2 + HTMX). Installed by create_app()."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the pages, static files and the live stream on the application."""
