"""Several workers on one PostgreSQL database: live events cross workers, settlements run once.

Two real uvicorn processes serve the same database (as two app replicas behind a load balancer
would). A browser-like SSE stream is opened on worker B; a proposal made through worker A must
reach it within a second, through PostgreSQL LISTEN/NOTIFY. Both workers run the settlement
loop every 0.2 s: a silence procedure whose deadline passes is settled exactly once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import Event, Silence
from app.db.session import Database
from app.domain.outline import parse_outline
from app.domain.roles import Role
from app.services import accounts, documents
from app.services.directory import load_reference_data
from tests.conftest import (
    ROOT,
    SMALL_RESOLUTION,
    drop_postgres_database,
    fresh_postgres_database,
    migrate,
)

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ROLLTEXT_DATABASE_URL": url,
        "ROLLTEXT_SECRET_KEY": "shared-secret-of-the-replicas",
        "ROLLTEXT_SETTLE_INTERVAL_SECONDS": "0.2",
        "ROLLTEXT_JSON_LOGS": "false",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_up(port: int) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"worker on port {port} did not start")


@pytest.fixture(scope="module")
def replicas() -> Iterator[tuple[Database, int, int, dict[str, int]]]:
    name = f"rolltext_workers_{os.getpid()}"
    url = fresh_postgres_database(name)
    migrate(url)
    database = Database(url)
    load_reference_data(database)
    secretariat = accounts.create_user(
        database,
        actor=None,
        username="sec",
        display_name="Sec",
        role=Role.SECRETARIAT,
        password=PASSWORD,
    )
    del secretariat
    for username, role, code in (("mx", Role.COFACILITATOR, "MEX"), ("usa", Role.DELEGATE, "USA")):
        accounts.create_user(
            database,
            actor=None,
            username=username,
            display_name=username,
            role=role,
            password=PASSWORD,
            delegation=code,
        )
    sec = accounts.actor_for_username(database, username="sec")
    negotiation = documents.create_negotiation(
        database, actor=sec, symbol="W/1", title="W", cofacilitators=["MEX"]
    )
    document = documents.import_outline(
        database,
        actor=sec,
        negotiation_id=negotiation.id,
        outline=parse_outline(SMALL_RESOLUTION),
        issued_on=datetime(2016, 11, 23).date(),
    )
    ids = {"document": document.id, "op1": document.provisions[2].id}
    port_a, port_b = _free_port(), _free_port()
    workers = [_serve(url, port_a), _serve(url, port_b)]
    try:
        _wait_up(port_a)
        _wait_up(port_b)
        yield database, port_a, port_b, ids
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=10)
        database.dispose()
        drop_postgres_database(name)


def _token(port: int, username: str) -> dict[str, str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        r = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        headers = {k: v for k, v in r.headers.items() if k.lower() == "x-csrf-token"}
        token = client.post("/api/v1/tokens", json={"name": "replica test"}, headers=headers)
        assert token.status_code == 201, token.text
        return {"Authorization": f"Bearer {token.json()['token']}"}


def test_a_change_through_one_worker_reaches_browsers_on_the_other(replicas) -> None:  # type: ignore[no-untyped-def]
    _database, port_a, port_b, ids = replicas
    usa = _token(port_a, "usa")
    heard: list[tuple[float, str]] = []
    connected = threading.Event()

    def listen() -> None:
        url = f"http://127.0.0.1:{port_b}/documents/{ids['document']}/live"
        with httpx.stream("GET", url, headers=usa, timeout=10) as stream:
            for line in stream.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                if line.startswith("event: "):
                    heard.append((time.perf_counter(), line.removeprefix("event: ")))
                    if line.endswith("document"):
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(5), "the live stream on worker B did not open"
    time.sleep(0.3)  # worker B's LISTEN connection is up once the stream is connected
    r = httpx.post(
        f"http://127.0.0.1:{port_a}/api/v1/amendments",
        headers=usa,
        json={"provision_id": ids["op1"], "kind": "delete"},
    )
    acknowledged = time.perf_counter()
    assert r.status_code == 201, r.text
    thread.join(timeout=5)
    names = [name for _, name in heard]
    assert f"provision-{ids['op1']}" in names and "document" in names
    latency = heard[0][0] - acknowledged
    assert latency < 1.0, f"the event took {latency:.3f} s to cross workers"


def test_a_silence_is_settled_once_by_two_workers(replicas) -> None:  # type: ignore[no-untyped-def]
    database, port_a, _port_b, ids = replicas
    mx = _token(port_a, "mx")
    deadline = (datetime.now(UTC) + timedelta(seconds=2)).astimezone(ZoneInfo("America/New_York"))
    r = httpx.post(
        f"http://127.0.0.1:{port_a}/api/v1/documents/{ids['document']}/silences",
        headers=mx,
        json={"revision": "0", "deadline": deadline.replace(tzinfo=None).isoformat()},
    )
    assert r.status_code == 201, r.text
    silence_id = r.json()["id"]
    for _ in range(100):
        with database.read() as db:
            silence = db.get(Silence, silence_id)
            assert silence is not None
            if silence.settled_at is not None:
                break
        time.sleep(0.1)
    time.sleep(1.0)  # let both loops run a few more rounds
    with database.read() as db:
        held = db.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.kind == "silence.held", Event.subject_id == silence_id)
        )
        silence = db.get(Silence, silence_id)
        assert silence is not None and silence.outcome == "held"
    assert held == 1
