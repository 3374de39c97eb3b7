"""The rules of the process: rounds of written proposals with deadlines, and silence procedure.

Deadlines are applied the same way to every delegation: after a round's deadline a proposal is
refused with a message naming the deadline, unless the co-facilitators reopen the round or grant
that delegation a late submission. A text under silence is agreed at the deadline unless a
delegation breaks silence; the outcome is settled exactly once, whichever process gets there
first, including a server that was down at the deadline and starts later.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app import timeutil
from app.db.models import (
    Delegation,
    LateSubmission,
    Provision,
    Revision,
    Round,
    Silence,
    SilenceBreak,
)
from app.db.session import Database, shows_only_committed
from app.domain.clean_text import clean_optional_text, clean_text
from app.domain.deadlines import NEW_YORK, Window, describe, local_deadline, zone
from app.domain.errors import Invalid, NotFound
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Actor, Role
from app.services import events
from app.services.permissions import Action, require, require_cofacilitator_of
from app.services.revisions import find_revision
from app.services.text import cofacilitator_ids, find_delegation, get_document, read_tree

MAX_STATEMENT = 20_000
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class RoundView:
    id: int
    document_id: int
    name: str
    deadline: datetime
    timezone: str
    deadline_text: str
    open: bool


@dataclass(frozen=True, slots=True)
class SilenceBreakView:
    delegation: str
    statement: str
    provisions: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class SilenceView:
    id: int
    document_id: int
    revision: str
    deadline: datetime
    timezone: str
    deadline_text: str
    outcome: str | None
    settled_at: datetime | None
    breaks: tuple[SilenceBreakView, ...]


# -- rounds -----------------------------------------------------------------------------------


def open_round(
    database: Database,
    *,
    actor: Actor,
    document_id: int,
    name: str,
    deadline: datetime,
    timezone: str = NEW_YORK,
) -> RoundView:
    """Ask for written proposals by a deadline (a local date and time in `timezone`)."""
    name = clean_text(name, what="The round's name", max_length=MAX_NAME)
    if not name:
        raise Invalid("Name the round, e.g. 'written proposals on Rev.1'.")
    zone(timezone)
    instant = local_deadline(deadline, timezone)
    if instant <= timeutil.utcnow():
        raise Invalid(f"The deadline {describe(instant, timezone)} is already past.")
    with database.write() as db:
        document = get_document(db, document_id)
        require_cofacilitator_of(
            actor, cofacilitator_ids(db, document.negotiation_id), Action.SET_STATUS
        )
        row = Round(
            document_id=document_id,
            name=name,
            deadline=instant,
            timezone=timezone,
            opened_by_id=actor.user_id,
        )
        db.add(row)
        db.flush()
        events.record(
            db,
            kind="round.opened",
            actor=actor,
            subject="round",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=document_id,
            deadline=instant.isoformat(),
            timezone=timezone,
        )
        return _round_view(row)


def move_deadline(
    database: Database,
    *,
    actor: Actor,
    round_id: int,
    deadline: datetime,
    timezone: str | None = None,
) -> RoundView:
    """Extend a round, or reopen one whose deadline has passed."""
    with database.write() as db:
        row = db.get(Round, round_id)
        if row is None:
            raise NotFound(f"There is no round {round_id}.")
        document = get_document(db, row.document_id)
        require_cofacilitator_of(
            actor, cofacilitator_ids(db, document.negotiation_id), Action.SET_STATUS
        )
        tz = timezone or row.timezone
        instant = local_deadline(deadline, tz)
        if instant <= timeutil.utcnow():
            raise Invalid(f"The new deadline {describe(instant, tz)} is already past.")
        before = row.deadline
        row.deadline, row.timezone = instant, tz
        events.record(
            db,
            kind="round.deadline_moved",
            actor=actor,
            subject="round",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=row.document_id,
            before=before.isoformat(),
            after=instant.isoformat(),
        )
        return _round_view(row)


def grant_late_submission(
    database: Database,
    *,
    actor: Actor,
    round_id: int,
    delegation: str,
    until: datetime,
    reason: str | None = None,
) -> None:
    """One delegation may still submit after the deadline (recorded, visible in the log)."""
    with database.write() as db:
        row = db.get(Round, round_id)
        if row is None:
            raise NotFound(f"There is no round {round_id}.")
        document = get_document(db, row.document_id)
        require_cofacilitator_of(
            actor, cofacilitator_ids(db, document.negotiation_id), Action.SET_STATUS
        )
        instant = local_deadline(until, row.timezone, what="The end of the late submission")
        if instant <= timeutil.utcnow():
            raise Invalid(
                f"A late submission until {describe(instant, row.timezone)} would already be "
                "over: choose a date and time still to come."
            )
        grant = LateSubmission(
            round_id=row.id,
            delegation_id=find_delegation(db, delegation).id,
            until=instant,
            reason=clean_optional_text(
                reason, what="The reason", multiline=True, max_length=MAX_STATEMENT
            ),
            granted_by_id=actor.user_id,
        )
        db.add(grant)
        db.flush()
        events.record(
            db,
            kind="round.late_submission",
            actor=actor,
            subject="round",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=row.document_id,
            delegation=delegation,
            until=instant.isoformat(),
        )


def list_rounds(database: Database, *, document_id: int) -> list[RoundView]:
    with database.read() as db:
        rows = db.scalars(
            select(Round).where(Round.document_id == document_id).order_by(Round.id)
        ).all()
        return [_round_view(r) for r in rows]


_CURRENT_ROUND = (  # built once: read by every proposal
    select(Round)
    .where(Round.document_id == bindparam("document"))
    .order_by(Round.id.desc())
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class _Current:
    id: int
    name: str
    deadline: datetime
    timezone: str


#: Each document's current round (None: no round opened) and the log's position it was read
#: at, per database: every proposal checks it, and it changes only with an event about the
#: document (a round opened, a deadline moved, a late submission granted).
_current_rounds: weakref.WeakKeyDictionary[Any, dict[int, tuple[int, _Current | None]]] = (
    weakref.WeakKeyDictionary()
)


def _current_round(db: Session, document_id: int) -> _Current | None:
    read = events.reading.get()
    kept = _current_rounds.get(db.get_bind().pool, {}).get(document_id)
    if kept is not None and read is not None and read.unchanged_since(db, kept[0], document_id):
        return kept[1]
    stamp = read.stamp(db) if read is not None else None
    row = db.scalar(_CURRENT_ROUND, {"document": document_id})
    current = None if row is None else _Current(row.id, row.name, row.deadline, row.timezone)
    if stamp is not None and shows_only_committed(db):
        _current_rounds.setdefault(db.get_bind().pool, {})[document_id] = (stamp, current)
    return current


def check_proposals_open(db: Session, *, document_id: int, delegation_id: int) -> None:
    """Refuse a proposal after the current round's deadline, unless a late submission is granted."""
    current = _current_round(db, document_id)
    if current is None:
        return
    late = db.scalar(
        select(LateSubmission.until)
        .where(LateSubmission.round_id == current.id, LateSubmission.delegation_id == delegation_id)
        .order_by(LateSubmission.until.desc())
        .limit(1)
    )
    Window(current.name, current.deadline, current.timezone).check(
        timeutil.utcnow(), late_until=late
    )


def _round_view(row: Round) -> RoundView:
    return RoundView(
        id=row.id,
        document_id=row.document_id,
        name=row.name,
        deadline=row.deadline,
        timezone=row.timezone,
        deadline_text=describe(row.deadline, row.timezone),
        open=timeutil.utcnow() <= row.deadline,
    )


# -- silence procedure ------------------------------------------------------------------------


def place_under_silence(
    database: Database,
    *,
    actor: Actor,
    document_id: int,
    revision: str,
    deadline: datetime,
    timezone: str = NEW_YORK,
) -> SilenceView:
    zone(timezone)
    instant = local_deadline(deadline, timezone)
    if instant <= timeutil.utcnow():
        raise Invalid(f"The deadline {describe(instant, timezone)} is already past.")
    with database.write() as db:
        document = get_document(db, document_id)
        require_cofacilitator_of(
            actor, cofacilitator_ids(db, document.negotiation_id), Action.ISSUE_REVISION
        )
        found = find_revision(db, document_id, revision)
        running = db.scalar(
            select(Silence.id).where(
                Silence.document_id == document_id, Silence.settled_at.is_(None)
            )
        )
        if running:
            raise Invalid("This document is already under silence procedure.")
        row = Silence(
            document_id=document_id,
            revision_id=found.id,
            deadline=instant,
            timezone=timezone,
            placed_by_id=actor.user_id,
        )
        db.add(row)
        db.flush()
        events.record(
            db,
            kind="silence.placed",
            actor=actor,
            subject="silence",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=document_id,
            revision=found.name,
            deadline=instant.isoformat(),
        )
        return _silence_view(db, row)


def break_silence(
    database: Database,
    *,
    actor: Actor,
    silence_id: int,
    statement: str,
    provisions: list[str] | None = None,
) -> SilenceView:
    """A delegation objects: its letter is recorded and shown to everyone at once."""
    require(actor, Action.PROPOSE)
    statement = clean_text(
        statement or "", what="The statement", multiline=True, max_length=MAX_STATEMENT
    )
    if not statement:
        raise Invalid("Breaking silence needs a statement of the objection.")
    with database.write() as db:
        row = db.get(Silence, silence_id)
        if row is None:
            raise NotFound(f"There is no silence procedure {silence_id}.")
        if row.settled_at is not None or timeutil.utcnow() > row.deadline:
            raise Invalid(
                f"The silence procedure ended on {describe(row.deadline, row.timezone)}; "
                "it can no longer be broken."
            )
        document = get_document(db, row.document_id)
        labels = sorted(set(read_tree(db, row.document_id).labels.values()) - {""})
        unknown = [p for p in provisions or [] if p not in labels]
        if unknown:
            raise Invalid(f"There is no provision {', '.join(unknown)} in this text.")
        assert actor.delegation_id is not None and actor.role is Role.DELEGATE
        db.add(
            SilenceBreak(
                silence_id=row.id,
                delegation_id=actor.delegation_id,
                user_id=actor.user_id,
                statement=statement,
                provisions=list(provisions or []),
            )
        )
        db.flush()
        events.record(
            db,
            kind="silence.broken",
            actor=actor,
            subject="silence",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=row.document_id,
            delegation=actor.delegation_code,
            provisions=list(provisions or []),
        )
        return _silence_view(db, row)


def settle_due(database: Database) -> list[int]:
    """Settle every silence whose deadline has passed; each exactly once, whoever runs this."""
    now = timeutil.utcnow()
    with database.read() as db:
        due = db.scalars(
            select(Silence.id).where(Silence.settled_at.is_(None), Silence.deadline <= now)
        ).all()
    settled = []
    for silence_id in due:
        with database.write() as db:
            claimed = db.execute(
                update(Silence)
                .where(Silence.id == silence_id, Silence.settled_at.is_(None))
                .values(settled_at=now)
            ).rowcount
            if claimed != 1:
                continue  # another process settled it first
            row = db.get(Silence, silence_id)
            assert row is not None
            db.refresh(row)
            broken = db.scalar(
                select(SilenceBreak.id).where(SilenceBreak.silence_id == row.id).limit(1)
            )
            row.outcome = "broken" if broken else "held"
            document = get_document(db, row.document_id)
            if not broken:
                for provision in db.scalars(
                    select(Provision).where(
                        Provision.document_id == row.document_id,
                        Provision.removed_in_revision_id.is_(None),
                        Provision.deleted.is_(False),
                    )
                ):
                    provision.status = ProvisionStatus.AGREED
                    provision.reservation_delegation_id = None
            events.record(
                db,
                kind="silence.held" if row.outcome == "held" else "silence.ended_broken",
                actor=None,
                subject="silence",
                subject_id=row.id,
                negotiation_id=document.negotiation_id,
                document_id=row.document_id,
            )
            settled.append(row.id)
    return settled


def list_silences(database: Database, *, document_id: int) -> list[SilenceView]:
    with database.read() as db:
        rows = db.scalars(
            select(Silence).where(Silence.document_id == document_id).order_by(Silence.id)
        ).all()
        return [_silence_view(db, r) for r in rows]


def _silence_view(db: Session, row: Silence) -> SilenceView:
    revision = db.get(Revision, row.revision_id)
    assert revision is not None
    breaks = db.execute(
        select(SilenceBreak, Delegation.short)
        .join(Delegation, SilenceBreak.delegation_id == Delegation.id)
        .where(SilenceBreak.silence_id == row.id)
        .order_by(SilenceBreak.id)
    ).all()
    return SilenceView(
        id=row.id,
        document_id=row.document_id,
        revision=revision.name,
        deadline=row.deadline,
        timezone=row.timezone,
        deadline_text=describe(row.deadline, row.timezone),
        outcome=row.outcome,
        settled_at=row.settled_at,
        breaks=tuple(
            SilenceBreakView(
                delegation=short, statement=b.statement, provisions=tuple(b.provisions), at=b.at
            )
            for b, short in breaks
        ),
    )
