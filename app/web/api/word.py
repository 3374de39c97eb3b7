"""Word files in and out: circulation exports, draft imports, marked-up copies."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.web.deps import ActorDep, DatabaseDep

router = APIRouter(tags=["word"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = ("clean", "compilation", "tracked", "comparison", "amendment-list")


@router.get(
    "/documents/{document_id}/export/{kind}",
    summary="A .docx for circulation: clean, compilation, tracked, comparison, amendment-list",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}},
)
def export(
    document_id: int,
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
