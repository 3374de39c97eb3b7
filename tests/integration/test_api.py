"""The JSON API on both databases: every endpoint, and its refusals with the exact message."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import World

OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"
PASSWORD = "correct horse battery"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url), database=world.database
    )
    with TestClient(app) as c:
        yield c


def sign_in(client: TestClient, username: str) -> TestClient:
    r = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.headers["X-CSRF-Token"]  # cookie sessions send it back
    return client


def test_sign_in_and_refusals(client: TestClient) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json() == {
        "error": "unauthenticated",
        "message": "Sign in, or send a personal API token, to use Rolltext.",
    }
    r = client.post("/api/v1/session", json={"username": "usa", "password": "wrong password"})
    assert r.status_code == 401
    assert r.json()["message"] == "Unknown username or wrong password."
    sign_in(client, "usa")
    me = client.get("/api/v1/me").json()
    assert me["username"] == "usa" and me["delegation_code"] == "USA"
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_proposal_routes_refuse_who_is_not_signed_in(client: TestClient, world: World) -> None:
    """The proposal routes look their caller up in the use case's thread (`deps.Caller`): they
    refuse exactly as the others do, and write nothing."""
    op1 = world.provision("OP1")
    body = {"provision_id": op1, "text": OP1.replace("to convene", "to hold")}
    r = client.post("/api/v1/amendments", json=body)
    assert r.status_code == 401
    assert r.json()["message"] == "Sign in, or send a personal API token, to use Rolltext."
    r = client.post("/api/v1/amendments", json=body, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["message"] == "This API token is unknown or has been revoked."
    # who asks comes before what is asked: no description of the schema for strangers
    for path in ("/api/v1/amendments", "/api/v1/amendments/1/position"):
        r = client.post(path, json={"nonsense": True})
        assert r.status_code == 401, (path, r.text)
    assert client.get("/api/v1/amendments/1").status_code == 401

    sign_in(client, "usa")
    copied = client.cookies.get("rolltext_session")
    assert client.delete("/api/v1/session").status_code == 204
    client.cookies.set("rolltext_session", copied)  # a copy kept from before signing out
    r = client.post("/api/v1/amendments", json=body)
    assert r.status_code == 401
    assert r.json()["message"] == "Your session has ended; please sign in again."

    client.cookies.clear()
    sign_in(client, "usa")
    listed = client.get(f"/api/v1/documents/{world.document.id}/amendments?provision_id={op1}")
    assert listed.status_code == 200
    assert all(a["proposed_text"] != body["text"] for a in listed.json())


def test_api_tokens_are_shown_once_and_revocable(client: TestClient) -> None:
    sign_in(client, "norway")
    issued = client.post("/api/v1/tokens", json={"name": "scripts"}).json()
    client.delete("/api/v1/session")
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "norway"
    sign_in(client, "norway")
    assert client.delete(f"/api/v1/tokens/{issued['id']}").status_code == 204
    client.delete("/api/v1/session")
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["message"] == "This API token is unknown or has been revoked."
    r = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_restricted_documents_are_for_delegations(client: TestClient, world: World) -> None:
    doc = world.document.id
    sign_in(client, "ngo")
    assert client.get("/api/v1/negotiations").json()[0]["documents"] == []
    r = client.get(f"/api/v1/documents/{doc}")
    assert r.status_code == 404 and r.json()["message"] == f"There is no document {doc}."
    assert client.get(f"/api/v1/provisions/{world.provision('OP1')}").status_code == 404
    assert client.get(f"/api/v1/documents/{doc}/revisions/0").status_code == 404
    assert client.get(f"/api/v1/documents/{doc}/export/clean").status_code == 404
    r = client.post(f"/api/v1/documents/{doc}/visibility", json={"visibility": "public"})
    assert r.status_code == 403
    client.delete("/api/v1/session")
    sign_in(client, "secretariat")
    r = client.post(f"/api/v1/documents/{doc}/visibility", json={"visibility": "public"})
    assert r.json()["visibility"] == "public"
    client.delete("/api/v1/session")
    for reader in ("ngo", "observer"):
        sign_in(client, reader)
        assert client.get(f"/api/v1/documents/{doc}").status_code == 200
        client.delete("/api/v1/session")


def test_reading_the_text(client: TestClient, world: World) -> None:
    sign_in(client, "norway")
    negotiations = client.get("/api/v1/negotiations").json()
    assert negotiations[0]["symbol"] == "GCM/test"
    assert negotiations[0]["cofacilitators"] == ["Mexico", "Switzerland"]
    doc_id = negotiations[0]["documents"][0]["id"]
    assert client.get(f"/api/v1/negotiations/{negotiations[0]['id']}").status_code == 200
    document = client.get(f"/api/v1/documents/{doc_id}").json()
    assert [p["label"] for p in document["provisions"]][:3] == ["PP1", "PP2", "OP1"]
    op1 = document["provisions"][2]
    detail = client.get(f"/api/v1/provisions/{op1['id']}").json()
    assert detail["provision"]["text"] == OP1
    assert detail["versions"][0]["cause"] == "imported"
    assert client.get("/api/v1/documents/9999").json() == {
        "error": "not_found",
        "message": "There is no document 9999.",
    }
    assert len(client.get("/api/v1/delegations").json()) == 196
    groups = {g["code"]: g for g in client.get("/api/v1/groups").json()}
    assert "CHN" in groups["G77"]["members"]
    revisions = client.get(f"/api/v1/documents/{doc_id}/revisions").json()
    assert [r["name"] for r in revisions] == ["Zero draft"]
    zero = client.get(f"/api/v1/documents/{doc_id}/revisions/0").json()
    assert len(zero["entries"]) == 7
    assert client.get(f"/api/v1/documents/{doc_id}/revisions/Rev.9").status_code == 404


def test_propose_support_decide_issue_a_revision(client: TestClient, world: World) -> None:
    op1 = world.provision("OP1")
    sign_in(client, "eu")
    r = client.post(
        "/api/v1/amendments",
        json={
            "provision_id": op1,
            "text": OP1.replace("in 2018", "in the second half of 2018"),
            "on_behalf_of": "EU",
            "justification": "Time to prepare.",
            "expected_version": 1,
        },
    )
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert proposal["proponents"] == ["EU"]
    assert {"op": "insert", "text": "the second half of "} in proposal["diff"]
    client.delete("/api/v1/session")

    sign_in(client, "norway")
    r = client.post(f"/api/v1/amendments/{proposal['id']}/position", json={"stance": "support"})
    assert r.json()["supporters"] == ["Norway"]
    r = client.post(f"/api/v1/amendments/{proposal['id']}/decision", json={"decision": "accept"})
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        "Your role (delegate) cannot decide on proposals; only co-facilitators can."
    )
    client.delete("/api/v1/session")

    sign_in(client, "cofac.mexico")
    r = client.post(
        f"/api/v1/amendments/{proposal['id']}/decision",
        json={"decision": "accept", "expected_version": 1},
    )
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    r = client.post(
        f"/api/v1/amendments/{proposal['id']}/decision", json={"decision": "reject", "reason": "x"}
    )
    assert r.status_code == 422
    assert r.json()["message"] == (
        f"Proposal A-{proposal['id']} is already accepted; it cannot be rejected."
    )
    r = client.post(
        f"/api/v1/provisions/{op1}/status", json={"status": "agreed_ad_ref", "expected_version": 1}
    )
    assert r.status_code == 409
    assert "you had version 1, it is now version 2" in r.json()["message"]
    r = client.post(f"/api/v1/provisions/{op1}/status", json={"status": "agreed_ad_ref"})
    assert r.json()["status_label"] == "agreed ad ref"
    doc = world.document.id
    preview = client.get(f"/api/v1/documents/{doc}/renumbering").json()
    assert preview == {}
    r = client.post(
        f"/api/v1/documents/{doc}/revisions", json={"name": "Rev.1", "issued_on": "2016-12-15"}
    )
    assert r.status_code == 201 and r.json()["seq"] == 1
    client.delete("/api/v1/session")

    sign_in(client, "usa")
    r = client.post("/api/v1/amendments", json={"provision_id": op1, "kind": "delete"})
    assert r.status_code == 422
    assert r.json()["message"] == (
        "OP1 is agreed ad ref: it is closed to new proposals unless the co-facilitators reopen it."
    )


def test_redraft_withdraw_cf_text_and_brackets(client: TestClient, world: World) -> None:
    op1 = world.provision("OP1")
    sign_in(client, "usa")
    a = client.post(
        "/api/v1/amendments",
        json={"provision_id": op1, "text": OP1.replace("to convene", "to hold")},
    ).json()
    r = client.post(
        f"/api/v1/amendments/{a['id']}/redraft",
        json={"text": OP1.replace("to convene", "to organise")},
    )
    assert r.json()["proposed_text"] == OP1.replace("to convene", "to organise")
    b = client.post(
        "/api/v1/amendments", json={"provision_id": op1, "text": OP1.replace("2018", "2019")}
    ).json()
    assert client.post(f"/api/v1/amendments/{b['id']}/withdraw").json()["state"] == "withdrawn"
    full = client.get(f"/api/v1/amendments/{a['id']}").json()
    assert [w["reason"] for w in full["wordings"]] == ["proposed", "revised"]
    client.delete("/api/v1/session")

    sign_in(client, "cofac.switzerland")
    r = client.post(f"/api/v1/amendments/{a['id']}/decision", json={"decision": "bracket"})
    assert r.json()["state"] == "bracketed"
    text = client.get(f"/api/v1/provisions/{op1}").json()["provision"]["text"]
    assert text.startswith("Decides to [convene][organise] an")
    r = client.post(f"/api/v1/provisions/{op1}/resolve-brackets", json={"group": 0, "choice": 0})
    assert r.json()["text"] == OP1
    r = client.post(f"/api/v1/provisions/{op1}/resolve-brackets", json={"group": 3, "choice": 0})
    assert r.status_code == 422
    r = client.post(f"/api/v1/provisions/{op1}/cf-text", json={"text": OP1 + " In New York."})
    assert r.json()["version"] == 4
    r = client.post(f"/api/v1/provisions/{op1}/cf-text", json={"text": "Unbalanced [text"})
    assert r.status_code == 422 and "unbalanced brackets" in r.json()["message"]


def test_validation_errors_are_readable(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    r = client.post("/api/v1/amendments", json={"provision_id": "x"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("The request is not valid: provision_id")
    r = client.post("/api/v1/amendments", json={"provision_id": 1, "kind": "merge"})
    assert r.status_code == 422 and "kind" in r.json()["message"]


def test_secretariat_manages_users_and_imports(client: TestClient, world: World) -> None:
    sign_in(client, "usa")
    assert client.get("/api/v1/users").status_code == 403
    client.delete("/api/v1/session")
    sign_in(client, "secretariat")
    users = client.get("/api/v1/users").json()
    assert {"usa", "eu", "cofac.mexico"} <= {u["username"] for u in users}
    r = client.post(
        "/api/v1/users",
        json={
            "username": "brazil",
            "display_name": "Ana",
            "role": "delegate",
            "password": "long enough pw",
            "delegation": "BRA",
        },
    )
    assert r.status_code == 201 and r.json()["delegation"] == "BRA"
    r = client.post(
        "/api/v1/users",
        json={
            "username": "brazil",
            "display_name": "Ana",
            "role": "delegate",
            "password": "long enough pw",
            "delegation": "BRA",
        },
    )
    assert r.status_code == 422 and r.json()["message"] == "The username 'brazil' is taken."
    r = client.post(
        "/api/v1/negotiations",
        json={"symbol": "X/1", "title": "Another", "cofacilitators": ["NOR"]},
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/negotiations/{r.json()['id']}/documents",
        json={"text": "# Draft\n\nA paragraph.\n\n- a bullet\n"},
    )
    assert r.status_code == 201
    assert [p["kind"] for p in r.json()["provisions"]] == ["paragraph", "list_item"]
    r = client.post(f"/api/v1/negotiations/{world.negotiation_id}/documents", json={"text": ""})
    assert r.status_code == 422


def test_openapi_page(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/amendments" in spec["paths"]


def test_health_says_whether_the_database_answers(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "process": os.getpid()}
    assert client.get("/health/ready").json() == {
        "status": "ok",
        "database": "ok",
        "kept_answers": "ready",
    }
    # the same app against a PostgreSQL port nobody listens on: alive, not ready
    away = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        secret_key="x" * 40,
        demo=False,
    )
    with TestClient(create_app(away)) as lonely:
        assert lonely.get("/health").status_code == 200
        answer = lonely.get("/health/ready")
        assert answer.status_code == 503
        assert answer.json()["error"] == "unavailable"
        assert "database is unavailable" in answer.json()["message"]
