"""Revisions: the list with downloads, issuing one (with a preview of the renumbering),
comparing any two, and a provision's full history.

A comparison matches provisions by their stable id, never by label: "3.1.4 bis" in Rev.1's
predecessor and "3.1.5" in Rev.1 are the same paragraph, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from app.domain.diff import DiffOp, word_diff
from app.domain.errors import DomainError, Invalid
from app.domain.labels import ProvisionKind
from app.domain.provisions import ProvisionStatus
from app.services import amendments, documents, revisions
from app.services.views import AmendmentView, DocumentView, RevisionEntryView, RevisionView
from app.web.deps import DatabaseDep
from app.web.errors import status_of
from app.web.pages.routing import PageRoute
from app.web.pages.text import document_page
from app.web.pages.viewer import ViewerDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)

NOW = "now"


def next_name(existing: tuple[RevisionView, ...]) -> str:
    """ "Rev.2" after "Rev.1" — what co-facilitators usually call the next one."""
    numbers = [
        int(r.name[4:]) for r in existing if r.name.startswith("Rev.") and r.name[4:].isdigit()
    ]
    return f"Rev.{max(numbers, default=0) + 1}"


@router.get("/documents/{document_id}/revisions")
def revisions_page(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    issued: int | None = None,
) -> Response:
    page = document_page(database, viewer, document_id)
    issued_revision = next((r for r in page.revisions if r.seq == issued), None)
    return render(
        request,
        "revisions/index.html",
        page.context(
            form={
                "name": next_name(page.revisions),
                "issued_on": date.today().isoformat(),
                "renumber": True,
            },
            renumbering=revisions.preview_renumbering(
                database, viewer=viewer.actor, document_id=document_id
            ),
            issued=issued_revision,
        ),
    )


@router.get("/documents/{document_id}/revisions/list")
def revisions_list(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    page = document_page(database, viewer, document_id)
    return render(request, "revisions/_list.html", page.context())


@router.get("/documents/{document_id}/renumbering")
def renumbering(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    renumber: bool = False,
) -> Response:
    """What the next revision would do to the labels, shown before it is issued."""
    return render(
        request,
        "revisions/_renumbering.html",
        {
            "renumber": renumber,
            "renumbering": revisions.preview_renumbering(
                database, viewer=viewer.actor, document_id=document_id
            ),
        },
    )


@router.post("/documents/{document_id}/revisions")
def issue(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    name: Annotated[str, Form(max_length=100)] = "",
    issued_on: Annotated[str, Form(max_length=20)] = "",
    renumber: Annotated[bool, Form()] = False,
) -> Response:
    form = {"name": name, "issued_on": issued_on, "renumber": renumber}
    try:
        try:
            day = date.fromisoformat(issued_on)
        except ValueError as exc:
            raise Invalid("Give the revision's date as YYYY-MM-DD.") from exc
        revision = revisions.issue_revision(
            database,
            actor=viewer.actor,
            document_id=document_id,
            name=name,
            issued_on=day,
            renumber_labels=renumber,
        )
    except DomainError as exc:
        page = document_page(database, viewer, document_id)
        context = page.context(
            form=form,
            renumbering=revisions.preview_renumbering(
                database, viewer=viewer.actor, document_id=document_id
            ),
            form_message=exc.message,
            form_error=True,
        )
        template = "revisions/_issue_form.html" if is_htmx(request) else "revisions/index.html"
        return render(request, template, context, status_code=status_of(exc))
    location = f"/documents/{document_id}/revisions?issued={revision.seq}"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


# -- comparing revisions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    """One provision in a comparison of two texts."""

    provision_id: int
    kind: ProvisionKind
    depth: int
    old_label: str | None
    new_label: str | None
    old_text: str | None
    new_text: str | None
    old_status: ProvisionStatus | None
    new_status: ProvisionStatus | None
    ops: tuple[DiffOp, ...]

    @property
    def change(self) -> str:
        if self.old_text is None:
            return "added"
        if self.new_text is None:
            return "removed"
        if self.old_text != self.new_text:
            return "changed"
        if self.old_label != self.new_label:
            return "relabelled"
        return "same"

    @property
    def relabelled(self) -> bool:
        return None not in (self.old_label, self.new_label) and self.old_label != self.new_label


def current_entries(document: DocumentView) -> tuple[RevisionEntryView, ...]:
    """The rolling text as it stands, in the shape of a revision's entries."""
    return tuple(
        RevisionEntryView(
            provision_id=p.id,
            parent_id=p.parent_id,
            depth=p.depth,
            kind=p.kind,
            label=p.label,
            text=p.text,
            version=p.version,
            status=p.status,
            reservation=p.reservation,
        )
        for p in document.provisions
        if not p.deleted
    )


def compare(
    old: tuple[RevisionEntryView, ...], new: tuple[RevisionEntryView, ...]
) -> list[Compared]:
    """Match provisions by id; a removed one is shown where it stood, after its predecessor."""
    before = {e.provision_id: e for e in old}
    after = {e.provision_id: e for e in new}
    rows: list[Compared] = []
    for e in new:
        o = before.get(e.provision_id)
        rows.append(
            Compared(
                provision_id=e.provision_id,
                kind=e.kind,
                depth=e.depth,
                old_label=o.label if o else None,
                new_label=e.label,
                old_text=o.text if o else None,
                new_text=e.text,
                old_status=o.status if o else None,
                new_status=e.status,
                ops=word_diff(o.text if o else "", e.text),
            )
        )
    previous: int | None = None
    for e in old:
        if e.provision_id not in after:
            at = next((i for i, r in enumerate(rows) if r.provision_id == previous), -1) + 1
            rows.insert(
                at,
                Compared(
                    provision_id=e.provision_id,
                    kind=e.kind,
                    depth=e.depth,
                    old_label=e.label,
                    new_label=None,
                    old_text=e.text,
                    new_text=None,
                    old_status=e.status,
                    new_status=None,
                    ops=word_diff(e.text, ""),
                ),
            )
        previous = e.provision_id
    return rows


@router.get("/documents/{document_id}/compare")
def compare_page(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    a: str | None = None,
    b: str | None = None,
    mode: str = "inline",
    changes: bool = False,
) -> Response:
    page = document_page(database, viewer, document_id)
    if not page.revisions:
        raise Invalid("This document has no revision yet.")
    b = b or NOW
    a = a or str(page.revisions[-1].seq if b == NOW else max(int(b) - 1, 0))

    def entries(ref: str) -> tuple[str, tuple[RevisionEntryView, ...]]:
        if ref == NOW:
            return "the rolling text now", current_entries(page.document)
        revision = revisions.get_revision(
            database, viewer=viewer.actor, document_id=document_id, ref=ref
        )
        return revision.name, revision.entries

    old_name, old = entries(a)
    new_name, new = entries(b)
    rows = compare(old, new)
    return render(
        request,
        "revisions/compare.html",
        page.context(
            rows=rows,
            a=a,
            b=b,
            old_name=old_name,
            new_name=new_name,
            mode="side" if mode == "side" else "inline",
            changed=sum(1 for r in rows if r.change != "same"),
            changes_only=changes,
        ),
    )


# -- a provision's history -------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelInRevision:
    revision: RevisionView
    label: str | None


@router.get("/provisions/{provision_id}/history")
def history(
    provision_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """Every version with what changed it, every proposal with its wordings, every label."""
    detail = documents.get_provision(database, viewer=viewer.actor, provision_id=provision_id)
    page = document_page(database, viewer, detail.provision.document_id)
    steps = []
    previous = ""
    for version in detail.versions:
        steps.append((version, word_diff(previous, version.text)))
        previous = version.text
    proposals: list[AmendmentView] = [
        amendments.get_amendment(database, viewer=viewer.actor, amendment_id=a.id)
        for a in detail.amendments
    ]
    labels = []
    for summary in page.revisions:
        revision = revisions.get_revision(
            database, viewer=viewer.actor, document_id=page.document.id, ref=str(summary.seq)
        )
        entry = next((e for e in revision.entries if e.provision_id == provision_id), None)
        labels.append(LabelInRevision(summary, entry.label if entry else None))
    return render(
        request,
        "revisions/history.html",
        page.context(p=detail.provision, steps=steps, proposals=proposals, labels=labels),
    )
