"""The `rolltext` command on both databases: demo, accounts, import, revisions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import get_settings
from app.db.session import Database
from app.domain.amendments import AmendmentState
from app.services import amendments, documents
from app.services.demo import demo_data
from tests.conftest import ROOT


@pytest.fixture
def cli(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ROLLTEXT_DATABASE_URL", database.url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_demo_loads_a_first_reading_once(cli: CliRunner, database: Database) -> None:
    first = cli.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo negotiation" in first.output
    for user in demo_data()["user"]:
        assert f"{user['username']}" in first.output and user["password"] in first.output
    second = cli.invoke(main, ["demo"])
    assert second.exit_code == 0 and "already loaded" in second.output

    [negotiation] = documents.list_negotiations(database)
    assert negotiation.cofacilitators == ("Mexico", "Switzerland")
    [summary] = negotiation.documents
    assert summary.title.startswith("Modalities for the intergovernmental negotiations")
    assert summary.latest_revision == "Rev.1"
    listed = amendments.list_amendments(database, document_id=summary.id, limit=1000)
    states = {a.state for a in listed}
    assert {
        AmendmentState.PENDING,
        AmendmentState.ACCEPTED,
        AmendmentState.BRACKETED,
        AmendmentState.REJECTED,
        AmendmentState.SUPERSEDED,
    } <= states
    assert len(listed) >= 30
    assert any(len(a.proponents) > 1 for a in listed), "a repeated wording joined as co-proponent"
    assert {"EU", "G77 and China"} <= {p for a in listed for p in a.proponents}
    text = documents.get_document(database, document_id=summary.id)
    headings = [p.text for p in text.provisions if p.kind == "heading"]
    assert "Scope of the Global Compact" in headings and "a) Timeline" in headings


def test_users_add_and_list(cli: CliRunner) -> None:
    result = cli.invoke(
        main,
        [
            "users",
            "add",
            "ana",
            "--name",
            "Ana Silva",
            "--role",
            "delegate",
            "--delegation",
            "BRA",
            "--group",
            "G77",
            "--password",
            "s3cret-passw0rd",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Added ana (delegate, BRA)." in result.output
    listed = cli.invoke(main, ["users", "list"])
    assert "ana" in listed.output and "speaks for G77" in listed.output


def test_import_text_and_revisions(cli: CliRunner, database: Database, tmp_path: Path) -> None:
    assert cli.invoke(main, ["demo"]).exit_code == 0
    draft = tmp_path / "draft.md"
    draft.write_text(
        "# A draft\n\nThe General Assembly,\n\n_Recalling_ its work,\n\n"
        "1. _Decides_ to continue;\n",
        encoding="utf-8",
    )
    symbol = demo_data()["negotiation"]["symbol"]
    result = cli.invoke(
        main,
        [
            "import-text",
            str(draft),
            "--negotiation",
            symbol,
            "--as",
            "secretariat",
            "--issued-on",
            "2017-01-10",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "(2 provisions, Zero draft)" in result.output
    document_id = int(result.output.split("Imported document ")[1].split(":")[0])
    listed = cli.invoke(main, ["revisions", str(document_id)])
    assert "Zero draft" in listed.output and "2017-01-10" in listed.output
    shown = cli.invoke(main, ["revisions", str(document_id), "--show", "0"])
    assert "PP1  Recalling its work," in shown.output
    assert "OP1  Decides to continue;" in shown.output
    bad = tmp_path / "bad.md"
    bad.write_text("no title here", encoding="utf-8")
    result = cli.invoke(
        main, ["import-text", str(bad), "--negotiation", symbol, "--as", "secretariat"]
    )
    assert result.exit_code != 0 and "Line 1" in result.output


def test_errors_are_messages_not_tracebacks(database: Database) -> None:
    env = {**os.environ, "ROLLTEXT_DATABASE_URL": database.url}
    done = subprocess.run(
        [sys.executable, "-m", "app", "revisions", "999"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: There is no document 999."


def test_import_docx_and_export(cli: CliRunner, database: Database, tmp_path: Path) -> None:
    assert cli.invoke(main, ["demo"]).exit_code == 0
    [summary] = documents.list_negotiations(database)[0].documents
    out = tmp_path / "clean.docx"
    result = cli.invoke(
        main, ["export", str(summary.id), "--kind", "clean", "--revision", "Rev.1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"
    preview = cli.invoke(
        main, ["import-docx", str(out), "--negotiation", "x", "--as", "x", "--preview"]
    )
    assert preview.exit_code == 0 and "heading: Scope of the Global Compact" in preview.output
    symbol = demo_data()["negotiation"]["symbol"]
    result = cli.invoke(
        main,
        [
            "import-docx",
            str(out),
            "--negotiation",
            symbol,
            "--as",
            "secretariat",
            "--revision-name",
            "From Word",
        ],
    )
    assert result.exit_code == 0, result.output
    imported = int(result.output.split("Imported document ")[1].split(":")[0])
    original = documents.get_document(database, document_id=summary.id)
    copy = documents.get_document(database, document_id=imported)
    assert [p.text for p in copy.provisions] == [p.text for p in original.provisions]
