"""Word documents in the browser: a draft typed in Word becomes a document; a delegation's
marked-up copy of the circulated file becomes its proposals.

Both go in two steps, as in the API: the preview says what Rolltext recognised and saves
nothing; the confirmation creates. Between the two the file waits server-side (pages/uploads.py:
per user, 15 minutes, size-capped), so the confirm form carries only a token. A file the Word
layer refuses (not a .docx, password-protected, too large, a zip bomb…) comes back as the same
form with the refusal beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from app.domain.errors import DomainError, Invalid
from app.services import documents
from app.web.deps import DatabaseDep
from app.web.errors import status_of
from app.web.pages.routing import PageRoute
from app.web.pages.text import DocumentPage, document_page
from app.web.pages.uploads import MAX_FILE, UploadStore
from app.web.pages.viewer import Viewer, ViewerDep
from app.web.router import Router
from app.web.templating import render

router = Router(route_class=PageRoute, include_in_schema=False)

DRAFT = "draft"
MARKED_UP = "marked-up"

#: How each kind of change reads in the preview.
CHANGE_KINDS = {
    "wording": "wording change",
    "insert_after": "new paragraph",
    "delete": "deletion",
    "move": "move",
}
#: How the copy was recognised as a copy of a revision.
IDENTIFIED = {
    "properties": "the file's document properties",
    "text": "matching its text with the revision",
}


def store_of(request: Request) -> UploadStore:
    store: UploadStore = request.app.state.uploads
    return store


def read_upload(file: UploadFile | None) -> tuple[bytes, str]:
    """At most one byte past the limit: the Word layer names the limit when it refuses."""
    if file is None or not file.filename:
        raise Invalid("Choose a Word file (.docx) to upload.")
    data = file.file.read(MAX_FILE + 1)
    if not data:
        raise Invalid("The file is empty: choose the Word file (.docx) again.")
    return data, file.filename


# -- a draft typed in Word ------------------------------------------------------------------------


def _draft_page(
    request: Request,
    database: DatabaseDep,
    viewer: Viewer,
    negotiation_id: int,
    *,
    form: Mapping[str, object] | None = None,
    message: str | None = None,
    report: object | None = None,
    token: str | None = None,
    filename: str = "",
    status_code: int = 200,
) -> Response:
    negotiation = documents.get_negotiation(
        database, viewer=viewer.actor, negotiation_id=negotiation_id
    )
    return render(
        request,
        "word/import.html",
        {
            "viewer": viewer.within(negotiation),
            "negotiation": negotiation,
            "form": form or {"revision_name": "Zero draft", "issued_on": date.today().isoformat()},
            "form_message": message,
            "report": report,
            "token": token,
            "filename": filename,
        },
        status_code=status_code,
    )


@router.get("/negotiations/{negotiation_id}/import")
def import_page(
    negotiation_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    documents.check_may_import(database, actor=viewer.actor, negotiation_id=negotiation_id)
    return _draft_page(request, database, viewer, negotiation_id)


@router.post("/negotiations/{negotiation_id}/import")
def import_preview(
    negotiation_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    file: Annotated[UploadFile | None, File()] = None,
    revision_name: Annotated[str, Form(max_length=100)] = "Zero draft",
    issued_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """What the import recognises in the draft: headings, lists, PP/OP paragraphs, warnings."""
    from app.services import word_import  # the Word layer loads only when a file comes

    documents.check_may_import(database, actor=viewer.actor, negotiation_id=negotiation_id)
    form = {"revision_name": revision_name, "issued_on": issued_on}
    try:
        data, filename = read_upload(file)
        report = word_import.preview_draft(data)
        token = store_of(request).put(
            user_id=viewer.actor.user_id,
            purpose=DRAFT,
            subject=negotiation_id,
            data=data,
            filename=filename,
        )
    except DomainError as exc:
        return _draft_page(
            request,
            database,
            viewer,
            negotiation_id,
            form=form,
            message=exc.message,
            status_code=status_of(exc),
        )
    return _draft_page(
        request,
        database,
        viewer,
        negotiation_id,
        form=form,
        report=report,
        token=token,
        filename=filename,
    )


@router.post("/negotiations/{negotiation_id}/import/confirm")
def import_confirm(
    negotiation_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    upload: Annotated[str, Form(max_length=100)] = "",
    revision_name: Annotated[str, Form(max_length=100)] = "Zero draft",
    issued_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Create the document from the previewed draft; then open it."""
    from app.services import word_import

    store = store_of(request)
    form = {"revision_name": revision_name, "issued_on": issued_on}
    try:
        try:
            day = date.fromisoformat(issued_on) if issued_on else date.today()
        except ValueError as exc:
            raise Invalid("Give the date of issue as YYYY-MM-DD.") from exc
        kept = store.get(
            upload, user_id=viewer.actor.user_id, purpose=DRAFT, subject=negotiation_id
        )
        document, _ = word_import.import_docx(
            database,
            actor=viewer.actor,
            negotiation_id=negotiation_id,
            data=kept.data,
            revision_name=revision_name.strip() or "Zero draft",
            issued_on=day,
        )
    except DomainError as exc:
        return _draft_page(
            request,
            database,
            viewer,
            negotiation_id,
            form=form,
            message=exc.message,
            status_code=status_of(exc),
        )
    store.discard(upload)
    return RedirectResponse(f"/documents/{document.id}", status_code=303)


# -- a delegation's marked-up copy -----------------------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    """One change of the copy as the preview lists it (numbered from 1, as the API does)."""

    number: int
    label: str
    kind: str
    summary: str
    tracked: bool
    authors: tuple[str, ...]


def _marked_up_page(
    request: Request,
    page: DocumentPage,
    *,
    message: str | None = None,
    preview: object | None = None,
    changes: list[ChangeLine] | None = None,
    token: str | None = None,
    filename: str = "",
    form: dict[str, object] | None = None,
    result: object | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "word/marked_up.html",
        page.context(
            form_message=message,
            preview=preview,
            changes=changes or [],
            token=token,
            filename=filename,
            form=form or {"on_behalf_of": "", "justification": "", "selected": None},
            result=result,
            identified=IDENTIFIED,
        ),
        status_code=status_code,
    )


def _lines(preview: object) -> list[ChangeLine]:
    from app.services.word_import import MarkedUpPreview

    assert isinstance(preview, MarkedUpPreview)
    return [
        ChangeLine(
            number=i + 1,
            label=c.label or "—",
            kind=CHANGE_KINDS.get(c.kind, c.kind),
            summary=c.summary(),
            tracked=c.tracked,
            authors=tuple(c.authors),
        )
        for i, c in enumerate(preview.report.changes)
    ]


@router.get("/documents/{document_id}/marked-up")
def marked_up_page(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    return _marked_up_page(request, document_page(database, viewer, document_id))


@router.post("/documents/{document_id}/marked-up")
def marked_up_preview(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Each change the copy proposes, before anything is saved."""
    from app.services import word_import

    page = document_page(database, viewer, document_id)
    try:
        data, filename = read_upload(file)
        preview = word_import.preview_marked_up(
            database, actor=viewer.actor, document_id=document_id, data=data
        )
        token = store_of(request).put(
            user_id=viewer.actor.user_id,
            purpose=MARKED_UP,
            subject=document_id,
            data=data,
            filename=filename,
        )
    except DomainError as exc:
        return _marked_up_page(request, page, message=exc.message, status_code=status_of(exc))
    return _marked_up_page(
        request, page, preview=preview, changes=_lines(preview), token=token, filename=filename
    )


@router.post("/documents/{document_id}/marked-up/confirm")
def marked_up_confirm(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    upload: Annotated[str, Form(max_length=100)] = "",
    change: Annotated[list[int] | None, Form()] = None,
    on_behalf_of: Annotated[str, Form(max_length=32)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Save the ticked changes as proposals (all in one transaction), then say what happened."""
    from app.services import word_import

    page = document_page(database, viewer, document_id)
    store = store_of(request)
    ticked = sorted(set(change or []))
    form: dict[str, object] = {
        "on_behalf_of": on_behalf_of,
        "justification": justification,
        "selected": ticked,
    }
    preview = None
    filename = ""
    try:
        kept = store.get(
            upload, user_id=viewer.actor.user_id, purpose=MARKED_UP, subject=document_id
        )
        filename = kept.filename
        preview = word_import.preview_marked_up(
            database, actor=viewer.actor, document_id=document_id, data=kept.data
        )
        if not ticked:
            raise Invalid("Tick at least one change to propose.")
        result = word_import.confirm_marked_up(
            database,
            actor=viewer.actor,
            document_id=document_id,
            data=kept.data,
            selected=[n - 1 for n in ticked],
            on_behalf_of=on_behalf_of or None,
            justification=justification.strip() or None,
        )
    except DomainError as exc:
        return _marked_up_page(
            request,
            page,
            message=exc.message,
            preview=preview,
            changes=_lines(preview) if preview is not None else None,
            token=upload if preview is not None else None,
            filename=filename,
            form=form,
            status_code=status_of(exc),
        )
    store.discard(upload)
    labels = {c.number: c.label for c in _lines(preview)}
    return _marked_up_page(
        request,
        document_page(database, viewer, document_id),
        result=result,
        filename=filename,
        form={"labels": labels},
    )
