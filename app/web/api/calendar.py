"""The calendar of a negotiation: meetings with fuzzy dates, links, imports and exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Query, Response, UploadFile
from pydantic import Field

from app.domain.calendar import MeetingDraft, MeetingKind
from app.services import calendar
from app.services.calendar import CalendarView, ImportReport, MeetingView
from app.web.api.schemas import Body, optional_text
from app.web.api.types import Id
from app.web.deps import ActorDep, CallerDep, DatabaseDep
from app.web.router import Router

router = Router(tags=["calendar"])


class MeetingBody(Body):
    title: str = Field(max_length=500)
    date_text: str | None = Field(
        default=None,
        max_length=200,
        description="as written: 'December 2-3, 2016', 'Third Quarter 2017', "
        "'No later than 2019', 'Date to be determined'…",
    )
    edtf: str | None = Field(
        default=None, max_length=100, description="or the date as EDTF: '2016-12', '2017-35'"
    )
    kind: MeetingKind = MeetingKind.RELATED
    description: str | None = optional_text()
    note: str | None = optional_text()
    location: str | None = Field(default=None, max_length=200, description="'Geneva (TBC)' works")
    location_tbc: bool | None = None
    focal_points: list[str] = Field(default_factory=list, max_length=20)
    regional: bool = False
    start_time: str | None = Field(default=None, max_length=5, description="local, e.g. 15:00")
    end_time: str | None = Field(default=None, max_length=5)
    timezone: str | None = Field(default=None, max_length=64, description="America/New_York")
    source: str | None = Field(default=None, max_length=200)


class NewLink(Body):
    role: str = Field(description="basis | outcome | deadline")
    revision_id: Id | None = None
    round_id: Id | None = None


def _draft(body: MeetingBody) -> MeetingDraft:
    return calendar.draft(**body.model_dump())


def _file(file: calendar.CalendarFile) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{file.filename}"'}
    if file.left_out:
        headers["X-Rolltext-Left-Out"] = str(sum(n for _, n in file.left_out))
    return Response(file.content, media_type=file.media_type, headers=headers)


@router.get("/negotiations/{negotiation_id}/meetings", summary="The calendar, filtered")
async def list_meetings(
    negotiation_id: Id,
    caller: CallerDep,
    focal_point: str | None = Query(default=None, max_length=100),
    place: str | None = Query(default=None, max_length=200),
    year: int | None = Query(default=None, ge=1, le=9999),
    kind: MeetingKind | None = None,
    regional: bool | None = None,
    undated: bool | None = Query(default=None, description="true: only dates not yet placed"),
) -> CalendarView:
    return await caller.run(
        lambda actor: calendar.list_meetings(
            caller.database,
            negotiation_id=negotiation_id,
            viewer=actor,
            focal_point=focal_point,
            place=place,
            year=year,
            kind=kind,
            regional=regional,
            undated=undated,
        )
    )


@router.post("/negotiations/{negotiation_id}/meetings", status_code=201)
async def add_meeting(negotiation_id: Id, body: MeetingBody, caller: CallerDep) -> MeetingView:
    return await caller.run(
        lambda actor: calendar.add_meeting(
            caller.database, actor=actor, negotiation_id=negotiation_id, draft=_draft(body)
        )
    )


@router.get(
    "/negotiations/{negotiation_id}/meetings.ics",
    summary="iCalendar: dated meetings (fuzzy ones across their period); undated left out",
    response_class=Response,
    responses={200: {"content": {calendar.ICS: {}}}},
)
async def export_ics(negotiation_id: Id, caller: CallerDep) -> Response:
    return await caller.run(
        lambda actor: _file(
            calendar.export_ics(caller.database, negotiation_id=negotiation_id, viewer=actor)
        )
    )


@router.get(
    "/negotiations/{negotiation_id}/meetings.csv",
    summary="Every meeting as CSV, with its EDTF date (reads back with the import)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(negotiation_id: Id, caller: CallerDep) -> Response:
    return await caller.run(
        lambda actor: _file(
            calendar.export_csv(caller.database, negotiation_id=negotiation_id, viewer=actor)
        )
    )


@router.post(
    "/negotiations/{negotiation_id}/meetings/import",
    summary="Import meetings from CSV or from a Word table like the mapping (preview first)",
)
def import_meetings(
    negotiation_id: Id,
    response: Response,
    actor: ActorDep,
    database: DatabaseDep,
    file: Annotated[UploadFile, File(description=".csv or .docx")],
    preview: Annotated[bool, Form()] = False,
) -> ImportReport:
    data = file.file.read(calendar.MAX_IMPORT + 1)
    report = calendar.import_meetings(
        database,
        actor=actor,
        negotiation_id=negotiation_id,
        data=data,
        filename=file.filename or "",
        save=not preview,
    )
    response.status_code = 201 if report.saved else 200
    return report


@router.get("/meetings/{meeting_id}")
async def get_meeting(meeting_id: Id, caller: CallerDep) -> MeetingView:
    return await caller.run(
        lambda actor: calendar.get_meeting(caller.database, meeting_id=meeting_id, viewer=actor)
    )


@router.put("/meetings/{meeting_id}", summary="Replace what is known of a meeting")
async def update_meeting(meeting_id: Id, body: MeetingBody, caller: CallerDep) -> MeetingView:
    return await caller.run(
        lambda actor: calendar.update_meeting(
            caller.database, actor=actor, meeting_id=meeting_id, draft=_draft(body)
        )
    )


@router.delete("/meetings/{meeting_id}", status_code=204)
def delete_meeting(meeting_id: Id, actor: ActorDep, database: DatabaseDep) -> Response:
    calendar.delete_meeting(database, actor=actor, meeting_id=meeting_id)
    return Response(status_code=204)


@router.post(
    "/meetings/{meeting_id}/links",
    status_code=201,
    summary="Link a meeting to the revision it discusses or follows, or to a round's deadline",
)
async def link_meeting(meeting_id: Id, body: NewLink, caller: CallerDep) -> MeetingView:
    return await caller.run(
        lambda actor: calendar.link_meeting(
            caller.database,
            actor=actor,
            meeting_id=meeting_id,
            role=body.role,
            revision_id=body.revision_id,
            round_id=body.round_id,
        )
    )


@router.delete("/meetings/{meeting_id}/links/{link_id}", status_code=204)
def unlink_meeting(meeting_id: Id, link_id: Id, actor: ActorDep, database: DatabaseDep) -> Response:
    calendar.unlink_meeting(database, actor=actor, meeting_id=meeting_id, link_id=link_id)
    return Response(status_code=204)
