"""What services hand back: plain frozen values, detached from the database session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.domain.amendments import AmendmentKind, AmendmentState
from app.domain.diff import DiffOp
from app.domain.labels import ProvisionKind, Scheme
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Role


@dataclass(frozen=True, slots=True)
class DelegationView:
    id: int
    code: str
    name: str
    short: str
    kind: str


@dataclass(frozen=True, slots=True)
class GroupView:
    id: int
    code: str
    name: str
    short: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: Role
    delegation: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NegotiationView:
    id: int
    symbol: str
    title: str
    cofacilitators: tuple[str, ...]
    documents: tuple[DocumentSummary, ...]
    cofacilitator_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    id: int
    title: str
    subtitle: str | None
    scheme: Scheme
    provisions: int
    pending: int
    agreed: int
    latest_revision: str | None
    visibility: str = "restricted"


@dataclass(frozen=True, slots=True)
class ProvisionView:
    id: int
    document_id: int
    parent_id: int | None
    depth: int
    kind: ProvisionKind
    label: str
    text: str
    version: int
    version_id: int
    status: ProvisionStatus
    status_label: str
    reservation: str | None
    deleted: bool
    pending: int


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: int
    negotiation_id: int
    title: str
    subtitle: str | None
    scheme: Scheme
    provisions: tuple[ProvisionView, ...]


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    text: str
    cause: str
    note: str | None
    amendment_id: int | None
    author: str | None
    created_at: datetime
    attributions: tuple[tuple[int, int, str], ...]


@dataclass(frozen=True, slots=True)
class WordingView:
    seq: int
    base_version: int | None
    text: str | None
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AmendmentView:
    id: int
    reference: str
    document_id: int
    provision_id: int
    provision_label: str
    kind: AmendmentKind
    state: AmendmentState
    proponents: tuple[str, ...]
    proponent_codes: tuple[str, ...]
    supporters: tuple[str, ...]
    opponents: tuple[str, ...]
    justification: str | None
    base_version: int | None
    base_text: str | None
    proposed_text: str | None
    diff: tuple[DiffOp, ...]
    needs_redraft: bool
    redraft_reason: str | None
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    new_kind: ProvisionKind | None = None
    move_after_label: str | None = None
    wordings: tuple[WordingView, ...] = ()
    joined: bool = False

    @property
    def attribution(self) -> str:
        """As a compilation prints it: "EU; supported by Norway; opposed by Russian Federation"."""
        parts = [", ".join(self.proponents)]
        if self.supporters:
            parts.append("supported by " + ", ".join(self.supporters))
        if self.opponents:
            parts.append("opposed by " + ", ".join(self.opponents))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Collision:
    first: int
    second: int
    words: str


@dataclass(frozen=True, slots=True)
class ProvisionDetail:
    provision: ProvisionView
    versions: tuple[VersionView, ...]
    amendments: tuple[AmendmentView, ...]
    collisions: tuple[Collision, ...] = field(default=())
    #: The labels of the paragraph and its whole-paragraph alternatives ("OP6", "OP6 alt"),
    #: in reading order, when it has any.
    alternatives: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RevisionEntryView:
    provision_id: int
    parent_id: int | None
    depth: int
    kind: ProvisionKind
    label: str
    text: str
    version: int
    status: ProvisionStatus
    reservation: str | None


@dataclass(frozen=True, slots=True)
class RevisionView:
    id: int
    document_id: int
    seq: int
    name: str
    issued_on: date
    renumbered: bool
    label_map: dict[str, str]
    created_at: datetime
    entries: tuple[RevisionEntryView, ...] = ()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    name: str
    token: str
