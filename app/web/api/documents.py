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
from app.web.deps import ActorDep, CallerDep, DatabaseDep
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
def set_visibility(
    document_id: Id, body: VisibilityBody, actor: ActorDep, database: DatabaseDep
) -> DocumentSummary:
    return documents.set_visibility(
        database, actor=actor, document_id=document_id, visibility=body.visibility
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
def cf_text(
    provision_id: Id, body: CfText, actor: ActorDep, database: DatabaseDep
) -> ProvisionView:
    return decisions.cf_text(
        database,
        actor=actor,
        provision_id=provision_id,
        text=body.text,
        expected_version=body.expected_version,
        supersedes=body.supersedes,
        note=body.note,
    )


@router.post(
    "/provisions/{provision_id}/alternatives",
    status_code=201,
    summary="Table a whole-paragraph alternative (OP6 alt)",
)
def cf_alternative(
    provision_id: Id, body: CfText, actor: ActorDep, database: DatabaseDep
) -> ProvisionView:
    return decisions.cf_alternative(
        database, actor=actor, provision_id=provision_id, text=body.text, note=body.note
    )


@router.post("/provisions/{provision_id}/choose", summary="Keep this alternative, drop the others")
def choose_alternative(provision_id: Id, actor: ActorDep, database: DatabaseDep) -> ProvisionView:
    return decisions.choose_alternative(database, actor=actor, provision_id=provision_id)


@router.post("/provisions/{provision_id}/resolve-brackets", summary="Keep one alternative")
def resolve_brackets(
    provision_id: Id, body: ResolveBrackets, actor: ActorDep, database: DatabaseDep
) -> ProvisionView:
    return decisions.resolve_brackets(
        database,
        actor=actor,
        provision_id=provision_id,
        group=body.group,
        choice=body.choice,
        expected_version=body.expected_version,
    )


@router.post("/provisions/{provision_id}/status", summary="Mark open / agreed ad ref / agreed")
def set_status(
    provision_id: Id, body: StatusBody, actor: ActorDep, database: DatabaseDep
) -> ProvisionView:
    return decisions.set_status(
        database,
        actor=actor,
        provision_id=provision_id,
        status=body.status,
        reservation=body.reservation,
        expected_version=body.expected_version,
    )


@router.post("/provisions/{provision_id}/lift-reservation", summary="Give up a reservation")
def lift_reservation(provision_id: Id, actor: ActorDep, database: DatabaseDep) -> ProvisionView:
    return decisions.lift_reservation(database, actor=actor, provision_id=provision_id)


@router.get("/documents/{document_id}/revisions", tags=["revisions"])
def list_revisions(document_id: Id, actor: ActorDep, database: DatabaseDep) -> list[RevisionView]:
    return revisions.list_revisions(database, document_id=document_id, viewer=actor)


@router.get(
    "/documents/{document_id}/revisions/{ref}",
    tags=["revisions"],
    summary="A revision by number (0, 1…) or name (Rev.1)",
)
def get_revision(document_id: Id, ref: str, actor: ActorDep, database: DatabaseDep) -> RevisionView:
    return revisions.get_revision(database, document_id=document_id, ref=ref, viewer=actor)


@router.get(
    "/documents/{document_id}/renumbering",
    tags=["revisions"],
    summary="Preview: old label → new label if a revision renumbered now",
)
def preview_renumbering(document_id: Id, actor: ActorDep, database: DatabaseDep) -> dict[str, str]:
    return revisions.preview_renumbering(database, document_id=document_id, viewer=actor)


@router.post("/documents/{document_id}/revisions", status_code=201, tags=["revisions"])
def issue_revision(
    document_id: Id, body: NewRevision, actor: ActorDep, database: DatabaseDep
) -> RevisionView:
    return revisions.issue_revision(
        database,
        actor=actor,
        document_id=document_id,
        name=body.name,
        issued_on=body.issued_on,
        renumber_labels=body.renumber,
    )
