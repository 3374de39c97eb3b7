"""Typed dependencies shared by the routes: the database and the signed-in actor, and what the
session cookie holds (signing in and out, for the pages and the API alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from app.db.session import Database
from app.domain.errors import NotAuthenticated
from app.domain.roles import Actor
from app.services import accounts
from app.web import answers, kept

T = TypeVar("T")

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


def actor_of(request: Request, database: Database) -> Actor | None:
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


async def optional_actor(request: Request) -> Actor | None:
    """`actor_of`, as a dependency: on the event loop when what it needs is kept (a signed-in
    session, on a `GET`), else in a thread (`kept.answer`) — not a thread hop per request of
    its own, as a plain `def` dependency would be."""
    database: Database = request.app.state.database
    return await kept.answer(request.method, database, lambda: actor_of(request, database))


SIGN_IN = "Sign in, or send a personal API token, to use Rolltext."


def signed_in(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated(SIGN_IN)
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    return signed_in(actor)


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]


@dataclass(frozen=True, slots=True)
class Caller:
    """Whoever sent the request, looked up where their use case runs.

    With `ActorDep`, the actor is looked up in a thread hop of its own (unless it is kept and
    the request a `GET`), the `def` endpoint runs in a second hop and the validation of its
    answer in a third: thread switches that each wait for the GIL behind the requests being
    answered — a sixth of a proposal's cost under load. An `async` route that takes a `Caller`
    makes one at most: `await caller.run(lambda actor: use_case(caller.database, actor=actor,
    …))` (none when the answer is kept: `kept.answer`), and FastAPI validates its answer on the
    event loop."""

    request: Request
    database: Database

    def actor(self) -> Actor:
        return signed_in(actor_of(self.request, self.database))

    async def run(self, use_case: Callable[[Actor], T]) -> T:
        return await kept.answer(self.request.method, self.database, lambda: use_case(self.actor()))


def presents_credentials(request: Request) -> bool:
    """A token or a signed-in session, valid or not: checked before a route's parameters, so
    that a stranger is refused as such, not told what is wrong with the body it sent."""
    return (
        bool(request.headers.get("authorization")) or request.session.get(SESSION_USER) is not None
    )


async def caller(request: Request) -> Caller:
    """Refuses a request that presents no credentials at all here, as `ActorDep` would, before
    FastAPI reports what is wrong with its body (a 401, not a 422 describing the schema)."""
    if not presents_credentials(request):
        raise NotAuthenticated(SIGN_IN)
    return Caller(request, request.app.state.database)  # (no sub-dependency for FastAPI to solve)


CallerDep = Annotated[Caller, Depends(caller)]
