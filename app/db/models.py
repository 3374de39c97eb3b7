"""The tables. History tables (versions, wordings, positions, revisions, events) are append-only:
rows are added, never rewritten, so any past state can be rebuilt."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import StrEnumType, UTCDateTime
from app.domain.amendments import AmendmentKind, AmendmentState
from app.domain.calendar import MeetingKind
from app.domain.clean_text import check_text
from app.domain.labels import LabelKey, ProvisionKind, Scheme
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Role
from app.timeutil import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class Delegation(Base):
    """A Member State, an observer State, or an observer organisation such as the EU."""

    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    un_member_since: Mapped[int | None]


class Group(Base):
    """A negotiating group (G77 and China, African Group, EU…) that speaks for its members."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short: Mapped[str] = mapped_column(String(100))
    members: Mapped[list[Delegation]] = relationship(secondary="group_members", lazy="raise")


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"), primary_key=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The last event this user has seen: notifications are what came after it.
    seen_event_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    delegation: Mapped[Delegation | None] = relationship(lazy="joined")


class GroupAuthorisation(Base):
    """A delegate authorised to speak on behalf of a group (e.g. the G77 chair's delegate)."""

    __tablename__ = "group_authorisations"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(Base):
    """A signed-in browser session. The signed cookie carries a random key; only its SHA-256 is
    kept here. Signing out ends the row, so a copy of the cookie is worth nothing afterwards (a
    signature alone cannot be withdrawn); a row also ends 14 days after sign-in, with the cookie.
    """

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """A failed sign-in, kept for the throttle: too many for a username or an address within
    15 minutes refuse further attempts for a while (services/accounts.py). In the database, so
    every worker sees the same count; a successful sign-in deletes its username's rows."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Negotiation(Base):
    __tablename__ = "negotiations"
    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CoFacilitator(Base):
    """The delegations whose representatives co-facilitate a negotiation."""

    __tablename__ = "cofacilitators"
    negotiation_id: Mapped[int] = mapped_column(ForeignKey("negotiations.id"), primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"), primary_key=True)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    negotiation_id: Mapped[int] = mapped_column(ForeignKey("negotiations.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    subtitle: Mapped[str | None] = mapped_column(String(500))
    scheme: Mapped[Scheme] = mapped_column(StrEnumType(Scheme))
    #: "restricted": delegations only; "public": stakeholders and observers may read it too.
    visibility: Mapped[str] = mapped_column(
        String(16), default="restricted", server_default="restricted"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Provision(Base):
    """A paragraph, heading or list item with a stable id. Its words live in ProvisionVersion.

    Position, status and the stored label change (each change is in the event log and frozen in
    every revision); `lock` is the optimistic-locking counter that makes concurrent decisions on
    the same provision conflict instead of overwriting each other.
    """

    __tablename__ = "provisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("provisions.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ProvisionKind] = mapped_column(StrEnumType(ProvisionKind))
    label_number: Mapped[int | None]
    label_insert: Mapped[int] = mapped_column(Integer, default=0)
    label_alt: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ProvisionStatus] = mapped_column(
        StrEnumType(ProvisionStatus), default=ProvisionStatus.NOT_DISCUSSED
    )
    reservation_delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A deleted provision leaves the text at the next revision; it stays in the history.
    removed_in_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", use_alter=True)
    )
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("provision_versions.id", use_alter=True)
    )
    lock: Mapped[int] = mapped_column(Integer, default=1)

    current_version: Mapped[ProvisionVersion | None] = relationship(
        foreign_keys=[current_version_id], lazy="raise", post_update=True
    )

    __mapper_args__: ClassVar = {"version_id_col": lock}

    @property
    def label_key(self) -> LabelKey | None:
        if self.label_number is None:
            return None
        return LabelKey(self.label_number, self.label_insert, self.label_alt)


class ProvisionVersion(Base):
    """An immutable wording of a provision, numbered, with what produced it."""

    __tablename__ = "provision_versions"
    __table_args__ = (UniqueConstraint("provision_id", "number", name="uq_provision_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provision_id: Mapped[int] = mapped_column(ForeignKey("provisions.id"), index=True)
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(32))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id", use_alter=True))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    #: Bracket groups this version introduced and who proposed them: [[start, end, "EU"], …]
    attributions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Amendment(Base):
    """A delegation's proposal. Its wordings (first, revised, rebased) are in AmendmentWording."""

    __tablename__ = "amendments"
    __table_args__ = (Index("ix_amendments_provision_state", "provision_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    #: The target; for "new provision after X", X.
    provision_id: Mapped[int] = mapped_column(ForeignKey("provisions.id"))
    kind: Mapped[AmendmentKind] = mapped_column(StrEnumType(AmendmentKind))
    state: Mapped[AmendmentState] = mapped_column(
        StrEnumType(AmendmentState), default=AmendmentState.PENDING
    )
    #: For a move: the provision it should follow (None = to the top of its parent).
    move_after_id: Mapped[int | None] = mapped_column(ForeignKey("provisions.id"))
    #: For a new provision: its kind.
    new_kind: Mapped[ProvisionKind | None] = mapped_column(StrEnumType(ProvisionKind))
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    justification: Mapped[str | None] = mapped_column(Text)
    current_wording_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendment_wordings.id", use_alter=True)
    )
    needs_redraft: Mapped[bool] = mapped_column(Boolean, default=False)
    redraft_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    #: The provision version the decision produced (accept / bracket / compromise).
    result_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("provision_versions.id", use_alter=True)
    )
    lock: Mapped[int] = mapped_column(Integer, default=1)

    wording: Mapped[AmendmentWording | None] = relationship(
        foreign_keys=[current_wording_id], lazy="raise", post_update=True
    )

    __mapper_args__: ClassVar = {"version_id_col": lock}

    @property
    def reference(self) -> str:
        return f"A-{self.id}"


class AmendmentWording(Base):
    """One wording of a proposal against one provision version: the revision chain."""

    __tablename__ = "amendment_wordings"
    __table_args__ = (
        UniqueConstraint("amendment_id", "seq", name="uq_amendment_wording"),
        # A proposal looks for the same wording already pending on its paragraph: by its text,
        # not by comparing it with each of the paragraph's pending proposals (hundreds at 10x).
        # Hash on PostgreSQL: a B-tree entry cannot hold a long paragraph.
        Index("ix_amendment_wordings_text", "text", postgresql_using="hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    seq: Mapped[int]
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("provision_versions.id"))
    text: Mapped[str | None] = mapped_column(Text)
    #: The word diff base → text as [[op, text], …] (op is "=", "-" or "+").
    diff: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Proponent(Base):
    """A delegation (or group) that made a proposal; the same wording twice adds a co-proponent."""

    __tablename__ = "proponents"
    __table_args__ = (
        UniqueConstraint("amendment_id", "delegation_id", "group_id", name="uq_proponent"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A co-proponent that withdraws leaves the proposal to the others.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Position(Base):
    """A delegation's support for, or opposition to, a proposal (its latest word counts)."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("amendment_id", "delegation_id", name="uq_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"))
    stance: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Revision(Base):
    """A named, frozen snapshot of the whole document: zero draft, Rev.1, Rev.2…"""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_revision_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    seq: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    renumbered: Mapped[bool] = mapped_column(Boolean)
    #: old label → new label ("" when the provision left the text).
    label_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RevisionEntry(Base):
    """One provision as it stood in a revision: which version, where, under which label."""

    __tablename__ = "revision_entries"
    __table_args__ = (UniqueConstraint("revision_id", "ordinal", name="uq_revision_entry"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    ordinal: Mapped[int]
    provision_id: Mapped[int] = mapped_column(ForeignKey("provisions.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("provision_versions.id"))
    parent_provision_id: Mapped[int | None] = mapped_column(ForeignKey("provisions.id"))
    depth: Mapped[int]
    kind: Mapped[ProvisionKind] = mapped_column(StrEnumType(ProvisionKind))
    label: Mapped[str] = mapped_column(String(64))
    status: Mapped[ProvisionStatus] = mapped_column(StrEnumType(ProvisionStatus))
    reservation: Mapped[str | None] = mapped_column(String(100))


class Event(Base):
    """The append-only log of every change: who, what, when, and the rows before and after."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    negotiation_id: Mapped[int | None] = mapped_column(ForeignKey("negotiations.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    before_id: Mapped[int | None]
    after_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Round(Base):
    """A round of written proposals on a document, open until a deadline (New York time unless
    the co-facilitators say otherwise). Extending or reopening it moves the deadline; every
    move is in the event log."""

    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LateSubmission(Base):
    """The co-facilitators let one delegation submit after the deadline, until `until`."""

    __tablename__ = "late_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Silence(Base):
    """A text under silence procedure: agreed at the deadline unless a delegation breaks it.

    `settled_at` is set exactly once, by whichever process settles it first (a conditional
    UPDATE), so several workers — or a server that was down at the deadline — settle it once.
    """

    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SilenceBreak(Base):
    """A delegation's letter breaking silence: recorded, visible to all."""

    __tablename__ = "silence_breaks"
    id: Mapped[int] = mapped_column(primary_key=True)
    silence_id: Mapped[int] = mapped_column(ForeignKey("silences.id"), index=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    statement: Mapped[str] = mapped_column(Text)
    provisions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StakeholderInput(Base):
    """A written input from civil society, the private sector, diaspora or migrant organisations.

    Shown apart from States' proposals; it becomes an amendment only if a delegation adopts it
    as its own (`adopted_by_id` then points to that amendment).
    """

    __tablename__ = "stakeholder_inputs"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    provision_id: Mapped[int | None] = mapped_column(ForeignKey("provisions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id"))


class Meeting(Base):
    """A meeting or related event in a negotiation's calendar: the co-facilitators' own
    consultations and visits, and the meetings of related processes the Secretariat maps.

    The date is kept as written (`date_text`) and as EDTF (`edtf`), which keeps its
    uncertainty ("2016-12", "2017-35", "[..2019]", "XXXX"); `earliest`/`latest` are derived
    from the EDTF only to sort and filter, and are None where the date has no bound.
    """

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    negotiation_id: Mapped[int] = mapped_column(ForeignKey("negotiations.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(StrEnumType(MeetingKind))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    date_text: Mapped[str] = mapped_column(String(200))
    edtf: Mapped[str] = mapped_column(String(100))
    earliest: Mapped[date | None] = mapped_column(Date)
    latest: Mapped[date | None] = mapped_column(Date)
    #: Local times ("15:00") in `timezone`, when the day is exact and the hours are known.
    start_time: Mapped[str | None] = mapped_column(String(5))
    end_time: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    location_tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    focal_points: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: A regional consultative process (the mapping marks them with "*").
    regional: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeetingLink(Base):
    """What a meeting concerns: the revision discussed there (or issued after it), or the
    round of written proposals whose deadline it prepares."""

    __tablename__ = "meeting_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    #: "basis" (the text discussed), "outcome" (the revision that followed), "deadline".
    role: Mapped[str] = mapped_column(String(16))
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))


# -- every text column refuses what is not text ---------------------------------------------


def _refuses_what_is_not_text(column: str) -> Any:
    """A "set" listener: the services clean what people type (`clean_text`, which names the
    field as the person knows it); this is the net under them, so that no use case can store
    a control character or a lone surrogate — PostgreSQL would answer a NUL with a server
    error, and Word and XML exports cannot hold them."""
    what = "The " + column.replace("_", " ")

    def check(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
        if isinstance(value, str):
            check_text(value, what=what)
        return value

    return check


for _mapper in Base.registry.mappers:
    for _attribute in _mapper.column_attrs:
        if isinstance(_attribute.columns[0].type, String):  # Text is a String too
            event.listen(
                getattr(_mapper.class_, _attribute.key),
                "set",
                _refuses_what_is_not_text(_attribute.key),
                retval=True,
            )
