"""Typed dependencies shared by the routes: the database and the signed-in actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.db.session import Database
from app.domain.errors import NotAuthenticated
from app.domain.roles import Actor
from app.services import accounts


def get_database(request: Request) -> Database:
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
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    try:
        return accounts.actor_for_user(database, user_id=int(user_id))
    except NotAuthenticated:
        request.session.clear()
        raise


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise NotAuthenticated("Sign in, or send a personal API token, to use Rolltext.")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
