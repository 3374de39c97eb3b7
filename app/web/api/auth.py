"""Signing in (session cookie), personal API tokens, and who am I."""

from __future__ import annotations

from fastapi import Request, Response

from app.domain.roles import Actor
from app.services import accounts, notifications
from app.services.notifications import Notifications
from app.services.views import IssuedToken
from app.web import deps
from app.web.api.schemas import NewToken, SignIn
from app.web.api.types import Id
from app.web.deps import ActorDep, CallerDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["session"])


@router.post(
    "/session",
    summary="Sign in; sets the session cookie and returns the CSRF token (X-CSRF-Token header)",
)
def sign_in(body: SignIn, request: Request, database: DatabaseDep) -> Actor:
    actor = accounts.authenticate(
        database,
        username=body.username,
        password=body.password,
        address=request.client.host if request.client else None,
    )
    deps.sign_in(request, database, actor)
    return actor


@router.delete("/session", status_code=204, summary="Sign out (the session cookie stops working)")
def sign_out(request: Request, database: DatabaseDep) -> Response:
    deps.sign_out(request, database)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in user")
async def me(caller: CallerDep) -> Actor:
    return await caller.run(lambda actor: actor)


@router.get("/me/notifications", summary="What changed since your last visit")
async def my_notifications(caller: CallerDep) -> Notifications:
    return await caller.run(lambda actor: notifications.notifications(caller.database, actor=actor))


@router.post("/me/notifications/seen", status_code=204, summary="Mark everything as seen")
def mark_seen(actor: ActorDep, database: DatabaseDep) -> Response:
    notifications.mark_seen(database, actor=actor)
    return Response(status_code=204)


@router.post("/tokens", status_code=201, summary="Issue a personal API token (shown once)")
async def issue_token(body: NewToken, caller: CallerDep) -> IssuedToken:
    return await caller.run(
        lambda actor: accounts.issue_token(caller.database, actor=actor, name=body.name)
    )


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a personal API token")
def revoke_token(token_id: Id, actor: ActorDep, database: DatabaseDep) -> Response:
    accounts.revoke_token(database, actor=actor, token_id=token_id)
    return Response(status_code=204)
