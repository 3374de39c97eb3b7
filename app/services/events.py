"""Every change leaves a line in the event log, and the same line tells live pages to refresh.

The log is numbered in the order its lines were committed: a transaction writes its events last,
just before it commits, and on PostgreSQL one transaction at a time does so (a transaction-level
advisory lock, held from that insert to the commit). So whoever reads the newest id N has every
event up to N: the log's position is one number, and "what changed since N" one query. (Without
the lock two transactions could draw ids 7 and 8 and commit 8 first: a reader would take in 8,
and find 7 only later, below what it had already seen.) SQLite serialises its writers anyway.

On PostgreSQL the insert, the live notification (NOTIFY, sent if and only if the transaction
commits) and the COMMIT travel in one round trip, with the writes nothing waited for
(`write_at_commit`): the lock is held only while the server works through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ARRAY, Connection, Text, bindparam, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

from app.db import direct
from app.db.models import Event
from app.db.peek import LoopPeeks, Peek, SqliteLoopPeeks
from app.domain.roles import Actor
from app.timeutil import utcnow

#: Held by the transaction writing its events, until it commits (one key for the whole log).
_LOG_LOCK_KEY = 7243816590187001


#: What the live stream needs of an event's data, besides its columns (`app.web.live`).
_CHANGE_KEYS = ("provision_id", "amendment_id", "amendment_kind")


@dataclass(frozen=True, slots=True)
class _Recorded:
    row: dict[str, Any]
    change: dict[str, Any]  # what `Database.listeners` hear once it is committed
    savepoint: SessionTransaction | None  # a savepoint rolled back takes it along


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
    """Note a change of this transaction: written to the log as it commits (`_write_log`)."""
    row = {
        "at": utcnow(),
        "kind": kind,
        "actor_id": actor.user_id if actor else None,
        "subject": subject,
        "subject_id": subject_id,
        "negotiation_id": negotiation_id,
        "document_id": document_id,
        "before_id": before_id,
        "after_id": after_id,
        "data": data,
    }
    change = {
        "kind": kind,
        "subject": subject,
        "subject_id": subject_id,
        "negotiation_id": negotiation_id,
        "document_id": document_id,
        **{k: v for k, v in data.items() if k in _CHANGE_KEYS},
    }
    db.info.setdefault("log", []).append(_Recorded(row, change, db.get_nested_transaction()))


@dataclass(frozen=True, slots=True)
class _Deferred:
    statement: Executable
    params: dict[str, Any]
    savepoint: SessionTransaction | None


def write_at_commit(db: Session, statement: Executable, params: dict[str, Any]) -> None:
    """A write whose outcome the rest of the use case neither reads nor depends on: sent with
    the log's lines as the transaction commits (on PostgreSQL, in the commit's own round trip)
    instead of on its own. Nothing later in the same transaction sees it; a refusal (a
    constraint) fails the commit, and so the use case, all the same. An insert must be
    `inline()`: nothing may wait for its key."""
    db.info.setdefault("log", []).append(_Deferred(statement, params, db.get_nested_transaction()))


@event.listens_for(Session, "before_commit")
def _write_log(db: Session) -> None:
    if db.in_nested_transaction():  # a savepoint released: the log waits for the real commit
        return
    log: list[_Recorded | _Deferred] = db.info.pop("log", [])
    if not log:
        return
    db.flush()  # the transaction's own changes first: the lock is held only from here on
    writes = [w for w in log if isinstance(w, _Deferred)]
    recorded = [r for r in log if isinstance(r, _Recorded)]
    if db.get_bind().dialect.name == "postgresql":
        _write_and_commit(db, writes, _locked_rows(db, recorded))
    else:
        connection = db.connection()
        for write in writes:
            direct.execute(connection, write.statement, write.params)
        for line in recorded:
            direct.execute(connection, _INSERT, line.row)
    db.info.setdefault("changes", []).extend(r.change for r in recorded)


def _locked_rows(db: Session, recorded: list[_Recorded]) -> list[dict[str, Any]]:
    """The parameters of `_INSERT_LOCKED`: the lines, and with the first, the notifications
    (`Database.notices`; one NOTIFY per transaction is enough)."""
    changes = [r.change for r in recorded]
    notices = [n for notices_of in db.info.get("notices", ()) for n in notices_of(changes)]
    told = {"channels": [c for c, _ in notices], "payloads": [p for _, p in notices]}
    untold: dict[str, list[str]] = {"channels": [], "payloads": []}
    return [{**r.row, **(told if i == 0 else untold)} for i, r in enumerate(recorded)]


@event.listens_for(Session, "after_soft_rollback")
def _forget_log(db: Session, rolled_back: SessionTransaction) -> None:
    """What a rolled-back transaction (or savepoint) recorded never happened."""
    if not rolled_back.nested:
        db.info.pop("log", None)
        return
    db.info["log"] = [r for r in db.info.get("log", []) if not _inside(r.savepoint, rolled_back)]


def _inside(savepoint: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is rolled_back:
            return True
        savepoint = savepoint.parent
    return False


#: Read before almost every answer: a fixed text, so no statement is built (nor its cache key
#: computed) per request.
_STAMP = text(f"SELECT max(id) FROM {Event.__tablename__}")

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

#: Kinds that change one proposal (its words, proponents or positions) and its paragraph's
#: pending count, and nothing else: an answer about that paragraph is brought up to date by
#: reading that proposal again (`app.web.kept.ViewCache.get`'s `update`).
PROPOSAL_KINDS = frozenset(
    {
        "amendment.proposed",
        "amendment.joined",
        "amendment.revised",
        "amendment.withdrawn",
        "amendment.proponent_withdrew",
        "amendment.support",
        "amendment.oppose",
        "amendment.position_cleared",
    }
)

#: Kinds that change who is signed in, and nothing any page shows.
ACCOUNT_KINDS = frozenset({"session.ended", "token.issued", "token.revoked", "user.created"})

#: Kinds that leave a document's text, outline and process (rounds, silence) as they were: what
#: is kept of a document itself outlives them (most of a session's events are these).
AROUND_THE_TEXT = PROPOSAL_KINDS | {"input.submitted"} | ACCOUNT_KINDS


class Reading(Protocol):
    """The event log as the current request has read it already: the web layer reads it first
    thing (`app.web.kept`), and what the services keep of a document (its outline, its current
    round) or of the directory is checked against that read instead of asking again."""

    def stamp(self, db: Session) -> int | None:
        """The log's position read for this request on `db`'s database (None: not read yet,
        or this request committed since)."""

    def unchanged_since(self, db: Session, since: int, document_id: int | None) -> bool:
        """True if, as this request read the log, no event after `since` may have changed the
        document (anything but `AROUND_THE_TEXT`), or, for None, the directory."""


#: Set by the web layer for each request; None elsewhere (the command line, tests): the
#: services then ask the database.
reading: ContextVar[Reading | None] = ContextVar("rolltext_log_reading", default=None)


def stamp(db: Session | Connection | Peek) -> int:
    """Where the event log stands: the newest event's id.

    Every use case that changes something records an event in the same transaction, and the
    log is committed in the order of its ids, so an answer computed after reading stamp S shows
    every change up to S, and may be reused for as long as the events since S do not touch what
    it shows (`app.web.kept.ViewCache`, `app.services.text.read_tree`)."""
    return db.execute(_STAMP).scalar() or 0


def moved_since(db: Session, earlier: int, kinds: frozenset[str]) -> tuple[int, bool]:
    """Where the log stands now (`earlier` if it has not moved), and whether anything but events
    of these `kinds` was committed since `earlier`: one query.

    Lets an answer that those kinds cannot change outlive them (proposals and positions do not
    move a paragraph nor change its label)."""
    rows = db.execute(_KINDS_SINCE, {"earlier": earlier}).all()
    return max((newest for _, newest in rows), default=earlier), any(
        kind not in kinds for kind, _ in rows
    )


def since(db: Session | Connection | Peek, event_id: int) -> Sequence[Any]:
    """The events after `event_id`, in order, with the paragraph and the proposal each names
    (`app.web.kept`)."""
    return db.execute(_SINCE, {"earlier": event_id}).all()


async def stamp_on_the_loop(peeks: LoopPeeks | SqliteLoopPeeks) -> int:
    """`stamp`, read on the event loop (`app.web.kept`)."""
    return (await peeks.execute(_STAMP)).scalar() or 0


async def since_on_the_loop(peeks: LoopPeeks | SqliteLoopPeeks, event_id: int) -> Sequence[Any]:
    """`since`, read on the event loop (`app.web.kept`)."""
    return (await peeks.execute(_SINCE, {"earlier": event_id})).all()


# Built once: the statements run on almost every request (SQLAlchemy still finds their compiled
# form in its cache, but building them again costs more than PostgreSQL takes to answer).
_SINCE = (
    select(
        Event.id,
        Event.kind,
        Event.document_id,
        Event.subject,
        Event.subject_id,
        Event.data["provision_id"].as_integer().label("provision_id"),
        Event.data["amendment_id"].as_integer().label("amendment_id"),
    )
    .where(Event.id > bindparam("earlier"))
    .order_by(Event.id)
)
_KINDS_SINCE = (
    select(Event.kind, func.max(Event.id))
    .where(Event.id > bindparam("earlier"))
    .group_by(Event.kind)
)
_INSERT = insert(Event.__table__)


def _write_and_commit(db: Session, writes: list[_Deferred], rows: list[dict[str, Any]]) -> None:
    """On PostgreSQL, the deferred writes, the log's lines and the COMMIT go in one round trip
    (psycopg's pipeline): the log's lock is held only while the server works through them,
    never while this process waits for its turn to run Python again (under load, the GIL makes
    that milliseconds, in which every other writer would wait). The session's own commit then
    finds nothing to do."""
    connection = db.connection()
    dialect, driver = connection.dialect, connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, driver.pipeline():
            for write in writes:
                cursor.execute(*direct.sql_and_values(dialect, write.statement, write.params))
            for row in rows:
                cursor.execute(*direct.sql_and_values(dialect, _INSERT_LOCKED, row))
            driver.commit()
    except driver.Error as exc:  # as SQLAlchemy would have raised it
        raise DBAPIError.instance(
            None, None, exc, driver.Error, connection_invalidated=bool(driver.closed)
        ) from exc


def _insert_locked() -> Any:
    """The insert of the log's lines on PostgreSQL, in one statement that also takes the log's
    lock and NOTIFYs what the commit announces (`Database.notices`): the lock is taken before
    the ids are drawn (EXPLAIN VERBOSE shows nextval computed on the row that took it), and a
    notification goes out if and only if the transaction commits."""
    told = (
        func.unnest(
            bindparam("channels", type_=ARRAY(Text)), bindparam("payloads", type_=ARRAY(Text))
        )
        .table_valued("channel", "payload")
        .render_derived()
    )
    notices = select(func.count(func.pg_notify(told.c.channel, told.c.payload))).subquery()
    lock = select(func.pg_advisory_xact_lock(_LOG_LOCK_KEY).label("held")).select_from(notices)
    row = select(*(bindparam(name, type_=Event.__table__.c[name].type) for name in _ROW))
    return insert(Event.__table__).from_select(_ROW, row.select_from(lock.cte("log_lock")))


_ROW = tuple(c.name for c in Event.__table__.columns if c.name != "id")
_INSERT_LOCKED = _insert_locked()
