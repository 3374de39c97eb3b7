"""The routers of the API and the pages: FastAPI's, with one quick test of a request's path.

FastAPI (0.165) matches a request against an included router by trying each of its routes in
Python, ~1.5 µs apiece, and the application tries its routers one after the other: a page
registered after the API paid ~150 µs of route matching per request, the health check, last,
~300 µs — more than the rest of its answer. Each router here first asks one regular expression,
the union of its routes' paths, whether the path can be one of its routes at all, and only then
lets FastAPI choose among them.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class Router(APIRouter):
    """An `APIRouter` that says at once when a path is none of its routes'."""

    _paths: re.Pattern[str] | None = None
    _paths_of: int = -1  # len(self.routes) the union was made of

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not self._could_match(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)

    def _could_match(self, path: str) -> bool:
        if self._paths_of != len(self.routes):
            self._paths = _union(self.routes)
            self._paths_of = len(self.routes)
        return self._paths is None or self._paths.search(path) is not None


def _union(routes: list[object]) -> re.Pattern[str] | None:
    """What every route's path pattern matches at the end of a path: a router included under a
    prefix (`/api/v1`) sees the whole path, so each pattern is searched for as a suffix, which
    can only say yes too often (then FastAPI decides), never no wrongly. None when a route has
    no path pattern (then every path is tried)."""
    patterns = []
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if regex is None:
            return None
        patterns.append(_NAMED_GROUP.sub("(?:", regex.pattern.removeprefix("^")))
    return re.compile("|".join(f"(?:{p})" for p in patterns))
