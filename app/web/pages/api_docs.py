"""The interactive API documentation (Swagger UI) at /docs, from vendored files.

FastAPI's own /docs page loads Swagger UI from a CDN and starts it with an inline script; both
would need holes in the Content-Security-Policy, and a third-party script running next to a
signed-in session could act in the user's name. So the files ship in app/static/vendor/swagger-ui
(swagger-ui-dist, see its VERSION file) and swagger-docs.js starts it: the page runs under the
same strict policy as every other. "Try it out" with the session cookie sends the CSRF token.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from app.web.router import Router
from app.web.templating import render

router = Router(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request) -> Response:
    openapi_url = request.app.openapi_url or "/api/v1/openapi.json"
    return render(request, "api_docs/swagger.html", {"openapi_url": openapi_url})
