"""Request bodies of the JSON API. Responses are the services' own views."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.amendments import AmendmentKind, Decision
from app.domain.labels import ProvisionKind
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Role
from app.web.api.types import Id, Index, Version

MAX_TEXT = 20_000


def optional_text() -> Any:
    return Field(default=None, max_length=MAX_TEXT)


def required_text() -> Any:
    return Field(max_length=MAX_TEXT)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class NewToken(Body):
    name: str = Field(max_length=100)


class NewProposal(Body):
    provision_id: Id
    kind: AmendmentKind = AmendmentKind.WORDING
    text: str | None = optional_text()
    after_id: Id | None = Field(default=None, description="move: the provision to follow")
    new_kind: ProvisionKind | None = Field(default=None, description="insert_after: its kind")
    on_behalf_of: str | None = Field(default=None, description="a group code, e.g. G77")
    delegation: str | None = Field(default=None, description="defaults to your own delegation")
    justification: str | None = optional_text()
    expected_version: Version | None = Field(
        default=None, description="the provision version you wrote on; refused if it changed"
    )


class Redraft(Body):
    text: str = required_text()
    justification: str | None = optional_text()


class Stance(Body):
    stance: str | None = Field(description="'support', 'oppose' or null to take it back")


class DecisionBody(Body):
    decision: Decision
    expected_version: Version | None = None
    reason: str | None = optional_text()


class CfText(Body):
    text: str = required_text()
    expected_version: Version | None = None
    supersedes: list[Id] = Field(default_factory=list, max_length=1000)
    note: str | None = optional_text()


class ResolveBrackets(Body):
    group: Index
    choice: Index | None = Field(description="alternative to keep; null drops the passage")
    expected_version: Version | None = None


class StatusBody(Body):
    status: ProvisionStatus
    reservation: str | None = Field(default=None, description="delegation code")
    expected_version: Version | None = None


class VisibilityBody(Body):
    visibility: Literal["restricted", "public"]


class NewRevision(Body):
    name: str = Field(max_length=100)
    issued_on: date
    renumber: bool = True


class NewNegotiation(Body):
    symbol: str = Field(max_length=100)
    title: str = Field(max_length=500)
    cofacilitators: list[str] = Field(default_factory=list, max_length=10)


class ImportText(Body):
    text: str = Field(max_length=2_000_000)
    revision_name: str = "Zero draft"
    issued_on: date | None = None


class NewUser(Body):
    username: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    role: Role
    password: str = Field(max_length=1024)
    delegation: str | None = None
    groups: list[str] = Field(default_factory=list)
