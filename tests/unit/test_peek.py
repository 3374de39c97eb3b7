"""The statements `Database.peek` runs on psycopg's own connections (app/db/peek.py): compiled
once, with what SQLAlchemy would convert converted or refused."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from app.db.models import Document, Event
from app.db.peek import _compile
from app.services import events, text


def test_the_log_statements_compile_once_with_their_written_values() -> None:
    since = _compile(events._SINCE)
    assert _compile(events._SINCE) is since  # kept: compiled once per process
    assert "%(earlier)s" in since.sql and "->>" in since.sql
    # the JSON keys written in the statement travel with it, as SQLAlchemy would send them
    assert set(since.defaults.values()) == {"provision_id", "amendment_id"}
    assert "earlier" not in since.defaults  # given at each execution
    assert "%(document_id)s" in _compile(text._VISIBILITY).sql


@pytest.mark.parametrize(
    "statement",
    [
        select(Document.id).where(Document.id.in_([1, 2])),  # an IN list, rendered at execution
        select(Event.at),  # a column SQLAlchemy converts (UTC datetimes)
        select(Document.id).where(
            Document.scheme == bindparam("scheme", type_=Document.scheme.type)
        ),
    ],
    ids=["in-list", "converted-column", "converted-value"],
)
def test_a_statement_that_needs_sqlalchemy_at_execution_is_refused(statement: object) -> None:
    with pytest.raises(ValueError, match="plain statements only"):
        _compile(statement)  # type: ignore[arg-type]
