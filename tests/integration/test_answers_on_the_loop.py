"""Requests whose answers are all kept are answered on the event loop, without a thread
(`app.web.kept.answer`); anything else in a thread, with the same answer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from app.db.session import Database, WouldWait
from app.services import events
from app.web import kept
from tests.conftest import World
from tests.integration.test_api import sign_in
from tests.integration.test_kept_answers import serving

HTMX_HEADER = {"HX-Request": "true"}


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The works `kept.answer` sent to a thread, by the name of the thread's function."""
    sent: list[str] = []
    to_a_thread = kept.run_in_threadpool

    async def counted(work: Any) -> Any:
        sent.append(work.__qualname__)
        return await to_a_thread(work)

    monkeypatch.setattr(kept, "run_in_threadpool", counted)
    return sent


def test_a_kept_answer_is_given_without_a_thread(world: World, hops: list[str]) -> None:
    """Once a paragraph, panel or page is kept (and the visibility of its document: the
    second read), it is answered on the event loop."""
    op1 = world.provision("OP1")
    reads = [
        ("/api/v1/me", {}),  # (first: the session is read once, then kept for the others)
        (f"/api/v1/provisions/{op1}", {}),
        (f"/provisions/{op1}/panel", HTMX_HEADER),
        (f"/documents/{world.document.id}", {}),
    ]
    with serving(world, world.database) as client:
        sign_in(client, "eu")
        for path, headers in reads:
            first = client.get(path, headers=headers)
            assert first.status_code == 200, first.text
            assert hops, f"{path}: computed on the loop, where nothing can be read"
            assert client.get(path, headers=headers).content == first.content
            hops.clear()
            assert client.get(path, headers=headers).content == first.content
            assert hops == [], path


def test_a_write_is_never_tried_on_the_loop(
    world: World, hops: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []
    on_the_loop = Database.on_the_loop

    def noted(self: Database) -> Any:
        tried.append("loop")
        return on_the_loop(self)

    monkeypatch.setattr(Database, "on_the_loop", noted)
    op1 = world.provision("OP1")
    with serving(world, world.database) as client:
        sign_in(client, "eu")
        client.get(f"/api/v1/provisions/{op1}").raise_for_status()
        tried.clear()
        proposed = client.post(
            "/api/v1/amendments",
            json={"provision_id": op1, "kind": "delete", "justification": "Not needed."},
        )
        assert proposed.status_code == 201, proposed.text
        assert tried == [] and len(hops) >= 1


def test_a_change_through_another_worker_is_in_the_next_answer_on_the_loop(
    world: World, hops: list[str]
) -> None:
    """Worker b answers from its kept answers on the loop; a proposal made through worker a is
    in b's very next answer (b reads the log's position on the loop before each request), and
    the answer after that is kept again."""
    op1 = world.provision("OP1")
    with serving(world) as a, serving(world) as b:
        sign_in(a, "usa")
        sign_in(b, "eu")
        b.get(f"/api/v1/provisions/{op1}").raise_for_status()
        before = b.get(f"/api/v1/provisions/{op1}").json()
        wording = before["provision"]["text"].replace("2018", "2019")
        a.post(
            "/api/v1/amendments", json={"provision_id": op1, "kind": "wording", "text": wording}
        ).raise_for_status()
        hops.clear()
        after = b.get(f"/api/v1/provisions/{op1}").json()
        assert [x["proposed_text"] for x in after["amendments"]] == [
            *(x["proposed_text"] for x in before["amendments"]),
            wording,
        ]
        assert hops, "the changed paragraph is read again, in a thread"
        hops.clear()
        assert b.get(f"/api/v1/provisions/{op1}").json() == after
        assert hops == []


def test_the_loop_refuses_every_way_to_the_database(world: World) -> None:
    """On the loop nothing may wait: each way to the database refuses before it takes a
    connection; an answer not kept is not begun, and one another thread is computing is not
    waited for."""
    import threading

    from app.web.answers import provision_detail

    database = world.database
    op1 = world.provision("OP1")
    ways = {
        "read": lambda: database.read().__enter__(),
        "write": lambda: database.write().__enter__(),
        "peek": lambda: database.peek().__enter__(),
        "ping": database.ping,
    }
    for name, way in ways.items():
        with database.on_the_loop(), pytest.raises(WouldWait):
            way()
            pytest.fail(f"{name} was allowed on the loop")
    cache = kept.views_of(database)
    token = events.reading.set(kept._RequestMemo(time.monotonic()))  # one request's reads
    try:
        with kept._Reader(database) as reader:
            stamp = cache._stamp(reader)  # read off the loop, as `answer` does first
        misses = cache.misses
        with database.on_the_loop(), pytest.raises(WouldWait):
            provision_detail(database, world.eu, op1)  # not kept: would be computed
        assert cache.misses == misses  # nothing begun, nothing left half-done
        for _ in range(2):  # off the loop: computed, then its document's visibility kept
            detail = provision_detail(database, world.eu, op1)
        with database.on_the_loop():  # kept, the log read already: nothing to wait for
            assert provision_detail(database, world.eu, op1) is detail
        under_way = cache._entries[("under way",)] = kept._Entry(stamp)  # another thread's
        finish = threading.Timer(2.0, under_way.done.set)  # (so that a wait would end)
        finish.start()
        with database.on_the_loop(), pytest.raises(WouldWait):
            cache.get(("under way",), lambda: "computed")
        assert not under_way.done.is_set()  # refused at once, not after the wait
        finish.cancel()
    finally:
        events.reading.reset(token)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_read_on_the_loop_that_hangs_gives_up_and_the_next_one_reconnects(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request of a worker waits for the loop's one read: a read that hangs (a
    connection cut silently on the way) must end, and not take the next one with it."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from app.db.peek import LoopPeeks

    monkeypatch.setattr(LoopPeeks, "READ_SECONDS", 0.3)
    peeks = database.loop_peeks
    assert peeks is not None

    async def reads() -> tuple[float, int]:
        started = time.monotonic()
        with pytest.raises(DBAPIError):
            await peeks.execute(text("SELECT pg_sleep(5)"))
        waited = time.monotonic() - started
        return waited, (await peeks.execute(text("SELECT 1"))).scalar()

    waited, answer = asyncio.run(reads())
    assert waited < 2 and answer == 1


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_reads_go_to_threads_while_the_loops_connection_is_cut(
    world: World, hops: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server restart cuts the loop's connection: the next request reads in a thread (and is
    answered), and once the pause is over the loop opens a fresh connection."""
    monkeypatch.setattr(kept.ViewCache, "LOOP_PAUSE", 0.0)
    op1 = world.provision("OP1")
    path = f"/api/v1/provisions/{op1}"
    with serving(world) as client:
        sign_in(client, "eu")
        expected = client.get(path).content
        client.get(path).raise_for_status()
        hops.clear()
        with world.database.engine.connect() as admin:
            cut = admin.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND application_name = 'rolltext-peek'"
                )
            ).scalar()
        assert cut and cut >= 1
        assert client.get(path).content == expected  # the loop's read failed: in a thread
        assert len(hops) == 1
        hops.clear()
        assert client.get(path).content == expected  # a fresh connection, on the loop
        assert hops == []


def test_a_route_that_takes_the_signed_in_actor_looks_it_up_without_a_thread(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ActorDep` and `ViewerDep` (the routes not written with `Caller` or `Visit`) find a
    kept session on the event loop: a `GET` takes one thread hop, its `def` endpoint's."""
    import anyio.to_thread

    ran: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(getattr(function, "__qualname__", repr(function)))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    op1 = world.provision("OP1")
    with serving(world, world.database) as client:
        sign_in(client, "eu")
        for path in (f"/provisions/{op1}/history", f"/api/v1/documents/{world.document.id}/akn"):
            assert client.get(path).status_code == 200
            ran.clear()
            assert client.get(path).status_code == 200
            assert len(ran) == 1, (path, ran)  # the endpoint, not the actor


def test_what_takes_long_to_render_is_rendered_in_a_thread(world: World, hops: list[str]) -> None:
    """On the loop, every other request of the worker waits: the whole text's lines, a panel's
    shared frame and a panel rendered whole (a co-facilitator's) are rendered in a thread even
    when everything they show is kept; what they are kept as is then given on the loop."""
    from app.web.pages import text as text_pages

    op1 = world.provision("OP1")
    page, panel = f"/documents/{world.document.id}", f"/provisions/{op1}/panel"
    with serving(world, world.database) as client:
        for who, path, forget in (
            ("eu", page, lambda: text_pages._kept_text._kept.clear()),
            ("eu", panel, lambda: text_pages._shared_panels._kept.clear()),
            ("cofac.mexico", panel, lambda: None),  # never kept: rendered for each request
        ):
            sign_in(client, who)
            headers = HTMX_HEADER if path == panel else {}
            for _ in range(2):
                client.get(path, headers=headers).raise_for_status()
            forget()
            hops.clear()
            client.get(path, headers=headers).raise_for_status()
            assert len(hops) == 1, (who, path)
            if who == "eu":  # kept again: on the loop
                hops.clear()
                client.get(path, headers=headers).raise_for_status()
                assert hops == [], (who, path)
