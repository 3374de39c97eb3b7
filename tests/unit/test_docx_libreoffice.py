"""The exports in a real word processor: LibreOffice opens every one of them, and a file of
tracked changes survives docx -> odt -> docx with its revisions, authors and dates.

LibreOffice is a required test dependency (the Makefile installs it): these tests fail, never
skip, when `soffice` is missing. Conversions are batched (one soffice start per format) to
keep the run short.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.docx import accept_all, reject_all
from tests.unit.test_docx_exports import export
from tests.unit.test_docx_samples import NS, part, revisions

KINDS = (
    "clean",
    "clean-elements",
    "compilation",
    "compilation-unattributed",
    "compilation-overlapping",
    "tracked",
    "tracked-overlapping",
    "tracked-elements",
    "comparison",
    "amendment-list",
)


@pytest.fixture(scope="module")
def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        pytest.fail(
            "LibreOffice is not installed: run `make system-deps` "
            "(apt-get install libreoffice-writer-nogui fonts-liberation)."
        )
    return path


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A LibreOffice user profile of our own: no clash with a running instance."""
    return tmp_path_factory.mktemp("lo-profile").as_uri()


def convert(soffice: str, profile: str, target: str, files: list[Path], out: Path) -> None:
    result = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile}",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr, result.stderr


def test_libreoffice_opens_every_export(soffice: str, profile: str, tmp_path: Path) -> None:
    files = []
    for kind in KINDS:
        path = tmp_path / f"{kind}.docx"
        path.write_bytes(export(kind))
        files.append(path)
    out = tmp_path / "pdf"
    convert(soffice, profile, "pdf", files, out)
    for kind in KINDS:
        pdf = out / f"{kind}.pdf"
        assert pdf.exists(), f"LibreOffice could not open {kind}.docx"
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and re.search(rb"/Type\s*/Page\b", data), kind


def _strip_trailing_empty(lines: list[str]) -> list[str]:
    """Word and LibreOffice never mark the last paragraph mark: where ours is inserted or
    deleted, they keep an empty last paragraph instead."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def _marks(data: bytes) -> set[tuple[str, str | None]]:
    body = part(data, "word/document.xml")
    found = body.xpath("//w:ins | //w:del | //w:moveFrom | //w:moveTo", namespaces=NS)
    return {(m.get(f"{{{NS['w']}}}author"), m.get(f"{{{NS['w']}}}date")) for m in found}


ROUND_TRIP = ("tracked", "tracked-overlapping", "comparison")


def test_tracked_changes_survive_an_odt_round_trip(
    soffice: str, profile: str, tmp_path: Path
) -> None:
    """Proposals inline, alternative paragraphs, words inserted by one delegation and deleted
    by another, moves, a comparison: all come back from ODT with their authors and dates, and
    accept or reject to the same text."""
    sources = []
    for kind in ROUND_TRIP:
        path = tmp_path / f"{kind}.docx"
        path.write_bytes(export(kind))
        sources.append(path)
    convert(soffice, profile, "odt", sources, tmp_path / "odt")
    odts = [tmp_path / "odt" / f"{kind}.odt" for kind in ROUND_TRIP]
    convert(soffice, profile, "docx:MS Word 2007 XML", odts, tmp_path / "back")

    for kind in ROUND_TRIP:
        original = export(kind)
        back = (tmp_path / "back" / f"{kind}.docx").read_bytes()
        assert revisions(back), f"{kind}: the revisions were lost"
        assert _marks(back) == _marks(original), kind
        assert _strip_trailing_empty(accept_all(back)) == accept_all(original), kind
        assert _strip_trailing_empty(reject_all(back)) == reject_all(original), kind
