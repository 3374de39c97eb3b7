"""The negotiations a user can open, and a negotiation's home: its documents and revisions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.domain.provisions import ProvisionStatus
from app.services import documents, revisions
from app.services.views import DocumentView, RevisionView
from app.web.deps import DatabaseDep
from app.web.pages.routing import PageRoute
from app.web.pages.viewer import ViewerDep
from app.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The kinds of Word file the export API produces (GET /api/v1/documents/{id}/export/{kind}).
EXPORTS = {
    "clean": "Clean text",
    "compilation": "Compilation",
    "tracked": "Tracked changes",
    "comparison": "Comparison",
    "amendment-list": "List of proposals",
}


@dataclass(frozen=True)
class StatusCounts:
    """How far a document has come, in the numbers co-facilitators report."""

    by_status: dict[ProvisionStatus, int]
    pending: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def agreed(self) -> int:
        return sum(n for status, n in self.by_status.items() if status.is_agreed)

    @property
    def open(self) -> int:
        return self.total - self.agreed


def status_counts(document: DocumentView) -> StatusCounts:
    live = [p for p in document.provisions if not p.deleted]
    counts = Counter(p.status for p in live)
    return StatusCounts(
        by_status={s: counts.get(s, 0) for s in ProvisionStatus},
        pending=sum(p.pending for p in document.provisions),
    )


def export_url(
    document_id: int,
    kind: str,
    *,
    revision: int | None = None,
    against: int | None = None,
    attributed: bool | None = None,
) -> str:
    query = []
    if revision is not None:
        query.append(f"revision={revision}")
    if against is not None:
        query.append(f"against={against}")
    if attributed is not None:
        query.append(f"attributed={int(attributed)}")
    url = f"/api/v1/documents/{document_id}/export/{kind}"
    return url + ("?" + "&".join(query) if query else "")


@dataclass(frozen=True)
class DocumentCard:
    document: DocumentView
    counts: StatusCounts
    revisions: tuple[RevisionView, ...]


@router.get("/")
def index(request: Request, viewer: ViewerDep, database: DatabaseDep) -> Response:
    return render(
        request,
        "negotiations/index.html",
        {
            "viewer": viewer,
            "negotiations": documents.list_negotiations(database, viewer=viewer.actor),
        },
    )


@router.get("/negotiations/{negotiation_id}")
def home(
    negotiation_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    negotiation = documents.get_negotiation(
        database, viewer=viewer.actor, negotiation_id=negotiation_id
    )
    cards = []
    for summary in negotiation.documents:
        document = documents.get_document(database, viewer=viewer.actor, document_id=summary.id)
        cards.append(
            DocumentCard(
                document=document,
                counts=status_counts(document),
                revisions=tuple(
                    revisions.list_revisions(database, viewer=viewer.actor, document_id=summary.id)
                ),
            )
        )
    return render(
        request,
        "negotiations/home.html",
        {
            "viewer": viewer.within(negotiation),
            "negotiation": negotiation,
            "cards": cards,
            "export_url": export_url,
        },
    )


@router.get("/documents/{document_id}/counts")
def counts(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The counters in a page's header, re-fetched live when anything changes."""
    document = documents.get_document(database, viewer=viewer.actor, document_id=document_id)
    return render(
        request,
        "negotiations/_counts.html",
        {"document": document, "counts": status_counts(document)},
    )
