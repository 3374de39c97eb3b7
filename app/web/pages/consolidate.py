"""The co-facilitators' desk: a review queue per provision, and every decision on a provision.

Each decision form carries `expected_version`, the version of the provision the co-facilitator
was looking at. If someone changed it meanwhile the service refuses (Conflict) and the answer is
the provision's fresh state with the refusal written plainly above it: decide again on what is
really there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from app.db.session import Database
from app.domain.amendments import Decision
from app.domain.errors import Conflict, DomainError
from app.domain.provisions import ProvisionStatus
from app.services import decisions
from app.web.deps import DatabaseDep
from app.web.errors import status_of
from app.web.pages.proposals import TextField, preview_of
from app.web.pages.routing import PageRoute
from app.web.pages.text import (
    DocumentPage,
    ProvisionPanel,
    act,
    deferred_panel,
    document_page,
    full_page,
    provision_panel,
)
from app.web.pages.viewer import Viewer, ViewerDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)

View = Annotated[str, Form()]
Version = Annotated[int | None, Form()]

_DONE = {
    Decision.ACCEPT: "accepted: its words are in the text",
    Decision.BRACKET: "bracketed: its words are in the text, in square brackets",
    Decision.REJECT: "rejected",
}


#: The review queue shows this many pending proposals in full (at least one provision's); the
#: provisions after them load when scrolled into view. A large negotiation has thousands of
#: pending proposals, and the queue is re-fetched whenever anything changes.
QUEUE_INLINE_PROPOSALS = 100


def queue_panels(
    request: Request, database: Database, viewer: Viewer, document_id: int
) -> tuple[DocumentPage, list[ProvisionPanel]]:
    """The page header and one panel per provision with pending proposals, in reading order."""
    page = document_page(database, viewer, document_id)
    panels = []
    shown = 0
    for p in page.document.provisions:
        if not p.pending:
            continue
        if shown and shown + p.pending > QUEUE_INLINE_PROPOSALS:
            shown = QUEUE_INLINE_PROPOSALS  # in order: nothing more in full after this one
            panels.append(
                deferred_panel(
                    request,
                    viewer,
                    p,
                    view="queue",
                    document=page.document,
                    negotiation=page.negotiation,
                )
            )
            continue
        shown += p.pending
        panels.append(
            provision_panel(
                request,
                database,
                viewer,
                p.id,
                view="queue",
                document=page.document,
                negotiation=page.negotiation,
            )
        )
    return page, panels


@router.get("/documents/{document_id}/consolidate")
def queue_page(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    page, panels = queue_panels(request, database, viewer, document_id)
    return render(request, "consolidate/queue.html", page.context(panels=panels))


@router.get("/documents/{document_id}/queue")
def queue_fragment(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The queue re-fetched live; text typed in it survives through hx-preserve."""
    page, panels = queue_panels(request, database, viewer, document_id)
    return render(request, "consolidate/_queue.html", page.context(panels=panels))


@router.post("/amendments/{amendment_id}/decision")
def decide(
    amendment_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    decision: Annotated[Decision, Form()],
    expected_version: Version = None,
    reason: TextField = "",
    view: View = "panel",
) -> Response:
    provision_id: list[int] = []

    def action() -> str:
        result = decisions.decide(
            database,
            actor=viewer.actor,
            amendment_id=amendment_id,
            decision=decision,
            expected_version=expected_version,
            reason=reason or None,
        )
        provision_id.append(result.provision_id)
        return f"{result.reference} {_DONE[decision]}."

    def which() -> int:
        if provision_id:
            return provision_id[0]
        from app.services import amendments

        return amendments.get_amendment(
            database, viewer=viewer.actor, amendment_id=amendment_id
        ).provision_id

    return act(request, database, viewer, provision_id=which, view=view, action=action)


@router.post("/provisions/{provision_id}/status")
def set_status(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    status: Annotated[ProvisionStatus, Form()],
    reservation: Annotated[str, Form(max_length=16)] = "",
    expected_version: Version = None,
    view: View = "panel",
) -> Response:
    def action() -> str:
        result = decisions.set_status(
            database,
            actor=viewer.actor,
            provision_id=provision_id,
            status=status,
            reservation=(reservation or None) if status is ProvisionStatus.AGREED_PENDING else None,
            expected_version=expected_version,
        )
        return f"{result.label or 'The provision'} is now {result.status_label}."

    return act(request, database, viewer, provision_id=provision_id, view=view, action=action)


@router.post("/provisions/{provision_id}/lift-reservation")
def lift_reservation(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    view: View = "panel",
) -> Response:
    def action() -> str:
        result = decisions.lift_reservation(database, actor=viewer.actor, provision_id=provision_id)
        name = result.label or "the provision"
        return f"The reservation is lifted: {name} is {result.status_label}."

    return act(request, database, viewer, provision_id=provision_id, view=view, action=action)


@router.post("/provisions/{provision_id}/resolve-brackets")
def resolve_brackets(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    group: Annotated[int, Form(ge=0)],
    choice: Annotated[int | None, Form(ge=0)] = None,
    expected_version: Version = None,
    view: View = "panel",
) -> Response:
    def action() -> str:
        decisions.resolve_brackets(
            database,
            actor=viewer.actor,
            provision_id=provision_id,
            group=group,
            choice=choice,
            expected_version=expected_version,
        )
        kept = "dropped" if choice is None else f"settled on alternative {choice + 1}"
        return f"Bracketed passage {group + 1} {kept}."

    return act(request, database, viewer, provision_id=provision_id, view=view, action=action)


@router.post("/provisions/{provision_id}/choose")
def choose_alternative(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    view: View = "panel",
) -> Response:
    def action() -> str:
        result = decisions.choose_alternative(
            database, actor=viewer.actor, provision_id=provision_id
        )
        return f"{result.label} is kept; the other alternatives are deleted."

    return act(request, database, viewer, provision_id=provision_id, view=view, action=action)


def _cf_form(
    request: Request,
    panel: ProvisionPanel,
    template: str,
    form: dict[str, Any],
    *,
    message: str | None = None,
    error: bool = False,
    status_code: int = 200,
) -> Response:
    context = panel.context()
    base = panel.provision.text if template.endswith("_cf_form.html") else ""
    context.update(
        form=form,
        form_message=message,
        form_error=error,
        preview=preview_of(base, form.get("text") or ""),
        oob_state=not error and message is not None,
    )
    return render(request, template, context, status_code=status_code)


@router.post("/provisions/{provision_id}/cf-text")
def cf_text(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    text: TextField = "",
    note: TextField = "",
    supersedes: Annotated[list[int] | None, Form()] = None,
    expected_version: Version = None,
) -> Response:
    """The co-facilitators' own wording; the proposals it answers are superseded."""
    form: dict[str, Any] = {
        "text": text,
        "note": note,
        "supersedes": supersedes or [],
        "expected_version": expected_version,
    }
    try:
        result = decisions.cf_text(
            database,
            actor=viewer.actor,
            provision_id=provision_id,
            text=text,
            expected_version=expected_version,
            supersedes=supersedes or [],
            note=note,
        )
    except DomainError as exc:
        panel = provision_panel(request, database, viewer, provision_id)
        if isinstance(exc, Conflict):
            form["expected_version"] = panel.provision.version
        return _form_answer(
            request, database, viewer, panel, "consolidate/_cf_form.html", form, exc
        )
    panel = provision_panel(request, database, viewer, provision_id)
    message = f"The co-facilitators' wording is version {result.version} of {result.label}."
    fresh = {"text": result.text, "note": "", "supersedes": [], "expected_version": result.version}
    return _form_answer(
        request, database, viewer, panel, "consolidate/_cf_form.html", fresh, None, message
    )


@router.post("/provisions/{provision_id}/alternatives")
def cf_alternative(
    provision_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    text: TextField = "",
    note: TextField = "",
) -> Response:
    """Table a whole-paragraph alternative: "OP6 alt" appears after OP6."""
    form: dict[str, Any] = {"text": text, "note": note}
    try:
        result = decisions.cf_alternative(
            database, actor=viewer.actor, provision_id=provision_id, text=text, note=note
        )
    except DomainError as exc:
        panel = provision_panel(request, database, viewer, provision_id)
        return _form_answer(
            request, database, viewer, panel, "consolidate/_alternative_form.html", form, exc
        )
    panel = provision_panel(request, database, viewer, provision_id)
    message = f"{result.label} is tabled as an alternative."
    return _form_answer(
        request,
        database,
        viewer,
        panel,
        "consolidate/_alternative_form.html",
        {"text": "", "note": ""},
        None,
        message,
    )


def _form_answer(
    request: Request,
    database: Database,
    viewer: Viewer,
    panel: ProvisionPanel,
    template: str,
    form: dict[str, Any],
    exc: DomainError | None,
    message: str | None = None,
) -> Response:
    status_code = status_of(exc) if exc else 200
    text = exc.message if exc else message
    if not is_htmx(request):
        panel.message, panel.error = text, exc is not None
        return full_page(request, database, viewer, panel, status_code=status_code)
    return _cf_form(
        request,
        panel,
        template,
        form,
        message=text,
        error=exc is not None,
        status_code=status_code,
    )


@router.get("/provisions/{provision_id}/cf-form")
def cf_form(
    provision_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The co-facilitators' wording form, loaded on demand into the review queue."""
    panel = provision_panel(request, database, viewer, provision_id)
    form = {
        "text": panel.provision.text,
        "note": "",
        "supersedes": [],
        "expected_version": panel.provision.version,
    }
    return _cf_form(request, panel, "consolidate/_cf_form.html", form)
