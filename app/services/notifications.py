"""What changed since a user's last visit: their proposals decided, deadlines near, silence broken.

A user's `seen_event_id` marks the last event they have seen; notifications are the events after
it that concern them, plus the deadlines of open rounds falling within the next two days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app import timeutil
from app.db.models import Amendment, Delegation, Document, Event, Proponent, Round, User
from app.db.session import Database
from app.domain.deadlines import describe
from app.domain.roles import Actor
from app.services.permissions import can_read
from app.services.text import read_tree

SOON = timedelta(hours=48)
_DECIDED = {
    "amendment.accepted": "accepted",
    "amendment.bracketed": "bracketed",
    "amendment.rejected": "rejected",
}
_PROCESS = {
    "silence.placed": "The text is under silence procedure until {deadline}.",
    "silence.broken": "{delegation} broke silence.",
    "silence.held": "Silence held: the text is adopted.",
    "silence.ended_broken": "Silence was broken: the text stays open.",
    "revision.issued": "{name} was issued.",
    "round.opened": "Written proposals are open until {deadline}.",
    "round.deadline_moved": "The deadline for written proposals moved to {deadline}.",
}


@dataclass(frozen=True, slots=True)
class Notice:
    at: datetime
    kind: str
    text: str
    document_id: int | None
    provision_id: int | None = None


@dataclass(frozen=True, slots=True)
class Notifications:
    unseen: int
    notices: tuple[Notice, ...]


def notifications(database: Database, *, actor: Actor, limit: int = 50) -> Notifications:
    with database.read() as db:
        user = db.get(User, actor.user_id)
        assert user is not None
        mine = (
            set(
                db.scalars(
                    select(Proponent.amendment_id).where(
                        Proponent.delegation_id == actor.delegation_id
                    )
                )
            )
            if actor.delegation_id
            else set()
        )
        readable = {d.id for d in db.scalars(select(Document)) if can_read(actor, d.visibility)}
        rows = db.scalars(
            select(Event).where(Event.id > user.seen_event_id).order_by(Event.id.desc()).limit(2000)
        ).all()
        labels: dict[int, dict[int, str]] = {}
        notices: list[Notice] = []
        for event in rows:
            if event.document_id not in readable:
                continue
            notice = _notice(db, event, mine, labels)
            if notice is not None:
                notices.append(notice)
        now = timeutil.utcnow()
        for rnd in db.scalars(
            select(Round).where(Round.deadline > now, Round.deadline <= now + SOON)
        ):
            if rnd.document_id in readable:
                notices.append(
                    Notice(
                        at=now,
                        kind="deadline.soon",
                        document_id=rnd.document_id,
                        text=f"Deadline for {rnd.name}: {describe(rnd.deadline, rnd.timezone)}.",
                    )
                )
        notices.sort(key=lambda n: n.at, reverse=True)
        return Notifications(unseen=len(notices), notices=tuple(notices[:limit]))


def mark_seen(database: Database, *, actor: Actor) -> None:
    with database.write() as db:
        user = db.get(User, actor.user_id)
        assert user is not None
        user.seen_event_id = db.scalar(select(func.max(Event.id))) or 0


def _notice(db, event: Event, mine: set[int], labels: dict[int, dict[int, str]]) -> Notice | None:  # type: ignore[no-untyped-def]
    data = event.data or {}
    if event.kind in _DECIDED and event.subject_id in mine:
        amendment = db.get(Amendment, event.subject_id)
        label = _label(db, labels, event.document_id, amendment.provision_id if amendment else None)
        reason = f" ({data['reason']})" if data.get("reason") else ""
        return Notice(
            at=event.at,
            kind=event.kind,
            document_id=event.document_id,
            provision_id=data.get("provision_id"),
            text=f"Your proposal A-{event.subject_id}{' on ' + label if label else ''} was "
            f"{_DECIDED[event.kind]}{reason}.",
        )
    template = _PROCESS.get(event.kind)
    if template is None:
        return None
    deadline = data.get("deadline") or data.get("after")
    delegation = data.get("delegation")
    if delegation:
        found = db.scalar(select(Delegation.short).where(Delegation.code == delegation))
        delegation = found or delegation
    return Notice(
        at=event.at,
        kind=event.kind,
        document_id=event.document_id,
        text=template.format(
            deadline=describe(datetime.fromisoformat(deadline)) if deadline else "",
            delegation=delegation or "A delegation",
            name=data.get("name", "A revision"),
        ),
    )


def _label(
    db, cache: dict[int, dict[int, str]], document_id: int | None, provision_id: int | None
) -> str:  # type: ignore[no-untyped-def]
    if document_id is None or provision_id is None:
        return ""
    if document_id not in cache:
        cache[document_id] = read_tree(db, document_id).labels
    return cache[document_id].get(provision_id, "")
