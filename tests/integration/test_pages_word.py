"""Word files in the browser, on both databases: a draft previewed then imported; a delegation's
marked-up copy previewed, ticked and confirmed; the upload kept per user for 15 minutes; bad
files refused beside the form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.services import amendments, decisions, documents
from app.services.exports import ExportKind, circulated_text, export_document
from app.web.pages.uploads import EXPIRED, UploadStore
from tests.conftest import World
from tests.docx_fixtures.marked import copy_of
from tests.docx_fixtures.word import dele, ins

PASSWORD = "correct horse battery"
OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )
    app.state.uploads = UploadStore(tmp_path / "uploads")
    with TestClient(app) as c:
        yield c


def sign_in(client: TestClient, username: str) -> TestClient:
    """Sign in through the form and send the session's CSRF token back, as a page does."""
    client.cookies.clear()
    r = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = r.headers["X-CSRF-Token"]
    return client


def token_of(html: str) -> str:
    found = re.search(r'name="upload" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def marked_copy(world: World) -> bytes:
    """The zero draft as a delegation edited it: OP1 reworded (tracked), OP3 left out (not)."""
    zero, _ = circulated_text(world.database, document_id=world.document.id, revision="0")
    return copy_of(
        zero,
        edit={
            world.provision("OP1"): [
                "Decides to ",
                dele("convene"),
                ins("hold"),
                " an intergovernmental conference on international migration in 2018;",
            ]
        },
        leave_out=frozenset({world.provision("OP3")}),
    )


def docx(content: bytes, name: str = "copy.docx") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "application/octet-stream")}


# -- a delegation's marked-up copy ---------------------------------------------------------------


def test_a_marked_up_copy_is_previewed_ticked_and_confirmed(
    client: TestClient, world: World
) -> None:
    sign_in(client, "egypt")
    doc = world.document.id
    text = client.get(f"/documents/{doc}").text
    assert f'href="/documents/{doc}/marked-up"' in text  # delegates find the upload
    page = client.get(f"/documents/{doc}/marked-up").text
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page

    r = client.post(f"/documents/{doc}/marked-up", files=docx(marked_copy(world)))
    assert r.status_code == 200, r.text
    preview = r.text
    assert "as a copy of <strong>Zero draft</strong>" in preview
    assert "the file&#39;s document properties" in preview
    assert 'name="change" value="1"' in preview and 'name="change" value="2"' in preview
    assert "wording change" in preview and "deletion" in preview
    assert "Track Changes by Author" in preview and "not tracked" in preview
    assert "G77 and China" in preview  # the delegate may speak for its group
    assert amendments.list_amendments(world.database, document_id=doc) == []  # nothing saved

    numbers = dict(
        re.findall(r'<tr id="change-(\d+)">\s*<td>.*?</td>\s*<td>([^<]+)</td>', preview, re.S)
    )
    wording = next(n for n, label in numbers.items() if label == "OP1")
    r = client.post(
        f"/documents/{doc}/marked-up/confirm",
        data={
            "upload": token_of(preview),
            "change": [wording],
            "on_behalf_of": "G77",
            "justification": "As discussed in the group.",
        },
    )
    assert r.status_code == 200, r.text
    assert "1 proposal made from copy.docx" in r.text
    assert re.search(r"A-\d+</a> on OP1", r.text)
    [made] = amendments.list_amendments(world.database, document_id=doc)
    assert made.proponents == ("G77 and China",)
    assert made.proposed_text == OP1.replace("to convene", "to hold")
    assert made.justification == "As discussed in the group."

    # the file is gone once confirmed: confirming again asks for it again
    r = client.post(
        f"/documents/{doc}/marked-up/confirm",
        data={"upload": token_of(preview), "change": [wording]},
    )
    assert r.status_code == 422 and EXPIRED.replace("'", "&#39;") in r.text


def test_skipped_changes_are_listed_with_their_reason(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    doc = world.document.id
    preview = client.post(f"/documents/{doc}/marked-up", files=docx(marked_copy(world))).text
    # meanwhile the co-facilitators reword OP1 where the copy changes it
    decisions.cf_text(
        world.database,
        actor=world.mexico,
        provision_id=world.provision("OP1"),
        text=OP1.replace("convene", "organise"),
    )
    r = client.post(
        f"/documents/{doc}/marked-up/confirm",
        data={"upload": token_of(preview), "change": ["1", "2"]},
    )
    assert r.status_code == 200, r.text
    assert "1 proposal made from copy.docx" in r.text
    assert re.search(r"A-\d+</a> on OP3", r.text)
    skipped = r.text[r.text.index("Not proposed") :]
    assert "Change 1 (OP1): the paragraph changed since it was circulated" in skipped


def test_nothing_ticked_and_bad_files_are_refused_beside_the_form(
    client: TestClient, world: World
) -> None:
    sign_in(client, "usa")
    doc = world.document.id
    r = client.post(f"/documents/{doc}/marked-up", files=docx(b"not a zip", "x.docx"))
    assert r.status_code == 422
    assert "This file is not a Word document (.docx)." in r.text
    assert 'id="marked-up-form"' in r.text and 'role="alert"' in r.text  # the form, again
    r = client.post(f"/documents/{doc}/marked-up", data={"csrf_token": "x"})
    assert r.status_code == 422 and "Choose a Word file (.docx) to upload." in r.text

    preview = client.post(f"/documents/{doc}/marked-up", files=docx(marked_copy(world))).text
    r = client.post(f"/documents/{doc}/marked-up/confirm", data={"upload": token_of(preview)})
    assert r.status_code == 422 and "Tick at least one change to propose." in r.text
    assert 'id="marked-up-confirm"' in r.text  # the preview stays, to tick again
    assert amendments.list_amendments(world.database, document_id=doc) == []


def test_an_upload_is_only_for_its_user_and_expires(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    doc = world.document.id
    preview = client.post(f"/documents/{doc}/marked-up", files=docx(marked_copy(world))).text
    token = token_of(preview)
    sign_in(client, "norway")  # another delegation cannot confirm the United States' file
    r = client.post(f"/documents/{doc}/marked-up/confirm", data={"upload": token, "change": "1"})
    assert r.status_code == 422 and "no longer kept" in r.text
    sign_in(client, "usa")
    client.app.state.uploads.ttl = -1  # type: ignore[attr-defined]  # fifteen minutes later
    r = client.post(f"/documents/{doc}/marked-up/confirm", data={"upload": token, "change": "1"})
    assert r.status_code == 422 and "choose the file again" in r.text
    assert amendments.list_amendments(world.database, document_id=doc) == []


def test_stakeholders_and_observers_cannot_propose_from_a_copy(
    client: TestClient, world: World
) -> None:
    sign_in(client, "observer")
    r = client.post(f"/documents/{world.document.id}/marked-up", files=docx(marked_copy(world)))
    assert r.status_code in (403, 404)


# -- a draft typed in Word -------------------------------------------------------------------------


def test_a_draft_is_previewed_then_imported(client: TestClient, world: World) -> None:
    clean = export_document(
        world.database, document_id=world.document.id, kind=ExportKind.CLEAN, revision="0"
    )
    sign_in(client, "secretariat")
    home = client.get(f"/negotiations/{world.negotiation_id}").text
    assert f'href="/negotiations/{world.negotiation_id}/import"' in home
    url = f"/negotiations/{world.negotiation_id}/import"
    assert 'enctype="multipart/form-data"' in client.get(url).text
    r = client.post(
        url,
        files=docx(clean.content, "draft.docx"),
        data={"revision_name": "Zero draft (Word)", "issued_on": "2017-02-05"},
    )
    assert r.status_code == 200, r.text
    assert "What Rolltext recognised in draft.docx" in r.text
    assert "Safe, orderly and regular migration" in r.text
    assert "a resolution: PP/OP labels" in r.text
    assert 'value="Zero draft (Word)"' in r.text
    before = len(
        documents.get_negotiation(world.database, negotiation_id=world.negotiation_id).documents
    )
    r = client.post(
        f"{url}/confirm",
        data={
            "upload": token_of(r.text),
            "revision_name": "Zero draft (Word)",
            "issued_on": "2017-02-05",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    new_id = int(r.headers["location"].rsplit("/", 1)[-1])
    imported = documents.get_document(world.database, document_id=new_id)
    assert [p.text for p in imported.provisions] == [p.text for p in world.document.provisions]
    after = documents.get_negotiation(world.database, negotiation_id=world.negotiation_id)
    assert len(after.documents) == before + 1
    page = client.get(f"/documents/{new_id}/revisions").text
    assert "Zero draft (Word)" in page and "5 February 2017" in page


def test_draft_refusals(client: TestClient, world: World) -> None:
    url = f"/negotiations/{world.negotiation_id}/import"
    sign_in(client, "usa")
    assert client.get(url).status_code == 403  # delegates do not create documents
    sign_in(client, "cofac.mexico")
    r = client.post(url, files=docx(b"PK\x03\x04 broken", "draft.docx"))
    assert r.status_code == 422 and 'id="import-form"' in r.text
    assert 'class="notice is-error"' in r.text
    r = client.post(f"{url}/confirm", data={"upload": "forged"})
    assert r.status_code == 422 and "no longer kept" in r.text


def test_the_upload_store_caps_files_per_user(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    tokens = [
        store.put(user_id=1, purpose="draft", subject=1, data=b"x" * n, filename=f"{n}.docx")
        for n in (1, 2, 3, 4)
    ]
    with pytest.raises(Exception, match="no longer kept"):
        store.get(tokens[0], user_id=1, purpose="draft", subject=1)  # the oldest went
    assert store.get(tokens[3], user_id=1, purpose="draft", subject=1).data == b"xxxx"
    with pytest.raises(Exception, match="no longer kept"):
        store.get(tokens[3], user_id=1, purpose="marked-up", subject=1)  # another page
    assert all(p.stat().st_mode & 0o077 == 0 for p in tmp_path.iterdir())
    assert not any(t in p.name for t in tokens for p in tmp_path.iterdir())
