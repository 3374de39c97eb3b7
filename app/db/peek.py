"""Connections of our own for the statements every request runs (`Database.peek`, and the reads
on the event loop: `LoopPeeks`, `SqliteLoopPeeks`).

Every request reads where the event log stands (`app.web.kept`): a 70 µs query for psycopg,
which SQLAlchemy's Connection, execution context and pool wrapped in 150 µs more of CPU — a
fifth of a whole read request. These connections are psycopg's own, in autocommit, kept in a
small pool of our own; the statements stay SQLAlchemy's, compiled once to PostgreSQL's SQL
with their values converted as SQLAlchemy would (`app.db.direct`). The rows are the driver's:
a statement whose columns SQLAlchemy would convert is refused.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.dialects.sqlite.pysqlite import dialect as pysqlite_dialect
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound, OperationalError
from sqlalchemy.sql import ClauseElement

from app.db import direct

_DIALECT = psycopg_dialect()
_SQLITE = pysqlite_dialect(paramstyle="named")

#: How long a request waits for one of the connections, or for a new one to open, before it is
#: answered 503 (SQLAlchemy's pool waited as long).
WAIT_SECONDS = 30


def _sql_and_values(
    statement: ClauseElement, params: Mapping[str, Any] | None, dialect: Dialect = _DIALECT
) -> tuple[str, dict[str, Any]]:
    """The statement compiled once (`app.db.direct`), its values converted as SQLAlchemy would:
    the rows are read as the driver gives them, so a statement whose columns SQLAlchemy would
    convert is refused."""
    return direct.plain_sql_and_values(dialect, statement, params or {})


class Rows:
    """What `Peek.execute` returns: the rows, read as the callers read SQLAlchemy's `Result`."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> Sequence[Any]:
        return self._rows

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
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
        sql, values = _sql_and_values(statement, params)
        try:
            return Rows(self._run(sql, values))
        except psycopg.Error as exc:
            if not self.connection.closed:
                raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc
        # The server closed it (a restart ends every connection): once more on a fresh one.
        self.connection = self._pool.open()
        try:
            return Rows(self._run(sql, values))
        except psycopg.Error as exc:
            raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc

    def scalar(self, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> Any:
        return self.execute(statement, params).scalar()

    def _run(self, sql: str, values: Mapping[str, Any]) -> list[Any]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, values)  # type: ignore[arg-type]
            return cursor.fetchall() if _has_rows(cursor) else []


#: PostgreSQL would plan `events.id > $1` afresh at each run (its generic plan's estimate is a
#: third of the log): a third of the statement's cost. (A SET, not a startup option: PgBouncer
#: refuses those.)
_GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"


def _has_rows(cursor: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> bool:
    """Did the statement answer with rows (a SELECT), rather than a status (a SET)? Asked of the
    result, not of `cursor.description`, which builds a Column object per column every time."""
    return cursor.pgresult is not None and cursor.pgresult.status == ExecStatus.TUPLES_OK


class PeekConnections:
    """At most `size` connections, opened as needed and then kept, named `rolltext-peek` in
    pg_stat_activity. They are not pinged before use (a round trip per request): a dead one
    fails its statement, which `Peek` runs again on a fresh connection."""

    def __init__(self, url: str, size: int) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def peek(self) -> Iterator[Peek]:
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            raise OperationalError(
                None,
                None,
                TimeoutError(
                    f"no connection to read the log's position came free in {WAIT_SECONDS} s"
                ),
            )
        try:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            peek = Peek(self, connection or self.open())
            try:
                yield peek
            finally:
                self._give_back(peek.connection)
        finally:
            self._slots.release()

    def _give_back(self, connection: psycopg.Connection[Any]) -> None:
        if connection.closed:
            return
        if self._closed or connection.info.transaction_status != TransactionStatus.IDLE:
            connection.close()  # left inside a transaction (or the pool was closed meanwhile)
            return
        with self._lock:
            self._idle.append(connection)

    def open(self) -> psycopg.Connection[Any]:
        connection = None
        try:
            connection = psycopg.connect(
                self._conninfo,
                autocommit=True,
                application_name="rolltext-peek",
                connect_timeout=WAIT_SECONDS,
                row_factory=namedtuple_row,
            )
            connection.execute(_GENERIC_PLANS)
        except psycopg.Error as exc:  # the server is away: a 503, as for any other query
            if connection is not None:
                connection.close()
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
        return connection

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class LoopPeeks:
    """The log's position read on the event loop, without a thread (`app.web.kept`): one
    psycopg `AsyncConnection` per event loop — a uvicorn worker runs one — named
    `rolltext-peek` too. A request whose answers are all kept needs this read and nothing else.

    Its reads take turns on the one connection (the cache shares each read among the requests
    waiting for it), so one read that hangs (a connection silently cut on the way) would hold
    every request of the worker: a read takes `READ_SECONDS` at most, and TCP keepalives find a
    dead peer. A failed read is an error for the caller, who reads in a thread instead; its
    connection is dropped, and the next read opens a fresh one."""

    CONNECT_SECONDS = 5
    READ_SECONDS = 2.0

    def __init__(self, url: str) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnection] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._closed = False

    async def execute(
        self, statement: ClauseElement, params: Mapping[str, Any] | None = None
    ) -> Rows:
        sql, values = _sql_and_values(statement, params)
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._closed:
                raise OperationalError(sql, values, RuntimeError("the database was disposed of"))
            held = self._loops.get(loop)
            if held is None:
                held = self._loops[loop] = _LoopConnection()
        async with held.turn:
            try:
                async with asyncio.timeout(self.READ_SECONDS):
                    if held.connection is None or held.connection.closed:
                        held.connection = await self._open()
                    async with held.connection.cursor() as cursor:
                        await cursor.execute(sql, values)  # type: ignore[arg-type]
                        return Rows(await cursor.fetchall() if _has_rows(cursor) else [])
            except psycopg.Error as exc:
                held.drop()  # in an unknown state: the next read opens a fresh one
                raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc
            except TimeoutError as exc:
                held.drop()
                raise OperationalError(sql, values, exc) from exc
            finally:
                if self._closed:  # closed while this read was under way: its connection too
                    held.drop()

    async def _open(self) -> psycopg.AsyncConnection[Any]:
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            application_name="rolltext-peek",
            connect_timeout=self.CONNECT_SECONDS,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            row_factory=namedtuple_row,
        )
        try:
            await connection.execute(_GENERIC_PLANS)
        except BaseException:
            await connection.close()
            raise
        return connection

    def close(self) -> None:
        """Close every loop's connection, from any thread. Only on its own loop, and only
        between reads: libpq's connection is freed at once, and a read under way would go on
        using it (that read closes it when it ends)."""
        with self._lock:
            self._closed = True
            held = list(self._loops.items())
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        for loop, each in held:
            if loop is here or not loop.is_running():
                each.drop_if_idle()
                continue
            try:
                loop.call_soon_threadsafe(each.drop_if_idle)
            except RuntimeError:  # the loop closed meanwhile: nothing runs on it any more
                each.drop_if_idle()


class _LoopConnection:
    def __init__(self) -> None:
        self.turn = asyncio.Lock()
        self.connection: psycopg.AsyncConnection[Any] | None = None

    def drop_if_idle(self) -> None:
        if not self.turn.locked():
            self.drop()

    def drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.closed:
            connection.pgconn.finish()


class SqliteLoopPeeks:
    """The log's position read on the event loop on SQLite: a connection of its own per
    process, which never waits. In WAL mode a reader does not wait for writers; with no busy
    timeout, the rare read that would wait for a lock (a checkpoint resetting the log) fails at
    once instead, and the request reads in a thread (`app.web.kept`). Reads take turns on the
    connection: microseconds each, from the operating system's cache of the file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._rows: dict[tuple[str, ...], type] = {}
        self._lock = threading.Lock()
        self._closed = False

    async def execute(
        self, statement: ClauseElement, params: Mapping[str, Any] | None = None
    ) -> Rows:
        sql, values = _sql_and_values(statement, params, _SQLITE)
        with self._lock:
            try:
                if self._closed:
                    raise sqlite3.OperationalError("the database was disposed of")
                if self._connection is None:
                    self._connection = sqlite3.connect(
                        self._path, timeout=0, check_same_thread=False, isolation_level=None
                    )
                cursor = self._connection.execute(sql, values)
                found = cursor.fetchall()
            except sqlite3.Error as exc:
                raise DBAPIError.instance(sql, values, exc, sqlite3.Error) from exc
            names = tuple(column[0] for column in cursor.description or ())
            row = self._rows.get(names)
            if row is None:
                row = self._rows[names] = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        return Rows([row(*values) for values in found])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None
