"""The process in the browser, on both databases: rounds and deadlines as announced, silence
broken with statements everyone sees (escaped, and published live), stakeholders' inputs apart
from proposals and adopted by a delegation, and the notifications bell."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient

from app import timeutil
from app.config import Settings
from app.main import create_app
from app.services import amendments, documents, inputs, process
from app.web.live import document_channel
from tests.conftest import World

PASSWORD = "correct horse battery"
OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


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


@pytest.fixture
def client(world: World, clock: Clock) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )
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


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# -- rounds and deadlines --------------------------------------------------------------------------


def test_a_round_is_opened_and_its_deadline_shown_as_announced(
    client: TestClient, world: World, clock: Clock
) -> None:
    doc = world.document.id
    sign_in(client, "cofac.mexico")
    page = client.get(f"/documents/{doc}/process").text
    assert 'id="round-form"' in page and 'name="csrf_token"' in page
    assert '<option value="America/New_York" selected>New York</option>' in page
    r = client.post(
        f"/documents/{doc}/process/rounds",
        data={"name": "written proposals on the zero draft", "day": "2017-01-13", "hour": "18:00"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/process#round-form")
    page = client.get(r.headers["location"]).text
    announced = "Friday 13 January 2017, 18:00 New York time (EST)"
    assert f"The round is open: written proposals on the zero draft, until {announced}." in page
    assert 'id="deadline-form"' in page and 'id="late-form"' in page  # now there is a round

    sign_in(client, "usa")  # everyone sees the deadline: document header and negotiation home
    text = text_of(client.get(f"/documents/{doc}").text)
    assert f"Deadline for written proposals on the zero draft: {announced}" in text
    home = text_of(client.get(f"/negotiations/{world.negotiation_id}").text)
    assert f"Deadline for written proposals on the zero draft: {announced}" in home
    assert 'hx-trigger="sse:process, sse:resync"' in client.get(f"/documents/{doc}").text
    page = client.get(f"/documents/{doc}/process").text
    assert 'id="round-form"' not in page  # delegates do not set deadlines

    # after the deadline, closed; a late submission for Norway; a reopened round
    clock.now = datetime(2017, 1, 14, tzinfo=UTC)
    assert f"closed since {announced}" in text_of(client.get(f"/documents/{doc}/deadlines").text)
    sign_in(client, "cofac.switzerland")
    [rnd] = process.list_rounds(world.database, document_id=doc)
    r = client.post(
        f"/documents/{doc}/process/late",
        data={"round_id": rnd.id, "delegation": "nor", "day": "2017-01-16", "hour": "12:00"},
    )
    assert r.status_code == 200, r.text
    assert (
        "NOR may submit proposals on written proposals on the zero draft until "
        "Monday 16 January 2017, 12:00 New York time (EST)." in text_of(r.text)
    )
    amendments.propose(
        world.database,
        actor=world.norway,
        provision_id=world.provision("OP1"),
        kind=amendments.AmendmentKind.WORDING,
        text=OP1.replace("2018", "2019"),
    )
    r = client.post(
        f"/documents/{doc}/process/deadline",
        data={
            "round_id": rnd.id,
            "day": "2017-01-20",
            "hour": "13:00",
            "timezone": "Europe/Zurich",
        },
    )
    assert r.status_code == 200
    assert "the deadline is now Friday 20 January 2017, 13:00 Geneva time (CET)." in text_of(r.text)


def test_round_refusals_are_shown_beside_the_form(client: TestClient, world: World) -> None:
    doc = world.document.id
    sign_in(client, "cofac.mexico")
    r = client.post(
        f"/documents/{doc}/process/rounds",
        data={"name": "late round", "day": "2016-12-01", "hour": "18:00"},
    )
    assert r.status_code == 422
    assert (
        "The deadline Thursday 1 December 2016, 18:00 New York time (EST) is already past."
        in r.text
    )
    assert 'value="late round"' in r.text  # what was typed is kept
    r = client.post(
        f"/documents/{doc}/process/rounds",
        data={"name": "x", "day": "13/01/2017", "hour": "6pm"},
    )
    assert r.status_code == 422 and "Give the date as YYYY-MM-DD and the time as HH:MM." in r.text
    r = client.post(
        f"/documents/{doc}/process/rounds",
        data={"name": "x", "day": "2017-01-13", "hour": "18:00", "timezone": "Mars/Olympus"},
    )
    assert r.status_code == 422 and "is not a time zone" in r.text
    sign_in(client, "usa")
    r = client.post(
        f"/documents/{doc}/process/rounds",
        data={"name": "mine", "day": "2017-01-13", "hour": "18:00"},
    )
    assert r.status_code == 403 and "Your role (delegate) cannot change the status" in r.text
    assert process.list_rounds(world.database, document_id=doc) == []


# -- silence procedure -----------------------------------------------------------------------------


def test_silence_is_placed_broken_and_everyone_reads_the_statement(
    client: TestClient, world: World
) -> None:
    doc = world.document.id
    sign_in(client, "cofac.mexico")
    r = client.post(
        f"/documents/{doc}/process/silences",
        data={
            "revision": "Zero draft",
            "day": "2017-01-26",
            "hour": "18:00",
            "timezone": "Europe/Zurich",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/documents/{doc}/process").text
    assert (
        "Zero draft is under silence procedure until "
        "Thursday 26 January 2017, 18:00 Geneva time (CET)." in text_of(page)
    )
    assert 'id="silence-form"' in page and 'id="break-form"' not in page  # already placed

    sign_in(client, "usa")
    page = client.get(f"/documents/{doc}/process").text
    assert 'id="break-form"' in page
    silence_id = re.search(r'name="silence_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    channel = document_channel(doc)
    published: list[list[str]] = []
    broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
    pages = getattr(broadcaster, "local", broadcaster)  # on PostgreSQL, after LISTEN hears it
    original = pages.publish
    pages.publish = lambda ch, names, data="": (  # record what the pages will hear
        published.append(list(names)) if ch == channel else None,
        original(ch, names, data),
    )
    r = client.post(
        f"/documents/{doc}/process/break",
        data={
            "silence_id": silence_id,
            "statement": f"The United States objects. {SCRIPT}",
            "provisions": "OP1; PP2",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    heard_by = time.monotonic() + 5
    while ["process"] not in published and time.monotonic() < heard_by:
        time.sleep(0.02)
    assert ["process"] in published  # the statement arrives live on every open page
    sign_in(client, "norway")
    silence = client.get(f"/documents/{doc}/process/silence").text
    assert 'hx-trigger="sse:process, sse:resync' in silence
    assert f"The United States objects. {ESCAPED}" in silence and SCRIPT not in silence
    assert "United States" in silence and "on OP1, PP2" in silence
    header = text_of(client.get(f"/documents/{doc}").text)
    assert "silence broken by United States" in header

    r = client.post(
        f"/documents/{doc}/process/break",
        data={"silence_id": silence_id, "statement": "", "provisions": ""},
    )
    assert r.status_code == 422 and "Breaking silence needs a statement of the objection." in r.text
    r = client.post(
        f"/documents/{doc}/process/break",
        data={"silence_id": silence_id, "statement": "No.", "provisions": "OP99"},
    )
    assert r.status_code == 422 and "There is no provision OP99 in this text." in r.text
    assert 'value="OP99"' in r.text and ">No.</textarea>" in r.text  # kept
    [s] = process.list_silences(world.database, document_id=doc)
    assert len(s.breaks) == 1


# -- stakeholder inputs ----------------------------------------------------------------------------


def _public(world: World) -> None:
    documents.set_visibility(
        world.database, actor=world.secretariat, document_id=world.document.id, visibility="public"
    )


def test_a_stakeholder_submits_inputs_shown_apart_from_proposals(
    client: TestClient, world: World
) -> None:
    _public(world)
    doc, op1 = world.document.id, world.provision("OP1")
    sign_in(client, "ngo")
    page = client.get(f"/documents/{doc}/inputs").text
    assert 'id="input-form"' in page and '<option value="">the whole text</option>' in page
    r = client.post(
        f"/documents/{doc}/inputs",
        data={
            "organisation": "Migrants' Voice",
            "text": f"Name the diaspora. {SCRIPT}",
            "provision_id": str(op1),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert re.search(r"Your input on OP1 is published \(I-\d+\)\.", page)
    assert f"Name the diaspora. {ESCAPED}" in page and SCRIPT not in page
    r = client.post(f"/documents/{doc}/inputs", data={"organisation": "", "text": "x"})
    assert r.status_code == 422 and "Name the organisation you write for" in r.text
    # from a provision's panel: the form comes back alone, with its outcome
    panel = client.get(f"/provisions/{op1}/panel", headers={"HX-Request": "true"}).text
    assert f'id="input-form-{op1}"' in panel and f'hx-get="/provisions/{op1}/inputs"' in panel
    r = client.post(
        f"/documents/{doc}/inputs",
        data={
            "organisation": "Diaspora Forum",
            "text": "Also remittances.",
            "provision_id": str(op1),
            "panel": "true",
        },
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "Your input on OP1 is published" in r.text
    assert f'id="input-form-{op1}"' in r.text

    sign_in(client, "usa")
    panel_inputs = client.get(f"/provisions/{op1}/inputs").text
    assert "Stakeholder inputs" in panel_inputs and "(2)" in panel_inputs
    assert "Migrants&#39; Voice" in panel_inputs and ESCAPED in panel_inputs
    assert "Adopt as our proposal" in panel_inputs
    state = client.get(f"/provisions/{op1}/state").text
    assert "diaspora" not in state  # not among the States' proposals
    r = client.post(f"/documents/{doc}/inputs", data={"organisation": "USA", "text": "x"})
    assert r.status_code == 403 and "Written inputs are for stakeholders" in r.text


def test_a_delegate_adopts_an_input_as_its_own_proposal(client: TestClient, world: World) -> None:
    _public(world)
    doc, op1 = world.document.id, world.provision("OP1")
    submitted = inputs.submit_input(
        world.database,
        actor=world.stakeholder,
        document_id=doc,
        text="Convene it in 2019.",
        organisation="Civil Society Network",
        provision_id=op1,
    )
    sign_in(client, "egypt")
    url = f"/documents/{doc}/inputs/{submitted.id}/adopt"
    form = client.get(url).text
    assert f">{OP1}</textarea>" in form  # starts from the current wording
    assert "Adopted from the input of Civil Society Network." in form
    r = client.post(url, data={"provision_id": str(op1), "text": OP1})
    assert (
        r.status_code == 422 and "The proposed wording is the same as the current text." in r.text
    )
    r = client.post(
        url,
        data={"provision_id": str(op1), "text": OP1.replace("2018", "2019"), "on_behalf_of": "G77"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert re.search(rf"Input I-{submitted.id} is now your proposal A-\d+ on OP1\.", page)
    assert "adopted as A-" in page and "Adopt as our proposal" not in page
    [proposal] = amendments.list_amendments(world.database, document_id=doc)
    assert proposal.proponents == ("G77 and China",)
    r = client.post(url, data={"provision_id": str(op1), "text": OP1.replace("2018", "2020")})
    assert r.status_code == 422 and "already been adopted" in r.text


# -- notifications ---------------------------------------------------------------------------------


def test_the_bell_counts_what_changed_and_marks_it_seen(client: TestClient, world: World) -> None:
    proposal = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=world.provision("OP1"),
        kind=amendments.AmendmentKind.WORDING,
        text=OP1.replace("2018", "2019"),
    )
    sign_in(client, "usa")
    page = client.get("/").text
    assert 'hx-get="/notifications/bell" hx-trigger="load"' in page
    from app.domain.amendments import Decision
    from app.services import decisions

    decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=proposal.id,
        decision=Decision.REJECT,
        reason="Too late.",
    )
    bell = client.get("/notifications/bell").text
    assert 'data-unseen="1"' in bell and "has-unseen" in bell
    listed = text_of(client.get("/notifications").text)
    assert f"Your proposal {proposal.reference} on OP1 was rejected (Too late.)." in listed
    r = client.post("/notifications/seen", follow_redirects=False)
    assert r.status_code == 303
    assert 'data-unseen="0"' in client.get("/notifications/bell").text
    assert "Nothing new since your last visit." in client.get("/notifications").text
