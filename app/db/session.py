"""Engines and units of work: each use case runs in exactly one transaction.

`Database.write()` is the unit of work of a use case that changes something: it commits when the
block ends, rolls everything back on any error, and turns a lost race (someone changed the same
provision first) into a `Conflict` the user can read. On SQLite a write transaction starts with
BEGIN IMMEDIATE, so concurrent writers queue instead of failing on a stale snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from app.db.peek import LoopPeeks, Peek, PeekConnections, SqliteLoopPeeks
from app.domain.errors import Conflict

Listener = Callable[[list[dict[str, Any]]], None]
T = TypeVar("T")

CONFLICT_MESSAGE = (
    "Someone else changed this at the same moment; nothing of yours was saved. "
    "Reload to see the current state and try again."
)


class WouldWait(Exception):
    """The database was asked for on the event loop (`Database.on_the_loop`): the work must
    be done again in a thread."""


_on_the_loop: ContextVar[bool] = ContextVar("rolltext_on_the_loop", default=False)


def refuse_on_the_loop() -> None:
    """Raises `WouldWait` where waiting is not allowed: a read or write of the database, or an
    answer another thread is computing."""
    if _on_the_loop.get():
        raise WouldWait


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _prepare_sqlite(engine)
        return engine
    # Every connection the pool opens is kept: with SQLAlchemy's default (5 kept, 10 more
    # closed as soon as they are given back) a worker with six requests in flight opened and
    # closed a connection per request, each a new PostgreSQL process that prepares and plans
    # its statements afresh (seen under load: a third of the backends lived about a second).
    kwargs = {"pool_size": POOL_SIZE, "max_overflow": 0, **kwargs}
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)  # ours, instead of SQLAlchemy's pool_pre_ping
    return engine


#: A pooled connection given back less than this long ago is handed out again without a ping.
PING_AFTER_IDLE = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection that sat in the pool before handing it out (the server may have
    restarted meanwhile), but not one in constant use: SQLAlchemy's pre-ping is a round trip
    before every transaction, reads included (a proposal takes six in all). A connection that
    died all the same fails its first statement cleanly (a 503), and SQLAlchemy then replaces
    every connection of the pool."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        record.info["given back"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("given back", 0.0) < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool then opens a fresh connection and tries again
            raise DisconnectionError() from exc


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so pysqlite must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("rolltext_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


#: PostgreSQL connections of one process, at most: reads and writes (`POOL_SIZE`, opened as
#: needed and then kept), the event log's position (`Database.peek`, and one for the
#: event loop: `Database.loop_peeks`), and the live stream's LISTEN and NOTIFY
#: (`app.web.live`). Times the workers and replicas, this must stay under the server's
#: max_connections (100 by default): README, "Production and scaling out".
POOL_SIZE = 15
PEEK_CONNECTIONS = 5
CONNECTIONS_PER_PROCESS = POOL_SIZE + PEEK_CONNECTIONS + 1 + 2


def shows_only_committed(session: Session) -> bool:
    """Has everything this session read been committed, so that others may be given it? True
    of a reading session, and of a writing one until its first flush (its own changes may yet
    roll back)."""
    return not session.info.get("write") or not session.info.get("flushed")


def _note_flush(session: Session, _context: Any) -> None:
    session.info["flushed"] = True


class Database:
    """The application's handle on its database, shared by all requests of a process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessions, "after_flush", _note_flush)
        # PostgreSQL reads in READ COMMITTED: each statement sees what was committed when it
        # began, inside a transaction or not. Without one, a read saves the BEGIN and the
        # ROLLBACK, two of its few round trips. (SQLite's reads keep their snapshot.)
        self._read_engine = (
            self.engine
            if url.startswith("sqlite")
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)
        # `peek`: psycopg's own connections on PostgreSQL (app/db/peek.py), a few per process
        # (PEEK_CONNECTIONS); on SQLite, the engine's.
        self._peeks = None if url.startswith("sqlite") else PeekConnections(url, PEEK_CONNECTIONS)
        #: The log's position read on the event loop (`app.web.kept`); not for a database in
        #: memory, which only the engine's own connection sees.
        self.loop_peeks: LoopPeeks | SqliteLoopPeeks | None = None
        if not url.startswith("sqlite"):
            self.loop_peeks = LoopPeeks(url)
        elif (path := self.engine.url.database) and path != ":memory:":
            self.loop_peeks = SqliteLoopPeeks(path)
        #: Called after each commit that recorded events, in the committing thread, with them.
        self.listeners: list[Listener] = []
        #: On PostgreSQL, called just before such a commit, with its events: the notifications
        #: returned, (channel, payload), are sent by the commit itself (NOTIFY: delivered to
        #: every listening process if and only if the transaction commits, in commit order).
        self.notices: list[Callable[[list[dict[str, Any]]], list[tuple[str, str]]]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def on_the_loop(self) -> Iterator[None]:
        """Work done on the event loop, for as long as it needs nothing but what is kept:
        `read`, `write`, `peek` and `ping` (of any `Database`) raise `WouldWait` before they
        take a connection, and the work is then done again in a thread (`app.web.kept.answer`).
        (`engine` is for the command line: it is not guarded.)"""
        token = _on_the_loop.set(True)
        try:
            yield
        finally:
            _on_the_loop.reset(token)

    def ping(self) -> None:
        """One round trip to the database: raises (a 503 for a request) while it is away."""
        refuse_on_the_loop()
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def read(self) -> Iterator[Session]:
        refuse_on_the_loop()
        with self._read_sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def peek(self) -> Iterator[Connection | Peek]:
        """A read without the ORM: for the few statements every request runs (the event log's
        stamp), where building a Session would cost more than the query. On PostgreSQL a
        statement that finds its connection dead (the server restarted) runs again on a fresh
        one (app/db/peek.py)."""
        refuse_on_the_loop()
        if self._peeks is None:
            with self.engine.connect() as connection:
                yield connection
        else:
            with self._peeks.peek() as peek:
                yield peek

    @contextmanager
    def write(self) -> Iterator[Session]:
        refuse_on_the_loop()
        session = self.sessions()
        session.info["write"] = True  # what is read here may not be kept for others
        session.info["notices"] = self.notices
        session.connection(execution_options={"rolltext_write": True})
        try:
            yield session
            session.commit()
        except (StaleDataError, IntegrityError) as exc:
            session.rollback()
            raise Conflict(CONFLICT_MESSAGE) from exc
        except OperationalError as exc:
            session.rollback()
            if "locked" in str(exc.orig).lower():
                raise Conflict(CONFLICT_MESSAGE) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            changes = session.info.pop("changes", [])
            session.close()
        if changes:
            for listener in self.listeners:
                listener(changes)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._peeks is not None:
            self._peeks.close()
        if self.loop_peeks is not None:
            self.loop_peeks.close()
