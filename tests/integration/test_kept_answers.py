"""Answers kept until the next change (outlines, the event-log stamp): never staler than it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.config import Settings
from app.db.models import Provision
from app.domain.amendments import AmendmentKind, Decision
from app.domain.errors import NotFound
from app.main import create_app
from app.services import amendments, decisions, documents, events
from app.services.text import read_tree
from app.web.templating import SHARED_FORM_TOKEN
from tests.conftest import World
from tests.integration.test_api import sign_in

HTMX_HEADER = {"HX-Request": "true"}


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


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite: one writer at once
def test_the_log_is_numbered_in_the_order_its_transactions_commit(world: World) -> None:
    """While one transaction has written its events and not yet committed, no other can write
    any: ids are committed in order, so a reader who has seen the newest id has seen every
    event below it (`events.stamp`). (The app sends its events and its COMMIT in one round
    trip on PostgreSQL; here a pause is made between them.)"""
    import threading

    op1, op2 = world.provision("OP1"), world.provision("OP2")
    written, resume = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def slow() -> None:
        try:
            with world.database.write() as db:
                events.record(db, kind="test.slow", actor=None, subject="provision",
                              subject_id=op1, document_id=world.document.id)  # fmt: skip
                recorded = db.info.pop("log")  # written now, not by the commit: its id…
                if world.database.dialect == "postgresql":  # …drawn under the log's lock…
                    db.execute(events._INSERT_LOCKED, events._locked_rows(db, recorded))
                else:
                    db.execute(events._INSERT, [r.row for r in recorded])
                written.set()
                assert resume.wait(10)  # …a pause before the commit itself
        except BaseException as exc:
            failures.append(exc)
            written.set()

    def fast() -> None:
        try:
            amendments.propose(
                world.database, actor=world.eu, provision_id=op2, kind=AmendmentKind.DELETE
            )
        except BaseException as exc:
            failures.append(exc)

    with world.database.read() as db:
        before = events.stamp(db)
    first = threading.Thread(target=slow)
    first.start()
    assert written.wait(10) and not failures, failures
    second = threading.Thread(target=fast)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first to commit
    with world.database.read() as db:
        assert events.stamp(db) == before
    resume.set()
    first.join(10)
    second.join(10)
    assert not failures, failures
    with world.database.read() as db:
        rows = events.since(db, before)
    assert [r.kind for r in rows] == ["test.slow", "amendment.proposed"]
    assert rows[0].id < rows[1].id
    assert rows[0].subject_id == op1 and rows[1].provision_id == op2


def test_a_savepoint_rolled_back_takes_its_events_along(world: World) -> None:
    with world.database.read() as db:
        before = events.stamp(db)
    with world.database.write() as db:
        events.record(db, kind="test.kept", actor=None, subject="test", subject_id=None)
        with pytest.raises(RuntimeError), db.begin_nested():
            events.record(db, kind="test.dropped", actor=None, subject="test", subject_id=None)
            raise RuntimeError("roll back the savepoint")
    with pytest.raises(RuntimeError), world.database.write() as db:
        events.record(db, kind="test.dropped", actor=None, subject="test", subject_id=None)
        raise RuntimeError("roll back everything")
    with world.database.read() as db:
        assert [r.kind for r in events.since(db, before)] == ["test.kept"]


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


def test_a_paragraphs_list_of_proposals_is_the_one_the_query_gives(world: World) -> None:
    """The API's list of one paragraph's proposals is taken from its kept view: with a state,
    an offset and a limit, it is what the query of the service gives, before and after
    changes; a paragraph of another document, or none, lists nothing, as the query does."""
    from app.services.views import AmendmentView

    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url), database=world.database
    )
    op1, doc = world.provision("OP1"), world.document.id
    db = world.database

    def service(**filters: object) -> list[object]:
        listed = amendments.list_amendments(db, document_id=doc, provision_id=op1, **filters)
        return TypeAdapter(list[AmendmentView]).dump_python(listed, mode="json")

    with TestClient(app) as client:
        sign_in(client, "usa")
        url = f"/api/v1/documents/{doc}/amendments?provision_id={op1}"
        made = [
            amendments.propose(db, actor=actor, provision_id=op1, kind=kind, text=text)
            for actor, kind, text in (
                (world.eu, AmendmentKind.DELETE, None),
                (world.russia, AmendmentKind.INSERT_AFTER, "Also decides to act;"),
                (world.egypt, AmendmentKind.INSERT_AFTER, "Also decides to meet;"),
            )
        ]
        assert client.get(url).json() == service()
        decisions.decide(db, actor=world.mexico, amendment_id=made[1].id,
                         decision=Decision.REJECT, reason="No.")  # fmt: skip
        amendments.take_position(db, actor=world.norway, amendment_id=made[2].id, stance="oppose")
        assert client.get(url).json() == service()
        assert client.get(f"{url}&state=pending").json() == service(state="pending")
        assert client.get(f"{url}&state=rejected").json() == service(state="rejected") != []
        assert client.get(f"{url}&offset=1&limit=1").json() == service(offset=1, limit=1)
        assert len(client.get(f"{url}&offset=1&limit=1").json()) == 1
        other = f"/api/v1/documents/{doc}/amendments?provision_id=999999"
        assert client.get(other).json() == []


def test_shared_proposal_articles_show_each_viewer_their_own_forms(world: World) -> None:
    """Articles are rendered once and shared; each session still gets its own CSRF token,
    and each delegation its own buttons (proponent, supporter, opponent, neither)."""
    from tests.integration.test_pages import HTMX, keep_csrf_token
    from tests.integration.test_pages import sign_in as page_sign_in

    op1 = world.provision("OP1")
    text = documents.get_provision(world.database, provision_id=op1).provision.text
    proposal = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=text.replace("2018", "2019"),
    )
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=proposal.id, stance="support"
    )
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url), database=world.database
    )
    article = re.compile(rf'<article[^>]*id="proposal-{proposal.id}".*?</article>', re.DOTALL)
    seen, tokens = {}, set()
    with TestClient(app) as client:
        keep_csrf_token(client)
        for who in ("usa", "norway", "russia", "eu"):
            page_sign_in(client, who)
            html = client.get(f"/provisions/{op1}/panel", headers=HTMX).text
            assert SHARED_FORM_TOKEN not in html
            token = _token(html)  # the session's token, in the panel's own forms too
            found = article.search(html)
            assert found, html[:500]
            seen[who] = found.group(0)
            assert f'value="{token}"' in seen[who]  # this session's own token
            tokens.add(token)
    assert len(tokens) == 4  # four sessions, four tokens, though the articles were shared
    assert "Withdraw" in seen["usa"] and "Support" not in seen["usa"]
    assert 'value="support" aria-pressed="true"' in seen["norway"]
    assert 'value="support" aria-pressed="false"' in seen["russia"]
    assert seen["russia"].replace(_token(seen["russia"]), "") == seen["eu"].replace(
        _token(seen["eu"]), ""
    )  # same position, same article


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_change_to_one_paragraph_keeps_the_others_answers(world: World) -> None:
    from app.web.answers import document_view, provision_detail

    op1, op2 = world.provision("OP1"), world.provision("OP2")
    db, eu = world.database, world.eu
    first1, first2 = provision_detail(db, eu, op1), provision_detail(db, eu, op2)
    document = document_view(db, eu, world.document.id)
    assert provision_detail(db, eu, op1) is first1  # nothing changed
    proposal = amendments.propose(
        db,
        actor=world.usa,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=first1.provision.text.replace("2018", "2019"),
    )
    assert provision_detail(db, eu, op2) is first2  # OP2 untouched: kept
    fresh1 = provision_detail(db, eu, op1)
    assert fresh1 is not first1 and [a.id for a in fresh1.amendments][-1] == proposal.id
    assert document_view(db, eu, world.document.id) is not document  # its pending counts moved
    amendments.take_position(db, actor=world.norway, amendment_id=proposal.id, stance="oppose")
    assert provision_detail(db, eu, op2) is first2
    assert provision_detail(db, eu, op1).amendments[-1].opponents == ("Norway",)
    decisions.decide(db, actor=world.mexico, amendment_id=proposal.id, decision=Decision.BRACKET)
    assert provision_detail(db, eu, op2) is not first2  # brackets may renumber: all recomputed


def test_a_documents_answer_is_brought_up_to_date_paragraph_by_paragraph(world: World) -> None:
    """After changes to some paragraphs only, the kept document view is updated by reading
    those again (the others' views are the same objects), and equals a fresh computation; a
    change to the document as a whole computes it anew."""
    from app.web.answers import document_view

    op1, op2, op3 = world.provision("OP1"), world.provision("OP2"), world.provision("OP3")
    db, eu, doc = world.database, world.eu, world.document.id
    before = document_view(db, eu, doc)
    made = [
        amendments.propose(db, actor=world.usa, provision_id=pid, kind=AmendmentKind.DELETE)
        for pid in (op1, op3)
    ]
    after = document_view(db, eu, doc)
    assert after == documents.get_document(db, document_id=doc) != before
    old, new = {p.id: p for p in before.provisions}, {p.id: p for p in after.provisions}
    assert [p.id for p in after.provisions] == [p.id for p in before.provisions]
    assert {pid for pid in new if new[pid] is not old[pid]} == {op1, op3}
    assert new[op1].pending == old[op1].pending + 1 and new[op2] is old[op2]
    decisions.decide(db, actor=world.mexico, amendment_id=made[0].id, decision=Decision.ACCEPT)
    accepted = document_view(db, eu, doc)  # OP1 deleted: labels moved, computed anew
    assert accepted == documents.get_document(db, document_id=doc)
    assert all(p is not new[p.id] for p in accepted.provisions if p.id in new)


def test_a_paragraphs_answer_is_brought_up_to_date_proposal_by_proposal(world: World) -> None:
    """After proposals and positions on a paragraph, its kept detail is updated by reading
    those proposals again (the others' views are the same objects) and equals a fresh
    computation; any other change to the paragraph computes it anew."""
    from app.web.answers import provision_detail

    op1 = world.provision("OP1")
    db, eu = world.database, world.eu
    first = amendments.propose(
        db, actor=world.usa, provision_id=op1, kind=AmendmentKind.DELETE
    )  # fmt: skip
    amendments.propose(
        db, actor=world.egypt, provision_id=op1, kind=AmendmentKind.INSERT_AFTER,
        text="Also decides to meet again;",
    )  # fmt: skip
    before = provision_detail(db, eu, op1)
    second = amendments.propose(
        db, actor=world.russia, provision_id=op1, kind=AmendmentKind.WORDING,
        text=before.provision.text.replace("2018", "2020"),
    )  # fmt: skip
    amendments.take_position(db, actor=world.norway, amendment_id=first.id, stance="support")
    after = provision_detail(db, eu, op1)
    assert after == documents.get_provision(db, provision_id=op1) != before
    assert [a.id for a in after.amendments][-1] == second.id
    assert next(a for a in after.amendments if a.id == first.id).supporters == ("Norway",)
    unchanged = [a for a in after.amendments if a.id not in (first.id, second.id)]
    assert unchanged and all(any(a is b for b in before.amendments) for a in unchanged)
    assert after.provision.pending == before.provision.pending + 1
    decisions.decide(
        db, actor=world.mexico, amendment_id=second.id, decision=Decision.REJECT, reason="No."
    )
    rejected = provision_detail(db, eu, op1)  # a decision: computed anew
    assert rejected == documents.get_provision(db, provision_id=op1)
    assert not any(a is b for a in rejected.amendments for b in after.amendments)


def test_a_paragraphs_collisions_are_brought_up_to_date_and_kept_when_unchanged(
    world: World,
) -> None:
    """After a proposal, the paragraph's collisions are those a fresh computation finds; after
    a position, which changes none, they are the same object (what is built from them stays
    kept)."""
    from app.web.answers import provision_detail

    op1, db, eu = world.provision("OP1"), world.database, world.eu
    text = documents.get_provision(db, provision_id=op1).provision.text
    first = amendments.propose(
        db, actor=world.usa, provision_id=op1, kind=AmendmentKind.WORDING,
        text=text.replace("convene", "hold"),
    )  # fmt: skip
    before = provision_detail(db, eu, op1)
    amendments.propose(
        db, actor=world.russia, provision_id=op1, kind=AmendmentKind.WORDING,
        text=text.replace("convene", "organise"),
    )  # fmt: skip
    collided = provision_detail(db, eu, op1)
    assert collided == documents.get_provision(db, provision_id=op1) != before
    assert [c.first for c in collided.collisions] == [first.id]
    amendments.take_position(db, actor=world.norway, amendment_id=first.id, stance="support")
    supported = provision_detail(db, eu, op1)
    assert supported == documents.get_provision(db, provision_id=op1) != collided
    assert supported.collisions is collided.collisions


def test_a_paragraph_changed_more_often_than_remembered_is_computed_anew(world: World) -> None:
    """Only a paragraph's latest touches are remembered: when its kept answer is older than
    all of them, which proposals changed is not known, and the answer is computed again."""
    from app.web.answers import provision_detail
    from app.web.kept import _Touches

    op1, db, eu = world.provision("OP1"), world.database, world.eu
    first, second = (
        amendments.propose(db, actor=actor, provision_id=op1, kind=kind, text=text)
        for actor, kind, text in (
            (world.usa, AmendmentKind.DELETE, None),
            (world.egypt, AmendmentKind.INSERT_AFTER, "Also decides to meet;"),
        )
    )
    before = provision_detail(db, eu, op1)
    amendments.take_position(db, actor=world.norway, amendment_id=first.id, stance="support")
    for n in range(_Touches.HISTORY):  # then more touches than are remembered, all on `second`
        stance = "oppose" if n % 2 else "support"
        amendments.take_position(db, actor=world.russia, amendment_id=second.id, stance=stance)
    after = provision_detail(db, eu, op1)
    assert after == documents.get_provision(db, provision_id=op1) != before
    assert next(a for a in after.amendments if a.id == first.id).supporters == ("Norway",)


def test_a_request_shares_a_stamp_read_only_if_it_was_read_after_the_request_arrived(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests answered together share the reads of the event log made after they arrived,
    never one made before: a change committed before a request arrived is always seen."""
    import time

    from app.web.kept import ViewCache, _Reader, _RequestMemo

    cache = ViewCache(world.database)
    reads: list[str] = []

    def counted(name: str) -> Any:
        read = getattr(events, name)

        def note(*args: object) -> Any:
            reads.append(name)
            return read(*args)

        return note

    for name in ("stamp", "since"):  # a read of the stamp: the log's newest id, or since one
        monkeypatch.setattr(events, name, counted(name))

    def stamp_for(arrived: float) -> int:
        token = events.reading.set(_RequestMemo(arrived))
        try:
            with _Reader(world.database) as reader:
                return cache._stamp(reader)
        finally:
            events.reading.reset(token)

    early = time.monotonic()
    first = stamp_for(time.monotonic())
    amendments.propose(
        world.database, actor=world.eu, provision_id=world.provision("OP2"),
        kind=AmendmentKind.DELETE,
    )  # fmt: skip
    count = len(reads)
    assert stamp_for(early) == first and len(reads) == count  # arrived before: shares the read
    later = stamp_for(time.monotonic())  # arrived after the change: reads again, and sees it
    assert later > first and len(reads) == count + 1
    assert stamp_for(early) == later and len(reads) == count + 1


@contextlib.contextmanager
def serving(world: World, database: Any = None) -> Iterator[TestClient]:
    """A server process in miniature: its own app, `Database` (unless given one) and kept
    answers."""
    from app.db.session import Database

    own = database is None
    database = database or Database(world.database.url)
    app = create_app(
        Settings(secret_key="test-secret", database_url=database.url), database=database
    )
    try:
        with TestClient(app) as client:
            yield client
    finally:
        if own:
            database.dispose()  # its connections end with it, as a process's would


def test_a_kept_session_ends_on_every_worker_when_its_user_signs_out(world: World) -> None:
    with serving(world) as a, serving(world) as b:
        sign_in(a, "usa")
        b.cookies = a.cookies  # the same browser, its requests balanced over two workers
        b.headers["X-CSRF-Token"] = a.headers["X-CSRF-Token"]
        assert a.get("/api/v1/me").json()["username"] == "usa"
        assert b.get("/api/v1/me").json()["username"] == "usa"  # now kept by worker b too
        stolen = dict(a.cookies)
        assert a.delete("/api/v1/session").status_code == 204  # signed out through worker a
        b.cookies = stolen  # a copy of the cookie, sent to the worker that kept the session
        refused = b.get("/api/v1/me")
        assert refused.status_code == 401, refused.text
        assert refused.json()["message"] == "Your session has ended; please sign in again."


def test_a_kept_session_still_ends_with_its_lifetime(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from app.services import accounts
    from app.services.accounts import SESSION_LIFETIME
    from app.timeutil import utcnow

    with serving(world) as client:
        sign_in(client, "usa")
        assert client.get("/api/v1/me").status_code == 200  # kept from here on
        later = utcnow() + SESSION_LIFETIME + timedelta(minutes=1)
        monkeypatch.setattr(accounts, "utcnow", lambda: later)
        assert client.get("/api/v1/me").status_code == 401


def test_a_kept_answer_follows_its_documents_visibility(world: World) -> None:
    op1 = world.provision("OP1")
    with serving(world) as delegate, serving(world) as stakeholder:
        sign_in(delegate, "usa")
        kept = delegate.get(f"/api/v1/provisions/{op1}")
        assert kept.status_code == 200
        sign_in(stakeholder, "ngo")
        assert stakeholder.get(f"/api/v1/provisions/{op1}").status_code == 404
        documents.set_visibility(
            world.database, actor=world.secretariat, document_id=world.document.id,
            visibility="public",
        )  # fmt: skip
        assert stakeholder.get(f"/api/v1/provisions/{op1}").json() == kept.json()
        documents.set_visibility(
            world.database, actor=world.secretariat, document_id=world.document.id,
            visibility="restricted",
        )  # fmt: skip
        assert stakeholder.get(f"/api/v1/provisions/{op1}").status_code == 404
        assert delegate.get(f"/api/v1/provisions/{op1}").status_code == 200


def test_a_shared_panel_frame_gives_each_delegate_their_own_panel(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delegates' panels are put together from one frame per state of the provision; each must
    be, byte for byte, the panel rendered for that delegate alone: own proposals (the
    delegation's and its group's), positions, who the forms speak for, a reservation held."""
    from app.domain.provisions import ProvisionStatus
    from app.web.pages import text as text_pages
    from tests.integration.test_pages import HTMX, keep_csrf_token
    from tests.integration.test_pages import sign_in as page_sign_in

    op1, op2 = world.provision("OP1"), world.provision("OP2")
    words = documents.get_provision(world.database, provision_id=op1).provision.text
    by_usa = amendments.propose(
        world.database, actor=world.usa, provision_id=op1, kind=AmendmentKind.WORDING,
        text=words.replace("2018", "2019"),
    )  # fmt: skip
    by_eu = amendments.propose(
        world.database, actor=world.eu, provision_id=op1, kind=AmendmentKind.DELETE,
        on_behalf_of="EU",
    )  # fmt: skip
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=by_usa.id, stance="support"
    )
    amendments.take_position(
        world.database, actor=world.russia, amendment_id=by_eu.id, stance="oppose"
    )
    decisions.set_status(
        world.database, actor=world.mexico, provision_id=op2,
        status=ProvisionStatus.AGREED_PENDING, reservation="RUS",
    )  # fmt: skip
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url), database=world.database
    )
    paths = [f"/provisions/{p}/panel" for p in (op1, op2)] + [f"/provisions/{op1}/state"]
    with TestClient(app) as client:
        keep_csrf_token(client)
        for who in ("usa", "eu", "egypt", "norway", "russia"):
            page_sign_in(client, who)
            shared = [client.get(path, headers=HTMX) for path in paths]
            with monkeypatch.context() as alone:
                alone.setattr(text_pages._SharedPanels, "shares", staticmethod(lambda _: False))
                rendered = [client.get(path, headers=HTMX) for path in paths]
            for path, one, other in zip(paths, shared, rendered, strict=True):
                assert one.status_code == other.status_code == 200
                assert one.text == other.text, (who, path)
            assert SHARED_FORM_TOKEN not in shared[0].text
            assert "\x00" not in shared[0].text
            seen = shared[0].text
            if who == "usa":
                assert "Withdraw" in seen
            if who == "norway":
                assert 'value="support" aria-pressed="true"' in seen
            if who == "egypt":
                assert "on behalf of G77" in seen
    assert len(text_pages._shared_panels._kept) >= 2  # the frames were shared, not bypassed
    # who the forms speak for is kept per delegate, not per form (the form's id filled in)
    assert {key[0] for key in text_pages._shared_panels._own} == {"speaking-as", "on-behalf"}


def test_a_production_server_computes_its_answers_at_start(world: World) -> None:
    from app.web.answers import document_view, provision_detail
    from app.web.kept import views_of
    from app.web.pages import text as text_pages

    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url, warm_start=True),
        database=world.database,
    )
    with TestClient(app) as client:
        assert app.state.warm.wait(60)
        assert client.get("/health/ready").json()["kept_answers"] == "ready"
        cache = views_of(world.database)
        before = cache.misses
        document = document_view(world.database, world.usa, world.document.id)
        for p in document.provisions:  # every provision's answer is there already
            assert provision_detail(world.database, world.norway, p.id).provision.id == p.id
        assert cache.misses == before
        frames = len(text_pages._shared_panels._kept)
        assert frames >= len(document.provisions)
        sign_in(client, "usa")
        panel = client.get(f"/provisions/{world.provision('OP1')}/panel", headers=HTMX_HEADER)
        assert panel.status_code == 200 and "Propose" in panel.text
        assert len(text_pages._shared_panels._kept) == frames  # served from a warmed frame
        assert cache.misses == before + 1  # only the session's actor was read
        gzip = {"Accept-Encoding": "gzip"}
        packed = client.get(f"/api/v1/documents/{world.document.id}", headers=gzip)
        assert packed.headers["content-encoding"] == "gzip"
        for p in document.provisions:
            client.get(f"/api/v1/provisions/{p.id}", headers=gzip).raise_for_status()
        assert cache.misses == before + 1  # compressed at start-up too


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # a server's connections
def test_a_kept_answer_survives_its_connection_dying(world: World) -> None:
    """The stamp's connections are not pinged before use (a round trip per request): one that
    died with the server (a restart cuts every connection) fails its first statement, and the
    read runs again on a fresh one."""
    from sqlalchemy import text

    from app.web.answers import provision_detail

    assert world.database.dialect == "postgresql"
    op1 = world.provision("OP1")
    first = provision_detail(world.database, world.eu, op1)  # the peek pool holds a connection
    name = world.database.engine.url.database
    with world.database.engine.connect() as admin:
        cut = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).scalar()
    assert cut and cut >= 1
    assert provision_detail(world.database, world.eu, op1) is first  # read again, still kept


def test_kept_answers_are_never_staler_than_the_database_under_concurrent_writes(
    world: World,
) -> None:
    """Writers in parallel (on PostgreSQL their transactions commit in any order) while readers
    keep answers: once the writers are done, every kept answer equals a fresh computation."""
    import random
    import threading

    from app.web.answers import provision_detail

    provisions = [p.id for p in world.document.provisions]
    delegates = [world.usa, world.norway, world.russia, world.egypt]
    done = threading.Event()
    failures: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for n in range(12):
                pid = rng.choice(provisions)
                text = documents.get_provision(world.database, provision_id=pid).provision.text
                amendments.propose(
                    world.database, actor=delegates[seed], provision_id=pid,
                    kind=AmendmentKind.WORDING, text=f"{text} ({seed}-{n})",
                )  # fmt: skip
        except BaseException as exc:
            failures.append(exc)

    def read(seed: int) -> None:
        rng = random.Random(100 + seed)
        while not done.is_set():
            provision_detail(world.database, world.eu, rng.choice(provisions))

    writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    readers = [threading.Thread(target=read, args=(i,)) for i in range(3)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert not failures, failures
    for pid in provisions:
        fresh = documents.get_provision(world.database, provision_id=pid)
        assert provision_detail(world.database, world.eu, pid) == fresh, pid


def test_a_requests_read_of_the_log_is_what_its_proposal_checks_the_kept_round_against(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proposal through the API asks the database nothing its request has already read
    (whether the outline, the directory or the current round changed: the read of the log made
    first thing says), and still sees a round opened, a deadline moved or a late submission
    granted elsewhere as soon as it is committed."""
    from datetime import UTC, datetime

    from sqlalchemy import event as sa_event

    from app import timeutil
    from app.services import process

    now = [datetime(2017, 1, 10, 12, 0, tzinfo=UTC)]
    monkeypatch.setattr(timeutil, "utcnow", lambda: now[0])
    op1 = world.provision("OP1")
    with serving(world) as worker:
        sign_in(worker, "usa")
        statements: list[str] = []
        sa_event.listen(
            worker.app.state.database.engine,  # type: ignore[attr-defined]
            "before_cursor_execute",
            lambda _c, _cu, statement, *_: statements.append(statement),
        )

        def propose(words: str) -> object:
            statements.clear()
            return worker.post(
                "/api/v1/amendments",
                json={"provision_id": op1, "kind": "wording", "text": world.text("OP1") + words},
            )

        assert propose(" First.").status_code == 201  # what it keeps is read here
        assert propose(" Second.").status_code == 201
        asked = " ".join(statements)
        assert "GROUP BY events.kind" not in asked  # has the outline moved?
        assert "FROM rounds" not in asked and "FROM delegations" not in asked

        rnd = process.open_round(  # another process: the worker hears of it through the log
            world.database, actor=world.mexico, document_id=world.document.id,
            name="written proposals", deadline=datetime(2017, 1, 13, 18, 0),
        )  # fmt: skip
        now[0] = datetime(2017, 1, 14, 12, 0, tzinfo=UTC)
        refused = propose(" Late.")
        assert refused.status_code == 422, refused.text
        assert "deadline for written proposals passed" in refused.json()["message"]
        process.grant_late_submission(
            world.database, actor=world.mexico, round_id=rnd.id, delegation="USA",
            until=datetime(2017, 1, 16, 12, 0), reason="Capital's instructions delayed",
        )  # fmt: skip
        assert propose(" Late.").status_code == 201
        now[0] = datetime(2017, 1, 17, 12, 0, tzinfo=UTC)
        assert propose(" Later.").status_code == 422
        process.move_deadline(
            world.database, actor=world.mexico, round_id=rnd.id,
            deadline=datetime(2017, 1, 20, 18, 0),
        )  # fmt: skip
        assert propose(" Later.").status_code == 201
        assert "FROM rounds" in " ".join(statements)  # read again once, after the change
        assert propose(" Later still.").status_code == 201
        assert "FROM rounds" not in " ".join(statements)


def test_delegations_added_while_serving_are_in_the_next_answers(world: World) -> None:
    """The directory is kept until the log says it grew (`load_reference_data` records it):
    a delegation added to a running server's database can propose at once."""
    from sqlalchemy import text

    from app.db.models import Delegation
    from app.domain.roles import Role
    from app.services import accounts
    from app.services.directory import load_reference_data
    from tests.integration.test_api import PASSWORD

    with world.database.write() as db:  # a delegation the shipped data has, not yet loaded
        tuvalu = db.query(Delegation).filter_by(code="TUV").one()
        db.execute(text("DELETE FROM group_members WHERE delegation_id = :d"), {"d": tuvalu.id})
        db.delete(tuvalu)
    with serving(world) as worker:
        sign_in(worker, "usa")
        op1 = world.provision("OP1")
        first = {"provision_id": op1, "kind": "wording", "text": world.text("OP1") + " One."}
        assert worker.post("/api/v1/amendments", json=first).status_code == 201  # kept now
        assert load_reference_data(world.database)[0] == 1
        accounts.create_user(
            world.database, actor=None, username="tuvalu", display_name="Tuvalu",
            role=Role.DELEGATE, password=PASSWORD, delegation="TUV",
        )  # fmt: skip
        worker.cookies.clear()
        sign_in(worker, "tuvalu")
        second = {"provision_id": op1, "kind": "wording", "text": world.text("OP1") + " Two."}
        made = worker.post("/api/v1/amendments", json=second)
        assert made.status_code == 201, made.text
        assert made.json()["proponents"] == ["Tuvalu"]
