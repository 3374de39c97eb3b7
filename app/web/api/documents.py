"""The text: documents, provisions, and the co-facilitators' actions on a provision."""

from __future__ import annotations

from starlette.responses import Response

from app.services import decisions, documents, revisions
from app.services.views import (
    DocumentSummary,
    DocumentView,
    ProvisionDetail,
    ProvisionView,
    RevisionView,
)
from app.web import answers
from app.web.api.schemas import CfText, NewRevision, ResolveBrackets, StatusBody, VisibilityBody
from app.web.api.types import Id
from app.web.deps import CallerDep
from app.web.router import Router

router = Router(tags=["text"])


@router.get(
    "/documents/{document_id}",
    summary="The current text with labels and counts",
    response_model=DocumentView,
)
async def get_document(document_id: Id, caller: CallerDep) -> Response:
    return await caller.run(
        lambda actor: answers.document_json(caller.database, actor, document_id)
    )


@router.post(
    "/documents/{document_id}/visibility",
    summary="Restricted (delegations only) or public (stakeholders and observers too)",
)
async def set_visibility(
    document_id: Id, body: VisibilityBody, caller: CallerDep
) -> DocumentSummary:
    return await caller.run(
        lambda actor: documents.set_visibility(
            caller.database, actor=actor, document_id=document_id, visibility=body.visibility
        )
    )


@router.get(
    "/provisions/{provision_id}",
    summary="A provision, its versions and proposals",
    response_model=ProvisionDetail,
)
async def get_provision(provision_id: Id, caller: CallerDep) -> Response:
    return await caller.run(
        lambda actor: answers.provision_json(caller.database, actor, provision_id)
    )


@router.post("/provisions/{provision_id}/cf-text", summary="Co-facilitators' own wording")
async def cf_text(provision_id: Id, body: CfText, caller: CallerDep) -> ProvisionView:
    return await caller.run(
        lambda actor: decisions.cf_text(
            caller.database,
            actor=actor,
            provision_id=provision_id,
            text=body.text,
            expected_version=body.expected_version,
            supersedes=body.supersedes,
            note=body.note,
        )
    )


@router.post(
    "/provisions/{provision_id}/alternatives",
    status_code=201,
    summary="Table a whole-paragraph alternative (OP6 alt)",
)
async def cf_alternative(provision_id: Id, body: CfText, caller: CallerDep) -> ProvisionView:
    return await caller.run(
        lambda actor: decisions.cf_alternative(
            caller.database, actor=actor, provision_id=provision_id, text=body.text, note=body.note
        )
    )


@router.post("/provisions/{provision_id}/choose", summary="Keep this alternative, drop the others")
async def choose_alternative(provision_id: Id, caller: CallerDep) -> ProvisionView:
    return await caller.run(
        lambda actor: decisions.choose_alternative(
            caller.database, actor=actor, provision_id=provision_id
        )
    )


@router.post("/provisions/{provision_id}/resolve-brackets", summary="Keep one alternative")
async def resolve_brackets(
    provision_id: Id, body: ResolveBrackets, caller: CallerDep
) -> ProvisionView:
    return await caller.run(
        lambda actor: decisions.resolve_brackets(
            caller.database,
            actor=actor,
            provision_id=provision_id,
            group=body.group,
            choice=body.choice,
            expected_version=body.expected_version,
        )
    )


@router.post("/provisions/{provision_id}/status", summary="Mark open / agreed ad ref / agreed")
async def set_status(provision_id: Id, body: StatusBody, caller: CallerDep) -> ProvisionView:
    return await caller.run(
        lambda actor: decisions.set_status(
            caller.database,
            actor=actor,
            provision_id=provision_id,
            status=body.status,
            reservation=body.reservation,
            expected_version=body.expected_version,
        )
    )


@router.post("/provisions/{provision_id}/lift-reservation", summary="Give up a reservation")
async def lift_reservation(provision_id: Id, caller: CallerDep) -> ProvisionView:
    return await caller.run(
        lambda actor: decisions.lift_reservation(
            caller.database, actor=actor, provision_id=provision_id
        )
    )


@router.get("/documents/{document_id}/revisions", tags=["revisions"])
async def list_revisions(document_id: Id, caller: CallerDep) -> list[RevisionView]:
    return await caller.run(
        lambda actor: revisions.list_revisions(
            caller.database, document_id=document_id, viewer=actor
        )
    )


@router.get(
    "/documents/{document_id}/revisions/{ref}",
    tags=["revisions"],
    summary="A revision by number (0, 1…) or name (Rev.1)",
)
async def get_revision(document_id: Id, ref: str, caller: CallerDep) -> RevisionView:
    return await caller.run(
        lambda actor: revisions.get_revision(
            caller.database, document_id=document_id, ref=ref, viewer=actor
        )
    )


@router.get(
    "/documents/{document_id}/renumbering",
    tags=["revisions"],
    summary="Preview: old label → new label if a revision renumbered now",
)
async def preview_renumbering(document_id: Id, caller: CallerDep) -> dict[str, str]:
    return await caller.run(
        lambda actor: revisions.preview_renumbering(
            caller.database, document_id=document_id, viewer=actor
        )
    )


@router.post("/documents/{document_id}/revisions", status_code=201, tags=["revisions"])
async def issue_revision(document_id: Id, body: NewRevision, caller: CallerDep) -> RevisionView:
    return await caller.run(
        lambda actor: revisions.issue_revision(
            caller.database,
            actor=actor,
            document_id=document_id,
            name=body.name,
            issued_on=body.issued_on,
            renumber_labels=body.renumber,
        )
    )
