"""Live updates: every open page learns within a second that something changed.

Services commit in FastAPI's threadpool; the change dicts of each transaction become named
events on the document's channel ("provision-12", "document", "structure": `change_messages`),
and the broadcaster hands them to every subscribed Server-Sent-Events stream on the event loop
(`publish_changes`: with the commit itself on PostgreSQL, just after it in-process). A page
fragment listens with `hx-trigger="sse:provision-12"` and re-fetches itself; forms being typed
into are never part of a re-fetched fragment, so nobody loses words.

`Broadcaster` is an interface with two implementations: the in-process one (SQLite, or a single
worker), and `PostgresBroadcaster`, which sends every event through PostgreSQL's NOTIFY and
delivers what its LISTEN connection hears, so a change made through worker A reaches the
browsers connected to worker B — with no service beyond the database.

The provision "on screen" in the meeting room is also kept here, in memory, per document: a
restart forgets it and several workers would not share it. A later issue moves it to the
database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.db.session import Database
from app.domain.roles import Actor
from app.services import events
from app.services.text import get_document
from app.web.deps import current_actor
from app.web.router import Router

log = logging.getLogger("rolltext.live")

#: How long one stream stays open. The browser reconnects at once (with Last-Event-ID, so
#: nothing is missed); short streams let the server shut down gracefully and survive proxies.
STREAM_SECONDS = 55.0
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 1000
QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One named event on a channel; `id` lets a reconnecting browser say what it last saw."""

    name: str
    data: str = ""
    id: int = 0

    def encode(self) -> str:
        lines = [f"id: {self.id}", f"event: {self.name}"]
        lines += [f"data: {line}" for line in (self.data or self.name).splitlines()]
        return "\n".join(lines) + "\n\n"


class Subscription(Protocol):
    """What `subscribe` returns: an async iterator of events, closed when the stream ends."""

    def __aiter__(self) -> AsyncIterator[LiveEvent]: ...

    async def __anext__(self) -> LiveEvent: ...

    def close(self) -> None: ...


class Broadcaster(Protocol):
    """Fan-out of events to the streams of every open page."""

    def publish(self, channel: str, names: Iterable[str], data: str = "") -> None:
        """Send events; callable from any thread (services run in the threadpool)."""

    def subscribe(self, channel: str) -> Subscription:
        """Start receiving a channel's events; called on the event loop."""

    def last_id(self, channel: str) -> int:
        """The id of the channel's latest event, so a reconnecting page can tell it missed one."""


class _Queue:
    """One stream's inbox. Cancelling a wait on it is harmless (no generator state)."""

    def __init__(self, owner: InProcessBroadcaster, channel: str) -> None:
        self.owner = owner
        self.channel = channel
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_SIZE)

    def __aiter__(self) -> _Queue:
        return self

    async def __anext__(self) -> LiveEvent:
        return await self.queue.get()

    def offer(self, event: LiveEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stream that cannot keep up is told to re-fetch everything instead.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(LiveEvent("resync", id=event.id))

    def close(self) -> None:
        self.owner._unsubscribe(self)


@dataclass
class InProcessBroadcaster:
    """The broadcaster of a single worker process: asyncio queues, one per open stream."""

    _subscribers: dict[str, set[_Queue]] = field(default_factory=lambda: defaultdict(set))
    _last_ids: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _loop: asyncio.AbstractEventLoop | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, channel: str, names: Iterable[str], data: str = "") -> None:
        names = list(dict.fromkeys(names))
        loop = self._loop
        if loop is None or loop.is_closed() or not names:
            return  # nobody has ever listened in this process
        with contextlib.suppress(RuntimeError):  # the loop closed between check and call
            loop.call_soon_threadsafe(self._deliver, channel, names, data)

    def _deliver(self, channel: str, names: list[str], data: str) -> None:
        for name in names:
            self._last_ids[channel] += 1
            event = LiveEvent(name, data, self._last_ids[channel])
            for subscriber in list(self._subscribers.get(channel, ())):
                subscriber.offer(event)

    def subscribe(self, channel: str) -> _Queue:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is not loop:
                self._loop = loop
        subscriber = _Queue(self, channel)
        self._subscribers[channel].add(subscriber)
        return subscriber

    def _unsubscribe(self, subscriber: _Queue) -> None:
        self._subscribers.get(subscriber.channel, set()).discard(subscriber)

    def last_id(self, channel: str) -> int:
        return self._last_ids.get(channel, 0)

    def listeners(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))


class PostgresBroadcaster:
    """Events across workers through PostgreSQL LISTEN/NOTIFY; local fan-out in-process.

    A change's events are NOTIFYed by its own commit (`notice`, `Database.notices`); `publish`
    NOTIFYs the rest at once. Every worker, the publishing one included, delivers an event when
    its LISTEN connection hears it, so each browser gets it exactly once, in commit order. The
    listening thread reconnects by itself after a database restart and then tells every open
    page to re-fetch ("resync"), since events may have been missed meanwhile.
    """

    CHANNEL = "rolltext_live"
    MAX_PAYLOAD = 7_900  # PostgreSQL refuses 8,000 bytes

    def __init__(self, url: str, local: InProcessBroadcaster | None = None) -> None:
        from sqlalchemy.engine import make_url

        self.local = local or InProcessBroadcaster()
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._publisher: Any = None
        self._publish_lock = threading.Lock()
        self.listening = threading.Event()

    # -- the Broadcaster interface --------------------------------------------------------------

    def notice(self, channel: str, names: Iterable[str], data: str = "") -> tuple[str, str]:
        """The NOTIFY that publishes these events: (PostgreSQL's channel, payload). One naming
        more paragraphs than a notification can carry tells the pages to re-fetch everything."""
        payload = json.dumps({"c": channel, "n": list(dict.fromkeys(names)), "d": data})
        if len(payload.encode()) > self.MAX_PAYLOAD:
            payload = json.dumps({"c": channel, "n": ["resync"], "d": ""})
        return self.CHANNEL, payload

    def publish(self, channel: str, names: Iterable[str], data: str = "") -> None:
        """On a connection of its own, at once: for what is not a database change (the
        provision on screen); changes go with their commit (`publish_changes`)."""
        _, payload = self.notice(channel, names, data)
        with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._publisher is None or self._publisher.closed:
                        import psycopg

                        self._publisher = psycopg.connect(self.dsn, autocommit=True)
                    self._publisher.execute("SELECT pg_notify(%s, %s)", (self.CHANNEL, payload))
                    return
                except Exception:
                    self._publisher = None
                    if attempt == 2:
                        log.warning("live event not sent: the database is unreachable")

    def subscribe(self, channel: str) -> _Queue:
        return self.local.subscribe(channel)

    def last_id(self, channel: str) -> int:
        return self.local.last_id(channel)

    def listeners(self, channel: str) -> int:
        return self.local.listeners(channel)

    # -- the listening thread -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="live-listen", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                self._publisher.close()

    def _listen(self) -> None:
        import psycopg

        delay = 0.2
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self.CHANNEL}")
                    if delay > 0.2:  # we were cut off: pages may have missed events
                        for channel in list(self.local._subscribers):
                            self.local.publish(channel, ["resync"])
                    delay = 0.2
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(note.payload)
            except Exception:
                self.listening.clear()
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, 5.0)

    def _deliver(self, payload: str) -> None:
        try:
            event = json.loads(payload)
            self.local.publish(event["c"], event["n"], event.get("d", ""))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live event")


def document_channel(document_id: int) -> str:
    return f"document:{document_id}"


def events_for(changes: list[dict[str, Any]]) -> dict[int, list[str]]:
    """The event names each document's pages must hear after one transaction."""
    found: dict[int, list[str]] = defaultdict(list)
    for change in changes:
        document_id = change.get("document_id")
        if document_id is None:
            continue
        names = found[document_id]
        provision_id = change.get("provision_id")
        if change.get("subject") == "provision" and provision_id is None:
            provision_id = change.get("subject_id")
        if provision_id is not None:
            names.append(f"provision-{provision_id}")
        rewording = change.get("amendment_kind") == "wording"  # words change, not the order
        if change.get("kind") in events.STRUCTURAL_KINDS and not rewording:
            names.append("structure")
        names.append("document")
    return {doc: list(dict.fromkeys(names)) for doc, names in found.items()}


#: One live event to send: its channel, its names, its data.
Message = tuple[str, list[str], str]


def changes_data(changes: list[dict[str, Any]]) -> str:
    """The data of a transaction's live events: the kinds of change it made."""
    return json.dumps({"kinds": sorted({str(c.get("kind")) for c in changes})})


def change_messages(changes: list[dict[str, Any]]) -> list[Message]:
    """What each document's pages hear after one transaction (`events_for`)."""
    data = changes_data(changes)
    return [(document_channel(d), names, data) for d, names in events_for(changes).items()]


def publish_changes(
    database: Database,
    broadcaster: Broadcaster,
    messages: Callable[[list[dict[str, Any]]], list[Message]],
) -> None:
    """Publish what `messages` makes of every transaction's changes: through PostgreSQL, with
    the commit itself (`Database.notices`: a NOTIFY sent if and only if it commits, in commit
    order, with no round trip of its own); in-process, just after it (`Database.listeners`)."""
    if isinstance(broadcaster, PostgresBroadcaster):

        def notices(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
            return [broadcaster.notice(*message) for message in messages(changes)]

        database.notices.append(notices)
    else:

        def publish(changes: list[dict[str, Any]]) -> None:
            for message in messages(changes):
                broadcaster.publish(*message)

        database.listeners.append(publish)


# -- the provision on screen -------------------------------------------------------------------


@dataclass
class ScreenSelection:
    """Which provision the co-facilitators show in the meeting room, per document (in memory)."""

    _current: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def show(self, document_id: int, provision_id: int | None) -> None:
        with self._lock:
            if provision_id is None:
                self._current.pop(document_id, None)
            else:
                self._current[document_id] = provision_id

    def current(self, document_id: int) -> int | None:
        with self._lock:
            return self._current.get(document_id)


def broadcaster_of(app: FastAPI) -> Broadcaster:
    broadcaster: Broadcaster = app.state.broadcaster
    return broadcaster


def screen_of(app: FastAPI) -> ScreenSelection:
    screen: ScreenSelection = app.state.screen
    return screen


def put_on_screen(app: FastAPI, *, document_id: int, provision_id: int | None) -> None:
    """Change the meeting room's screen and tell every open screen page."""
    screen_of(app).show(document_id, provision_id)
    broadcaster_of(app).publish(document_channel(document_id), ["screen"])


def broadcaster_for(url: str) -> Broadcaster:
    """PostgreSQL reaches every worker through NOTIFY; SQLite runs one process, in-process."""
    if url.startswith("postgresql"):
        return PostgresBroadcaster(url)
    return InProcessBroadcaster()


def install(app: FastAPI, broadcaster: Broadcaster | None = None) -> None:
    """Give the app a broadcaster and a screen selection, and listen to the database."""
    app.state.broadcaster = broadcaster or broadcaster_for(app.state.database.url)
    app.state.screen = ScreenSelection()
    publish_changes(app.state.database, app.state.broadcaster, change_messages)
    app.include_router(router)


# -- the stream --------------------------------------------------------------------------------


def _check_readable(database: Database, document_id: int, actor: Actor) -> None:
    """Only those who may read a document hear about its changes."""
    with database.read() as db:
        get_document(db, document_id, viewer=actor)


router = Router(tags=["live"], include_in_schema=False)


@router.get("/documents/{document_id}/live")
async def live(
    document_id: int, request: Request, actor: Annotated[Actor, Depends(current_actor)]
) -> StreamingResponse:
    """Server-Sent Events for one document's pages (the htmx sse extension connects here)."""
    await run_in_threadpool(_check_readable, request.app.state.database, document_id, actor)
    broadcaster = broadcaster_of(request.app)
    channel = document_channel(document_id)
    seen = request.headers.get("last-event-id")

    async def stream() -> AsyncIterator[str]:
        subscription = broadcaster.subscribe(channel)
        missed = seen is not None and seen != str(broadcaster.last_id(channel))
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
            if missed:
                yield LiveEvent("resync", id=broadcaster.last_id(channel)).encode()
            while (left := ends - loop.time()) > 0:
                try:
                    event = await asyncio.wait_for(
                        anext(subscription), timeout=min(HEARTBEAT_SECONDS, left)
                    )
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                yield event.encode()
        finally:
            subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
