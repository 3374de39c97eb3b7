"""Stakeholders' written inputs in the browser: shown apart from States' proposals.

Civil society, the private sector, diaspora and migrant organisations write inputs on a provision
or on the whole text (the document's "Inputs" page, or a provision's panel). They are never
amendments: a delegation may adopt one as its own proposal, which then carries its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from app.db.session import Database
from app.domain.errors import DomainError, Invalid, NotFound
from app.domain.roles import Role
from app.services import documents, inputs
from app.services.inputs import InputView
from app.services.views import ProvisionView
from app.web.deps import DatabaseDep
from app.web.errors import status_of
from app.web.pages.routing import PageRoute
from app.web.pages.text import DocumentPage, document_page
from app.web.pages.viewer import Viewer, ViewerDep
from app.web.router import Router
from app.web.templating import is_htmx, render

router = Router(route_class=PageRoute, include_in_schema=False)

InputText = Annotated[str, Form(max_length=inputs.MAX_INPUT + 100)]
FLASH = "inputs_flash"


@dataclass(frozen=True)
class InputLine:
    """An input with the label of the provision it is about ("" for the whole text)."""

    input: InputView
    label: str

    @property
    def about(self) -> str:
        return self.label or "the whole text"


def input_lines(database: Database, viewer: Viewer, page: DocumentPage) -> list[InputLine]:
    labels = {p.id: p.label or "a heading" for p in page.document.provisions}
    return [
        InputLine(i, labels.get(i.provision_id, "") if i.provision_id else "")
        for i in inputs.list_inputs(database, document_id=page.document.id, viewer=viewer.actor)
    ]


def _stakeholder(viewer: Viewer) -> bool:
    return viewer.actor.role is Role.STAKEHOLDER


def _page(
    request: Request,
    database: Database,
    viewer: Viewer,
    page: DocumentPage,
    *,
    form: dict[str, object] | None = None,
    message: str | None = None,
    error: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "inputs/index.html",
        page.context(
            lines=input_lines(database, viewer, page),
            stakeholder=_stakeholder(page.viewer),
            form=form or {"organisation": "", "text": "", "provision_id": None},
            form_message=message,
            form_error=error,
            provisions=[p for p in page.document.provisions if not p.deleted],
        ),
        status_code=status_code,
    )


@router.get("/documents/{document_id}/inputs")
def inputs_page(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    page = document_page(database, viewer, document_id)
    message = request.session.pop(FLASH, None)
    return _page(request, database, viewer, page, message=message if message else None)


@router.get("/documents/{document_id}/inputs/list")
def inputs_list(
    document_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """The inputs, re-fetched live when one is submitted or adopted."""
    page = document_page(database, viewer, document_id)
    return render(
        request, "inputs/_list.html", page.context(lines=input_lines(database, viewer, page))
    )


@router.get("/provisions/{provision_id}/inputs")
def provision_inputs(
    provision_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """A provision's panel shows the inputs on it, apart from the proposals."""
    detail = documents.get_provision(database, viewer=viewer.actor, provision_id=provision_id)
    page = document_page(database, viewer, detail.provision.document_id)
    lines = [
        line
        for line in input_lines(database, viewer, page)
        if line.input.provision_id == provision_id
    ]
    return render(
        request,
        "inputs/_on_provision.html",
        page.context(lines=lines, p=detail.provision),
    )


@router.post("/documents/{document_id}/inputs")
def submit_input(
    document_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    text: InputText = "",
    organisation: Annotated[str, Form(max_length=300)] = "",
    provision_id: Annotated[str, Form(max_length=20)] = "",
    panel: Annotated[bool, Form()] = False,
) -> Response:
    """A stakeholder's input; from a provision's panel (HTMX) the form alone is the answer."""
    page = document_page(database, viewer, document_id)
    pid = int(provision_id) if provision_id.strip().isdigit() else None
    form: dict[str, object] = {"organisation": organisation, "text": text, "provision_id": pid}
    try:
        submitted = inputs.submit_input(
            database,
            actor=viewer.actor,
            document_id=document_id,
            text=text,
            organisation=organisation,
            provision_id=pid,
        )
    except DomainError as exc:
        if is_htmx(request):
            return _form(
                request, page, form, pid if panel else None, exc.message, True, status_of(exc)
            )
        return _page(
            request,
            database,
            viewer,
            page,
            form=form,
            message=exc.message,
            error=True,
            status_code=status_of(exc),
        )
    label = next((p.label for p in page.document.provisions if p.id == pid), "") if pid else ""
    message = f"Your input on {label or 'the whole text'} is published (I-{submitted.id})."
    if is_htmx(request):
        blank: dict[str, object] = {"organisation": organisation, "text": "", "provision_id": pid}
        return _form(request, page, blank, pid if panel else None, message, False, 200)
    request.session[FLASH] = message
    return RedirectResponse(f"/documents/{document_id}/inputs", status_code=303)


def _form(
    request: Request,
    page: DocumentPage,
    form: dict[str, object],
    fixed_provision: int | None,
    message: str,
    error: bool,
    status_code: int,
) -> Response:
    """The input form alone (a provision's panel submits it with HTMX)."""
    return render(
        request,
        "inputs/_form.html",
        page.context(
            form=form,
            form_message=message,
            form_error=error,
            provisions=[p for p in page.document.provisions if not p.deleted],
            fixed_provision=fixed_provision,
        ),
        status_code=status_code,
    )


# -- adopting an input ---------------------------------------------------------------------------


def _adoption(
    database: Database, viewer: Viewer, document_id: int, input_id: int
) -> tuple[DocumentPage, InputLine]:
    page = document_page(database, viewer, document_id)
    for line in input_lines(database, viewer, page):
        if line.input.id == input_id:
            return page, line
    raise NotFound(f"There is no input I-{input_id} on this document.")


def _adopt_page(
    request: Request,
    page: DocumentPage,
    line: InputLine,
    form: dict[str, object],
    *,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    provisions: list[ProvisionView] = [
        p for p in page.document.provisions if not p.deleted and p.kind.value != "heading"
    ]
    return render(
        request,
        "inputs/adopt.html",
        page.context(
            line=line,
            form=form,
            form_message=message,
            form_error=message is not None,
            provisions=provisions,
        ),
        status_code=status_code,
    )


@router.get("/documents/{document_id}/inputs/{input_id}/adopt")
def adopt_form(
    document_id: int, input_id: int, request: Request, viewer: ViewerDep, database: DatabaseDep
) -> Response:
    """A delegate starts from the provision's current wording and writes the input into it."""
    page, line = _adoption(database, viewer, document_id, input_id)
    pid = line.input.provision_id
    current = next((p.text for p in page.document.provisions if p.id == pid), "")
    form: dict[str, object] = {
        "provision_id": pid,
        "text": current,
        "on_behalf_of": "",
        "justification": f"Adopted from the input of {line.input.organisation}.",
    }
    return _adopt_page(request, page, line, form)


@router.post("/documents/{document_id}/inputs/{input_id}/adopt")
def adopt(
    document_id: int,
    input_id: int,
    request: Request,
    viewer: ViewerDep,
    database: DatabaseDep,
    provision_id: Annotated[int | None, Form()] = None,
    text: InputText = "",
    on_behalf_of: Annotated[str, Form(max_length=32)] = "",
    justification: InputText = "",
) -> Response:
    page, line = _adoption(database, viewer, document_id, input_id)
    form: dict[str, object] = {
        "provision_id": provision_id,
        "text": text,
        "on_behalf_of": on_behalf_of,
        "justification": justification,
    }
    try:
        if provision_id is None:
            raise Invalid("Choose the provision the proposal is about.")
        proposal = inputs.adopt_input(
            database,
            actor=viewer.actor,
            input_id=input_id,
            text=text,
            provision_id=provision_id,
            on_behalf_of=on_behalf_of or None,
            justification=justification or None,
        )
    except DomainError as exc:
        return _adopt_page(
            request, page, line, form, message=exc.message, status_code=status_of(exc)
        )
    request.session[FLASH] = (
        f"Input I-{input_id} is now your proposal {proposal.reference} "
        f"on {proposal.provision_label or 'the text'}."
    )
    return RedirectResponse(f"/documents/{document_id}/inputs", status_code=303)
