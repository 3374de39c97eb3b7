"""Stakeholders' written inputs, kept apart from States' proposals."""

from __future__ import annotations

from pydantic import Field

from app.services import inputs
from app.services.inputs import InputView
from app.services.views import AmendmentView
from app.web.api.schemas import Body, optional_text, required_text
from app.web.api.types import Id
from app.web.deps import CallerDep
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
async def list_inputs(document_id: Id, caller: CallerDep) -> list[InputView]:
    return await caller.run(
        lambda actor: inputs.list_inputs(caller.database, document_id=document_id, viewer=actor)
    )


@router.post("/documents/{document_id}/inputs", status_code=201)
async def submit_input(document_id: Id, body: NewInput, caller: CallerDep) -> InputView:
    return await caller.run(
        lambda actor: inputs.submit_input(
            caller.database,
            actor=actor,
            document_id=document_id,
            text=body.text,
            organisation=body.organisation,
            provision_id=body.provision_id,
        )
    )


@router.post(
    "/inputs/{input_id}/adopt",
    status_code=201,
    summary="A delegation adopts an input as its own proposal",
)
async def adopt_input(input_id: Id, body: Adoption, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: inputs.adopt_input(
            caller.database,
            actor=actor,
            input_id=input_id,
            text=body.text,
            provision_id=body.provision_id,
            on_behalf_of=body.on_behalf_of,
            justification=body.justification,
        )
    )
