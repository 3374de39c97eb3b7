"""Word files in and out: circulation exports, draft imports, marked-up copies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from app.domain.errors import Invalid
from app.services.views import AmendmentView, DocumentView
from app.web.api.types import Id
from app.web.deps import ActorDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["word"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_UPLOAD = 20_000_000
KINDS = ("clean", "compilation", "tracked", "comparison", "amendment-list")


@router.get(
    "/documents/{document_id}/export/{kind}",
    summary="A .docx for circulation: clean, compilation, tracked, comparison, amendment-list",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}},
)
def export(
    document_id: Id,
    kind: Literal[KINDS],  # type: ignore[valid-type]
    actor: ActorDep,
    database: DatabaseDep,
    revision: str | None = Query(
        default=None, description="revision number or name; omitted: the rolling text as it stands"
    ),
    against: str | None = Query(default=None, description="comparison: the earlier revision"),
    attributed: bool = Query(default=True, description="compilation: name the proponents"),
) -> Response:
    from app.services import exports  # the Word layer loads only when a file is asked for

    file = exports.export_document(
        database,
        document_id=document_id,
        kind=exports.ExportKind(kind),
        revision=revision,
        against=against,
        attributed=attributed,
        viewer=actor,
    )
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


def _read_upload(upload: UploadFile) -> bytes:
    """Read at most one byte past the limit: the Word layer names the limit when it refuses."""
    return upload.file.read(MAX_UPLOAD + 1)


class DraftPreview(BaseModel):
    title: str
    subtitle: str | None
    scheme: str
    recognised: list[str]
    warnings: list[str]


class DraftImported(BaseModel):
    document: DocumentView
    recognised: list[str]
    warnings: list[str]


@router.post(
    "/negotiations/{negotiation_id}/documents/docx",
    status_code=201,
    summary="Import a draft typed in Word (preview=true: only say what was recognised)",
)
def import_docx(
    negotiation_id: Id,
    response: Response,
    actor: ActorDep,
    database: DatabaseDep,
    file: Annotated[UploadFile, File(description="the draft, .docx")],
    preview: Annotated[bool, Form()] = False,
    revision_name: Annotated[str, Form(max_length=100)] = "Zero draft",
    issued_on: Annotated[date | None, Form()] = None,
) -> DraftPreview | DraftImported:
    from app.services import documents, word_import

    documents.check_may_import(database, actor=actor, negotiation_id=negotiation_id)
    data = _read_upload(file)
    if preview:
        response.status_code = 200  # nothing was created
        report = word_import.preview_draft(data)
        return DraftPreview(
            title=report.outline.title,
            subtitle=report.outline.subtitle,
            scheme=report.outline.scheme,
            recognised=list(report.recognised),
            warnings=list(report.warnings),
        )
    document, report = word_import.import_docx(
        database,
        actor=actor,
        negotiation_id=negotiation_id,
        data=data,
        revision_name=revision_name,
        issued_on=issued_on or date.today(),
    )
    return DraftImported(
        document=document, recognised=list(report.recognised), warnings=list(report.warnings)
    )


class MarkedUpChange(BaseModel):
    number: int
    kind: str
    label: str
    summary: str
    text: str | None
    tracked: bool
    authors: list[str]


class MarkedUpAnswer(BaseModel):
    revision: str
    identified_by: str
    confidence: float
    mismatch: str | None
    warnings: list[str]
    changes: list[MarkedUpChange]
    saved: list[AmendmentView] = []
    skipped: list[str] = []


@router.post(
    "/documents/{document_id}/marked-up",
    summary="A delegation's marked-up copy: preview its proposals, then confirm to save them",
)
def marked_up(
    document_id: Id,
    actor: ActorDep,
    database: DatabaseDep,
    file: Annotated[
        UploadFile, File(description="the circulated .docx, edited (Track Changes or not)")
    ],
    confirm: Annotated[bool, Form()] = False,
    changes: Annotated[
        str | None, Form(description="numbers to save, e.g. 1,3; default all")
    ] = None,
    on_behalf_of: Annotated[str | None, Form(max_length=32)] = None,
    justification: Annotated[str | None, Form(max_length=20_000)] = None,
) -> MarkedUpAnswer:
    from app.services import word_import

    data = _read_upload(file)
    preview = word_import.preview_marked_up(
        database, actor=actor, document_id=document_id, data=data
    )
    report = preview.report
    answer = MarkedUpAnswer(
        revision=preview.revision,
        identified_by=report.identified_by,
        confidence=report.confidence,
        mismatch=report.mismatch,
        warnings=list(report.warnings),
        changes=[
            MarkedUpChange(
                number=i + 1,
                kind=c.kind,
                label=c.label,
                summary=c.summary(),
                text=c.text,
                tracked=c.tracked,
                authors=list(c.authors),
            )
            for i, c in enumerate(report.changes)
        ],
    )
    if not confirm:
        return answer
    try:
        selected = (
            None if not changes else [int(n) - 1 for n in changes.replace(" ", "").split(",") if n]
        )
    except ValueError as exc:
        raise Invalid("List the changes to save by number, e.g. 1,3.") from exc
    result = word_import.confirm_marked_up(
        database,
        actor=actor,
        document_id=document_id,
        data=data,
        selected=selected,
        on_behalf_of=on_behalf_of,
        justification=justification,
    )
    answer.saved = list(result.proposals)
    answer.skipped = [f"change {s.change + 1}: {s.reason}" for s in result.skipped]
    return answer
