"""The `rolltext` command: serve, load the demo, manage accounts, import drafts, list revisions."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click

from app.config import get_settings
from app.db.session import Database
from app.domain.errors import DomainError
from app.domain.outline import OutlineError, parse_outline
from app.domain.roles import Role


def _database() -> Database:
    return Database(get_settings().database_url)


@click.group()
def main() -> None:
    """Rolltext: negotiate the text of draft resolutions."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the workspace and the API."""
    import uvicorn

    click.echo(f"Rolltext on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    # Live pages hold a stream open: give them 3 s to close, then stop (Ctrl+C stays prompt).
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=3,
    )


@main.command()
def demo() -> None:
    """Load the demo negotiation (idempotent) and print the demo accounts."""
    from app.services.demo import load_demo

    result = load_demo(_database())
    if result.created:
        click.echo(f"Loaded the demo negotiation: {result.title}")
        click.echo(
            f"  {result.provisions} provisions, {result.proposals} proposals, "
            f"{result.decisions} decisions, revisions: {', '.join(result.revisions)}"
        )
    else:
        click.echo(f"The demo negotiation is already loaded: {result.title}")
    click.echo("\nDemo accounts (username / password — role, delegation):")
    for account in result.accounts:
        click.echo(
            f"  {account.username:<22} {account.password:<24} {account.role}"
            f"{', ' + account.delegation if account.delegation else ''}"
        )


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Full name shown to others.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--delegation", help="Delegation code (ISO 3166 alpha-3, or EU).")
@click.option("--group", "groups", multiple=True, help="Group the delegate may speak for.")
@click.password_option(help="Prompted for when not given.")
def users_add(
    username: str,
    display_name: str,
    role: str,
    delegation: str | None,
    groups: tuple[str, ...],
    password: str,
) -> None:
    """Add an account."""
    from app.services.accounts import create_user

    user = create_user(
        _database(),
        actor=None,
        username=username,
        display_name=display_name or username,
        role=Role(role),
        password=password,
        delegation=delegation,
        groups=groups,
    )
    where = f", {user.delegation}" if user.delegation else ""
    click.echo(f"Added {user.username} ({user.role.value}{where}).")


@users.command("list")
def users_list() -> None:
    """List accounts."""
    from app.services.accounts import list_users

    for user in list_users(_database()):
        groups = f" [speaks for {', '.join(user.groups)}]" if user.groups else ""
        click.echo(
            f"{user.username:<24} {user.role.value:<14} {user.delegation or '':<6} "
            f"{user.display_name}{groups}"
        )


@main.command("import-text")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--negotiation", "symbol", required=True, help="Symbol of the negotiation.")
@click.option("--as", "username", required=True, help="The secretariat or co-facilitator account.")
@click.option("--revision-name", default="Zero draft", show_default=True)
@click.option("--issued-on", type=click.DateTime(["%Y-%m-%d"]), default=None)
def import_text(
    file: Path, symbol: str, username: str, revision_name: str, issued_on: object
) -> None:
    """Import a draft from a plain-text / Markdown outline (see README)."""
    from app.services.accounts import actor_for_username
    from app.services.documents import find_negotiation, import_outline

    database = _database()
    try:
        outline = parse_outline(file.read_text(encoding="utf-8"))
    except (OutlineError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    negotiation = find_negotiation(database, symbol=symbol)
    document = import_outline(
        database,
        actor=actor_for_username(database, username=username),
        negotiation_id=negotiation.id,
        outline=outline,
        revision_name=revision_name,
        issued_on=issued_on.date() if issued_on else date.today(),  # type: ignore[attr-defined]
    )
    click.echo(
        f"Imported document {document.id}: {document.title} "
        f"({len(document.provisions)} provisions, {revision_name})."
    )


@main.command("import-docx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--negotiation", "symbol", required=True, help="Symbol of the negotiation.")
@click.option("--as", "username", required=True, help="The secretariat or co-facilitator account.")
@click.option("--revision-name", default="Zero draft", show_default=True)
@click.option("--issued-on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--preview", is_flag=True, help="Only show what is recognised; create nothing.")
def import_docx(
    file: Path,
    symbol: str,
    username: str,
    revision_name: str,
    issued_on: datetime | None,
    preview: bool,
) -> None:
    """Import a draft typed in Word (.docx): headings, lists, PP/OP, sub-paragraphs."""
    from app.services.accounts import actor_for_username
    from app.services.documents import find_negotiation
    from app.services.word_import import import_docx as import_word
    from app.services.word_import import preview_draft

    data = file.read_bytes()
    if preview:
        report = preview_draft(data)
        for line in (*report.recognised, *(f"warning: {w}" for w in report.warnings)):
            click.echo(line)
        return
    database = _database()
    negotiation = find_negotiation(database, symbol=symbol)
    document, report = import_word(
        database,
        actor=actor_for_username(database, username=username),
        negotiation_id=negotiation.id,
        data=data,
        revision_name=revision_name,
        issued_on=issued_on.date() if issued_on else date.today(),
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    click.echo(
        f"Imported document {document.id}: {document.title} "
        f"({len(document.provisions)} provisions, {revision_name})."
    )


@main.command()
@click.argument("document_id", type=int)
@click.option(
    "--kind",
    type=click.Choice(["clean", "compilation", "tracked", "comparison", "amendment-list"]),
    default="clean",
    show_default=True,
)
@click.option("--revision", help="Revision number or name (default: the rolling text).")
@click.option("--against", help="For a comparison: the earlier revision.")
@click.option("--unattributed", is_flag=True, help="Compilation without proponents' names.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export(
    document_id: int,
    kind: str,
    revision: str | None,
    against: str | None,
    unattributed: bool,
    output: Path | None,
) -> None:
    """Write a Word file for circulation."""
    from app.services.exports import ExportKind, export_document

    file = export_document(
        _database(),
        document_id=document_id,
        kind=ExportKind(kind),
        revision=revision,
        against=against,
        attributed=not unattributed,
    )
    target = output or Path(file.filename)
    target.write_bytes(file.content)
    click.echo(f"Wrote {target} ({len(file.content):,} bytes).")


@main.command()
@click.argument("document_id", type=int)
@click.option("--show", "ref", default=None, help="Print one revision (number or name).")
def revisions(document_id: int, ref: str | None) -> None:
    """List the revisions of a document, or print one."""
    from app.services.revisions import get_revision, list_revisions

    database = _database()
    if ref is None:
        for revision in list_revisions(database, document_id=document_id):
            renumbered = "renumbered" if revision.renumbered else "labels kept"
            click.echo(f"{revision.seq:>3}  {revision.name:<16} {revision.issued_on}  {renumbered}")
        return
    revision = get_revision(database, document_id=document_id, ref=ref)
    click.echo(f"{revision.name} ({revision.issued_on})\n")
    for entry in revision.entries:
        click.echo(f"{'  ' * entry.depth}{entry.label + '  ' if entry.label else ''}{entry.text}")
    changed = {old: new for old, new in revision.label_map.items() if old != new}
    if changed:
        click.echo("\nRenumbered:")
        for old, new in changed.items():
            click.echo(f"  {old} → {new or '(left the text)'}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write a consistent snapshot of the whole database to FILE (gzip if it ends in .gz)."""
    from app.services.archive import backup_database

    try:
        summary = backup_database(_database(), file)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"Backed up {summary.total:,} rows of {len(summary.rows)} tables "
        f"(schema {summary.alembic_revision}, {summary.dialect}) to {file}."
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Load a backup into an empty database migrated to the backup's schema revision."""
    from app.services.archive import restore_database

    try:
        summary = restore_database(_database(), file)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"Restored {summary.total:,} rows of {len(summary.rows)} tables from {file} "
        f"(taken on {summary.source_dialect}, schema {summary.alembic_revision})."
    )


@main.command("export-negotiation")
@click.argument("symbol")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_negotiation(symbol: str, output: Path | None) -> None:
    """Write one negotiation, with its history and event log, as JSON (stdout without -o)."""
    import json

    from app.services.archive import export_negotiation as export

    try:
        document = export(_database(), symbol=symbol)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    content = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if output is None:
        click.echo(content, nl=False)
        return
    output.write_text(content, encoding="utf-8")
    rows = sum(len(rows) for rows in document["tables"].values())
    click.echo(f"Wrote {symbol} to {output} ({rows:,} rows, {len(document['users'])} users).")


@main.command("import-negotiation")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_negotiation(file: Path) -> None:
    """Add a negotiation exported by export-negotiation (users are matched by username)."""
    from app.services.archive import import_negotiation as load
    from app.services.archive import read_negotiation_file

    try:
        summary = load(_database(), read_negotiation_file(file), reference_data=True)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    created = f", {len(summary.users_created)} users created" if summary.users_created else ""
    click.echo(
        f"Imported {summary.symbol} as negotiation {summary.negotiation_id} "
        f"({sum(summary.rows.values()):,} rows{created})."
    )


def run() -> None:
    """Entry point that shows domain errors as messages, not tracebacks."""
    try:
        main(standalone_mode=True)
    except DomainError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
