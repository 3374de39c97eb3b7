"""Machine-readable exchange with other tools: Akoma Ntoso XML in and out, the proposals feed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import Response

from app.akn import MEDIA_TYPE
from app.services import feed
from app.services.views import DocumentView
from app.web.api.types import Id
from app.web.deps import ActorDep, CallerDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["exchange"])

MAX_UPLOAD = 20_000_000
REVISION = Query(
    default=None,
    max_length=100,
    description="revision number or name; omitted: the rolling text as it stands",
)


@router.get(
    "/documents/{document_id}/akn",
    summary="A revision as Akoma Ntoso 3.0 XML (AKN4UN), valid against the OASIS schema",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
def export_akn(
    document_id: Id, actor: ActorDep, database: DatabaseDep, revision: str | None = REVISION
) -> Response:
    file = feed.export_akn(database, document_id=document_id, revision=revision, viewer=actor)
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@router.post(
    "/negotiations/{negotiation_id}/documents/akn",
    status_code=201,
    summary="Import a draft from an Akoma Ntoso 3.0 XML file",
)
async def import_akn(
    negotiation_id: Id,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="the draft, Akoma Ntoso 3.0 XML")],
    revision_name: Annotated[str, Form(max_length=100)] = "Zero draft",
    issued_on: Annotated[date | None, Form()] = None,
) -> DocumentView:
    return await caller.run(
        lambda actor: feed.import_akn(
            caller.database,
            actor=actor,
            negotiation_id=negotiation_id,
            data=file.file.read(MAX_UPLOAD + 1),
            revision_name=revision_name,
            issued_on=issued_on or date.today(),
        )
    )


@router.get(
    "/documents/{document_id}/feed",
    summary="The pending proposals on a revision as JSON: stable ids, labels, proponents, diffs",
)
async def proposals_feed(
    document_id: Id, caller: CallerDep, revision: str | None = REVISION
) -> dict[str, Any]:
    return await caller.run(
        lambda actor: feed.proposals_feed(
            caller.database, document_id=document_id, revision=revision, viewer=actor
        )
    )
