"""The process in the browser: rounds of written proposals with deadlines, and silence procedure.

Co-facilitators open a round with a date, a time and a place's time zone (New York unless they
say otherwise), extend or reopen it, and grant one delegation a late submission; they place a
revision under silence until a deadline. Delegations break silence with a statement naming the
provisions concerned. Everyone sees the current deadline in the form it was announced, and
statements breaking silence arrive live: `ProcessEvents` adds a "process" event to the
document's live stream whenever a round or a silence changes (and "inputs" for stakeholders'
inputs), so only the fragments that show them re-fetch.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from app.domain.deadlines import NEW_YORK, describe, local_deadline
from app.domain.errors import DomainError, Invalid
from app.services import process
from app.web.deps import DatabaseDep
from app.web.errors import status_of
from app.web.live import Message, changes_data, document_channel
from app.web.pages.routing import PageRoute
from app.web.pages.text import DocumentPage, document_page
from app.web.pages.viewer import ViewerDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)

#: The places deadlines are usually set in, by time zone (New York first: the default).
ZONES = (
    (NEW_YORK, "New York"),
    ("Europe/Zurich", "Geneva"),
    ("Europe/Vienna", "Vienna"),
    ("Africa/Nairobi", "Nairobi"),
    ("UTC", "UTC"),
)
#: The outcome of the last form, shown once on the page the browser is redirected to.
FLASH = "process_flash"
#: Tells the page's lists to re-fetch at once after one of its forms succeeded.
CHANGED = {"HX-Trigger": "rolltext:process"}

Text = Annotated[str, Form(max_length=200)]
Statement = Annotated[str, Form(max_length=process.MAX_STATEMENT + 100)]


@dataclass
class FormState:
    """A form as the page shows it: the values typed, and the outcome of the last submit."""

    values: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    error: bool = False


def blank_forms(page: DocumentPage) -> dict[str, FormState]:
    current = page.process.current_round
    latest = page.latest
    return {
        "round": FormState(
            {"name": f"written proposals on {latest.name}" if latest else "", "timezone": NEW_YORK}
        ),
        "deadline": FormState({"timezone": current.timezone if current else NEW_YORK}),
        "late": FormState({}),
        "silence": FormState({"revision": latest.name if latest else "", "timezone": NEW_YORK}),
        "break": FormState({}),
    }


def local_time(day: str, hour: str) -> datetime:
    """A local date and time from the form's date and time fields."""
    try:
        return datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(hour.strip()))
    except ValueError as exc:
        raise Invalid("Give the date as YYYY-MM-DD and the time as HH:MM.") from exc


def labels_of(text: str) -> list[str]:
    """ "PP2, OP13; OP3 (a)" → the labels named in a statement breaking silence."""
    return [" ".join(part.split()) for part in re.split(r"[,;\n]", text) if part.strip()]


def _visible_forms(page: DocumentPage) -> set[str]:
    """The forms the process page shows this viewer (the services refuse the others anyway)."""
    shown = {"round", "deadline", "late", "silence"} if page.viewer.cofacilitator else set()
    if page.viewer.delegate:
        shown.add("break")
    return shown


def _context(page: DocumentPage, forms: dict[str, FormState]) -> dict[str, object]:
    return page.context(forms=forms, zones=ZONES, state=page.process)


def _answer(
    request: Request,
    database: DatabaseDep,
    viewer: ViewerDep,
    document_id: int,
    name: str,
    values: dict[str, Any],
    action: Callable[[], str],
) -> Response:
    """Run a form's action. Success: back to the process page (post/redirect/get), the outcome
    beside the form. Refusal: the page again, the words typed kept, the reason beside the form.
    An HTMX request gets the form alone."""
    document_page(database, viewer, document_id)  # may the viewer read it at all?
    try:
        message = action()
    except DomainError as exc:
        page = document_page(database, viewer, document_id)
        forms = blank_forms(page)
        forms[name] = FormState(values, exc.message, True)
        context = _context(page, forms)
        if name not in _visible_forms(page):  # a form this viewer is not shown: say it on top
            context["page_message"] = exc.message
        template = f"process/_{name}_form.html" if is_htmx(request) else "process/index.html"
        return render(request, template, context, status_code=status_of(exc))
    if is_htmx(request):
        page = document_page(database, viewer, document_id)
        forms = blank_forms(page)
        forms[name].message = message
        return render(request, f"process/_{name}_form.html", _context(page, forms), headers=CHANGED)
    request.session[FLASH] = {"form": name, "message": message}
    return RedirectResponse(f"/documents/{document_id}/process#{name}-form", status_code=303)


# -- pages and fragments -----------------------------------------------------------------------


@router.get("/documents/{document_id}/process")
def process_page(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    page = document_page(database, viewer, document_id)
    forms = blank_forms(page)
    flash = request.session.pop(FLASH, None)
    if isinstance(flash, dict) and flash.get("form") in forms:
        forms[flash["form"]].message = str(flash.get("message", ""))
    return render(request, "process/index.html", _context(page, forms))


@router.get("/documents/{document_id}/process/rounds")
def rounds_fragment(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    page = document_page(database, viewer, document_id)
    return render(request, "process/_rounds.html", _context(page, {}))


@router.get("/documents/{document_id}/process/silence")
def silence_fragment(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The silence procedure and the statements breaking it: re-fetched live."""
    page = document_page(database, viewer, document_id)
    return render(request, "process/_silence.html", _context(page, {}))


@router.get("/documents/{document_id}/deadlines")
def deadlines_fragment(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The current deadline in a document's header (and on the negotiation's home)."""
    page = document_page(database, viewer, document_id)
    return render(
        request, "process/_deadlines.html", {"document": page.document, "state": page.process}
    )


# -- rounds ------------------------------------------------------------------------------------


@router.post("/documents/{document_id}/process/rounds")
def open_round(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    name: Text = "",
    day: Annotated[str, Form(max_length=20)] = "",
    hour: Annotated[str, Form(max_length=10)] = "",
    timezone: Annotated[str, Form(max_length=64)] = NEW_YORK,
) -> Response:
    def action() -> str:
        opened = process.open_round(
            database,
            actor=viewer.actor,
            document_id=document_id,
            name=name,
            deadline=local_time(day, hour),
            timezone=timezone,
        )
        return f"The round is open: {opened.name}, until {opened.deadline_text}."

    values = {"name": name, "day": day, "hour": hour, "timezone": timezone}
    return _answer(request, database, viewer, document_id, "round", values, action)


@router.post("/documents/{document_id}/process/deadline")
def move_deadline(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    round_id: Annotated[int, Form()],
    day: Annotated[str, Form(max_length=20)] = "",
    hour: Annotated[str, Form(max_length=10)] = "",
    timezone: Annotated[str, Form(max_length=64)] = NEW_YORK,
) -> Response:
    """Extend a round, or reopen one whose deadline has passed."""

    def action() -> str:
        _round_of(database, document_id, round_id)
        moved = process.move_deadline(
            database,
            actor=viewer.actor,
            round_id=round_id,
            deadline=local_time(day, hour),
            timezone=timezone,
        )
        return f"{moved.name.capitalize()}: the deadline is now {moved.deadline_text}."

    values = {"day": day, "hour": hour, "timezone": timezone}
    return _answer(request, database, viewer, document_id, "deadline", values, action)


@router.post("/documents/{document_id}/process/late")
def grant_late(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    round_id: Annotated[int, Form()],
    delegation: Annotated[str, Form(max_length=16)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
    hour: Annotated[str, Form(max_length=10)] = "",
    reason: Text = "",
) -> Response:
    """One delegation may still submit after the deadline, until a time of its own."""

    def action() -> str:
        found = _round_of(database, document_id, round_id)
        code = delegation.strip().upper()
        if not code:
            raise Invalid("Name the delegation (its code, e.g. BRA).")
        until = local_time(day, hour)
        process.grant_late_submission(
            database,
            actor=viewer.actor,
            round_id=round_id,
            delegation=code,
            until=until,
            reason=reason,
        )
        return (
            f"{code} may submit proposals on {found.name} until "
            f"{describe(local_deadline(until, found.timezone), found.timezone)}."
        )

    values = {"delegation": delegation, "day": day, "hour": hour, "reason": reason}
    return _answer(request, database, viewer, document_id, "late", values, action)


def _round_of(database: DatabaseDep, document_id: int, round_id: int) -> process.RoundView:
    """The round, if it belongs to this document (a form cannot reach another one)."""
    for found in process.list_rounds(database, document_id=document_id):
        if found.id == round_id:
            return found
    raise Invalid("There is no such round for this document.")


# -- silence procedure -------------------------------------------------------------------------


@router.post("/documents/{document_id}/process/silences")
def place_under_silence(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    revision: Annotated[str, Form(max_length=100)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
    hour: Annotated[str, Form(max_length=10)] = "",
    timezone: Annotated[str, Form(max_length=64)] = NEW_YORK,
) -> Response:
    def action() -> str:
        placed = process.place_under_silence(
            database,
            actor=viewer.actor,
            document_id=document_id,
            revision=revision,
            deadline=local_time(day, hour),
            timezone=timezone,
        )
        return f"{placed.revision} is under silence procedure until {placed.deadline_text}."

    values = {"revision": revision, "day": day, "hour": hour, "timezone": timezone}
    return _answer(request, database, viewer, document_id, "silence", values, action)


@router.post("/documents/{document_id}/process/break")
def break_silence(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    silence_id: Annotated[int, Form()],
    statement: Statement = "",
    provisions: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A delegation's letter breaking silence: recorded and shown to everyone at once."""

    def action() -> str:
        silences = process.list_silences(database, document_id=document_id)
        if not any(s.id == silence_id for s in silences):
            raise Invalid("There is no such silence procedure for this document.")
        named = labels_of(provisions)
        process.break_silence(
            database,
            actor=viewer.actor,
            silence_id=silence_id,
            statement=statement,
            provisions=named,
        )
        who = viewer.delegation.short if viewer.delegation else viewer.name
        return f"{who} has broken silence" + (f" on {', '.join(named)}." if named else ".")

    values = {"statement": statement, "provisions": provisions}
    return _answer(request, database, viewer, document_id, "break", values, action)


# -- live ----------------------------------------------------------------------------------------


def process_messages(changes: list[dict[str, Any]]) -> list[Message]:
    """Names the process and inputs changes on the live stream (`live.publish_changes`).

    The generic messages (app/web/live.py) already say "document" for every change; these add
    "process" (rounds, silence) and "inputs", so the deadline banner, the statements breaking
    silence and the inputs re-fetch without every other fragment doing so too.
    """
    found: dict[int, list[str]] = defaultdict(list)
    for change in changes:
        document_id = change.get("document_id")
        kind = str(change.get("kind", ""))
        if document_id is None:
            continue
        if kind.startswith(("round.", "silence.")):
            found[document_id].append("process")
        elif kind.startswith("input."):
            found[document_id].append("inputs")
    data = changes_data(changes)
    return [(document_channel(d), names, data) for d, names in found.items()]
