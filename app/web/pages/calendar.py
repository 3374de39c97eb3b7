"""The calendar page: the negotiation's meetings and the related processes around it, as an
agenda by month, filtered by focal point, place, year and kind; undated meetings last, said
to be undated rather than given a day. The secretariat and co-facilitators import a table here.

`upcoming()` and `templates/calendar/_next.html` give the next meetings for the negotiation's
home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import File, Query, Request, UploadFile
from starlette.responses import Response

from app.db.session import Database
from app.domain.calendar import MONTHS, MeetingKind
from app.domain.errors import DomainError
from app.domain.roles import Role
from app.services import calendar, documents
from app.services.calendar import CalendarView, MeetingView, Upcoming
from app.web.deps import DatabaseDep
from app.web.pages.routing import PageRoute
from app.web.pages.viewer import ViewerDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class AgendaGroup:
    """One heading of the agenda: a month ("December 2016"), or the meetings not yet dated."""

    title: str
    meetings: tuple[MeetingView, ...]


def agenda(view: CalendarView) -> list[AgendaGroup]:
    """Group by the month a meeting may start in; a quarter or a year sits under its first
    month with its own wording ("third quarter of 2017"), so nothing looks more exact than
    it is."""
    groups: dict[str, list[MeetingView]] = {}
    undated: list[MeetingView] = []
    for meeting in view.meetings:
        if meeting.earliest is None or meeting.latest is None:
            undated.append(meeting)
            continue
        key = f"{MONTHS[meeting.earliest.month - 1]} {meeting.earliest.year}"
        groups.setdefault(key, []).append(meeting)
    out = [AgendaGroup(title, tuple(items)) for title, items in groups.items()]
    if undated:
        out.append(AgendaGroup("Not yet dated", tuple(undated)))
    return out


def upcoming(database: Database, negotiation_id: int, limit: int = 3) -> Upcoming:
    """The next meetings, for the partial templates/calendar/_next.html (context: `upcoming`)."""
    return calendar.upcoming(database, negotiation_id, limit)


def _year(value: str | None) -> tuple[int | None, bool | None]:
    if not value:
        return None, None
    if value == "undated":
        return None, True
    return (int(value), None) if value.isdigit() else (None, None)


@router.get("/negotiations/{negotiation_id}/calendar")
def calendar_page(
    negotiation_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    focal_point: Annotated[str | None, Query(max_length=100)] = None,
    place: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[str | None, Query(max_length=9)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    regional: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    return _page(
        request,
        viewer,
        database,
        negotiation_id,
        filters={
            "focal_point": focal_point or "",
            "place": place or "",
            "year": year or "",
            "kind": kind or "",
            "regional": regional or "",
        },
    )


@router.post("/negotiations/{negotiation_id}/calendar/import")
def import_page(
    negotiation_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """A .csv or a Word table like the mapping: all rows are added, or none with the reasons."""
    data = file.file.read(calendar.MAX_IMPORT + 1)
    try:
        report = calendar.import_meetings(
            database,
            actor=viewer.actor,
            negotiation_id=negotiation_id,
            data=data,
            filename=file.filename or "",
        )
    except DomainError as exc:
        return _page(request, viewer, database, negotiation_id, error=exc.message, status=422)
    return _page(
        request,
        viewer,
        database,
        negotiation_id,
        notice=f"{report.created} meetings added from {file.filename or 'the file'}.",
    )


def _page(
    request: Request,
    viewer: ViewerDep,
    database: Database,
    negotiation_id: int,
    *,
    filters: dict[str, str] | None = None,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    filters = filters or dict.fromkeys(("focal_point", "place", "year", "kind", "regional"), "")
    negotiation = documents.get_negotiation(
        database, negotiation_id=negotiation_id, viewer=viewer.actor
    )
    year, undated = _year(filters["year"])
    kind = filters["kind"] if filters["kind"] in {k.value for k in MeetingKind} else None
    view = calendar.list_meetings(
        database,
        negotiation_id=negotiation_id,
        viewer=viewer.actor,
        focal_point=filters["focal_point"] or None,
        place=filters["place"] or None,
        year=year,
        undated=undated,
        kind=MeetingKind(kind) if kind else None,
        regional=True if filters["regional"] == "yes" else None,
    )
    within = viewer.within(negotiation)
    context = {
        "viewer": within,
        "negotiation": negotiation,
        "calendar": view,
        "agenda": agenda(view),
        "filters": filters,
        "kinds": MeetingKind,
        "keeper": within.cofacilitator or viewer.actor.role is Role.SECRETARIAT,
        "notice": notice,
        "error": error,
    }
    template = "calendar/_agenda.html" if is_htmx(request) else "calendar/index.html"
    return render(request, template, context, status_code=status)
