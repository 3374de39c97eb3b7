"""PostgreSQL restarted under a serving app: every request fails cleanly or succeeds for real,
the app reconnects by itself, and nothing it acknowledged is lost.

A real server subprocess serves a PostgreSQL database with the demo; delegates keep proposing
and a reader keeps reading while `pg_ctlcluster … restart` (fast shutdown: every connection is
cut) runs underneath. PostgreSQL is started again at the end whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.db.session import Database
from tests.conftest import drop_postgres_database
from tests.e2e.test_crash import (
    BACKOFF,
    DELEGATES,
    TIMEOUT,
    Ledger,
    Server,
    client_thread,
    delegate,
    demo_database,
    integrity_problems,
    lost_writes,
    open_provisions,
    signed_in,
)

#: After PostgreSQL is back, the app must serve again within this many seconds.
RECOVERY = 15.0
READER = "elsalvador.delegate"


def _cluster() -> list[str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def postgres_ready() -> bool:
    done = subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False, timeout=30
    )
    return done.returncode == 0


def ensure_postgres_running() -> None:
    """Whatever happened, leave PostgreSQL up for the rest of the suite."""
    if not postgres_ready():
        subprocess.run([*_cluster(), "start"], check=False, timeout=120, capture_output=True)
    deadline = time.monotonic() + 60
    while not postgres_ready():
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back after the restart test")
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Database]]:
    url = demo_database("postgresql", tmp_path, name="pg_restart")
    server = Server(url, tmp_path / "server.log")
    database = Database(url)
    try:
        server.start()
        yield server, database
    finally:
        server.stop()
        database.dispose()
        ensure_postgres_running()
        drop_postgres_database(make_url(url).database or "")


def reader(server: Server, ledger: Ledger, stop: threading.Event, ready: threading.Barrier) -> None:
    """Reads the whole text again and again: reads must fail as cleanly as writes."""
    with signed_in(server, READER) as client:
        document_id = client.get("/api/v1/negotiations").json()[0]["documents"][0]["id"]
        ready.wait()
        while not stop.is_set():
            started = time.monotonic()
            try:
                answer = client.get(f"/api/v1/documents/{document_id}")
            except httpx.TimeoutException:
                with ledger.lock:
                    ledger.outcomes["timeout"] += 1
                continue
            except httpx.TransportError:
                with ledger.lock:
                    ledger.outcomes["connection error"] += 1
                time.sleep(BACKOFF)
                continue
            with ledger.lock:
                ledger.slowest = max(ledger.slowest, time.monotonic() - started)
                ledger.outcomes[f"GET {answer.status_code}"] += 1
                json_answer = answer.headers.get("content-type", "").startswith("application/json")
                if not json_answer or (not answer.is_success and not answer.json().get("message")):
                    ledger.unclean.append(f"GET: {answer.status_code} {answer.text[:200]}")
            if not answer.is_success:
                time.sleep(BACKOFF)


def test_the_app_rides_out_a_postgresql_restart(
    served: tuple[Server, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    # How the pool treats a connection the server dropped, idle or in constant use:
    # tests/integration/test_connections.py.
    server, database = served
    pid = server.process.pid if server.process else None

    ledger = Ledger()
    provisions = open_provisions(server)
    stop = threading.Event()
    ready = threading.Barrier(len(DELEGATES) + 2, timeout=TIMEOUT)
    threads = [
        client_thread(ledger, delegate, server, u, provisions, ledger, stop, ready)
        for u in DELEGATES
    ]
    threads.append(client_thread(ledger, reader, server, ledger, stop, ready))
    for thread in threads:
        thread.start()
    try:
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            raise AssertionError(f"a client failed to start: {ledger.crashed}") from None
        time.sleep(0.7)
        restarted = subprocess.run(
            [*_cluster(), "restart"], check=False, timeout=120, capture_output=True, text=True
        )
        assert restarted.returncode == 0, restarted.stderr
        back, acknowledged = time.monotonic(), ledger.acknowledged
        # The app reconnects by itself: writes are acknowledged again, soon.
        while ledger.acknowledged <= acknowledged + len(DELEGATES):
            assert time.monotonic() - back < RECOVERY, f"no recovery: {ledger.outcomes}"
            time.sleep(0.02)
        recovered = time.monotonic() - back
        with ledger.lock:
            during = Counter(ledger.outcomes)
        time.sleep(0.7)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 10)
    assert not any(t.is_alive() for t in threads), "a client hung"

    failures = {k: v for k, v in during.items() if k[-3:].startswith("5")}
    after = ledger.outcomes - during
    with capsys.disabled():
        print(
            f"\nPostgreSQL restart: {ledger.acknowledged} acknowledged writes, answers until "
            f"recovered {dict(sorted(during.items()))}, then {dict(sorted(after.items()))}; "
            f"writes acknowledged again {recovered:.2f}s after PostgreSQL was back; slowest "
            f"request {ledger.slowest:.2f}s"
        )
    assert not ledger.crashed, ledger.crashed
    assert not ledger.unclean, ledger.unclean[:10]
    assert not ledger.outcomes["timeout"], "a request hung"
    assert set(failures) <= {"503", "GET 503"}, failures
    assert failures, f"no request met the restart, so nothing was tested: {ledger.outcomes}"
    assert set(after) <= {"200", "201", "GET 200"}, f"still failing once recovered: {after}"
    assert server.process is not None and server.process.pid == pid
    assert server.process.poll() is None, "the server died with the database"
    assert not lost_writes(database, ledger)
    assert not integrity_problems(database)
