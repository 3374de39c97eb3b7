"""Stakeholders' written inputs: heard, shown apart from States' proposals, never amendments.

Civil society, the private sector, diaspora and migrant organisations may comment on a provision
or on the whole text. Only a delegation can turn an input into a proposal, by adopting it as its
own (the amendment is then the delegation's, and the input records which one it became).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.db.models import Provision, StakeholderInput, User
from app.db.session import Database
from app.domain.amendments import AmendmentKind
from app.domain.clean_text import clean_text
from app.domain.errors import Invalid, NotAllowed, NotFound
from app.domain.roles import Actor, Role
from app.services import amendments, events
from app.services.text import get_document
from app.services.views import AmendmentView

MAX_INPUT = 20_000


@dataclass(frozen=True, slots=True)
class InputView:
    id: int
    document_id: int
    provision_id: int | None
    organisation: str
    author: str
    text: str
    at: datetime
    adopted_by: int | None


def submit_input(
    database: Database,
    *,
    actor: Actor,
    document_id: int,
    text: str,
    organisation: str,
    provision_id: int | None = None,
) -> InputView:
    if actor.role is not Role.STAKEHOLDER:
        raise NotAllowed("Written inputs are for stakeholders; delegations make proposals.")
    text = clean_text(text or "", what="The input", multiline=True)
    organisation = clean_text(organisation or "", what="The organisation's name")
    if not text:
        raise Invalid("The input is empty.")
    if len(text) > MAX_INPUT:
        raise Invalid(f"An input is at most {MAX_INPUT:,} characters.")
    if not organisation or len(organisation) > 200:
        raise Invalid("Name the organisation you write for (at most 200 characters).")
    with database.write() as db:
        document = get_document(db, document_id, viewer=actor)
        if provision_id is not None:
            provision = db.get(Provision, provision_id)
            if provision is None or provision.document_id != document_id:
                raise NotFound(f"There is no provision {provision_id} in this document.")
        row = StakeholderInput(
            document_id=document_id,
            provision_id=provision_id,
            user_id=actor.user_id,
            organisation=organisation,
            text=text,
        )
        db.add(row)
        db.flush()
        events.record(
            db,
            kind="input.submitted",
            actor=actor,
            subject="input",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=document_id,
            provision_id=provision_id,
        )
        return _view(row, actor.display_name)


def list_inputs(
    database: Database, *, document_id: int, viewer: Actor | None = None
) -> list[InputView]:
    with database.read() as db:
        get_document(db, document_id, viewer=viewer)
        rows = db.execute(
            select(StakeholderInput, User.display_name)
            .join(User, StakeholderInput.user_id == User.id)
            .where(StakeholderInput.document_id == document_id)
            .order_by(StakeholderInput.id)
        ).all()
        return [_view(row, author) for row, author in rows]


def adopt_input(
    database: Database,
    *,
    actor: Actor,
    input_id: int,
    text: str,
    provision_id: int,
    on_behalf_of: str | None = None,
    justification: str | None = None,
) -> AmendmentView:
    """A delegation makes a stakeholder's input its own proposal (its wording, its name)."""
    with database.write() as db:
        row = db.get(StakeholderInput, input_id)
        if row is None:
            raise NotFound(f"There is no input {input_id}.")
        if row.adopted_by_id is not None:
            raise Invalid(f"This input has already been adopted as A-{row.adopted_by_id}.")
        proposal = amendments.propose_in(
            db,
            actor=actor,
            provision_id=provision_id,
            kind=AmendmentKind.WORDING,
            text=text,
            on_behalf_of=on_behalf_of,
            justification=justification or f"Adopted from the input of {row.organisation}.",
        )
        if proposal.document_id != row.document_id:
            raise Invalid("The input and the provision belong to different documents.")
        row.adopted_by_id = proposal.id
        document = get_document(db, row.document_id)
        events.record(
            db,
            kind="input.adopted",
            actor=actor,
            subject="input",
            subject_id=row.id,
            negotiation_id=document.negotiation_id,
            document_id=row.document_id,
            amendment_id=proposal.id,
        )
        return proposal


def _view(row: StakeholderInput, author: str) -> InputView:
    return InputView(
        id=row.id,
        document_id=row.document_id,
        provision_id=row.provision_id,
        organisation=row.organisation,
        author=author,
        text=row.text,
        at=row.at,
        adopted_by=row.adopted_by_id,
    )
