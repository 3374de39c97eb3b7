"""The demo negotiation: the seed's elements paper and a first reading, played through the real
use cases (so the demo exercises exactly what users do), loaded once.

The data lives in `app/demo/`: `elements-paper.md` (the text, in the import outline format) and
`first-reading.toml` (accounts, then proposals, decisions and a revision, in order).
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from sqlalchemy import select

from app.db.models import Negotiation, User
from app.db.session import Database
from app.domain.amendments import AmendmentKind, Decision
from app.domain.errors import Invalid
from app.domain.outline import parse_outline
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Actor, Role
from app.services import accounts, amendments, calendar, decisions, documents, revisions
from app.services.directory import load_reference_data

SEED_DATE = date(2016, 11, 23)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    delegation: str | None


@dataclass(frozen=True)
class DemoResult:
    created: bool
    title: str
    accounts: tuple[DemoAccount, ...]
    provisions: int = 0
    proposals: int = 0
    decisions: int = 0
    revisions: tuple[str, ...] = ()


def demo_data() -> dict[str, Any]:
    with resources.files("app.demo").joinpath("first-reading.toml").open("rb") as f:
        return tomllib.load(f)


def demo_text() -> str:
    return resources.files("app.demo").joinpath("elements-paper.md").read_text(encoding="utf-8")


def load_demo(database: Database) -> DemoResult:
    data = demo_data()
    meta = data["negotiation"]
    listed = tuple(
        DemoAccount(u["username"], u["password"], u["role"], u.get("delegation"))
        for u in data["user"]
    )
    load_reference_data(database)
    with database.read() as db:
        if db.scalar(select(Negotiation.id).where(Negotiation.symbol == meta["symbol"])):
            return DemoResult(created=False, title=meta["title"], accounts=listed)
    player = _Player(database, data)
    player.play()
    return DemoResult(
        created=True,
        title=meta["title"],
        accounts=listed,
        provisions=player.provisions,
        proposals=player.proposals,
        decisions=player.decisions,
        revisions=tuple(player.revision_names),
    )


class _Player:
    """Plays the first reading step by step, as the people in it would have done."""

    def __init__(self, database: Database, data: dict[str, Any]) -> None:
        self.database = database
        self.data = data
        self.refs: dict[str, int] = {}
        self.actors: dict[str, Actor] = {}
        self.proposals = self.decisions = self.provisions = 0
        self.revision_names: list[str] = []

    def play(self) -> None:
        meta = self.data["negotiation"]
        for user in self.data["user"]:
            self._account(user)
        secretariat = self._first(Role.SECRETARIAT)
        negotiation = documents.create_negotiation(
            self.database,
            actor=secretariat,
            symbol=meta["symbol"],
            title=meta["title"],
            cofacilitators=meta["cofacilitators"],
        )
        document = documents.import_outline(
            self.database,
            actor=secretariat,
            negotiation_id=negotiation.id,
            outline=parse_outline(demo_text()),
            revision_name="Elements paper",
            issued_on=SEED_DATE,
        )
        self.document_id = document.id
        self.provisions = len(document.provisions)
        self.revision_names.append("Elements paper")
        self.cofacilitator = self._first(Role.COFACILITATOR)
        for number, step in enumerate(self.data["step"], start=1):
            try:
                getattr(self, "_" + step["action"])(step)
            except Exception as exc:
                raise Invalid(f"Demo step {number} ({step}) failed: {exc}") from exc
        calendar.load_demo_calendar(
            self.database,
            actor=secretariat,
            negotiation_id=negotiation.id,
            document_id=self.document_id,
        )

    # -- steps --------------------------------------------------------------------------------

    def _propose(self, step: dict[str, Any]) -> None:
        actor = self._delegate(step["delegation"], step.get("on_behalf_of"))
        target = self._find(step["on"])
        kind = AmendmentKind(step.get("kind", "wording"))
        text: str | None = None
        after_id: int | None = None
        if kind is AmendmentKind.WORDING:
            text = target.text
            for old, new in step["replace"]:
                if text.count(old) != 1:
                    raise Invalid(f"{old!r} does not occur exactly once in {target.label}")
                text = text.replace(old, new)
        elif kind is AmendmentKind.INSERT_AFTER:
            text = step["text"]
        elif kind is AmendmentKind.MOVE:
            after_id = self._find(step["after"]).id
        view = amendments.propose(
            self.database,
            actor=actor,
            provision_id=target.id,
            kind=kind,
            text=text,
            after_id=after_id,
            on_behalf_of=step.get("on_behalf_of"),
            justification=step.get("justification"),
        )
        self.refs[step["ref"]] = view.id
        self.proposals += 0 if view.joined else 1
        for stance, codes in (
            ("support", step.get("supporters", [])),
            ("oppose", step.get("opponents", [])),
        ):
            for code in codes:
                amendments.take_position(
                    self.database, actor=self._delegate(code), amendment_id=view.id, stance=stance
                )

    def _decide(self, step: dict[str, Any]) -> None:
        decisions.decide(
            self.database,
            actor=self.cofacilitator,
            amendment_id=self.refs[step["ref"]],
            decision=Decision(step["decision"]),
            reason=step.get("reason"),
        )
        self.decisions += 1

    def _status(self, step: dict[str, Any]) -> None:
        decisions.set_status(
            self.database,
            actor=self.cofacilitator,
            provision_id=self._find(step["on"]).id,
            status=ProvisionStatus(step["status"]),
            reservation=step.get("reservation"),
        )

    def _cf_text(self, step: dict[str, Any]) -> None:
        decisions.cf_text(
            self.database,
            actor=self.cofacilitator,
            provision_id=self._find(step["on"]).id,
            text=step["text"],
            supersedes=[self.refs[r] for r in step.get("supersedes", [])],
        )
        self.decisions += 1

    def _revision(self, step: dict[str, Any]) -> None:
        revisions.issue_revision(
            self.database,
            actor=self.cofacilitator,
            document_id=self.document_id,
            name=step["name"],
            issued_on=date.fromisoformat(str(step["date"])),
            renumber_labels=step.get("renumber", True),
        )
        self.revision_names.append(step["name"])

    # -- helpers ------------------------------------------------------------------------------

    def _find(self, fragment: str) -> Any:
        text = documents.get_document(self.database, document_id=self.document_id)
        live = [p for p in text.provisions if not p.deleted]
        found = [p for p in live if p.text.startswith(fragment)] or [
            p for p in live if fragment in p.text
        ]
        if len(found) != 1:
            raise Invalid(f"{fragment!r} matches {len(found)} provisions")
        return found[0]

    def _account(self, user: dict[str, Any]) -> Actor:
        accounts.create_user(
            self.database,
            actor=None,
            username=user["username"],
            display_name=user["name"],
            role=Role(user["role"]),
            password=user["password"],
            delegation=user.get("delegation"),
            groups=user.get("groups", []),
        )
        actor = accounts.actor_for_username(self.database, username=user["username"])
        self.actors[user["username"]] = actor
        return actor

    def _first(self, role: Role) -> Actor:
        return next(a for a in self.actors.values() if a.role is role)

    def _delegate(self, code: str, group: str | None = None) -> Actor:
        """The demo account of that delegation, or a delegate created for it (no password)."""
        for actor in self.actors.values():
            same = actor.role is Role.DELEGATE and actor.delegation_code == code
            if same and (group is None or self._speaks(actor, group)):
                return actor
        username = f"delegate.{code.lower()}" + (f".{group.lower()}" if group else "")
        if username not in self.actors:
            with self.database.read() as db:
                exists = db.scalar(select(User.id).where(User.username == username))
            if exists:
                self.actors[username] = accounts.actor_for_username(
                    self.database, username=username
                )
            else:
                self._account(
                    {
                        "username": username,
                        "name": f"Delegate of {code}",
                        "role": "delegate",
                        "delegation": code,
                        "groups": [group] if group else [],
                        "password": secrets.token_urlsafe(24),
                    }
                )
        return self.actors[username]

    def _speaks(self, actor: Actor, group: str) -> bool:
        from app.services.text import find_group

        with self.database.read() as db:
            return actor.speaks_for_group(find_group(db, group).id)
