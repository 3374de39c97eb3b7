"""Proposals: propose, redraft, withdraw, support/oppose, and the co-facilitators' decision.

These are the routes every delegation calls during a session: each runs its use case, signed-in
caller included, in one thread hop (`Caller`)."""

from __future__ import annotations

from fastapi import Query
from starlette.responses import Response

from app.domain.amendments import AmendmentState
from app.services import amendments, decisions
from app.services.views import AmendmentView
from app.web import answers
from app.web.api.schemas import DecisionBody, NewProposal, Redraft, Stance
from app.web.api.types import Id, Limit, Offset
from app.web.deps import CallerDep
from app.web.router import Router

router = Router(tags=["proposals"])


@router.get("/documents/{document_id}/amendments", response_model=list[AmendmentView])
async def list_amendments(
    document_id: Id,
    caller: CallerDep,
    provision_id: Id | None = None,
    delegation: str | None = Query(default=None, description="delegation or group code"),
    state: AmendmentState | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    return await caller.run(
        lambda actor: answers.amendment_list(
            caller.database,
            actor,
            document_id,
            provision_id=provision_id,
            delegation=delegation,
            state=state,
            limit=limit,
            offset=offset,
        )
    )


@router.post("/amendments", status_code=201, summary="Propose (or join the same proposal)")
async def propose(body: NewProposal, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: amendments.propose(
            caller.database,
            actor=actor,
            provision_id=body.provision_id,
            kind=body.kind,
            text=body.text,
            after_id=body.after_id,
            new_kind=body.new_kind,
            on_behalf_of=body.on_behalf_of,
            delegation=body.delegation,
            justification=body.justification,
            expected_version=body.expected_version,
        )
    )


@router.get("/amendments/{amendment_id}")
async def get_amendment(amendment_id: Id, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: amendments.get_amendment(
            caller.database, amendment_id=amendment_id, viewer=actor
        )
    )


@router.post("/amendments/{amendment_id}/redraft", summary="The proponent revises its wording")
async def redraft(amendment_id: Id, body: Redraft, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: amendments.revise(
            caller.database,
            actor=actor,
            amendment_id=amendment_id,
            text=body.text,
            justification=body.justification,
        )
    )


@router.post("/amendments/{amendment_id}/withdraw")
async def withdraw(amendment_id: Id, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: amendments.withdraw(caller.database, actor=actor, amendment_id=amendment_id)
    )


@router.post("/amendments/{amendment_id}/position", summary="Support, oppose, or take it back")
async def position(amendment_id: Id, body: Stance, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: amendments.take_position(
            caller.database, actor=actor, amendment_id=amendment_id, stance=body.stance
        )
    )


@router.post("/amendments/{amendment_id}/decision", summary="Accept, bracket or reject")
async def decide(amendment_id: Id, body: DecisionBody, caller: CallerDep) -> AmendmentView:
    return await caller.run(
        lambda actor: decisions.decide(
            caller.database,
            actor=actor,
            amendment_id=amendment_id,
            decision=body.decision,
            expected_version=body.expected_version,
            reason=body.reason,
        )
    )
