"""The calendar of a negotiation: its meetings, the related processes around it, and their
links to the revisions and deadlines they concern.

Dates stay as uncertain as they were written (app/domain/calendar.py): the calendar sorts and
filters by the first and last day a date may be, and says "date to be determined" rather than
inventing a day. Exports say it too: the iCalendar file places only what can be placed (a day,
days, a month, a quarter) and leaves the rest out, counted; CSV carries everything, with the
EDTF next to the date as written. Anyone signed in reads the calendar; the secretariat and the
co-facilitators of the negotiation keep it.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import timeutil
from app.db.models import Meeting, MeetingLink, Negotiation, Revision, Round
from app.db.session import Database
from app.domain.calendar import (
    DateForm,
    DateTextError,
    FuzzyDate,
    MeetingDraft,
    MeetingKind,
    from_edtf,
    make_draft,
    read_mapping_table,
)
from app.domain.deadlines import describe, zone
from app.domain.errors import Invalid, NotFound
from app.domain.roles import Actor
from app.services import events
from app.services.permissions import Action, require, require_in_negotiation
from app.services.text import cofacilitator_ids, get_document

MAPPING_SOURCE = "Mapping of upcoming processes, Ver. 1 as of 17 November 2016"
LINK_ROLES = ("basis", "outcome", "deadline")
MAX_IMPORT = 5_000_000
ICS = "text/calendar"
CSV_COLUMNS = (
    "date_text",
    "edtf",
    "start_time",
    "end_time",
    "timezone",
    "kind",
    "title",
    "description",
    "note",
    "location",
    "location_tbc",
    "focal_points",
    "regional",
    "source",
)


# -- views ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeetingLinkView:
    id: int
    role: str
    revision_id: int | None
    revision: str | None
    document_id: int | None
    round_id: int | None
    round: str | None
    deadline: str | None


@dataclass(frozen=True, slots=True)
class MeetingView:
    id: int
    negotiation_id: int
    kind: MeetingKind
    title: str
    description: str | None
    note: str | None
    date_text: str
    edtf: str
    date_form: DateForm
    when: str  # the date in UN style, e.g. "2–3 December 2016", "third quarter of 2017"
    earliest: date | None
    latest: date | None
    dated: bool
    start_time: str | None
    end_time: str | None
    timezone: str | None
    location: str | None
    location_tbc: bool
    focal_points: tuple[str, ...]
    regional: bool
    source: str | None
    links: tuple[MeetingLinkView, ...] = ()

    @property
    def place(self) -> str:
        """As a calendar prints it: "Geneva (TBC)", "place to be determined", or ""."""
        if self.location and self.location_tbc:
            return f"{self.location} (TBC)"
        if self.location:
            return self.location
        return "place to be determined" if self.location_tbc else ""

    @property
    def exact_date(self) -> bool:
        """Known to the day (one day, or consecutive days)."""
        return self.date_form in (DateForm.EXACT, DateForm.DAYS)

    @property
    def hours(self) -> str:
        if not self.start_time:
            return ""
        hours = self.start_time + (f"–{self.end_time}" if self.end_time else "")
        return f"{hours} ({self.timezone})" if self.timezone else hours


@dataclass(frozen=True, slots=True)
class CalendarView:
    """The meetings that pass the filters, in date order (undated last), and the values each
    filter can take, so a page can offer them."""

    negotiation_id: int
    meetings: tuple[MeetingView, ...]
    total: int
    focal_points: tuple[str, ...]
    places: tuple[str, ...]
    years: tuple[int, ...]
    kinds: tuple[MeetingKind, ...]


@dataclass(frozen=True, slots=True)
class Upcoming:
    """The next meetings for a negotiation's home page."""

    negotiation_id: int
    meetings: tuple[MeetingView, ...]
    today: date
    undated: int  # meetings whose date is still to be determined (or only bounded)
    #: When nothing dated lies ahead, the last meetings held, latest first (a finished
    #: negotiation, or the demo's 2016 one, still shows where things stood).
    recent: tuple[MeetingView, ...] = ()


@dataclass(frozen=True, slots=True)
class CalendarFile:
    filename: str
    content: bytes
    media_type: str
    included: int = 0
    left_out: tuple[tuple[str, int], ...] = ()  # (reason, count)


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    meetings: tuple[MeetingView, ...]
    saved: bool


# -- reading ----------------------------------------------------------------------------------


def list_meetings(
    database: Database,
    *,
    negotiation_id: int,
    viewer: Actor,
    focal_point: str | None = None,
    place: str | None = None,
    year: int | None = None,
    kind: MeetingKind | None = None,
    regional: bool | None = None,
    undated: bool | None = None,
) -> CalendarView:
    """The calendar, filtered. `year` keeps what may fall in that year; `undated=True` keeps
    what has no block of days yet (to be determined, bounded, recurring)."""
    require(viewer, Action.READ)
    with database.read() as db:
        _negotiation(db, negotiation_id)
        every = _views(db, _rows(db, negotiation_id))
    chosen = [
        m
        for m in every
        if (focal_point is None or _same(focal_point, m.focal_points))
        and (place is None or (m.location or "").casefold() == place.casefold())
        and (year is None or year in _years(m))
        and (kind is None or m.kind is kind)
        and (regional is None or m.regional is regional)
        and (undated is None or (not _years(m)) is undated)
    ]
    return CalendarView(
        negotiation_id=negotiation_id,
        meetings=tuple(chosen),
        total=len(every),
        focal_points=tuple(sorted({p for m in every for p in m.focal_points}, key=str.casefold)),
        places=tuple(sorted({m.location for m in every if m.location}, key=str.casefold)),
        years=tuple(sorted({y for m in every for y in _years(m)})),
        kinds=tuple(k for k in MeetingKind if any(m.kind is k for m in every)),
    )


def get_meeting(database: Database, *, meeting_id: int, viewer: Actor) -> MeetingView:
    require(viewer, Action.READ)
    with database.read() as db:
        return _views(db, [_meeting(db, meeting_id)])[0]


def upcoming(
    database: Database,
    negotiation_id: int,
    limit: int = 3,
    *,
    today: date | None = None,
) -> Upcoming:
    """The next `limit` meetings that may still take place (the last day they may be is today
    or later), soonest first: for the negotiation's home page."""
    today = today or timeutil.utcnow().date()
    with database.read() as db:
        _negotiation(db, negotiation_id)
        rows = db.scalars(
            select(Meeting)
            .where(
                Meeting.negotiation_id == negotiation_id,
                Meeting.earliest.is_not(None),
                Meeting.latest >= today,
            )
            .order_by(Meeting.earliest, Meeting.latest, Meeting.id)
            .limit(max(limit, 0))
        ).all()
        undated = len(
            db.scalars(
                select(Meeting.id).where(
                    Meeting.negotiation_id == negotiation_id,
                    (Meeting.earliest.is_(None)) | (Meeting.latest.is_(None)),
                )
            ).all()
        )
        recent = ()
        if not rows:
            past = db.scalars(
                select(Meeting)
                .where(Meeting.negotiation_id == negotiation_id, Meeting.latest < today)
                .order_by(Meeting.latest.desc(), Meeting.id.desc())
                .limit(max(limit, 0))
            ).all()
            recent = tuple(_views(db, past))
        return Upcoming(negotiation_id, tuple(_views(db, rows)), today, undated, recent)


# -- keeping the calendar ---------------------------------------------------------------------


def draft(**fields: Any) -> MeetingDraft:
    """`make_draft` for the web layer: a date or time it cannot read is a 422 with the reason."""
    try:
        return make_draft(**fields)
    except (DateTextError, ValueError) as exc:
        raise Invalid(str(exc)) from exc


def add_meeting(
    database: Database, *, actor: Actor, negotiation_id: int, draft: MeetingDraft
) -> MeetingView:
    with database.write() as db:
        _require_keeper(db, actor, negotiation_id)
        row = _store(db, negotiation_id, draft, actor)
        _record(db, "meeting.added", actor, row)
        db.flush()
        return _views(db, [row])[0]


def update_meeting(
    database: Database, *, actor: Actor, meeting_id: int, draft: MeetingDraft
) -> MeetingView:
    """Replace what is known of a meeting: a date fixed at last, a place confirmed."""
    with database.write() as db:
        row = _meeting(db, meeting_id)
        _require_keeper(db, actor, row.negotiation_id)
        before = _snapshot(row)
        _fill(row, draft)
        _record(db, "meeting.updated", actor, row, before=before)
        db.flush()
        return _views(db, [row])[0]


def delete_meeting(database: Database, *, actor: Actor, meeting_id: int) -> None:
    with database.write() as db:
        row = _meeting(db, meeting_id)
        _require_keeper(db, actor, row.negotiation_id)
        for link in db.scalars(select(MeetingLink).where(MeetingLink.meeting_id == row.id)):
            db.delete(link)
        db.flush()  # the links go first: they refer to the meeting
        _record(db, "meeting.deleted", actor, row, before=_snapshot(row))
        db.delete(row)


def link_meeting(
    database: Database,
    *,
    actor: Actor,
    meeting_id: int,
    role: str,
    revision_id: int | None = None,
    round_id: int | None = None,
) -> MeetingView:
    """Say what a meeting concerns: the revision discussed ("basis"), the revision issued after
    it ("outcome"), or the round of written proposals whose deadline it prepares ("deadline")."""
    if role not in LINK_ROLES:
        raise Invalid(f"A link is one of: {', '.join(LINK_ROLES)}.")
    if (revision_id is None) == (round_id is None):
        raise Invalid("Link a meeting to one revision or one round of proposals.")
    if role == "deadline" and round_id is None:
        raise Invalid("A deadline link names a round of written proposals (round_id).")
    with database.write() as db:
        row = _meeting(db, meeting_id)
        _require_keeper(db, actor, row.negotiation_id)
        if revision_id is not None:
            revision = db.get(Revision, revision_id)
            if revision is None or _negotiation_of(db, revision.document_id) != row.negotiation_id:
                raise NotFound(f"This negotiation has no revision {revision_id}.")
        if round_id is not None:
            found = db.get(Round, round_id)
            if found is None or _negotiation_of(db, found.document_id) != row.negotiation_id:
                raise NotFound(f"This negotiation has no round {round_id}.")
        db.add(
            MeetingLink(meeting_id=row.id, role=role, revision_id=revision_id, round_id=round_id)
        )
        db.flush()
        events.record(
            db,
            kind="meeting.linked",
            actor=actor,
            subject="meeting",
            subject_id=row.id,
            negotiation_id=row.negotiation_id,
            role=role,
            revision_id=revision_id,
            round_id=round_id,
        )
        return _views(db, [row])[0]


def unlink_meeting(database: Database, *, actor: Actor, meeting_id: int, link_id: int) -> None:
    with database.write() as db:
        row = _meeting(db, meeting_id)
        _require_keeper(db, actor, row.negotiation_id)
        link = db.get(MeetingLink, link_id)
        if link is None or link.meeting_id != row.id:
            raise NotFound(f"Meeting {meeting_id} has no link {link_id}.")
        events.record(
            db,
            kind="meeting.unlinked",
            actor=actor,
            subject="meeting",
            subject_id=row.id,
            negotiation_id=row.negotiation_id,
            role=link.role,
            revision_id=link.revision_id,
            round_id=link.round_id,
        )
        db.delete(link)


# -- imports ----------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[MeetingDraft]:
    """Meetings from CSV: Rolltext's own export, or a sheet with the mapping's columns
    (Month/year, Event, Location, Focal Point). Every row is checked; any bad row refuses the
    whole file with the row numbers, so nothing is half imported."""
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise Invalid("The CSV file is empty.")
    names = {_column(n): n for n in reader.fieldnames if n}
    if "title" not in names:
        raise Invalid(
            "The CSV file needs a 'title' (or 'Event') column; Rolltext's own export has "
            + ", ".join(CSV_COLUMNS)
            + "."
        )
    drafts: list[MeetingDraft] = []
    problems: list[str] = []
    for number, raw in enumerate(reader, start=2):
        row = {field: (raw.get(original) or "").strip() for field, original in names.items()}
        if not any(row.values()):
            continue
        try:
            drafts.append(
                make_draft(
                    title=row.get("title", ""),
                    date_text=row.get("date_text"),
                    edtf=row.get("edtf"),
                    kind=row.get("kind") or MeetingKind.RELATED,
                    description=row.get("description"),
                    note=row.get("note"),
                    location=row.get("location"),
                    location_tbc=_yes(row["location_tbc"]) if "location_tbc" in row else None,
                    focal_points=row.get("focal_points", ""),
                    regional=_yes(row.get("regional", "")),
                    start_time=row.get("start_time"),
                    end_time=row.get("end_time"),
                    timezone=row.get("timezone"),
                    source=row.get("source"),
                )
            )
        except (DateTextError, ValueError) as exc:
            problems.append(f"line {number}: {exc}")
    if problems:
        raise Invalid("The CSV file cannot be imported: " + "; ".join(problems[:20]) + ".")
    if not drafts:
        raise Invalid("The CSV file has no meetings.")
    return drafts


def read_docx_table(data: bytes) -> list[MeetingDraft]:
    """Meetings from the tables of a Word document laid out like the Secretariat's mapping."""
    from app.docx.safety import DOCUMENT, open_docx, w

    package = open_docx(data, max_bytes=MAX_IMPORT)
    body = package.xml(DOCUMENT)
    rows: list[list[list[str]]] = []
    for table in body.iter(w("tbl")):
        for tr in table.iter(w("tr")):
            cells = []
            for tc in tr.findall(w("tc")):
                cells.append(
                    ["".join(t.text or "" for t in p.iter(w("t"))) for p in tc.iter(w("p"))]
                )
            rows.append(cells)
    if not rows:
        raise Invalid("This Word document has no table; the calendar is read from a table.")
    try:
        return read_mapping_table(rows, source="Word table")
    except DateTextError as exc:
        raise Invalid(str(exc)) from exc


def _paragraphs(cell: Any, w: Any) -> list[str]:
    """The text of each paragraph of a table cell (inserted text included, deleted left out)."""
    return ["".join(t.text or "" for t in p.iter(w("t"))) for p in cell.iter(w("p"))]


def import_meetings(
    database: Database,
    *,
    actor: Actor,
    negotiation_id: int,
    data: bytes,
    filename: str = "",
    save: bool = True,
) -> ImportReport:
    """A .csv or a .docx table becomes meetings, all in one transaction (or, `save=False`, only
    says what would be added)."""
    if len(data) > MAX_IMPORT:
        raise Invalid(f"A calendar file is at most {MAX_IMPORT // 1_000_000} MB.")
    if data.startswith(b"PK") or filename.lower().endswith(".docx"):
        drafts = read_docx_table(data)
    else:
        drafts = read_csv(data)
    with database.write() as db:
        _require_keeper(db, actor, negotiation_id)
        if not save:
            previews = [_preview(negotiation_id, d) for d in drafts]
            return ImportReport(created=0, meetings=tuple(previews), saved=False)
        rows = [_store(db, negotiation_id, d, actor) for d in drafts]
        db.flush()
        events.record(
            db,
            kind="calendar.imported",
            actor=actor,
            subject="negotiation",
            subject_id=negotiation_id,
            negotiation_id=negotiation_id,
            meetings=len(rows),
            filename=filename[:200],
        )
        return ImportReport(created=len(rows), meetings=tuple(_views(db, rows)), saved=True)


# -- exports ----------------------------------------------------------------------------------

LEFT_OUT = {
    DateForm.UNKNOWN: "date to be determined",
    DateForm.BOUND: "only a bound ('no later than')",
    DateForm.RECURRING: "recurring, no year given",
    DateForm.YEAR: "only the year is known",
    DateForm.SPAN: "only the years are known",
}


def export_ics(database: Database, *, negotiation_id: int, viewer: Actor) -> CalendarFile:
    """An iCalendar file of every meeting that can be placed. Exact days are all-day events
    (or timed, in their time zone, when the hours are known); a month or a quarter is an
    all-day event across it, TENTATIVE, its uncertainty said in the description. Meetings
    without a block of days are left out and counted in the calendar's description."""
    import icalendar

    view = list_meetings(database, negotiation_id=negotiation_id, viewer=viewer)
    with database.read() as db:
        negotiation = _negotiation(db, negotiation_id)
        symbol, title = negotiation.symbol, negotiation.title
        stamps = dict(
            db.execute(
                select(Meeting.id, Meeting.created_at).where(
                    Meeting.negotiation_id == negotiation_id
                )
            ).all()
        )
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Rolltext//Negotiation calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{symbol} — meetings")
    left: Counter[str] = Counter()
    included = 0
    for meeting in view.meetings:
        if not meeting.dated:
            left[LEFT_OUT.get(meeting.date_form, "not placed")] += 1
            continue
        included += 1
        cal.add_component(_event(icalendar, meeting, stamps.get(meeting.id)))
    summary = f"Meetings of {title}. {included} placed in the calendar."
    if left:
        summary += (
            f" {sum(left.values())} left out because they have no date to place yet: "
            + "; ".join(f"{n} {reason}" for reason, n in left.most_common())
            + ". The full list is in the CSV export."
        )
    cal.add("x-wr-caldesc", summary)
    timed = [m.earliest for m in view.meetings if m.dated and m.start_time and m.earliest]
    if timed:  # VTIMEZONE rules only for the years the timed meetings are in
        cal.add_missing_timezones(
            first_date=date(min(timed).year, 1, 1), last_date=date(max(timed).year + 1, 1, 1)
        )
    return CalendarFile(
        filename=f"{_slug(symbol)}_meetings.ics",
        content=cal.to_ical(),
        media_type=ICS,
        included=included,
        left_out=tuple(left.most_common()),
    )


def export_csv(database: Database, *, negotiation_id: int, viewer: Actor) -> CalendarFile:
    """Every meeting, dated or not, with its EDTF next to the date as written: the CSV reads
    back with `import_meetings`."""
    view = list_meetings(database, negotiation_id=negotiation_id, viewer=viewer)
    with database.read() as db:
        symbol = _negotiation(db, negotiation_id).symbol
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for m in view.meetings:
        writer.writerow(
            [
                m.date_text,
                m.edtf,
                m.start_time or "",
                m.end_time or "",
                m.timezone or "",
                m.kind.value,
                m.title,
                m.description or "",
                m.note or "",
                m.location or "",
                "yes" if m.location_tbc else "",
                ", ".join(m.focal_points),
                "yes" if m.regional else "",
                m.source or "",
            ]
        )
    return CalendarFile(
        filename=f"{_slug(symbol)}_meetings.csv",
        content=out.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        included=len(view.meetings),
    )


# -- the demo ---------------------------------------------------------------------------------


def demo_calendar() -> dict[str, Any]:
    with resources.files("app.demo").joinpath("mapping.toml").open("rb") as f:
        return tomllib.load(f)


def load_demo_calendar(
    database: Database, *, actor: Actor, negotiation_id: int, document_id: int
) -> int:
    """The demo's calendar (app/demo/mapping.toml): the co-facilitators' meetings of November
    and December 2016, linked to the revisions they concern, and every row of the seed's
    mapping of upcoming processes. Returns the number of meetings added."""
    entries = demo_calendar()["meeting"]
    with database.write() as db:
        _require_keeper(db, actor, negotiation_id)
        revisions = {
            r.name: r.id
            for r in db.scalars(select(Revision).where(Revision.document_id == document_id))
        }
        for number, entry in enumerate(entries, start=1):
            fields = {k: v for k, v in entry.items() if k != "links"}
            fields.setdefault("source", MAPPING_SOURCE)
            try:
                draft = make_draft(**fields)
            except DateTextError as exc:
                raise Invalid(f"Demo meeting {number} ({entry.get('title')}): {exc}") from exc
            row = _store(db, negotiation_id, draft, actor)
            for link in entry.get("links", []):
                if link["revision"] not in revisions:
                    raise Invalid(f"Demo meeting {number} names no revision {link['revision']!r}.")
                db.add(
                    MeetingLink(
                        meeting_id=row.id,
                        role=link["role"],
                        revision_id=revisions[link["revision"]],
                    )
                )
        db.flush()
        events.record(
            db,
            kind="calendar.imported",
            actor=actor,
            subject="negotiation",
            subject_id=negotiation_id,
            negotiation_id=negotiation_id,
            meetings=len(entries),
            filename="mapping.toml",
        )
    return len(entries)


# -- helpers ----------------------------------------------------------------------------------


def _negotiation(db: Session, negotiation_id: int) -> Negotiation:
    negotiation = db.get(Negotiation, negotiation_id)
    if negotiation is None:
        raise NotFound(f"There is no negotiation {negotiation_id}.")
    return negotiation


def _meeting(db: Session, meeting_id: int) -> Meeting:
    row = db.get(Meeting, meeting_id)
    if row is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    return row


def _negotiation_of(db: Session, document_id: int) -> int:
    return get_document(db, document_id).negotiation_id


def _require_keeper(db: Session, actor: Actor, negotiation_id: int) -> None:
    """The secretariat, or the co-facilitators of this negotiation, keep its calendar."""
    _negotiation(db, negotiation_id)
    require_in_negotiation(actor, cofacilitator_ids(db, negotiation_id), Action.MANAGE_DOCUMENTS)


def _rows(db: Session, negotiation_id: int) -> Sequence[Meeting]:
    """Soonest first; among dates that overlap, the more precise first; undated last, in the
    order they were entered."""
    rows = db.scalars(
        select(Meeting).where(Meeting.negotiation_id == negotiation_id).order_by(Meeting.id)
    ).all()
    return sorted(
        rows,
        key=lambda m: (
            m.earliest is None,
            m.earliest or date.max,
            m.latest or date.max,
            m.id,
        ),
    )


def _store(db: Session, negotiation_id: int, draft: MeetingDraft, actor: Actor) -> Meeting:
    if draft.timezone:
        zone(draft.timezone)
    row = Meeting(negotiation_id=negotiation_id, created_by_id=actor.user_id)
    _fill(row, draft)
    db.add(row)
    db.flush()
    return row


def _fill(row: Meeting, draft: MeetingDraft) -> None:
    if draft.timezone:
        zone(draft.timezone)
    row.kind = draft.kind
    row.title = draft.title
    row.description = draft.description
    row.note = draft.note
    row.date_text = draft.date_text
    row.edtf = draft.date.edtf
    row.earliest = draft.date.earliest
    row.latest = draft.date.latest
    row.start_time = draft.start_time.strftime("%H:%M") if draft.start_time else None
    row.end_time = draft.end_time.strftime("%H:%M") if draft.end_time else None
    row.timezone = draft.timezone
    row.location = draft.location
    row.location_tbc = draft.location_tbc
    row.focal_points = list(draft.focal_points)
    row.regional = draft.regional
    row.source = draft.source


def _snapshot(row: Meeting) -> dict[str, Any]:
    return {
        "title": row.title,
        "date_text": row.date_text,
        "edtf": row.edtf,
        "location": row.location,
        "location_tbc": row.location_tbc,
    }


def _record(
    db: Session, kind: str, actor: Actor, row: Meeting, before: dict[str, Any] | None = None
) -> None:
    events.record(
        db,
        kind=kind,
        actor=actor,
        subject="meeting",
        subject_id=row.id,
        negotiation_id=row.negotiation_id,
        title=row.title,
        edtf=row.edtf,
        before=before,
    )


def _views(db: Session, rows: Sequence[Meeting]) -> list[MeetingView]:
    ids = [r.id for r in rows]
    links: dict[int, list[MeetingLinkView]] = {}
    if ids:
        found = db.scalars(
            select(MeetingLink).where(MeetingLink.meeting_id.in_(ids)).order_by(MeetingLink.id)
        ).all()
        revisions = {
            r.id: r
            for r in db.scalars(
                select(Revision).where(
                    Revision.id.in_([x.revision_id for x in found if x.revision_id])
                )
            )
        }
        rounds = {
            r.id: r
            for r in db.scalars(
                select(Round).where(Round.id.in_([x.round_id for x in found if x.round_id]))
            )
        }
        for link in found:
            revision = revisions.get(link.revision_id) if link.revision_id else None
            round_ = rounds.get(link.round_id) if link.round_id else None
            links.setdefault(link.meeting_id, []).append(
                MeetingLinkView(
                    id=link.id,
                    role=link.role,
                    revision_id=link.revision_id,
                    revision=revision.name if revision else None,
                    document_id=(revision.document_id if revision else None)
                    or (round_.document_id if round_ else None),
                    round_id=link.round_id,
                    round=round_.name if round_ else None,
                    deadline=describe(round_.deadline, round_.timezone) if round_ else None,
                )
            )
    return [_view(r, tuple(links.get(r.id, ()))) for r in rows]


def _view(row: Meeting, links: tuple[MeetingLinkView, ...] = ()) -> MeetingView:
    value = from_edtf(row.edtf)
    return MeetingView(
        id=row.id,
        negotiation_id=row.negotiation_id,
        kind=MeetingKind(row.kind),
        title=row.title,
        description=row.description,
        note=row.note,
        date_text=row.date_text,
        edtf=row.edtf,
        date_form=value.form,
        when=value.describe(),
        earliest=row.earliest,
        latest=row.latest,
        dated=value.dated,
        start_time=row.start_time,
        end_time=row.end_time,
        timezone=row.timezone,
        location=row.location,
        location_tbc=row.location_tbc,
        focal_points=tuple(row.focal_points or ()),
        regional=row.regional,
        source=row.source,
        links=links,
    )


def _preview(negotiation_id: int, draft: MeetingDraft) -> MeetingView:
    """What an imported row would look like, before anything is saved (id 0)."""
    row = Meeting(negotiation_id=negotiation_id, id=0)
    _fill(row, draft)
    return _view(row)


def _years(meeting: MeetingView) -> range:
    return FuzzyDate(meeting.edtf, meeting.date_form, meeting.earliest, meeting.latest).years()


def _same(wanted: str, values: Iterable[str]) -> bool:
    return any(v.casefold() == wanted.casefold() for v in values)


_ALIASES = {
    "month/year": "date_text",
    "month / year": "date_text",
    "month /year": "date_text",
    "date": "date_text",
    "when": "date_text",
    "event": "title",
    "meeting": "title",
    "place": "location",
    "venue": "location",
    "focal point": "focal_points",
    "focal points": "focal_points",
    "focal_point": "focal_points",
}


def _column(name: str) -> str:
    key = " ".join(name.strip().lower().split())
    return _ALIASES.get(key, key.replace(" ", "_"))


def _yes(value: str) -> bool:
    return value.strip().lower() in ("yes", "y", "true", "1", "x", "*", "tbc")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("The CSV file is neither UTF-8 nor Windows-1252 text.")


def _event(icalendar: Any, meeting: MeetingView, stamp: datetime | None) -> Any:
    event = icalendar.Event()
    event.add("uid", f"meeting-{meeting.id}@rolltext")
    event.add("dtstamp", stamp or timeutil.utcnow())
    event.add("summary", meeting.title)
    assert meeting.earliest is not None and meeting.latest is not None
    timed = meeting.date_form is DateForm.EXACT and meeting.start_time and meeting.timezone
    if timed:
        assert meeting.start_time is not None and meeting.timezone is not None
        tz = zone(meeting.timezone)
        start = datetime.combine(meeting.earliest, _clock(meeting.start_time), tzinfo=tz)
        end_clock = _clock(meeting.end_time) if meeting.end_time else None
        event.add("dtstart", start)
        if end_clock is not None:
            event.add("dtend", datetime.combine(meeting.earliest, end_clock, tzinfo=tz))
    else:
        event.add("dtstart", meeting.earliest)
        event.add("dtend", meeting.latest + timedelta(days=1))
    lines = []
    if not meeting.exact_date:
        lines.append(
            f"Date not fixed: the calendar says “{meeting.date_text}” ({meeting.when}; EDTF "
            f"{meeting.edtf}). Shown across the whole period it may fall in."
        )
    if meeting.note:
        lines.append(meeting.note)
    if meeting.description:
        lines.append(meeting.description)
    if meeting.focal_points:
        lines.append("Focal point: " + ", ".join(meeting.focal_points))
    concerns = [f"{link.revision or link.round} ({link.role})" for link in meeting.links]
    if concerns:
        lines.append("Concerns: " + "; ".join(concerns))
    if lines:
        event.add("description", "\n\n".join(lines))
    if meeting.place:
        event.add("location", meeting.place)
    event.add(
        "status", "TENTATIVE" if not meeting.exact_date or meeting.location_tbc else "CONFIRMED"
    )
    categories = [meeting.kind.display, *meeting.focal_points]
    if meeting.regional:
        categories.append("regional consultative process")
    event.add("categories", categories)
    event.add("x-rolltext-edtf", meeting.edtf)
    return event


def _clock(value: str) -> Any:
    return datetime.strptime(value, "%H:%M").time()


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-") or "negotiation"
