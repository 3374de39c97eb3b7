"""The text: the whole document as a UN reader expects it, and each provision's panel.

The page is made of fragments that re-fetch themselves when the live stream names them: a
provision's line (`sse:provision-12`), its panel's state (wording, proposals, decisions), the
whole list when the structure changes (`sse:structure`, open panels kept by hx-preserve), and
the counters (`sse:document`). Forms are never inside a re-fetched fragment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache

from fastapi import FastAPI, Request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import Response

from app.db.session import Database, refuse_on_the_loop
from app.domain.amendments import AmendmentKind, AmendmentState
from app.domain.brackets import BracketGroup, bracket_groups, is_balanced
from app.domain.errors import DomainError, Invalid
from app.domain.labels import ProvisionKind
from app.domain.roles import Role
from app.services import documents
from app.services.views import (
    AmendmentView,
    Collision,
    DocumentView,
    NegotiationView,
    ProvisionDetail,
    ProvisionView,
    RevisionView,
    VersionView,
)
from app.web import compression
from app.web.answers import document_view, negotiation_view, provision_detail, revision_list
from app.web.errors import status_of
from app.web.kept import accepts_gzip_here, views_of
from app.web.live import screen_of
from app.web.pages.negotiations import (
    ProcessState,
    StatusCounts,
    export_url,
    process_state,
    status_counts,
)
from app.web.pages.routing import PageRoute
from app.web.pages.viewer import Viewer, VisitDep
from app.web.router import Router
from app.web.security import CSRF_SESSION_KEY
from app.web.templating import (
    SHARED_FORM_TOKEN,
    changes,
    env,
    html_response,
    is_htmx,
    render,
    render_around,
)

router = Router(route_class=PageRoute, include_in_schema=False)


@lru_cache(maxsize=4096)
def version_change(before: str, after: str) -> Markup:
    """The tracked change from one version of a provision to the next (versions never change:
    each pair is diffed once per process)."""
    return changes(before, after)


@dataclass(frozen=True)
class _DocumentId:
    id: int


#: Proposals a panel lists at first, of each kind, and then adds a page at a time: a busy
#: paragraph of a long negotiation gathers thousands, which no one reads in one scroll, and
#: which would make the panel and each of its live refreshes megabytes (seconds to build).
PAGE = 50


@lru_cache(maxsize=4096)
def line_of(p: ProvisionView, document_id: int) -> Markup:
    """One provision's line in the text (`text/_line.html`), rendered once for each state of
    the provision: its view holds everything the line shows, and is the key."""
    return Markup(
        env.get_template("text/_line.html").render(p=p, document=_DocumentId(document_id))
    )


@lru_cache(maxsize=4096)
def _proposal_words(
    a: AmendmentView, kind: ProvisionKind, collisions: tuple[tuple[str, str], ...]
) -> Markup:
    return Markup(
        env.get_template("proposals/_proposal_words.html").render(
            a=a, kind=kind, collisions=collisions
        )
    )


def proposal_words(
    a: AmendmentView, kind: ProvisionKind, collisions: tuple[tuple[str, str], ...]
) -> Markup:
    """A proposal's words and attribution (`proposals/_proposal_words.html`), the same for
    every viewer: rendered once for each state of the proposal (its view is the key)."""
    return _proposal_words(a, kind, collisions)


class _SharedProposals:
    """Each proposal's article (`proposals/_proposal.html`) rendered once per state and per
    what the viewer may do with it, shared by every viewer in that position.

    The key holds everything the template reads: the proposal's view (its words, proponents,
    positions, state), the provision's id, version and kind, the panel's view, whether the
    viewer is a delegate or a co-facilitator, proposes it, supports or opposes it, and the
    collisions shown. Forms carry `SHARED_FORM_TOKEN`, replaced by each session's CSRF token
    when the page is sent. A panel of 100 proposals re-renders only those that changed."""

    SIZE = 8192

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[object, ...], Markup] = OrderedDict()
        self._lock = threading.Lock()

    def html(self, panel: ProvisionPanel, a: AmendmentView) -> Markup:
        p, viewer = panel.provision, panel.viewer
        collisions = panel.collisions_of(a.id)
        key = (
            a,
            p.id,
            p.version,
            p.kind,
            panel.view,
            viewer.delegate,
            viewer.cofacilitator,
            viewer.delegate and panel.proposes(a),
            viewer.delegate and panel.position_of(a),
            panel.can_bracket(a),
            collisions,
        )
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept
        html = Markup(
            env.get_template("proposals/_proposal.html").render(
                a=a, panel=panel, viewer=viewer, request=_SHARED_REQUEST
            )
        )
        with self._lock:
            self._kept[key] = html
            while len(self._kept) > self.SIZE:
                self._kept.popitem(last=False)
        return html


class _SharedRequest:
    """What `csrf_input()` reads in a shared fragment: a session whose token is the stand-in."""

    def __init__(self) -> None:
        self.session = {CSRF_SESSION_KEY: SHARED_FORM_TOKEN}


_SHARED_REQUEST = _SharedRequest()
_shared_proposals = _SharedProposals()

#: Marks a hole in a shared frame; random per process, so no text a user typed contains it.
_HOLE = "\x00hole-" + secrets.token_hex(8) + "\x00"


@dataclass(frozen=True)
class _Frame:
    """A delegate's panel with the viewer's own parts left out: `parts` alternate text and
    holes; an article's hole holds the article as a delegate who neither proposed it nor took
    a position on it sees it (most delegates, for most proposals)."""

    parts: tuple[str, ...]
    articles: dict[int, tuple[int, AmendmentView]]  # amendment id: (index in parts, view)
    own: tuple[tuple[int, str], ...]  # (index in parts, hole name): filled per viewer
    by_speaker: dict[str, frozenset[int]]  # delegation or group code: proposals it made
    by_position: dict[str, frozenset[int]]  # delegation's short name: proposals it took a
    # position on

    def involving(self, viewer: Viewer, speaks_as: frozenset[str]) -> set[int]:
        """The proposals whose article this viewer sees differently from the shared one."""
        ids: set[int] = set()
        for code in speaks_as:
            ids |= self.by_speaker.get(code, frozenset())
        if viewer.delegation is not None:
            ids |= self.by_position.get(viewer.delegation.short, frozenset())
        return ids


class _FrameRequest:
    """What a shared frame's template reads of the request: a session whose CSRF token is the
    stand-in, and the app (the preview's seal is the same for everyone)."""

    def __init__(self, request: Request) -> None:
        self.session = {CSRF_SESSION_KEY: SHARED_FORM_TOKEN}
        self.app = request.app


class _SharedPanels:
    """A delegate's panel (`text/_panel.html`) or its live state (`text/_state.html`) rendered
    once per state of the provision and shared by all 193 delegations: the frame holds
    everything but the viewer's own parts — the articles of proposals the viewer's delegation
    made or took a position on, and who the propose forms speak for — which are filled in for
    each viewer from the shared articles and small kept snippets.

    A frame is kept for the kept `ProvisionDetail` it was made from (the same object until the
    provision changes): one per provision and per what else the template reads that is not the
    delegation's own, replaced when the provision's state is newer, so that frames of earlier
    states do not pile up."""

    SIZE = 1024

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[object, ...], tuple[ProvisionDetail, _Frame]] = OrderedDict()
        self._own: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def shares(panel: ProvisionPanel) -> bool:
        viewer = panel.viewer
        return (
            viewer.delegate
            and not viewer.cofacilitator
            and panel.message is None
            and not panel.deferred
            and panel.live
        )

    def html(self, request: Request, template: str, panel: ProvisionPanel) -> str:
        detail, viewer = panel.detail, panel.viewer
        key = (
            template,
            detail.provision.id,  # one frame per provision: a newer state replaces it
            panel.lazy_moves,
            panel.on_screen,
            viewer.holds(panel.provision.reservation),
            panel.shown,
            panel.revealed,
        )
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] is detail:
                self._kept.move_to_end(key)
                frame = kept[1]
            else:
                kept = None
        if kept is None:
            refuse_on_the_loop()  # a whole panel rendered: in a thread, not on the loop
            frame = self._frame(request, template, panel)
            with self._lock:
                self._kept[key] = (detail, frame)
                while len(self._kept) > self.SIZE:
                    self._kept.popitem(last=False)
        parts = list(frame.parts)
        for amendment_id in frame.involving(viewer, panel._speaks_as):
            index, amendment = frame.articles[amendment_id]
            parts[index] = _shared_proposals.html(panel, amendment)
        for index, name in frame.own:
            parts[index] = self._own_part(name, viewer)
        return "".join(parts)

    def _frame(self, request: Request, template: str, panel: ProvisionPanel) -> _Frame:
        framing = replace(panel, framing=True)
        context = {**framing.context(), "request": _FrameRequest(request)}
        pieces = env.get_template(template).render(context).split(_HOLE)
        amendments = {a.id: a for a in panel.detail.amendments}
        neutral = replace(panel, viewer=replace(panel.viewer, delegation=None, groups=()))
        articles: dict[int, tuple[int, AmendmentView]] = {}
        own: list[tuple[int, str]] = []
        for index in range(1, len(pieces), 2):
            name = pieces[index]
            if name.startswith("proposal:"):
                amendment = amendments[int(name.removeprefix("proposal:"))]
                articles[amendment.id] = (index, amendment)
                pieces[index] = _shared_proposals.html(neutral, amendment)
            else:
                own.append((index, name))
        by_speaker: dict[str, set[int]] = defaultdict(set)
        by_position: dict[str, set[int]] = defaultdict(set)
        for _, a in articles.values():  # the proposals it lists
            for code in a.proponent_codes:
                by_speaker[code].add(a.id)
            for short in (*a.supporters, *a.opponents):
                by_position[short].add(a.id)
        return _Frame(
            parts=tuple(pieces),
            articles=articles,
            own=tuple(own),
            by_speaker={k: frozenset(v) for k, v in by_speaker.items()},
            by_position={k: frozenset(v) for k, v in by_position.items()},
        )

    def _own_part(self, name: str, viewer: Viewer) -> str:
        """Who a propose form speaks for: the same for every panel a delegate opens. The "on
        whose behalf" choice differs between forms only by the form's id: it is kept once per
        delegate, the id filled in (per form, 300 paragraphs × 4 kinds of form × 193
        delegations would never stay kept)."""
        fid = None
        if name.startswith("on-behalf:"):
            fid, name = name.removeprefix("on-behalf:"), "on-behalf"
        delegation = viewer.delegation.id if viewer.delegation else None
        key = (name, delegation, viewer.name, tuple(g.code for g in viewer.groups))
        with self._lock:
            html = self._own.get(key)
        if html is None:
            if name == "speaking-as":
                html = env.get_template("proposals/_speaking_as.html").render(viewer=viewer)
            else:
                html = env.get_template("proposals/_on_behalf.html").render(
                    viewer=viewer, fid=_FORM_ID, form={"on_behalf_of": ""}
                )
            with self._lock:
                self._own[key] = html
                while len(self._own) > self.SIZE:
                    self._own.popitem(last=False)
        return html if fid is None else html.replace(_FORM_ID, fid)


#: Stands for a form's id in a kept "on whose behalf" choice; random per process.
_FORM_ID = "form-id-" + secrets.token_hex(8)


_shared_panels = _SharedPanels()


def base_seal(request: Request, provision_id: int, words: str) -> str:
    """A MAC of the words a wording form was written on, for the live preview to trust them
    (anyone may post a form: unsealed words would let one request diff two long texts)."""
    secret = request.app.state.settings.secret_key.encode()
    key = hashlib.sha256(b"rolltext preview base\0" + secret).digest()
    return hmac.new(key, f"{provision_id}\0{words}".encode(), "sha256").hexdigest()


@pass_context
def _base_seal(context: Context, provision_id: int, words: str) -> str:
    return base_seal(context["request"], provision_id, words)


@dataclass(slots=True)
class _Lines:
    document: DocumentView
    encoded: bytes
    deflated: compression.Deflated | None = None  # when a browser that accepts gzip asks


class _KeptText:
    """The whole text's lines (`text/_provisions.html` without an open panel), rendered once
    for each state of the document and kept encoded, to be spliced into the text page
    (`render_around`), and compressed once too for the browsers that accept gzip: the
    document's kept view (`answers.document_view`) is the same object until something in the
    document changes, and holds everything the lines show."""

    SIZE = 8

    def __init__(self) -> None:
        self._kept: list[_Lines] = []
        self._lock = threading.Lock()

    def encoded(self, document: DocumentView) -> bytes:
        return self._lines(document).encoded

    def deflated(self, document: DocumentView) -> compression.Deflated:
        lines = self._lines(document)
        if lines.deflated is None:  # (two requests may both compress it: the same bytes)
            refuse_on_the_loop()  # milliseconds of compression: in a thread
            lines.deflated = compression.deflated(lines.encoded)
        return lines.deflated

    def _lines(self, document: DocumentView) -> _Lines:
        with self._lock:
            for lines in self._kept:
                if lines.document is document:
                    return lines
        refuse_on_the_loop()  # tens of milliseconds of Jinja: in a thread, not on the loop
        html = env.get_template("text/_provisions.html").render(document=document, open_panel=None)
        lines = _Lines(document, html.encode())
        with self._lock:
            self._kept = [lines, *self._kept[: self.SIZE - 1]]
        return lines


_kept_text = _KeptText()
env.globals.update(
    line_of=line_of,
    proposal_words=proposal_words,
    base_seal=_base_seal,
    page_size=PAGE,
)


def _truncate(text: str, length: int = 60) -> str:
    """As Jinja's `truncate` filter (leeway 5): cut at a word, with an ellipsis."""
    if len(text) <= length + 5:
        return text
    cut = text[: length - 3].rsplit(" ", 1)[0]
    return cut + "..."


@dataclass(frozen=True)
class DocumentPage:
    """What every page of one document shows in its header."""

    document: DocumentView
    negotiation: NegotiationView
    viewer: Viewer
    revisions: tuple[RevisionView, ...]
    process: ProcessState

    @property
    def latest(self) -> RevisionView | None:
        return self.revisions[-1] if self.revisions else None

    @cached_property
    def counts(self) -> StatusCounts:
        return status_counts(self.document)

    def context(self, **extra: object) -> dict[str, object]:
        return {
            "page": self,
            "document": self.document,
            "negotiation": self.negotiation,
            "viewer": self.viewer,
            "counts": self.counts,
            "export_url": export_url,
            **extra,
        }


def document_page(database: Database, viewer: Viewer, document_id: int) -> DocumentPage:
    document = document_view(database, viewer.actor, document_id)
    negotiation = negotiation_view(database, viewer.actor, document.negotiation_id)
    return DocumentPage(
        document=document,
        negotiation=negotiation,
        viewer=viewer.within(negotiation),
        revisions=revision_list(database, viewer.actor, document_id),
        process=process_state(database, document_id),
    )


@dataclass(frozen=True)
class Alternative:
    label: str
    current: bool


class DocumentRef:
    """The document in a panel's templates: its id at once, the rest read on first use."""

    def __init__(self, panel: ProvisionPanel) -> None:
        self.id = panel.provision.document_id
        self._panel = panel

    def __getattr__(self, name: str) -> object:
        return getattr(self._panel.document, name)


@dataclass(frozen=True, slots=True)
class Shown:
    """How many proposals of each kind a panel lists.

    The "show more" links ask for it (`?pending=100`); a panel that lists more than a page then
    sends it with every request made from inside it (the `X-Shown` header, added by
    rolltext.js from the state's `data-shown`), so that its live refreshes, one-click actions
    and forms keep listing what the delegate opened."""

    pending: int = PAGE
    decided: int = PAGE

    HEADER = "x-shown"
    #: The review queue, fetched again whole, sends what each of its paragraphs lists:
    #: "<provision id> <pending> <decided>", comma-separated.
    QUEUE_HEADER = "x-shown-queue"

    @property
    def header(self) -> str | None:
        """The header's value, None while the panel lists the first page of each."""
        return None if self == Shown() else f"{self.pending} {self.decided}"

    def query(self) -> str:
        return f"pending={self.pending}&decided={self.decided}"

    @classmethod
    def asked(cls, request: Request, provision_id: int) -> Shown:
        """What the request asks for this provision: its query, else its header (or the
        queue's line for it), else the first pages.

        Nonsense is refused on a read; on a change (an action answered with the panel's
        state), which has been made by the time the answer is drawn, it lists the first pages
        rather than report the change as failed."""
        query = request.query_params
        if "pending" in query or "decided" in query:
            pending, decided = query.get("pending", str(PAGE)), query.get("decided", str(PAGE))
        elif sent := request.headers.get(cls.HEADER) or _queue_line(request, provision_id):
            pending, _, decided = sent.partition(" ")
        else:
            return cls()
        if not all(n.isdecimal() and len(n) <= 7 for n in (pending, decided)):
            if request.method not in ("GET", "HEAD"):
                return cls()
            raise Invalid(
                "How many proposals to list must be whole numbers "
                f"(pending={pending!r}, decided={decided!r})."
            )
        return cls(int(pending), int(decided)).at_most()

    def at_most(self, pending: int | None = None, decided: int | None = None) -> Shown:
        """Whole pages, at least one, and no more than lists of these lengths need (when they
        are known): the panels kept for everyone are kept per count, and asking for more than
        a paragraph holds must not make another."""

        def pages(asked: int, listed: int | None) -> int:
            wanted = asked if listed is None else min(asked, listed)
            return max(-(-wanted // PAGE) * PAGE, PAGE)

        return Shown(pages(self.pending, pending), pages(self.decided, decided))


def _queue_line(request: Request, provision_id: int) -> str | None:
    """What the review queue says this provision lists ("<pending> <decided>"), if it does."""
    for line in request.headers.get(Shown.QUEUE_HEADER, "").split(","):
        pid, _, counts = line.strip().partition(" ")
        if pid == str(provision_id):
            return counts
    return None


#: Each proposal's collisions: (the other proposal's reference, the words both touch).
_ByProposal = dict[int, tuple[tuple[str, str], ...]]


class _CollisionsByProposal:
    """Each proposal's collisions (other proposal's reference, the words both touch), indexed
    once per state of a paragraph's collisions (the kept `ProvisionDetail`'s tuple, the same
    object until they change), and only the latest state per paragraph kept. At 100,000
    proposals a busy paragraph has tens of thousands of colliding pairs: indexed per request,
    they were a fifth of every panel's cost."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[tuple[Collision, ...], _ByProposal]] = {}
        self._lock = threading.Lock()

    def of(self, detail: ProvisionDetail) -> _ByProposal:
        collisions = detail.collisions
        with self._lock:
            kept = self._kept.get(detail.provision.id)
        if kept is not None and kept[0] is collisions:
            return kept[1]
        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for c in collisions:
            found[c.first].append((f"A-{c.second}", c.words))
            found[c.second].append((f"A-{c.first}", c.words))
        index = {k: tuple(v) for k, v in found.items()}
        with self._lock:
            self._kept[detail.provision.id] = (collisions, index)
        return index


_collisions_by_proposal = _CollisionsByProposal()


@dataclass
class ProvisionPanel:
    """One provision as its panel shows it: wording, history, proposals, and what you may do.

    The whole document is read only if a part of the panel needs it (the alternatives of a
    paragraph, the provisions it may be moved after), unless the page has it already.
    """

    detail: ProvisionDetail
    viewer: Viewer
    database: Database | None = None  # to read the document when needed
    known_document: DocumentView | None = None
    negotiation: NegotiationView | None = None  # when the page has read it
    on_screen: bool = False
    view: str = "panel"  # "queue" in the co-facilitators' review queue
    message: str | None = None
    error: bool = False
    #: Not read yet: the review queue shows a placeholder that loads when scrolled into view
    #: (`detail` then holds the provision alone, and `pending` only has the right length).
    deferred: bool = False
    #: The move form's list of provisions is loaded when that form is opened (the panel
    #: fragment), not sent with every panel.
    lazy_moves: bool = False
    #: Rendering the frame shared by every delegate (`_SharedPanels`): the parts that are the
    #: viewer's own come out as holes.
    framing: bool = False
    #: How many pending proposals (oldest first) and decided ones (newest first) are listed;
    #: the rest a page at a time (`Shown`).
    shown: Shown = field(default_factory=lambda: Shown())
    #: The list ("pending" or "decided") that "show more" has just added a page to: keyboard
    #: focus goes to where the page starts (`revealed_at`).
    revealed: str | None = None

    @property
    def provision(self) -> ProvisionView:
        return self.detail.provision

    @cached_property
    def document(self) -> DocumentView:
        if self.known_document is None:
            assert self.database is not None, "a panel without its document nor a database"
            self.known_document = document_view(
                self.database, self.viewer.actor, self.provision.document_id
            )
        return self.known_document

    @property
    def live(self) -> bool:
        return self.view == "panel"

    @cached_property
    def pending(self) -> list[AmendmentView]:
        if self.deferred:
            return [None] * self.provision.pending  # type: ignore[list-item]
        return [a for a in self.detail.amendments if a.state is AmendmentState.PENDING]

    @cached_property
    def decided(self) -> list[AmendmentView]:
        return [a for a in self.detail.amendments if a.state is not AmendmentState.PENDING]

    def listed(self, which: str) -> list[AmendmentView]:
        """The proposals of `which` ("pending" or "decided") listed: pending ones in the order
        they were tabled, decided ones the latest first."""
        everyone = self.pending if which == "pending" else self.decided[::-1]
        return everyone[: getattr(self.shown, which)]

    def unlisted(self, which: str) -> int:
        """How many proposals of `which` the panel does not list."""
        return max(len(getattr(self, which)) - getattr(self.shown, which), 0)

    def revealed_at(self, which: str) -> int | None:
        """Where in `which`'s list the page just added starts, if one was."""
        return getattr(self.shown, which) - PAGE if self.revealed == which else None

    def more(self, which: str) -> Shown:
        """What the panel lists with one more page of `which` ("pending" or "decided")."""
        return replace(self.shown, **{which: getattr(self.shown, which) + PAGE})

    def collisions_of(self, amendment_id: int) -> tuple[tuple[str, str], ...]:
        """(other proposal's reference, the words both touch) for each collision."""
        return _collisions_by_proposal.of(self.detail).get(amendment_id, ())

    @property
    def history(self) -> list[tuple[VersionView, Markup]]:
        """The versions, newest first, each with its change from the one before."""
        versions = self.detail.versions
        return [
            (v, version_change(versions[i - 1].text if i else "", v.text))
            for i, v in reversed(list(enumerate(versions)))
        ]

    def version_text(self, number: int | None) -> str:
        """The words of one version (the current ones if there is no such version)."""
        for v in self.detail.versions:
            if v.number == number:
                return v.text
        return self.provision.text

    @property
    def brackets(self) -> tuple[BracketGroup, ...]:
        text = self.provision.text
        return bracket_groups(text) if "[" in text and is_balanced(text) else ()

    @property
    def alternatives(self) -> list[Alternative]:
        """The paragraph and its whole-paragraph alternatives ("OP6", "OP6 alt"), if any."""
        return [
            Alternative(label, label == self.provision.label) for label in self.detail.alternatives
        ]

    @property
    def open_for_proposals(self) -> bool:
        return not self.provision.status.is_agreed and not self.provision.deleted

    @property
    def move_targets(self) -> list[ProvisionView]:
        return [p for p in self.document.provisions if p.id != self.provision.id and not p.deleted]

    @property
    def move_options(self) -> list[tuple[int, str, str]]:
        """(id, label, first words) of each provision this one may be moved after."""
        return [(p.id, p.label or "heading", _truncate(p.text)) for p in self.move_targets]

    def position_of(self, amendment: AmendmentView) -> str | None:
        """The viewer's delegation's stance on a proposal: "support", "oppose" or None."""
        if self.viewer.delegation is None:
            return None
        short = self.viewer.delegation.short
        if short in amendment.supporters:
            return "support"
        if short in amendment.opponents:
            return "oppose"
        return None

    @cached_property
    def _speaks_as(self) -> frozenset[str]:
        if self.viewer.delegation is None:
            return frozenset()
        return frozenset({self.viewer.delegation.code, *(g.code for g in self.viewer.groups)})

    def proposes(self, amendment: AmendmentView) -> bool:
        """Is the viewer among the proposal's proponents (own delegation or one of its groups)?"""
        return not self._speaks_as.isdisjoint(amendment.proponent_codes)

    @property
    def proposal_kinds(self) -> tuple[AmendmentKind, ...]:
        """Agreed text is closed to proposals, but a new provision may still follow it."""
        if self.provision.deleted:
            return ()
        if not self.open_for_proposals:
            return (AmendmentKind.INSERT_AFTER,)
        return tuple(AmendmentKind)

    def blank(self, kind: AmendmentKind | str) -> dict[str, object]:
        """A fresh proposal form: the wording form starts from the current words, to edit."""
        return {
            "text": self.provision.text if kind == AmendmentKind.WORDING else "",
            "justification": "",
            "on_behalf_of": "",
            "expected_version": self.provision.version,
            "after_id": None,
            "new_kind": self.provision.kind.value,
        }

    def can_bracket(self, amendment: AmendmentView) -> bool:
        return amendment.kind is not AmendmentKind.MOVE

    def proposal_html(self, amendment: AmendmentView) -> Markup:
        """The proposal's article, as this viewer sees it (rendered once, shared)."""
        if self.framing:
            return self.hole(f"proposal:{amendment.id}")
        return _shared_proposals.html(self, amendment)

    def hole(self, name: str) -> Markup:
        """Where a part of the viewer's own goes in a shared frame (`_SharedPanels`)."""
        return Markup(f"{_HOLE}{name}{_HOLE}")

    def context(self) -> dict[str, object]:
        return {
            "panel": self,
            "p": self.provision,
            "viewer": self.viewer,
            "document": self.known_document or DocumentRef(self),
        }


def provision_panel(
    request: Request,
    database: Database,
    viewer: Viewer,
    provision_id: int,
    *,
    view: str = "panel",
    message: str | None = None,
    error: bool = False,
    document: DocumentView | None = None,
    negotiation: NegotiationView | None = None,
    lazy_moves: bool = False,
) -> ProvisionPanel:
    """Read one provision's panel; a page showing many passes the document it already read."""
    detail = provision_detail(database, viewer.actor, provision_id)
    document_id = detail.provision.document_id
    if document is not None and document.id != document_id:
        document = None
    panel = ProvisionPanel(
        detail=detail,
        viewer=_within(database, viewer, document_id, negotiation),
        database=database,
        known_document=document,
        negotiation=negotiation,
        on_screen=screen_of(request.app).current(document_id) == provision_id,
        view="queue" if view == "queue" else "panel",
        message=message,
        error=error,
        lazy_moves=lazy_moves,
        shown=Shown.asked(request, provision_id),
        revealed=_revealed(request),
    )
    panel.shown = panel.shown.at_most(len(panel.pending), len(panel.decided))
    return panel


def _revealed(request: Request) -> str | None:
    """The list a "show more" link asked a page more of (a focus hint: anything else is none)."""
    more = request.query_params.get("more")
    return more if request.method == "GET" and more in ("pending", "decided") else None


def _within(
    database: Database, viewer: Viewer, document_id: int, negotiation: NegotiationView | None
) -> Viewer:
    """The viewer on a page of this document: co-facilitator of its negotiation, or not.

    Only a co-facilitator's account can be one; which delegations facilitate a negotiation is
    set when it is created and never changes, so it is read once per process.
    """
    if viewer.actor.role is not Role.COFACILITATOR:
        return viewer
    if negotiation is None:
        cache = views_of(database)
        negotiation_id = cache.constant(
            ("negotiation of", document_id),
            lambda: document_view(database, viewer.actor, document_id).negotiation_id,
        )
        negotiation = cache.constant(
            ("co-facilitators of", negotiation_id),
            lambda: documents.get_negotiation(
                database, viewer=viewer.actor, negotiation_id=negotiation_id
            ),
        )
    return viewer.within(negotiation)


def deferred_panel(
    request: Request,
    viewer: Viewer,
    provision: ProvisionView,
    *,
    view: str,
    document: DocumentView,
    negotiation: NegotiationView,
) -> ProvisionPanel:
    """A provision's panel before it is read (the review queue of a large document)."""
    return ProvisionPanel(
        detail=ProvisionDetail(provision=provision, versions=(), amendments=()),
        viewer=viewer.within(negotiation),
        known_document=document,
        negotiation=negotiation,
        on_screen=screen_of(request.app).current(document.id) == provision.id,
        view="queue" if view == "queue" else "panel",
        deferred=True,
        # what the queue listed of it before it was fetched again, for when it is read
        shown=Shown.asked(request, provision.id).at_most(pending=provision.pending),
    )


def prepare_panel(app: FastAPI, database: Database, delegate: Viewer, provision_id: int) -> None:
    """Compute a provision's shared panel frame ahead of the first delegate who opens it
    (`app.web.warm`)."""
    panel = ProvisionPanel(
        detail=provision_detail(database, delegate.actor, provision_id),
        viewer=delegate,
        database=database,
        lazy_moves=True,
    )
    request = Request({"type": "http", "app": app, "headers": [], "query_string": b""})
    _shared_panels.html(request, "text/_panel.html", panel)


def render_panel(
    request: Request, template: str, panel: ProvisionPanel, *, status_code: int = 200
) -> Response:
    """A panel, or its live state: a delegate's from the shared frame, others' rendered."""
    if _SharedPanels.shares(panel):
        html = _shared_panels.html(request, template, panel)
        return html_response(request, html, status_code=status_code)
    refuse_on_the_loop()  # rendered whole (up to tens of milliseconds): in a thread
    return render(request, template, panel.context(), status_code=status_code)


def render_state(request: Request, panel: ProvisionPanel, *, status_code: int = 200) -> Response:
    """The live part of a panel: what every one-click action answers with."""
    return render_panel(request, "text/_state.html", panel, status_code=status_code)


def act(
    request: Request,
    database: Database,
    viewer: Viewer,
    *,
    provision_id: int | Callable[[], int],
    view: str,
    action: Callable[[], str],
) -> Response:
    """Run a one-click action, then answer with the provision's fresh state and the outcome.

    A refusal (agreed text, a stale version, a decided proposal…) is shown at the top of the
    same state, re-read from the database, with the refusal's status code (HTMX swaps 4xx).
    Without HTMX the whole provision page is the answer.
    """
    status_code = 200
    try:
        message, error = action(), False
    except DomainError as exc:
        message, error, status_code = exc.message, True, status_of(exc)
    pid = provision_id if isinstance(provision_id, int) else provision_id()
    panel = provision_panel(request, database, viewer, pid, view=view, message=message, error=error)
    if not is_htmx(request):
        return full_page(request, database, viewer, panel, status_code=status_code)
    return render_state(request, panel, status_code=status_code)


def full_page(
    request: Request,
    database: Database,
    viewer: Viewer,
    panel: ProvisionPanel,
    *,
    status_code: int = 200,
) -> Response:
    """The provision's own page: the answer to a form sent without HTMX."""
    page = document_page(database, viewer, panel.provision.document_id)
    panel.known_document = page.document
    return render(
        request, "text/provision.html", page.context(**panel.context()), status_code=status_code
    )


# -- routes ------------------------------------------------------------------------------------


# Each route is `async` and answers in one thread hop, the viewer looked up in it (`Visit`):
# these are the reads every open page re-fetches when the text changes.


@router.get("/documents/{document_id}")
async def text_page(
    document_id: int, request: Request, visit: VisitDep, open: int | None = None
) -> Response:
    def text(viewer: Viewer) -> Response:
        page = document_page(visit.database, viewer, document_id)
        panel = None
        if open is not None and any(p.id == open for p in page.document.provisions):
            panel = provision_panel(
                request,
                visit.database,
                viewer,
                open,
                document=page.document,
                negotiation=page.negotiation,
            )
            return render(request, "text/document.html", page.context(open_panel=panel))
        return render_around(
            request,
            "text/document.html",
            page.context(open_panel=None),
            part="provisions",
            kept=_kept_text.encoded(page.document),
            packed=_kept_text.deflated(page.document) if accepts_gzip_here() else None,
        )

    return await visit.run(text)


@router.get("/documents/{document_id}/provisions")
async def provision_list(document_id: int, request: Request, visit: VisitDep) -> Response:
    """The whole list, re-fetched when the structure changes; open panels survive (hx-preserve)."""

    def provisions(viewer: Viewer) -> Response:
        page = document_page(visit.database, viewer, document_id)
        return render(request, "text/_provisions.html", page.context(open_panel=None))

    return await visit.run(provisions)


@router.get("/provisions/{provision_id}")
async def provision_page(provision_id: int, request: Request, visit: VisitDep) -> Response:
    """A provision on a page of its own: a link to share, and the panel without JavaScript."""
    return await visit.run(
        lambda viewer: full_page(
            request,
            visit.database,
            viewer,
            provision_panel(request, visit.database, viewer, provision_id),
        )
    )


@router.get("/documents/{document_id}/lines/{provision_id}")
async def provision_line(
    document_id: int, provision_id: int, request: Request, visit: VisitDep
) -> Response:
    """One provision's line in the text: label, words, status, pending count.

    A provision a revision took out of the text answers with nothing: its line disappears.
    """

    def line(viewer: Viewer) -> Response:
        document = document_view(visit.database, viewer.actor, document_id)
        provision = next((p for p in document.provisions if p.id == provision_id), None)
        if provision is None:
            return Response(status_code=200, media_type="text/html")
        return render(request, "text/_line.html", {"p": provision, "document": document})

    return await visit.run(line)


@router.get("/provisions/{provision_id}/panel")
async def provision_panel_fragment(
    provision_id: int, request: Request, visit: VisitDep
) -> Response:
    return await visit.run(
        lambda viewer: render_panel(
            request,
            "text/_panel.html",
            provision_panel(request, visit.database, viewer, provision_id, lazy_moves=True),
        )
    )


@router.get("/provisions/{provision_id}/move-targets")
async def move_targets(provision_id: int, request: Request, visit: VisitDep) -> Response:
    """The options of a panel's move form, loaded when the form is opened."""
    return await visit.run(
        lambda viewer: render(
            request,
            "proposals/_move_options.html",
            {
                "panel": provision_panel(request, visit.database, viewer, provision_id),
                "selected": None,
            },
        )
    )


@router.get("/provisions/{provision_id}/state")
async def provision_state(
    provision_id: int, request: Request, visit: VisitDep, view: str = "panel"
) -> Response:
    return await visit.run(
        lambda viewer: render_state(
            request, provision_panel(request, visit.database, viewer, provision_id, view=view)
        )
    )
