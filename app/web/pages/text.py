"""The text: the whole document as a UN reader expects it, and each provision's panel.

The page is made of fragments that re-fetch themselves when the live stream names them: a
provision's line (`sse:provision-12`), its panel's state (wording, proposals, decisions), the
whole list when the structure changes (`sse:structure`, open panels kept by hx-preserve), and
the counters (`sse:document`). Forms are never inside a re-fetched fragment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState
from app.domain.brackets import BracketGroup, bracket_groups, is_balanced
from app.domain.errors import DomainError
from app.services import documents, revisions
from app.services.views import (
    AmendmentView,
    DocumentView,
    NegotiationView,
    ProvisionDetail,
    ProvisionView,
    RevisionView,
)
from app.web.deps import DatabaseDep
from app.web.errors import status_of
from app.web.live import screen_of
from app.web.pages.negotiations import (
    ProcessState,
    StatusCounts,
    export_url,
    process_state,
    status_counts,
)
from app.web.pages.routing import PageRoute
from app.web.pages.viewer import Viewer, ViewerDep
from app.web.templating import is_htmx, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_ALT = re.compile(r" alt(?: \d+)?$")


@dataclass(frozen=True)
class DocumentPage:
    """What every page of one document shows in its header."""

    document: DocumentView
    negotiation: NegotiationView
    viewer: Viewer
    revisions: tuple[RevisionView, ...]
    process: ProcessState

    @property
    def latest(self) -> RevisionView | None:
        return self.revisions[-1] if self.revisions else None

    @cached_property
    def counts(self) -> StatusCounts:
        return status_counts(self.document)

    def context(self, **extra: object) -> dict[str, object]:
        return {
            "page": self,
            "document": self.document,
            "negotiation": self.negotiation,
            "viewer": self.viewer,
            "counts": self.counts,
            "export_url": export_url,
            **extra,
        }


def document_page(database: Database, viewer: Viewer, document_id: int) -> DocumentPage:
    document = documents.get_document(database, viewer=viewer.actor, document_id=document_id)
    negotiation = documents.get_negotiation(
        database, viewer=viewer.actor, negotiation_id=document.negotiation_id
    )
    return DocumentPage(
        document=document,
        negotiation=negotiation,
        viewer=viewer.within(negotiation),
        revisions=tuple(
            revisions.list_revisions(database, viewer=viewer.actor, document_id=document_id)
        ),
        process=process_state(database, document_id),
    )


@dataclass(frozen=True)
class Alternative:
    provision: ProvisionView
    current: bool


@dataclass
class ProvisionPanel:
    """One provision as its panel shows it: wording, history, proposals, and what you may do."""

    detail: ProvisionDetail
    document: DocumentView
    negotiation: NegotiationView
    viewer: Viewer
    on_screen: bool = False
    view: str = "panel"  # "queue" in the co-facilitators' review queue
    message: str | None = None
    error: bool = False

    @property
    def provision(self) -> ProvisionView:
        return self.detail.provision

    @property
    def live(self) -> bool:
        return self.view == "panel"

    @property
    def pending(self) -> list[AmendmentView]:
        return [a for a in self.detail.amendments if a.state is AmendmentState.PENDING]

    @property
    def decided(self) -> list[AmendmentView]:
        return [a for a in self.detail.amendments if a.state is not AmendmentState.PENDING]

    def collisions_of(self, amendment_id: int) -> list[tuple[str, str]]:
        """(other proposal's reference, the words both touch) for each collision."""
        found = []
        for c in self.detail.collisions:
            if amendment_id in (c.first, c.second):
                other = c.second if c.first == amendment_id else c.first
                found.append((f"A-{other}", c.words))
        return found

    @property
    def brackets(self) -> tuple[BracketGroup, ...]:
        text = self.provision.text
        return bracket_groups(text) if "[" in text and is_balanced(text) else ()

    @property
    def alternatives(self) -> list[Alternative]:
        """The paragraph and its whole-paragraph alternatives ("OP6", "OP6 alt"), if any."""
        me = self.provision
        if not me.label:
            return []
        base = _ALT.sub("", me.label)
        family = [
            Alternative(p, p.id == me.id)
            for p in self.document.provisions
            if p.parent_id == me.parent_id
            and p.kind == me.kind
            and not p.deleted
            and p.label
            and _ALT.sub("", p.label) == base
        ]
        return family if len(family) > 1 else []

    @property
    def open_for_proposals(self) -> bool:
        return not self.provision.status.is_agreed and not self.provision.deleted

    @property
    def move_targets(self) -> list[ProvisionView]:
        return [p for p in self.document.provisions if p.id != self.provision.id and not p.deleted]

    def position_of(self, amendment: AmendmentView) -> str | None:
        """The viewer's delegation's stance on a proposal: "support", "oppose" or None."""
        if self.viewer.delegation is None:
            return None
        short = self.viewer.delegation.short
        if short in amendment.supporters:
            return "support"
        if short in amendment.opponents:
            return "oppose"
        return None

    def proposes(self, amendment: AmendmentView) -> bool:
        """Is the viewer among the proposal's proponents (own delegation or one of its groups)?"""
        if self.viewer.delegation is None:
            return False
        mine = {self.viewer.delegation.code, *(g.code for g in self.viewer.groups)}
        return bool(mine & set(amendment.proponent_codes))

    @property
    def proposal_kinds(self) -> tuple[AmendmentKind, ...]:
        """Agreed text is closed to proposals, but a new provision may still follow it."""
        if self.provision.deleted:
            return ()
        if not self.open_for_proposals:
            return (AmendmentKind.INSERT_AFTER,)
        return tuple(AmendmentKind)

    def blank(self, kind: AmendmentKind | str) -> dict[str, object]:
        """A fresh proposal form: the wording form starts from the current words, to edit."""
        return {
            "text": self.provision.text if kind == AmendmentKind.WORDING else "",
            "justification": "",
            "on_behalf_of": "",
            "expected_version": self.provision.version,
            "after_id": None,
            "new_kind": self.provision.kind.value,
        }

    def can_bracket(self, amendment: AmendmentView) -> bool:
        return amendment.kind is not AmendmentKind.MOVE

    def context(self) -> dict[str, object]:
        return {
            "panel": self,
            "p": self.provision,
            "viewer": self.viewer,
            "document": self.document,
        }


def provision_panel(
    request: Request,
    database: Database,
    viewer: Viewer,
    provision_id: int,
    *,
    view: str = "panel",
    message: str | None = None,
    error: bool = False,
    document: DocumentView | None = None,
    negotiation: NegotiationView | None = None,
) -> ProvisionPanel:
    """Read one provision's panel; a page showing many passes the document it already read."""
    detail = documents.get_provision(database, viewer=viewer.actor, provision_id=provision_id)
    if document is None or document.id != detail.provision.document_id:
        document = documents.get_document(
            database, viewer=viewer.actor, document_id=detail.provision.document_id
        )
    if negotiation is None or negotiation.id != document.negotiation_id:
        negotiation = documents.get_negotiation(
            database, viewer=viewer.actor, negotiation_id=document.negotiation_id
        )
    return ProvisionPanel(
        detail=detail,
        document=document,
        negotiation=negotiation,
        viewer=viewer.within(negotiation),
        on_screen=screen_of(request.app).current(document.id) == provision_id,
        view="queue" if view == "queue" else "panel",
        message=message,
        error=error,
    )


def render_state(request: Request, panel: ProvisionPanel, *, status_code: int = 200) -> Response:
    """The live part of a panel: what every one-click action answers with."""
    return render(request, "text/_state.html", panel.context(), status_code=status_code)


def act(
    request: Request,
    database: Database,
    viewer: Viewer,
    *,
    provision_id: int | Callable[[], int],
    view: str,
    action: Callable[[], str],
) -> Response:
    """Run a one-click action, then answer with the provision's fresh state and the outcome.

    A refusal (agreed text, a stale version, a decided proposal…) is shown at the top of the
    same state, re-read from the database, with the refusal's status code (HTMX swaps 4xx).
    Without HTMX the whole provision page is the answer.
    """
    status_code = 200
    try:
        message, error = action(), False
    except DomainError as exc:
        message, error, status_code = exc.message, True, status_of(exc)
    pid = provision_id if isinstance(provision_id, int) else provision_id()
    panel = provision_panel(request, database, viewer, pid, view=view, message=message, error=error)
    if not is_htmx(request):
        return full_page(request, database, viewer, panel, status_code=status_code)
    return render_state(request, panel, status_code=status_code)


def full_page(
    request: Request,
    database: Database,
    viewer: Viewer,
    panel: ProvisionPanel,
    *,
    status_code: int = 200,
) -> Response:
    """The provision's own page: the answer to a form sent without HTMX."""
    page = document_page(database, viewer, panel.document.id)
    return render(
        request, "text/provision.html", page.context(**panel.context()), status_code=status_code
    )


# -- routes ------------------------------------------------------------------------------------


@router.get("/documents/{document_id}")
def text_page(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    open: int | None = None,
) -> Response:
    page = document_page(database, viewer, document_id)
    panel = None
    if open is not None and any(p.id == open for p in page.document.provisions):
        panel = provision_panel(request, database, viewer, open)
    return render(request, "text/document.html", page.context(open_panel=panel))


@router.get("/documents/{document_id}/provisions")
def provision_list(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The whole list, re-fetched when the structure changes; open panels survive (hx-preserve)."""
    page = document_page(database, viewer, document_id)
    return render(request, "text/_provisions.html", page.context(open_panel=None))


@router.get("/provisions/{provision_id}")
def provision_page(
    provision_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """A provision on a page of its own: a link to share, and the panel without JavaScript."""
    return full_page(
        request, database, viewer, provision_panel(request, database, viewer, provision_id)
    )


@router.get("/documents/{document_id}/lines/{provision_id}")
def provision_line(
    document_id: int, provision_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """One provision's line in the text: label, words, status, pending count.

    A provision a revision took out of the text answers with nothing: its line disappears.
    """
    document = documents.get_document(database, viewer=viewer.actor, document_id=document_id)
    provision = next((p for p in document.provisions if p.id == provision_id), None)
    if provision is None:
        return Response(status_code=200, media_type="text/html")
    return render(request, "text/_line.html", {"p": provision, "document": document})


@router.get("/provisions/{provision_id}/panel")
def provision_panel_fragment(
    provision_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    panel = provision_panel(request, database, viewer, provision_id)
    return render(request, "text/_panel.html", panel.context())


@router.get("/provisions/{provision_id}/state")
def provision_state(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    view: str = "panel",
) -> Response:
    return render_state(
        request, provision_panel(request, database, viewer, provision_id, view=view)
    )
