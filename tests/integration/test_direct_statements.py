"""Statements run on the driver's own connection (app/db/direct.py) answer and write exactly as
through SQLAlchemy's `Connection.execute`, on both databases: the same rows, with the same
names and converted values, the defaults computed in Python, and SQLAlchemy's errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from app.db import direct
from app.db.models import Amendment, Event, Position, Proponent
from app.db.types import UTCDateTime
from app.domain.amendments import AmendmentKind
from app.domain.errors import Conflict
from app.services import amendments
from tests.conftest import World


def _proposal(world: World) -> int:
    op1 = world.provision("OP1")
    made = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=world.text("OP1").replace("2018", "2019"),
    )
    amendments.take_position(world.database, actor=world.eu, amendment_id=made.id, stance="support")
    return made.id


def test_the_rows_are_sqlalchemys(world: World) -> None:
    proposal = _proposal(world)
    op1 = world.provision("OP1")
    queries = [
        (amendments._AMENDMENT_AND_STANDS, {"amendment": proposal}),
        (
            amendments._provision_query(AmendmentKind.WORDING, to_top=True, draw_ids=False),
            {"provision": op1, "kind": AmendmentKind.WORDING, "text": "x", "after": None},
        ),
    ]
    with world.database.read() as db:
        connection = db.connection()
        for statement, params in queries:
            expected = connection.execute(statement, params).all()
            found = direct.execute(connection, statement, params)
            assert len(found) == len(expected) >= 1
            for mine, theirs in zip(found, expected, strict=True):
                assert mine._fields == theirs._fields
                assert tuple(mine) == tuple(theirs)
                assert [type(v) for v in mine] == [type(v) for v in theirs]  # enums, UTC dates


def test_a_default_computed_in_python_is_written(world: World) -> None:
    proposal = _proposal(world)
    with world.database.write() as db:
        direct.execute(
            db.connection(),
            insert(Proponent.__table__),
            {"amendment_id": proposal, "delegation_id": world.norway.delegation_id, "user_id": 1},
        )
        row = db.execute(
            select(Proponent.joined_at, Proponent.withdrawn_at).where(
                Proponent.delegation_id == world.norway.delegation_id
            )
        ).one()
        db.rollback()
    assert row.joined_at is not None and row.joined_at.tzinfo is not None
    assert row.withdrawn_at is None


def test_a_refusal_is_sqlalchemys_error_and_changes_nothing(world: World) -> None:
    """SQLAlchemy's `IntegrityError`, which the unit of work turns into a `Conflict` (someone
    else did it first) and rolls back."""
    proposal = _proposal(world)
    eu = world.eu.delegation_id
    with pytest.raises(Conflict) as refused, world.database.write() as db:  # EU has a position
        direct.execute(
            db.connection(),
            insert(Position.__table__),
            {"amendment_id": proposal, "delegation_id": eu, "stance": "oppose", "user_id": 1},
        )
    assert isinstance(refused.value.__cause__, IntegrityError)
    with world.database.read() as db:
        stances = db.scalars(select(Position.stance).where(Position.amendment_id == proposal))
        assert list(stances) == ["support"]


def test_a_statement_finished_only_at_execution_is_refused(world: World) -> None:
    statement = select(Amendment.id).where(Amendment.id.in_(bindparam("ids", expanding=True)))
    with world.database.read() as db, pytest.raises(ValueError, match="rendered at execution"):
        direct.execute(db.connection(), statement, {"ids": [1, 2]})


def test_a_value_named_twice_is_converted_once(world: World) -> None:
    """Two parameters of one name (each a UTC date to convert) are one value, converted once,
    as SQLAlchemy does: converted twice, a date would have been refused, a JSON value written
    as a string of JSON."""
    _proposal(world)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    statement = select(Event.id).where(
        Event.at >= bindparam("since", type_=UTCDateTime()),
        Event.at > bindparam("since", type_=UTCDateTime()),
    )
    with world.database.read() as db:
        connection = db.connection()
        expected = connection.execute(statement, {"since": since}).all()
        assert expected
        assert direct.execute(connection, statement, {"since": since}) == expected


def test_a_default_that_needs_sqlalchemys_context_is_refused(world: World) -> None:
    table = Table(
        "direct_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime(), default=lambda context: context.current_parameters),
    )
    with world.database.read() as db, pytest.raises(ValueError, match="default SQLAlchemy"):
        direct.execute(db.connection(), insert(table), {"id": 1})
