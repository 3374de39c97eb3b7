"""Who is looking at a page, in the terms the page needs: name, delegation, groups, capacity.

Every page says who you are and for which delegation or group you act, and shows only the
controls your capacity allows (the services refuse the rest anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Request

from app.db.session import Database
from app.domain.roles import Actor, Role
from app.services import directory
from app.services.views import DelegationView, GroupView, NegotiationView
from app.web import kept
from app.web.deps import actor_of, optional_actor, presents_credentials

T = TypeVar("T")


class SignInRequired(Exception):
    """A page was asked for without a session: the browser goes to the sign-in page."""


@dataclass(frozen=True)
class Directory:
    """Delegations and groups by id, read once per process (reference data rarely changes)."""

    delegations: dict[int, DelegationView]
    groups: dict[int, GroupView]

    @classmethod
    def of(cls, app: FastAPI) -> Directory:
        cached: Directory | None = getattr(app.state, "page_directory", None)
        if cached is None:
            database: Database = app.state.database
            cached = cls(
                delegations={d.id: d for d in directory.list_delegations(database)},
                groups={g.id: g for g in directory.list_groups(database)},
            )
            app.state.page_directory = cached
        return cached


@dataclass(frozen=True)
class Speaker:
    """A capacity in which a delegate may propose: its own delegation or a group."""

    code: str  # "" for the own delegation, else the group code (the form's on_behalf_of)
    name: str


@dataclass(frozen=True)
class Viewer:
    actor: Actor
    delegation: DelegationView | None
    groups: tuple[GroupView, ...]
    cofacilitator: bool = False  # of the negotiation on this page
    directory: Directory | None = None  # the delegations, for forms that name one

    @property
    def name(self) -> str:
        return self.actor.display_name

    @property
    def role(self) -> str:
        return {
            Role.SECRETARIAT: "Secretariat",
            Role.COFACILITATOR: "Co-facilitator",
            Role.DELEGATE: "Delegate",
            Role.STAKEHOLDER: "Stakeholder",
            Role.OBSERVER: "Observer",
        }[self.actor.role]

    @property
    def capacity(self) -> str:
        """ "Delegate · EU · speaks for the European Union group" — who is acting, and for whom."""
        text = self.role
        if self.delegation is not None:
            text += f" · {self.delegation.short}"
        if self.groups:
            text += " · speaks for " + ", ".join(g.name for g in self.groups)
        return text

    @property
    def delegate(self) -> bool:
        return self.actor.role is Role.DELEGATE

    @property
    def speakers(self) -> tuple[Speaker, ...]:
        own = self.delegation.short if self.delegation else self.actor.display_name
        return (
            Speaker("", f"{own} (own delegation)"),
            *(Speaker(g.code, f"on behalf of {g.short}") for g in self.groups),
        )

    @property
    def delegations(self) -> list[DelegationView]:
        if self.directory is None:
            return []
        return sorted(self.directory.delegations.values(), key=lambda d: d.short)

    def holds(self, reservation: str | None) -> bool:
        """Does this viewer's delegation hold the reservation (named by its short name)?"""
        return (
            bool(reservation)
            and self.delegation is not None
            and (self.delegation.short == reservation)
        )

    def within(self, negotiation: NegotiationView) -> Viewer:
        """The same viewer on a page of `negotiation`: co-facilitator of it, or not."""
        cofac = (
            self.actor.role is Role.COFACILITATOR
            and self.delegation is not None
            and self.delegation.short in negotiation.cofacilitators
        )
        return Viewer(self.actor, self.delegation, self.groups, cofac, self.directory)


async def page_actor(
    request: Request, actor: Annotated[Actor | None, Depends(optional_actor)]
) -> Actor:
    if actor is None:
        raise SignInRequired
    return actor


def viewer_of(app: FastAPI, actor: Actor) -> Viewer:
    known = Directory.of(app)
    delegation = known.delegations.get(actor.delegation_id) if actor.delegation_id else None
    groups = tuple(known.groups[g] for g in sorted(actor.group_ids) if g in known.groups)
    return Viewer(actor, delegation, groups, directory=known)


async def page_viewer(request: Request, actor: Annotated[Actor, Depends(page_actor)]) -> Viewer:
    return viewer_of(request.app, actor)


ViewerDep = Annotated[Viewer, Depends(page_viewer)]


@dataclass(frozen=True, slots=True)
class Visit:
    """A page asked for, answered in one thread at most, who is asking included: the pages'
    `Caller` (app/web/deps.py). `ViewerDep` looks the viewer up in one thread hop and a `def`
    page renders in a second; an `async` page that takes a `Visit` makes one, or none when all
    it shows is kept (`kept.answer`): `await visit.run(lambda viewer: render(…))`."""

    request: Request
    database: Database

    def viewer(self) -> Viewer:
        actor = actor_of(self.request, self.database)
        if actor is None:
            raise SignInRequired
        return viewer_of(self.request.app, actor)

    async def run(self, page: Callable[[Viewer], T]) -> T:
        return await kept.answer(self.request.method, self.database, lambda: page(self.viewer()))


async def visit(request: Request) -> Visit:
    """Sends a request with no credentials at all to sign in here, as `ViewerDep` did, before
    FastAPI checks the page's parameters (the sign-in page, not "the form is not complete")."""
    if not presents_credentials(request):
        raise SignInRequired
    return Visit(request, request.app.state.database)


VisitDep = Annotated[Visit, Depends(visit)]
