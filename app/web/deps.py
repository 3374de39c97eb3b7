"""Typed dependencies shared by the routes: the database and the signed-in actor, and what the
session cookie holds (signing in and out, for the pages and the API alike)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.db.session import Database
from app.domain.errors import NotAuthenticated
from app.domain.roles import Actor
from app.services import accounts
from app.web import answers

#: What the signed session cookie holds for a signed-in user (with the CSRF token).
SESSION_USER = "user_id"
SESSION_KEY = "session_key"


def sign_in(request: Request, database: Database, actor: Actor) -> None:
    """Start a session for `actor` in a fresh cookie (nothing from before sign-in is kept)."""
    request.session.clear()
    request.session[SESSION_USER] = actor.user_id
    request.session[SESSION_KEY] = accounts.start_session(database, actor=actor)


def sign_out(request: Request, database: Database) -> None:
    """End the session on the server too: a copy of the cookie must not sign anyone in again."""
    accounts.end_session(database, key=request.session.get(SESSION_KEY))
    request.session.clear()


# The dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its
# threadpool, a thread switch per dependency per request.


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


def optional_actor(request: Request, database: DatabaseDep) -> Actor | None:
    """A personal API token (Authorization: Bearer …) or the session cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>' with a personal API token.")
        return accounts.actor_for_token(database, token=token.strip())
    user_id = request.session.get(SESSION_USER)
    if user_id is None:
        return None
    try:
        return answers.session_actor(
            database, user_id=int(user_id), key=request.session.get(SESSION_KEY)
        )
    except NotAuthenticated:
        request.session.clear()
        raise


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise NotAuthenticated("Sign in, or send a personal API token, to use Rolltext.")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
