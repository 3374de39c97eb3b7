"""Rounds of written proposals with deadlines, and the silence procedure."""

from __future__ import annotations

from datetime import datetime

from fastapi import Response
from pydantic import Field

from app.domain.deadlines import NEW_YORK
from app.services import process
from app.services.process import RoundView, SilenceView
from app.web.api.schemas import Body, optional_text, required_text
from app.web.api.types import Id
from app.web.deps import ActorDep, CallerDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["process"])


class NewRound(Body):
    name: str = Field(max_length=200)
    deadline: datetime = Field(description="local date and time in `timezone`")
    timezone: str = Field(default=NEW_YORK, max_length=64)


class MoveDeadline(Body):
    deadline: datetime
    timezone: str | None = Field(default=None, max_length=64)


class LateGrant(Body):
    delegation: str = Field(max_length=16)
    until: datetime
    reason: str | None = optional_text()


class NewSilence(Body):
    revision: str = Field(max_length=100, description="revision number or name")
    deadline: datetime
    timezone: str = Field(default=NEW_YORK, max_length=64)


class BreakSilence(Body):
    statement: str = required_text()
    provisions: list[str] = Field(default_factory=list, max_length=500)


@router.get("/documents/{document_id}/rounds")
async def list_rounds(document_id: Id, caller: CallerDep) -> list[RoundView]:
    return await caller.run(
        lambda actor: process.list_rounds(caller.database, document_id=document_id)
    )


@router.post("/documents/{document_id}/rounds", status_code=201)
async def open_round(document_id: Id, body: NewRound, caller: CallerDep) -> RoundView:
    return await caller.run(
        lambda actor: process.open_round(
            caller.database,
            actor=actor,
            document_id=document_id,
            name=body.name,
            deadline=body.deadline,
            timezone=body.timezone,
        )
    )


@router.post("/rounds/{round_id}/deadline", summary="Extend or reopen a round")
async def move_deadline(round_id: Id, body: MoveDeadline, caller: CallerDep) -> RoundView:
    return await caller.run(
        lambda actor: process.move_deadline(
            caller.database,
            actor=actor,
            round_id=round_id,
            deadline=body.deadline,
            timezone=body.timezone,
        )
    )


@router.post("/rounds/{round_id}/late-submissions", status_code=204)
def grant_late(round_id: Id, body: LateGrant, actor: ActorDep, database: DatabaseDep) -> Response:
    process.grant_late_submission(
        database,
        actor=actor,
        round_id=round_id,
        delegation=body.delegation,
        until=body.until,
        reason=body.reason,
    )
    return Response(status_code=204)


@router.get("/documents/{document_id}/silences")
async def list_silences(document_id: Id, caller: CallerDep) -> list[SilenceView]:
    return await caller.run(
        lambda actor: process.list_silences(caller.database, document_id=document_id)
    )


@router.post("/documents/{document_id}/silences", status_code=201)
async def place_under_silence(document_id: Id, body: NewSilence, caller: CallerDep) -> SilenceView:
    return await caller.run(
        lambda actor: process.place_under_silence(
            caller.database,
            actor=actor,
            document_id=document_id,
            revision=body.revision,
            deadline=body.deadline,
            timezone=body.timezone,
        )
    )


@router.post("/silences/{silence_id}/break", summary="Break silence with a statement")
async def break_silence(silence_id: Id, body: BreakSilence, caller: CallerDep) -> SilenceView:
    return await caller.run(
        lambda actor: process.break_silence(
            caller.database,
            actor=actor,
            silence_id=silence_id,
            statement=body.statement,
            provisions=body.provisions,
        )
    )
