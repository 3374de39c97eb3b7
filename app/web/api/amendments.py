"""Proposals: propose, redraft, withdraw, support/oppose, and the co-facilitators' decision."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.domain.amendments import AmendmentState
from app.services import amendments, decisions
from app.services.views import AmendmentView
from app.web import answers
from app.web.api.schemas import DecisionBody, NewProposal, Redraft, Stance
from app.web.api.types import Id, Limit, Offset
from app.web.deps import ActorDep, DatabaseDep

router = APIRouter(tags=["proposals"])


@router.get("/documents/{document_id}/amendments", response_model=list[AmendmentView])
def list_amendments(
    document_id: Id,
    actor: ActorDep,
    database: DatabaseDep,
    provision_id: Id | None = None,
    delegation: str | None = Query(default=None, description="delegation or group code"),
    state: AmendmentState | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    return answers.amendment_list(
        database,
        actor,
        document_id,
        provision_id=provision_id,
        delegation=delegation,
        state=state,
        limit=limit,
        offset=offset,
    )


@router.post("/amendments", status_code=201, summary="Propose (or join the same proposal)")
def propose(body: NewProposal, actor: ActorDep, database: DatabaseDep) -> AmendmentView:
    return amendments.propose(
        database,
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


@router.get("/amendments/{amendment_id}")
def get_amendment(amendment_id: Id, actor: ActorDep, database: DatabaseDep) -> AmendmentView:
    return amendments.get_amendment(database, amendment_id=amendment_id, viewer=actor)


@router.post("/amendments/{amendment_id}/redraft", summary="The proponent revises its wording")
def redraft(
    amendment_id: Id, body: Redraft, actor: ActorDep, database: DatabaseDep
) -> AmendmentView:
    return amendments.revise(
        database,
        actor=actor,
        amendment_id=amendment_id,
        text=body.text,
        justification=body.justification,
    )


@router.post("/amendments/{amendment_id}/withdraw")
def withdraw(amendment_id: Id, actor: ActorDep, database: DatabaseDep) -> AmendmentView:
    return amendments.withdraw(database, actor=actor, amendment_id=amendment_id)


@router.post("/amendments/{amendment_id}/position", summary="Support, oppose, or take it back")
def position(
    amendment_id: Id, body: Stance, actor: ActorDep, database: DatabaseDep
) -> AmendmentView:
    return amendments.take_position(
        database, actor=actor, amendment_id=amendment_id, stance=body.stance
    )


@router.post("/amendments/{amendment_id}/decision", summary="Accept, bracket or reject")
def decide(
    amendment_id: Id, body: DecisionBody, actor: ActorDep, database: DatabaseDep
) -> AmendmentView:
    return decisions.decide(
        database,
        actor=actor,
        amendment_id=amendment_id,
        decision=body.decision,
        expected_version=body.expected_version,
        reason=body.reason,
    )
