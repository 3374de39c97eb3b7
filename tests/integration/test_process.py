"""Rounds with deadlines and the silence procedure, on both databases, with a controlled clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import timeutil
from app.db.models import Event
from app.domain.amendments import AmendmentKind
from app.domain.errors import Invalid, NotAllowed
from app.domain.provisions import ProvisionStatus
from app.services import amendments, documents, process
from tests.conftest import World

OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(datetime(2017, 1, 10, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(timeutil, "utcnow", c)
    return c


def _propose(world: World, actor, text: str):  # type: ignore[no-untyped-def]
    return amendments.propose(
        world.database,
        actor=actor,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=text,
    )


def test_after_the_deadline_proposals_are_refused_naming_it(world: World, clock: Clock) -> None:
    rnd = process.open_round(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="written proposals on the zero draft",
        deadline=datetime(2017, 1, 13, 18, 0),
    )
    assert rnd.deadline == datetime(2017, 1, 13, 23, 0, tzinfo=UTC)  # 18:00 EST
    assert rnd.deadline_text == "Friday 13 January 2017, 18:00 New York time (EST)"
    _propose(world, world.usa, OP1 + " First.")
    clock.now = datetime(2017, 1, 13, 23, 0, 1, tzinfo=UTC)
    with pytest.raises(Invalid) as refused:
        _propose(world, world.usa, OP1 + " Late.")
    assert refused.value.message.startswith(
        "The deadline for written proposals on the zero draft passed on Friday 13 January 2017, "
        "18:00 New York time (EST)."
    )
    # a late submission for one delegation only
    process.grant_late_submission(
        world.database,
        actor=world.mexico,
        round_id=rnd.id,
        delegation="USA",
        until=datetime(2017, 1, 16, 12, 0),
        reason="Capital's instructions delayed",
    )
    _propose(world, world.usa, OP1 + " Late.")
    with pytest.raises(Invalid, match="deadline"):
        _propose(world, world.norway, OP1 + " Norway late.")
    # reopening the round opens it for everyone
    process.move_deadline(
        world.database, actor=world.mexico, round_id=rnd.id, deadline=datetime(2017, 1, 20, 18, 0)
    )
    _propose(world, world.norway, OP1 + " Norway late.")
    pending = amendments.list_amendments(world.database, document_id=world.document.id)
    assert len(pending) == 3


def test_only_cofacilitators_set_deadlines(world: World, clock: Clock) -> None:
    with pytest.raises(NotAllowed):
        process.open_round(
            world.database,
            actor=world.usa,
            document_id=world.document.id,
            name="x",
            deadline=datetime(2017, 2, 1, 18, 0),
        )
    with pytest.raises(Invalid, match="already past"):
        process.open_round(
            world.database,
            actor=world.mexico,
            document_id=world.document.id,
            name="x",
            deadline=datetime(2016, 2, 1, 18, 0),
        )
    with pytest.raises(Invalid, match="not a time zone"):
        process.open_round(
            world.database,
            actor=world.mexico,
            document_id=world.document.id,
            name="x",
            deadline=datetime(2017, 2, 1, 18, 0),
            timezone="Mars/Base",
        )


def test_silence_held_adopts_the_text(world: World, clock: Clock) -> None:
    silence = process.place_under_silence(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        revision="0",
        deadline=datetime(2017, 1, 26, 18, 0),
    )
    assert silence.deadline_text == "Thursday 26 January 2017, 18:00 New York time (EST)"
    assert process.settle_due(world.database) == []
    clock.now = datetime(2017, 1, 27, 0, 0, tzinfo=UTC)
    assert process.settle_due(world.database) == [silence.id]
    assert process.settle_due(world.database) == []
    [settled] = process.list_silences(world.database, document_id=world.document.id)
    assert settled.outcome == "held"
    text = documents.get_document(world.database, document_id=world.document.id)
    assert {p.status for p in text.provisions} == {ProvisionStatus.AGREED}


def test_silence_broken_keeps_the_text_open(world: World, clock: Clock) -> None:
    silence = process.place_under_silence(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        revision="0",
        deadline=datetime(2017, 1, 26, 18, 0),
    )
    with pytest.raises(Invalid, match="no provision OP9"):
        process.break_silence(
            world.database,
            actor=world.russia,
            silence_id=silence.id,
            statement="We object.",
            provisions=["OP9"],
        )
    with pytest.raises(NotAllowed):
        process.break_silence(
            world.database, actor=world.stakeholder, silence_id=silence.id, statement="We object."
        )
    view = process.break_silence(
        world.database,
        actor=world.russia,
        silence_id=silence.id,
        statement="The Russian Federation breaks silence on OP1.",
        provisions=["OP1", "PP2"],
    )
    assert view.breaks[0].delegation == "Russian Federation"
    assert view.breaks[0].provisions == ("OP1", "PP2")
    clock.now = datetime(2017, 1, 27, 0, 0, tzinfo=UTC)
    with pytest.raises(Invalid, match="can no longer be broken"):
        process.break_silence(
            world.database, actor=world.usa, silence_id=silence.id, statement="Too late."
        )
    process.settle_due(world.database)
    [settled] = process.list_silences(world.database, document_id=world.document.id)
    assert settled.outcome == "broken"
    text = documents.get_document(world.database, document_id=world.document.id)
    assert ProvisionStatus.AGREED not in {p.status for p in text.provisions}


def test_settlement_runs_once_when_several_processes_race(world: World, clock: Clock) -> None:
    silence = process.place_under_silence(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        revision="0",
        deadline=datetime(2017, 1, 26, 18, 0),
    )
    clock.now += timedelta(days=30)  # the server was down at the deadline and starts later
    barrier = threading.Barrier(4)
    results: list[list[int]] = []

    def settle() -> None:
        barrier.wait()
        results.append(process.settle_due(world.database))

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i for r in results for i in r) == [silence.id]
    with world.database.read() as db:
        held = db.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "silence.held")
        )
    assert held == 1


def test_a_server_starting_after_the_deadline_settles_it(world: World, clock: Clock) -> None:
    import time

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    silence = process.place_under_silence(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        revision="0",
        deadline=datetime(2017, 1, 26, 18, 0),
    )
    clock.now = datetime(2017, 3, 1, tzinfo=UTC)
    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    with TestClient(app):
        for _ in range(100):
            [view] = process.list_silences(world.database, document_id=world.document.id)
            if view.outcome:
                break
            time.sleep(0.05)
    assert view.id == silence.id and view.outcome == "held"


def test_process_api(world: World, clock: Clock) -> None:
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/session",
            json={"username": "cofac.mexico", "password": "correct horse battery"},
        )
        client.headers["X-CSRF-Token"] = r.headers["X-CSRF-Token"]  # cookie sessions send it back
        doc = world.document.id
        r = client.post(
            f"/api/v1/documents/{doc}/rounds",
            json={"name": "proposals on Rev.1", "deadline": "2017-01-13T18:00:00"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["deadline_text"] == "Friday 13 January 2017, 18:00 New York time (EST)"
        r = client.post(
            f"/api/v1/documents/{doc}/silences",
            json={
                "revision": "Zero draft",
                "deadline": "2017-01-26T18:00:00",
                "timezone": "Europe/Zurich",
            },
        )
        assert r.status_code == 201 and "Geneva time (CET)" in r.json()["deadline_text"]
        silence_id = r.json()["id"]
        client.delete("/api/v1/session")
        r = client.post(
            "/api/v1/session", json={"username": "usa", "password": "correct horse battery"}
        )
        client.headers["X-CSRF-Token"] = r.headers["X-CSRF-Token"]
        r = client.post(
            f"/api/v1/silences/{silence_id}/break",
            json={"statement": "The United States objects to OP1.", "provisions": ["OP1"]},
        )
        assert r.json()["breaks"][0]["delegation"] == "United States"
        assert len(client.get(f"/api/v1/documents/{doc}/rounds").json()) == 1
        clock.now = datetime(2017, 1, 14, tzinfo=UTC)
        r = client.post(
            "/api/v1/amendments", json={"provision_id": world.provision("OP1"), "text": OP1 + " x"}
        )
        assert r.status_code == 422 and r.json()["message"].startswith(
            "The deadline for proposals on Rev.1 passed on Friday 13 January 2017"
        )
