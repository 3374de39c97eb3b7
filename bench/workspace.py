"""The browser workspace on the large negotiation: page server times and live fan-out.

`python -m bench --only workspace` (or `python -m bench.workspace`) measures, on each database:

1. **Pages, in process** — the real application (`app.main.create_app`) on a throwaway copy of
   the generated negotiation, driven by Starlette's TestClient, signed in (session cookie, CSRF
   token) as a delegate and as a co-facilitator. *Server time* is taken inside the ASGI call
   (`ServerTimer`: from the call to the last body message), so the test client's own work is
   left out. Each figure: warm-up, then `--repeat` requests.

   * the text page, `GET /documents/{id}`: the 300 provisions with badges and pending counts;
   * a provision's panel, `GET /provisions/{id}/panel` (what a click on a provision loads), on a
     provision with exactly 100 pending proposals (prepared below); the same provision's
     live state, `GET /provisions/{id}/state` (what the live stream makes every open panel
     re-fetch) and the co-facilitator's review-queue item (`…/state?view=queue`);
   * the live-diff preview, `POST /provisions/{id}/preview`: what each pause in a delegate's
     typing sends (htmx, `input changed delay:300ms`), the whole form as htmx includes it;
   * for information: a provision line (`GET /documents/{id}/lines/{pid}`, re-fetched by every
     open text page when that provision changes), the busiest provision's panel and the whole
     review queue (`GET /documents/{id}/consolidate`).

2. **Live fan-out, real server** — `python -m app serve` (uvicorn serving `app.asgi:app`) on a
   free port of 127.0.0.1, on the copy (one worker on SQLite: in-process broadcaster; two
   workers on PostgreSQL: LISTEN/NOTIFY across workers). 100 delegates sign in and open the
   document's live stream (`GET /documents/{id}/live`, Server-Sent Events), then another
   delegate makes changes through the JSON API, one at a time, alternating a support of a
   pending proposal on the prepared provision and a new wording proposal on another provision.
   For each change and each stream: the time from the start of the write request, and from its
   acknowledgement (the 201/200 response read by the writer), to the arrival of the change's
   first event (`provision-N`) on that stream. Phase *refresh* then does what the browsers
   do with the event: each of the 100 re-fetches the provision's line and the header counters
   (`sse:provision-N`, `sse:document`), and 10 of them, who have the prepared provision's panel
   open, its live state; measured until each browser has all its answers.

The copy is dropped at the end. The prepared provision is the one with the fewest pending
proposals among those with at least 100, trimmed to exactly 100 by rejecting its newest
pending proposals through `decisions.decide` (on the copy only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

OUT = Path(__file__).resolve().parent / "out"
ROOT = OUT.parents[1]
PASSWORD = "bench-password-1"

TARGETS_MS = {
    "text page": 150.0,
    "panel, 100 pending": 50.0,
    "live-diff preview": 20.0,
    "SSE": 1000.0,
}
PANEL_PENDING = 100
STREAMS = 100
PANEL_OPEN = 10  # browsers of the refresh phase that have the prepared provision's panel open
WORKERS = {"sqlite": 1, "postgresql": 2}


# ---------------------------------------------------------------------------------------------
# A throwaway copy of the generated negotiation
# ---------------------------------------------------------------------------------------------


class WorkCopy:
    """The workspace bench writes (a trimmed provision, supports, proposals): on a copy."""

    def __init__(self, url: str, label: str) -> None:
        self.source = url
        self.label = label
        if label == "sqlite":
            self.path = OUT / "workspace-sqlite.db"
            self.url = f"sqlite:///{self.path}"
        else:
            source = make_url(url)
            self.name = f"{source.database}_workspace"
            self.url = source.set(database=self.name).render_as_string(hide_password=False)
            self.admin = source.set(database="postgres").render_as_string(hide_password=False)

    def __enter__(self) -> WorkCopy:
        self._copy()
        # a database generated before a new migration: bring the copy to the current schema
        from bench.generate import migrate

        migrate(self.url)
        return self

    def _copy(self) -> None:
        if self.label == "sqlite":
            self._drop_sqlite()
            source_path = make_url(self.source).database
            assert source_path
            with sqlite3.connect(source_path) as src, sqlite3.connect(self.path) as dst:
                src.backup(dst)
            with sqlite3.connect(self.path) as dst:
                dst.execute("PRAGMA journal_mode=WAL")
            return
        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        source_name = make_url(self.source).database
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                for attempt in range(40):  # the template must have no other session
                    try:
                        conn.execute(
                            text(f'CREATE DATABASE "{self.name}" TEMPLATE "{source_name}"')
                        )
                        break
                    except Exception:
                        if attempt == 39:
                            raise
                        time.sleep(0.5)
        finally:
            engine.dispose()  # (the copy keeps the source's planner statistics)

    def _drop_sqlite(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def __exit__(self, *exc: object) -> None:
        if self.label == "sqlite":
            self._drop_sqlite()
            return
        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            engine.dispose()


@dataclass
class Prepared:
    """The provision the panel figures are measured on, and what the fan-out writes to."""

    document_id: int
    provision_id: int
    label: str
    pending: int
    trimmed: int  # pending proposals rejected to get down to PANEL_PENDING
    version: int
    text: str
    busiest_id: int
    busiest_pending: int
    cofacilitator: str
    delegate: str  # the signed-in delegate of the page figures


def prepare_provision(url: str, meta: dict[str, Any], log: Callable[[str], None]) -> Prepared:
    """Pick the provision with the fewest pending proposals among those with at least 100,
    and reject its newest pending ones (through the use case) until exactly 100 remain."""
    from sqlalchemy import func, select

    from app.db.models import Amendment, Provision
    from app.db.session import Database
    from app.domain.amendments import AmendmentState, Decision
    from app.services import accounts, decisions, documents

    database = Database(url)
    try:
        document_id = meta["document_id"]
        with database.read() as db:
            counts = dict(
                db.execute(
                    select(Amendment.provision_id, func.count())
                    .join(Provision, Provision.id == Amendment.provision_id)
                    .where(
                        Amendment.document_id == document_id,
                        Amendment.state == AmendmentState.PENDING,
                        Provision.removed_in_revision_id.is_(None),
                        Provision.deleted.is_(False),
                    )
                    .group_by(Amendment.provision_id)
                ).all()
            )
        enough = sorted((n, pid) for pid, n in counts.items() if n >= PANEL_PENDING)
        pending, provision_id = enough[0] if enough else max((n, pid) for pid, n in counts.items())
        busiest_pending, busiest_id = max((n, pid) for pid, n in counts.items())
        cofac = accounts.actor_for_username(database, username=meta["cofacilitator"])
        trimmed = 0
        if pending > PANEL_PENDING:
            with database.read() as db:
                surplus = db.scalars(
                    select(Amendment.id)
                    .where(
                        Amendment.provision_id == provision_id,
                        Amendment.state == AmendmentState.PENDING,
                    )
                    .order_by(Amendment.id.desc())
                    .limit(pending - PANEL_PENDING)
                ).all()
            for amendment_id in surplus:
                decisions.decide(
                    database,
                    actor=cofac,
                    amendment_id=amendment_id,
                    decision=Decision.REJECT,
                    reason="Benchmark: the provision is trimmed to 100 pending proposals.",
                )
                trimmed += 1
        detail = documents.get_provision(database, provision_id=provision_id, viewer=cofac)
        pending_now = sum(1 for a in detail.amendments if a.state is AmendmentState.PENDING)
        log(
            f"  prepared {detail.provision.label} (provision {provision_id}): {pending_now} "
            f"pending of {len(detail.amendments)} proposals ({trimmed} rejected to get there), "
            f"{len(detail.collisions)} colliding pairs, {len(detail.versions)} versions"
        )
        return Prepared(
            document_id=document_id,
            provision_id=provision_id,
            label=detail.provision.label,
            pending=pending_now,
            trimmed=trimmed,
            version=detail.provision.version,
            text=detail.provision.text,
            busiest_id=busiest_id,
            busiest_pending=busiest_pending,
            cofacilitator=meta["cofacilitator"],
            delegate="delegate.eu",
        )
    finally:
        database.dispose()


def edited(text_: str, n: int = 0) -> str:
    """What a delegate types: the provision's words with a few of them changed."""
    words = text_.split()
    inserts = ["as appropriate", "in accordance with national legislation", "voluntary"]
    at = [len(words) // 3, len(words) // 2, 2 * len(words) // 3]
    for k, pos in enumerate(sorted(at, reverse=True)):
        words[pos:pos] = inserts[(k + n) % len(inserts)].split()
    if len(words) > 12:
        del words[8]  # and one deletion
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# 1. Pages, in process
# ---------------------------------------------------------------------------------------------


class ServerTimer:
    """ASGI wrapper: the server time of each request, from the call to its last body message.

    With `profiler` set, the request is profiled on the event loop's thread; `inline_threadpool`
    makes FastAPI run sync endpoints and dependencies there too, so the profile sees them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = 0.0
        self.profiler: cProfile.Profile | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        profiler = self.profiler
        if profiler:
            profiler.enable()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - start) * 1000
                if profiler:
                    profiler.disable()
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            if profiler:
                profiler.disable()


@contextlib.contextmanager
def inline_threadpool() -> Iterator[None]:
    """Run FastAPI's sync endpoints/dependencies on the loop thread (for cProfile only)."""
    import fastapi.dependencies.utils as deps
    import fastapi.routing as routing

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    saved = routing.run_in_threadpool, deps.run_in_threadpool
    routing.run_in_threadpool = deps.run_in_threadpool = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        routing.run_in_threadpool, deps.run_in_threadpool = saved  # type: ignore[assignment]


class Browser:
    """A signed-in TestClient: session cookie, CSRF token, htmx headers."""

    def __init__(self, app: Any, username: str) -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(app, base_url="http://testserver")
        response = self.client.post(
            "/api/v1/session", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, (username, response.status_code, response.text)
        self.csrf = response.headers["x-csrf-token"]
        self.username = username

    def request(self, method: str, path: str, *, htmx: bool, data: Any = None) -> httpx.Response:
        headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"} if htmx else {}
        if method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        response = self.client.request(method, path, headers=headers, data=data)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response


def preview_form(prepared: Prepared, page_html: str, typed: str) -> dict[str, str]:
    """The wording form of the panel as htmx posts it (`hx-include="closest form"`)."""
    pid = prepared.provision_id
    match = re.search(rf'<form id="propose-wording-{pid}".*?</form>', page_html, flags=re.DOTALL)
    assert match, "no wording form in the panel"
    form: dict[str, str] = {}
    for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(0)
    ):
        form[name] = (
            value.replace("&#34;", '"').replace("&#39;", "'").replace("&quot;", '"')
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        )  # fmt: skip
    form.update(text=typed, justification="", on_behalf_of="")
    return form


def measure_pages(bench: Any, label: str, url: str, prepared: Prepared) -> dict[str, Any]:
    from app.config import Settings
    from app.db.session import Database
    from app.main import create_app
    from bench.__main__ import Result

    repeat = bench.args.repeat
    database = Database(url)
    settings = Settings(
        database_url=url,
        secret_key=secrets.token_urlsafe(32),
        environment="development",
        log_level="WARNING",
        json_logs=False,
    )
    app = create_app(settings, database=database)
    try:
        from app.main import tune_garbage_collector  # as app/asgi.py does for the server
    except ImportError:
        pass
    else:
        tune_garbage_collector()
    timer = ServerTimer(app)
    info: dict[str, Any] = {}
    try:
        from app.web.kept import views_of  # kept answers (app/web/kept.py ViewCache)
    except ImportError:
        try:  # where they were before
            from app.web.live import views_of  # type: ignore[attr-defined,no-redef]
        except ImportError:  # before they existed: every request computes everything
            views_of = None
    cache = views_of(database) if views_of else None
    try:
        from app.services.text import forget_kept_trees  # kept outlines (app/services/text.py)
    except ImportError:
        forget_kept_trees = None

    def drop_kept() -> None:
        assert cache is not None
        cache.clear()
        if forget_kept_trees:
            forget_kept_trees()

    try:
        delegate = Browser(timer, prepared.delegate)
        cofac = Browser(timer, prepared.cofacilitator)
        doc, pid = prepared.document_id, prepared.provision_id

        def run(
            name: str,
            who: Browser,
            method: str,
            path: str,
            *,
            cold: bool = True,
            target: float | None = None,
            htmx: bool = True,
            data: Any = None,
            times: int = repeat,
            warmup: int = 3,
        ) -> Result:
            """`cold`: every kept answer dropped before each request, as after any change."""
            response = None
            for _ in range(warmup):
                if cold and cache:
                    drop_kept()
                response = who.request(method, path, htmx=htmx, data=data)
            samples = []
            profiler = cProfile.Profile() if bench.args.profile else None
            context = inline_threadpool() if profiler else contextlib.nullcontext()
            with context:
                for _ in range(times):
                    if cold and cache:
                        drop_kept()
                    timer.profiler = profiler
                    response = who.request(method, path, htmx=htmx, data=data)
                    timer.profiler = None
                    samples.append(timer.last_ms)
            if profiler:
                bench.save_profile(profiler, f"workspace {name}", label)
            assert response is not None
            note = (
                f"{method} {path}{' (HX-Request)' if htmx else ''}, {len(response.content):,} "
                f"bytes; {'cold: kept answers dropped before each' if cold else 'warm'}"
            )
            result = Result(name, label, samples, target, note)
            result.extra["bytes"] = len(response.content)
            result.extra["cold"] = cold
            return bench.add(result)

        n = prepared.pending
        bench.log(f"Workspace pages, in process ({label}; cold = after a change, warm = not)")
        page = f"/documents/{doc}"
        target = TARGETS_MS["text page"]
        run("text page (delegate)", delegate, "GET", page, htmx=False, target=target)
        run("text page (co-facilitator)", cofac, "GET", page, htmx=False, target=target)
        run("  text page (delegate), warm", delegate, "GET", page, htmx=False, cold=False)
        panel = f"/provisions/{pid}/panel"
        target = TARGETS_MS["panel, 100 pending"]
        run(f"panel, {n} pending (delegate)", delegate, "GET", panel, target=target)
        run(f"panel, {n} pending (co-facilitator)", cofac, "GET", panel, target=target)
        run(f"  panel, {n} pending (delegate), warm", delegate, "GET", panel, cold=False)
        run(f"  panel, {n} pending (co-facilitator), warm", cofac, "GET", panel, cold=False)
        state = f"/provisions/{pid}/state"
        run(f"  live state, {n} pending (delegate)", delegate, "GET", state)
        run(f"  queue item, {n} pending (co-facilitator)", cofac, "GET", state + "?view=queue")
        html = delegate.request("GET", panel, htmx=True).text
        form = preview_form(prepared, html, edited(prepared.text))
        info["preview_fields"] = sorted(form)
        target = TARGETS_MS["live-diff preview"]
        preview = f"/provisions/{pid}/preview"
        run("live-diff preview (delegate)", delegate, "POST", preview, data=form, target=target)
        if "base" in form:  # a form that does not carry the words: they are looked up
            bare = {k: v for k, v in form.items() if k != "base"}
            run("  live-diff preview, no base in the form", delegate, "POST", preview, data=bare)
        line = f"/documents/{doc}/lines/{pid}"
        run("  provision line", delegate, "GET", line)
        run("  provision line, warm", delegate, "GET", line, cold=False)
        busiest = f"/provisions/{prepared.busiest_id}/panel"
        run(f"  panel, busiest ({prepared.busiest_pending} pending, co-facilitator)", cofac,
            "GET", busiest, times=max(3, repeat // 3), warmup=1)  # fmt: skip
        run("  review queue, whole (co-facilitator)", cofac, "GET",
            f"/documents/{doc}/consolidate", htmx=False, times=3, warmup=1)  # fmt: skip
    finally:
        database.dispose()
    return info


# ---------------------------------------------------------------------------------------------
# 2. Live fan-out through the real server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`python -m app serve` in a process group of its own; stopped by its own id."""

    def __init__(self, url: str, workers: int, log_path: Path) -> None:
        self.url = url
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        env = {
            **os.environ,
            "ROLLTEXT_DATABASE_URL": self.url,
            "ROLLTEXT_ENVIRONMENT": "development",  # plain http: no Secure cookie
            "ROLLTEXT_SECRET_KEY": secrets.token_urlsafe(32),
            "ROLLTEXT_LOG_LEVEL": "WARNING",
            "ROLLTEXT_JSON_LOGS": "true",
        }
        command = [
            sys.executable, "-m", "app", "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(self.workers),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base, timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/health").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")
                time.sleep(0.2)
            for _ in range(20 * self.workers):  # every worker up (the kernel spreads them)
                client.get("/health")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group, by its id
            self.proc.wait(timeout=10)


@dataclass
class Session:
    username: str
    cookie: str
    csrf: str
    delegation: str

    def headers(self, *, htmx: bool = False, write: bool = False) -> dict[str, str]:
        headers = {"Cookie": f"rolltext_session={self.cookie}"}
        if htmx:
            headers["HX-Request"] = "true"
        if write:
            headers["X-CSRF-Token"] = self.csrf
        return headers


def sign_in(client: httpx.Client, username: str) -> Session:
    client.cookies.clear()  # each browser its own session (and no CSRF check on sign-in)
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    if response.status_code != 200:
        raise RuntimeError(f"sign-in of {username}: {response.status_code} {response.text}")
    cookie = ""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "rolltext_session":
            cookie = rest.split(";", 1)[0]
    assert cookie, response.headers
    return Session(
        username, cookie, response.headers["x-csrf-token"], response.json()["delegation_code"]
    )


@dataclass
class Stream:
    """One browser's EventSource: a raw HTTP/1.1 connection, timestamps at arrival."""

    index: int
    session: Session
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    arrivals: dict[tuple[str, int], float] = field(default_factory=dict)  # (name, id) -> t
    last_id: str | None = None
    reconnects: int = 0

    async def open(self, host: str, port: int, path: str) -> None:
        self.reader, self.writer = await asyncio.open_connection(host, port)
        extra = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id else ""
        self.writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                f"Cache-Control: no-cache\r\nCookie: rolltext_session={self.session.cookie}\r\n"
                f"{extra}\r\n"
            ).encode()
        )
        await self.writer.drain()
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"live stream {self.index}: {status!r}")
        while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            pass

    async def pump(self, on_event: Callable[[Stream, str, int, float], None]) -> None:
        assert self.reader is not None
        buffer = b""
        event_id = 0
        while True:
            data = await self.reader.read(65536)
            if not data:
                return  # the server ended the stream (after 55 s): the caller reconnects
            now = time.perf_counter()
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.startswith(b"id: "):
                    event_id = int(line[4:].strip() or 0)
                    self.last_id = str(event_id)
                elif line.startswith(b"event: "):
                    name = line[7:].strip().decode()
                    self.arrivals[(name, event_id)] = now
                    on_event(self, name, event_id, now)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Change:
    kind: str  # "support" | "propose"
    provision_id: int
    event: str  # the first event name it must produce
    start: float = 0.0
    ack: float = 0.0
    status: int = 0
    arrivals: list[float] = field(default_factory=list)  # per stream, perf_counter
    refreshed: list[float] = field(default_factory=list)  # per browser (refresh phase)


def pick_changes(url: str, prepared: Prepared, writer_code: str, n: int) -> list[dict[str, Any]]:
    """Alternately: support a pending proposal on the prepared provision (not the writer's),
    and propose a new wording of another provision (a different one each time)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            supportable = [
                row[0]
                for row in conn.execute(
                    text(
                        "SELECT a.id FROM amendments a WHERE a.provision_id = :p "
                        "AND a.state = 'pending' AND NOT EXISTS (SELECT 1 FROM proponents pr "
                        "JOIN delegations d ON d.id = pr.delegation_id "
                        "WHERE pr.amendment_id = a.id AND d.code = :code) "
                        "AND NOT EXISTS (SELECT 1 FROM positions po JOIN delegations d "
                        "ON d.id = po.delegation_id WHERE po.amendment_id = a.id "
                        "AND d.code = :code) ORDER BY a.id"
                    ),
                    {"p": prepared.provision_id, "code": writer_code},
                )
            ]
            others = conn.execute(
                text(
                    "SELECT p.id, v.number, v.text FROM provisions p "
                    "JOIN provision_versions v ON v.id = p.current_version_id "
                    "WHERE p.document_id = :d AND p.removed_in_revision_id IS NULL "
                    "AND NOT p.deleted AND p.status NOT IN ('agreed', 'agreed_ad_ref', "
                    "'agreed_pending') AND p.kind IN ('operative', 'preambular') "
                    "AND p.id <> :p ORDER BY p.id"
                ),
                {"d": prepared.document_id, "p": prepared.provision_id},
            ).all()
    finally:
        engine.dispose()
    changes: list[dict[str, Any]] = []
    step = max(1, len(others) // max(1, n))
    for i in range(n):
        if i % 2 == 0:
            changes.append(
                {"kind": "support", "provision_id": prepared.provision_id,
                 "amendment_id": supportable[i // 2]}
            )  # fmt: skip
        else:
            pid, version, words = others[(i * step) % len(others)]
            changes.append(
                {"kind": "propose", "provision_id": pid, "version": version,
                 "text": edited(words, i)}
            )  # fmt: skip
    return changes


def write(client: httpx.Client, who: Session, change: dict[str, Any]) -> tuple[int, float, float]:
    """The change through the JSON API; (status, start, acknowledged) in perf_counter time."""
    headers = who.headers(write=True)
    start = time.perf_counter()
    if change["kind"] == "support":
        response = client.post(
            f"/api/v1/amendments/{change['amendment_id']}/position",
            json={"stance": "support"},
            headers=headers,
        )
    else:
        response = client.post(
            "/api/v1/amendments",
            json={
                "provision_id": change["provision_id"],
                "kind": "wording",
                "text": change["text"],
                "expected_version": change["version"],
                "justification": "Benchmark: live fan-out.",
            },
            headers=headers,
        )
    ack = time.perf_counter()
    if response.status_code not in (200, 201):
        raise RuntimeError(f"the change was refused: {response.status_code} {response.text}")
    return response.status_code, start, ack


async def fan_out(
    server: Server,
    prepared: Prepared,
    sessions: list[Session],
    writer: Session,
    plans: list[dict[str, Any]],
    *,
    refresh: bool,
    log: Callable[[str], None],
    timeout: float = 10.0,
) -> list[Change]:
    """Open the streams, make the changes one by one, note when each stream hears each."""
    doc = prepared.document_id
    path = f"/documents/{doc}/live"
    host = "127.0.0.1"
    streams = [Stream(i, s) for i, s in enumerate(sessions)]
    await asyncio.gather(*(s.open(host, server.port, path) for s in streams))
    loop = asyncio.get_running_loop()
    waiting: dict[str, tuple[Change, asyncio.Future[None], set[int]]] = {}
    pages = httpx.AsyncClient(
        base_url=server.base,
        timeout=60,
        limits=httpx.Limits(max_connections=STREAMS * 3, max_keepalive_connections=STREAMS * 3),
    )
    refreshes: list[asyncio.Task[None]] = []

    retried: list[str] = []

    async def fetch(url: str, who: Session) -> httpx.Response:
        for attempt in (1, 2, 3):
            try:
                return await pages.get(url, headers=who.headers(htmx=True))
            except httpx.TransportError as exc:  # a kept-alive connection closed meanwhile
                if attempt == 3:
                    raise
                retried.append(f"{url}: {exc!r}")
        raise AssertionError

    async def refetch(stream: Stream, change: Change) -> None:
        """What htmx does on the text page: the line (sse:provision-N), the counters
        (sse:document) and, for an open panel of that provision, its live state."""
        who = stream.session
        urls = [f"/documents/{doc}/lines/{change.provision_id}", f"/documents/{doc}/counts"]
        if stream.index < PANEL_OPEN and change.provision_id == prepared.provision_id:
            urls.append(f"/provisions/{change.provision_id}/state")
        answers = await asyncio.gather(*(fetch(u, who) for u in urls))
        for answer in answers:
            if answer.status_code != 200:
                raise RuntimeError(f"refresh {answer.request.url}: {answer.status_code}")
        change.refreshed.append(time.perf_counter())

    def on_event(stream: Stream, name: str, event_id: int, now: float) -> None:
        if name == "resync":  # a reconnected stream missed events: its page re-fetches all
            for key in list(waiting):
                on_event(stream, key, event_id, now)
            return
        entry = waiting.get(name)
        if entry is None:
            return
        change, done, pending = entry
        if stream.index in pending:
            pending.discard(stream.index)
            change.arrivals.append(now)
            if refresh:
                refreshes.append(loop.create_task(refetch(stream, change)))
            if not pending and not done.done():
                done.set_result(None)

    async def keep(stream: Stream) -> None:
        while True:
            await stream.pump(on_event)
            stream.reconnects += 1  # 55 s are up: reconnect as EventSource does
            await stream.open(host, server.port, path)

    pumps = [loop.create_task(keep(s)) for s in streams]
    done_changes: list[Change] = []
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            await asyncio.sleep(0.5)
            for plan in plans:
                change = Change(
                    plan["kind"], plan["provision_id"], f"provision-{plan['provision_id']}"
                )
                done: asyncio.Future[None] = loop.create_future()
                waiting[change.event] = (change, done, set(range(len(streams))))
                change.status, change.start, change.ack = await asyncio.to_thread(
                    write, client, writer, plan
                )
                try:
                    await asyncio.wait_for(done, timeout)
                except TimeoutError:
                    missing = len(waiting[change.event][2])
                    log(f"    {missing} streams did not hear {change.event} within {timeout} s")
                del waiting[change.event]
                if refreshes:
                    await asyncio.gather(*refreshes)
                    refreshes.clear()
                done_changes.append(change)
                await asyncio.sleep(0.3)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for s in streams:
            s.close()
        await pages.aclose()
    if retried:
        log(f"    {len(retried)} refresh requests retried, e.g. {retried[0]}")
    reconnects = sum(s.reconnects for s in streams)
    if reconnects:
        log(f"    ({reconnects} stream reconnections during the phase)")
    return done_changes


def measure_fan_out(bench: Any, label: str, url: str, prepared: Prepared) -> dict[str, Any]:
    import gc

    from bench.__main__ import Result

    workers = bench.args.workspace_workers or WORKERS[label]
    n_changes = bench.args.sse_changes
    # This process is the 100 browsers: keep its collector off what the page timings left.
    gc.collect()
    gc.freeze()
    bench.log(
        f"Live fan-out: {STREAMS} streams, {n_changes} changes, real server "
        f"({label}, {workers} worker{'s' if workers > 1 else ''})"
    )
    server = Server(url, workers, OUT / f"workspace-server-{label}.log")
    server.start()
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            usernames = list(
                conn.execute(
                    text(
                        "SELECT username FROM users WHERE role = 'delegate' AND active "
                        "ORDER BY username"
                    )
                ).scalars()
            )
        engine.dispose()
        writer_name = "delegate.che"  # Switzerland: proposes rarely, a neutral writer
        usernames = [u for u in usernames if u != writer_name][:STREAMS]
        with httpx.Client(base_url=server.base, timeout=60) as client:
            sessions = [sign_in(client, u) for u in usernames]
            writer = sign_in(client, writer_name)
        plans = pick_changes(url, prepared, writer.delegation, 2 * n_changes)
        out: dict[str, Any] = {"workers": workers, "streams": len(sessions), "phases": {}}
        for phase, refresh, chunk in (
            ("events", False, plans[:n_changes]),
            ("refresh", True, plans[n_changes : n_changes + max(2, n_changes // 2)]),
        ):
            changes = asyncio.run(
                fan_out(server, prepared, sessions, writer, chunk, refresh=refresh, log=bench.log)
            )
            from_ack = [(t - c.ack) * 1000 for c in changes for t in c.arrivals]
            from_start = [(t - c.start) * 1000 for c in changes for t in c.arrivals]
            worst_ack = [max(t - c.ack for t in c.arrivals) * 1000 for c in changes if c.arrivals]
            worst_start = [
                max(t - c.start for t in c.arrivals) * 1000 for c in changes if c.arrivals
            ]
            write_ms = [(c.ack - c.start) * 1000 for c in changes]
            heard = sum(len(c.arrivals) for c in changes)
            expected = len(changes) * len(sessions)
            note = (
                f"{len(changes)} changes x {len(sessions)} streams, heard {heard}/{expected}; "
                f"writes {', '.join(sorted({c.kind for c in changes}))}"
            )
            per_change = [
                {
                    "kind": c.kind,
                    "provision_id": c.provision_id,
                    "write_ms": round((c.ack - c.start) * 1000, 2),
                    "heard": len(c.arrivals),
                    "from_ack_ms": _summary([(t - c.ack) * 1000 for t in c.arrivals]),
                    "from_start_ms": _summary([(t - c.start) * 1000 for t in c.arrivals]),
                    **(
                        {
                            "refreshed_from_ack_ms": _summary(
                                [(t - c.ack) * 1000 for t in c.refreshed]
                            )
                        }
                        if refresh
                        else {}
                    ),
                }
                for c in changes
            ]
            out["phases"][phase] = {"changes": per_change, "note": note}
            if phase == "events":
                bench.add(Result("SSE: write (API answer)", label, write_ms, None, note))
                bench.add(Result("SSE: event at a stream, from ack", label, from_ack, None, note))
                bench.add(
                    Result("SSE: event at a stream, from start", label, from_start, None, note)
                )
                bench.add(
                    Result(
                        "SSE: slowest of 100 streams, from ack",
                        label,
                        worst_ack,
                        TARGETS_MS["SSE"],
                        "per change: " + note,
                    )
                )
                bench.add(
                    Result(
                        "SSE: slowest of 100 streams, from start",
                        label,
                        worst_start,
                        TARGETS_MS["SSE"],
                        "per change: " + note,
                    )
                )
            else:
                refreshed = [(t - c.ack) * 1000 for c in changes for t in c.refreshed]
                worst = [max(t - c.ack for t in c.refreshed) * 1000 for c in changes if c.refreshed]
                bench.add(
                    Result(
                        "  SSE+refresh: event at a stream, from ack", label, from_ack, None, note
                    )
                )
                bench.add(
                    Result(
                        "  SSE+refresh: browser refreshed, from ack", label, refreshed, None, note
                    )
                )
                bench.add(
                    Result(
                        "  SSE+refresh: slowest browser refreshed, from ack",
                        label,
                        worst,
                        None,
                        "per change: " + note,
                    )
                )
        return out
    finally:
        server.stop()


def _summary(samples: Sequence[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "min": round(ordered[0], 2),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 2),
        "max": round(ordered[-1], 2),
    }


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def run_workspace(bench: Any, label: str, url: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Both parts on a copy of the database at `url`; what bench/__main__.py calls."""
    with WorkCopy(url, label) as copy:
        bench.log(f"Workspace ({label}): working on a copy, {copy.url}")
        prepared = prepare_provision(copy.url, meta, bench.log)
        out: dict[str, Any] = {"db": label, "prepared": prepared.__dict__ | {"text": None}}
        parts = {p.strip() for p in bench.args.workspace_parts.split(",")}
        if "pages" in parts:
            out["pages"] = measure_pages(bench, label, copy.url, prepared)
        if "sse" in parts:
            out["sse"] = measure_fan_out(bench, label, copy.url, prepared)
    (OUT / f"workspace-{label}.json").write_text(
        json.dumps(
            out | {"results": [r.to_json() for r in bench.results if r.db == label]},
            indent=2,
            default=str,
        )
    )
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace-parts",
        default="pages,sse",
        help="workspace: pages (in-process server times) and/or sse (real server, 100 "
        "streams); default both",
    )
    parser.add_argument(
        "--sse-changes",
        type=int,
        default=10,
        help="workspace: changes made while 100 streams listen (default 10; half as many "
        "again with the browsers' refresh)",
    )
    parser.add_argument(
        "--workspace-workers",
        type=int,
        default=None,
        help="workspace: server workers for the fan-out (default 1 on SQLite, 2 on PostgreSQL)",
    )


PRIVATE = OUT / "workspace"


def prepare_private(bench: Any, label: str, shape: Any) -> Any:
    """bench/__main__.py's `prepare`, in bench/out/workspace/ and PostgreSQL `…_ws`: the
    standalone run keeps a generated negotiation of its own, so that it may run while another
    benchmark regenerates the shared one at another scale."""
    import bench.__main__ as main_module

    PRIVATE.mkdir(parents=True, exist_ok=True)
    saved = main_module.OUT, bench.args.postgres_url
    main_module.OUT = PRIVATE
    source = make_url(bench.args.postgres_url)
    bench.args.postgres_url = source.set(database=f"{source.database}_ws").render_as_string(
        hide_password=False
    )
    try:
        return main_module.prepare(bench, label, shape)
    finally:
        main_module.OUT, bench.args.postgres_url = saved


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.workspace [--reuse] [--db …] [--repeat N] [--profile] …`: the workspace
    measurements on a generated negotiation of its own (see `prepare_private`)."""
    import gc
    from datetime import UTC, datetime

    from bench.__main__ import Bench, parse_args, table
    from bench.generate import Shape

    args = parse_args(["--only", "workspace", *(argv if argv is not None else sys.argv[1:])])
    OUT.mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    started = datetime.now(UTC)
    load_start = os.getloadavg()
    runs = []
    for label in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        dataset = prepare_private(bench, label, Shape(scale=args.scale))
        bench.simulations.clear()
        gc.collect()
        gc.freeze()  # keep the collector off the generator's leftovers while timing
        runs.append(run_workspace(bench, label, dataset.url, dataset.meta))
    report = table(bench.results)
    print()
    print(report)
    (OUT / "workspace-results.json").write_text(
        json.dumps(
            {
                "date": started.isoformat(timespec="seconds"),
                "scale": args.scale,
                "load_average": {"start": load_start, "end": os.getloadavg()},
                "cpus": os.cpu_count(),
                "runs": runs,
                "results": [r.to_json() for r in bench.results],
                "table": report,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nWritten {OUT / 'workspace-results.json'}")
    for profile in bench.profiles:
        print(f"Profile: {profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
