"""Crash test: SIGKILL a real server in the middle of a burst of writes; nothing it acknowledged
may be lost, and nothing may be left half-applied.

A uvicorn subprocess serves a fresh database holding the demo (played once by `load_demo`, then
restored from its backup for each database, which is quicker). Delegates (one thread each)
propose and support, a co-facilitator decides; every 2xx answer is recorded with its id. The
server is killed mid-burst, restarted, and the database is checked: every acknowledged proposal,
support and decision is there with its state and its event, no decision is half applied, and the
event log agrees with the tables. `ROLLTEXT_CRASH_CYCLES` sets the number of kill/restart cycles
(3 in the suite); `python -m tests.e2e.test_crash --cycles 20` runs a longer campaign.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.db.models import (
    Amendment,
    AmendmentWording,
    Event,
    Position,
    Proponent,
    Provision,
    ProvisionVersion,
    User,
)
from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState
from app.services.archive import backup_database, restore_database
from app.services.demo import demo_data, load_demo
from tests.conftest import ROOT, drop_postgres_database, fresh_postgres_database, migrate

CYCLES = int(os.environ.get("ROLLTEXT_CRASH_CYCLES", "3"))
SECRET = "crash-test-secret-that-survives-restarts"
#: A request that takes longer than this is a hang, which is a failure in itself.
TIMEOUT = 20.0
#: A client that met a failure waits this long before its next request, as real ones do.
BACKOFF = 0.02
DELEGATES = ("eu.delegate", "usa.delegate", "russia.delegate", "holysee.delegate")
COFACILITATOR = "cofac.mexico"
PASSWORDS = {u["username"]: u["password"] for u in demo_data()["user"]}
FINAL = (AmendmentState.ACCEPTED, AmendmentState.BRACKETED, AmendmentState.REJECTED)


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`python -m uvicorn app.asgi:app` on one port, started, killed and restarted at will."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        python = ROOT / ".venv" / "bin" / "python"
        self.python = str(python) if python.exists() else sys.executable

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {
            **os.environ,
            "ROLLTEXT_DATABASE_URL": self.database_url,
            "ROLLTEXT_SECRET_KEY": SECRET,
            "ROLLTEXT_SETTLE_INTERVAL_SECONDS": "3600",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(self.python, "-m", "uvicorn", "app.asgi:app"),
                    *("--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited on start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not come up:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


@contextmanager
def signed_in(server: Server, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        answer = client.post(
            "/api/v1/session", json={"username": username, "password": PASSWORDS[username]}
        )
        answer.raise_for_status()
        client.headers["X-CSRF-Token"] = answer.headers["X-CSRF-Token"]  # cookie sessions send it
        yield client


# -- what the clients were told ---------------------------------------------------------------


@dataclass
class Ledger:
    """Every acknowledged (2xx) write, and how the others ended."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    proposals: dict[int, str] = field(default_factory=dict)  # amendment id -> username
    supports: set[tuple[int, str]] = field(default_factory=set)  # (amendment id, username)
    decisions: dict[int, str] = field(default_factory=dict)  # amendment id -> state
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Answers that are not a clean failure: a bare 5xx page, a 2xx that is not JSON…
    unclean: list[str] = field(default_factory=list)
    #: Exceptions that ended a client thread.
    crashed: list[str] = field(default_factory=list)
    slowest: float = 0.0

    @property
    def acknowledged(self) -> int:
        return len(self.proposals) + len(self.supports) + len(self.decisions)

    def pending_of_others(self, username: str) -> list[int]:
        with self.lock:
            return [
                a
                for a, who in self.proposals.items()
                if who != username
                and a not in self.decisions
                and (a, username) not in self.supports
            ]

    def undecided(self) -> list[int]:
        with self.lock:
            return [a for a in self.proposals if a not in self.decisions]


def send(ledger: Ledger, client: httpx.Client, path: str, body: dict[str, Any]) -> Any | None:
    """POST; the JSON of a 2xx answer, else None (a refusal, a 5xx or a dropped connection)."""
    started = time.monotonic()
    try:
        answer = client.post(path, json=body)
    except httpx.TimeoutException:
        with ledger.lock:
            ledger.outcomes["timeout"] += 1
        return None
    except httpx.TransportError:
        with ledger.lock:
            ledger.outcomes["connection error"] += 1
        time.sleep(BACKOFF)
        return None
    finally:
        with ledger.lock:
            ledger.slowest = max(ledger.slowest, time.monotonic() - started)
    with ledger.lock:
        ledger.outcomes[str(answer.status_code)] += 1
    clean = answer.headers.get("content-type", "").startswith("application/json")
    if clean and not answer.is_success:
        # A clean failure says what went wrong, as JSON: {"error": …, "message": …}.
        clean = bool(answer.json().get("message"))
    if not clean:
        with ledger.lock:
            ledger.unclean.append(f"{path}: {answer.status_code} {answer.text[:200]}")
        return None
    if answer.status_code >= 500:
        time.sleep(BACKOFF)
    return answer.json() if answer.is_success else None


def client_thread(ledger: Ledger, target: Any, *args: Any) -> threading.Thread:
    """A client; an exception that ends it is recorded, not lost in the thread."""

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:
            with ledger.lock:
                ledger.crashed.append(f"{target.__name__}{args[1:2]}: {exc!r}")
            for arg in args:  # do not leave the others waiting for this one
                if isinstance(arg, threading.Barrier):
                    arg.abort()

    return threading.Thread(target=run)


def delegate(
    server: Server,
    username: str,
    provisions: list[tuple[int, str]],
    ledger: Ledger,
    stop: threading.Event,
    ready: threading.Barrier,
) -> None:
    """Proposes (unique wordings, so never a co-proponent join) and supports others."""
    rng = random.Random(f"{username}{time.monotonic()}")
    with signed_in(server, username) as client:
        ready.wait()
        n = 0
        while not stop.is_set():
            n += 1
            others = ledger.pending_of_others(username)
            if others and rng.random() < 0.4:
                amendment_id = rng.choice(others)
                done = send(
                    ledger,
                    client,
                    f"/api/v1/amendments/{amendment_id}/position",
                    {"stance": "support"},
                )
                if done is not None:
                    with ledger.lock:
                        ledger.supports.add((amendment_id, username))
                continue
            provision_id, text = rng.choice(provisions)
            done = send(
                ledger,
                client,
                "/api/v1/amendments",
                {
                    "provision_id": provision_id,
                    "kind": "wording",
                    "text": f"{text} (variant {username} {time.time_ns()} {n})",
                },
            )
            if done is not None:
                assert not done["joined"], done
                with ledger.lock:
                    ledger.proposals[done["id"]] = username


def cofacilitator(
    server: Server, ledger: Ledger, stop: threading.Event, ready: threading.Barrier
) -> None:
    """Decides the delegates' proposals as they come: accept, bracket or reject."""
    rng = random.Random(time.monotonic())
    with signed_in(server, COFACILITATOR) as client:
        ready.wait()
        while not stop.is_set():
            undecided = ledger.undecided()
            if not undecided:
                time.sleep(0.01)
                continue
            amendment_id = rng.choice(undecided)
            decision = rng.choice(["accept", "bracket", "reject"])
            done = send(
                ledger,
                client,
                f"/api/v1/amendments/{amendment_id}/decision",
                {"decision": decision, "reason": "Crash test."},
            )
            if done is not None:
                with ledger.lock:
                    ledger.decisions[amendment_id] = done["state"]


def open_provisions(server: Server) -> list[tuple[int, str]]:
    with signed_in(server, COFACILITATOR) as client:
        [negotiation] = client.get("/api/v1/negotiations").json()
        document = client.get(f"/api/v1/documents/{negotiation['documents'][0]['id']}").json()
    return [
        (p["id"], p["text"])
        for p in document["provisions"]
        if p["kind"] != "heading"
        and not p["deleted"]
        and p["status"] in ("not_discussed", "open")
        and "[" not in p["text"]
    ]


def burst(server: Server, ledger: Ledger, *, kill_after: float) -> None:
    """All clients at once; SIGKILL the server after `kill_after` seconds, while they write."""
    provisions = open_provisions(server)
    stop = threading.Event()
    ready = threading.Barrier(len(DELEGATES) + 2, timeout=TIMEOUT)
    threads = [
        client_thread(ledger, delegate, server, u, provisions, ledger, stop, ready)
        for u in DELEGATES
    ]
    threads.append(client_thread(ledger, cofacilitator, server, ledger, stop, ready))
    for thread in threads:
        thread.start()
    try:
        ready.wait()  # everyone signed in: the burst starts now
    except threading.BrokenBarrierError:
        stop.set()
        raise AssertionError(f"a client failed to start: {ledger.crashed}") from None
    time.sleep(kill_after)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 10)
        assert not thread.is_alive(), "a client hung"


# -- what the database must show --------------------------------------------------------------


def lost_writes(database: Database, ledger: Ledger) -> list[str]:
    """Every acknowledged write that is missing, in the wrong state, or without its event."""
    lost = []
    with database.read() as db:
        users = dict(db.execute(select(User.username, User.id)).all())
        delegation_of = dict(db.execute(select(User.username, User.delegation_id)).all())
        amendments = {a.id: a for a in db.scalars(select(Amendment))}
        events: Counter[tuple[str, int | None, int | None]] = Counter(
            (e.kind, e.subject_id, e.actor_id) for e in db.scalars(select(Event))
        )
        positions = {
            (p.amendment_id, p.delegation_id): p.stance for p in db.scalars(select(Position))
        }
        db.expunge_all()  # keep the loaded rows readable after the read transaction ends
    for amendment_id, username in ledger.proposals.items():
        row = amendments.get(amendment_id)
        if row is None or row.author_id != users[username]:
            lost.append(f"proposal A-{amendment_id} by {username} is missing")
        elif events[("amendment.proposed", amendment_id, users[username])] != 1:
            lost.append(f"proposal A-{amendment_id} has no 'amendment.proposed' event")
    for amendment_id, username in ledger.supports:
        if positions.get((amendment_id, delegation_of[username])) != "support":
            lost.append(f"the support of {username} for A-{amendment_id} is missing")
        elif not events[("amendment.support", amendment_id, users[username])]:
            lost.append(f"the support of {username} for A-{amendment_id} has no event")
    cofac = users[COFACILITATOR]
    for amendment_id, state in ledger.decisions.items():
        row = amendments.get(amendment_id)
        if row is None or row.state.value != state:
            lost.append(f"the decision on A-{amendment_id} ({state}) is missing")
        elif events[(f"amendment.{state}", amendment_id, cofac)] != 1:
            lost.append(f"the decision on A-{amendment_id} ({state}) has no event")
    return lost


def integrity_problems(database: Database) -> list[str]:
    """No half-applied decision, no amendment between states, an event log that adds up."""
    problems = []
    with database.read() as db:
        amendments = list(db.scalars(select(Amendment)))
        versions = {v.id: v for v in db.scalars(select(ProvisionVersion))}
        wordings = {w.id: w for w in db.scalars(select(AmendmentWording))}
        provisions = list(db.scalars(select(Provision)))
        proponents = Counter(db.scalars(select(Proponent.amendment_id)))
        kinds = Counter(db.scalars(select(Event.kind)))
        proposed = Counter(
            db.scalars(select(Event.subject_id).where(Event.kind == "amendment.proposed"))
        )
        position_events = {
            (e.subject_id, e.actor_id)
            for e in db.scalars(
                select(Event).where(Event.kind.in_(["amendment.support", "amendment.oppose"]))
            )
        }
        positions = [(p.amendment_id, p.user_id) for p in db.scalars(select(Position))]
        decided_events = {
            (e.kind, e.subject_id)
            for e in db.scalars(select(Event).where(Event.kind.like("amendment.%")))
        }
        highest = dict(
            db.execute(
                select(ProvisionVersion.provision_id, func.max(ProvisionVersion.number)).group_by(
                    ProvisionVersion.provision_id
                )
            ).all()
        )
        db.expunge_all()  # keep the loaded rows readable after the read transaction ends
    by_amendment = {a.id: a for a in amendments}
    for a in amendments:
        name = f"A-{a.id} ({a.state.value})"
        wording = wordings.get(a.current_wording_id or 0)
        if wording is None or wording.amendment_id != a.id:
            problems.append(f"{name} has no current wording of its own")
        if not proponents[a.id]:
            problems.append(f"{name} has no proponent")
        if proposed[a.id] != 1:
            problems.append(f"{name} has {proposed[a.id]} 'amendment.proposed' events")
        if a.state is AmendmentState.PENDING:
            if a.decided_at is not None or a.result_version_id is not None:
                problems.append(f"{name} is pending but carries a decision")
            continue
        if a.decided_at is None:
            problems.append(f"{name} is decided but has no decision time")
        if a.state in FINAL and (f"amendment.{a.state.value}", a.id) not in decided_events:
            problems.append(f"{name} has no event for its decision")
        produces = a.state in (AmendmentState.ACCEPTED, AmendmentState.BRACKETED) and (
            a.kind in (AmendmentKind.WORDING, AmendmentKind.INSERT_AFTER)
        )
        if produces:
            result = versions.get(a.result_version_id or 0)
            if result is None or result.amendment_id != a.id:
                problems.append(f"{name} has no result version of its own")
            elif a.kind is AmendmentKind.WORDING and result.provision_id != a.provision_id:
                problems.append(f"{name}'s result version belongs to another provision")
    for v in versions.values():
        if v.amendment_id is not None and v.cause in ("accepted", "bracketed"):
            source = by_amendment.get(v.amendment_id)
            if source is None or source.state.value != v.cause:
                problems.append(f"version {v.id} was {v.cause} from A-{v.amendment_id}, not so")
    for p in provisions:
        current = versions.get(p.current_version_id or 0)
        if current is None or current.provision_id != p.id:
            problems.append(f"provision {p.id} has no current version of its own")
        elif current.number != highest.get(p.id):
            problems.append(
                f"provision {p.id} shows version {current.number}, not its latest "
                f"({highest.get(p.id)})"
            )
    for amendment_id, user_id in positions:
        if (amendment_id, user_id) not in position_events:
            problems.append(f"the position of user {user_id} on A-{amendment_id} has no event")
    for state in FINAL:
        count = sum(1 for a in amendments if a.state is state)
        if kinds[f"amendment.{state.value}"] != count:
            problems.append(
                f"{count} amendments are {state.value} but the log has "
                f"{kinds[f'amendment.{state.value}']} such events"
            )
    orphans = sorted(set(proposed) - set(by_amendment), key=lambda i: i or 0)
    if orphans:
        problems.append(f"'amendment.proposed' events without their amendment: {orphans[:10]}")
    if kinds["amendment.proposed"] != len(amendments):
        problems.append(
            f"{len(amendments)} amendments but {kinds['amendment.proposed']} proposals logged"
        )
    return problems


# -- the test -----------------------------------------------------------------------------------


@dataclass
class Figures:
    database: str
    cycles: int = 0
    ledger: Ledger = field(default_factory=Ledger)
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        ledger = self.ledger
        return (
            f"crash test on {self.database}: {self.cycles} SIGKILL cycles, "
            f"{ledger.acknowledged} acknowledged writes ({len(ledger.proposals)} proposals, "
            f"{len(ledger.supports)} supports, {len(ledger.decisions)} decisions), "
            f"{len(self.lost)} lost, {len(self.problems)} integrity problems; answers "
            f"{dict(sorted(ledger.outcomes.items()))}; slowest request {ledger.slowest:.2f}s"
        )


def campaign(url: str, log: Path, cycles: int, *, seed: int = 0) -> Figures:
    """Start, burst, SIGKILL, restart and check, `cycles` times, on the database at `url`."""
    rng = random.Random(seed)
    figures = Figures(database=make_url(url).get_backend_name())
    ledger = figures.ledger
    server = Server(url, log)
    database = Database(url)
    try:
        server.start()
        for cycle in range(1, cycles + 1):
            before = ledger.acknowledged
            burst(server, ledger, kill_after=rng.uniform(0.5, 1.2))
            assert ledger.acknowledged > before, f"cycle {cycle}: no write was acknowledged"
            server.start()
            figures.cycles = cycle
            figures.lost += [f"cycle {cycle}: {x}" for x in lost_writes(database, ledger)]
            figures.problems += [f"cycle {cycle}: {x}" for x in integrity_problems(database)]
            # The restarted server shows what it acknowledged before the crash.
            with signed_in(server, COFACILITATOR) as client:
                for amendment_id, state in list(ledger.decisions.items())[-5:]:
                    shown = client.get(f"/api/v1/amendments/{amendment_id}").json()
                    if shown["state"] != state:
                        figures.lost.append(
                            f"cycle {cycle}: the API shows A-{amendment_id} "
                            f"{shown['state']}, acknowledged {state}"
                        )
    finally:
        server.stop()
        database.dispose()
    return figures


_KEEP: list[tempfile.TemporaryDirectory[str]] = []


@cache
def demo_backup() -> Path:
    """The demo, played once per run (3 s) and kept as a backup that restores in 0.2 s."""
    where = tempfile.TemporaryDirectory(prefix="rolltext-e2e-")
    _KEEP.append(where)
    url = f"sqlite:///{Path(where.name) / 'demo.db'}"
    migrate(url)
    database = Database(url)
    load_demo(database)
    file = backup_database(database, Path(where.name) / "demo.jsonl").path
    database.dispose()
    return file


def demo_database(kind: str, where: Path, name: str = "crash") -> str:
    """A fresh migrated database of that kind holding the demo (restored from its backup)."""
    if kind == "sqlite":
        url = f"sqlite:///{where / f'{name}.db'}"
    else:
        url = fresh_postgres_database(f"rolltext_{name}_{os.getpid()}")
    migrate(url)
    database = Database(url)
    restore_database(database, demo_backup())
    database.dispose()
    return url


@pytest.fixture(params=["postgresql", "sqlite"])
def demo_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = demo_database(request.param, tmp_path)
    yield url
    if request.param == "postgresql":
        drop_postgres_database(make_url(url).database or "")


def test_no_acknowledged_write_is_lost_when_the_server_is_killed(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = campaign(demo_url, tmp_path / "server.log", CYCLES)
    with capsys.disabled():
        print(f"\n{figures.line()}")
    assert figures.cycles == CYCLES
    assert not figures.lost, figures.lost[:20]
    assert not figures.problems, figures.problems[:20]
    assert not figures.ledger.outcomes["timeout"], "a request hung"
    assert not figures.ledger.unclean, figures.ledger.unclean[:10]
    assert not figures.ledger.crashed, figures.ledger.crashed[:10]


def main() -> None:
    """A longer campaign than the suite's: `python -m tests.e2e.test_crash --cycles 20`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as where:
        url = demo_database(options.database, Path(where))
        try:
            figures = campaign(url, Path(where) / "server.log", options.cycles, seed=options.seed)
        finally:
            if options.database == "postgresql":
                drop_postgres_database(make_url(url).database or "")
    print(figures.line())
    for line in (figures.lost + figures.problems)[:50]:
        print("  " + line)
    sys.exit(1 if figures.lost or figures.problems else 0)


if __name__ == "__main__":
    main()
