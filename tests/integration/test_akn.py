"""Akoma Ntoso on both databases: any revision exports valid XML, and imports back as a new
document with the same kinds, words and tree; the API, its refusals and who may import."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from app.akn import akn
from app.akn.schema import problems
from app.config import Settings
from app.db.session import Database
from app.domain.amendments import AmendmentKind, Decision
from app.domain.errors import Invalid, NotAllowed, NotFound
from app.domain.outline import parse_outline
from app.main import create_app
from app.services import amendments, decisions, documents, feed, revisions
from app.services.demo import demo_text
from app.services.views import DocumentView
from app.web.api import feed as feed_api
from tests.conftest import World

PASSWORD = "correct horse battery"


def shape(document: DocumentView) -> list[tuple[str, int, str]]:
    """What a round trip must keep: each live provision's kind, depth and words, in order."""
    return [(p.kind.value, p.depth, p.text) for p in document.provisions if not p.deleted]


def _reimport(world: World, xml: bytes, name: str = "Imported") -> DocumentView:
    return feed.import_akn(
        world.database,
        actor=world.secretariat,
        negotiation_id=world.negotiation_id,
        data=xml,
        revision_name=name,
        issued_on=date(2016, 12, 20),
    )


def test_a_resolution_round_trips_revision_by_revision(world: World) -> None:
    db = world.database
    zero = feed.export_akn(db, document_id=world.document.id, revision="0", viewer=world.usa)
    assert zero.filename == "GCM-test_Zero-draft.akn.xml"
    assert problems(etree.fromstring(zero.content)) == []
    again = _reimport(world, zero.content)
    assert shape(again) == shape(world.document)
    assert again.title == world.document.title and again.scheme == world.document.scheme

    proposal = amendments.propose(
        db,
        actor=world.eu,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.INSERT_AFTER,
        text="Encourages Member States to take part at the highest level;",
    )
    decisions.decide(db, actor=world.mexico, amendment_id=proposal.id, decision=Decision.ACCEPT)
    revisions.issue_revision(
        db,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    rev1 = feed.export_akn(db, document_id=world.document.id, revision="Rev.1", viewer=world.usa)
    root = etree.fromstring(rev1.content)
    assert problems(root) == []
    nums = [n.text for n in root.iter(akn("num"))]
    assert nums == ["1.", "2.", "3.", "(a)", "(b)", "4."]
    work = root.find(f".//{akn('FRBRWork')}/{akn('FRBRdate')}").get("date")
    expression = root.find(f".//{akn('FRBRExpression')}/{akn('FRBRdate')}").get("date")
    assert (work, expression) == ("2016-11-23", "2016-12-15")
    current = documents.get_document(db, document_id=world.document.id)
    assert shape(_reimport(world, rev1.content, "Rev.1 copy")) == shape(current)

    rolling = feed.export_akn(db, document_id=world.document.id, viewer=world.usa)
    assert problems(etree.fromstring(rolling.content)) == []


def test_the_elements_paper_round_trips(world: World) -> None:
    paper = documents.import_outline(
        world.database,
        actor=world.secretariat,
        negotiation_id=world.negotiation_id,
        outline=parse_outline(demo_text()),
        revision_name="Elements paper",
        issued_on=date(2016, 11, 23),
    )
    xml = feed.export_akn(world.database, document_id=paper.id, viewer=world.usa).content
    root = etree.fromstring(xml)
    assert problems(root) == []
    assert root[0].get("name") == "elementsPaper"
    assert len(root.findall(f".//{akn('section')}")) == 11
    assert len(root.findall(f".//{akn('point')}")) == 16
    back = _reimport(world, xml)
    assert shape(back) == shape(paper)
    assert back.subtitle == "Elements of a Draft Resolution"


def test_refusals(world: World) -> None:
    xml = feed.export_akn(world.database, document_id=world.document.id, viewer=world.usa).content
    with pytest.raises(NotAllowed):
        feed.import_akn(
            world.database,
            actor=world.eu,
            negotiation_id=world.negotiation_id,
            data=xml,
            issued_on=date(2016, 12, 1),
        )
    broken = xml.replace(b"<mainBody>", b"<mainBody><bogus/>")
    with pytest.raises(Invalid, match="does not follow the schema"):
        _reimport(world, broken)
    with pytest.raises(NotFound):
        feed.export_akn(
            world.database, document_id=world.document.id, revision="Rev.9", viewer=world.usa
        )


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )
    if not any(getattr(r, "path", "") == "/api/v1/documents/{document_id}/akn" for r in app.routes):
        app.include_router(feed_api.router, prefix="/api/v1")
    with TestClient(app) as c:
        yield c


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    if token := r.headers.get("X-CSRF-Token"):
        client.headers["X-CSRF-Token"] = token


def test_the_api(client: TestClient, world: World, database: Database) -> None:
    url = f"/api/v1/documents/{world.document.id}/akn"
    assert client.get(url).status_code == 401
    _sign_in(client, "observer")
    assert client.get(url).status_code == 404  # restricted documents are for delegations
    _sign_in(client, "usa")
    r = client.get(url, params={"revision": "Zero draft"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/akn+xml")
    assert "GCM-test_Zero-draft.akn.xml" in r.headers["content-disposition"]
    xml = r.content
    upload = f"/api/v1/negotiations/{world.negotiation_id}/documents/akn"
    r = client.post(upload, files={"file": ("draft.xml", xml, "application/xml")})
    assert r.status_code == 403
    _sign_in(client, "secretariat")
    r = client.post(
        upload,
        files={"file": ("draft.xml", xml, "application/xml")},
        data={"revision_name": "From AKN", "issued_on": "2016-12-01"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert [(p["kind"], p["text"]) for p in created["provisions"]] == [
        (p.kind.value, p.text) for p in world.document.provisions
    ]
    r = client.post(upload, files={"file": ("x.xml", b"<not-akn/>", "application/xml")})
    assert r.status_code == 422 and "not an Akoma Ntoso 3.0 document" in r.json()["message"]
