"""What changed since your last visit: the bell in every page's header, and its list.

The bell is fetched after the page (hx-trigger="load"), so reading the events never slows a
page down; "Mark all as seen" moves the user's mark to the latest event.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from app.services import notifications
from app.web.deps import DatabaseDep
from app.web.pages.routing import PageRoute
from app.web.pages.viewer import ViewerDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)


@router.get("/notifications")
def notifications_page(request: Request, viewer: ViewerDep, database: DatabaseDep) -> Response:
    found = notifications.notifications(database, actor=viewer.actor)
    return render(request, "notifications/index.html", {"viewer": viewer, "found": found})


@router.get("/notifications/bell")
def bell(request: Request, viewer: ViewerDep, database: DatabaseDep) -> Response:
    found = notifications.notifications(database, actor=viewer.actor, limit=0)
    return render(request, "notifications/_bell.html", {"unseen": found.unseen})


@router.post("/notifications/seen")
def mark_seen(request: Request, viewer: ViewerDep, database: DatabaseDep) -> Response:
    notifications.mark_seen(database, actor=viewer.actor)
    if is_htmx(request):
        return render(request, "notifications/_bell.html", {"unseen": 0})
    return RedirectResponse("/notifications", status_code=303)
