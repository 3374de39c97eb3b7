"""Stakeholders' written inputs, kept apart from States' proposals."""

from __future__ import annotations

from pydantic import Field

from app.services import inputs
from app.services.inputs import InputView
from app.services.views import AmendmentView
from app.web.api.schemas import Body, optional_text, required_text
from app.web.api.types import Id
from app.web.deps import ActorDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["stakeholder inputs"])


class NewInput(Body):
    text: str = required_text()
    organisation: str = Field(max_length=200)
    provision_id: Id | None = None


class Adoption(Body):
    provision_id: Id
    text: str = required_text()
    on_behalf_of: str | None = Field(default=None, max_length=32)
    justification: str | None = optional_text()


@router.get("/documents/{document_id}/inputs")
def list_inputs(document_id: Id, actor: ActorDep, database: DatabaseDep) -> list[InputView]:
    return inputs.list_inputs(database, document_id=document_id, viewer=actor)


@router.post("/documents/{document_id}/inputs", status_code=201)
def submit_input(
    document_id: Id, body: NewInput, actor: ActorDep, database: DatabaseDep
) -> InputView:
    return inputs.submit_input(
        database,
        actor=actor,
        document_id=document_id,
        text=body.text,
        organisation=body.organisation,
        provision_id=body.provision_id,
    )


@router.post(
    "/inputs/{input_id}/adopt",
    status_code=201,
    summary="A delegation adopts an input as its own proposal",
)
def adopt_input(
    input_id: Id, body: Adoption, actor: ActorDep, database: DatabaseDep
) -> AmendmentView:
    return inputs.adopt_input(
        database,
        actor=actor,
        input_id=input_id,
        text=body.text,
        provision_id=body.provision_id,
        on_behalf_of=body.on_behalf_of,
        justification=body.justification,
    )
