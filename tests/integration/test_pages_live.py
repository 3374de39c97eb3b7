"""Live updates: a commit anywhere becomes named events on the document's stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain.amendments import AmendmentKind, Decision
from app.main import create_app
from app.services import amendments, decisions
from app.web import live
from app.web.live import InProcessBroadcaster, LiveEvent, document_channel, events_for
from tests.conftest import World

T = TypeVar("T")


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run on a thread of its own: independent of any loop the test runner holds."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=30)


OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


def test_changes_become_named_events() -> None:
    changes = [
        {"kind": "amendment.proposed", "subject": "amendment", "document_id": 4, "provision_id": 9},
        {"kind": "provision.status", "subject": "provision", "subject_id": 11, "document_id": 4},
        {"kind": "amendment.accepted", "subject": "amendment", "document_id": 5, "provision_id": 1},
        {"kind": "user.created", "subject": "user", "subject_id": 3, "document_id": None},
    ]
    assert events_for(changes) == {
        4: ["provision-9", "document", "provision-11"],
        5: ["provision-1", "structure", "document"],
    }


def test_broadcaster_delivers_from_worker_threads() -> None:
    async def scenario() -> list[LiveEvent]:
        broadcaster = InProcessBroadcaster()
        subscription = broadcaster.subscribe("document:1")
        other = broadcaster.subscribe("document:2")
        thread = threading.Thread(
            target=broadcaster.publish, args=("document:1", ["provision-3", "document"])
        )
        thread.start()
        received = [await asyncio.wait_for(anext(subscription), 2) for _ in range(2)]
        thread.join()
        assert other.queue.empty()
        assert broadcaster.last_id("document:1") == 2
        subscription.close()
        other.close()
        assert broadcaster.listeners("document:1") == 0
        return received

    received = run(scenario)
    assert [(e.name, e.id) for e in received] == [("provision-3", 1), ("document", 2)]
    assert received[0].encode() == "id: 1\nevent: provision-3\ndata: provision-3\n\n"


def test_a_slow_stream_is_told_to_resync() -> None:
    async def scenario() -> list[str]:
        broadcaster = InProcessBroadcaster()
        subscription = broadcaster.subscribe("document:1")
        for n in range(live.QUEUE_SIZE + 5):
            broadcaster.publish("document:1", [f"provision-{n}"])
        await asyncio.sleep(0.05)
        names = []
        while not subscription.queue.empty():
            names.append((await anext(subscription)).name)
        return names

    names = run(scenario)
    assert names[0] == "resync" and len(names) < 10


def test_a_commit_reaches_subscribers(world: World) -> None:
    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    broadcaster = app.state.broadcaster
    op1 = world.provision("OP1")

    async def scenario() -> list[str]:
        subscription = broadcaster.subscribe(document_channel(world.document.id))
        await asyncio.to_thread(
            amendments.propose,
            world.database,
            actor=world.usa,
            provision_id=op1,
            kind=AmendmentKind.WORDING,
            text=OP1.replace("convene", "hold"),
        )
        names = [(await asyncio.wait_for(anext(subscription), 2)).name for _ in range(2)]
        proposal = await asyncio.to_thread(
            amendments.list_amendments, world.database, document_id=world.document.id
        )
        await asyncio.to_thread(
            decisions.decide,
            world.database,
            actor=world.mexico,
            amendment_id=proposal[0].id,
            decision=Decision.ACCEPT,
        )
        names += [(await asyncio.wait_for(anext(subscription), 2)).name for _ in range(2)]
        subscription.close()
        return names

    if hasattr(broadcaster, "start"):  # PostgreSQL: events travel through LISTEN/NOTIFY
        broadcaster.start()
        assert broadcaster.listening.wait(5)
    try:
        names = run(scenario)
    finally:
        if hasattr(broadcaster, "stop"):
            broadcaster.stop()
    # accepting a wording change re-renders its line, not the whole list (no "structure")
    assert names == [
        f"provision-{op1}",
        "document",
        f"provision-{op1}",
        "document",
    ]


def test_a_change_that_rolls_back_is_never_announced(world: World) -> None:
    """On PostgreSQL the NOTIFY goes with the commit: a transaction that rolls back after its
    use case ran tells nobody; the next one that commits is the first event heard."""
    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    broadcaster = app.state.broadcaster
    op1, op2 = world.provision("OP1"), world.provision("OP2")

    def propose(provision_id: int, *, then_fail: bool) -> None:
        with contextlib.suppress(RuntimeError), world.database.write() as db:
            amendments.propose_in(
                db, actor=world.usa, provision_id=provision_id, kind=AmendmentKind.DELETE
            )
            if then_fail:
                raise RuntimeError("the request failed after the use case")

    async def scenario() -> str:
        subscription = broadcaster.subscribe(document_channel(world.document.id))
        await asyncio.to_thread(propose, op1, then_fail=True)
        await asyncio.to_thread(propose, op2, then_fail=False)
        first = await asyncio.wait_for(anext(subscription), 2)
        subscription.close()
        return first.name

    if hasattr(broadcaster, "start"):
        broadcaster.start()
        assert broadcaster.listening.wait(5)
    try:
        assert run(scenario) == f"provision-{op2}"
    finally:
        if hasattr(broadcaster, "stop"):
            broadcaster.stop()


def test_a_notification_too_large_for_postgresql_tells_pages_to_resync() -> None:
    broadcaster = live.PostgresBroadcaster("postgresql+psycopg://nobody@127.0.0.1/none")
    names = [f"provision-{n}" for n in range(2_000)]  # a revision renumbering everything
    channel, payload = broadcaster.notice("document:1", names, "{}")
    assert channel == broadcaster.CHANNEL and len(payload.encode()) < 8_000
    assert json.loads(payload) == {"c": "document:1", "n": ["resync"], "d": ""}
    _, small = broadcaster.notice("document:1", names[:3], "{}")
    assert json.loads(small)["n"] == names[:3]


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # long enough for the proposal made while it is open to reach it on a busy 2-core machine
    # (1.5 s failed once in a whole run, 2026-11-29)
    monkeypatch.setattr(live, "STREAM_SECONDS", 3.0)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.5)
    yield


def test_the_stream_of_a_document(world: World, short_streams: None) -> None:
    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    channel = document_channel(world.document.id)
    url = f"/documents/{world.document.id}/live"
    with TestClient(app) as client:
        assert client.get(url).status_code == 401
        client.post("/sign-in", data={"username": "usa", "password": "correct horse battery"})

        def propose_once_listening() -> None:
            deadline = time.monotonic() + 5
            while app.state.broadcaster.listeners(channel) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            amendments.propose(
                world.database,
                actor=world.usa,
                provision_id=world.provision("OP1"),
                kind=AmendmentKind.DELETE,
            )

        thread = threading.Thread(target=propose_once_listening)
        thread.start()
        r = client.get(url)
        thread.join()
        assert r.headers["content-type"].startswith("text/event-stream")
        body = r.text
        assert body.startswith("retry: 1000\n")
        assert f"event: provision-{world.provision('OP1')}\n" in body
        assert "event: document\n" in body
        assert ": heartbeat" in body
        # a browser reconnecting after it missed events is told to re-fetch everything
        r = client.get(url, headers={"Last-Event-ID": "0"})
        assert "event: resync\n" in r.text
        r = client.get(url, headers={"Last-Event-ID": str(app.state.broadcaster.last_id(channel))})
        assert "event: resync" not in r.text


def test_the_live_stream_is_only_for_readers_of_the_document(world: World) -> None:
    from fastapi.testclient import TestClient

    app = create_app(
        Settings(secret_key="x", database_url=world.database.url), database=world.database
    )
    with TestClient(app) as client:
        client.post(
            "/api/v1/session", json={"username": "ngo", "password": "correct horse battery"}
        )
        r = client.get(f"/documents/{world.document.id}/live")
        assert r.status_code == 404
