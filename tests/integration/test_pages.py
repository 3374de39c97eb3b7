"""The browser workspace on both databases: every page's essentials, every form's refusals shown
next to it, and a delegate's words escaped everywhere they appear."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from html import unescape

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain.amendments import AmendmentKind, Decision
from app.domain.outline import parse_outline
from app.domain.provisions import ProvisionStatus
from app.main import create_app
from app.services import amendments, decisions, documents
from app.web.pages.text import PAGE
from tests.conftest import World

PASSWORD = "correct horse battery"
OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"
HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )
    with TestClient(app) as c:
        yield keep_csrf_token(c)


def keep_csrf_token(client: TestClient) -> TestClient:
    """Send back the CSRF token the server hands out at sign-in, as a browser page would."""

    def remember(response: httpx.Response) -> None:
        if token := response.headers.get("X-CSRF-Token"):
            client.headers["X-CSRF-Token"] = token

    client.event_hooks["response"].append(remember)
    return client


def sign_in(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    r = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def text_of(html: str) -> str:
    """The visible words of a fragment, whitespace collapsed (to assert on sentences)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def propose(world: World, label: str, new: str, *, who: str = "eu", **kw: object) -> int:
    actor = getattr(world, who)
    view = amendments.propose(
        world.database,
        actor=actor,
        provision_id=world.provision(label),
        kind=AmendmentKind.WORDING,
        text=new,
        **kw,  # type: ignore[arg-type]
    )
    return view.id


# -- signing in ---------------------------------------------------------------------------------


def test_sign_in_out_and_who_you_are(client: TestClient, world: World) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=/"
    r = client.get("/documents/1", headers=HTMX)
    assert r.headers["HX-Redirect"].startswith("/sign-in?next=")
    r = client.post("/sign-in", data={"username": "eu", "password": "wrong", "next": "/"})
    assert r.status_code == 401
    assert "Unknown username or wrong password." in r.text
    assert 'value="eu"' in r.text  # the username is kept
    r = client.post(
        "/sign-in",
        data={"username": "eu", "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"
    page = client.get("/").text
    assert "Eu" in page and "Delegate · EU · speaks for European Union" in page
    assert "GCM/test" in page
    assert client.get("/api/v1/me").json()["username"] == "eu"  # the same session as the API
    r = client.post("/sign-out", follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_signed_out_reader_is_sent_to_sign_in_before_the_address_is_checked(
    client: TestClient,
) -> None:
    """The text's pages (answered in one thread hop, app/web/pages/viewer.py `Visit`) send a
    request without a session to sign in, as every page does, even when the address itself is
    wrong: the sign-in page, not the page saying the form is not complete."""
    for address in ("/documents/abc", "/documents/1?open=x", "/provisions/1/panel"):
        r = client.get(address, follow_redirects=False)
        assert r.status_code == 303, (address, r.status_code)
        assert r.headers["location"].startswith("/sign-in?next="), address
    r = client.get("/provisions/abc/panel", headers=HTMX)
    assert r.headers["HX-Redirect"].startswith("/sign-in?next=")


def test_demo_accounts_are_listed_only_in_demo_mode(world: World) -> None:
    quiet = create_app(Settings(secret_key="x", database_url=world.database.url), world.database)
    with TestClient(quiet) as c:
        assert "Demo accounts" not in c.get("/sign-in").text
    demo = create_app(
        Settings(secret_key="x", database_url=world.database.url, demo=True), world.database
    )
    with TestClient(demo) as c:
        page = c.get("/sign-in").text
        assert "Demo accounts" in page
        assert 'data-username="eu.delegate"' in page and 'value="eu-delegate-2016"' in page


def test_cross_site_posts_are_refused(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    r = client.post(
        f"/provisions/{world.provision('OP1')}/proposals",
        data={"kind": "delete"},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403 and "another site" in r.text


# -- reading ------------------------------------------------------------------------------------


def test_home_and_the_text(client: TestClient, world: World) -> None:
    proposal = propose(world, "OP1", OP1.replace("in 2018", "in the second half of 2018"))
    decisions.set_status(
        world.database,
        actor=world.mexico,
        provision_id=world.provision("PP2"),
        status=ProvisionStatus.AGREED_AD_REF,
    )
    sign_in(client, "norway")
    home = client.get(f"/negotiations/{world.negotiation_id}").text
    assert "Zero draft" in home and "23 November 2016" in home
    assert f"/api/v1/documents/{world.document.id}/export/clean?revision=0" in home
    assert 'data-count="pending">1<' in home and 'data-count="agreed">1<' in home
    # the machine-readable downloads work with the browser's session, not only with a token
    akn = f"/api/v1/documents/{world.document.id}/akn?revision=0"
    feed = f"/api/v1/documents/{world.document.id}/feed"
    assert akn in home and feed in home
    assert b"<akomaNtoso" in client.get(akn).content
    assert [p["id"] for p in client.get(feed).json()["proposals"]] == [f"A-{proposal}"]

    page = client.get(f"/documents/{world.document.id}").text
    for label in ("PP1", "PP2", "OP1", "OP2", "OP2 (a)", "OP2 (b)", "OP3"):
        assert f">{label}</button>" in page
    assert "<em>The General Assembly</em>," in page
    assert "<em>Recalling</em> the New York Declaration" in page  # italic opening words
    assert "<em>Decides</em> to convene" in page
    assert 'class="badge st-palegreen" data-status="agreed_ad_ref">agreed ad ref<' in page
    assert 'data-status="not_discussed">not yet discussed<' in page
    assert 'data-pending="1">1 proposal<' in page
    assert 'sse-connect="/documents/' in page and 'hx-trigger="sse:provision-' in page
    assert 'dir="auto"' in page
    assert "agreed ad ref" in page and "not agreed" in page  # the legend


def test_the_panel_shows_proposals_as_tracked_changes(client: TestClient, world: World) -> None:
    first = propose(
        world,
        "OP1",
        OP1.replace("convene", "hold"),
        on_behalf_of="EU",
        justification="Hold is the usual verb.",
    )
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=first, stance="support"
    )
    amendments.take_position(
        world.database, actor=world.russia, amendment_id=first, stance="oppose"
    )
    second = propose(world, "OP1", OP1.replace("convene", "organise"), who="usa")
    sign_in(client, "norway")
    op1 = world.provision("OP1")
    panel = client.get(f"/provisions/{op1}/panel", headers=HTMX).text
    assert "<del>convene</del><ins>hold</ins>" in panel
    assert "(EU; supported by Norway; opposed by Russian Federation)" in text_of(panel)
    assert "Hold is the usual verb." in panel
    assert f"Collides with A-{second} on “convene”" in panel
    assert f"Collides with A-{first} on “convene”" in panel
    assert "Version 1" in panel and "the text as circulated" in panel
    assert 'hx-trigger="sse:provision-' in panel
    # the propose form sits outside the live state, so the stream never replaces it
    state_end = panel.index('<div class="panel-forms"')
    assert panel.index('id="propose-wording-') > state_end

    decisions.decide(
        world.database, actor=world.mexico, amendment_id=first, decision=Decision.ACCEPT
    )
    state = client.get(f"/provisions/{op1}/state", headers=HTMX).text
    assert "Needs redraft" in state
    assert "accepted" in state  # decided proposals are kept, below
    history = client.get(f"/provisions/{op1}/history").text
    assert "Version 2" in history and "a proposal accepted" in history
    assert "<del>convene</del><ins>hold</ins>" in history


def test_collisions_shown_follow_the_paragraph(client: TestClient, world: World) -> None:
    """Each proposal's collisions are indexed once per state of the paragraph, and again after
    a change."""
    op1 = world.provision("OP1")
    first = propose(world, "OP1", OP1.replace("convene", "hold"))
    sign_in(client, "norway")
    assert "Collides with" not in client.get(f"/provisions/{op1}/panel", headers=HTMX).text
    second = propose(world, "OP1", OP1.replace("convene", "organise"), who="usa")
    panel = client.get(f"/provisions/{op1}/panel", headers=HTMX).text
    assert f"Collides with A-{second} on “convene”" in panel
    assert f"Collides with A-{first} on “convene”" in panel
    amendments.withdraw(world.database, actor=world.usa, amendment_id=second)
    assert "Collides with" not in client.get(f"/provisions/{op1}/panel", headers=HTMX).text


def listed(html: str) -> list[int]:
    """The proposals a panel lists, in order."""
    return [int(i) for i in re.findall(r'<article class="proposal[^"]*" id="proposal-(\d+)"', html)]


def test_a_busy_panel_lists_a_page_of_proposals_and_more_on_demand(
    client: TestClient, world: World
) -> None:
    op1 = world.provision("OP1")
    tabled = [propose(world, "OP1", f"{OP1} ({i})", who="usa") for i in range(PAGE + 7)]
    for a in tabled[:4]:  # the oldest four decided, rejected in turn
        decisions.decide(
            world.database,
            actor=world.mexico,
            amendment_id=a,
            decision=Decision.REJECT,
            reason="Not taken up.",
        )
    pending = tabled[4:]
    sign_in(client, "norway")

    panel = client.get(f"/provisions/{op1}/panel", headers=HTMX).text
    assert listed(panel) == pending[:PAGE] + tabled[:4][::-1]  # as tabled; decided latest first
    assert f"Pending proposals ({len(pending)})" in text_of(panel)
    more = (
        f"/provisions/{op1}/state?view=panel&amp;pending={2 * PAGE}&amp;decided={PAGE}"
        "&amp;more=pending"
    )
    assert f'hx-get="{more}"' in panel
    unlisted = len(pending) - PAGE
    assert f"Show {unlisted} more pending proposals ({unlisted} not listed)" in text_of(panel)
    assert "data-shown" not in panel  # the first page: nothing to carry

    state = client.get(unescape(more), headers=HTMX).text
    assert listed(state) == pending + tabled[:4][::-1]
    # keyboard focus goes where the new page starts (HTMX focuses `autofocus`)
    focus = state.index("autofocus")
    assert state.index(f'id="proposal-{pending[PAGE - 1]}"') < focus
    assert focus < state.index(f'id="proposal-{pending[PAGE]}"')
    assert f"Pending proposals {PAGE + 1} to {len(pending)} of {len(pending)}" in text_of(state)
    assert "more pending" not in state
    assert f'data-shown="{2 * PAGE} {PAGE}"' in state  # rolltext.js sends it back as X-Shown

    # the live refresh and a one-click action send the header back: still everything listed
    carried = {**HTMX, "X-Shown": f"{2 * PAGE} {PAGE}"}
    refreshed = client.get(f"/provisions/{op1}/state", headers=carried).text
    assert listed(refreshed) == listed(state)
    assert "autofocus" not in refreshed  # a live refresh leaves focus where it is
    last = pending[-1]
    acted = client.post(f"/amendments/{last}/position", data={"stance": "support"}, headers=carried)
    assert acted.status_code == 200
    assert f"Norway supports A-{last}." in text_of(acted.text)
    assert listed(acted.text) == listed(state)

    # without JavaScript, the provision's own page lists as many
    own = client.get(f"/provisions/{op1}?pending={2 * PAGE}").text
    assert listed(own) == listed(state)

    # counts are whole pages, at least one; nonsense is refused and changes nothing
    def pending_listed(asked: str) -> list[int]:
        shown = listed(client.get(f"/provisions/{op1}/state?pending={asked}", headers=HTMX).text)
        return [a for a in shown if a in pending]

    assert pending_listed("3") == pending_listed("0") == pending[:PAGE]
    assert pending_listed(str(PAGE + 1)) == pending
    # no more than the paragraph needs: asking for thousands keeps no other copy of the panel
    many = client.get(f"/provisions/{op1}/state?pending=5000", headers=HTMX).text
    assert listed(many) == listed(state) and f'data-shown="{2 * PAGE} {PAGE}"' in many
    for bad in ("pending=many", "decided=-1", "pending=1e3", "pending=" + "9" * 5000):
        refused = client.get(f"/provisions/{op1}/state?{bad}", headers=HTMX)
        assert refused.status_code == 422, bad
        assert "How many proposals to list must be whole numbers" in text_of(refused.text)
    # the co-facilitators' review queue, fetched again whole on every change, says what each
    # of its paragraphs lists (X-Shown-Queue, from rolltext.js): the others list a page
    sign_in(client, "cofac.mexico")
    queue_url = f"/documents/{world.document.id}/queue"
    listed_in_queue = listed(
        client.get(
            queue_url,
            headers={**HTMX, "X-Shown-Queue": f"999 {4 * PAGE} {PAGE},{op1} {2 * PAGE} {PAGE}"},
        ).text
    )
    assert [a for a in listed_in_queue if a in pending] == pending
    assert [a for a in listed(client.get(queue_url, headers=HTMX).text) if a in pending] == pending[
        :PAGE
    ]
    refused = client.get(queue_url, headers={**HTMX, "X-Shown-Queue": f"{op1} all"})
    assert refused.status_code == 422
    sign_in(client, "norway")

    # on a change, a header made up lists the first pages (the change is made all the same)
    made_up = {**HTMX, "X-Shown": "all"}
    acted = client.post(
        f"/amendments/{pending[0]}/position", data={"stance": "oppose"}, headers=made_up
    )
    assert acted.status_code == 200
    assert listed(acted.text) == pending[:PAGE] + tabled[:4][::-1]
    detail = documents.get_provision(world.database, provision_id=op1)
    assert next(a for a in detail.amendments if a.id == pending[0]).opponents == ("Norway",)


# -- proposing ----------------------------------------------------------------------------------


def test_live_preview_of_a_proposal(client: TestClient, world: World) -> None:
    sign_in(client, "eu")
    op1 = world.provision("OP1")
    r = client.post(
        f"/provisions/{op1}/preview",
        data={"text": OP1.replace("in 2018", "in New York in 2018"), "expected_version": "1"},
        headers=HTMX,
    )
    assert r.status_code == 200
    assert "<ins>New York in </ins>" in r.text
    r = client.post(f"/provisions/{op1}/preview", data={"text": OP1}, headers=HTMX)
    assert "<ins>" not in r.text and "your change shows here" in r.text
    r = client.post(
        f"/provisions/{op1}/preview",
        data={"text": "A whole new paragraph.", "kind": "insert_after"},
        headers=HTMX,
    )
    assert "<ins>A whole new paragraph.</ins>" in r.text


def test_proposing_and_the_refusals_beside_the_form(client: TestClient, world: World) -> None:
    sign_in(client, "egypt")
    op1 = world.provision("OP1")
    url = f"/provisions/{op1}/proposals"
    new = OP1.replace("in 2018", "in 2019")
    r = client.post(
        url,
        data={
            "kind": "wording",
            "text": new,
            "on_behalf_of": "G77",
            "justification": "Time to prepare.",
            "expected_version": "1",
        },
        headers=HTMX,
    )
    assert r.status_code == 200, r.text
    assert re.search(r"Your proposal A-\d+ is on the table.", r.text)
    assert 'hx-swap-oob="outerHTML"' in r.text and "(G77 and China)" in text_of(r.text)
    assert "<del>2018</del><ins>2019</ins>" in r.text

    r = client.post(
        url, data={"kind": "wording", "text": OP1, "expected_version": "1"}, headers=HTMX
    )
    assert r.status_code == 422
    assert "The proposed wording is the same as the current text." in r.text
    assert 'id="propose-wording-' in r.text  # the same form, re-rendered with its message

    r = client.post(
        url,
        data={"kind": "wording", "text": "Decides [to convene", "expected_version": "1"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "unbalanced brackets" in r.text
    assert "Decides [to convene</textarea>" in r.text  # nothing the delegate typed is lost

    decisions.cf_text(world.database, actor=world.mexico, provision_id=op1, text=OP1 + " Now.")
    typed = OP1.replace("convene", "hold")
    r = client.post(
        url, data={"kind": "wording", "text": typed, "expected_version": "1"}, headers=HTMX
    )
    assert r.status_code == 409
    assert "you had version 1, it is now version 2" in r.text
    assert f"{typed}</textarea>" in r.text
    assert 'name="expected_version" value="2"' in r.text  # a second submit is on the fresh text

    decisions.set_status(
        world.database, actor=world.mexico, provision_id=op1, status=ProvisionStatus.AGREED
    )
    r = client.post(url, data={"kind": "delete", "expected_version": "2"}, headers=HTMX)
    assert r.status_code == 422
    assert "OP1 is agreed: it is closed to new proposals" in r.text
    panel = client.get(f"/provisions/{op1}/panel", headers=HTMX).text
    assert 'id="propose-wording-' not in panel and 'id="propose-insert_after-' in panel

    client.cookies.clear()
    sign_in(client, "usa")
    r = client.post(
        f"/provisions/{world.provision('OP3')}/proposals",
        data={"kind": "wording", "text": "Invites everyone.", "on_behalf_of": "G77"},
        headers=HTMX,
    )
    assert r.status_code == 403
    assert "You are not authorised to speak on behalf of G77 and China." in r.text


def test_new_provision_move_delete_through_forms(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    op2 = world.provision("OP2")
    for data in (
        {"kind": "insert_after", "text": "Decides also to meet again.", "new_kind": "operative"},
        {"kind": "delete"},
        {"kind": "move", "after_id": str(world.provision("OP3"))},
    ):
        r = client.post(f"/provisions/{op2}/proposals", data=data, headers=HTMX)
        assert r.status_code == 200, r.text
    state = client.get(f"/provisions/{op2}/state", headers=HTMX).text
    assert "New operative after OP2:" in state and "<ins>Decides also to meet again.</ins>" in state
    assert "Delete OP2." in state and "Move OP2 after OP3." in state


def test_support_oppose_take_back_withdraw_redraft(client: TestClient, world: World) -> None:
    aid = propose(world, "OP1", OP1.replace("2018", "2019"), who="usa")
    sign_in(client, "norway")
    r = client.post(f"/amendments/{aid}/position", data={"stance": "support"}, headers=HTMX)
    assert r.status_code == 200
    assert "Norway supports A-" in r.text and "supported by Norway" in r.text
    assert 'value="support" aria-pressed="true"' in r.text
    r = client.post(f"/amendments/{aid}/position", data={"stance": ""}, headers=HTMX)
    assert "supported by Norway" not in r.text
    r = client.post(f"/amendments/{aid}/withdraw", headers=HTMX)
    assert r.status_code == 403
    assert f"Only the proponents of A-{aid} can change or withdraw it." in r.text

    sign_in(client, "usa")
    r = client.post(f"/amendments/{aid}/position", data={"stance": "oppose"}, headers=HTMX)
    assert r.status_code == 422 and "Your delegation made this proposal" in r.text
    form = client.get(f"/amendments/{aid}/redraft", headers=HTMX).text
    assert f'id="redraft-form-{aid}"' in form
    r = client.post(
        f"/amendments/{aid}/redraft", data={"text": OP1.replace("2018", "2020")}, headers=HTMX
    )
    assert r.status_code == 200 and "is redrafted" in r.text
    assert "<del>2018</del><ins>2020</ins>" in r.text
    r = client.post(f"/amendments/{aid}/withdraw", headers=HTMX)
    assert r.status_code == 200 and f"A-{aid} is withdrawn." in r.text


# -- the co-facilitators ------------------------------------------------------------------------


def test_decisions_and_their_refusals(client: TestClient, world: World) -> None:
    op1 = world.provision("OP1")
    accept = propose(world, "OP1", OP1.replace("in 2018", "in New York in 2018"))
    bracket = propose(world, "OP1", OP1.replace("convene", "hold"), who="usa")
    reject = propose(world, "OP1", OP1.replace("international", "global"), who="egypt")
    sign_in(client, "norway")
    r = client.post(f"/amendments/{accept}/decision", data={"decision": "accept"}, headers=HTMX)
    assert r.status_code == 403
    assert "Your role (delegate) cannot decide on proposals" in r.text

    sign_in(client, "cofac.mexico")
    queue = client.get(f"/documents/{world.document.id}/consolidate").text
    assert "Review queue" in queue and 'name="decision" value="accept"' in queue
    assert 'name="view" value="queue"' in queue

    url = f"/amendments/{accept}/decision"
    r = client.post(url, data={"decision": "accept", "expected_version": "1"}, headers=HTMX)
    assert r.status_code == 200
    assert f"A-{accept} accepted" in r.text and "in New York in 2018" in r.text
    r = client.post(
        f"/amendments/{bracket}/decision",
        data={"decision": "bracket", "expected_version": "1"},
        headers=HTMX,
    )
    assert r.status_code == 409
    assert "you had version 1, it is now version 2" in r.text
    assert 'data-version="2"' in r.text  # the fresh state, to decide again on what is there
    r = client.post(
        f"/amendments/{bracket}/decision",
        data={"decision": "bracket", "expected_version": "2"},
        headers=HTMX,
    )
    assert r.status_code == 200 and "[convene][hold]" in r.text
    # the passage to settle, one button per alternative
    assert "Keep “<bdi>convene</bdi>”" in r.text and "Keep “<bdi>hold</bdi>”" in r.text
    r = client.post(
        f"/amendments/{reject}/decision",
        data={"decision": "reject", "expected_version": "3"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "Say why the proposal is rejected" in r.text
    r = client.post(
        f"/amendments/{reject}/decision",
        data={"decision": "reject", "reason": "Outside the mandate.", "expected_version": "3"},
        headers=HTMX,
    )
    assert r.status_code == 200 and "Outside the mandate." in r.text

    r = client.post(
        f"/provisions/{op1}/resolve-brackets",
        data={"group": "0", "choice": "1", "expected_version": "3"},
        headers=HTMX,
    )
    assert r.status_code == 200 and "<em>Decides</em> to hold an" in r.text
    r = client.post(
        f"/provisions/{op1}/status",
        data={"status": "agreed_pending", "reservation": "USA", "expected_version": "4"},
        headers=HTMX,
    )
    assert "agreed in informals pending United States" in r.text
    r = client.post(
        f"/provisions/{op1}/status",
        data={"status": "agreed_pending", "expected_version": "4"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "needs the delegation holding the reservation" in r.text

    sign_in(client, "usa")
    r = client.post(f"/provisions/{op1}/lift-reservation", headers=HTMX)
    assert r.status_code == 200 and "agreed ad ref" in r.text


def test_cf_wording_and_alternatives(client: TestClient, world: World) -> None:
    op3 = world.provision("OP3")
    answered = propose(world, "OP3", "Invites all States to contribute to the trust fund.")
    sign_in(client, "cofac.switzerland")
    r = client.post(
        f"/provisions/{op3}/cf-text",
        data={
            "text": "Invites Member States and others to contribute to the trust fund.",
            "supersedes": str(answered),
            "expected_version": "1",
        },
        headers=HTMX,
    )
    assert r.status_code == 200, r.text
    assert "The co-facilitators' wording is version 2 of OP3." in text_of(r.text)
    assert 'hx-swap-oob="outerHTML"' in r.text and "superseded" in r.text
    r = client.post(
        f"/provisions/{op3}/cf-text",
        data={"text": "Invites [nobody.", "expected_version": "2"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "unbalanced brackets" in r.text
    r = client.post(
        f"/provisions/{op3}/alternatives",
        data={"text": "Decides to establish a trust fund."},
        headers=HTMX,
    )
    assert r.status_code == 200 and "OP3 alt is tabled as an alternative." in r.text
    page = client.get(f"/documents/{world.document.id}").text
    assert ">OP3 alt</button>" in page
    state = client.get(f"/provisions/{op3}/state", headers=HTMX).text
    assert "Keep OP3, delete the others" in state
    r = client.post(f"/provisions/{op3}/choose", headers=HTMX)
    assert r.status_code == 200 and "OP3 is kept" in r.text


def test_issue_a_revision_with_its_renumbering(client: TestClient, world: World) -> None:
    doc = world.document.id
    new = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.INSERT_AFTER,
        text="Decides also to meet in Geneva;",
    )
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=new.id, decision=Decision.ACCEPT
    )
    sign_in(client, "cofac.mexico")
    page = client.get(f"/documents/{doc}/revisions").text
    assert 'value="Rev.1"' in page and "Issue a revision" in page
    assert "<td>OP1 bis</td><td>OP2</td>" in page
    preview = client.get(f"/documents/{doc}/renumbering", params={"renumber": "false"}).text
    assert "Labels stay as they are" in preview
    r = client.post(
        f"/documents/{doc}/revisions",
        data={"name": "Zero draft", "issued_on": "2016-12-15", "renumber": "true"},
        headers=HTMX,
    )
    assert r.status_code == 422
    assert "already has a revision named 'Zero draft'" in text_of(r.text)
    r = client.post(
        f"/documents/{doc}/revisions",
        data={"name": "Rev.1", "issued_on": "15/12/2016"},
        headers=HTMX,
    )
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text
    r = client.post(
        f"/documents/{doc}/revisions",
        data={"name": "Rev.1", "issued_on": "2016-12-15", "renumber": "true"},
        headers=HTMX,
    )
    assert r.headers["HX-Redirect"] == f"/documents/{doc}/revisions?issued=1"
    page = client.get(f"/documents/{doc}/revisions?issued=1").text
    assert "Rev.1 is issued, dated 15 December 2016." in page
    assert f"/api/v1/documents/{doc}/export/clean?revision=1" in page
    assert f"/api/v1/documents/{doc}/export/comparison?revision=1&amp;against=0" in page
    compare = client.get(f"/documents/{doc}/compare", params={"a": "0", "b": "1"}).text
    assert "<ins>Decides also to meet in Geneva;</ins>" in compare
    assert "<del>OP2</del> <ins>OP3</ins>" in compare  # the old OP2 is now OP3
    side = client.get(f"/documents/{doc}/compare", params={"a": "0", "b": "1", "mode": "side"})
    assert "(was OP2)" in side.text


def test_overview_draws_svg(client: TestClient, world: World) -> None:
    propose(world, "OP1", OP1.replace("in 2018", "[in 2018][in 2019]"))
    sign_in(client, "norway")
    page = client.get(f"/documents/{world.document.id}/overview").text
    assert page.count("<svg") == 3
    assert "Operative part" in page and "Preamble" in page
    assert "Brackets and pending proposals by section" in page
    assert "<title>EU: 1 pending</title>" in page
    assert "Zero draft" in page and "Now" in page


def test_screen_follows_the_cofacilitators(client: TestClient, world: World) -> None:
    doc = world.document.id
    op1 = world.provision("OP1")
    propose(world, "OP1", OP1.replace("convene", "hold"))
    sign_in(client, "usa")
    assert "Waiting for the co-facilitators" in client.get(f"/documents/{doc}/screen").text
    r = client.post(f"/documents/{doc}/screen", data={"provision_id": str(op1)}, headers=HTMX)
    assert r.status_code == 403
    sign_in(client, "cofac.mexico")
    r = client.post(f"/documents/{doc}/screen", data={"provision_id": str(op1)}, headers=HTMX)
    assert r.status_code == 200 and "On screen ✓" in r.text
    body = client.get(f"/documents/{doc}/screen/body", headers=HTMX).text
    assert ">OP1 <span" in body and "<del>convene</del><ins>hold</ins>" in body
    assert f"sse:provision-{op1}" in body and "sse:screen" in body


def test_pages_of_unknown_things_are_html(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    r = client.get("/documents/999")
    assert r.status_code == 404 and "There is no document 999." in r.text
    assert r.headers["content-type"].startswith("text/html")
    r = client.get("/provisions/999/panel", headers=HTMX)
    assert r.status_code == 404 and 'role="alert"' in r.text


# -- escaping -----------------------------------------------------------------------------------


def test_a_delegates_words_are_text_everywhere(client: TestClient, world: World) -> None:
    doc = world.document.id
    op1 = world.provision("OP1")
    hostile = OP1.replace("in 2018", f"in 2018 {SCRIPT}")
    aid = propose(world, "OP1", hostile, justification='<img src=x onerror="alert(2)">')
    sign_in(client, "cofac.mexico")
    client.post(f"/documents/{doc}/screen", data={"provision_id": str(op1)}, headers=HTMX)
    pages = {
        "panel": client.get(f"/provisions/{op1}/panel", headers=HTMX).text,
        "screen": client.get(f"/documents/{doc}/screen").text,
        "history": client.get(f"/provisions/{op1}/history").text,
        "queue": client.get(f"/documents/{doc}/consolidate").text,
        "preview": client.post(
            f"/provisions/{op1}/preview", data={"text": hostile}, headers=HTMX
        ).text,
    }
    decisions.decide(world.database, actor=world.mexico, amendment_id=aid, decision=Decision.ACCEPT)
    pages["text"] = client.get(f"/documents/{doc}").text
    pages["compare"] = client.get(f"/documents/{doc}/compare", params={"a": "0", "b": "now"}).text
    # a heading names a section of the overview's charts
    heading = documents.import_outline(
        world.database,
        actor=world.secretariat,
        negotiation_id=world.negotiation_id,
        outline=parse_outline(f"# A title\n\n## Scope {SCRIPT}\n\nSome paragraph.\n"),
        issued_on=date(2016, 11, 23),
    )
    pages["overview"] = client.get(f"/documents/{heading.id}/overview").text
    pages["other text"] = client.get(f"/documents/{heading.id}").text
    for name, html in pages.items():
        assert SCRIPT not in html, name
        assert "<img src=x" not in html, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name


def test_forms_work_without_htmx_too(client: TestClient, world: World) -> None:
    """A plain form post (no JavaScript) gets the provision's own page with the outcome."""
    aid = propose(world, "OP1", OP1.replace("2018", "2019"), who="usa")
    sign_in(client, "cofac.mexico")
    r = client.post(f"/amendments/{aid}/decision", data={"decision": "reject"})
    assert r.status_code == 422
    assert r.text.startswith("<!doctype html>") and "Say why the proposal is rejected" in r.text
    r = client.post(f"/amendments/{aid}/decision", data={"decision": "accept"})
    assert r.status_code == 200 and f"A-{aid} accepted" in r.text
    assert "← Back to the text" in r.text


def test_the_text_page_with_its_kept_lines_spliced_in_is_the_page_rendered_whole(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text page splices the whole text's lines in, kept encoded, rather than passing them
    through Jinja: byte for byte the page Jinja would render, the session's token included."""
    from markupsafe import Markup

    from app.web import templating
    from app.web.pages import text as text_pages

    sign_in(client, "eu")
    op1 = world.provision("OP1")
    amendments.propose(
        world.database, actor=world.usa, provision_id=op1, kind=AmendmentKind.DELETE
    )  # a state with a pending proposal, and a form or two around the lines
    path = f"/documents/{world.document.id}"
    spliced = client.get(path, headers={"Accept-Encoding": "identity"})
    assert spliced.status_code == 200 and "content-encoding" not in spliced.headers
    assert int(spliced.headers["content-length"]) == len(spliced.content)
    # compressed for a browser: the lines compressed once, the rest around them per request
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(spliced.content) / 3
    assert packed.content == spliced.content  # (httpx checked gzip's CRC and length)

    def whole(request, template, context, *, part, kept, packed=None):  # type: ignore[no-untyped-def]
        return templating.render(request, template, {**context, part: Markup(kept.decode())})

    monkeypatch.setattr(text_pages, "render_around", whole)
    rendered = client.get(path)
    assert spliced.content == rendered.content
    assert templating.SHARED_FORM_TOKEN not in spliced.text
    assert templating._KEPT_PART not in spliced.text
    assert client.headers["X-CSRF-Token"] in spliced.text  # the session's own token, once
    assert "intergovernmental conference on international migration" in spliced.text
