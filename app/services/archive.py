"""Nothing lost: whole-database backups, and one negotiation exported so it re-imports identically.

Two formats, both plain JSON so a person (or another program) can read them without Rolltext:

**Backup** (`rolltext backup FILE`): JSON Lines, gzip-compressed when FILE ends in `.gz`. The
first line is a header (`{"format": "rolltext-backup", "format_version": 1, "alembic_revision":
…}`); then, for every table in foreign-key order, a section line `{"table": NAME, "columns":
[…]}` followed by one JSON array per row; the last line is `{"end": true, "rows": {table: n}}`,
so a truncated file is detected. Values are lossless: datetimes as ISO 8601 with their UTC
offset, dates as ISO dates, JSON columns as JSON, booleans as booleans. The whole file is read in
ONE transaction (PostgreSQL: SERIALIZABLE READ ONLY DEFERRABLE; SQLite: one BEGIN on the WAL
snapshot), so it is consistent while the server keeps writing. It is written to FILE.partial and
renamed, so a crash never leaves a half backup under the final name.

A backup restores (`rolltext restore FILE`) into an empty database migrated to the same alembic
revision, in one transaction; SQLite and PostgreSQL backups are interchangeable. Columns that
close a foreign-key cycle (provisions.current_version_id, amendments.current_wording_id, …) are
inserted NULL and set once their target rows exist; PostgreSQL sequences are moved past max(id).

**Negotiation** (`rolltext export-negotiation SYMBOL`): one JSON document holding a negotiation
and everything in it. Ids are *local to the file* (1, 2, 3… per table, in the source's id order),
so it imports next to other negotiations; delegations and groups are referred to by code and
users by username (a missing user is created with its password hash). Import keeps the file's
order, so export → import → export gives the same document. The event log's soft references
(subject_id, before_id, after_id, ids inside `data`) are remapped through the tables below; an
event kind that carries ids this module does not know makes the export refuse rather than write
wrong references. A reference to a row that no longer exists (a position later taken back)
exports as null.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.types import TypeDecorator

from app.db.models import Base
from app.db.session import Database
from app.domain.errors import Invalid
from app.services.directory import load_reference_data
from app.timeutil import utcnow

BACKUP_FORMAT = "rolltext-backup"
NEGOTIATION_FORMAT = "rolltext-negotiation"
FORMAT_VERSION = 1
#: Shipped data (app/data): a fresh database may already hold it; a restore replaces it.
REFERENCE_TABLES = ("group_members", "groups", "delegations")
#: The line that loading them leaves in a fresh database's log: replaced, as they are, by the
#: backup's own.
REFERENCE_EVENTS = ("directory.updated",)
BATCH = 1000


class ArchiveError(Invalid):
    """A file that is not what it claims, or a target database that cannot take it."""


# -- values -----------------------------------------------------------------------------------


def encode_value(value: Any) -> Any:
    """A column value as JSON, losslessly (the column type tells how to read it back)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    raise TypeError(f"cannot archive a {type(value).__name__}")


def _same(value: Any) -> Any:
    return value


def _datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def decoder(column: Column[Any]) -> Callable[[Any], Any]:
    """How to turn the JSON form of this column back into what its type binds."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        return _datetime
    if isinstance(kind, Date):
        return _date
    return _same


# -- database helpers -------------------------------------------------------------------------


def tables() -> list[Table]:
    """Every table of the application, parents before children (cycles are broken by NULLs)."""
    return list(Base.metadata.sorted_tables)


@contextmanager
def snapshot(database: Database) -> Iterator[Connection]:
    """One read transaction that sees a single consistent state, whatever others commit."""
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            conn.execution_options(
                isolation_level="SERIALIZABLE",
                postgresql_readonly=True,
                postgresql_deferrable=True,
            )
        with conn.begin():
            yield conn


@contextmanager
def _write_transaction(database: Database) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite, like `Database.write`)."""
    with database.engine.connect() as conn:
        conn.execution_options(rolltext_write=True)
        try:
            with conn.begin():
                yield conn
        except StatementError as exc:
            raise ArchiveError(
                f"The database refused the data, nothing was written: {exc.orig or exc}"
            ) from exc


def schema_revision(conn: Connection) -> str | None:
    """The alembic revision the database is migrated to (None: not migrated)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    revisions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(revisions)) or None


def _check_schema(conn: Connection, wanted: Iterable[Table]) -> None:
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    for table in wanted:
        if table.name not in present:
            raise ArchiveError(
                f"The database has no table {table.name!r}: migrate it first "
                "(alembic upgrade head)."
            )
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in columns]
        if missing:
            raise ArchiveError(
                f"The table {table.name!r} has no column {', '.join(missing)}: migrate the "
                "database first (alembic upgrade head)."
            )


def _require_revision(conn: Connection) -> str:
    revision = schema_revision(conn)
    if revision is None:
        raise ArchiveError("The database is not migrated: run `alembic upgrade head` first.")
    return revision


def _reset_sequences(conn: Connection, wanted: Iterable[Table]) -> None:
    """PostgreSQL hands out ids from sequences: move each one past the largest restored id."""
    quote = conn.dialect.identifier_preparer.quote
    for table in wanted:
        key = _integer_key(table)
        if key is None:
            continue
        name, column = quote(table.name), quote(key.name)
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE((SELECT max({column}) FROM {name}), 1), "
                f"(SELECT max({column}) FROM {name}) IS NOT NULL)"
            ),
            {"table": name, "column": key.name},
        )


def _integer_key(table: Table) -> Column[Any] | None:
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement:
        return keys[0]
    return None


# -- files ------------------------------------------------------------------------------------


@contextmanager
def _open_for_writing(path: Path) -> Iterator[IO[str]]:
    """Write to PATH.partial, then rename: a crash never leaves half a file under PATH."""
    partial = path.with_name(path.name + ".partial")
    try:
        with _text_writer(partial, compress=path.name.endswith(".gz")) as out:
            yield out
            out.flush()
        with partial.open("rb") as done:
            os.fsync(done.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _text_writer(path: Path, *, compress: bool) -> IO[str]:
    if compress:
        return gzip.open(path, "wt", encoding="utf-8")
    return path.open("w", encoding="utf-8")


def _read_text(path: Path) -> IO[str]:
    """A text stream over PATH, gzip or not (recognised by its first bytes, not its name)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


# -- backup and restore -----------------------------------------------------------------------


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    alembic_revision: str
    dialect: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def backup_database(database: Database, path: Path) -> BackupSummary:
    """Write a consistent snapshot of every table (and the event log) to PATH."""
    wanted = tables()
    counts: dict[str, int] = {}
    with snapshot(database) as conn, _open_for_writing(path) as out:
        revision = _require_revision(conn)
        _check_schema(conn, wanted)
        out.write(
            _json_line(
                {
                    "format": BACKUP_FORMAT,
                    "format_version": FORMAT_VERSION,
                    "alembic_revision": revision,
                    "dialect": database.dialect,
                    "taken_at": utcnow().isoformat(),
                    "tables": [t.name for t in wanted],
                }
            )
        )
        for table in wanted:
            out.write(_json_line({"table": table.name, "columns": [c.name for c in table.c]}))
            rows = conn.execute(
                select(table).order_by(*table.primary_key.columns),
                execution_options={"yield_per": BATCH},
            )
            count = 0
            for row in rows:
                out.write(_json_line([encode_value(v) for v in row]))
                count += 1
            counts[table.name] = count
        out.write(_json_line({"end": True, "rows": counts}))
    return BackupSummary(path, revision, database.dialect, counts)


@dataclass(frozen=True)
class RestoreSummary:
    alembic_revision: str
    source_dialect: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def restore_database(database: Database, path: Path) -> RestoreSummary:
    """Load a backup into an empty database at the same alembic revision; all or nothing."""
    try:
        stream = _read_text(path)
    except OSError as exc:
        raise ArchiveError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    with stream as lines:
        records = _backup_records(path, lines)
        header = next(records, None)
        if not isinstance(header, dict) or header.get("format") != BACKUP_FORMAT:
            raise ArchiveError(f"{path} is not a Rolltext backup (made by `rolltext backup`).")
        if header.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(
                f"{path} is a backup in format version {header.get('format_version')}; "
                f"this Rolltext reads version {FORMAT_VERSION}."
            )
        with _write_transaction(database) as conn:
            revision = _require_revision(conn)
            if revision != header.get("alembic_revision"):
                raise ArchiveError(
                    f"The backup was taken at schema revision {header.get('alembic_revision')}, "
                    f"the target database is at {revision}: migrate the target to the backup's "
                    "revision (alembic upgrade/downgrade) before restoring."
                )
            wanted = tables()
            _require_empty(conn, wanted)
            for name in REFERENCE_TABLES:
                conn.execute(Base.metadata.tables[name].delete())
            conn.execute(_delete_reference_events(Base.metadata.tables["events"]))
            loader = _TableLoader(conn)
            counts = loader.load(path, records)
            missing = [t.name for t in wanted if t.name not in counts]
            if missing:
                raise ArchiveError(f"{path} has no section for {', '.join(missing)}.")
            if database.dialect == "postgresql":
                _reset_sequences(conn, wanted)
    return RestoreSummary(revision, str(header.get("dialect")), counts)


def _backup_records(path: Path, lines: IO[str]) -> Iterator[Any]:
    number = 1
    try:
        for number, line in enumerate(lines, start=1):  # noqa: B007 - used in the message
            if line.strip():
                yield json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        if number == 1:
            raise ArchiveError(f"{path} is not a Rolltext backup ({exc}).") from exc
        raise ArchiveError(f"{path} is damaged near line {number}: {exc}.") from exc


def _delete_reference_events(events: Table) -> Any:
    return events.delete().where(events.c.kind.in_(REFERENCE_EVENTS))


def _require_empty(conn: Connection, wanted: Iterable[Table]) -> None:
    filled = []
    for table in wanted:
        if table.name in REFERENCE_TABLES:
            continue
        rows = select(func.count()).select_from(table)
        if table.name == "events":
            rows = rows.where(table.c.kind.not_in(REFERENCE_EVENTS))
        count = conn.execute(rows).scalar_one()
        if count:
            filled.append(f"{table.name}: {count} row{'s' if count > 1 else ''}")
    if filled:
        raise ArchiveError(
            "The target database is not empty ("
            + ", ".join(filled[:5])
            + (", …" if len(filled) > 5 else "")
            + "). Restore only into a freshly migrated database; nothing was changed."
        )


class _TableLoader:
    """Inserts a backup's sections; columns that point forward are set once targets exist."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.done: set[str] = set()
        self.counts: dict[str, int] = {}
        self.pending: list[tuple[Table, list[str], list[dict[str, Any]]]] = []

    def load(self, path: Path, records: Iterator[Any]) -> dict[str, int]:
        table: Table | None = None
        columns: list[Column[Any]] = []
        decoders: list[Callable[[Any], Any]] = []
        deferred: list[str] = []
        batch: list[dict[str, Any]] = []
        later: list[dict[str, Any]] = []
        ended: dict[str, Any] | None = None
        for record in records:
            if ended is not None:
                raise ArchiveError(f"{path} goes on after its end marker.")
            if isinstance(record, list):
                if table is None or len(record) != len(columns):
                    raise ArchiveError(f"{path} is damaged: a row does not fit its table.")
                try:
                    values = {
                        c.name: d(v) for c, d, v in zip(columns, decoders, record, strict=True)
                    }
                except (TypeError, ValueError) as exc:
                    raise ArchiveError(f"{path} is damaged: {table.name}: {exc}.") from exc
                if deferred:
                    if any(values[name] is not None for name in deferred):
                        later.append(
                            {"k_" + k.name: values[k.name] for k in table.primary_key.columns}
                            | {"v_" + name: values[name] for name in deferred}
                        )
                    for name in deferred:
                        values[name] = None
                batch.append(values)
                if len(batch) >= BATCH:
                    self._insert(table, batch)
                    batch = []
                continue
            if not isinstance(record, dict):
                raise ArchiveError(f"{path} is damaged: unexpected {type(record).__name__}.")
            if table is not None:
                self._finish(table, batch, deferred, later)
                table, batch, later = None, [], []
            if record.get("end"):
                ended = record
                continue
            table, columns = self._section(path, record)
            decoders = [decoder(c) for c in columns]
            deferred = self._deferred(table)
            self.counts[table.name] = 0
        if table is not None:
            self._finish(table, batch, deferred, later)
        if ended is None:
            raise ArchiveError(f"{path} is incomplete (no end marker): the backup was cut short.")
        if ended.get("rows") != self.counts:
            raise ArchiveError(f"{path} is damaged: its row counts do not match its contents.")
        if self.pending:
            names = ", ".join(t.name for t, _, _ in self.pending)
            raise ArchiveError(f"{path} is damaged: {names} refer to tables it does not hold.")
        return self.counts

    def _section(self, path: Path, record: dict[str, Any]) -> tuple[Table, list[Column[Any]]]:
        name = record.get("table")
        table = Base.metadata.tables.get(name) if isinstance(name, str) else None
        if table is None:
            raise ArchiveError(f"{path} has a table this Rolltext does not know: {name!r}.")
        if name in self.done:
            raise ArchiveError(f"{path} is damaged: the table {name} appears twice.")
        names = record.get("columns")
        if not isinstance(names, list) or sorted(names) != sorted(c.name for c in table.c):
            raise ArchiveError(
                f"The table {name} in {path} does not have the columns this Rolltext expects."
            )
        return table, [table.c[n] for n in names]

    def _deferred(self, table: Table) -> list[str]:
        """Foreign keys to this table or to one not loaded yet: inserted NULL, set later."""
        return [
            column.name
            for column in table.columns
            if any(
                k.column.table.name == table.name or k.column.table.name not in self.done
                for k in column.foreign_keys
            )
        ]

    def _insert(self, table: Table, batch: list[dict[str, Any]]) -> None:
        if batch:
            self.conn.execute(insert(table), batch)
            self.counts[table.name] += len(batch)

    def _finish(
        self,
        table: Table,
        batch: list[dict[str, Any]],
        deferred: list[str],
        later: list[dict[str, Any]],
    ) -> None:
        self._insert(table, batch)
        self.done.add(table.name)
        if later:
            self.pending.append((table, deferred, later))
        still = []
        for pending_table, names, rows in self.pending:
            targets = {k.column.table.name for n in names for k in pending_table.c[n].foreign_keys}
            if not targets <= self.done:
                still.append((pending_table, names, rows))
                continue
            keys = pending_table.primary_key.columns
            statement = (
                update(pending_table)
                .where(*(k == bindparam("k_" + k.name) for k in keys))
                .values({n: bindparam("v_" + n) for n in names})
            )
            for start in range(0, len(rows), BATCH):
                self.conn.execute(statement, rows[start : start + BATCH])
        self.pending = still


# -- one negotiation --------------------------------------------------------------------------

#: The tables a negotiation owns, parents first, each with the column that ties it to its parent.
SCOPE: tuple[tuple[str, str | None], ...] = (
    ("negotiations", None),
    ("cofacilitators", "negotiation_id"),
    ("documents", "negotiation_id"),
    ("provisions", "document_id"),
    ("provision_versions", "provision_id"),
    ("amendments", "document_id"),
    ("amendment_wordings", "amendment_id"),
    ("proponents", "amendment_id"),
    ("positions", "amendment_id"),
    ("revisions", "document_id"),
    ("revision_entries", "revision_id"),
    ("rounds", "document_id"),
    ("late_submissions", "round_id"),
    ("silences", "document_id"),
    ("silence_breaks", "silence_id"),
    ("stakeholder_inputs", "document_id"),
    ("meetings", "negotiation_id"),
    ("meeting_links", "meeting_id"),
    ("events", "negotiation_id"),  # and every event of its documents
)
#: Shared by all negotiations, matched by a natural key instead of an id.
SHARED = {"delegations": "code", "groups": "code", "users": "username"}
#: Neither in a negotiation nor referred to by one (group_authorisations travel with users).
OUTSIDE = frozenset(
    {"group_members", "group_authorisations", "api_tokens", "sign_in_failures", "user_sessions"}
)
#: User columns that only mean something in the database they come from.
USER_LOCAL_COLUMNS = frozenset({"id", "seen_event_id"})

#: The table an event's subject_id points into, by its `subject`.
EVENT_SUBJECTS = {
    "negotiation": "negotiations",
    "document": "documents",
    "provision": "provisions",
    "amendment": "amendments",
    "revision": "revisions",
    "round": "rounds",
    "silence": "silences",
    "input": "stakeholder_inputs",
    "meeting": "meetings",
    "user": "users",
}
_VERSIONS = ("provision_versions", "provision_versions")
#: The tables an event's before_id / after_id point into, by its kind.
EVENT_LINKS: dict[str, tuple[str | None, str | None]] = {
    "amendment.proposed": (None, "amendment_wordings"),
    "amendment.revised": ("amendment_wordings", "amendment_wordings"),
    "amendment.support": ("positions", None),
    "amendment.oppose": ("positions", None),
    "amendment.position_cleared": ("positions", None),
    "amendment.accepted": _VERSIONS,
    "amendment.bracketed": _VERSIONS,
    "amendment.rejected": _VERSIONS,
    "provision.cf_proposal": _VERSIONS,
    "provision.brackets_resolved": _VERSIONS,
}
#: Ids inside an event's `data` (a number or a list of numbers), by key.
EVENT_DATA_LINKS = {
    "provision_id": "provisions",
    "amendment_id": "amendments",
    "document_id": "documents",
    "revision_id": "revisions",
    "round_id": "rounds",
    "silence_id": "silences",
    "input_id": "stakeholder_inputs",
    "alternative_to": "provisions",
    "dropped": "provisions",
    "superseded": "amendments",
}


def check_coverage() -> None:
    """Every table is in a negotiation, shared, or outside: a new table must be placed here."""
    known = {name for name, _ in SCOPE} | set(SHARED) | OUTSIDE
    unplaced = sorted(set(Base.metadata.tables) - known)
    if unplaced:
        raise ArchiveError(
            f"The negotiation export does not know the table(s) {', '.join(unplaced)}; "
            "place them in SCOPE, SHARED or OUTSIDE in app/services/archive.py."
        )


def _has_id(table: Table) -> bool:
    return "id" in table.c and table.c.id.primary_key


@dataclass(frozen=True)
class ImportSummary:
    negotiation_id: int
    symbol: str
    rows: dict[str, int]
    users_created: tuple[str, ...]


def export_negotiation(database: Database, *, symbol: str) -> dict[str, Any]:
    """The negotiation SYMBOL and everything in it, as one JSON document (see module doc)."""
    check_coverage()
    with snapshot(database) as conn:
        revision = _require_revision(conn)
        negotiations = Base.metadata.tables["negotiations"]
        negotiation_id = conn.scalar(
            select(negotiations.c.id).where(negotiations.c.symbol == symbol)
        )
        if negotiation_id is None:
            raise ArchiveError(f"There is no negotiation {symbol!r}.")
        document = _Exporter(conn, negotiation_id).run()
    return {
        "format": NEGOTIATION_FORMAT,
        "format_version": FORMAT_VERSION,
        "alembic_revision": revision,
        "negotiation": symbol,
        **document,
    }


class _Exporter:
    """Reads a negotiation's rows and writes them with file-local ids and natural keys."""

    def __init__(self, conn: Connection, negotiation_id: int) -> None:
        self.conn = conn
        self.negotiation_id = negotiation_id
        self.local: dict[str, dict[int, int]] = {}
        self.natural: dict[str, dict[int, str]] = {}
        self.used: dict[str, set[str]] = {name: set() for name in SHARED}

    def run(self) -> dict[str, Any]:
        for name, key in SHARED.items():
            table = Base.metadata.tables[name]
            self.natural[name] = dict(self.conn.execute(select(table.c.id, table.c[key])).all())
        rows: dict[str, list[Any]] = {}
        for name, parent in SCOPE:
            table = Base.metadata.tables[name]
            order = list(table.primary_key.columns)
            found = list(self.conn.execute(self._selection(name, parent).order_by(*order)))
            if _has_id(table):
                self.local[name] = {row.id: n for n, row in enumerate(found, start=1)}
            rows[name] = found
        tables_out: dict[str, list[dict[str, Any]]] = {}
        for name, _ in SCOPE:
            table = Base.metadata.tables[name]
            out = [self._row(table, row._mapping) for row in rows[name]]
            if not _has_id(table):
                out.sort(key=lambda r: json.dumps(r, sort_keys=True))
            tables_out[name] = out
        users = self._users()
        return {
            "delegations": sorted(self.used["delegations"]),
            "groups": sorted(self.used["groups"]),
            "users": users,
            "tables": tables_out,
        }

    def _selection(self, name: str, parent: str | None) -> Select[Any]:
        table = Base.metadata.tables[name]
        if parent is None:
            return select(table).where(table.c.id == self.negotiation_id)
        if name == "events":
            return select(table).where(
                or_(
                    table.c.negotiation_id == self.negotiation_id,
                    table.c.document_id.in_(self._ids("documents", "negotiation_id")),
                )
            )
        [key] = table.c[parent].foreign_keys
        target = key.column.table.name
        parent_of_target = dict(SCOPE)[target]
        return select(table).where(table.c[parent].in_(self._ids(target, parent_of_target)))

    def _ids(self, name: str, parent: str | None) -> Select[Any]:
        """The ids of the negotiation's rows in NAME, as a subquery."""
        table = Base.metadata.tables[name]
        if parent is None:
            return select(table.c.id).where(table.c.id == self.negotiation_id)
        [key] = table.c[parent].foreign_keys
        target = key.column.table.name
        return select(table.c.id).where(table.c[parent].in_(self._ids(target, dict(SCOPE)[target])))

    def _row(self, table: Table, row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column in table.columns:
            value = row[column.name]
            if column.primary_key and column.name == "id":
                out["id"] = self.local[table.name][value]
            elif column.foreign_keys:
                out[column.name] = self._reference(table, column, value)
            else:
                out[column.name] = encode_value(value)
        if table.name == "events":
            self._event_links(row, out)
        return out

    def _reference(self, table: Table, column: Column[Any], value: int | None) -> Any:
        if value is None:
            return None
        [key] = column.foreign_keys
        target = key.column.table.name
        if target in SHARED:
            natural = self.natural[target][value]
            self.used[target].add(natural)
            return natural
        if target not in self.local:
            raise ArchiveError(
                f"{table.name}.{column.name} refers to {target}, which the negotiation export "
                "does not carry; place it in app/services/archive.py."
            )
        local = self.local[target].get(value)
        if local is None:
            raise ArchiveError(
                f"{table.name}.{column.name} = {value} refers to a row of {target} outside "
                "this negotiation; it cannot be exported on its own."
            )
        return local

    def _soft(self, target: str, value: Any) -> Any:
        """A reference without a foreign key: its local id, or None if the row is gone."""
        if value is None:
            return None
        if target in SHARED:
            natural = self.natural[target].get(value)
            if natural is not None:
                self.used[target].add(natural)
            return natural
        return self.local[target].get(value)

    def _event_links(self, row: Any, out: dict[str, Any]) -> None:
        kind, subject = row["kind"], row["subject"]
        if row["subject_id"] is not None:
            if subject not in EVENT_SUBJECTS:
                raise ArchiveError(
                    f"Events of subject {subject!r} ({kind}) refer to rows the negotiation export "
                    "cannot map; add the subject to EVENT_SUBJECTS in app/services/archive.py."
                )
            out["subject_id"] = self._soft(EVENT_SUBJECTS[subject], row["subject_id"])
        links = EVENT_LINKS.get(kind)
        for index, column in enumerate(("before_id", "after_id")):
            if row[column] is None:
                continue
            target = links[index] if links else None
            if target is None:
                raise ArchiveError(
                    f"Events of kind {kind!r} carry a {column} the negotiation export cannot map; "
                    "add the kind to EVENT_LINKS in app/services/archive.py."
                )
            out[column] = self._soft(target, row[column])
        data = dict(out["data"] or {})
        for key, value in data.items():
            target = EVENT_DATA_LINKS.get(key)
            if target is None:
                if key.endswith("_id") and isinstance(value, int):
                    raise ArchiveError(
                        f"Events of kind {kind!r} carry {key} in their data, which the "
                        "negotiation export cannot map; add it to EVENT_DATA_LINKS."
                    )
                continue
            if isinstance(value, list):
                data[key] = [self._soft(target, v) for v in value]
            else:
                data[key] = self._soft(target, value)
        out["data"] = data

    def _users(self) -> list[dict[str, Any]]:
        users = Base.metadata.tables["users"]
        authorisations = Base.metadata.tables["group_authorisations"]
        groups = Base.metadata.tables["groups"]
        names = sorted(self.used["users"])
        found = self.conn.execute(select(users).where(users.c.username.in_(names))).all()
        speaks: dict[int, list[str]] = {}
        for user_id, code in self.conn.execute(
            select(authorisations.c.user_id, groups.c.code)
            .join(groups, authorisations.c.group_id == groups.c.id)
            .where(authorisations.c.user_id.in_([row.id for row in found]))
        ):
            speaks.setdefault(user_id, []).append(code)
        out = []
        for row in sorted(found, key=lambda r: r.username):
            record = {
                c.name: (
                    self._reference(users, c, row._mapping[c.name])
                    if c.foreign_keys
                    else encode_value(row._mapping[c.name])
                )
                for c in users.columns
                if c.name not in USER_LOCAL_COLUMNS
            }
            record["groups"] = sorted(speaks.get(row.id, []))
            self.used["groups"].update(record["groups"])
            out.append(record)
        return out


def import_negotiation(
    database: Database, document: Any, *, reference_data: bool = False
) -> ImportSummary:
    """Add an exported negotiation to this database, in one transaction; all or nothing.

    `reference_data` first adds the shipped delegations and groups a fresh database lacks.
    """
    check_coverage()
    _validate_negotiation(document)
    if reference_data:
        with snapshot(database) as conn:
            _require_revision(conn)
        load_reference_data(database)
    try:
        with _write_transaction(database) as conn:
            _require_revision(conn)
            return _Importer(conn, document).run()
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(
            f"The negotiation export is damaged ({exc!r}); nothing was imported."
        ) from exc


def read_negotiation_file(path: Path) -> Any:
    """The JSON document in PATH, or a clear refusal."""
    try:
        with _read_text(path) as stream:
            return json.load(stream)
    except OSError as exc:
        raise ArchiveError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveError(
            f"{path} is not a Rolltext negotiation export (it is not valid JSON: {exc})."
        ) from exc


def _validate_negotiation(document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != NEGOTIATION_FORMAT:
        raise ArchiveError(
            "This is not a Rolltext negotiation export (made by `rolltext export-negotiation`)."
        )
    if document.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(
            f"This negotiation export is in format version {document.get('format_version')}; "
            f"this Rolltext reads version {FORMAT_VERSION}."
        )
    problems = []
    if not isinstance(document.get("negotiation"), str):
        problems.append("no negotiation symbol")
    if not isinstance(document.get("users"), list) or not all(
        isinstance(u, dict) and isinstance(u.get("username"), str) for u in document["users"]
    ):
        problems.append("no valid user list")
    tables_in = document.get("tables")
    if not isinstance(tables_in, dict):
        problems.append("no tables")
    else:
        scoped = dict(SCOPE)
        for name, rows in tables_in.items():
            if name not in scoped:
                problems.append(f"an unknown table {name!r}")
            elif not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                problems.append(f"a malformed table {name!r}")
            else:
                table = Base.metadata.tables[name]
                unknown = sorted({c for r in rows for c in r} - set(table.c.keys()))
                if unknown:
                    problems.append(f"columns {name}.{', '.join(unknown)} this Rolltext lacks")
                ids = [r.get("id") for r in rows]
                if _has_id(table) and (
                    not all(isinstance(i, int) for i in ids) or len(set(ids)) != len(ids)
                ):
                    problems.append(f"rows of {name} without a unique id")
        if len(tables_in.get("negotiations") or []) != 1:
            problems.append("not exactly one negotiation")
    for name in ("delegations", "groups"):
        codes = document.get(name, [])
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            problems.append(f"a malformed list of {name}")
    if problems:
        raise ArchiveError("The negotiation export is damaged: " + "; ".join(problems) + ".")


class _Importer:
    """Inserts a negotiation export in SCOPE order, mapping local ids to the new ones."""

    def __init__(self, conn: Connection, document: dict[str, Any]) -> None:
        self.conn = conn
        self.document = document
        self.new: dict[str, dict[int, int]] = {}
        self.natural: dict[str, dict[str, int]] = {}
        #: Forward references (table, column, new row id, target table, local id), set last.
        self.pending: list[tuple[Table, str, int, str, Any]] = []
        self.counts: dict[str, int] = {}

    def run(self) -> ImportSummary:
        symbol = self.document["negotiation"]
        negotiations = Base.metadata.tables["negotiations"]
        if self.conn.scalar(select(negotiations.c.id).where(negotiations.c.symbol == symbol)):
            raise ArchiveError(
                f"This database already has the negotiation {symbol!r}; nothing was imported."
            )
        for name in ("delegations", "groups"):
            self.natural[name] = self._lookup(name, self._codes(name))
        created = self._users()
        tables_in = self.document["tables"]
        for name, _ in SCOPE:
            self._table(Base.metadata.tables[name], tables_in.get(name) or [])
        for table, column, row_id, target, value in self.pending:
            self.conn.execute(
                update(table)
                .where(table.c.id == row_id)
                .values({column: self._map(table, column, target, value)})
            )
        [negotiation_id] = self.new["negotiations"].values()
        return ImportSummary(negotiation_id, symbol, self.counts, created)

    def _codes(self, name: str) -> set[str]:
        """Every code of NAME (delegations or groups) the file uses, in its lists and rows."""
        codes = set(self.document.get(name) or [])
        if name == "groups":
            for user in self.document["users"]:
                codes.update(user.get("groups") or [])
        sections = [("users", self.document["users"]), *self.document["tables"].items()]
        for table_name, rows in sections:
            for column in Base.metadata.tables[table_name].columns:
                if any(k.column.table.name == name for k in column.foreign_keys):
                    codes.update(r[column.name] for r in rows if r.get(column.name) is not None)
        return codes

    def _lookup(self, name: str, codes: set[str]) -> dict[str, int]:
        table = Base.metadata.tables[name]
        key = table.c[SHARED[name]]
        found = dict(self.conn.execute(select(key, table.c.id).where(key.in_(sorted(codes)))).all())
        missing = sorted(codes - set(found))
        if missing:
            raise ArchiveError(
                f"The export refers to {name} this database does not have: {', '.join(missing)}. "
                "Load the reference data (rolltext demo, or app.services.directory) first."
            )
        return found

    def _users(self) -> tuple[str, ...]:
        users = Base.metadata.tables["users"]
        authorisations = Base.metadata.tables["group_authorisations"]
        listed = {u["username"]: u for u in self.document["users"]}
        existing = dict(
            self.conn.execute(
                select(users.c.username, users.c.id).where(users.c.username.in_(sorted(listed)))
            ).all()
        )
        created = []
        for username in sorted(set(listed) - set(existing)):
            record = listed[username]
            values: dict[str, Any] = {}
            for column in users.columns:
                if column.name in USER_LOCAL_COLUMNS or column.name not in record:
                    continue
                value = record[column.name]
                if column.foreign_keys:
                    [key] = column.foreign_keys
                    target = key.column.table.name
                    values[column.name] = None if value is None else self.natural[target][value]
                else:
                    values[column.name] = decoder(column)(value)
            try:
                user_id = self.conn.execute(
                    insert(users).returning(users.c.id), values
                ).scalar_one()
            except DBAPIError as exc:
                raise ArchiveError(
                    f"The user {username!r} in the export cannot be created: {exc.orig or exc}"
                ) from exc
            for code in record.get("groups") or []:
                self.conn.execute(
                    insert(authorisations).values(
                        user_id=user_id, group_id=self.natural["groups"][code]
                    )
                )
            existing[username] = user_id
            created.append(username)
        self.natural["users"] = existing
        return tuple(created)

    def _table(self, table: Table, rows: list[dict[str, Any]]) -> None:
        has_id = _has_id(table)
        if has_id:
            rows = sorted(rows, key=lambda r: r["id"])
        loaded = set(self.new)
        values_list = []
        forward: list[tuple[int, str, str, Any]] = []
        for index, row in enumerate(rows):
            values: dict[str, Any] = {}
            for column in table.columns:
                if column.name == "id" and has_id:
                    continue
                if column.name not in row:
                    continue
                value = row[column.name]
                if column.foreign_keys:
                    [key] = column.foreign_keys
                    target = key.column.table.name
                    if (
                        value is not None
                        and target not in SHARED
                        and (target == table.name or target not in loaded)
                    ):
                        forward.append((index, column.name, target, value))
                        value = None
                    else:
                        value = self._map(table, column.name, target, value)
                else:
                    value = decoder(column)(value)
                values[column.name] = value
            if table.name == "events":
                self._event_links(values)
            values_list.append(values)
        new_ids: list[int] = []
        if values_list:
            if has_id:
                result = self.conn.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    values_list,
                )
                new_ids = list(result.scalars())
            else:
                self.conn.execute(insert(table), values_list)
        if has_id:
            self.new[table.name] = {row["id"]: new for row, new in zip(rows, new_ids, strict=True)}
        self.counts[table.name] = len(values_list)
        for index, name, target, value in forward:
            self.pending.append((table, name, new_ids[index], target, value))

    def _map(self, table: Table, column: str, target: str, value: Any) -> Any:
        if value is None:
            return None
        mapping = self.natural.get(target) if target in SHARED else self.new.get(target)
        found = None if mapping is None else mapping.get(value)
        if found is None:
            raise ArchiveError(
                f"The negotiation export is damaged: {table.name}.{column} refers to "
                f"{target} {value!r}, which it does not hold."
            )
        return found

    def _soft(self, target: str, value: Any) -> Any:
        if value is None:
            return None
        mapping = self.natural.get(target) if target in SHARED else self.new.get(target, {})
        return (mapping or {}).get(value)

    def _event_links(self, values: dict[str, Any]) -> None:
        subject, kind = values.get("subject"), values.get("kind")
        if values.get("subject_id") is not None and subject in EVENT_SUBJECTS:
            values["subject_id"] = self._soft(EVENT_SUBJECTS[subject], values["subject_id"])
        links = EVENT_LINKS.get(str(kind))
        for index, column in enumerate(("before_id", "after_id")):
            target = links[index] if links else None
            if values.get(column) is not None and target is not None:
                values[column] = self._soft(target, values[column])
        data = dict(values.get("data") or {})
        for key, value in data.items():
            target = EVENT_DATA_LINKS.get(key)
            if target is None:
                continue
            if isinstance(value, list):
                data[key] = [self._soft(target, v) for v in value]
            else:
                data[key] = self._soft(target, value)
        values["data"] = data
