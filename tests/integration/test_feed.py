"""The JSON feed of proposals on a revision, on both databases: stable ids, labels,
proponents with codes, diff ops that rebuild the proposed wording; and over the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain.amendments import AmendmentKind
from app.main import create_app
from app.services import amendments, feed, revisions
from app.web.api import feed as feed_api
from tests.conftest import World

PASSWORD = "correct horse battery"
OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


def _proposals(world: World) -> tuple[int, int]:
    db = world.database
    wording = amendments.propose(
        db,
        actor=world.eu,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=OP1.replace("in 2018", "in Morocco in 2018"),
        on_behalf_of="EU",
        justification="Morocco has offered to host it.",
    )
    amendments.take_position(db, actor=world.norway, amendment_id=wording.id, stance="support")
    amendments.take_position(db, actor=world.russia, amendment_id=wording.id, stance="oppose")
    new = amendments.propose(
        db,
        actor=world.egypt,
        provision_id=world.provision("OP2"),
        kind=AmendmentKind.INSERT_AFTER,
        text="Stresses the importance of regional consultations;",
        on_behalf_of="G77",
    )
    return wording.id, new.id


def test_the_feed_of_a_revision(world: World) -> None:
    first, second = _proposals(world)
    data = feed.proposals_feed(
        world.database, document_id=world.document.id, revision="0", viewer=world.usa
    )
    json.dumps(data)  # plain JSON all the way down
    assert (data["format"], data["format_version"]) == ("rolltext-proposals", 1)
    assert data["revision"] == {
        "seq": 0,
        "name": "Zero draft",
        "issued_on": "2016-11-23",
        "rolling": False,
    }
    assert data["document"]["id"] == world.document.id
    assert [p["label"] for p in data["provisions"]][:3] == ["PP1", "PP2", "OP1"]
    by_id = {p["id"]: p for p in data["proposals"]}
    assert set(by_id) == {f"A-{first}", f"A-{second}"}
    eu = by_id[f"A-{first}"]
    assert eu["amendment_id"] == first and eu["kind"] == "wording" and eu["state"] == "pending"
    assert eu["provision"] == {"id": world.provision("OP1"), "label": "OP1"}
    assert eu["proponents"] == [{"code": "EU", "name": eu["proponents"][0]["name"]}]
    assert eu["supporters"] == ["Norway"] and eu["opponents"] == ["Russian Federation"]
    assert eu["justification"] == "Morocco has offered to host it."
    assert eu["base_version"] == 1 and eu["base_text"] == OP1
    kept = "".join(o["text"] for o in eu["diff"] if o["op"] != "insert")
    made = "".join(o["text"] for o in eu["diff"] if o["op"] != "delete")
    assert (kept, made) == (OP1, eu["proposed_text"])
    assert {"op": "insert", "text": "Morocco in "} in eu["diff"] or any(
        o["op"] == "insert" and "Morocco" in o["text"] for o in eu["diff"]
    )
    g77 = by_id[f"A-{second}"]
    assert (g77["kind"], g77["new_kind"], g77["proponents"][0]["code"]) == (
        "insert_after",
        "operative",
        "G77",
    )


def test_a_revision_issued_later_has_its_own_feed(world: World) -> None:
    _proposals(world)
    revisions.issue_revision(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    rev1 = feed.proposals_feed(
        world.database, document_id=world.document.id, revision="Rev.1", viewer=world.usa
    )
    rolling = feed.proposals_feed(world.database, document_id=world.document.id, viewer=world.usa)
    assert rev1["revision"]["name"] == "Rev.1" and rolling["revision"]["rolling"] is True
    assert {p["id"] for p in rev1["proposals"]} == {p["id"] for p in rolling["proposals"]}


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )
    if not any(
        getattr(r, "path", "") == "/api/v1/documents/{document_id}/feed" for r in app.routes
    ):
        app.include_router(feed_api.router, prefix="/api/v1")
    with TestClient(app) as c:
        yield c


def test_the_feed_api(client: TestClient, world: World) -> None:
    first, _ = _proposals(world)
    url = f"/api/v1/documents/{world.document.id}/feed"
    assert client.get(url).status_code == 401
    r = client.post("/api/v1/session", json={"username": "usa", "password": PASSWORD})
    assert r.status_code == 200
    r = client.get(url, params={"revision": "Zero draft"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert f"A-{first}" in {p["id"] for p in r.json()["proposals"]}
    assert client.get(url, params={"revision": "Rev.7"}).status_code == 404
