"""Negotiations, their documents, delegations and groups, and accounts."""

from __future__ import annotations

from datetime import date

from app.domain.errors import Invalid
from app.domain.outline import OutlineError, parse_outline
from app.services import accounts, directory, documents
from app.services.permissions import Action, require
from app.services.views import (
    DelegationView,
    DocumentView,
    GroupView,
    NegotiationView,
    UserView,
)
from app.web.api.schemas import ImportText, NewNegotiation, NewUser
from app.web.api.types import Id
from app.web.deps import ActorDep, CallerDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["negotiations"])


@router.get("/negotiations")
async def list_negotiations(caller: CallerDep) -> list[NegotiationView]:
    return await caller.run(
        lambda actor: documents.list_negotiations(caller.database, viewer=actor)
    )


@router.post("/negotiations", status_code=201)
async def create_negotiation(body: NewNegotiation, caller: CallerDep) -> NegotiationView:
    return await caller.run(
        lambda actor: documents.create_negotiation(
            caller.database,
            actor=actor,
            symbol=body.symbol,
            title=body.title,
            cofacilitators=body.cofacilitators,
        )
    )


@router.get("/negotiations/{negotiation_id}")
async def get_negotiation(negotiation_id: Id, caller: CallerDep) -> NegotiationView:
    return await caller.run(
        lambda actor: documents.get_negotiation(
            caller.database, negotiation_id=negotiation_id, viewer=actor
        )
    )


@router.post(
    "/negotiations/{negotiation_id}/documents",
    status_code=201,
    summary="Import a draft from a plain-text / Markdown outline",
)
def import_document(
    negotiation_id: Id, body: ImportText, actor: ActorDep, database: DatabaseDep
) -> DocumentView:
    try:
        outline = parse_outline(body.text)
    except OutlineError as exc:
        raise Invalid(str(exc)) from exc
    return documents.import_outline(
        database,
        actor=actor,
        negotiation_id=negotiation_id,
        outline=outline,
        revision_name=body.revision_name,
        issued_on=body.issued_on or date.today(),
    )


@router.get("/delegations", tags=["directory"])
async def list_delegations(caller: CallerDep) -> list[DelegationView]:
    return await caller.run(lambda actor: directory.list_delegations(caller.database))


@router.get("/groups", tags=["directory"])
async def list_groups(caller: CallerDep) -> list[GroupView]:
    return await caller.run(lambda actor: directory.list_groups(caller.database))


@router.get("/users", tags=["accounts"])
def list_users(actor: ActorDep, database: DatabaseDep) -> list[UserView]:
    require(actor, Action.MANAGE_USERS)
    return accounts.list_users(database)


@router.post("/users", status_code=201, tags=["accounts"])
async def create_user(body: NewUser, caller: CallerDep) -> UserView:
    return await caller.run(
        lambda actor: accounts.create_user(
            caller.database,
            actor=actor,
            username=body.username,
            display_name=body.display_name,
            role=body.role,
            password=body.password,
            delegation=body.delegation,
            groups=body.groups,
        )
    )
