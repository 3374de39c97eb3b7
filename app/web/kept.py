"""Answers kept until something they show changes: one `ViewCache` per database and process.

Pages and the JSON API read the same few answers again and again (every open page re-fetches
its fragments when the live stream names them; 200 delegations read the same paragraphs). The
event log says when, and where, anything changed (`app.services.events`): an answer is kept
until an event touches what it shows — one paragraph, a whole document, or who is signed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from app.db.peek import LoopPeeks, Peek, SqliteLoopPeeks
from app.db.session import Database, WouldWait, refuse_on_the_loop
from app.domain.errors import NotFound
from app.domain.roles import Actor
from app.services import events
from app.services.permissions import can_read
from app.services.text import document_visibility
from app.web.compression import accepts_gzip

T = TypeVar("T")
log = logging.getLogger(__name__)

#: What an answer depends on: (document id, provision id) — one paragraph's answers;
#: (document id, None) — anything in that document; ACCOUNTS — who is signed in (sessions,
#: tokens, users); None — anything at all.
Scope = tuple[int, int | None] | str | None
ACCOUNTS = "accounts"


@dataclass
class _Entry:
    stamp: Stamp
    scope: Scope = None
    scoped: Callable[[Any], Scope] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


#: A position in the event log: the newest event's id, as `events.stamp` reads it. The log is
#: committed in the order of its ids, so an answer computed at stamp S shows every event up to S.
Stamp = int
_NEVER: Stamp = 0


class _Touches:
    """Which parts of the negotiation changed, and when: read from the event log since the last
    stamp seen, so that a change to one paragraph leaves the others' answers kept.

    Each event names its document and, when it concerns one paragraph, the provision (the live
    stream relies on the same: `events_for`). An event that changes the order or the labels
    (`events.STRUCTURAL_KINDS`), or names no paragraph, touches its whole document; an account
    event (`events.ACCOUNT_KINDS`), who is signed in; any other without a document, everything.
    A touch is recorded as the event's id: answers computed at that stamp or later show it."""

    HISTORY = 32  # touches remembered per paragraph: older ones make its answers computed anew

    def __init__(self) -> None:
        self.seen: Stamp | None = None
        self.everything = _NEVER  # changes to anything at all (events without a document)
        self.accounts = _NEVER  # sign-outs, tokens, users: they change no page, only who asks
        self.document: dict[int, Stamp] = {}  # whole-document changes
        self.anything_in: dict[int, Stamp] = {}  # any change in the document
        #: Changes to a document's text, outline or process: not `events.AROUND_THE_TEXT`.
        self.text: dict[int, Stamp] = {}
        #: Each paragraph's latest touches, oldest first: (stamp, the proposal changed, if that
        #: was all) — the last one says when it last changed, the others what changed since.
        self.paragraph: dict[tuple[int, int], deque[tuple[Stamp, int | None]]] = {}

    def read(self, db: Any) -> tuple[Stamp, Sequence[Any]]:
        """Where the log stands, and the events since the last stamp seen: one query (the log
        is committed in id order, so the newest of them is the stamp)."""
        seen = self.seen
        if seen is None:
            return events.stamp(db), ()
        rows = events.since(db, seen)
        return (rows[-1].id if rows else seen), rows

    async def read_on_the_loop(
        self, peeks: LoopPeeks | SqliteLoopPeeks
    ) -> tuple[Stamp, Sequence[Any]]:
        """`read`, on the event loop."""
        seen = self.seen
        if seen is None:
            return await events.stamp_on_the_loop(peeks), ()
        rows = await events.since_on_the_loop(peeks, seen)
        return (rows[-1].id if rows else seen), rows

    def take_in(self, stamp: Stamp, rows: Sequence[Any]) -> bool:
        """Take in what `read` found; False if what changed before `stamp` cannot be known
        (the first stamp seen): then nothing kept can be trusted."""
        if self.seen is None:
            self.seen = self.everything = stamp
            return False
        for row in rows:
            if row.id > self.seen:  # not taken in already by a request read at the same time
                self._touch(row)
                self.seen = row.id
        return True

    def _touch(self, event: Any) -> None:
        """Note what one event (a row of `events.since`, newer than any before) touched."""
        when, kind, document_id = event.id, event.kind, event.document_id
        if kind in events.ACCOUNT_KINDS:
            self.accounts = max(self.accounts, when)
            return
        if document_id is None:
            self.everything = max(self.everything, when)
            return
        _raise(self.anything_in, document_id, when)
        if kind not in events.AROUND_THE_TEXT:
            _raise(self.text, document_id, when)
        provision_id = event.provision_id
        if provision_id is None and event.subject == "provision":
            provision_id = event.subject_id
        if provision_id is None or kind in events.STRUCTURAL_KINDS:
            _raise(self.document, document_id, when)
        else:
            proposal = event.amendment_id if kind in events.PROPOSAL_KINDS else None
            key, touch = (document_id, provision_id), (when, proposal)
            if key in self.paragraph:
                self.paragraph[key].append(touch)
            else:  # never empty where a reader may look
                self.paragraph[key] = deque([touch], maxlen=self.HISTORY)

    def unchanged(self, entry: _Entry, stamp: Stamp) -> bool:
        """May `entry`, computed at its stamp, be served at `stamp`?"""
        if entry.stamp == stamp:
            return True
        scope = entry.scope
        if scope is None or not entry.done.is_set():
            return False
        since = entry.stamp
        if self.everything > since:
            return False
        if scope == ACCOUNTS:
            return self.accounts <= since
        assert not isinstance(scope, str)
        document_id, provision_id = scope
        if not self.document_unchanged(document_id, since):
            return False
        if provision_id is None:
            return self.anything_in.get(document_id, _NEVER) <= since
        touches = self.paragraph.get((document_id, provision_id))
        return not touches or touches[-1][0] <= since

    def changed_parts(self, entry: _Entry) -> frozenset[int] | None:
        """What changed in what `entry` shows since it was computed, when an answer can be
        brought up to date part by part: for an answer about a whole document, the paragraphs
        touched; about one paragraph, the proposals changed (`events.PROPOSAL_KINDS`). None if
        anything else changed, or the entry is not usable."""
        scope, since = entry.scope, entry.stamp
        if not entry.done.is_set() or entry.error is not None or not isinstance(scope, tuple):
            return None
        document_id, provision_id = scope
        if not self.document_unchanged(document_id, since):
            return None
        if provision_id is None:
            paragraphs = list(self.paragraph.items())  # a copy: other requests may add to it
            return frozenset(
                p for (d, p), touches in paragraphs if d == document_id and touches[-1][0] > since
            )
        touches = list(self.paragraph.get(scope, ()))
        if len(touches) == self.HISTORY and touches[0][0] > since:
            return None  # older touches forgotten: what else changed is not known
        changes = [proposal for when, proposal in touches if when > since]
        if None in changes:
            return None
        return frozenset(p for p in changes if p is not None)

    def document_unchanged(self, document_id: int, since: Stamp) -> bool:
        """Is the document as a whole (its title, visibility, structure) as at `since`?"""
        return self.everything <= since and self.document.get(document_id, _NEVER) <= since

    def text_unchanged(self, document_id: int | None, since: Stamp) -> bool:
        """Are the document's text, outline and process (None: the directory) as at `since`?"""
        if self.everything > since:
            return False
        return document_id is None or self.text.get(document_id, _NEVER) <= since


def _raise(touched: dict[Any, Stamp], key: Any, when: Stamp) -> None:
    touched[key] = max(touched.get(key, _NEVER), when)


class ViewCache:
    """What the services answered, kept until something it shows changes; one per `Database`.

    Every use case that changes something records an event in the same transaction (the event
    log, `app.services.events`), so the log's position is a stamp of the whole database: an
    answer computed after reading stamp S is at least as fresh as S. A request reads the stamp
    after it arrived; when it moved since an answer was kept, the events in between say what
    changed (`_Touches`): an answer about one paragraph (its `scope`) is still served if none of
    them touched that paragraph or the whole document — as fresh as one computed for it, on any
    worker, whoever made the change (another worker, another process, the command line).
    Requests that arrive together after a change (every open page re-fetching the same fragment,
    on hearing the same live event) wait for the first one's computation instead of repeating it.

    Answers are shared between viewers: each request checks that its viewer may read the
    answer's document (`document_of`), as the service would have, on the document's visibility
    as of the stamp. A kept answer thus costs one short query (the stamp), without the ORM.
    """

    SIZE = 4096
    #: After a read on the event loop failed (the server away), the seconds during which
    #: requests read in threads (whose errors are the answers: a 503) without trying the loop.
    LOOP_PAUSE = 1.0

    def __init__(self, database: Database) -> None:
        self.database = database
        self._entries: dict[tuple[object, ...], _Entry] = {}
        self._constants: dict[tuple[object, ...], Any] = {}
        self._visibility: dict[int, tuple[Stamp, str]] = {}  # document: (stamp, visibility)
        self._lock = threading.Lock()
        self._touches = _Touches()
        self._advancing = threading.Lock()
        #: The latest read of the stamp: when it started, and what it read.
        self._latest: tuple[float, Stamp] = (float("-inf"), _NEVER)
        #: The read on the event loop under way, if any (`read_stamp_on_the_loop`).
        self._loop_read: asyncio.Task[None] | None = None
        self._loop_unavailable_until = float("-inf")
        self.hits = self.misses = 0
        if _count_own_commit not in database.listeners:
            database.listeners.append(_count_own_commit)

    def clear(self) -> None:
        """Forget every kept answer (the benchmark's "cold")."""
        with self._lock:
            self._entries.clear()
            self._visibility.clear()

    def constant(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """An answer that no change alters (e.g. which delegations facilitate a negotiation):
        computed once per process."""
        with self._lock:
            if key in self._constants:
                return self._constants[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._constants[key] = value
        return value

    def _stamp(self, reader: _Reader) -> Stamp:
        """Where the event log stands, for this request: read once per request (again after a
        write of its own), unless another request read it after this one arrived.

        A stamp is fresh enough for a request if it was read after the request arrived: every
        change its sender could have seen was committed by then. Under load many requests
        arrive while others are being answered, and share the reads made meanwhile."""
        memo = _request_memo()
        if memo is not None:
            known = self._own_stamp(memo)
            if known is None:
                known = self._shared_stamp(memo, self._needed(memo))
            if known is not None:
                return known
        started = time.monotonic()
        stamp, rows = self._touches.read(reader.connection())
        self._advance(started, stamp, rows)
        if memo is not None:
            memo.stamps[self] = (memo.commits, stamp)
        return stamp

    def _own_stamp(self, memo: _RequestMemo) -> Stamp | None:
        """The stamp this request read, unless it committed a write since."""
        seen = memo.stamps.get(self)
        return seen[1] if seen is not None and seen[0] == memo.commits else None

    def _needed(self, memo: _RequestMemo) -> float:
        """When a read must have begun to be fresh enough for this request: after it arrived,
        or after its own latest write."""
        return memo.arrived if self not in memo.stamps else time.monotonic()

    def _shared_stamp(self, memo: _RequestMemo, needed: float) -> Stamp | None:
        """The latest read of the log by any request, if it began at `needed` or later (then
        noted as this request's)."""
        started, stamp = self._latest
        if started < needed:
            return None
        memo.stamps[self] = (memo.commits, stamp)
        return stamp

    async def read_stamp_on_the_loop(self) -> bool:
        """Read the stamp this request needs (as `_stamp` would) on the event loop, without a
        thread: True when it is read, False when the loop cannot read it and a thread must
        (the database did not answer: then not tried again for `LOOP_PAUSE`).

        One read at a time: the requests that arrived before it began share it, those that
        arrive meanwhile the next one (the same rule as `_stamp`)."""
        memo = _request_memo()
        peeks = self.database.loop_peeks
        if memo is None or peeks is None or time.monotonic() < self._loop_unavailable_until:
            return False
        if self._own_stamp(memo) is not None:
            return True
        needed = self._needed(memo)  # (once: the reads awaited below began before now)
        loop = asyncio.get_running_loop()
        while self._shared_stamp(memo, needed) is None:
            reading = self._loop_read
            if reading is None or reading.done() or reading.get_loop() is not loop:
                reading = self._loop_read = loop.create_task(self._read_on_the_loop(peeks))
            try:
                await asyncio.shield(reading)
            except Exception:
                if time.monotonic() >= self._loop_unavailable_until:
                    self._loop_unavailable_until = time.monotonic() + self.LOOP_PAUSE
                    log.warning(
                        "the log's position could not be read on the event loop: "
                        "requests read it in threads for %s s",
                        self.LOOP_PAUSE,
                        exc_info=True,
                    )
                return False
        return True

    async def _read_on_the_loop(self, peeks: LoopPeeks | SqliteLoopPeeks) -> None:
        started = time.monotonic()
        stamp, rows = await self._touches.read_on_the_loop(peeks)
        self._advance(started, stamp, rows)

    def _advance(self, started: float, stamp: Stamp, rows: Sequence[Any]) -> None:
        """Take in a read of the log begun at `started`."""
        with self._advancing:
            if not self._touches.take_in(stamp, rows):
                self.clear()
            if started > self._latest[0]:
                self._latest = (started, stamp)

    def _require_readable(
        self, reader: _Reader, stamp: Stamp, document_id: int, viewer: Actor
    ) -> None:
        """The services' rule (`permissions.can_read`: otherwise the document does not exist),
        on the document's visibility, kept until an event touches the whole document."""
        with self._lock:
            kept = self._visibility.get(document_id)
        if kept is None or not self._touches.document_unchanged(document_id, kept[0]):
            visibility = document_visibility(reader.connection(), document_id)
            if visibility is None:
                raise NotFound(f"There is no document {document_id}.")
            kept = (stamp, visibility)
            with self._lock:
                self._visibility[document_id] = kept
        if not can_read(viewer, kept[1]):
            raise NotFound(f"There is no document {document_id}.")

    def get(
        self,
        key: tuple[object, ...],
        compute: Callable[[], T],
        *,
        viewer: Actor | None = None,
        document_of: Callable[[T], int] | None = None,
        scope: Scope | Callable[[T], Scope] = None,
        update: Callable[[T, frozenset[int]], T | None] | None = None,
    ) -> T:
        """The kept answer for `key`, or `compute()`'s. `scope`: what it depends on (a value,
        or a function of the answer); None for anything at all. With `document_of`, a kept
        answer is given only to a `viewer` who may read that document (as `compute` would
        have refused them). `update(stale, parts)`: the stale answer brought up to date when
        only these parts of it changed since (`_Touches.changed_parts`: an answer about a
        document, its paragraphs; about a paragraph, its proposals), or None to compute it
        anew — a proposal changes one paragraph's pending count, not the other 299."""
        changed: frozenset[int] | None = None
        stale: Any = None
        with _Reader(self.database) as reader:
            stamp = self._stamp(reader)
            with self._lock:
                entry = self._entries.get(key)
                kept = entry is not None and self._touches.unchanged(entry, stamp)
                if kept:
                    assert entry is not None
                    self.hits += 1
                else:
                    refuse_on_the_loop()  # computing it means reading: in a thread
                    self.misses += 1
                    if update is not None and entry is not None:
                        changed = self._touches.changed_parts(entry)
                        stale = entry.value
                    entry = self._entries[key] = _Entry(
                        stamp,
                        scope=None if callable(scope) else scope,
                        scoped=scope if callable(scope) else None,
                    )
                    while len(self._entries) > self.SIZE:
                        del self._entries[next(iter(self._entries))]
            if kept and entry.done.is_set() and entry.error is None:
                if document_of is not None:
                    assert viewer is not None, "a kept answer for whom?"
                    self._require_readable(reader, stamp, document_of(entry.value), viewer)
                return entry.value  # type: ignore[no-any-return]
        if not kept:
            try:
                if changed is not None and update is not None:
                    entry.value = update(stale, changed)
                if entry.value is None:
                    entry.value = compute()
                if entry.scoped is not None:
                    entry.scope = entry.scoped(entry.value)
            except BaseException as exc:
                entry.error = exc
                with self._lock:
                    if self._entries.get(key) is entry:
                        del self._entries[key]
                raise
            finally:
                entry.done.set()
            return entry.value  # type: ignore[no-any-return]
        refuse_on_the_loop()  # (waiting for another thread)
        entry.done.wait()  # the same answer, being computed for an earlier request
        if entry.error is not None:
            return compute()  # it failed for that request's viewer: ask for this one's
        if document_of is not None:
            assert viewer is not None, "a kept answer for whom?"
            with _Reader(self.database) as reader:
                self._require_readable(reader, stamp, document_of(entry.value), viewer)
        return entry.value  # type: ignore[no-any-return]


class _Reader(contextlib.AbstractContextManager["_Reader"]):
    """A connection opened only if something must be read: a kept answer whose stamp this
    request has read already, for a document whose visibility is kept, needs none."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._opened: contextlib.ExitStack | None = None
        self._connection: Connection | Peek | None = None

    def connection(self) -> Connection | Peek:
        if self._connection is None:
            self._opened = contextlib.ExitStack()
            self._connection = self._opened.enter_context(self.database.peek())
        return self._connection

    def __exit__(self, *exc: object) -> None:
        if self._opened is not None:
            self._opened.close()


@dataclass
class _RequestMemo:
    """When the current request arrived, the stamps it read per cache, and how many writes it
    committed since: several answers on one page share one read of the event log
    (`RequestStamps` gives each request its own), and the services check what they keep
    against the same read (`events.Reading`)."""

    arrived: float
    stamps: dict[ViewCache, tuple[int, Stamp]] = field(default_factory=dict)
    commits: int = 0  # a stamp read before one of them is not reused after it
    #: The client accepts gzip (`app.web.compression`): kept answers may be sent compressed.
    gzip: bool = False

    def _read(self, db: Session) -> tuple[ViewCache, Stamp] | None:
        pool = db.get_bind().pool
        for cache, (commits, stamp) in list(self.stamps.items()):
            if cache.database.engine.pool is pool and commits == self.commits:
                return cache, stamp
        return None

    def stamp(self, db: Session) -> Stamp | None:
        read = self._read(db)
        return None if read is None else read[1]

    def unchanged_since(self, db: Session, since: Stamp, document_id: int | None) -> bool:
        read = self._read(db)
        return read is not None and read[0]._touches.text_unchanged(document_id, since)


def accepts_gzip_here() -> bool:
    """Does the current request's client accept gzip?"""
    memo = _request_memo()
    return memo is not None and memo.gzip


def _request_memo() -> _RequestMemo | None:
    """The current request's memo: it is what `RequestStamps` sets as `events.reading`."""
    memo = events.reading.get()
    return memo if isinstance(memo, _RequestMemo) else None


def _count_own_commit(_changes: list[dict[str, Any]]) -> None:
    """A `Database` listener, called in the committing request's context."""
    memo = _request_memo()
    if memo is not None:
        memo.commits += 1


class RequestStamps:
    """ASGI middleware: each HTTP request gets its memo, as `events.reading` (FastAPI runs a
    request's dependencies and endpoint in threads that share it), so it reads the event log's
    stamp at most once per cache and the services check what they keep against that read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gzip = any(
            name == b"accept-encoding" and accepts_gzip(value) for name, value in scope["headers"]
        )
        token = events.reading.set(_RequestMemo(time.monotonic(), gzip=gzip))
        try:
            await self.app(scope, receive, send)
        finally:
            events.reading.reset(token)


#: Requests that change nothing, and may be answered on the event loop (`answer`).
_SAFE = frozenset({"GET", "HEAD"})


async def answer(method: str, database: Database, work: Callable[[], T]) -> T:
    """`work()`'s answer to a request, computed on the event loop if all it needs is kept,
    else in a thread.

    A thread hop costs a read request more than its kept answer does (~0.3 ms of CPU, with the
    GIL handed back and forth). So a request that changes nothing first reads the log's
    position on the loop (`ViewCache.read_stamp_on_the_loop`) and tries `work` there, where
    any read of the database, or wait for another thread's answer, raises `WouldWait` before
    it starts (`Database.on_the_loop`); `work` is then done again, from the start, in a thread.
    Only `GET` and `HEAD` are tried (a write would only be refused)."""
    if method in _SAFE and await views_of(database).read_stamp_on_the_loop():
        try:
            with database.on_the_loop():
                return work()
        except WouldWait:
            pass
    return await run_in_threadpool(work)


_caches: weakref.WeakKeyDictionary[Database, ViewCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def views_of(database: Database) -> ViewCache:
    """The process's `ViewCache` of a database (asked for many times per request: the lock
    only to make one)."""
    cache = _caches.get(database)
    if cache is not None:
        return cache
    with _caches_lock:
        cache = _caches.get(database)
        if cache is None:
            cache = _caches[database] = ViewCache(database)
        return cache
