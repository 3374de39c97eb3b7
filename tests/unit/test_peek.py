"""The statements `Database.peek` runs on psycopg's own connections (app/db/peek.py): compiled
once (app/db/direct.py), their values converted as SQLAlchemy would, and refused if their rows
would need SQLAlchemy."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from app.db import direct
from app.db.models import Document, Event
from app.db.peek import _SQLITE, _sql_and_values
from app.domain.labels import Scheme
from app.services import events, text


def test_the_log_statements_compile_once_with_their_written_values() -> None:
    sql, values = _sql_and_values(events._SINCE, {"earlier": 7})
    assert _sql_and_values(events._SINCE, {"earlier": 8})[0] is sql  # compiled once per process
    assert "%(earlier)s" in sql and "->>" in sql
    # the JSON keys written in the statement travel with it, as SQLAlchemy would send them
    assert set(values.values()) == {"provision_id", "amendment_id", 7}
    assert "%(document_id)s" in _sql_and_values(text._VISIBILITY, {"document_id": 1})[0]
    sqlite_sql, sqlite_values = _sql_and_values(events._STAMP, None, _SQLITE)
    assert sqlite_sql == "SELECT max(id) FROM events" and sqlite_values == {}


def test_a_value_sqlalchemy_converts_is_converted() -> None:
    statement = select(Document.id).where(
        Document.scheme == bindparam("scheme", type_=Document.scheme.type)
    )
    _, values = _sql_and_values(statement, {"scheme": Scheme.PLAIN})
    expected = direct.sql_and_values(_SQLITE, statement, {"scheme": Scheme.PLAIN})[1]
    assert values == expected == {"scheme": Scheme.PLAIN.value}


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        # an IN list, rendered at execution
        (select(Document.id).where(Document.id.in_([1, 2])), "rendered at execution"),
        (select(Event.at), "columns SQLAlchemy converts"),  # UTC datetimes
    ],
    ids=["in-list", "converted-column"],
)
def test_a_statement_that_needs_sqlalchemy_at_execution_is_refused(
    statement: object, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        _sql_and_values(statement, None)  # type: ignore[arg-type]
