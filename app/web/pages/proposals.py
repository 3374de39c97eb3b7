"""Delegations' actions in the browser: propose (with a live word-level preview), redraft,
withdraw, support and oppose.

A refused proposal (agreed provision, unchanged wording, the text changed meanwhile…) comes back
as the same form with the delegate's words kept and the message beside it, with the refusal's
status code (422, 409, 403); HTMX is configured to swap those (see routing.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from app.db.session import Database
from app.domain.amendments import AmendmentKind
from app.domain.diff import DiffOp, word_diff
from app.domain.errors import Conflict, DomainError
from app.domain.labels import ProvisionKind
from app.services import amendments
from app.services.views import ProvisionDetail
from app.web.errors import status_of
from app.web.pages.routing import PageRoute
from app.web.pages.text import (
    ProvisionPanel,
    act,
    full_page,
    provision_detail,
    provision_panel,
)
from app.web.pages.text import base_seal as sealed
from app.web.pages.viewer import Viewer, VisitDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form(max_length=20_000)]
OptionalInt = Annotated[int | None, Form()]


def preview_of(base: str, text: str) -> tuple[DiffOp, ...]:
    """The word-level diff a delegate sees while typing (the same one the service stores)."""
    text = " ".join(text.split())
    if not text or text == base:
        return ()
    return word_diff(base, text)


def render_form(
    request: Request,
    panel: ProvisionPanel,
    kind: AmendmentKind,
    form: dict[str, Any],
    *,
    message: str | None = None,
    error: bool = False,
    status_code: int = 200,
    oob_state: bool = False,
) -> Response:
    base = "" if kind is AmendmentKind.INSERT_AFTER else panel.provision.text
    context = panel.context()
    context.update(
        kind=kind,
        form=form,
        form_message=message,
        form_error=error,
        preview=preview_of(base, form.get("text") or "") if kind in _WITH_TEXT else (),
        oob_state=oob_state,
    )
    return render(request, "proposals/_propose_form.html", context, status_code=status_code)


_WITH_TEXT = (AmendmentKind.WORDING, AmendmentKind.INSERT_AFTER)


def _base_text(detail: ProvisionDetail, version: int | None) -> str:
    for v in detail.versions:
        if v.number == version:
            return v.text
    return detail.provision.text


# The forms a delegate uses all the time (the preview at each pause in typing, propose, support)
# answer in one thread hop, the viewer looked up in it (`Visit`, app/web/pages/viewer.py).


@router.post("/provisions/{provision_id}/preview")
async def preview(
    provision_id: int,
    request: Request,
    visit: VisitDep,
    text: TextField = "",
    expected_version: OptionalInt = None,
    kind: Annotated[AmendmentKind, Form()] = AmendmentKind.WORDING,
    base: Annotated[str | None, Form(max_length=20_000)] = None,
    base_seal: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The diff of what is being typed against the version the delegate is looking at.

    Typing sends one of these at every pause, so the wording form carries the words of that
    version (`base`, sealed by the server that wrote the form): the diff needs nothing from the
    database, and shows nothing the delegate did not already have (it is a preview only; the
    proposal is diffed again when submitted). A form without them (the co-facilitators'
    wording, an old page) or with words the server did not seal has them looked up.
    """

    def answer(viewer: Viewer) -> Response:
        words = base
        if kind is AmendmentKind.INSERT_AFTER:
            words = ""
        elif words is None or not hmac.compare_digest(
            base_seal, sealed(request, provision_id, words)
        ):
            detail = provision_detail(visit.database, viewer.actor, provision_id)
            words = _base_text(detail, expected_version)
        return render(
            request, "proposals/_preview.html", {"preview": preview_of(words, text), "kind": kind}
        )

    return await visit.run(answer)


@router.post("/provisions/{provision_id}/proposals")
async def propose(
    provision_id: int,
    request: Request,
    visit: VisitDep,
    kind: Annotated[AmendmentKind, Form()] = AmendmentKind.WORDING,
    text: TextField = "",
    justification: TextField = "",
    on_behalf_of: Annotated[str, Form(max_length=32)] = "",
    expected_version: OptionalInt = None,
    after_id: OptionalInt = None,
    new_kind: Annotated[ProvisionKind | None, Form()] = None,
) -> Response:
    def answer(viewer: Viewer) -> Response:
        database = visit.database
        form = {
            "text": text,
            "justification": justification,
            "on_behalf_of": on_behalf_of,
            "expected_version": expected_version,
            "after_id": after_id,
            "new_kind": new_kind.value if new_kind else None,
        }
        try:
            result = amendments.propose(
                database,
                actor=viewer.actor,
                provision_id=provision_id,
                kind=kind,
                text=text if kind in _WITH_TEXT else None,
                after_id=after_id if kind is AmendmentKind.MOVE else None,
                new_kind=new_kind if kind is AmendmentKind.INSERT_AFTER else None,
                on_behalf_of=on_behalf_of or None,
                justification=justification,
                expected_version=expected_version,
            )
        except DomainError as exc:
            panel = provision_panel(request, database, viewer, provision_id)
            if isinstance(exc, Conflict):
                # Keep the delegate's words; the form now sits on the fresh version, whose words
                # the panel shows, so a second submit proposes them against what is there now.
                form["expected_version"] = panel.provision.version
            return _answer(request, database, viewer, panel, kind, form, exc.message, True, exc)
        panel = provision_panel(request, database, viewer, provision_id)
        message = (
            f"Your delegation joined proposal {result.reference}: the same wording was already "
            "on the table."
            if result.joined
            else f"Your proposal {result.reference} is on the table."
        )
        return _answer(request, database, viewer, panel, kind, panel.blank(kind), message)

    return await visit.run(answer)


def _answer(
    request: Request,
    database: Database,
    viewer: Viewer,
    panel: ProvisionPanel,
    kind: AmendmentKind,
    form: dict[str, Any],
    message: str,
    error: bool = False,
    exc: DomainError | None = None,
) -> Response:
    status_code = status_of(exc) if exc else 200
    if not is_htmx(request):
        panel.message, panel.error = message, error
        return full_page(request, database, viewer, panel, status_code=status_code)
    return render_form(
        request,
        panel,
        kind,
        form,
        message=message,
        error=error,
        status_code=status_code,
        oob_state=not error,
    )


@router.post("/amendments/{amendment_id}/position")
async def position(
    amendment_id: int,
    request: Request,
    visit: VisitDep,
    stance: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "panel",
) -> Response:
    def answer(viewer: Viewer) -> Response:
        database = visit.database

        def action() -> str:
            result = amendments.take_position(
                database, actor=viewer.actor, amendment_id=amendment_id, stance=stance or None
            )
            done = {"support": "supports", "oppose": "opposes"}.get(stance, "takes no position on")
            who = viewer.delegation.short if viewer.delegation else "You"
            return f"{who} {done} {result.reference}."

        return _act_on(request, database, viewer, amendment_id, view, action)

    return await visit.run(answer)


@router.post("/amendments/{amendment_id}/withdraw")
async def withdraw(
    amendment_id: int,
    request: Request,
    visit: VisitDep,
    view: Annotated[str, Form()] = "panel",
) -> Response:
    def answer(viewer: Viewer) -> Response:
        database = visit.database

        def action() -> str:
            result = amendments.withdraw(database, actor=viewer.actor, amendment_id=amendment_id)
            if result.state.value == "withdrawn":
                return f"{result.reference} is withdrawn."
            return (
                f"Your delegation withdrew from {result.reference}; its other proponents keep it."
            )

        return _act_on(request, database, viewer, amendment_id, view, action)

    return await visit.run(answer)


def _act_on(
    request: Request,
    database: Database,
    viewer: Viewer,
    amendment_id: int,
    view: str,
    action: Callable[[], str],
) -> Response:
    """`act` on a proposal: the answer is the state of the provision it is on."""
    provision_id = amendments.get_amendment(
        database, viewer=viewer.actor, amendment_id=amendment_id
    ).provision_id
    return act(request, database, viewer, provision_id=provision_id, view=view, action=action)


@router.get("/amendments/{amendment_id}/redraft")
async def redraft_form(amendment_id: int, request: Request, visit: VisitDep) -> Response:
    def answer(viewer: Viewer) -> Response:
        database = visit.database
        amendment = amendments.get_amendment(
            database, viewer=viewer.actor, amendment_id=amendment_id
        )
        panel = provision_panel(request, database, viewer, amendment.provision_id)
        return _redraft(
            request,
            panel,
            amendment.id,
            amendment.reference,
            {
                "text": amendment.proposed_text or "",
                "justification": amendment.justification or "",
            },
        )

    return await visit.run(answer)


def _redraft(
    request: Request,
    panel: ProvisionPanel,
    amendment_id: int,
    reference: str,
    form: dict[str, Any],
    *,
    message: str | None = None,
    error: bool = False,
    status_code: int = 200,
) -> Response:
    context = panel.context()
    context.update(
        amendment_id=amendment_id,
        reference=reference,
        form=form,
        form_message=message,
        form_error=error,
        preview=preview_of(panel.provision.text, form["text"]),
    )
    return render(request, "proposals/_redraft_form.html", context, status_code=status_code)


@router.post("/amendments/{amendment_id}/redraft")
async def redraft(
    amendment_id: int,
    request: Request,
    visit: VisitDep,
    text: TextField = "",
    justification: TextField = "",
) -> Response:
    def answer(viewer: Viewer) -> Response:
        database = visit.database
        amendment = amendments.get_amendment(
            database, viewer=viewer.actor, amendment_id=amendment_id
        )
        try:
            result = amendments.revise(
                database,
                actor=viewer.actor,
                amendment_id=amendment_id,
                text=text,
                justification=justification,
            )
        except DomainError as exc:
            panel = provision_panel(request, database, viewer, amendment.provision_id)
            form = {"text": text, "justification": justification}
            return _redraft(
                request,
                panel,
                amendment_id,
                amendment.reference,
                form,
                message=exc.message,
                error=True,
                status_code=status_of(exc),
            )
        panel = provision_panel(
            request,
            database,
            viewer,
            amendment.provision_id,
            message=f"{result.reference} is redrafted; its earlier wording stays in its history.",
        )
        if not is_htmx(request):
            return full_page(request, database, viewer, panel)
        context = panel.context()
        context.update(oob_state=True)
        return render(request, "proposals/_redraft_done.html", context)

    return await visit.run(answer)
