"""The negotiations a user can open, and a negotiation's home: its documents and revisions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from fastapi import Request
from starlette.responses import Response

from app import timeutil
from app.db.session import Database
from app.domain.provisions import ProvisionStatus
from app.services import calendar, documents, process, revisions
from app.services.process import RoundView, SilenceView
from app.services.views import DocumentView, RevisionView
from app.web.answers import document_view
from app.web.deps import DatabaseDep
from app.web.kept import views_of
from app.web.pages.routing import PageRoute
from app.web.pages.viewer import ViewerDep
from app.web.router import Router
from app.web.templating import render

router = Router(route_class=PageRoute, include_in_schema=False)

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
class ProcessState:
    """Where a document stands in the process: its rounds of written proposals and silences.

    The current deadline is shown wherever the text is (document header, negotiation home), in
    the form the co-facilitators announced it: "Friday 13 January 2017, 18:00 New York time".
    """

    rounds: tuple[RoundView, ...]
    silences: tuple[SilenceView, ...]

    @property
    def current_round(self) -> RoundView | None:
        """The latest round: proposals are checked against it (services/process.py)."""
        return self.rounds[-1] if self.rounds else None

    @property
    def silence(self) -> SilenceView | None:
        """The latest silence procedure, running or settled."""
        return self.silences[-1] if self.silences else None

    @property
    def running_silence(self) -> SilenceView | None:
        s = self.silence
        return s if s is not None and s.settled_at is None else None


def process_state(database: Database, document_id: int) -> ProcessState:
    """Call only after the viewer's right to read the document was checked. Kept until the
    next change to the document; a round's deadline passes without one (no event), so the
    rounds are read again when one of them closed since."""
    kept = views_of(database).get(
        ("process", document_id),
        lambda: ProcessState(
            rounds=tuple(process.list_rounds(database, document_id=document_id)),
            silences=tuple(process.list_silences(database, document_id=document_id)),
        ),
        scope=(document_id, None),
    )
    now = timeutil.utcnow()
    if all(r.open == (now <= r.deadline) for r in kept.rounds):
        return kept
    return replace(kept, rounds=tuple(process.list_rounds(database, document_id=document_id)))


@dataclass(frozen=True)
class DocumentCard:
    document: DocumentView
    counts: StatusCounts
    revisions: tuple[RevisionView, ...]
    process: ProcessState


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
                process=process_state(database, summary.id),
            )
        )
    return render(
        request,
        "negotiations/home.html",
        {
            "viewer": viewer.within(negotiation),
            "negotiation": negotiation,
            "cards": cards,
            "upcoming": calendar.upcoming(database, negotiation.id, 3),
            "export_url": export_url,
        },
    )


@router.get("/documents/{document_id}/counts")
def counts(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The counters in a page's header, re-fetched live when anything changes."""
    document = document_view(database, viewer.actor, document_id)  # kept until the next change
    return render(
        request,
        "negotiations/_counts.html",
        {"document": document, "counts": status_counts(document)},
    )
