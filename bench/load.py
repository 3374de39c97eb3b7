"""`python -m bench.load`: the real server under a bounded load, on loopback.

For each database (SQLite, then PostgreSQL) this starts `rolltext serve` (uvicorn serving
`app.asgi:app`, configured by ROLLTEXT_* variables as in production) on a free port of
127.0.0.1 against a throwaway copy of the generated negotiation (bench/generate.py), signs in
220 delegates (session cookie + CSRF token, as the browser does) and runs, one after the other:

* ``warm-up``     the mixed load below, not reported;
* ``ceiling``     ``GET /health`` (an ``async`` route, matched first; no database, no logging):
                  the framework's ceiling, through the same middleware as every request;
* ``auth floor``  ``GET /api/v1/me``: the session, the log's position and the actor;
* ``reads``       the 200 readers alone: text page, panels, JSON reads;
* ``proposals``   the 20 proposers alone: propose a wording change, support/oppose;
* ``mixed``       all 220 together for ``--duration`` seconds: the headline figures.
* ``ceiling again`` ``GET /health`` for half a phase: the ratios use the mean of both.

Every simulated delegate is a coroutine that loops without think time (``--think-ms`` adds
some); the number of requests in flight is bounded by ``--concurrency`` (one shared semaphore,
FIFO, so each delegate gets its turn; latency is timed from the moment a request holds its
slot, so it is the server's answer time, queueing in the server included). The server's memory
(summed VmRSS of uvicorn and its workers, sampled every 0.2 s) and CPU are read from /proc.

Results: a markdown table on stdout, bench/out/load-<db>.json. See bench/README.md ("Load").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.generate import PASSWORD, Words

OUT = Path(__file__).resolve().parent / "out"
ROOT = OUT.parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")

#: What a reader asks for, in turn (each reader starts at a random place in the cycle; the
#: provision is drawn uniformly each time). Per 8 requests: the text page once, three panels,
#: four JSON reads.
READ_CYCLE = (
    "page: text",
    "page: panel",
    "api: provision",
    "page: panel",
    "api: document",
    "page: panel",
    "api: amendments",
    "api: provision",
)
#: What a proposer does, in turn: a wording change, then a position on someone else's proposal.
WRITE_CYCLE = ("api: propose", "api: position")
#: The 422 of a proposal whose wording its delegation has pending already (see `_record`).
ALREADY_MADE = "has already made this proposal"
#: Where each kind of request goes.
ROUTES = {
    "health": "GET /health",
    "me": "GET /api/v1/me",
    "page: text": "GET /documents/{document}",
    "page: panel": "GET /provisions/{provision}/panel (HX-Request)",
    "api: document": "GET /api/v1/documents/{document}",
    "api: provision": "GET /api/v1/provisions/{provision}",
    "api: amendments": "GET /api/v1/documents/{document}/amendments?provision_id=…&limit=100",
    "api: propose": "POST /api/v1/amendments (wording, expected_version)",
    "api: position": "POST /api/v1/amendments/{id}/position (support 70 % / oppose)",
}
WORKERS = {"sqlite": 1, "postgresql": 2}
#: Requests in flight per server worker (--concurrency overrides): on SQLite, 4 in flight gave
#: the same throughput as 16 (17.0 vs 15.0 req/s reading) at a quarter of the latency.
PER_WORKER = 4


# ---------------------------------------------------------------------------------------------
# /proc: the server's processes, memory and CPU
# ---------------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields 3… (state, ppid, …)


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (uvicorn's supervisor and its workers)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                children[int(fields[1])].append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_ticks(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def postgres_ticks() -> dict[int, int]:
    """CPU ticks of each PostgreSQL process (all of the cluster's, not only ours)."""
    ticks = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    ticks[int(entry)] = cpu_ticks([int(entry)])
            except OSError:
                pass
    return ticks


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return total - idle, total


class Monitor(threading.Thread):
    """Samples the summed RSS of the server's processes; the peak is kept per phase."""

    def __init__(self, root_pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self.phase = "start"
        self.peak_kb: dict[str, int] = defaultdict(int)
        self.hwm_kb: dict[int, int] = {}
        self.pids: list[int] = [root_pid]
        self._halt = threading.Event()

    def sample(self) -> int:
        self.pids = process_tree(self.root_pid)
        total = 0
        for pid in self.pids:
            mem = memory_kb(pid)
            total += mem.get("VmRSS", 0)
            if "VmHWM" in mem:
                self.hwm_kb[pid] = mem["VmHWM"]
        self.peak_kb[self.phase] = max(self.peak_kb[self.phase], total)
        return total

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=2)


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`rolltext serve` in a process group of its own, stopped by its id when done."""

    def __init__(self, url: str, workers: int, log_path: Path) -> None:
        self.url = url
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "app", "serve",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        env = {
            **os.environ,
            "ROLLTEXT_DATABASE_URL": self.url,
            "ROLLTEXT_ENVIRONMENT": "production",
            "ROLLTEXT_SECRET_KEY": secrets.token_urlsafe(32),
            "ROLLTEXT_LOG_LEVEL": "INFO",
            "ROLLTEXT_JSON_LOGS": "true",
        }
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started = time.monotonic()
        deadline = self.started + timeout
        with httpx.Client(base_url=self.base, timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"the server exited with {self.proc.returncode}; see {self.log_path}"
                    )
                try:
                    # with several workers, wait until each has started
                    started = self.workers == 1 or len(process_tree(self.proc.pid)) > self.workers
                    if started and client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")
                time.sleep(0.2)
            # every worker answers (the kernel spreads connections over them)
            for _ in range(10 * self.workers):
                client.get("/health")
        # at ×10 a worker computes 100,000 proposals' answers before it is ready
        self.warm_seconds = self._wait_until_warm(time.monotonic() + 900)

    def _wait_until_warm(self, deadline: float) -> float | None:
        """A production server computes its kept answers at start-up, in the background
        (app/web/warm.py): wait until every worker says they are ready, so that the phases
        measure serving rather than the warm-up. Seconds since the start, or None if the
        server does not warm (an older commit)."""
        ready_in_a_row = 0
        while ready_in_a_row < 10 * self.workers:  # fresh connections reach every worker
            answer = httpx.get(f"{self.base}/health/ready", headers={"Connection": "close"})
            kept = answer.json().get("kept_answers")
            if kept is None:
                return None
            ready_in_a_row = ready_in_a_row + 1 if kept == "ready" else 0
            if time.monotonic() > deadline:
                raise RuntimeError("the server's kept answers were not ready in time")
            if not ready_in_a_row:
                time.sleep(0.2)
        return time.monotonic() - self.started

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group, by its id
            self.proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# A throwaway copy of the generated database
# ---------------------------------------------------------------------------------------------


class Copy:
    """The load writes (proposals, positions): it runs on a copy, the generated data stays."""

    def __init__(self, url: str, label: str) -> None:
        self.source = url
        self.label = label
        if label == "sqlite":
            self.path = OUT / "load-sqlite.db"
            self.url = f"sqlite:///{self.path}"
        else:
            source = make_url(url)
            self.name = f"{source.database}_load"
            self.url = source.set(database=self.name).render_as_string(hide_password=False)
            self.admin = source.set(database="postgres").render_as_string(hide_password=False)

    def __enter__(self) -> Copy:
        if self.label == "sqlite":
            self._drop_sqlite()
            source_path = make_url(self.source).database
            assert source_path
            with sqlite3.connect(source_path) as src, sqlite3.connect(self.path) as dst:
                src.backup(dst)
            with sqlite3.connect(self.path) as dst:
                dst.execute("PRAGMA journal_mode=WAL")
        else:
            engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
            source_name = make_url(self.source).database
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                    for attempt in range(20):  # the template must have no other session
                        try:
                            conn.execute(
                                text(f'CREATE DATABASE "{self.name}" TEMPLATE "{source_name}"')
                            )
                            break
                        except Exception:
                            if attempt == 19:
                                raise
                            time.sleep(0.5)
            finally:
                engine.dispose()
        return self

    def counts(self) -> dict[str, int]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return {
                    table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
                    for table in ("amendments", "positions", "events")
                }
        finally:
            engine.dispose()

    def delegates(self) -> list[str]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(
                    conn.execute(
                        text(
                            "SELECT username FROM users WHERE role = 'delegate' AND active "
                            "ORDER BY username"
                        )
                    ).scalars()
                )
        finally:
            engine.dispose()

    def pending(self, document_id: int) -> list[tuple[int, frozenset[str]]]:
        """Pending proposals and the delegations behind them (a group's proposal is made by a
        delegation, which may not take a position on it)."""
        engine = create_engine(self.url)
        codes: dict[int, set[str]] = defaultdict(set)
        try:
            with engine.connect() as conn:
                for amendment_id, code in conn.execute(
                    text(
                        "SELECT a.id, d.code FROM amendments a "
                        "JOIN proponents p ON p.amendment_id = a.id AND p.withdrawn_at IS NULL "
                        "JOIN delegations d ON d.id = p.delegation_id "
                        "WHERE a.state = 'pending' AND a.document_id = :document"
                    ),
                    {"document": document_id},
                ):
                    codes[amendment_id].add(code)
        finally:
            engine.dispose()
        return [(aid, frozenset(c)) for aid, c in sorted(codes.items())]

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


# ---------------------------------------------------------------------------------------------
# The simulated delegates
# ---------------------------------------------------------------------------------------------


@dataclass
class Delegate:
    username: str
    cookie: str = ""
    csrf: str = ""
    delegation: str = ""
    #: What this delegate proposed in the run, (provision, wording), and the pending proposals
    #: its delegation joined that way: it may not propose the one again, nor support the other.
    proposed: set[tuple[int, str]] = field(default_factory=set)
    joined: set[int] = field(default_factory=set)

    def headers(self, *, htmx: bool = False, write: bool = False) -> dict[str, str]:
        # as browsers, httpx and requests do: the server may answer gzip-compressed
        headers = {"Cookie": f"rolltext_session={self.cookie}", "Accept-Encoding": "gzip, deflate"}
        if htmx:
            headers["HX-Request"] = "true"
        if write:
            headers["X-CSRF-Token"] = self.csrf
        return headers


@dataclass
class Target:
    """What the load picks from: the document's provisions and pending proposals."""

    document_id: int
    provisions: list[int]  # readable
    proposable: list[tuple[int, int, str]]  # (provision id, version number, current text)
    pending: list[tuple[int, frozenset[str]]]  # (amendment id, proponent codes)


@dataclass
class Tally:
    """Everything recorded during one phase."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest rank, as bench/__main__.py: the smallest sample with q % at or below it."""
    if not ordered:
        return float("nan")
    return ordered[max(0, -(-int(q * 10) * len(ordered) // 1000) - 1)]


def summary(samples: Sequence[float], seconds: float) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "requests": len(ordered),
        "rps": round(len(ordered) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(ordered, 50), 2),
        "p95_ms": round(percentile(ordered, 95), 2),
        "p99_ms": round(percentile(ordered, 99), 2),
        "mean_ms": round(sum(ordered) / len(ordered), 2) if ordered else float("nan"),
        "max_ms": round(ordered[-1], 2) if ordered else float("nan"),
    }


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class RawHTTP:
    """HTTP/1.1 with keep-alive over asyncio streams: the load's client.

    httpx spends ~2 ms of client CPU per request (h11 and httpcore in pure Python): on two cores
    it capped `GET /health` at ~500 req/s with the client at 100 % of a core, half of what the
    server answers to this client (which uses ~5 %). One connection per request in flight,
    reused; bodies by Content-Length or chunked.
    """

    def __init__(self, host: str, port: int, timeout: float = 300) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.host_header = f"Host: {host}:{port}\r\n".encode()
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.retries = 0  # requests sent again on a fresh connection (see request)
        self.spread_over: dict[int, int] = {}  # server process: connections (see spread)

    async def spread(self, connections: int, workers: int, headers: dict[str, str]) -> None:
        """Open `connections` kept-alive connections, as many to each server worker.

        Workers share one listening socket and the kernel hands each new connection to
        whichever accepts first: a worker woken first may take all of a burst, leaving the
        other idle for the whole phase (seen: a two-worker ceiling at one worker's rate). Each
        connection asks `GET /health`, which names the worker's process, and is kept only if
        that worker has fewer than its share."""
        share = -(-connections // workers)
        kept: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        while self.free:
            conn = self.free.pop()
            conn[1].close()
        for _ in range(50 * connections):
            if sum(len(c) for c in kept.values()) >= connections:
                break
            conn = await asyncio.open_connection(self.host, self.port)
            reply, keep = await self._exchange(conn, "GET", "/health", headers, None)
            process = json.loads(reply.body).get("process", 0)
            if keep and len(kept.setdefault(process, [])) < share:
                kept[process].append(conn)
            else:
                conn[1].close()
        self.free = [conn for conns in kept.values() for conn in conns]
        self.spread_over = {process: len(conns) for process, conns in kept.items()}

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> Reply:
        for attempt in (1, 2):
            conn, reused = None, False
            while self.free and conn is None:
                conn = self.free.pop()
                if conn[0].at_eof() or conn[1].is_closing():  # the server closed it meanwhile
                    conn[1].close()
                    conn = None
            if conn is None:
                conn = await asyncio.open_connection(self.host, self.port)
            else:
                reused = True
            try:
                async with asyncio.timeout(self.timeout):
                    reply, keep = await self._exchange(conn, method, path, headers, body)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
                conn[1].close()
                # A kept-alive connection that uvicorn closed as idle (timeout_keep_alive, 5 s)
                # just as we reused it: nothing came back, so the server never read the request.
                # Any HTTP client retries this once on a new connection.
                nothing = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
                if reused and nothing and attempt == 1:
                    self.retries += 1
                    continue
                raise
            except BaseException:
                conn[1].close()
                raise
            if keep:
                self.free.append(conn)
            else:
                conn[1].close()
            return reply
        raise AssertionError("unreachable")

    async def _exchange(
        self,
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[Reply, bool]:
        reader, writer = conn
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), self.host_header]
        head += [f"{name}: {value}\r\n".encode() for name, value in headers.items()]
        if body is not None:
            head.append(f"Content-Length: {len(body)}\r\n".encode())
        head.append(b"\r\n")
        if body is not None:
            head.append(body)
        writer.write(b"".join(head))
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        answer: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                value = value.strip()
                answer[name] = f"{answer[name]}, {value}" if name in answer else value
        if "content-length" in answer:
            content = await reader.readexactly(int(answer["content-length"]))
        elif answer.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailers
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            content = b"".join(parts)
        else:
            content = b""
        # uvicorn closes the connection after a 500 from an exception, without saying so
        keep = answer.get("connection", "").lower() != "close" and status < 500
        return Reply(status, answer, content), keep

    async def close(self) -> None:
        for _, writer in self.free:
            writer.close()
        self.free.clear()


class HttpxClient:
    """The same interface over httpx (--client httpx), to compare."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> Reply:
        response = await self.client.request(method, path, headers=headers, content=body)
        return Reply(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )

    async def close(self) -> None:
        pass


class Load:
    """One client, a semaphore bounding the requests in flight, a tally per phase."""

    def __init__(self, client: RawHTTP | HttpxClient, concurrency: int, think_ms: float) -> None:
        self.client = client
        self.gate = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self.think_s = think_ms / 1000
        self.deadline = 0.0
        self.tally = Tally()

    def running(self) -> bool:
        return time.perf_counter() < self.deadline

    async def think(self, rng: random.Random) -> None:
        if self.think_s:
            await asyncio.sleep(rng.expovariate(1 / self.think_s))

    async def request(
        self,
        kind: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
    ) -> Reply | None:
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        async with self.gate:
            if not self.running():
                return None
            start = time.perf_counter()
            try:
                reply = await self.client.request(method, url, headers, data)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, httpx.HTTPError) as exc:
                elapsed = (time.perf_counter() - start) * 1000
                self._record(kind, elapsed, 0, f"{type(exc).__name__}: {exc}")
                return None
            elapsed = (time.perf_counter() - start) * 1000
        self._classify(kind, elapsed, reply)
        return reply

    def _classify(self, kind: str, elapsed: float, reply: Reply) -> None:
        status = reply.status
        problem = None
        if status >= 300:  # none of these routes redirects unless the session is lost
            problem = f"{status} {reply.text[:300]!r}"
        elif "hx-redirect" in reply.headers:  # a fragment asked for sign-in: session lost
            problem = f"{status} HX-Redirect {reply.headers['hx-redirect']}"
        self._record(kind, elapsed, status, problem)

    def _record(self, kind: str, elapsed: float, status: int, problem: str | None) -> None:
        tally = self.tally
        tally.statuses[kind][status] += 1
        if problem is None:
            tally.latencies[kind].append(elapsed)
            return
        # A 409 on a write is the optimistic lock doing its job (someone changed the same
        # provision first): expected under concurrency, counted apart and explained. So is
        # the 422 of a proposal whose wording the delegation already has pending from the
        # generated negotiation (its mutations can draw the same words; from ×10 they do).
        if status == 409 and kind in WRITE_CYCLE:
            tally.expected[f"{kind}: 409"] += 1
            tally.latencies[kind].append(elapsed)
        elif status == 422 and kind == "api: propose" and ALREADY_MADE in (problem or ""):
            tally.expected[f"{kind}: 422 already made"] += 1
            tally.latencies[kind].append(elapsed)
        else:
            tally.errors[f"{kind}: {status or 'transport'}"] += 1
        if len(tally.examples) < 10:
            tally.examples.append(f"{kind}: {problem}")


async def reader(load: Load, target: Target, who: Delegate, rng: random.Random) -> None:
    step = rng.randrange(len(READ_CYCLE))
    document = target.document_id
    while load.running():
        kind = READ_CYCLE[step % len(READ_CYCLE)]
        step += 1
        provision = rng.choice(target.provisions)
        url = {
            "page: text": f"/documents/{document}",
            "page: panel": f"/provisions/{provision}/panel",
            "api: document": f"/api/v1/documents/{document}",
            "api: provision": f"/api/v1/provisions/{provision}",
            "api: amendments": (
                f"/api/v1/documents/{document}/amendments?provision_id={provision}&limit=100"
            ),
        }[kind]
        await load.request(kind, "GET", url, who.headers(htmx=kind == "page: panel"))
        await load.think(rng)


async def proposer(load: Load, target: Target, who: Delegate, rng: random.Random) -> None:
    words = Words(rng)  # draws from the delegate's own stream, which goes on between phases
    others = [aid for aid, codes in target.pending if who.delegation not in codes]
    step = rng.randrange(len(WRITE_CYCLE))
    while load.running():
        kind = WRITE_CYCLE[step % len(WRITE_CYCLE)]
        step += 1
        if kind == "api: propose":
            provision, version, current = rng.choice(target.proposable)
            text = words.mutate(current)
            for _ in range(10):  # its own earlier wording again would be refused (422)
                if (provision, text) not in who.proposed:
                    break
                text = words.mutate(current)
            who.proposed.add((provision, text))
            body: dict[str, Any] = {
                "provision_id": provision,
                "kind": "wording",
                "text": text,
                "justification": words.justification(),
                "expected_version": version,
            }
            reply = await load.request(
                kind, "POST", "/api/v1/amendments", who.headers(write=True), body
            )
            if reply is not None and reply.status < 300:
                # the same wording as a pending proposal joins it as co-proponent: a proponent
                # may not support or oppose it any more (a 422 that would be our mistake)
                who.joined.add(json.loads(reply.body)["id"])
        else:
            stance = "support" if rng.random() < 0.7 else "oppose"
            amendment = rng.choice(others)
            while amendment in who.joined:
                amendment = rng.choice(others)
            await load.request(
                kind,
                "POST",
                f"/api/v1/amendments/{amendment}/position",
                who.headers(write=True),
                {"stance": stance},
            )
        await load.think(rng)


async def trivial(load: Load, kind: str, url: str, who: Delegate, rng: random.Random) -> None:
    while load.running():
        await load.request(kind, "GET", url, who.headers())
        await load.think(rng)


async def sign_in(client: httpx.AsyncClient, who: Delegate, gate: asyncio.Semaphore) -> None:
    async with gate:
        response = await client.post(
            "/api/v1/session", json={"username": who.username, "password": PASSWORD}
        )
    if response.status_code != 200:
        # stop at the first failure: failures count towards the sign-in throttle
        raise RuntimeError(f"sign-in of {who.username}: {response.status_code} {response.text}")
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "rolltext_session":
            who.cookie = rest.split(";", 1)[0]
    who.csrf = response.headers["x-csrf-token"]
    who.delegation = response.json()["delegation_code"]
    assert who.cookie and who.csrf, response.headers


async def find_targets(
    client: httpx.AsyncClient,
    who: Delegate,
    document_id: int,
    pending: list[tuple[int, frozenset[str]]],
) -> Target:
    response = await client.get(f"/api/v1/documents/{document_id}", headers=who.headers())
    response.raise_for_status()
    provisions = [p for p in response.json()["provisions"] if not p["deleted"]]
    proposable = [
        (p["id"], p["version"], p["text"])
        for p in provisions
        if p["text"] and not p["status"].startswith("agreed")
    ]
    return Target(document_id, [p["id"] for p in provisions], proposable, pending)


# ---------------------------------------------------------------------------------------------
# Phases
# ---------------------------------------------------------------------------------------------


@dataclass
class Options:
    duration: float = 60.0  # the mixed phase
    phase: float = 10.0  # each isolated phase
    warmup: float = 5.0
    concurrency: int | None = None  # default: PER_WORKER per server worker
    readers: int = 200
    proposers: int = 20
    think_ms: float = 0.0
    workers: dict[str, int] = field(default_factory=lambda: dict(WORKERS))
    profile: bool = False
    py_spy: str | None = None
    client: str = "raw"  # or httpx
    seed: int = 2016
    #: The phases to run (`PHASES`); None: all of them.
    phases: frozenset[str] | None = None


#: The phases of a run, in order (`drive`).
PHASES = ("warm-up", "ceiling", "auth floor", "reads", "proposals", "mixed", "ceiling again")


class Profiler:
    """py-spy on the server's processes during a phase (--profile)."""

    def __init__(self, executable: str, server: Server, label: str) -> None:
        self.executable = executable
        self.server = server
        self.label = label
        self.outputs: dict[str, Path] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, phase: str, seconds: float) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", phase.lower()).strip("-")
        path = OUT / f"load-profile-{self.label}-{slug}.txt"
        self.outputs[phase] = path
        command = [
            self.executable, "record", "--pid", str(self.server.pid), "--subprocesses",
            "--gil", "--nonblocking", "--rate", "200", "--format", "raw",
            "--duration", str(max(1, int(seconds))), "--output", str(path),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
            self.proc = None


def summarise_profile(path: Path, top: int = 30) -> str:
    """Inclusive and own sample counts per function of a py-spy raw (collapsed) profile."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    frame = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = []
        for part in stack.split(";"):
            match = frame.match(part)
            if not match:
                continue
            file = match["file"]
            for prefix in (f"{ROOT}/", "site-packages/"):
                if prefix in file:
                    file = file.split(prefix, 1)[1]
            names.append(f"{match['func']} ({file})")
        for name in set(names):
            inclusive[name] += count
        if names:
            own[names[-1]] += count
    lines = [f"{path.name}: {total} samples (GIL held), rate 200/s", "", "inclusive:"]
    lines += [f"{100 * n / total:6.1f} %  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "own time:"]
    lines += [f"{100 * n / total:6.1f} %  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def cpu_percent(ticks: int, seconds: float) -> float:
    return round(100 * ticks / CLK_TCK / seconds, 1) if seconds else 0.0


async def run_phase(
    name: str,
    load: Load,
    tasks: Sequence[Callable[[], Any]],
    seconds: float,
    monitor: Monitor,
    server: Server,
    profiler: Profiler | None = None,
) -> dict[str, Any]:
    if isinstance(load.client, RawHTTP):  # every worker gets its share of the connections
        await load.client.spread(load.concurrency, server.workers, {})
    load.tally = Tally()
    monitor.phase = name
    server_before, pg_before = cpu_ticks(monitor.pids), postgres_ticks()
    busy_before, total_before = machine_ticks()
    client_before = os.times()
    if profiler:
        profiler.start(name, seconds)
    start = time.perf_counter()
    load.deadline = start + seconds
    await asyncio.gather(*(task() for task in tasks))
    elapsed = time.perf_counter() - start
    client_after = os.times()
    busy_after, total_after = machine_ticks()
    server_cpu = cpu_percent(cpu_ticks(monitor.pids) - server_before, elapsed)
    # backends that ended during the phase are missed; those that started count whole
    pg_after = postgres_ticks()
    pg_cpu = cpu_percent(sum(t - pg_before.get(pid, 0) for pid, t in pg_after.items()), elapsed)
    monitor.sample()
    if profiler:
        profiler.wait()
    tally = load.tally
    everything = [x for samples in tally.latencies.values() for x in samples]
    result: dict[str, Any] = {
        "seconds": round(elapsed, 2),
        **summary(everything, elapsed),
        "errors": sum(tally.errors.values()),
        "expected_refusals": sum(tally.expected.values()),
        "connections_per_worker": sorted(getattr(load.client, "spread_over", {}).values()),
        "by_kind": {
            kind: {
                **summary(samples, elapsed),
                "statuses": dict(tally.statuses[kind]),
            }
            for kind, samples in sorted(tally.latencies.items())
        },
        "error_kinds": dict(tally.errors),
        "expected_kinds": dict(tally.expected),
        "examples": tally.examples,
        "server_cpu_pct": server_cpu,
        "postgres_cpu_pct": pg_cpu,
        "client_cpu_pct": round(
            100
            * (client_after.user + client_after.system - client_before.user - client_before.system)
            / elapsed,
            1,
        ),
        # of all CPUs (2 = 100 %); what the server, the client and PostgreSQL did not use
        # went to other work on the machine
        "machine_busy_pct": round(
            100 * (busy_after - busy_before) / max(1, total_after - total_before), 1
        ),
        "server_rss_peak_mb": round(monitor.peak_kb[name] / 1024, 1),
    }
    # The server's CPU time per answered request: what one request costs, whatever the
    # throughput (less sensitive to other work on the machine than req/s).
    answered = len(everything)
    result["server_cpu_ms_per_request"] = (
        round(10 * server_cpu * elapsed / answered, 2) if answered else None
    )
    # Reads and proposals taken together (the mixed phase has both).
    for path, kinds in (("reads", READ_CYCLE), ("proposals", WRITE_CYCLE)):
        samples = [x for kind in set(kinds) for x in tally.latencies.get(kind, ())]
        if samples:
            result[path] = summary(samples, elapsed)
    return result


async def drive(
    label: str,
    server: Server,
    usernames: Sequence[str],
    pending: list[tuple[int, frozenset[str]]],
    document_id: int,
    options: Options,
    log: Callable[[str], None],
) -> dict[str, Any]:
    concurrency = options.concurrency or PER_WORKER * server.workers
    rng = random.Random(options.seed)
    order = list(usernames)
    rng.shuffle(order)
    proposers = [Delegate(u) for u in order[: options.proposers]]
    readers = [
        Delegate(order[(options.proposers + i) % len(order)]) for i in range(options.readers)
    ]
    everyone = proposers + readers
    limits = httpx.Limits(
        max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4
    )
    # No cookie jar: each delegate sends its own session cookie.
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    async with httpx.AsyncClient(
        base_url=server.base, limits=limits, timeout=httpx.Timeout(300.0), cookies=jar
    ) as client:
        gate = asyncio.Semaphore(concurrency)
        start = time.perf_counter()
        await asyncio.gather(*(sign_in(client, who, gate) for who in proposers + readers))
        signed_in = time.perf_counter() - start
        log(f"  {len(proposers) + len(readers)} delegates signed in in {signed_in:.1f} s")
        if server.warm_seconds is not None:
            log(f"  kept answers computed at start-up: ready {server.warm_seconds:.1f} s in")
        target = await find_targets(client, readers[0], document_id, pending)

        monitor = Monitor(server.pid)
        monitor.sample()
        monitor.start()
        rss_idle = monitor.sample()
        transport: RawHTTP | HttpxClient = (
            HttpxClient(client) if options.client == "httpx" else RawHTTP("127.0.0.1", server.port)
        )
        load = Load(transport, concurrency, options.think_ms)
        profiler = (
            Profiler(options.py_spy, server, label) if options.profile and options.py_spy else None
        )

        # One random stream per delegate for the whole run: a proposer that started again from
        # its seed in the next phase would re-propose its own earlier wordings (422).
        streams = {id(who): random.Random(f"{options.seed}-{i}") for i, who in enumerate(everyone)}

        def users(kind: str) -> list[Callable[[], Any]]:
            tasks: list[Callable[[], Any]] = []
            if kind in ("readers", "mixed"):
                tasks += [
                    lambda who=who: reader(load, target, who, streams[id(who)]) for who in readers
                ]
            if kind in ("proposers", "mixed"):
                tasks += [
                    lambda who=who: proposer(load, target, who, streams[id(who)])
                    for who in proposers
                ]
            if kind in ("health", "me"):
                url = "/health" if kind == "health" else "/api/v1/me"
                tasks += [
                    lambda who=who: trivial(load, kind, url, who, streams[id(who)])
                    for who in readers
                ]
            random.Random(options.seed).shuffle(tasks)  # proposers among readers, not last
            return tasks

        plan = [
            ("warm-up", "mixed", options.warmup, False),
            ("ceiling", "health", options.phase, False),
            ("auth floor", "me", options.phase, False),
            ("reads", "readers", options.phase, True),
            ("proposals", "proposers", options.phase, True),
            ("mixed", "mixed", options.duration, False),
            # again at the end: on a shared machine the ceiling drifts with other work
            ("ceiling again", "health", options.phase / 2, False),
        ]
        phases: dict[str, Any] = {}
        for name, kind, seconds, profiled in plan:
            if seconds <= 0 or (options.phases is not None and name not in options.phases):
                continue
            tasks = users(kind)
            log(
                f"  {name}: {len(tasks)} users, {min(len(tasks), concurrency)} in "
                f"flight, {seconds:g} s…"
            )
            phase = await run_phase(
                name, load, tasks, seconds, monitor, server, profiler if profiled else None
            )
            phase["users"] = len(tasks)
            phase["in_flight"] = min(len(tasks), concurrency)
            phases[name] = phase
            log(
                f"    {phase['rps']:8.1f} req/s  p50 {phase['p50_ms']:7.1f}  p95 "
                f"{phase['p95_ms']:7.1f}  p99 {phase['p99_ms']:7.1f} ms  errors "
                f"{phase['errors']}  refused {phase['expected_refusals']}  RSS "
                f"{phase['server_rss_peak_mb']:.0f} MB"
            )
            log(
                f"    CPU: server {phase['server_cpu_pct']:.0f} % "
                f"({phase['server_cpu_ms_per_request']} ms/request), PostgreSQL "
                f"{phase['postgres_cpu_pct']:.0f} %, client {phase['client_cpu_pct']:.0f} %, "
                f"machine {phase['machine_busy_pct']:.0f} % of {os.cpu_count()} CPUs"
            )
        monitor.stop()
        await transport.close()
        hwm = {str(pid): round(kb / 1024, 1) for pid, kb in monitor.hwm_kb.items() if kb}
        profiles = {}
        if profiler:
            for phase_name, path in profiler.outputs.items():
                if path.exists() and path.stat().st_size:
                    summary_path = path.with_name(path.stem + "-summary.txt")
                    summary_path.write_text(summarise_profile(path))
                    profiles[phase_name] = str(summary_path.relative_to(ROOT))
    return {
        "concurrency": concurrency,
        "client_retries_on_closed_keepalive": getattr(transport, "retries", 0),
        "signed_in": len(proposers) + len(readers),
        "sign_in_seconds": round(signed_in, 2),
        "warm_seconds": None if server.warm_seconds is None else round(server.warm_seconds, 1),
        "target": {
            "provisions": len(target.provisions),
            "proposable": len(target.proposable),
            "pending_sampled": len(target.pending),
        },
        "phases": phases,
        "rss_idle_mb": round(rss_idle / 1024, 1),
        "rss_hwm_mb_per_process": hwm,
        "profiles": profiles,
    }


# ---------------------------------------------------------------------------------------------
# One database
# ---------------------------------------------------------------------------------------------


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--", "app", "templates").splitlines()]
    commit = git("rev-parse", "--short", "HEAD")
    if not commit:  # a snapshot (git archive) of the tree: say which commit it is
        return {"commit": os.environ.get("ROLLTEXT_BENCH_COMMIT", "unknown"), "snapshot": True}
    return {"commit": commit, "uncommitted_app_files": len(changed)}


def run_load(
    label: str, url: str, meta: dict[str, Any], options: Options, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Serve a copy of the generated database at `url` and drive the load; the results."""
    workers = options.workers[label]
    started = datetime.now(UTC)
    log(f"Load on {label} (scale {meta.get('scale', '?')}, {workers} worker(s))")
    with Copy(url, label) as copy:
        usernames = copy.delegates()
        pending = copy.pending(meta["document_id"])
        before = copy.counts()
        server = Server(copy.url, workers, OUT / f"load-server-{label}.log")
        server.start()
        try:
            driven = _run(
                drive(label, server, usernames, pending, meta["document_id"], options, log)
            )
        finally:
            server.stop()
        after = copy.counts()
    phases = driven["phases"]
    ceilings = [phases[n]["rps"] for n in ("ceiling", "ceiling again") if n in phases]
    ceiling = sum(ceilings) / len(ceilings) if ceilings else None  # ratios: to their mean
    ratios = {}
    if ceiling:
        if "reads" in phases:
            ratios["reads"] = round(phases["reads"]["rps"] / ceiling, 4)
        if "proposals" in phases:
            ratios["proposals"] = round(phases["proposals"]["rps"] / ceiling, 4)
        if "auth floor" in phases:
            ratios["auth floor"] = round(phases["auth floor"]["rps"] / ceiling, 4)
    reported = phases  # the warm-up's errors count too
    result = {
        "db": label,
        "date": started.isoformat(timespec="seconds"),
        "scale": meta.get("scale"),
        "generated": meta.get("counts", {}),
        "workers": workers,
        "server_command": (
            f"python -m app serve --host 127.0.0.1 --port <free> --workers {workers}"
            " (ROLLTEXT_DATABASE_URL=<copy>, ROLLTEXT_ENVIRONMENT=production)"
        ),
        "think_ms": options.think_ms,
        "client": options.client,
        "readers": options.readers,
        "proposers": options.proposers,
        "routes": ROUTES,
        "read_cycle": READ_CYCLE,
        "write_cycle": WRITE_CYCLE,
        **driven,
        "ceiling_rps": round(ceiling, 1) if ceiling else None,
        "ratios_to_ceiling": ratios,
        "targets": {"reads": 0.3, "proposals": 0.15},
        "errors": sum(p["errors"] for p in reported.values()),
        "expected_refusals": sum(p["expected_refusals"] for p in reported.values()),
        "rss_peak_mb": max((p["server_rss_peak_mb"] for p in reported.values()), default=0),
        "rows_added": {k: after[k] - before[k] for k in before},
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "git": git_state(),
    }
    return result


def _run(coro: Any) -> Any:
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    except ImportError:
        return asyncio.run(coro)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = [
            str(cell).ljust(w) if i < left else str(cell).rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if n == 0:
            lines.append(
                "|"
                + "|".join(
                    "-" * (w + 2) if i < left else "-" * (w + 1) + ":" for i, w in enumerate(widths)
                )
                + "|"
            )
    return "\n".join(lines)


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _ratio(result: dict[str, Any], name: str) -> str:
    value = result["ratios_to_ceiling"].get(name)
    if value is None:
        return ""
    target = result["targets"].get(name)
    if target is None:
        return f"{value:.3f}"
    return f"{value:.3f} ({'ok' if value >= target else 'MISSED'} ≥ {target:g})"


def _row(
    result: dict[str, Any], name: str, figures: dict[str, Any], phase: dict[str, Any], ratio: str
) -> tuple[str, ...]:
    whole = figures is phase  # a phase's own row, not a part of it
    return (
        f"{result['db']} ×{result['scale']:g} ({result['workers']} w)",
        name,
        f"{phase['users']} / {phase['in_flight']}",
        _f(figures["rps"]),
        _f(figures["p50_ms"]),
        _f(figures["p95_ms"]),
        _f(figures["p99_ms"]),
        str(phase["errors"]) if whole else "",
        str(phase["expected_refusals"]) if whole else "",
        ratio,
        _f(phase["server_rss_peak_mb"], 0) if whole else "",
        f"{phase['server_cpu_ms_per_request']:.2f}" if whole else "",
        f"{phase['server_cpu_pct']:.0f} / {phase['client_cpu_pct']:.0f} / "
        f"{phase['machine_busy_pct']:.0f}"
        if whole
        else "",
    )


def table(results: Sequence[dict[str, Any]]) -> str:
    """The main table: one block of rows per database (and scale)."""
    header = (
        "db", "phase", "users / in flight", "req/s", "p50 ms", "p95 ms", "p99 ms",
        "errors", "refused", "× ceiling", "RSS peak MB", "server CPU ms/req",
        "CPU % server / client / machine",
    )  # fmt: skip
    rows = []
    names = {
        "ceiling": "ceiling: GET /health",
        "ceiling again": "ceiling again, at the end",
        "auth floor": "auth floor: GET /api/v1/me",
        "reads": "reads alone",
        "proposals": "proposals alone",
    }
    for r in results:
        phases = r["phases"]
        for key, name in names.items():
            if key in phases:
                ratio = (
                    f"{phases[key]['rps'] / r['ceiling_rps']:.2f}"
                    if key.startswith("ceiling")
                    else _ratio(r, key)
                )
                rows.append(_row(r, name, phases[key], phases[key], ratio))
        if "mixed" in phases:
            mixed = phases["mixed"]
            rows.append(_row(r, f"mixed {mixed['seconds']:.0f} s: all", mixed, mixed, ""))
            for part in ("reads", "proposals"):
                if part in mixed:
                    rows.append(_row(r, f"  of which {part}", mixed[part], mixed, ""))
    return markdown(header, rows)


def kinds_table(results: Sequence[dict[str, Any]], phase_name: str = "mixed") -> str:
    """Each kind of request of one phase."""
    header = ("db", "request", "n", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
    rows = []
    for r in results:
        phase = r["phases"].get(phase_name)
        if not phase:
            continue
        for kind, k in phase["by_kind"].items():
            rows.append(
                (
                    f"{r['db']} ×{r['scale']:g}",
                    f"{kind}: {ROUTES.get(kind, '')}",
                    str(k["requests"]),
                    _f(k["rps"]),
                    _f(k["p50_ms"]),
                    _f(k["p95_ms"]),
                    _f(k["p99_ms"]),
                    _f(k["max_ms"], 0),
                )
            )
    return markdown(header, rows)


def growth_table(results: Sequence[dict[str, Any]]) -> str:
    header = (
        "scale", "db", "proposals", "mixed: reads req/s", "reads p95 ms",
        "mixed: proposals req/s", "proposals p95 ms", "reads alone × ceiling",
        "proposals alone × ceiling", "server CPU ms per read / proposal", "RSS peak MB",
        "errors",
    )  # fmt: skip
    rows = []
    nan = float("nan")
    for r in sorted(results, key=lambda r: (r["db"] != "sqlite", r["scale"])):
        phases = r["phases"]
        mixed = phases.get("mixed", {})
        reads, props = mixed.get("reads", {}), mixed.get("proposals", {})
        cpu_read = phases.get("reads", {}).get("server_cpu_ms_per_request") or nan
        cpu_prop = phases.get("proposals", {}).get("server_cpu_ms_per_request") or nan
        rows.append(
            (
                f"×{r['scale']:g}",
                f"{r['db']} ({r['workers']} w)",
                f"{r['generated'].get('amendments', 0):,}",
                _f(reads.get("rps", nan)),
                _f(reads.get("p95_ms", nan), 0),
                _f(props.get("rps", nan)),
                _f(props.get("p95_ms", nan), 0),
                f"{r['ratios_to_ceiling'].get('reads', nan):.3f}",
                f"{r['ratios_to_ceiling'].get('proposals', nan):.3f}",
                f"{cpu_read:.1f} / {cpu_prop:.1f}",
                _f(r["rss_peak_mb"], 0),
                str(r["errors"]),
            )
        )
    return markdown(header, rows, left=2)


def write(result: dict[str, Any], *, suffix: str = "") -> Path:
    path = OUT / f"load-{result['db']}{suffix}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path


def problems(results: Sequence[dict[str, Any]]) -> list[str]:
    """Unexpected errors, with examples: the run fails on any."""
    found = []
    for r in results:
        for name, phase in r["phases"].items():
            if phase["errors"]:
                found.append(
                    f"{r['db']} ×{r['scale']:g} {name}: {phase['error_kinds']}; "
                    f"e.g. {phase['examples'][:3]}"
                )
    return found


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from bench.__main__ import default_postgres_url

    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=(
            "Serve the generated negotiation with `rolltext serve` on loopback and load it: "
            "200 delegates reading, 20 proposing and supporting, bounded concurrency; the "
            "framework's ceiling (GET /health) in the same run. See bench/README.md (Load)."
        ),
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", type=float, default=1.0, help="10,000 proposals per unit")
    parser.add_argument(
        "--growth",
        metavar="SCALES",
        help="comma-separated scales (e.g. 1,3,10): generate and load each, print the growth "
        "table (bench/out/load-growth.json)",
    )
    parser.add_argument("--duration", type=float, default=60, help="mixed phase, s (default 60)")
    parser.add_argument(
        "--phase", type=float, default=10, help="each isolated phase, s (default 10)"
    )
    parser.add_argument("--warmup", type=float, default=5, help="warm-up, s (default 5)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help=f"requests in flight at most (default {PER_WORKER} per server worker)",
    )
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--proposers", type=int, default=20)
    parser.add_argument(
        "--think-ms", type=float, default=0, help="mean think time between requests (default 0)"
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="the timed requests' client: raw (HTTP/1.1 on asyncio streams, default) or httpx "
        "(~2 ms of client CPU per request: it becomes the bottleneck above ~500 req/s)",
    )
    parser.add_argument(
        "--phases",
        help=f"comma-separated, of: {', '.join(PHASES)} (default: all; e.g. 'ceiling,proposals' "
        "to measure the write path alone)",
    )
    parser.add_argument("--sqlite-workers", type=int, default=WORKERS["sqlite"])
    parser.add_argument("--postgresql-workers", type=int, default=WORKERS["postgresql"])
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="generate the databases even when bench/out holds them at this scale",
    )
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server during the reads and proposals phases "
        "(bench/out/load-profile-*.txt and -summary.txt)",
    )
    parser.add_argument(
        "--py-spy",
        default=shutil.which("py-spy") or os.environ.get("PY_SPY"),
        help="the py-spy executable (default: on PATH, or $PY_SPY)",
    )
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> Options:
    return Options(
        duration=args.duration,
        phase=args.phase,
        warmup=args.warmup,
        concurrency=args.concurrency,
        readers=args.readers,
        proposers=args.proposers,
        think_ms=args.think_ms,
        workers={"sqlite": args.sqlite_workers, "postgresql": args.postgresql_workers},
        profile=args.profile,
        py_spy=args.py_spy,
        client=args.client,
        phases=_phases(args.phases),
    )


def _phases(listed: str | None) -> frozenset[str] | None:
    if listed is None:
        return None
    names = frozenset(name.strip() for name in listed.split(","))
    if unknown := names - set(PHASES):
        sys.exit(f"--phases: unknown {', '.join(sorted(unknown))} (known: {', '.join(PHASES)})")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    import gc

    from bench.__main__ import Bench, prepare
    from bench.generate import Shape

    args = parse_args(argv)
    if args.profile and not args.py_spy:
        sys.exit("--profile needs py-spy (pip install py-spy; or --py-spy PATH)")
    OUT.mkdir(parents=True, exist_ok=True)
    options = options_of(args)
    scales = [float(s) for s in args.growth.split(",")] if args.growth else [args.scale]
    labels = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    # What bench/__main__.py's prepare() needs: the load never uses the rebase targets, and
    # runs on a copy, so an earlier database of the same scale is always good enough.
    bench = Bench(
        argparse.Namespace(
            reuse=not args.fresh and not args.growth,
            rebase_repeat=11,
            generator="bulk",
            postgres_url=args.postgres_url,
            only=["load"],
            profile=False,
        )
    )
    results: list[dict[str, Any]] = []
    for scale in scales:
        for label in labels:
            dataset = prepare(bench, label, Shape(scale=scale))
            if label == labels[-1]:
                bench.simulations.clear()
            gc.collect()
            gc.freeze()  # keep the collector off the generator's leftovers while timing
            result = run_load(label, dataset.url, dataset.meta, options, bench.log)
            results.append(result)
            path = write(result)
            if args.growth:
                write(result, suffix=f"-x{scale:g}")
            bench.log(f"  written {path.relative_to(ROOT)}")
    print()
    print(table(results))
    print()
    print(kinds_table(results))
    if args.growth:
        print()
        print(growth_table(results))
        (OUT / "load-growth.json").write_text(
            json.dumps({"results": results, "table": growth_table(results)}, indent=2, default=str)
        )
    for r in results:
        for phase, path in r["profiles"].items():
            print(f"\nProfile ({r['db']}, {phase}): {path}")
    found = problems(results)
    for line in found:
        print(f"UNEXPECTED ERRORS: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
