"""Fixtures: every integration test runs on SQLite and on PostgreSQL.

PostgreSQL is not optional: if the server on 127.0.0.1:5432 cannot be reached, the run fails
(with the command that starts it) instead of silently testing SQLite alone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db.models import Base
from app.db.session import Database
from app.domain.outline import parse_outline
from app.domain.roles import Actor, Role
from app.services import accounts, documents
from app.services.directory import load_reference_data
from app.services.views import DocumentView

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Real argon2, at a cost that keeps hundreds of test accounts quick to create.
accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

REFERENCE_TABLES = {"delegations", "groups", "group_members", "alembic_version"}


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str, target: str = "head") -> None:
    command.upgrade(alembic_config(url), target)


def fresh_postgres_database(name: str) -> str:
    """Create an empty database for this test run; fail loudly if PostgreSQL is down."""
    admin_url = make_url(POSTGRES_URL).set(database="postgres")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the message is the point
        pytest.fail(
            f"PostgreSQL is required by the test suite and is not reachable at {admin_url}: "
            f"{exc}\nStart it with: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    admin_url = make_url(POSTGRES_URL).set(database="postgres")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the reference data, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    url = f"sqlite:///{path}"
    migrate(url)
    database = Database(url)
    load_reference_data(database)
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"rolltext_test_{os.getpid()}"
    url = fresh_postgres_database(name)
    migrate(url)
    database = Database(url)
    load_reference_data(database)
    database.dispose()
    yield url
    drop_postgres_database(name)


def _truncate_postgres(database: Database) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "rolltext.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        _truncate_postgres(db)
    yield db
    db.dispose()


SMALL_RESOLUTION = """\
# Safe, orderly and regular migration

The General Assembly,

_Recalling_ the New York Declaration for Refugees and Migrants of 19 September 2016,

_Reaffirming_ the purposes and principles of the Charter of the United Nations,

1. _Decides_ to convene an intergovernmental conference on international migration in 2018;

2. _Requests_ the President of the General Assembly to appoint two co-facilitators;

   (a) to lead open, transparent and inclusive consultations with States;

   (b) to integrate the Geneva-based migration expertise;

3. _Invites_ Member States to contribute to the voluntary trust fund.
"""


@dataclass
class World:
    """A small negotiation and the people in it, built through the real use cases."""

    database: Database
    secretariat: Actor
    mexico: Actor  # co-facilitator
    switzerland: Actor  # co-facilitator
    eu: Actor  # EU delegation, speaks for the EU group
    usa: Actor
    egypt: Actor  # speaks for the G77
    norway: Actor
    russia: Actor
    stakeholder: Actor
    observer: Actor
    negotiation_id: int
    document: DocumentView

    def provision(self, label: str) -> int:
        for p in documents.get_document(self.database, document_id=self.document.id).provisions:
            if p.label == label:
                return p.id
        raise KeyError(label)

    def text(self, label: str) -> str:
        for p in documents.get_document(self.database, document_id=self.document.id).provisions:
            if p.label == label:
                return p.text
        raise KeyError(label)


def _person(
    database: Database,
    username: str,
    role: Role,
    delegation: str | None = None,
    groups: tuple[str, ...] = (),
) -> Actor:
    accounts.create_user(
        database,
        actor=None,
        username=username,
        display_name=username.title(),
        role=role,
        password="correct horse battery",
        delegation=delegation,
        groups=groups,
    )
    return accounts.actor_for_username(database, username=username)


@pytest.fixture
def world(database: Database) -> World:
    secretariat = _person(database, "secretariat", Role.SECRETARIAT)
    people = dict(
        mexico=_person(database, "cofac.mexico", Role.COFACILITATOR, "MEX"),
        switzerland=_person(database, "cofac.switzerland", Role.COFACILITATOR, "CHE"),
        eu=_person(database, "eu", Role.DELEGATE, "EU", ("EU",)),
        usa=_person(database, "usa", Role.DELEGATE, "USA"),
        egypt=_person(database, "egypt", Role.DELEGATE, "EGY", ("G77",)),
        norway=_person(database, "norway", Role.DELEGATE, "NOR"),
        russia=_person(database, "russia", Role.DELEGATE, "RUS"),
        stakeholder=_person(database, "ngo", Role.STAKEHOLDER),
        observer=_person(database, "observer", Role.OBSERVER),
    )
    negotiation = documents.create_negotiation(
        database,
        actor=secretariat,
        symbol="GCM/test",
        title="Test negotiation",
        cofacilitators=["MEX", "CHE"],
    )
    document = documents.import_outline(
        database,
        actor=secretariat,
        negotiation_id=negotiation.id,
        outline=parse_outline(SMALL_RESOLUTION),
        issued_on=date(2016, 11, 23),
    )
    return World(
        database=database,
        secretariat=secretariat,
        negotiation_id=negotiation.id,
        document=document,
        **people,
    )


#: Tables outside any negotiation's text: accounts, reference data, sign-in bookkeeping.
_UNRECORDED = frozenset(
    {
        "delegations",
        "groups",
        "group_members",
        "users",
        "group_authorisations",
        "api_tokens",
        "user_sessions",
        "sign_in_failures",
    }
)


@pytest.fixture(autouse=True)
def every_change_records_an_event() -> Iterator[None]:
    """Pages keep service answers until the newest event changes (app/web/kept.py ViewCache),
    so a committed change to a negotiation's rows without an event in the same transaction
    would leave every open page stale. Checked on every ORM transaction of every test."""
    from sqlalchemy import event as sa_event
    from sqlalchemy.orm import Session

    from app.db.models import Event

    def track(session: Session, *_: object) -> None:
        changed = session.info.setdefault("rolltext_changed", set())
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, Event):
                session.info["rolltext_recorded"] = True
            elif session.is_modified(obj) or obj in session.new or obj in session.deleted:
                changed.add(type(obj).__tablename__)

    def check(session: Session) -> None:
        session.flush()
        changed = session.info.pop("rolltext_changed", set()) - _UNRECORDED
        recorded = session.info.pop("rolltext_recorded", False) or bool(
            session.info.get("log") or session.info.get("changes")  # events.record's, to write
        )
        assert recorded or not changed, f"a change to {sorted(changed)} recorded no event"

    def forget(session: Session, *_: object) -> None:
        session.info.pop("rolltext_changed", None)
        session.info.pop("rolltext_recorded", None)

    sa_event.listen(Session, "before_flush", track)
    sa_event.listen(Session, "before_commit", check)
    sa_event.listen(Session, "after_rollback", forget)
    try:
        yield
    finally:
        sa_event.remove(Session, "before_flush", track)
        sa_event.remove(Session, "before_commit", check)
        sa_event.remove(Session, "after_rollback", forget)
