"""The routers' quick test of a path (app/web/router.py): it may only ever save work, never
turn a request away from the route that answers it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from app.config import Settings
from app.db.session import Database
from app.main import create_app
from app.web.api import amendments
from app.web.router import Router

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _scope(path: str, method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}


def _example(path: str) -> str:
    """A path the route's template matches: 7 for an id, a word for anything else."""
    return _PARAM.sub(lambda m: "7" if m.group(1).endswith("id") else "word", path)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('router')) / 'unused.db'}"
    return create_app(Settings(secret_key="x" * 32, database_url=url), Database(url))


def _chosen(app: FastAPI, scope: dict[str, Any]) -> int | None:
    """Which of the application's routes (routers included) takes the request: the first
    that matches it fully, as Starlette tries them."""
    for index, route in enumerate(app.router.routes):
        if route.matches(scope)[0] == Match.FULL:
            return index
    return None


def test_every_route_is_taken_by_the_same_router_as_without_the_quick_test(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quick test says yes or no for a whole router, so the order in which routes are
    tried within it is FastAPI's: only which router takes a request could change. For an
    example of every route's path, it is the same router with and without the test."""
    requests = [
        (_example(included.include_context.prefix + route.path), method)
        for included in app.router.routes
        if isinstance(getattr(included, "original_router", None), Router)
        for route in included.original_router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    ]
    assert len(requests) > 80
    quick = [_chosen(app, _scope(path, method)) for path, method in requests]
    monkeypatch.setattr(Router, "_could_match", lambda _router, _path: True)
    slow = [_chosen(app, _scope(path, method)) for path, method in requests]
    assert None not in quick
    assert quick == slow


def test_a_path_none_of_its_routes_can_match_is_refused_without_trying_them(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's path is none of the proposal API's: its router answers no at once."""
    (included,) = [
        r for r in app.router.routes if getattr(r, "original_router", None) is amendments.router
    ]
    tried: list[str] = []
    for route in amendments.router.routes:

        def matches(scope: Any, path: str = route.path) -> Any:
            tried.append(path)
            return Match.NONE, {}

        monkeypatch.setattr(route, "matches", matches)
    assert included.matches(_scope("/api/v1/amendments", "POST"))[0] == Match.NONE
    assert tried  # its routes are tried for a path that may be one of theirs
    tried.clear()
    assert included.matches(_scope("/provisions/7/panel"))[0] == Match.NONE
    assert tried == []
