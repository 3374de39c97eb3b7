"""The overview: where the text is disputed, who is proposing, how agreement grows.

Charts are SVG drawn on the server (no JavaScript library): the geometry is computed here, the
template only places rectangles and words, and each chart has its figures as a table too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from fastapi import Request
from starlette.responses import Response

from app.db.session import Database
from app.domain.amendments import AmendmentState
from app.domain.brackets import count_brackets
from app.domain.labels import ProvisionKind, Scheme
from app.domain.provisions import ProvisionStatus
from app.services import amendments, revisions
from app.services.views import AmendmentView, DocumentView
from app.web.deps import DatabaseDep
from app.web.pages.routing import PageRoute
from app.web.pages.text import document_page
from app.web.pages.viewer import Viewer, ViewerDep
from app.web.router import Router
from app.web.templating import render

router = Router(route_class=PageRoute, include_in_schema=False)

BAR = 22  # height of one bar
GAP = 10
LABEL_WIDTH = 260
CHART_WIDTH = 720
MAX_ROWS = 20


@dataclass(frozen=True)
class Segment:
    value: int
    css: str  # the class giving its colour (legend and bar share it)
    name: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Row:
    label: str
    segments: list[Segment] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


@dataclass(frozen=True)
class BarChart:
    """Horizontal stacked bars, one row per section or delegation."""

    title: str
    rows: tuple[Row, ...]
    legend: tuple[tuple[str, str], ...]  # (css class, name)
    unit: str

    @property
    def height(self) -> int:
        return len(self.rows) * (BAR + GAP) + GAP

    @property
    def width(self) -> int:
        return LABEL_WIDTH + CHART_WIDTH + 60

    @property
    def scale(self) -> float:
        top = max((r.total for r in self.rows), default=0)
        return CHART_WIDTH / top if top else 0.0

    def rects(self) -> list[tuple[int, Row, list[Rect], float]]:
        """(row index, row, its rectangles, y of its text baseline)."""
        out = []
        for i, row in enumerate(self.rows):
            y = GAP + i * (BAR + GAP)
            x = float(LABEL_WIDTH)
            rects = []
            for s in row.segments:
                if not s.value:
                    continue
                w = s.value * self.scale
                rects.append(Rect(x, y, w, BAR, s.css, f"{row.label}: {s.value} {s.name}"))
                x += w
            out.append((i, row, rects, y + BAR * 0.7))
        return out

    def end_of(self, row: Row) -> float:
        return LABEL_WIDTH + row.total * self.scale + 6


@dataclass(frozen=True)
class Column:
    label: str
    sublabel: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class ColumnChart:
    """Stacked columns over time: one per revision, and the rolling text now."""

    title: str
    columns: tuple[Column, ...]
    legend: tuple[tuple[str, str], ...]
    height: int = 260
    column_width: int = 70
    spacing: int = 90
    top: int = 20
    bottom: int = 46

    @property
    def width(self) -> int:
        return 60 + len(self.columns) * (self.column_width + self.spacing)

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def maximum(self) -> int:
        return max((sum(s.value for s in c.segments) for c in self.columns), default=0) or 1

    def rects(self) -> list[tuple[Column, float, list[Rect]]]:
        out = []
        for i, column in enumerate(self.columns):
            x = 50 + i * (self.column_width + self.spacing)
            y = float(self.top + self.plot_height)
            rects = []
            for s in column.segments:
                if not s.value:
                    continue
                h = s.value * self.plot_height / self.maximum
                y -= h
                rects.append(
                    Rect(x, y, self.column_width, h, s.css, f"{column.label}: {s.value} {s.name}")
                )
            out.append((column, x + self.column_width / 2, rects))
        return out


STATUS_ORDER = (
    ProvisionStatus.AGREED,
    ProvisionStatus.AGREED_AD_REF,
    ProvisionStatus.AGREED_PENDING,
    ProvisionStatus.OPEN,
    ProvisionStatus.NOT_DISCUSSED,
)
STATE_ORDER = (
    AmendmentState.PENDING,
    AmendmentState.ACCEPTED,
    AmendmentState.BRACKETED,
    AmendmentState.SUPERSEDED,
    AmendmentState.REJECTED,
    AmendmentState.WITHDRAWN,
)


def _section_name(p_label: str, text: str) -> str:
    name = f"{p_label} {text}".strip()
    return name if len(name) <= 34 else name[:33].rstrip() + "…"


def sections(document: DocumentView) -> list[tuple[str, list[int]]]:
    """Top-level headings, or the preamble and operative part: (name, provision ids)."""
    found: list[tuple[str, list[int]]] = []
    has_headings = any(
        p.depth == 0 and p.kind is ProvisionKind.HEADING for p in document.provisions
    )
    resolution = document.scheme is Scheme.RESOLUTION
    for p in document.provisions:
        if p.depth == 0:
            if p.kind is ProvisionKind.HEADING:
                found.append((_section_name(p.label, p.text), []))
            elif not found or (not has_headings and resolution):
                name = (
                    "Preamble"
                    if p.kind is ProvisionKind.PREAMBULAR
                    else "Operative part"
                    if p.kind is ProvisionKind.OPERATIVE
                    else "Opening paragraphs"
                )
                if not found or found[-1][0] != name:
                    found.append((name, []))
        if found:
            found[-1][1].append(p.id)
    return found


def disputes_chart(document: DocumentView) -> BarChart:
    by_id = {p.id: p for p in document.provisions}
    rows = []
    for name, ids in sections(document):
        live = [by_id[i] for i in ids if not by_id[i].deleted]
        rows.append(
            Row(
                name,
                [
                    Segment(sum(count_brackets(p.text) for p in live), "brackets", "brackets"),
                    Segment(sum(p.pending for p in live), "pending", "pending proposals"),
                ],
            )
        )
    return BarChart(
        "Brackets and pending proposals by section",
        tuple(rows),
        (("brackets", "brackets"), ("pending", "pending proposals")),
        "",
    )


def all_proposals(database: Database, viewer: Viewer, document_id: int) -> list[AmendmentView]:
    found: list[AmendmentView] = []
    while True:
        page = amendments.list_amendments(
            database, viewer=viewer.actor, document_id=document_id, limit=1000, offset=len(found)
        )
        found.extend(page)
        if len(page) < 1000:
            return found


def proponents_chart(proposals: list[AmendmentView]) -> BarChart:
    counts: dict[str, Counter[AmendmentState]] = defaultdict(Counter)
    for a in proposals:
        for who in a.proponents:
            counts[who][a.state] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    rows = [
        Row(who, [Segment(c[s], f"state-{s.value}", s.value) for s in STATE_ORDER])
        for who, c in ranked[:MAX_ROWS]
    ]
    if len(ranked) > MAX_ROWS:
        rest: Counter[AmendmentState] = Counter()
        for _, c in ranked[MAX_ROWS:]:
            rest.update(c)
        rows.append(
            Row(
                f"{len(ranked) - MAX_ROWS} others",
                [Segment(rest[s], f"state-{s.value}", s.value) for s in STATE_ORDER],
            )
        )
    return BarChart(
        "Proposals by delegation or group",
        tuple(rows),
        tuple((f"state-{s.value}", s.value) for s in STATE_ORDER),
        "proposals",
    )


def agreement_chart(database: Database, viewer: Viewer, document: DocumentView) -> ColumnChart:
    columns = []
    for summary in revisions.list_revisions(database, viewer=viewer.actor, document_id=document.id):
        revision = revisions.get_revision(
            database, viewer=viewer.actor, document_id=document.id, ref=str(summary.seq)
        )
        counts = Counter(e.status for e in revision.entries)
        columns.append(
            Column(
                revision.name,
                f"{revision.issued_on.day} {revision.issued_on:%b %Y}",
                tuple(Segment(counts[s], f"st-{s.value}", s.display) for s in STATUS_ORDER),
            )
        )
    now = Counter(p.status for p in document.provisions if not p.deleted)
    columns.append(
        Column(
            "Now",
            "rolling text",
            tuple(Segment(now[s], f"st-{s.value}", s.display) for s in STATUS_ORDER),
        )
    )
    return ColumnChart(
        "Provisions by status, revision by revision",
        tuple(columns),
        tuple((f"st-{s.value}", s.display) for s in STATUS_ORDER),
    )


def dashboard_context(
    database: Database, viewer: Viewer, document: DocumentView
) -> dict[str, object]:
    proposals = all_proposals(database, viewer, document.id)
    return {
        "disputes": disputes_chart(document),
        "proponents": proponents_chart(proposals),
        "agreement": agreement_chart(database, viewer, document),
        "proposal_total": len(proposals),
        "bracket_total": sum(count_brackets(p.text) for p in document.provisions if not p.deleted),
    }


@router.get("/documents/{document_id}/overview")
def overview_page(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    page = document_page(database, viewer, document_id)
    return render(
        request,
        "overview/dashboard.html",
        page.context(**dashboard_context(database, viewer, page.document)),
    )


@router.get("/documents/{document_id}/overview/charts")
def overview_charts(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The charts alone, re-drawn live when anything changes."""
    page = document_page(database, viewer, document_id)
    return render(
        request,
        "overview/_charts.html",
        page.context(**dashboard_context(database, viewer, page.document)),
    )
