"""PostgreSQL connections for the statements every request runs (`Database.peek`).

Every request reads where the event log stands (`app.web.kept`): a 70 µs query for psycopg,
which SQLAlchemy's Connection, execution context and pool wrapped in 150 µs more of CPU — a
fifth of a whole read request. These connections are psycopg's own, in autocommit, kept in a
small pool of our own; the statements stay SQLAlchemy's, compiled once to PostgreSQL's SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import psycopg
from psycopg.pq import ExecStatus
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

_DIALECT = psycopg_dialect()
TUPLES_OK = ExecStatus.TUPLES_OK


class _Statement(NamedTuple):
    sql: str
    defaults: dict[str, Any]  # bound values written in the statement itself


_compiled: dict[ClauseElement, _Statement] = {}
_compiled_lock = threading.Lock()
_KEPT_STATEMENTS = 64  # the module constants that run on every request, with room to spare


def _compile(statement: ClauseElement) -> _Statement:
    """The statement's SQL, compiled once for the statements built once (module constants);
    one built afresh for a single use is compiled at each use, and not kept."""
    known = _compiled.get(statement)
    if known is None:
        compiled = statement.compile(dialect=_DIALECT)
        written = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        known = _Statement(str(compiled), written)
        with _compiled_lock:
            if len(_compiled) < _KEPT_STATEMENTS:
                _compiled[statement] = known
    return known


class Rows:
    """What `Peek.execute` returns: the rows, with the few ways of reading them SQLAlchemy's
    `Result` offers that the callers use."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> Sequence[Any]:
        return self._rows

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise ValueError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]


class Peek:
    """One of the pool's connections, for one short read."""

    def __init__(self, pool: PeekConnections, connection: psycopg.Connection[Any]) -> None:
        self._pool = pool
        self.connection = connection

    def execute(self, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> Rows:
        sql, defaults = _compile(statement)
        values = {**defaults, **params} if params else defaults
        try:
            return Rows(self._run(sql, values))
        except psycopg.Error as exc:
            if not self.connection.broken:
                raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc
        # The server closed it (a restart ends every connection): once more on a fresh one.
        self.connection = self._pool.replace(self.connection)
        try:
            return Rows(self._run(sql, values))
        except psycopg.Error as exc:
            raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc

    def scalar(self, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> Any:
        return self.execute(statement, params).scalar()

    def _run(self, sql: str, values: Mapping[str, Any]) -> list[Any]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, values)  # type: ignore[arg-type]
            # (not `cursor.description`: it builds a Column object per column, every time)
            answered = cursor.pgresult is not None and cursor.pgresult.status == TUPLES_OK
            return cursor.fetchall() if answered else []


class PeekConnections:
    """At most `size` connections, opened as needed and then kept, named `rolltext-peek` in
    pg_stat_activity. They are not pinged before use (a round trip per request): a dead one
    fails its statement, which `Peek` runs again on a fresh connection."""

    def __init__(self, url: str, size: int) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()

    @contextmanager
    def peek(self) -> Iterator[Peek]:
        self._slots.acquire()
        try:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            peek = Peek(self, connection or self._open())
            try:
                yield peek
            finally:
                if peek.connection.closed:
                    pass
                elif peek.connection.broken or peek.connection.info.transaction_status:
                    peek.connection.close()  # broken, or left inside a transaction
                else:
                    with self._lock:
                        self._idle.append(peek.connection)
        finally:
            self._slots.release()

    def replace(self, dead: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        dead.close()
        return self._open()

    def _open(self) -> psycopg.Connection[Any]:
        try:
            connection = psycopg.connect(
                self._conninfo,
                autocommit=True,
                application_name="rolltext-peek",
                row_factory=namedtuple_row,
            )
            # PostgreSQL would plan `events.id > $1` afresh at each run (its generic plan's
            # estimate is a third of the log): a third of the statement's cost. (A SET, not a
            # startup option: PgBouncer refuses those.)
            connection.execute("SET plan_cache_mode = force_generic_plan")
        except psycopg.Error as exc:  # the server is away: a 503, as for any other query
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
        return connection

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
