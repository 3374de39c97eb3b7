"""Word files for circulation: what the co-facilitators send round after every meeting.

The exporters in `app/docx/` take plain values; this module gathers them — the text of a
revision (or the rolling text as it stands) and the pending proposals written on it — in one
read transaction, so an export is a consistent picture of one moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Amendment, AmendmentWording, Negotiation, Revision, RevisionEntry
from app.db.session import Database
from app.docx import model
from app.domain.amendments import AmendmentState
from app.domain.errors import Invalid, NotFound
from app.domain.provisions import status_label
from app.domain.roles import Actor
from app.services.amendments import amendment_views
from app.services.revisions import revision_number, revision_view
from app.services.text import (
    DocumentTree,
    get_document,
    load_directory,
    load_tree,
    provision_views,
)
from app.services.views import AmendmentView
from app.timeutil import utcnow

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ExportKind(StrEnum):
    CLEAN = "clean"
    COMPILATION = "compilation"
    TRACKED = "tracked"
    COMPARISON = "comparison"
    AMENDMENT_LIST = "amendment-list"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    media_type: str = DOCX


#: The files that show the pending proposals; the others need only the text (reading
#: thousands of proposals was most of a clean export's time).
WITH_PROPOSALS = frozenset({ExportKind.COMPILATION, ExportKind.TRACKED, ExportKind.AMENDMENT_LIST})


def export_document(
    database: Database,
    *,
    document_id: int,
    kind: ExportKind,
    revision: str | None = None,
    against: str | None = None,
    attributed: bool = True,
    viewer: Actor | None = None,
) -> ExportFile:
    """Build one circulation file. `revision` None means the rolling text as it stands now."""
    with database.read() as db:
        get_document(db, document_id, viewer=viewer)
        with_proposals = kind in WITH_PROPOSALS
        text, proposals = _circulated(db, document_id, revision, with_proposals=with_proposals)
        if kind is ExportKind.COMPARISON:
            if against is None:
                raise Invalid("A comparison needs the revision to compare against (against=…).")
            old, _ = _circulated(db, document_id, against, with_proposals=False)
    from app.docx import exports

    builders: dict[ExportKind, Callable[[], bytes]] = {
        ExportKind.CLEAN: lambda: exports.clean_text(text),
        ExportKind.COMPILATION: lambda: exports.compilation(text, proposals, attributed=attributed),
        ExportKind.TRACKED: lambda: exports.tracked_changes(text, proposals),
        ExportKind.COMPARISON: lambda: exports.comparison(old, text),
        ExportKind.AMENDMENT_LIST: lambda: exports.amendment_list(text, proposals),
    }
    content = builders[kind]()
    suffix = kind.value
    if kind is ExportKind.COMPILATION and not attributed:
        suffix += "-unattributed"
    if kind is ExportKind.COMPARISON:
        suffix = f"{_slug(text.revision)}-vs-{_slug(old.revision)}"
    return ExportFile(f"{_slug(text.symbol)}_{_slug(text.revision)}_{suffix}.docx", content)


def circulated_text(
    database: Database,
    *,
    document_id: int,
    revision: str | None = None,
    viewer: Actor | None = None,
) -> tuple[model.Circulated, tuple[model.Proposal, ...]]:
    with database.read() as db:
        get_document(db, document_id, viewer=viewer)
        return _circulated(db, document_id, revision)


def latest_revision_seq(database: Database, *, document_id: int) -> int:
    with database.read() as db:
        seq = db.scalar(select(func.max(Revision.seq)).where(Revision.document_id == document_id))
        if seq is None:
            raise NotFound(f"Document {document_id} has no revision.")
        return int(seq)


def _circulated(
    db: Session, document_id: int, ref: str | None, *, with_proposals: bool = True
) -> tuple[model.Circulated, tuple[model.Proposal, ...]]:
    tree = load_tree(db, document_id)
    document = tree.document
    negotiation = db.get(Negotiation, document.negotiation_id)
    assert negotiation is not None
    revisions = db.scalars(
        select(Revision).where(Revision.document_id == document_id).order_by(Revision.seq)
    ).all()
    if ref is None:
        latest = revisions[-1] if revisions else None
        name = f"{latest.name}, rolling text" if latest else "Rolling text"
        seq = latest.seq if latest else 0
        issued_on = utcnow().date()
        views = provision_views(db, tree)
        paragraphs = tuple(
            model.Paragraph(
                provision_id=v.id,
                kind=v.kind.value,
                depth=v.depth,
                label=v.label,
                text=v.text,
                status=v.status.value,
                status_label=v.status_label,
                deleted=v.deleted,
            )
            for v in views
        )
        version_ids = {v.version_id for v in views}
    else:
        found = next((r for r in revisions if r.seq == revision_number(ref) or r.name == ref), None)
        if found is None:
            raise NotFound(f"This document has no revision {ref!r}.")
        view = revision_view(db, found)
        name, seq, issued_on = found.name, found.seq, found.issued_on
        paragraphs = tuple(
            model.Paragraph(
                provision_id=e.provision_id,
                kind=e.kind.value,
                depth=e.depth,
                label=e.label,
                text=e.text,
                status=e.status.value,
                status_label=status_label(e.status, e.reservation),
                deleted=False,
            )
            for e in view.entries
        )
        version_ids = set(
            db.scalars(
                select(RevisionEntry.version_id).where(RevisionEntry.revision_id == found.id)
            )
        )
    circulated = model.Circulated(
        symbol=negotiation.symbol,
        title=document.title,
        subtitle=document.subtitle,
        scheme=document.scheme.value,
        revision=name,
        issued_on=issued_on,
        document_id=document.id,
        revision_seq=seq,
        paragraphs=paragraphs,
    )
    if not with_proposals:
        return circulated, ()
    return circulated, _proposals_on(db, tree, version_ids, paragraphs)


def _proposals_on(
    db: Session, tree: DocumentTree, version_ids: set[int], paragraphs: tuple[model.Paragraph, ...]
) -> tuple[model.Proposal, ...]:
    """Pending proposals written on exactly these versions (new provisions: on any anchor)."""
    in_text = {p.provision_id for p in paragraphs}
    rows = db.scalars(
        select(Amendment)
        .join(AmendmentWording, Amendment.current_wording_id == AmendmentWording.id)
        .where(
            Amendment.document_id == tree.document.id,
            Amendment.state == AmendmentState.PENDING,
            Amendment.provision_id.in_(in_text),
        )
        .order_by(Amendment.id)
    ).all()
    wordings = {
        w.id: w
        for w in db.scalars(
            select(AmendmentWording).where(
                AmendmentWording.id.in_([a.current_wording_id for a in rows])
            )
        )
    }
    applicable = [
        a
        for a in rows
        if a.current_wording_id is not None
        and (
            wordings[a.current_wording_id].base_version_id in version_ids
            or a.kind.value == "insert_after"
        )
    ]
    views = amendment_views(db, applicable, tree=tree, directory=load_directory(db))
    return tuple(_proposal(v) for v in views)


def _proposal(view: AmendmentView) -> model.Proposal:
    return model.Proposal(
        reference=view.reference,
        provision_id=view.provision_id,
        kind=view.kind.value,
        proponents=view.proponents,
        supporters=view.supporters,
        opponents=view.opponents,
        justification=view.justification,
        created_at=view.created_at,
        diff=view.diff,
        text=view.proposed_text,
        new_label=None,
        new_kind=view.new_kind.value if view.new_kind else None,
        move_after_label=view.move_after_label,
        state=view.state.value,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "document"
