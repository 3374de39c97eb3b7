"""Every change leaves a line in the event log, and the same line tells live pages to refresh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from app.db.models import Event
from app.domain.roles import Actor


def record(
    db: Session,
    *,
    kind: str,
    actor: Actor | None,
    subject: str,
    subject_id: int | None,
    negotiation_id: int | None = None,
    document_id: int | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    **data: Any,
) -> None:
    db.add(
        Event(
            kind=kind,
            actor_id=actor.user_id if actor else None,
            subject=subject,
            subject_id=subject_id,
            negotiation_id=negotiation_id,
            document_id=document_id,
            before_id=before_id,
            after_id=after_id,
            data=data,
        )
    )
    db.info.setdefault("changes", []).append(
        {
            "kind": kind,
            "subject": subject,
            "subject_id": subject_id,
            "negotiation_id": negotiation_id,
            "document_id": document_id,
            **{
                k: v
                for k, v in data.items()
                if k in ("provision_id", "amendment_id", "amendment_kind")
            },
        }
    )


#: How far back `stamp` counts events: a transaction that drew its event id and committed after
#: a later one (PostgreSQL's sequences do not wait for commits) still changes the stamp, unless
#: this many events were committed meanwhile.
STAMP_WINDOW = 1000


#: Read before almost every answer: a fixed text, so no statement is built (nor its cache key
#: computed) per request.
_STAMP = text(
    f"SELECT max(id), count(*) FROM {Event.__tablename__} "
    f"WHERE id > (SELECT max(id) FROM {Event.__tablename__}) - {STAMP_WINDOW}"
)

#: Kinds after which the order or the labels of the text may differ: pages re-render their
#: whole list, and kept answers about any of the document's paragraphs are stale.
STRUCTURAL_KINDS = frozenset(
    {
        "amendment.accepted",
        "amendment.bracketed",
        "provision.alternative",
        "provision.alternative_chosen",
        "revision.issued",
        "document.imported",
    }
)

#: Kinds that change who is signed in, and nothing any page shows.
ACCOUNT_KINDS = frozenset({"session.ended", "token.issued", "token.revoked", "user.created"})


def stamp(db: Session | Connection) -> tuple[int, int]:
    """Where the event log stands: a value that differs after any committed change.

    Every use case that changes something records an event in the same transaction, so an
    answer computed after reading stamp S is at least as fresh as S, and may be reused for as
    long as the stamp reads S (`app.web.kept.ViewCache`, `app.services.text.read_tree`).
    """
    row = db.execute(_STAMP).one()
    return (row[0] or 0, row[1])


def complete_up_to(db: Session | Connection, earlier: tuple[int, int]) -> bool:
    """Are the events up to the stamp `earlier` still exactly those it counted? False if one
    below it was committed late: what that one changed is not known."""
    newest, counted = earlier
    present = db.scalar(
        select(func.count()).where(Event.id > newest - STAMP_WINDOW, Event.id <= newest)
    )
    return present == counted


def only_since(db: Session, earlier: tuple[int, int], kinds: frozenset[str]) -> bool:
    """Has nothing but events of these `kinds` been committed since the stamp `earlier`?

    Lets an answer that those kinds cannot change outlive them (proposals and positions do not
    move a paragraph nor change its label). False as well if an event below `earlier` was
    committed late."""
    if not complete_up_to(db, earlier):
        return False
    since = db.scalars(select(Event.kind).where(Event.id > earlier[0]).distinct()).all()
    return all(kind in kinds for kind in since)


def since(db: Session | Connection, event_id: int) -> Sequence[Any]:
    """The events after `event_id`, in order: what they touched (`app.web.live`)."""
    return db.execute(
        select(Event.id, Event.kind, Event.document_id, Event.subject, Event.subject_id, Event.data)
        .where(Event.id > event_id)
        .order_by(Event.id)
    ).all()
