"""Hostile input through the JSON API, on SQLite and PostgreSQL: the exact refusal, nothing stored.

Each hostile request is sent through the real app (FastAPI TestClient, server errors returned as
responses so that a 500 is seen as a 500) and checked for the answer the API promises — its status
and its JSON error `{"error": kind, "message": sentence}` — and, when it is refused, that the row
counts of every table are the same before and after. Tests that try many inputs list every input
that went wrong, not only the first. The number of hostile inputs tried is written to
test-artifacts/hostile-inputs.txt.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import Settings
from app.db.models import Base
from app.domain.amendments import AmendmentKind
from app.domain.outline import parse_outline
from app.domain.roles import Role
from app.main import create_app
from app.services import accounts, amendments, documents, inputs, process
from tests.conftest import REFERENCE_TABLES, SMALL_RESOLUTION, World, _person

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "hostile-inputs.txt"
PASSWORD = "correct horse battery"
OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"
OP3 = "Invites Member States to contribute to the voluntary trust fund."
LIMIT = 2_000_000  # Settings.max_body_bytes

TABLES = [t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
COUNT_ALL = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES))

TRIED: Counter[str] = Counter()  # hostile input → requests sent with it (both databases)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        "Hostile inputs (tests/integration/test_hostile_input.py)\n"
        f"distinct hostile inputs tried: {len(TRIED)}; requests sent with them in this run "
        f"(SQLite and PostgreSQL): {sum(TRIED.values())}\n"
        + "".join(f"  {label}\n" for label in sorted(TRIED))
    )


# -- the client ----------------------------------------------------------------------------------


@dataclass
class Ids:
    """What the hostile requests aim at, in the conftest world's negotiation (A)."""

    document: int
    negotiation: int
    op1: int
    op2: int
    op3: int
    proposal: int  # USA's pending proposal on OP1
    proposal_b: int  # Russia's pending proposal on OP3, for decisions
    round: int
    silence: int
    input: int
    input2: int


class Api:
    """The TestClient, signed in as one user at a time, that counts rows and hostile inputs."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.world = world
        self.user: str | None = None

    def sign_in(self, username: str) -> Api:
        if self.user != username:
            self.client.cookies.clear()
            self.client.headers.pop("X-CSRF-Token", None)
            r = self.client.post(
                "/api/v1/session", json={"username": username, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            self.client.headers["X-CSRF-Token"] = r.headers["X-CSRF-Token"]
            self.user = username
        return self

    def rows(self) -> tuple[int, ...]:
        with self.world.database.engine.connect() as conn:
            return tuple(conn.execute(COUNT_ALL).one())

    def send(self, label: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        TRIED[label] += 1
        return self.client.request(method, url, **kwargs)

    def refused(
        self,
        label: str,
        method: str,
        url: str,
        *,
        status: int | tuple[int, ...],
        error: str,
        message: str | None = None,
        match: str | None = None,
        **kwargs: Any,
    ) -> str | None:
        """Send one hostile request; None if refused exactly as expected with nothing stored."""
        before = self.rows()
        r = self.send(label, method, url, **kwargs)
        problem = _judge(r, status=status, error=error, message=message, match=match)
        if problem is None and self.rows() != before:
            problem = "refused, but rows were stored"
        return f"{label}: {problem}" if problem else None


def _judge(
    r: httpx.Response,
    *,
    status: int | tuple[int, ...],
    error: str,
    message: str | None,
    match: str | None,
) -> str | None:
    statuses = status if isinstance(status, tuple) else (status,)
    got = f"got {r.status_code} {r.headers.get('content-type')} {r.text[:240]!r}"
    if r.status_code not in statuses:
        return f"expected {' or '.join(map(str, statuses))} {error!r}; {got}"
    try:
        body = r.json()
    except ValueError:
        return f"expected a JSON error; {got}"
    if not isinstance(body, dict) or set(body) != {"error", "message"}:
        return f'expected {{"error": {error!r}, "message": …}}; {got}'
    if body["error"] != error:
        return f"expected error {error!r}; {got}"
    if message is not None and body["message"] != message:
        return f"expected the message {message!r}; {got}"
    if match is not None and not re.search(match, body["message"]):
        return f"expected a message matching {match!r}; {got}"
    return None


def _all_fine(problems: Sequence[str | None]) -> None:
    found = [p for p in problems if p]
    assert not found, f"{len(found)} hostile input(s) not refused as they should be:\n" + "\n".join(
        found
    )


@pytest.fixture
def api(world: World) -> Iterator[Api]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url), database=world.database
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, world)


@pytest.fixture
def ids(world: World) -> Ids:
    """Objects to aim at, made through the use cases."""
    database = world.database
    documents.set_visibility(
        database, actor=world.secretariat, document_id=world.document.id, visibility="public"
    )
    op1, op2, op3 = world.provision("OP1"), world.provision("OP2"), world.provision("OP3")
    proposal = amendments.propose(
        database,
        actor=world.usa,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=OP1.replace("to convene", "to hold"),
    )
    proposal_b = amendments.propose(
        database,
        actor=world.russia,
        provision_id=op3,
        kind=AmendmentKind.WORDING,
        text=OP3.replace("voluntary", "dedicated"),
    )
    soon = datetime.now(UTC) + timedelta(days=5)
    rnd = process.open_round(
        database,
        actor=world.mexico,
        document_id=world.document.id,
        name="written proposals",
        deadline=soon,
    )
    silence = process.place_under_silence(
        database, actor=world.mexico, document_id=world.document.id, revision="0", deadline=soon
    )
    submitted = inputs.submit_input(
        database,
        actor=world.stakeholder,
        document_id=world.document.id,
        text="Mention migrant children.",
        organisation="Children's Network",
        provision_id=op1,
    )
    second = inputs.submit_input(
        database,
        actor=world.stakeholder,
        document_id=world.document.id,
        text="Mention migrant families.",
        organisation="Families' Network",
    )
    return Ids(
        document=world.document.id,
        input2=second.id,
        negotiation=world.negotiation_id,
        op1=op1,
        op2=op2,
        op3=op3,
        proposal=proposal.id,
        proposal_b=proposal_b.id,
        round=rnd.id,
        silence=silence.id,
        input=submitted.id,
    )


# -- the free-text fields of the API -------------------------------------------------------------

WHEN = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%S")
Body = Callable[[Ids, str, int], tuple[str, str, dict[str, Any]]]  # → (method, url, json)


@dataclass(frozen=True)
class TextField:
    """One free-text field: who sends it, how, and where it can be read back."""

    name: str
    user: str
    request: Body
    read: Callable[[Api, Ids, dict[str, Any]], Any]  # the stored value, read back by GET
    wording: bool = False  # a paragraph's wording: whitespace is normalised, brackets checked


def _get(api: Api, url: str) -> Any:
    r = api.client.get(url)
    assert r.status_code == 200, r.text
    return r.json()


def _amendment(api: Api, ids: Ids, made: dict[str, Any]) -> Any:
    return _get(api, f"/api/v1/amendments/{made['id']}")


def _version_note(api: Api, ids: Ids, made: dict[str, Any]) -> Any:
    detail = _get(api, f"/api/v1/provisions/{made['id']}")
    return detail["versions"][-1]["note"]


def _provision_text(api: Api, ids: Ids, made: dict[str, Any]) -> Any:
    return _get(api, f"/api/v1/provisions/{made['id']}")["provision"]["text"]


def _input(api: Api, ids: Ids, made: dict[str, Any]) -> Any:
    found = [
        i for i in _get(api, f"/api/v1/documents/{ids.document}/inputs") if i["id"] == made["id"]
    ]
    return found[0]


TEXT_FIELDS = [
    TextField(
        "proposal wording",
        "usa",
        lambda ids, p, n: (
            "POST",
            "/api/v1/amendments",
            {"provision_id": ids.op1, "text": f"Decides {p} {n};"},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["proposed_text"],
        wording=True,
    ),
    TextField(
        "proposal justification",
        "usa",
        lambda ids, p, n: (
            "POST",
            "/api/v1/amendments",
            {"provision_id": ids.op2, "text": f"Requests a report {n};", "justification": p},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["justification"],
    ),
    TextField(
        "new provision wording",
        "usa",
        lambda ids, p, n: (
            "POST",
            "/api/v1/amendments",
            {"provision_id": ids.op2, "kind": "insert_after", "text": f"Notes {p} {n};"},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["proposed_text"],
        wording=True,
    ),
    TextField(
        "redraft wording",
        "usa",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/amendments/{ids.proposal}/redraft",
            {"text": f"Decides {p} {n};"},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["proposed_text"],
        wording=True,
    ),
    TextField(
        "redraft justification",
        "usa",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/amendments/{ids.proposal}/redraft",
            {"text": f"Decides to hold it {n};", "justification": p},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["justification"],
    ),
    TextField(
        "adopted input wording",
        "usa",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/inputs/{ids.input}/adopt",
            {"provision_id": ids.op1, "text": f"Decides {p} {n};"},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["proposed_text"],
        wording=True,
    ),
    TextField(
        "adoption justification",
        "usa",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/inputs/{ids.input2}/adopt",
            {"provision_id": ids.op1, "text": f"Decides to adopt {n};", "justification": p},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["justification"],
    ),
    TextField(
        "silence-breaking statement",
        "usa",
        lambda ids, p, n: ("POST", f"/api/v1/silences/{ids.silence}/break", {"statement": p}),
        lambda api, ids, made: _get(api, f"/api/v1/documents/{ids.document}/silences")[0]["breaks"][
            -1
        ]["statement"],
    ),
    TextField(
        "token name",
        "usa",
        lambda ids, p, n: ("POST", "/api/v1/tokens", {"name": p}),
        lambda api, ids, made: made["name"],
    ),
    TextField(
        "decision reason",
        "cofac.mexico",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/amendments/{ids.proposal_b}/decision",
            {"decision": "reject", "reason": p},
        ),
        lambda api, ids, made: _amendment(api, ids, made)["decision_reason"],
    ),
    TextField(
        "co-facilitators' wording",
        "cofac.mexico",
        lambda ids, p, n: ("POST", f"/api/v1/provisions/{ids.op2}/cf-text", {"text": f"{p} {n}"}),
        _provision_text,
        wording=True,
    ),
    TextField(
        "co-facilitators' note",
        "cofac.mexico",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/provisions/{ids.op2}/cf-text",
            {"text": f"Requests a note {n};", "note": p},
        ),
        _version_note,
    ),
    TextField(
        "alternative wording",
        "cofac.mexico",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/provisions/{ids.op2}/alternatives",
            {"text": f"{p} {n}"},
        ),
        _provision_text,
        wording=True,
    ),
    TextField(
        "revision name",
        "cofac.mexico",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/documents/{ids.document}/revisions",
            {"name": f"{p} {n}", "issued_on": "2016-12-15", "renumber": False},
        ),
        lambda api, ids, made: _get(
            api, f"/api/v1/documents/{ids.document}/revisions/{made['seq']}"
        )["name"],
    ),
    TextField(
        "round name",
        "cofac.mexico",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/documents/{ids.document}/rounds",
            {"name": f"{p} {n}", "deadline": WHEN},
        ),
        lambda api, ids, made: _get(api, f"/api/v1/documents/{ids.document}/rounds")[-1]["name"],
    ),
    TextField(
        "late submission reason",
        "cofac.mexico",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/rounds/{ids.round}/late-submissions",
            {"delegation": "USA", "until": WHEN, "reason": p},
        ),
        lambda api, ids, made: None,  # not readable through the API: the reason is in the log
    ),
    TextField(
        "negotiation title",
        "secretariat",
        lambda ids, p, n: (
            "POST",
            "/api/v1/negotiations",
            {"symbol": f"A/HOSTILE/{n}", "title": p, "cofacilitators": ["MEX"]},
        ),
        lambda api, ids, made: _get(api, f"/api/v1/negotiations/{made['id']}")["title"],
    ),
    TextField(
        "negotiation symbol",
        "secretariat",
        lambda ids, p, n: (
            "POST",
            "/api/v1/negotiations",
            {"symbol": f"{p} {n}", "title": "Hostile symbol", "cofacilitators": ["MEX"]},
        ),
        lambda api, ids, made: _get(api, f"/api/v1/negotiations/{made['id']}")["symbol"],
    ),
    TextField(
        "imported draft",
        "secretariat",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/negotiations/{ids.negotiation}/documents",
            {"text": f"# Draft {p} {n}\n\n1. Decides {p}.\n", "issued_on": "2016-11-23"},
        ),
        lambda api, ids, made: _get(api, f"/api/v1/documents/{made['id']}")["provisions"][0][
            "text"
        ],
        wording=True,
    ),
    TextField(
        "imported revision name",
        "secretariat",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/negotiations/{ids.negotiation}/documents",
            {"text": f"# Draft {n}\n\n1. Decides.\n", "revision_name": p},
        ),
        lambda api, ids, made: _get(api, f"/api/v1/documents/{made['id']}/revisions/0")["name"],
    ),
    TextField(
        "user display name",
        "secretariat",
        lambda ids, p, n: (
            "POST",
            "/api/v1/users",
            {
                "username": f"hostile.{n}",
                "display_name": p,
                "role": "delegate",
                "password": PASSWORD,
                "delegation": "FRA",
            },
        ),
        lambda api, ids, made: next(
            u["display_name"] for u in _get(api, "/api/v1/users") if u["id"] == made["id"]
        ),
    ),
    TextField(
        "stakeholder input",
        "ngo",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/documents/{ids.document}/inputs",
            {"text": p, "organisation": f"Network {n}", "provision_id": ids.op1},
        ),
        lambda api, ids, made: _input(api, ids, made)["text"],
    ),
    TextField(
        "stakeholder organisation",
        "ngo",
        lambda ids, p, n: (
            "POST",
            f"/api/v1/documents/{ids.document}/inputs",
            {"text": f"Input {n}", "organisation": p},
        ),
        lambda api, ids, made: _input(api, ids, made)["organisation"],
    ),
]


# -- oversized bodies and texts ------------------------------------------------------------------

TOO_LARGE = r"(?i)(larger than|too large|exceeds).*(2,000,000 bytes|2 MB)"


def test_oversized_bodies_are_refused_with_413(api: Api, ids: Ids) -> None:
    """A body over Settings.max_body_bytes (2,000,000) is refused before it is read: 413, JSON."""
    api.sign_in("usa")
    big = b'{"provision_id": %d, "text": "%s"}' % (ids.op1, b"a" * 3_000_000)
    streamed = iter([big[i : i + 65536] for i in range(0, len(big), 65536)])
    draft = b'{"text": "# Big\\n\\n1. %s"}' % (b"Decides. " * 280_000)
    problems = [
        api.refused(
            "3 MB JSON body to POST /amendments",
            "POST",
            "/api/v1/amendments",
            content=big,
            headers={"content-type": "application/json"},
            status=413,
            error="too_large",
            match=TOO_LARGE,
        ),
        api.refused(
            "3 MB JSON body sent chunked (no Content-Length)",
            "POST",
            "/api/v1/amendments",
            content=streamed,
            headers={"content-type": "application/json"},
            status=413,
            error="too_large",
            match=TOO_LARGE,
        ),
    ]
    api.sign_in("secretariat")
    problems.append(
        api.refused(
            "2.5 MB outline to POST /negotiations/{id}/documents",
            "POST",
            f"/api/v1/negotiations/{ids.negotiation}/documents",
            content=draft,
            headers={"content-type": "application/json"},
            status=413,
            error="too_large",
            match=TOO_LARGE,
        )
    )
    _all_fine(problems)


def test_oversized_texts_are_refused_naming_the_field(api: Api, ids: Ids) -> None:
    """25,000 characters where at most 20,000 (or 200, 500…) are allowed: 422, the field named."""
    huge = "word " * 5_000  # 25,000 characters
    cases = [
        ("usa", "/api/v1/amendments", {"provision_id": ids.op1, "text": huge}, "text", 20000),
        (
            "usa",
            "/api/v1/amendments",
            {"provision_id": ids.op1, "text": OP1[:-1] + " x;", "justification": huge},
            "justification",
            20000,
        ),
        ("usa", f"/api/v1/amendments/{ids.proposal}/redraft", {"text": huge}, "text", 20000),
        ("usa", f"/api/v1/silences/{ids.silence}/break", {"statement": huge}, "statement", 20000),
        (
            "usa",
            f"/api/v1/inputs/{ids.input}/adopt",
            {"provision_id": ids.op1, "text": huge},
            "text",
            20000,
        ),
        ("usa", "/api/v1/tokens", {"name": huge}, "name", 100),
        (
            "cofac.mexico",
            f"/api/v1/amendments/{ids.proposal_b}/decision",
            {"decision": "reject", "reason": huge},
            "reason",
            20000,
        ),
        ("cofac.mexico", f"/api/v1/provisions/{ids.op2}/cf-text", {"text": huge}, "text", 20000),
        (
            "cofac.mexico",
            f"/api/v1/provisions/{ids.op2}/cf-text",
            {"text": "Requests a note;", "note": huge},
            "note",
            20000,
        ),
        (
            "cofac.mexico",
            f"/api/v1/documents/{ids.document}/revisions",
            {"name": huge, "issued_on": "2016-12-15"},
            "name",
            100,
        ),
        (
            "cofac.mexico",
            f"/api/v1/documents/{ids.document}/rounds",
            {"name": huge, "deadline": WHEN},
            "name",
            200,
        ),
        (
            "secretariat",
            "/api/v1/negotiations",
            {"symbol": "A/BIG", "title": huge},
            "title",
            500,
        ),
        (
            "secretariat",
            "/api/v1/users",
            {
                "username": "big",
                "display_name": huge,
                "role": "delegate",
                "password": PASSWORD,
                "delegation": "FRA",
            },
            "display_name",
            200,
        ),
        (
            "ngo",
            f"/api/v1/documents/{ids.document}/inputs",
            {"text": huge, "organisation": "Network"},
            "text",
            20000,
        ),
        (
            "ngo",
            f"/api/v1/documents/{ids.document}/inputs",
            {"text": "An input.", "organisation": huge},
            "organisation",
            200,
        ),
    ]
    problems = []
    for user, url, body, name, limit in cases:
        api.sign_in(user)
        problems.append(
            api.refused(
                f"25,000 characters in {name} of POST {url.split('/api/v1')[1]}",
                "POST",
                url,
                json=body,
                status=422,
                error="invalid",
                message=(
                    f"The request is not valid: {name}: String should have at most "
                    f"{limit} characters"
                ),
            )
        )
    _all_fine(problems)


# -- invalid Unicode and control characters ------------------------------------------------------


def test_lone_surrogates_are_refused(api: Api, ids: Ids) -> None:
    """JSON may spell a lone surrogate ("\\ud800"); it is no text, and is refused as such."""
    op1, doc = ids.op1, ids.document
    problems = []
    for user, url, raw, name in [
        (
            "usa",
            "/api/v1/amendments",
            '{"provision_id": OP, "text": "Decides \\ud800 x;"}'.replace("OP", str(op1)),
            "text",
        ),
        (
            "usa",
            "/api/v1/amendments",
            '{"provision_id": OP, "text": "Decides x;", "justification": "\\udfff"}'.replace(
                "OP", str(op1)
            ),
            "justification",
        ),
        (
            "ngo",
            f"/api/v1/documents/{doc}/inputs",
            '{"text": "\\ud83d", "organisation": "N"}',
            "text",
        ),
    ]:
        api.sign_in(user)
        problems.append(
            api.refused(
                f"lone surrogate in {name} of POST {url.split('/api/v1')[1]}",
                "POST",
                url,
                content=raw.encode(),
                headers={"content-type": "application/json"},
                status=422,
                error="invalid",
                message=(
                    f"The request is not valid: {name}: Input should be a valid string, "
                    "unable to parse raw data as a unicode string"
                ),
            )
        )
    api.sign_in("usa")
    problems.append(
        api.refused(
            "bytes that are not UTF-8 in a JSON body",
            "POST",
            "/api/v1/amendments",
            content=b'{"provision_id": %d, "text": "Decides \xff\xfe x;"}' % ids.op1,
            headers={"content-type": "application/json"},
            status=(400, 422),
            error="invalid",
            match=r"(?i)utf-8|unicode|not valid",
        )
    )
    # A real character outside the BMP (a surrogate pair in JSON) is text, and is kept.
    TRIED["emoji (a valid surrogate pair) in a wording"] += 1
    r = api.client.post(
        "/api/v1/amendments",
        content=b'{"provision_id": %d, "text": "Decides \\ud83c\\udf0d to convene;"}' % ids.op1,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["proposed_text"] == "Decides \U0001f30d to convene;"
    _all_fine(problems)


def test_control_characters_are_refused_in_every_text_field(api: Api, ids: Ids) -> None:
    """No text field stores control characters (a NUL cannot even be stored in PostgreSQL)."""
    problems = []
    for characters in ("\x00", "\x07\x08\x1b"):
        for n, spec in enumerate(TEXT_FIELDS):
            api.sign_in(spec.user)
            method, url, body = spec.request(ids, f"Recalls x{characters}y", 100 + n)
            problems.append(
                api.refused(
                    f"{characters!r} in the {spec.name}",
                    method,
                    url,
                    json=body,
                    status=422,
                    error="invalid",
                    match=r"control character",
                )
            )
    _all_fine(problems)


def test_unbalanced_brackets_from_a_delegate_are_refused(api: Api, ids: Ids) -> None:
    """Brackets always balance: a wording that opens one without closing it (or the reverse)."""
    problems = []
    for n, wording in enumerate(
        [
            "Decides [to convene a conference in 2018;",
            "Decides to convene] a conference in 2018;",
            "Decides [[to convene] a conference in 2018;",
            "Decides ][ to convene a conference in 2018;",
        ]
    ):
        for user, url, body in [
            ("usa", "/api/v1/amendments", {"provision_id": ids.op1, "text": wording}),
            (
                "usa",
                "/api/v1/amendments",
                {"provision_id": ids.op1, "kind": "insert_after", "text": wording},
            ),
            ("usa", f"/api/v1/amendments/{ids.proposal}/redraft", {"text": wording}),
            (
                "usa",
                f"/api/v1/inputs/{ids.input}/adopt",
                {"provision_id": ids.op1, "text": wording},
            ),
            ("cofac.mexico", f"/api/v1/provisions/{ids.op1}/cf-text", {"text": wording}),
        ]:
            api.sign_in(user)
            what = "The new provision's wording" if "kind" in body else None
            problems.append(
                api.refused(
                    f"unbalanced brackets #{n} in POST {url.split('/api/v1')[1]}"
                    + (" (insert_after)" if "kind" in body else ""),
                    "POST",
                    url,
                    json=body,
                    status=422,
                    error="invalid",
                    match=(
                        rf"^{what or 'The (proposed|co-facilitators.) wording'} has unbalanced "
                        r"brackets: .*character \d+"
                    ),
                )
            )
    _all_fine(problems)


def test_the_bracket_refusal_says_it_once(api: Api, ids: Ids) -> None:
    """The refusal is one sentence, not "has unbalanced brackets: Unbalanced brackets: …"."""
    api.sign_in("usa")
    r = api.send(
        "unbalanced brackets, the message",
        "POST",
        "/api/v1/amendments",
        json={"provision_id": ids.op1, "text": "Decides [to convene;"},
    )
    assert r.status_code == 422, r.text
    message = r.json()["message"]
    assert message.lower().count("unbalanced brackets") == 1, message
    assert "'[' at character 9 is never closed" in message, message


# -- HTML and script are text --------------------------------------------------------------------

HTML = '<script>alert("x")</script><img src=x onerror=alert(1)> {{config}} ${7+7} &amp; </b>'


def test_html_and_script_in_every_text_field_round_trip_literally(api: Api, ids: Ids) -> None:
    """Stored as text and returned as text: JSON, never HTML, and the very same characters."""
    problems = []
    for n, spec in enumerate(TEXT_FIELDS):
        api.sign_in(spec.user)
        method, url, body = spec.request(ids, HTML, 200 + n)
        r = api.send(f"HTML and script in the {spec.name}", method, url, json=body)
        if r.status_code not in (200, 201, 204):
            problems.append(f"{spec.name}: refused: {r.status_code} {r.text[:200]}")
            continue
        if r.status_code != 204:
            kind = r.headers.get("content-type", "")
            if not kind.startswith("application/json"):
                problems.append(f"{spec.name}: answered as {kind!r}, not JSON")
            if r.headers.get("x-content-type-options") != "nosniff":
                problems.append(f"{spec.name}: no X-Content-Type-Options: nosniff")
        stored = spec.read(api, ids, r.json() if r.status_code != 204 else {})
        if stored is None:
            continue
        if not isinstance(stored, str) or HTML not in stored:
            problems.append(f"{spec.name}: stored {stored!r}, not the literal {HTML!r}")
    assert not problems, "\n".join(problems)


# -- file names ----------------------------------------------------------------------------------


def test_export_file_names_cannot_escape(api: Api, ids: Ids) -> None:
    """A symbol or revision name with path tricks never reaches Content-Disposition as a path."""
    api.sign_in("secretariat")
    symbol = '../../etc/passwd"; filename=evil.sh; x=\\..\\'
    r = api.send(
        "path tricks in a negotiation symbol",
        "POST",
        "/api/v1/negotiations",
        json={"symbol": symbol, "title": "Path tricks", "cofacilitators": ["MEX"]},
    )
    assert r.status_code == 201, r.text
    negotiation = r.json()["id"]
    r = api.client.post(
        f"/api/v1/negotiations/{negotiation}/documents",
        json={"text": SMALL_RESOLUTION, "issued_on": "2016-11-23"},
    )
    assert r.status_code == 201, r.text
    document = r.json()["id"]
    api.sign_in("cofac.mexico")
    name = "../..\\Rev.1/..%2F..%2Fboot.ini"
    r = api.send(
        "path tricks in a revision name",
        "POST",
        f"/api/v1/documents/{document}/revisions",
        json={"name": name, "issued_on": "2016-12-15"},
    )
    assert r.status_code == 201, r.text
    problems = []
    for query in ("", f"?revision={r.json()['seq']}", "?revision=0"):
        for kind in ("clean", "compilation", "amendment-list"):
            r = api.send(
                f"export {kind}{query} of a document with path tricks",
                "GET",
                f"/api/v1/documents/{document}/export/{kind}{query}",
            )
            if r.status_code != 200:
                problems.append(f"export {kind}{query}: {r.status_code} {r.text[:200]}")
                continue
            disposition = r.headers.get("content-disposition", "")
            found = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
            if not found:
                problems.append(f"export {kind}{query}: Content-Disposition {disposition!r}")
                continue
            filename = found.group(1)
            if any(bad in filename for bad in ("/", "\\", "../", "..\\", ";", "%", "\r", "\n")):
                problems.append(f"export {kind}{query}: unsafe file name {filename!r}")
            if not filename.endswith(".docx"):
                problems.append(f"export {kind}{query}: file name {filename!r} is not a .docx")
    assert not problems, "\n".join(problems)


def test_path_tricks_in_the_url_find_nothing_and_say_so_as_json(api: Api, ids: Ids) -> None:
    """Traversal in a path parameter, or a route that does not exist: 404 in the API's format."""
    api.sign_in("usa")
    document = ids.document
    _all_fine(
        [
            api.refused(
                "path traversal in a revision reference",
                "GET",
                f"/api/v1/documents/{document}/revisions/..%2F..%2Fetc%2Fpasswd",
                status=404,
                error="not_found",
            ),
            api.refused(
                "path traversal in an export kind",
                "GET",
                f"/api/v1/documents/{document}/export/..%2F..%2Fetc%2Fpasswd",
                status=(404, 422),
                error="not_found",
            ),
            api.refused(
                "an unknown route",
                "GET",
                "/api/v1/no-such-thing",
                status=404,
                error="not_found",
            ),
        ]
    )


# -- content types, malformed JSON, unknown fields -----------------------------------------------


def test_bodies_that_are_not_json_are_refused_saying_json(api: Api, ids: Ids) -> None:
    """A JSON endpoint sent a form, plain text, multipart, broken JSON or a list: 422, "JSON"."""
    api.sign_in("usa")
    url = "/api/v1/amendments"
    json_please = r"JSON"
    problems = [
        api.refused(
            "form-encoded body to a JSON endpoint",
            "POST",
            url,
            data={"provision_id": str(ids.op1), "text": OP1[:-1] + " x;"},
            status=422,
            error="invalid",
            match=json_please,
        ),
        api.refused(
            "text/plain body to a JSON endpoint",
            "POST",
            url,
            content=f"provision_id={ids.op1}",
            headers={"content-type": "text/plain"},
            status=422,
            error="invalid",
            match=json_please,
        ),
        api.refused(
            "multipart body to a JSON endpoint",
            "POST",
            url,
            files={"text": ("wording.txt", b"Decides x;")},
            status=422,
            error="invalid",
            match=json_please,
        ),
        api.refused(
            "truncated JSON",
            "POST",
            url,
            content=b'{"provision_id": ',
            headers={"content-type": "application/json"},
            status=422,
            error="invalid",
            match=r"JSON",
        ),
        api.refused(
            "a JSON list instead of an object",
            "POST",
            url,
            content=b"[]",
            headers={"content-type": "application/json"},
            status=422,
            error="invalid",
            match=json_please,
        ),
    ]
    r = api.send(
        "truncated JSON, the message",
        "POST",
        url,
        content=b'{"provision_id": ',
        headers={"content-type": "application/json"},
    )
    message = r.json().get("message", "")
    if re.search(r": \d+: ", message):
        problems.append(f"truncated JSON: a character position is shown as a field: {message!r}")
    _all_fine(problems)


def test_unknown_fields_are_refused(api: Api, ids: Ids) -> None:
    """The API forbids extra fields: a forged attribution or state is refused, not ignored."""
    cases = [
        (
            "usa",
            "/api/v1/amendments",
            {"provision_id": ids.op1, "text": OP1[:-1] + " x;", "delegation_id": 1},
            "delegation_id",
        ),
        (
            "usa",
            "/api/v1/amendments",
            {"provision_id": ids.op1, "text": OP1[:-1] + " y;", "state": "accepted"},
            "state",
        ),
        (
            "usa",
            f"/api/v1/amendments/{ids.proposal}/redraft",
            {"text": OP1, "author_id": 1},
            "author_id",
        ),
        (
            "usa",
            f"/api/v1/amendments/{ids.proposal_b}/position",
            {"stance": "support", "delegation": "RUS"},
            "delegation",
        ),
        ("usa", "/api/v1/tokens", {"name": "t", "user_id": 1}, "user_id"),
        ("usa", "/api/v1/session", {"username": "usa", "password": PASSWORD, "role": "x"}, "role"),
        (
            "cofac.mexico",
            f"/api/v1/amendments/{ids.proposal_b}/decision",
            {"decision": "reject", "reason": "r", "decided_by_id": 1},
            "decided_by_id",
        ),
        (
            "secretariat",
            "/api/v1/users",
            {
                "username": "extra",
                "display_name": "E",
                "role": "delegate",
                "password": PASSWORD,
                "delegation": "FRA",
                "is_admin": True,
            },
            "is_admin",
        ),
        (
            "ngo",
            f"/api/v1/documents/{ids.document}/inputs",
            {"text": "An input.", "organisation": "N", "adopted_by": 1},
            "adopted_by",
        ),
    ]
    problems = []
    for user, url, body, name in cases:
        api.sign_in(user)
        problems.append(
            api.refused(
                f"unknown field {name} in POST {url.split('/api/v1')[1]}",
                "POST",
                url,
                json=body,
                status=422,
                error="invalid",
                message=f"The request is not valid: {name}: Extra inputs are not permitted",
            )
        )
    _all_fine(problems)


# -- ids: forged, missing, negative, huge --------------------------------------------------------


def _other_negotiation(world: World) -> dict[str, int]:
    """Negotiation B, facilitated by Norway and Japan, with a proposal, an input and a round."""
    database = world.database
    cofac = _person(database, "cofac.norway", Role.COFACILITATOR, "NOR")
    negotiation = documents.create_negotiation(
        database, actor=world.secretariat, symbol="B/1", title="B", cofacilitators=["NOR", "JPN"]
    )
    document = documents.import_outline(
        database,
        actor=world.secretariat,
        negotiation_id=negotiation.id,
        outline=parse_outline(SMALL_RESOLUTION),
        issued_on=datetime(2016, 11, 23).date(),
    )
    documents.set_visibility(
        database, actor=world.secretariat, document_id=document.id, visibility="public"
    )
    op1 = next(p.id for p in document.provisions if p.label == "OP1")
    proposal = amendments.propose(
        database,
        actor=world.norway,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=OP1.replace("2018", "2019"),
    )
    submitted = inputs.submit_input(
        database,
        actor=world.stakeholder,
        document_id=document.id,
        text="An input on B.",
        organisation="Network",
    )
    rnd = process.open_round(
        database,
        actor=cofac,
        document_id=document.id,
        name="B round",
        deadline=datetime.now(UTC) + timedelta(days=5),
    )
    return dict(
        document=document.id,
        op1=op1,
        proposal=proposal.id,
        input=submitted.id,
        round=rnd.id,
        negotiation=negotiation.id,
    )


def test_forged_ids_of_another_negotiation_are_refused(api: Api, ids: Ids, world: World) -> None:
    """A co-facilitator of A cannot act in B by sending B's ids; nor can ids be mixed across."""
    b = _other_negotiation(world)
    only_here = "Only the co-facilitators of this negotiation can do this."
    api.sign_in("cofac.mexico")
    problems = [
        api.refused(
            "co-facilitator of A accepts a proposal of B",
            "POST",
            f"/api/v1/amendments/{b['proposal']}/decision",
            json={"decision": "accept"},
            status=403,
            error="forbidden",
            message=only_here,
        ),
        api.refused(
            "co-facilitator of A rejects a proposal of B",
            "POST",
            f"/api/v1/amendments/{b['proposal']}/decision",
            json={"decision": "reject", "reason": "No."},
            status=403,
            error="forbidden",
            message=only_here,
        ),
        api.refused(
            "co-facilitator of A writes its wording into B",
            "POST",
            f"/api/v1/provisions/{b['op1']}/cf-text",
            json={"text": "Decides to do nothing;"},
            status=403,
            error="forbidden",
            message=only_here,
        ),
        api.refused(
            "co-facilitator of A marks a provision of B agreed",
            "POST",
            f"/api/v1/provisions/{b['op1']}/status",
            json={"status": "agreed"},
            status=403,
            error="forbidden",
            message=only_here,
        ),
        api.refused(
            "co-facilitator of A issues a revision of B",
            "POST",
            f"/api/v1/documents/{b['document']}/revisions",
            json={"name": "Rev.1", "issued_on": "2016-12-15"},
            status=403,
            error="forbidden",
            message=only_here,
        ),
        api.refused(
            "co-facilitator of A moves B's deadline",
            "POST",
            f"/api/v1/rounds/{b['round']}/deadline",
            json={"deadline": WHEN},
            status=403,
            error="forbidden",
            message=only_here,
        ),
        api.refused(
            "co-facilitator of A supersedes B's proposal with A's wording",
            "POST",
            f"/api/v1/provisions/{ids.op1}/cf-text",
            json={"text": "Decides to hold a conference;", "supersedes": [b["proposal"]]},
            status=404,
            error="not_found",
            message=f"There is no proposal A-{b['proposal']} in this document.",
        ),
    ]
    api.sign_in("usa")
    problems += [
        api.refused(
            "a move after a provision of another document",
            "POST",
            "/api/v1/amendments",
            json={"provision_id": ids.op1, "kind": "move", "after_id": b["op1"]},
            status=404,
            error="not_found",
            message=f"There is no provision {b['op1']} in this document.",
        ),
        api.refused(
            "adopting B's input as a proposal on A",
            "POST",
            f"/api/v1/inputs/{b['input']}/adopt",
            json={"provision_id": ids.op1, "text": OP1[:-1] + " adopted;"},
            status=422,
            error="invalid",
            message="The input and the provision belong to different documents.",
        ),
    ]
    api.sign_in("ngo")
    problems.append(
        api.refused(
            "an input on A about a provision of B",
            "POST",
            f"/api/v1/documents/{ids.document}/inputs",
            json={"text": "About B.", "organisation": "N", "provision_id": b["op1"]},
            status=404,
            error="not_found",
            message=f"There is no provision {b['op1']} in this document.",
        )
    )
    _all_fine(problems)


def test_ids_that_do_not_exist_are_404_with_the_message(api: Api, ids: Ids) -> None:
    n = 987654
    doc = ids.document
    cases = [
        ("usa", "GET", f"/api/v1/amendments/{n}", None, f"There is no proposal A-{n}."),
        ("usa", "POST", f"/api/v1/amendments/{n}/withdraw", None, f"There is no proposal A-{n}."),
        (
            "usa",
            "POST",
            f"/api/v1/amendments/{n}/redraft",
            {"text": OP1},
            f"There is no proposal A-{n}.",
        ),
        (
            "usa",
            "POST",
            f"/api/v1/amendments/{n}/position",
            {"stance": "support"},
            f"There is no proposal A-{n}.",
        ),
        (
            "usa",
            "POST",
            "/api/v1/amendments",
            {"provision_id": n, "text": OP1},
            f"There is no provision {n}.",
        ),
        (
            "usa",
            "POST",
            "/api/v1/amendments",
            {"provision_id": ids.op1, "text": OP1[:-1] + " z;", "on_behalf_of": "NOPE"},
            "There is no negotiating group with code 'NOPE'.",
        ),
        ("usa", "GET", f"/api/v1/provisions/{n}", None, f"There is no provision {n}."),
        ("usa", "GET", f"/api/v1/documents/{n}", None, f"There is no document {n}."),
        ("usa", "GET", f"/api/v1/negotiations/{n}", None, f"There is no negotiation {n}."),
        (
            "usa",
            "GET",
            f"/api/v1/documents/{doc}/revisions/Rev.99",
            None,
            "This document has no revision 'Rev.99'.",
        ),
        (
            "usa",
            "GET",
            f"/api/v1/documents/{doc}/export/clean?revision=Rev.99",
            None,
            "This document has no revision 'Rev.99'.",
        ),
        (
            "usa",
            "POST",
            f"/api/v1/silences/{n}/break",
            {"statement": "We object."},
            f"There is no silence procedure {n}.",
        ),
        (
            "usa",
            "POST",
            f"/api/v1/inputs/{n}/adopt",
            {"provision_id": ids.op1, "text": OP1},
            f"There is no input {n}.",
        ),
        ("usa", "DELETE", f"/api/v1/tokens/{n}", None, f"You have no token {n}."),
        (
            "cofac.mexico",
            "POST",
            f"/api/v1/amendments/{n}/decision",
            {"decision": "accept"},
            f"There is no proposal A-{n}.",
        ),
        (
            "cofac.mexico",
            "POST",
            f"/api/v1/provisions/{n}/cf-text",
            {"text": "Decides;"},
            f"There is no provision {n}.",
        ),
        (
            "cofac.mexico",
            "POST",
            f"/api/v1/provisions/{ids.op1}/status",
            {"status": "agreed_pending", "reservation": "XXX"},
            "There is no delegation with code 'XXX'.",
        ),
        (
            "cofac.mexico",
            "POST",
            f"/api/v1/rounds/{n}/deadline",
            {"deadline": WHEN},
            f"There is no round {n}.",
        ),
        (
            "secretariat",
            "POST",
            f"/api/v1/negotiations/{n}/documents",
            {"text": SMALL_RESOLUTION},
            f"There is no negotiation {n}.",
        ),
    ]
    problems = []
    for user, method, url, body, message in cases:
        api.sign_in(user)
        problems.append(
            api.refused(
                f"missing id: {method} {url.split('/api/v1')[1]}"
                + (f" {sorted(body)}" if body else ""),
                method,
                url,
                json=body,
                status=404,
                error="not_found",
                message=message,
            )
        )
    _all_fine(problems)


NOT_THERE = {
    "document": "There is no document {}.",
    "provision": "There is no provision {}.",
    "amendment": "There is no proposal A-{}.",
    "negotiation": "There is no negotiation {}.",
    "silence": "There is no silence procedure {}.",
}


def _missing_or_out_of_range(
    what: str, value: int, field: str
) -> Callable[[httpx.Response], str | None]:
    """An id that cannot exist: 404 with the usual message, or 422 naming the field."""

    def judge(r: httpx.Response) -> str | None:
        if r.status_code == 422:
            return _judge(r, status=422, error="invalid", message=None, match=re.escape(field))
        problem = _judge(
            r, status=404, error="not_found", message=NOT_THERE[what].format(value), match=None
        )
        return problem and f"{problem} (422 naming {field} would do too)"

    return judge


def test_negative_and_huge_integers_in_paths_and_bodies(api: Api, ids: Ids) -> None:
    """Ids outside what the database holds are ids that do not exist — never a server error."""
    problems: list[str] = []
    for value in (-1, 0, 2**31, 2**63, 10**30):
        _integers(api, ids, value, problems)
    _all_fine(problems)


def _integers(api: Api, ids: Ids, value: int, problems: list[str]) -> None:
    cases: list[tuple[str, str, str, Any, Callable[[httpx.Response], str | None]]] = [
        (
            "usa",
            "GET",
            f"/api/v1/documents/{value}",
            None,
            _missing_or_out_of_range("document", value, "document_id"),
        ),
        (
            "usa",
            "GET",
            f"/api/v1/provisions/{value}",
            None,
            _missing_or_out_of_range("provision", value, "provision_id"),
        ),
        (
            "usa",
            "GET",
            f"/api/v1/negotiations/{value}",
            None,
            _missing_or_out_of_range("negotiation", value, "negotiation_id"),
        ),
        (
            "usa",
            "POST",
            f"/api/v1/amendments/{value}/withdraw",
            None,
            _missing_or_out_of_range("amendment", value, "amendment_id"),
        ),
        (
            "usa",
            "POST",
            "/api/v1/amendments",
            {"provision_id": value, "text": OP1},
            _missing_or_out_of_range("provision", value, "provision_id"),
        ),
        (
            "usa",
            "POST",
            f"/api/v1/silences/{value}/break",
            {"statement": "We object."},
            _missing_or_out_of_range("silence", value, "silence_id"),
        ),
        (
            "cofac.mexico",
            "POST",
            f"/api/v1/amendments/{value}/decision",
            {"decision": "accept"},
            _missing_or_out_of_range("amendment", value, "amendment_id"),
        ),
    ]
    for user, method, url, body, judge in cases:
        api.sign_in(user)
        before = api.rows()
        r = api.send(
            f"integer {value} in {method} {url.split(str(value))[0]}…", method, url, json=body
        )
        problem = judge(r)
        if problem is None and api.rows() != before:
            problem = "refused, but rows were stored"
        if problem:
            problems.append(f"{method} {url} {body or ''}: {problem}")
    # In queries: an offset beyond any list is an empty page or a refusal naming it.
    api.sign_in("usa")
    for query, name in [(f"offset={value}", "offset"), (f"provision_id={value}", "provision_id")]:
        url = f"/api/v1/documents/{ids.document}/amendments?{query}"
        r = api.send(f"integer {value} in the query {name}", "GET", url)
        if r.status_code == 200:
            if value > 0 and name == "offset" and r.json() != []:
                problems.append(f"GET {url}: expected an empty page, got {r.text[:200]}")
            continue
        problem = _judge(r, status=422, error="invalid", message=None, match=rf"query\.{name}")
        if problem:
            problems.append(f"GET {url}: {problem}")


def test_ids_must_be_integers_not_booleans(api: Api, ids: Ids) -> None:
    """`true` is not provision 1."""
    api.sign_in("usa")
    _all_fine(
        [
            api.refused(
                "true as a provision id",
                "POST",
                "/api/v1/amendments",
                json={"provision_id": True, "text": "Recalling the Charter of 1945,"},
                status=422,
                error="invalid",
                match=r"^The request is not valid: provision_id: Input should be a valid integer",
            ),
            api.refused(
                "an id with a fraction",
                "POST",
                "/api/v1/amendments",
                json={"provision_id": 1.5, "text": "Recalling the Charter of 1945,"},
                status=422,
                error="invalid",
                message=(
                    "The request is not valid: provision_id: Input should be a valid integer, "
                    "got a number with a fractional part"
                ),
            ),
            api.refused(
                "a negative limit",
                "GET",
                f"/api/v1/documents/{ids.document}/amendments?limit=-5",
                status=422,
                error="invalid",
                message=(
                    "The request is not valid: query.limit: Input should be greater than or "
                    "equal to 1"
                ),
            ),
            api.refused(
                "a limit of a million",
                "GET",
                f"/api/v1/documents/{ids.document}/amendments?limit=1000000",
                status=422,
                error="invalid",
                message=(
                    "The request is not valid: query.limit: Input should be less than or "
                    "equal to 1000"
                ),
            ),
        ]
    )


# -- sessions ------------------------------------------------------------------------------------

SIGN_IN_PLEASE = "Sign in, or send a personal API token, to use Rolltext."


def test_missing_forged_and_replayed_sessions(api: Api, ids: Ids, world: World) -> None:
    """No cookie, a tampered cookie, a cookie replayed after signing out, a stale CSRF token."""
    client = api.client
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    api.user = None
    problems = [
        api.refused(
            "no session cookie",
            "GET",
            "/api/v1/me",
            status=401,
            error="unauthenticated",
            message=SIGN_IN_PLEASE,
        ),
        api.refused(
            "no session cookie, proposing",
            "POST",
            "/api/v1/amendments",
            json={"provision_id": ids.op1, "text": OP1[:-1] + " anonymously;"},
            status=401,
            error="unauthenticated",
            message=SIGN_IN_PLEASE,
        ),
    ]
    r = client.post("/api/v1/session", json={"username": "usa", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie, csrf = client.cookies["rolltext_session"], r.headers["X-CSRF-Token"]
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    client.cookies.set("rolltext_session", tampered)
    problems.append(
        api.refused(
            "a tampered session cookie",
            "GET",
            "/api/v1/me",
            status=401,
            error="unauthenticated",
            message=SIGN_IN_PLEASE,
        )
    )
    client.cookies.set("rolltext_session", cookie)
    problems.append(
        api.refused(
            "a replayed cookie without the CSRF token",
            "POST",
            "/api/v1/amendments",
            json={"provision_id": ids.op1, "text": OP1[:-1] + " forged;"},
            status=403,
            error="forbidden",
            match=r"^Missing or wrong CSRF token",
        )
    )
    problems.append(
        api.refused(
            "a replayed cookie with another session's CSRF token",
            "POST",
            "/api/v1/amendments",
            json={"provision_id": ids.op1, "text": OP1[:-1] + " forged;"},
            headers={"X-CSRF-Token": "x" * 43},
            status=403,
            error="forbidden",
            match=r"^Missing or wrong CSRF token",
        )
    )
    r = client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    # The signed-out cookie, kept by whoever copied it, must be worth nothing now.
    client.cookies.clear()
    client.cookies.set("rolltext_session", cookie)
    problems += [
        api.refused(
            "a session cookie replayed after signing out",
            "GET",
            "/api/v1/me",
            status=401,
            error="unauthenticated",
        ),
        api.refused(
            "a session cookie and CSRF token replayed after signing out, proposing",
            "POST",
            "/api/v1/amendments",
            json={"provision_id": ids.op1, "text": OP1[:-1] + " after sign-out;"},
            headers={"X-CSRF-Token": csrf},
            status=401,
            error="unauthenticated",
        ),
    ]
    client.cookies.clear()
    # Tokens: malformed, unknown, revoked.
    token = accounts.issue_token(world.database, actor=world.usa, name="hostile")
    accounts.revoke_token(world.database, actor=world.usa, token_id=token.id)
    for label, header, message in [
        (
            "Basic credentials instead of a token",
            "Basic dXNhOmNvcnJlY3Q=",
            "Use 'Authorization: Bearer <token>' with a personal API token.",
        ),
        (
            "an empty Bearer token",
            "Bearer ",
            "Use 'Authorization: Bearer <token>' with a personal API token.",
        ),
        (
            "an unknown Bearer token",
            "Bearer rt_" + "x" * 43,
            "This API token is unknown or has been revoked.",
        ),
        (
            "a revoked Bearer token replayed",
            f"Bearer {token.token}",
            "This API token is unknown or has been revoked.",
        ),
    ]:
        problems.append(
            api.refused(
                label,
                "POST",
                "/api/v1/amendments",
                json={"provision_id": ids.op1, "text": OP1[:-1] + " by token;"},
                headers={"Authorization": header},
                status=401,
                error="unauthenticated",
                message=message,
            )
        )
    _all_fine(problems)


# -- dates at the ends of the calendar -----------------------------------------------------------


def test_deadlines_at_the_ends_of_the_calendar_are_refused(api: Api, ids: Ids) -> None:
    """Year 1 or year 9999 (with an offset that pushes it over the edge) is no deadline: 422."""
    api.sign_in("cofac.mexico")
    problems = []
    for when in ("0001-01-01T00:00:00+00:01", "0001-01-01T00:00:00", "9999-12-31T23:59:59-00:01"):
        for label, url, body in [
            ("round deadline", f"/api/v1/documents/{ids.document}/rounds", {"name": "R"}),
            ("new deadline", f"/api/v1/rounds/{ids.round}/deadline", {}),
            (
                "silence deadline",
                f"/api/v1/documents/{ids.document}/silences",
                {"revision": "0"},
            ),
        ]:
            problems.append(
                api.refused(
                    f"{label} {when}",
                    "POST",
                    url,
                    json={**body, "deadline": when},
                    status=422,
                    error="invalid",
                    match=r"(?i)deadline|date",
                )
            )
        problems.append(
            api.refused(
                f"late submission until {when}",
                "POST",
                f"/api/v1/rounds/{ids.round}/late-submissions",
                json={"delegation": "USA", "until": when},
                status=422,
                error="invalid",
                match=r"(?i)date|until|deadline",
            )
        )
    _all_fine(problems)
