"""Backups and negotiation exports on both databases: round trips, cross-database, refusals.

The demo (plus rounds, silence, an alternative, a stakeholder input, a withdrawal and a position
taken back, so every table and event kind is exercised) is loaded once per database into a
module-scoped source; every test restores or imports into its own empty target.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from app.cli import main
from app.config import get_settings
from app.db.models import Base
from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState
from app.domain.roles import Role
from app.services import accounts, amendments, archive, decisions, documents, inputs, process
from app.services.archive import ArchiveError
from app.services.demo import demo_data, load_demo
from app.services.directory import load_reference_data
from app.services.revisions import get_revision, list_revisions
from tests.conftest import (
    SMALL_RESOLUTION,
    World,
    drop_postgres_database,
    fresh_postgres_database,
    migrate,
)

SYMBOL = demo_data()["negotiation"]["symbol"]
KINDS = ("sqlite", "postgresql")


# -- sources and targets ----------------------------------------------------------------------


def _enrich(database: Database) -> None:
    """Beyond the demo: the process tables, an alternative, an input, a dangling position."""
    actor = lambda name: accounts.actor_for_username(database, username=name)  # noqa: E731
    cofac, secretariat = actor("cofac.mexico"), actor("secretariat")
    usa, russia, ngo = actor("usa.delegate"), actor("russia.delegate"), actor("stakeholder.ngo")
    [negotiation] = documents.list_negotiations(database)
    document_id = negotiation.documents[0].id
    text_now = documents.get_document(database, document_id=document_id)
    live = [p for p in text_now.provisions if p.label and not p.deleted and p.kind != "heading"]
    target = live[2]
    documents.set_visibility(
        database, actor=secretariat, document_id=document_id, visibility="public"
    )
    row = inputs.submit_input(
        database,
        actor=ngo,
        document_id=document_id,
        text="Add a reference to migrant workers.",
        organisation="Migrant Forum",
        provision_id=target.id,
    )
    inputs.adopt_input(
        database,
        actor=usa,
        input_id=row.id,
        text=target.text + " including migrant workers",
        provision_id=target.id,
    )
    withdrawn = amendments.propose(
        database,
        actor=usa,
        provision_id=live[3].id,
        kind=AmendmentKind.WORDING,
        text=live[3].text + " as appropriate",
    )
    amendments.withdraw(database, actor=usa, amendment_id=withdrawn.id)
    pending = amendments.list_amendments(
        database, document_id=document_id, state=AmendmentState.PENDING, limit=1000
    )
    other = next(a for a in pending if "RUS" not in a.proponent_codes)
    amendments.take_position(database, actor=russia, amendment_id=other.id, stance="oppose")
    amendments.take_position(database, actor=russia, amendment_id=other.id, stance=None)
    amendments.take_position(database, actor=russia, amendment_id=other.id, stance="support")
    decisions.cf_alternative(
        database, actor=cofac, provision_id=live[4].id, text="An alternative wording."
    )
    soon = datetime.now() + timedelta(days=30)
    round_ = process.open_round(
        database, actor=cofac, document_id=document_id, name="Written proposals", deadline=soon
    )
    process.grant_late_submission(
        database, actor=cofac, round_id=round_.id, delegation="USA", until=soon + timedelta(1)
    )
    silence = process.place_under_silence(
        database, actor=cofac, document_id=document_id, revision="Rev.1", deadline=soon
    )
    process.break_silence(
        database,
        actor=usa,
        silence_id=silence.id,
        statement="We cannot join consensus on this paragraph.",
        provisions=[target.label],
    )


def _load_source(database: Database) -> Database:
    load_demo(database)
    _enrich(database)
    return database


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database]]:
    """The enriched demo on SQLite and on PostgreSQL, loaded once: tests only read them."""
    name = f"rolltext_archive_src_{os.getpid()}"
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('archive') / 'source.db'}"
    postgres_url = fresh_postgres_database(name)
    loaded = {}
    for kind, url in (("sqlite", sqlite_url), ("postgresql", postgres_url)):
        migrate(url)
        loaded[kind] = _load_source(Database(url))
    yield loaded
    for database in loaded.values():
        database.dispose()
    drop_postgres_database(name)


@pytest.fixture(scope="module")
def postgres_target_url() -> Iterator[str]:
    name = f"rolltext_archive_dst_{os.getpid()}"
    url = fresh_postgres_database(name)
    migrate(url)
    yield url
    drop_postgres_database(name)


Target = Callable[..., Database]


@pytest.fixture
def target(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_target_url: str
) -> Iterator[Target]:
    """Makes an empty migrated database of a kind (with the reference data unless told not)."""
    made: list[Database] = []

    def make(kind: str, *, reference_data: bool = True) -> Database:
        if kind == "sqlite":
            path = tmp_path / f"target{len(made)}.db"
            if reference_data:
                shutil.copy(request.getfixturevalue("sqlite_template"), path)
                database = Database(f"sqlite:///{path}")
            else:
                database = Database(f"sqlite:///{path}")
                migrate(database.url)
        else:
            assert not any(d.dialect == "postgresql" for d in made), "one PostgreSQL target"
            database = Database(postgres_target_url)
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            with database.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            if reference_data:
                load_reference_data(database)
        made.append(database)
        return database

    yield make
    for database in made:
        database.dispose()


def rows_of(database: Database) -> dict[str, list[list[Any]]]:
    """Every row of every table, as the backup writes values, in primary-key order."""
    with archive.snapshot(database) as conn:
        return {
            table.name: [
                [archive.encode_value(v) for v in row]
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


# -- backup and restore -----------------------------------------------------------------------


@pytest.mark.parametrize("source_kind", KINDS)
@pytest.mark.parametrize("target_kind", KINDS)
def test_backup_restores_every_row_on_either_database(
    sources: dict[str, Database], target: Target, tmp_path: Path, source_kind: str, target_kind: str
) -> None:
    source = sources[source_kind]
    file = tmp_path / ("backup.jsonl.gz" if source_kind == target_kind else "backup.jsonl")
    taken = archive.backup_database(source, file)
    assert taken.rows["events"] > 200 and taken.rows["silence_breaks"] == 1
    assert not file.with_name(file.name + ".partial").exists()

    restored_into = target(target_kind)
    restored = archive.restore_database(restored_into, file)
    assert restored.rows == taken.rows
    assert rows_of(restored_into) == rows_of(source)

    # Ids go on from the restored ones (PostgreSQL sequences were moved), and it still works.
    created = accounts.create_user(
        restored_into,
        actor=None,
        username="after.restore",
        display_name="After",
        role=Role.OBSERVER,
        password="correct horse battery",
    )
    assert created.id == max(row[0] for row in rows_of(source)["users"]) + 1
    accounts.authenticate(restored_into, username="eu.delegate", password="eu-delegate-2016")
    [negotiation] = documents.list_negotiations(restored_into)
    assert negotiation.symbol == SYMBOL


def test_restore_refuses_a_database_with_data(
    world: World, sources: dict[str, Database], tmp_path: Path
) -> None:
    file = tmp_path / "backup.jsonl"
    archive.backup_database(sources["sqlite"], file)
    before = rows_of(world.database)
    with pytest.raises(ArchiveError, match=r"The target database is not empty \(.*users: 10 rows"):
        archive.restore_database(world.database, file)
    assert rows_of(world.database) == before


def test_restore_refuses_another_schema_revision_or_an_unmigrated_database(
    database: Database, sources: dict[str, Database], tmp_path: Path
) -> None:
    file = tmp_path / "backup.jsonl"
    archive.backup_database(sources["postgresql"], file)
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    revision = header["alembic_revision"]
    header["alembic_revision"] = "0123456789ab"
    older = tmp_path / "older.jsonl"
    older.write_text(json.dumps(header) + "\n" + "".join(lines[1:]), encoding="utf-8")
    with pytest.raises(ArchiveError, match=f"revision 0123456789ab, the target .* at {revision}"):
        archive.restore_database(database, older)

    bare = Database(f"sqlite:///{tmp_path / 'bare.db'}")
    with pytest.raises(ArchiveError, match="not migrated"):
        archive.restore_database(bare, file)
    bare.dispose()


def _expect_refusal(database: Database, file: Path, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        archive.restore_database(database, file)


def test_restore_refuses_malformed_or_foreign_files_and_changes_nothing(
    database: Database, sources: dict[str, Database], tmp_path: Path
) -> None:
    good = tmp_path / "backup.jsonl"
    archive.backup_database(sources["sqlite"], good)
    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    before = rows_of(database)

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    _expect_refusal(database, write("notes.txt", "dear diary\n"), "not a Rolltext backup")
    _expect_refusal(database, write("other.json", '{"hello": 1}\n'), "not a Rolltext backup")
    _expect_refusal(database, write("binary.gz", b"\x1f\x8b garbage"), "not a Rolltext backup")
    export = json.dumps(archive.export_negotiation(sources["sqlite"], symbol=SYMBOL))
    _expect_refusal(database, write("negotiation.json", export), "not a Rolltext backup")
    # Cut short after most rows were inserted: the whole restore rolls back.
    _expect_refusal(database, write("cut.jsonl", "".join(lines[:-1])), "incomplete")
    squeezed = gzip.compress("".join(lines).encode())
    _expect_refusal(database, write("cut.jsonl.gz", squeezed[: len(squeezed) // 2]), "damaged")
    edited = [*lines[:-1], lines[-1].replace('"events":', '"events":1+')]
    _expect_refusal(database, write("edited.jsonl", "".join(edited)), "damaged")
    wrong = [lines[0], '{"table": "spaceships", "columns": ["id"]}\n', *lines[1:]]
    _expect_refusal(database, write("unknown.jsonl", "".join(wrong)), "does not know: 'spaceships'")
    header = json.loads(lines[0]) | {"format_version": 99}
    _expect_refusal(database, write("future.jsonl", json.dumps(header) + "\n"), "format version 99")
    assert rows_of(database) == before


def test_a_backup_taken_while_the_server_writes_is_consistent(world: World, tmp_path: Path) -> None:
    """Proposals keep landing (amendment + wording + proponent + event per transaction) while
    backups are taken: each backup must hold whole transactions only."""
    database = world.database
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def writer() -> None:
        provisions = [world.provision(label) for label in ("OP1", "OP2", "OP3")]
        n = 0
        while not stop.is_set():
            n += 1
            try:
                made = amendments.propose(
                    database,
                    actor=world.usa if n % 2 else world.norway,
                    provision_id=provisions[n % 3],
                    kind=AmendmentKind.WORDING,
                    text=f"Variant number {n} of the paragraph.",
                )
                written.append(made.id)
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)
                return

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        backups = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline or len(backups) < 3:
            file = tmp_path / f"live{len(backups)}.jsonl"
            archive.backup_database(database, file)
            backups.append(file)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failures, failures
    assert len(written) > 3, "the writer made progress during the backups"
    sizes = set()
    for file in backups:
        tables = _sections(file)
        proposed = [e for e in tables["events"] if e["kind"] == "amendment.proposed"]
        assert len(tables["amendments"]) == len(proposed) == len(tables["proponents"])
        assert len(tables["amendment_wordings"]) == len(tables["amendments"])
        wordings = {w["id"] for w in tables["amendment_wordings"]}
        assert all(a["current_wording_id"] in wordings for a in tables["amendments"])
        sizes.add(len(tables["amendments"]))
    assert len(sizes) > 1, "the backups saw the writer's progress"


def _sections(file: Path) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    columns: list[str] = []
    name = ""
    for line in file.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if isinstance(record, list):
            tables[name].append(dict(zip(columns, record, strict=True)))
        elif "table" in record:
            name, columns = record["table"], record["columns"]
            tables[name] = []
    return tables


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Database, list[str]], Any]]:
    def invoke(database: Database, args: list[str]) -> Any:
        monkeypatch.setenv("ROLLTEXT_DATABASE_URL", database.url)
        get_settings.cache_clear()
        return CliRunner().invoke(main, args)

    yield invoke
    get_settings.cache_clear()


def test_cli_backup_restore_export_import(
    sources: dict[str, Database],
    target: Target,
    tmp_path: Path,
    cli: Callable[[Database, list[str]], Any],
) -> None:
    source = sources["postgresql"]
    file = tmp_path / "rolltext.jsonl.gz"
    done = cli(source, ["backup", str(file)])
    assert done.exit_code == 0, done.output
    assert "Backed up" in done.output and str(file) in done.output

    empty = target("sqlite", reference_data=False)
    done = cli(empty, ["restore", str(file)])
    assert done.exit_code == 0, done.output
    assert "Restored" in done.output and "taken on postgresql" in done.output
    done = cli(empty, ["restore", str(file)])
    assert done.exit_code == 1
    assert "Error: The target database is not empty" in done.output

    exported = tmp_path / "negotiation.json"
    done = cli(source, ["export-negotiation", SYMBOL, "-o", str(exported)])
    assert done.exit_code == 0, done.output
    fresh = target("postgresql", reference_data=False)
    done = cli(fresh, ["import-negotiation", str(exported)])
    assert done.exit_code == 0, done.output
    assert f"Imported {SYMBOL} as negotiation 1" in done.output
    again = cli(fresh, ["export-negotiation", SYMBOL])
    assert again.exit_code == 0
    assert json.loads(again.output) == json.loads(exported.read_text(encoding="utf-8"))
    done = cli(fresh, ["import-negotiation", str(exported)])
    assert done.exit_code == 1
    assert f"Error: This database already has the negotiation '{SYMBOL}'" in done.output
    done = cli(fresh, ["export-negotiation", "NOPE", "-o", str(tmp_path / "nope.json")])
    assert done.exit_code == 1 and "Error: There is no negotiation 'NOPE'." in done.output
    assert not (tmp_path / "nope.json").exists()


# -- one negotiation --------------------------------------------------------------------------


def _another_negotiation(database: Database) -> None:
    """So that the imported rows get ids other than the source's."""
    from app.domain.outline import parse_outline

    accounts.create_user(
        database,
        actor=None,
        username="local.secretariat",
        display_name="Local",
        role=Role.SECRETARIAT,
        password="correct horse battery",
    )
    secretariat = accounts.actor_for_username(database, username="local.secretariat")
    negotiation = documents.create_negotiation(
        database, actor=secretariat, symbol="LOCAL/1", title="Local", cofacilitators=["BRA"]
    )
    documents.import_outline(
        database,
        actor=secretariat,
        negotiation_id=negotiation.id,
        outline=parse_outline(SMALL_RESOLUTION),
        issued_on=datetime(2017, 1, 1).date(),
    )


@pytest.mark.parametrize("source_kind", KINDS)
@pytest.mark.parametrize("target_kind", KINDS)
def test_negotiation_export_reimports_identically(
    sources: dict[str, Database], target: Target, source_kind: str, target_kind: str
) -> None:
    source = sources[source_kind]
    first = archive.export_negotiation(source, symbol=SYMBOL)
    assert {name for name, rows in first["tables"].items() if not rows} == set()
    kinds = {e["kind"] for e in first["tables"]["events"]}
    assert {"amendment.position_cleared", "input.adopted", "silence.broken"} <= kinds

    into = target(target_kind)
    _another_negotiation(into)
    summary = archive.import_negotiation(into, json.loads(json.dumps(first)))
    assert summary.negotiation_id == 2
    assert summary.rows == {name: len(rows) for name, rows in first["tables"].items()}
    assert "eu.delegate" in summary.users_created

    second = archive.export_negotiation(into, symbol=SYMBOL)
    assert second == first

    # The same history, read through the application on both sides.
    [theirs] = [n for n in documents.list_negotiations(source) if n.symbol == SYMBOL]
    [ours] = [n for n in documents.list_negotiations(into) if n.symbol == SYMBOL]
    old_doc, new_doc = theirs.documents[0].id, ours.documents[0].id
    old_revisions = list_revisions(source, document_id=old_doc)
    new_revisions = list_revisions(into, document_id=new_doc)
    assert [r.name for r in new_revisions] == [r.name for r in old_revisions]
    for revision in old_revisions:
        before = get_revision(source, document_id=old_doc, ref=revision.name)
        after = get_revision(into, document_id=new_doc, ref=revision.name)
        assert len(after.entries) == len(before.entries) > 0
        for old, new in zip(before.entries, after.entries, strict=True):
            assert (old.label, old.text, old.version, old.kind, old.status, old.depth) == (
                new.label,
                new.text,
                new.version,
                new.kind,
                new.status,
                new.depth,
            )
        assert after.label_map == before.label_map and after.issued_on == before.issued_on
    old_text = documents.get_document(source, document_id=old_doc)
    new_text = documents.get_document(into, document_id=new_doc)
    assert [(p.label, p.text, p.status) for p in new_text.provisions] == [
        (p.label, p.text, p.status) for p in old_text.provisions
    ]
    accounts.authenticate(into, username="eu.delegate", password="eu-delegate-2016")


def test_import_refuses_what_it_cannot_take(
    sources: dict[str, Database], target: Target, tmp_path: Path
) -> None:
    exported = archive.export_negotiation(sources["sqlite"], symbol=SYMBOL)
    into = target("sqlite")
    before = rows_of(into)

    def refused(document: Any, message: str) -> None:
        with pytest.raises(ArchiveError, match=message):
            archive.import_negotiation(into, json.loads(json.dumps(document)))
        assert rows_of(into) == before

    refused({"hello": "world"}, "not a Rolltext negotiation export")
    refused([1, 2, 3], "not a Rolltext negotiation export")
    refused(exported | {"format_version": 7}, "format version 7")
    refused(
        exported | {"tables": {**exported["tables"], "spaceships": []}},
        "unknown table 'spaceships'",
    )
    strange = json.loads(json.dumps(exported))
    strange["tables"]["cofacilitators"][0]["delegation_id"] = "XXX"
    refused(strange, "delegations this database does not have: XXX")
    broken = json.loads(json.dumps(exported))
    broken["tables"]["provision_versions"][0]["provision_id"] = 9999
    refused(broken, "provision_versions.provision_id refers to provisions 9999")
    twice = json.loads(json.dumps(exported))
    twice["tables"]["provisions"][1]["id"] = twice["tables"]["provisions"][0]["id"]
    refused(twice, "rows of provisions without a unique id")
    undated = json.loads(json.dumps(exported))
    undated["tables"]["negotiations"][0]["created_at"] = "the day before yesterday"
    refused(undated, "damaged")
    naive = json.loads(json.dumps(exported))
    naive["tables"]["negotiations"][0]["created_at"] = "2016-12-05T10:00:00"
    refused(naive, "naive datetime")

    notes = tmp_path / "notes.json"
    notes.write_text("not json at all", encoding="utf-8")
    with pytest.raises(ArchiveError, match="not a Rolltext negotiation export"):
        archive.read_negotiation_file(notes)
    backup = tmp_path / "backup.jsonl"
    archive.backup_database(sources["sqlite"], backup)
    with pytest.raises(ArchiveError, match="not a Rolltext negotiation export"):
        archive.import_negotiation(into, archive.read_negotiation_file(backup))

    archive.import_negotiation(into, exported)
    with pytest.raises(ArchiveError, match=f"already has the negotiation '{SYMBOL}'"):
        archive.import_negotiation(into, exported)
    with pytest.raises(ArchiveError, match="There is no negotiation 'NOPE'"):
        archive.export_negotiation(into, symbol="NOPE")


def test_every_table_is_placed_in_or_out_of_a_negotiation() -> None:
    archive.check_coverage()
    placed = [name for name, _ in archive.SCOPE]
    assert len(placed) == len(set(placed))
    assert not set(placed) & (set(archive.SHARED) | archive.OUTSIDE)
