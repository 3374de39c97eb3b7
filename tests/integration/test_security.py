"""Web security on both databases: CSRF tokens on every cookie-authenticated change, security
headers with the exact policy on every response, no inline script or style left, and sign-in
throttling persisted in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.services import accounts, amendments
from app.web.security import CONTENT_SECURITY_POLICY
from app.web.templating import STATIC, TEMPLATES
from tests.conftest import World

PASSWORD = "correct horse battery"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@pytest.fixture
def app(world: World):  # type: ignore[no-untyped-def]
    return create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; return the CSRF token the sign-in handed out."""
    client.cookies.clear()
    r = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    token: str = r.headers["X-CSRF-Token"]
    return token


def delete_op3(client: TestClient, world: World, **kw: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/provisions/{world.provision('OP3')}/proposals",
        **kw,  # type: ignore[arg-type]
    )


def proposals(world: World) -> int:
    return len(amendments.list_amendments(world.database, document_id=world.document.id))


# -- CSRF ------------------------------------------------------------------------------------------


def test_forms_without_the_token_are_refused_and_nothing_changes(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, "usa")
    assert len(token) >= 40
    page = client.get(f"/documents/{world.document.id}").text
    assert f'<meta name="csrf-token" content="{token}">' in page
    # missing
    r = delete_op3(client, world, data={"kind": "delete"}, headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert "did not carry the security token of your session" in r.text
    assert 'role="alert"' in r.text and "<html" not in r.text  # HTMX: the message alone
    r = delete_op3(client, world, data={"kind": "delete"})
    assert r.status_code == 403 and "<html" in r.text and "reload it and try again" in r.text
    # forged
    r = delete_op3(client, world, data={"kind": "delete", "csrf_token": "forged"})
    assert r.status_code == 403
    r = delete_op3(client, world, data={"kind": "delete"}, headers={"X-CSRF-Token": token[:-2]})
    assert r.status_code == 403
    assert proposals(world) == 0
    # the hidden field of a form sent without JavaScript, and the header HTMX sends
    r = delete_op3(client, world, data={"kind": "delete", "csrf_token": token})
    assert r.status_code == 200, r.text
    r = client.post(
        f"/provisions/{world.provision('OP1')}/proposals",
        data={"kind": "delete"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert r.status_code == 200 and "is on the table" in r.text
    assert proposals(world) == 2


def test_a_multipart_form_carries_the_token_in_its_hidden_field(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, "usa")
    url = f"/documents/{world.document.id}/marked-up"
    files = {"file": ("x.docx", b"not a zip", "application/octet-stream")}
    assert client.post(url, files=files).status_code == 403
    r = client.post(url, files=files, data={"csrf_token": token})
    assert r.status_code == 422  # past the check: the Word layer refuses the file itself
    assert "This file is not a Word document (.docx)." in r.text


def test_a_token_from_another_session_is_refused(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as usa, TestClient(app) as norway:
        usa_token = sign_in(usa, "usa")
        sign_in(norway, "norway")
        r = delete_op3(norway, world, data={"kind": "delete"}, headers={"X-CSRF-Token": usa_token})
        assert r.status_code == 403
        r = norway.post(
            "/api/v1/amendments",
            json={"provision_id": world.provision("OP3"), "kind": "delete"},
            headers={"X-CSRF-Token": usa_token},
        )
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        # signing in again replaces the token: the old one is worthless in the new session
        old = sign_in(usa, "usa")
        new = sign_in(usa, "usa")
        assert old != new
        r = delete_op3(usa, world, data={"kind": "delete"}, headers={"X-CSRF-Token": old})
        assert r.status_code == 403
    assert proposals(world) == 0


def test_the_json_api_with_the_cookie_needs_the_header_and_bearer_is_exempt(
    client: TestClient, world: World
) -> None:
    r = client.post("/api/v1/session", json={"username": "usa", "password": PASSWORD})
    assert r.status_code == 200
    token = r.headers["X-CSRF-Token"]
    body = {"provision_id": world.provision("OP3"), "kind": "delete"}
    r = client.post("/api/v1/amendments", json=body)
    assert r.status_code == 403
    assert r.json() == {
        "error": "forbidden",
        "message": (
            "Missing or wrong CSRF token: a request signed in with the session cookie must send "
            "the X-CSRF-Token header returned when you signed in (or use a personal API token). "
            "Nothing was changed."
        ),
    }
    assert client.get("/api/v1/me").status_code == 200  # reading needs no token
    issued = client.post("/api/v1/tokens", json={"name": "script"}, headers={"X-CSRF-Token": token})
    assert issued.status_code == 201
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    r = client.post("/api/v1/amendments", json=body, headers=bearer)
    assert r.status_code == 201, r.text  # a browser never adds this header by itself
    # signing out with the cookie needs the token too (a forged sign-out is a nuisance)
    client.post("/api/v1/session", json={"username": "usa", "password": PASSWORD})
    assert client.delete("/api/v1/session").status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_signing_in_is_not_blocked_by_the_token(client: TestClient) -> None:
    """No session, no token needed: the sign-in form is guarded by the same-origin check."""
    r = client.post(
        "/sign-in",
        data={"username": "usa", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403 and "another site" in r.text


# -- headers ---------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(client: TestClient, world: World) -> None:
    assert CONTENT_SECURITY_POLICY == CSP
    sign_in(client, "usa")
    for url in (
        "/",
        f"/documents/{world.document.id}",
        "/api/v1/me",
        "/static/rolltext.css",
        "/no/such/page",
        "/docs",
        "/health",
    ):
        r = client.get(url)
        assert r.headers["Content-Security-Policy"] == CSP, url
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "camera=()" in r.headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in r.headers  # development: plain http


def test_the_session_cookie_and_production(world: World) -> None:
    app = create_app(
        Settings(secret_key="s3cret", database_url=world.database.url, environment="production"),
        database=world.database,
    )
    with TestClient(app, base_url="https://testserver") as client:
        r = client.post(
            "/sign-in", data={"username": "usa", "password": PASSWORD}, follow_redirects=False
        )
        cookie = r.headers["set-cookie"].lower()
        assert "rolltext_session=" in cookie and "httponly" in cookie
        assert "samesite=lax" in cookie and "secure" in cookie
        assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    dev = create_app(
        Settings(secret_key="s3cret", database_url=world.database.url), database=world.database
    )
    with TestClient(dev) as client:
        r = client.post(
            "/sign-in", data={"username": "usa", "password": PASSWORD}, follow_redirects=False
        )
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_no_inline_script_or_style_is_left() -> None:
    """The policy forbids them: they would silently not run (scripts) or not apply (styles)."""
    for path in TEMPLATES.rglob("*.html"):
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"<style\b", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert "hx-on" not in html and "js:" not in html, path
        assert not re.search(r'hx-trigger="[^"]*\[', html), path  # filters need eval
    assert '"allowEval":false' in (TEMPLATES / "base.html").read_text()
    assert 'includeIndicatorStyles":false' in (TEMPLATES / "base.html").read_text()


def test_the_api_page_runs_from_vendored_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    assert "cdn" not in page.text.lower() and "<script>" not in page.text
    assert client.get(scripts[0]).status_code == 200
    assert (STATIC / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").stat().st_size > 100_000


# -- sign-in throttling ----------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(datetime(2017, 1, 10, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(accounts, "utcnow", c)
    return c


def _attempt(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    client.cookies.clear()  # a fresh browser each time (a signed-in one would need its token)
    return client.post(
        "/sign-in", data={"username": username, "password": password}, follow_redirects=False
    )


def test_five_failures_lock_a_username_for_fifteen_minutes(
    client: TestClient, world: World, clock: Clock
) -> None:
    for _ in range(5):
        assert _attempt(client, "usa", "wrong").status_code == 401
        clock.now += timedelta(seconds=30)
    r = _attempt(client, "usa", PASSWORD)  # even the right password: locked
    assert r.status_code == 429
    message = (
        "Too many failed sign-ins for this username: signing in is blocked for 15 minutes, "
        "until 12:17 UTC. Check the username and password, or ask the secretariat to reset "
        "the password."
    )
    assert message in r.text and 'value="usa"' in r.text
    assert int(r.headers["Retry-After"]) > 0
    api = client.post("/api/v1/session", json={"username": "usa", "password": PASSWORD})
    assert api.status_code == 429 and api.json()["error"] == "too_many_attempts"
    assert "Retry-After" in api.headers
    assert _attempt(client, "norway", PASSWORD).status_code == 303  # others are not affected
    clock.now = datetime(2017, 1, 10, 12, 17, 1, tzinfo=UTC)  # 15 minutes after the 5th
    assert _attempt(client, "usa", PASSWORD).status_code == 303


def test_a_successful_sign_in_resets_the_count(
    client: TestClient, world: World, clock: Clock
) -> None:
    for _ in range(4):
        assert _attempt(client, "usa", "wrong").status_code == 401
    assert _attempt(client, "usa", PASSWORD).status_code == 303
    for _ in range(4):
        assert _attempt(client, "usa", "wrong").status_code == 401
    assert _attempt(client, "usa", PASSWORD).status_code == 303
    # failures spread over more than 15 minutes do not lock either
    for _ in range(8):
        assert _attempt(client, "usa", "wrong").status_code == 401
        clock.now += timedelta(minutes=4)
    assert _attempt(client, "usa", PASSWORD).status_code == 303


def test_unknown_usernames_and_one_address_are_throttled_too(
    client: TestClient, world: World, clock: Clock
) -> None:
    for _ in range(5):
        assert _attempt(client, "nobody", "guess").status_code == 401
    assert _attempt(client, "nobody", "guess").status_code == 429  # no hint that it is unknown
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS - 5):
        assert _attempt(client, f"guess{i}", "guess").status_code == 401
    r = _attempt(client, "norway", PASSWORD)  # the address sent too many failures
    assert r.status_code == 429 and "for your network address" in r.text
