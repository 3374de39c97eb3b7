"""Word exports end to end, on both databases: from the negotiation's data to files parsed back."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document as WordDocument

from app.docx.reading import accept_all, custom_properties, reject_all
from app.domain.amendments import AmendmentKind, Decision
from app.domain.errors import Invalid
from app.services import amendments, decisions, revisions
from app.services.exports import ExportKind, export_document
from tests.conftest import World

OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


def _texts(data: bytes) -> list[str]:
    """Every paragraph of the body, including those laid out in tables."""
    document = WordDocument(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                texts.extend(p.text for p in cell.paragraphs)
    return texts


def _proposals(world: World) -> None:
    a = amendments.propose(
        world.database,
        actor=world.eu,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        on_behalf_of="EU",
        text=OP1.replace("in 2018", "in the second half of 2018"),
        justification="Time to prepare.",
    )
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=a.id, stance="support"
    )
    amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=world.provision("OP3"),
        kind=AmendmentKind.DELETE,
    )


def test_clean_text_of_a_revision_and_of_the_rolling_text(world: World) -> None:
    _proposals(world)
    zero = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.CLEAN, revision="0"
    )
    assert zero.filename == "GCM-test_Zero-draft_clean.docx"
    body = "\n".join(_texts(zero.content))
    assert "The General Assembly," in body and "in 2018;" in body
    props = custom_properties(zero.content)
    assert props["rolltext.document_id"] == str(world.document.id)
    assert props["rolltext.revision_seq"] == "0"


def test_compilation_attributed_and_unattributed(world: World) -> None:
    _proposals(world)
    named = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.COMPILATION
    )
    anonymous = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.COMPILATION, attributed=False
    )
    assert "(EU; supported by Norway)" in "\n".join(_texts(named.content))
    assert "Norway" not in "\n".join(_texts(anonymous.content))
    assert anonymous.filename.endswith("compilation-unattributed.docx")


def test_tracked_changes_accept_all_gives_every_proposal_applied(world: World) -> None:
    _proposals(world)
    tracked = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.TRACKED
    )
    accepted = "\n".join(accept_all(tracked.content))
    rejected = "\n".join(reject_all(tracked.content))
    assert "in the second half of 2018" in accepted and "Invites Member States" not in accepted
    assert "in the second half of 2018" not in rejected and "Invites Member States" in rejected


def test_comparison_of_two_revisions(world: World) -> None:
    a = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=OP1.replace("to convene", "to hold"),
    )
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=a.id, decision=Decision.ACCEPT
    )
    revisions.issue_revision(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    compared = export_document(
        world.database,
        document_id=world.document.id,
        kind=ExportKind.COMPARISON,
        revision="Rev.1",
        against="0",
    )
    assert compared.filename == "GCM-test_Rev.1_Rev.1-vs-Zero-draft.docx"
    assert any("to hold" in t for t in accept_all(compared.content))
    assert any("to convene" in t for t in reject_all(compared.content))
    with pytest.raises(Invalid, match="needs the revision to compare against"):
        export_document(world.database, document_id=world.document.id, kind=ExportKind.COMPARISON)


def test_amendment_list_and_the_download_endpoint(world: World) -> None:
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    _proposals(world)
    listing = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.AMENDMENT_LIST
    )
    cells = [
        c.text
        for t in WordDocument(io.BytesIO(listing.content)).tables
        for row in t.rows
        for c in row.cells
    ]
    assert any("Time to prepare." in c for c in cells)
    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    with TestClient(app) as client:
        client.post(
            "/api/v1/session", json={"username": "usa", "password": "correct horse battery"}
        )
        for kind in ("clean", "compilation", "tracked", "amendment-list"):
            r = client.get(f"/api/v1/documents/{world.document.id}/export/{kind}")
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            )
            assert r.headers["content-disposition"].startswith('attachment; filename="GCM-test_')
            assert r.content[:2] == b"PK"
        r = client.get(
            f"/api/v1/documents/{world.document.id}/export/comparison",
            params={"revision": "0", "against": "0"},
        )
        assert r.status_code == 200
        r = client.get(f"/api/v1/documents/{world.document.id}/export/poster")
        assert r.status_code == 422


def _client(world: World, username: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    client = TestClient(app)
    r = client.post(
        "/api/v1/session", json={"username": username, "password": "correct horse battery"}
    )
    client.headers["X-CSRF-Token"] = r.headers["X-CSRF-Token"]  # cookie sessions send it back
    return client


def test_a_marked_up_copy_becomes_proposals_after_a_preview(world: World) -> None:
    from app.services.exports import circulated_text
    from tests.docx_fixtures.marked import copy_of
    from tests.docx_fixtures.word import dele, ins

    zero, _ = circulated_text(world.database, document_id=world.document.id, revision="0")
    op1, op3 = world.provision("OP1"), world.provision("OP3")
    marked = copy_of(
        zero,
        edit={
            op1: [
                "Decides to ",
                dele("convene"),
                ins("hold"),
                " an intergovernmental conference on international migration in 2018;",
            ]
        },
        mark={op3: "del"},
    )
    with _client(world, "usa") as client:
        files = {"file": ("copy.docx", marked, "application/octet-stream")}
        r = client.post(f"/api/v1/documents/{world.document.id}/marked-up", files=files)
        assert r.status_code == 200, r.text
        preview = r.json()
        assert preview["identified_by"] == "properties" and preview["revision"] == "Zero draft"
        kinds = {c["kind"]: c for c in preview["changes"]}
        assert kinds["wording"]["label"] == "OP1" and "hold" in kinds["wording"]["text"]
        assert amendments.list_amendments(world.database, document_id=world.document.id) == []
        wording = kinds["wording"]["number"]
        r = client.post(
            f"/api/v1/documents/{world.document.id}/marked-up",
            files=files,
            data={"confirm": "true", "changes": str(wording)},
        )
        assert r.status_code == 200, r.text
        [saved] = r.json()["saved"]
        assert saved["proponents"] == ["United States"] and saved["provision_label"] == "OP1"
        assert saved["proposed_text"] == OP1.replace("to convene", "to hold")
        r = client.post(
            f"/api/v1/documents/{world.document.id}/marked-up",
            files={"file": ("x.docx", b"not a zip", "application/octet-stream")},
        )
        assert r.status_code == 422
        assert r.json()["message"].startswith("This file is not a Word document (.docx).")
    assert len(amendments.list_amendments(world.database, document_id=world.document.id)) == 1


def test_a_draft_in_word_becomes_a_document(world: World) -> None:
    from app.services.exports import export_document

    clean = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.CLEAN, revision="0"
    )
    with _client(world, "secretariat") as client:
        files = {"file": ("draft.docx", clean.content, "application/octet-stream")}
        url = f"/api/v1/negotiations/{world.negotiation_id}/documents/docx"
        r = client.post(url, files=files, data={"preview": "true"})
        assert r.status_code == 200, r.text
        assert r.json()["scheme"] == "resolution" and r.json()["recognised"]
        r = client.post(url, files=files, data={"revision_name": "Zero draft (from Word)"})
        assert r.status_code == 201, r.text
        imported = r.json()["document"]
        assert [p["label"] for p in imported["provisions"]] == [
            p.label for p in world.document.provisions
        ]
        assert [p["text"] for p in imported["provisions"]] == [
            p.text for p in world.document.provisions
        ]
    with _client(world, "usa") as client:
        r = client.post(url, files=files)
        assert r.status_code == 403
