"""Every migration is reversible: upgrade, downgrade to nothing, upgrade again, on both DBs."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from app.db.models import Base
from tests.conftest import alembic_config, drop_postgres_database, fresh_postgres_database


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert _tables(url) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert _tables(url) == set()
    command.upgrade(config, "head")
    assert _tables(url) == set(Base.metadata.tables)


def test_migrations_round_trip_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


def test_migrations_round_trip_on_postgresql() -> None:
    name = f"rolltext_migrations_{os.getpid()}"
    url = fresh_postgres_database(name)
    try:
        _round_trip(url)
    finally:
        drop_postgres_database(name)


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """A model change without its migration fails here (alembic check finds no new operations)."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.check(config)
