"""How many PostgreSQL connections a process holds: a bounded number, which the deployment's
workers must fit in the server's max_connections."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db import session as sessions
from app.db.session import CONNECTIONS_PER_PROCESS, PEEK_CONNECTIONS, POOL_SIZE, Database
from app.services import events

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite has no server
def test_connections_opened_under_load_are_kept(database: Database) -> None:
    """Up to POOL_SIZE requests at once: the connections they opened serve the next ones too
    (none closed when given back, so no new server process and no statement planned afresh)."""
    busy = POOL_SIZE - 2  # more than SQLAlchemy's default 5 kept

    def backends() -> set[int]:
        held = [database.engine.connect() for _ in range(busy)]
        try:
            return {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in held}
        finally:
            for c in held:
                c.close()

    first = backends()
    assert len(first) == busy
    assert backends() == first


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite has no server
def test_reads_of_the_log_share_a_few_connections(database: Database) -> None:
    """Twenty requests reading the log's position at once use at most PEEK_CONNECTIONS
    connections (each is held for one short query), named so in pg_stat_activity."""
    start = threading.Barrier(21)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            start.wait(10)
            with database.peek() as connection:
                connection.execute(text("SELECT pg_sleep(0.1)"))
        except BaseException as exc:
            failures.append(exc)

    readers = [threading.Thread(target=read) for _ in range(20)]
    for reader in readers:
        reader.start()
    seen = []
    # autocommit: pg_stat_activity is read once per transaction, so a new one for each look
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        start.wait(10)
        while any(r.is_alive() for r in readers):
            seen.append(
                admin.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND application_name = 'rolltext-peek'"
                    )
                ).scalar_one()
            )
    for reader in readers:
        reader.join()
    assert not failures, failures
    assert 2 <= max(seen) <= PEEK_CONNECTIONS


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_the_log_is_read_on_one_plan(database: Database) -> None:
    """Every request reads the log since a stamp; psycopg prepares the statement, and the peek
    connections keep its generic plan (PostgreSQL would plan `id > $1` again at every run: the
    generic plan's estimate is a third of the log)."""
    with database.peek() as connection:
        for _ in range(12):
            events.since(connection, 0)
        plans = connection.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%FROM events%WHERE events.id > $%'"
            )
        ).one()
    assert plans.custom_plans == 0 and plans.generic_plans >= 5, plans


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_log_reading_connection_cut_off_is_replaced_by_the_read_itself(
    database: Database,
) -> None:
    """The log's connections are not pinged before use (a round trip per request): when the
    server has ended one (a restart ends them all), the read runs again on a fresh one."""
    with database.peek() as connection:
        before = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with database.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
        admin.commit()
    time.sleep(0.1)
    with database.peek() as connection:
        assert events.stamp(connection) >= 0
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != before


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_read_waiting_too_long_for_a_log_connection_is_a_database_error(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every log connection held, a read waits, then fails as a database error (a 503
    for a request), not forever."""
    from app.db import peek

    monkeypatch.setattr(peek, "WAIT_SECONDS", 0.2)
    with contextlib.ExitStack() as held:
        for _ in range(PEEK_CONNECTIONS):
            held.enter_context(database.peek())
        with pytest.raises(OperationalError), database.peek():
            pass
    with database.peek() as connection:  # given back: served again
        assert events.stamp(connection) >= 0


def test_the_compose_files_workers_fit_in_postgresqls_connections() -> None:
    """docker-compose runs N workers against one PostgreSQL: N processes' connections, at
    most, must stay under its max_connections (100 unless the compose file sets it)."""
    compose = (ROOT / "docker-compose.yml").read_text()
    workers = int(re.search(r"--workers (\d+)", compose).group(1))  # type: ignore[union-attr]
    limit = re.search(r"max_connections=(\d+)", compose)
    max_connections = int(limit.group(1)) if limit else 100
    superuser_reserved = 3  # PostgreSQL keeps these for administrators
    assert workers * CONNECTIONS_PER_PROCESS <= max_connections - superuser_reserved


def _cut_off(database: Database) -> int:
    """End, from another connection, the server side of the pool's one connection."""
    with database.read() as db:
        backend = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with database.peek() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    return int(backend)


def _backend(database: Database) -> int:
    with database.read() as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_connection_that_sat_idle_is_checked_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One given back a while ago is pinged when handed out: if the server dropped it
    meanwhile (a restart), the pool opens another and the request never sees it."""
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE", 0.2)
    dead = _cut_off(database)
    time.sleep(0.3)
    assert _backend(database) != dead


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_connection_in_constant_use_is_not_pinged_and_fails_cleanly_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load there is no ping before each transaction (a round trip each): a connection
    cut off between two uses fails that one statement with a database error (a 503 for a
    request), and SQLAlchemy replaces the pool's connections, so the next one succeeds."""
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE", 60.0)
    dead = _cut_off(database)
    with pytest.raises(OperationalError):
        _backend(database)
    assert _backend(database) != dead


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_commit_cut_off_fails_as_a_database_error_and_keeps_nothing(
    database: Database,
) -> None:
    """The log's lines and the COMMIT travel together (psycopg's pipeline): a connection cut
    off before them fails the use case with SQLAlchemy's error (a 503), and nothing of it
    was committed."""
    from app.services import events

    with database.read() as db:
        before = events.stamp(db)
    with pytest.raises(OperationalError), database.write() as db:
        events.record(db, kind="test.cut", actor=None, subject="test", subject_id=None)
        backend = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with database.peek() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with database.read() as db:
        assert events.stamp(db) == before


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_an_error_found_only_at_the_commit_is_sqlalchemys_and_keeps_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the server refuses while working through the lines and the COMMIT (here a
    notification too long for NOTIFY) surfaces as SQLAlchemy's error, like any statement's,
    and the transaction is not committed."""
    from sqlalchemy.exc import DBAPIError

    from app.services import events

    monkeypatch.setattr(database, "notices", [lambda _changes: [("rolltext_test", "x" * 9000)]])
    with database.read() as db:
        before = events.stamp(db)
    with pytest.raises(DBAPIError, match="payload string too long"), database.write() as db:
        events.record(db, kind="test.refused", actor=None, subject="test", subject_id=None)
    with database.read() as db:
        assert events.stamp(db) == before
