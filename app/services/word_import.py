"""Word files coming in: a draft to start a document, and a delegation's marked-up copy.

A marked-up copy is the circulated .docx edited with Track Changes (or without): each changed
paragraph becomes a proposal in the uploading delegation's name, against the version that was
circulated. The delegation sees the preview first; nothing is saved until it confirms, and
then every selected change is saved in one transaction — all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.db.models import Provision, ProvisionVersion
from app.db.session import Database
from app.docx.importing import DraftReport, import_draft
from app.docx.marked_up import MarkedUpReport, ProposedChange, read_marked_up
from app.domain.amendments import AmendmentKind
from app.domain.diff import NeedsRedraft, rebase
from app.domain.errors import Invalid, NotAllowed
from app.domain.labels import ProvisionKind
from app.domain.roles import Actor
from app.services import amendments, documents
from app.services.exports import circulated_text, latest_revision_seq
from app.services.permissions import Action, require
from app.services.views import AmendmentView, DocumentView

MAX_UPLOAD = 20_000_000


def preview_draft(data: bytes) -> DraftReport:
    """What the import recognises in a Word draft, before anything is created."""
    return import_draft(data)


def import_docx(
    database: Database,
    *,
    actor: Actor,
    negotiation_id: int,
    data: bytes,
    revision_name: str = "Zero draft",
    issued_on: date,
) -> tuple[DocumentView, DraftReport]:
    documents.check_may_import(database, actor=actor, negotiation_id=negotiation_id)
    report = import_draft(data)
    document = documents.import_outline(
        database,
        actor=actor,
        negotiation_id=negotiation_id,
        outline=report.outline,
        revision_name=revision_name,
        issued_on=issued_on,
    )
    return document, report


@dataclass(frozen=True, slots=True)
class MarkedUpPreview:
    revision: str
    report: MarkedUpReport
    lines: tuple[str, ...]


def preview_marked_up(
    database: Database, *, actor: Actor, document_id: int, data: bytes
) -> MarkedUpPreview:
    """Read the copy against the revision it names (or the latest one), save nothing.

    The comparison is always with a frozen revision, never the moving rolling text: a change
    the co-facilitators have accepted since then reads as "already in the text", not as a
    proposal to undo it.
    """
    require(actor, Action.PROPOSE)
    latest = latest_revision_seq(database, document_id=document_id)
    text, _ = circulated_text(database, document_id=document_id, revision=str(latest), viewer=actor)
    report = read_marked_up(data, text)
    named = report.revision_seq
    if report.document_id == document_id and named is not None and named != latest:
        text, _ = circulated_text(
            database, document_id=document_id, revision=str(named), viewer=actor
        )
        report = read_marked_up(data, text)
    return MarkedUpPreview(revision=text.revision, report=report, lines=report.preview)


@dataclass(frozen=True, slots=True)
class Skipped:
    change: int
    reason: str


@dataclass(frozen=True, slots=True)
class MarkedUpResult:
    proposals: tuple[AmendmentView, ...]
    skipped: tuple[Skipped, ...]


def confirm_marked_up(
    database: Database,
    *,
    actor: Actor,
    document_id: int,
    data: bytes,
    selected: Sequence[int] | None = None,
    on_behalf_of: str | None = None,
    justification: str | None = None,
) -> MarkedUpResult:
    """Save the chosen changes of the copy as proposals, all in one transaction."""
    preview = preview_marked_up(database, actor=actor, document_id=document_id, data=data)
    changes = preview.report.changes
    chosen = list(range(len(changes))) if selected is None else list(selected)
    if not chosen:
        raise Invalid("Choose at least one change to propose.")
    for index in chosen:
        if not 0 <= index < len(changes):
            raise Invalid(f"There is no change {index + 1} in this file.")
    made: list[AmendmentView] = []
    skipped: list[Skipped] = []
    with database.write() as db:
        for index in chosen:
            change = changes[index]
            try:
                kind, text, provision_id, after_id, new_kind = _as_proposal(db, change)
                with db.begin_nested():  # one refused change leaves the others intact
                    proposal = amendments.propose_in(
                        db,
                        actor=actor,
                        provision_id=provision_id,
                        kind=kind,
                        text=text,
                        after_id=after_id,
                        new_kind=new_kind,
                        on_behalf_of=on_behalf_of,
                        justification=justification,
                    )
            except NotAllowed:
                raise
            except Invalid as exc:
                skipped.append(Skipped(index, exc.message))
                continue
            made.append(proposal)
        if not made:
            raise Invalid(
                "None of the chosen changes can be proposed: "
                + "; ".join(f"change {s.change + 1}: {s.reason}" for s in skipped)
            )
    return MarkedUpResult(tuple(made), tuple(skipped))


def _as_proposal(
    db: Session, change: ProposedChange
) -> tuple[AmendmentKind, str | None, int, int | None, ProvisionKind | None]:
    """A change read from the copy, carried onto the provision's current wording."""
    if change.kind == "insert_after":
        if change.after_provision_id is None:
            raise Invalid("a new paragraph before the first one must be proposed in Rolltext")
        kind = ProvisionKind(change.new_kind) if change.new_kind else None
        return AmendmentKind.INSERT_AFTER, change.text, change.after_provision_id, None, kind
    assert change.provision_id is not None
    if change.kind == "delete":
        return AmendmentKind.DELETE, None, change.provision_id, None, None
    if change.kind == "move":
        return AmendmentKind.MOVE, None, change.provision_id, change.after_provision_id, None
    provision = db.get(Provision, change.provision_id)
    if provision is None:
        raise Invalid("the paragraph is no longer in the text")
    current = db.get(ProvisionVersion, provision.current_version_id)
    assert current is not None and change.text is not None
    circulated = change.original if change.original is not None else current.text
    if circulated == current.text:
        return AmendmentKind.WORDING, change.text, provision.id, None, None
    outcome = rebase(circulated, current.text, change.text)
    if isinstance(outcome, NeedsRedraft):
        raise Invalid(f"the paragraph changed since it was circulated ({outcome.reason})")
    if outcome.already_in_text:
        raise Invalid("the change is already in the text")
    return AmendmentKind.WORDING, outcome.proposed, provision.id, None, None
