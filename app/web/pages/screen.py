"""Screen mode for the meeting room: the provision under discussion, in large type, read-only.

It follows the co-facilitators' selection live ("put on screen" in a provision's panel). The
selection is kept in memory per document by app/web/live.py for now.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from app.domain.errors import NotAllowed, NotFound
from app.web.deps import DatabaseDep
from app.web.live import put_on_screen, screen_of
from app.web.pages.routing import PageRoute
from app.web.pages.text import document_page, provision_panel
from app.web.pages.viewer import ViewerDep
from app.web.router import Router
from app.web.templating import render

router = Router(route_class=PageRoute, include_in_schema=False)


def _body_context(
    request: Request, database: DatabaseDep, viewer: ViewerDep, document_id: int
) -> dict[str, object]:
    page = document_page(database, viewer, document_id)
    selected = screen_of(request.app).current(document_id)
    panel = None
    if selected is not None and any(p.id == selected for p in page.document.provisions):
        panel = provision_panel(
            request,
            database,
            viewer,
            selected,
            document=page.document,
            negotiation=page.negotiation,
        )
    return page.context(panel=panel, selected=selected if panel else None)


@router.get("/documents/{document_id}/screen")
def screen_page(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    return render(
        request, "screen/screen.html", _body_context(request, database, viewer, document_id)
    )


@router.get("/documents/{document_id}/screen/body")
def screen_body(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    return render(
        request, "screen/_body.html", _body_context(request, database, viewer, document_id)
    )


@router.post("/documents/{document_id}/screen")
def choose(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    provision_id: Annotated[int | None, Form()] = None,
) -> Response:
    """A co-facilitator puts a provision on the meeting room's screen (or clears it)."""
    page = document_page(database, viewer, document_id)
    if not page.viewer.cofacilitator:
        raise NotAllowed("Only the co-facilitators of this negotiation choose what is on screen.")
    if provision_id is not None and not any(p.id == provision_id for p in page.document.provisions):
        raise NotFound(f"Provision {provision_id} is not in this document.")
    put_on_screen(request.app, document_id=document_id, provision_id=provision_id)
    provision = next((p for p in page.document.provisions if p.id == provision_id), None)
    return render(
        request,
        "screen/_button.html",
        {"document": page.document, "p": provision, "on_screen": provision is not None},
    )
