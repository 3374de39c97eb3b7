"""Answers kept until the next change (outlines, the event-log stamp): never staler than it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import Event, Provision
from app.domain.amendments import AmendmentKind, Decision
from app.domain.errors import NotFound
from app.main import create_app
from app.services import amendments, decisions, events
from app.services.text import read_tree
from tests.conftest import World
from tests.integration.test_api import sign_in


def _tree(world: World):  # type: ignore[no-untyped-def]
    with world.database.read() as db:
        return read_tree(db, world.document.id)


def test_an_outline_is_shared_until_a_change_that_can_alter_it(world: World) -> None:
    first = _tree(world)
    assert _tree(world) is first  # nothing changed: the same outline, not recomputed
    op1 = world.provision("OP1")
    proposal = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=op1,
        kind=AmendmentKind.INSERT_AFTER,
        text="Also decides that the conference shall be held in Morocco;",
    )
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=proposal.id, stance="support"
    )
    assert _tree(world) is first  # proposals and positions move no paragraph
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=proposal.id, decision=Decision.ACCEPT
    )
    accepted = _tree(world)
    assert accepted is not first
    assert set(accepted.labels.values()) - set(first.labels.values()) == {"OP1 bis"}
    rejected = amendments.propose(
        world.database,
        actor=world.eu,
        provision_id=world.provision("OP2"),
        kind=AmendmentKind.DELETE,
    )
    assert _tree(world) is accepted
    decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=rejected.id,
        decision=Decision.REJECT,
        reason="No support in the room.",
    )
    assert _tree(world) is not accepted  # a rejection may open the paragraph (its status)


def test_an_event_committed_late_drops_a_kept_outline(world: World) -> None:
    first = _tree(world)
    with world.database.read() as db:
        newest = db.scalar(select(func.max(Event.id)))
    assert newest is not None
    with world.database.write() as db:
        db.add(Event(id=newest + 5, kind="amendment.proposed", subject="test", subject_id=None))
    assert _tree(world) is first  # a neutral kind
    with world.database.write() as db:
        db.add(Event(id=newest + 2, kind="amendment.proposed", subject="test", subject_id=None))
    assert _tree(world) is not first  # below what was seen: unknown, so recomputed


def test_a_kept_outline_is_still_checked_against_its_reader(world: World) -> None:
    with world.database.read() as db:
        read_tree(db, world.document.id, viewer=world.eu)
        with pytest.raises(NotFound):  # restricted: not for stakeholders, kept or not
            read_tree(db, world.document.id, viewer=world.stakeholder)


def test_a_writing_transaction_that_rolls_back_leaves_no_outline_behind(world: World) -> None:
    before = dict(_tree(world).labels)
    op1 = world.provision("OP1")
    with pytest.raises(RuntimeError), world.database.write() as db:
        provision = db.get(Provision, op1)
        assert provision is not None
        provision.label_number = 99
        events.record(db, kind="test.renumbered", actor=None, subject="provision", subject_id=op1)
        db.flush()
        assert read_tree(db, world.document.id).labels[op1] == "OP99"
        raise RuntimeError("roll back")
    assert _tree(world).labels == before


def test_the_stamp_moves_when_an_earlier_event_id_commits_late(world: World) -> None:
    with world.database.read() as db:
        newest = db.scalar(select(func.max(Event.id)))
    assert newest is not None
    with world.database.write() as db:  # a later id commits first…
        db.add(Event(id=newest + 5, kind="test.late", subject="test", subject_id=None, data={}))
    with world.database.read() as db:
        seen = events.stamp(db)
    with world.database.write() as db:  # …then the earlier one, below the newest
        db.add(Event(id=newest + 2, kind="test.late", subject="test", subject_id=None, data={}))
    with world.database.read() as db:
        assert events.stamp(db) != seen
        assert events.stamp(db)[0] == seen[0]


def test_the_api_keeps_an_answer_only_until_the_next_change(world: World) -> None:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url), database=world.database
    )
    op1 = world.provision("OP1")
    with TestClient(app) as client:
        sign_in(client, "usa")
        first = client.get(f"/api/v1/provisions/{op1}")
        assert client.get(f"/api/v1/provisions/{op1}").content == first.content
        text = first.json()["provision"]["text"].replace("2018", "2019")
        client.post(
            "/api/v1/amendments",
            json={"provision_id": op1, "kind": "wording", "text": text},
        ).raise_for_status()
        after = client.get(f"/api/v1/provisions/{op1}").json()
        assert [a["proposed_text"] for a in after["amendments"]][-1] == text
        listed = client.get(f"/api/v1/documents/{world.document.id}/amendments?provision_id={op1}")
        assert [a["proposed_text"] for a in listed.json()] == [text]
        client.delete("/api/v1/session")
        sign_in(client, "ngo")  # the kept answers are not for a stakeholder (restricted text)
        assert client.get(f"/api/v1/provisions/{op1}").status_code == 404
        listed = client.get(f"/api/v1/documents/{world.document.id}/amendments?provision_id={op1}")
        assert listed.status_code == 404
