"""Texts and proposals for other tools: Akoma Ntoso XML in and out, and a JSON feed of the
proposals on a revision.

Both are read from the same values the Word files are made from (`exports.circulated_text`), so
the XML, the feed and the circulated .docx of a revision always agree. The feed's ids are
stable: a proposal is "A-12" for its whole life, a provision keeps its id across revisions
while its label ("OP5 bis") follows the numbering of the revision the feed is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app import timeutil
from app.akn import MEDIA_TYPE
from app.db.models import Amendment, Revision
from app.db.session import Database
from app.docx.model import Proposal
from app.domain.errors import Invalid
from app.domain.roles import Actor
from app.services import documents
from app.services.amendments import amendment_views
from app.services.exports import circulated_text
from app.services.text import read_tree
from app.services.views import AmendmentView, DocumentView

FEED_FORMAT = "rolltext-proposals"
FEED_VERSION = 1


@dataclass(frozen=True, slots=True)
class AknFile:
    filename: str
    content: bytes
    media_type: str = MEDIA_TYPE


def export_akn(
    database: Database, *, document_id: int, revision: str | None = None, viewer: Actor
) -> AknFile:
    """A revision (number or name; None: the rolling text as it stands) as Akoma Ntoso."""
    from app.akn.export import to_akn

    text, _ = circulated_text(database, document_id=document_id, revision=revision, viewer=viewer)
    content = to_akn(text, work_date=_first_issued(database, document_id) or text.issued_on)
    return AknFile(f"{_slug(text.symbol)}_{_slug(text.revision)}.akn.xml", content)


def import_akn(
    database: Database,
    *,
    actor: Actor,
    negotiation_id: int,
    data: bytes,
    revision_name: str = "Zero draft",
    issued_on: date,
) -> DocumentView:
    """An Akoma Ntoso draft becomes a document, exactly as a Word or text draft does."""
    from app.akn.reading import AknError, read_akn

    documents.check_may_import(database, actor=actor, negotiation_id=negotiation_id)
    try:
        outline = read_akn(data)
    except AknError as exc:
        raise Invalid(str(exc)) from exc
    return documents.import_outline(
        database,
        actor=actor,
        negotiation_id=negotiation_id,
        outline=outline,
        revision_name=revision_name,
        issued_on=issued_on,
    )


def proposals_feed(
    database: Database, *, document_id: int, revision: str | None = None, viewer: Actor
) -> dict[str, Any]:
    """The pending proposals written on a revision, as JSON other tools can consume (the format
    is in the README, "Feeds for other tools")."""
    text, proposals = circulated_text(
        database, document_id=document_id, revision=revision, viewer=viewer
    )
    views = _views(database, document_id, proposals, viewer)
    labels = {p.provision_id: p.label for p in text.paragraphs}
    return {
        "format": FEED_FORMAT,
        "format_version": FEED_VERSION,
        "generated_at": timeutil.utcnow().isoformat(),
        "negotiation": {"symbol": text.symbol},
        "document": {
            "id": text.document_id,
            "title": text.title,
            "subtitle": text.subtitle,
            "scheme": text.scheme,
        },
        "revision": {
            "seq": text.revision_seq,
            "name": text.revision,
            "issued_on": text.issued_on.isoformat(),
            "rolling": revision is None,
        },
        "provisions": [
            {
                "id": p.provision_id,
                "label": p.label,
                "kind": p.kind,
                "depth": p.depth,
                "text": p.text,
                "status": p.status,
                "deleted": p.deleted,
            }
            for p in text.paragraphs
        ],
        "proposals": [_proposal(p, views.get(p.reference), labels) for p in proposals],
    }


def _proposal(
    proposal: Proposal, view: AmendmentView | None, labels: dict[int, str]
) -> dict[str, Any]:
    codes = view.proponent_codes if view else ()
    return {
        "id": proposal.reference,
        "amendment_id": int(proposal.reference.removeprefix("A-")),
        "kind": proposal.kind,
        "state": proposal.state,
        "provision": {"id": proposal.provision_id, "label": labels.get(proposal.provision_id)},
        "proponents": [
            {"code": codes[i] if i < len(codes) else None, "name": name}
            for i, name in enumerate(proposal.proponents)
        ],
        "supporters": list(proposal.supporters),
        "opponents": list(proposal.opponents),
        "justification": proposal.justification,
        "created_at": proposal.created_at.isoformat(),
        "base_version": view.base_version if view else None,
        "base_text": view.base_text if view else None,
        "proposed_text": proposal.text,
        "diff": [{"op": op.op, "text": op.text} for op in proposal.diff],
        "new_kind": proposal.new_kind,
        "move_after": proposal.move_after_label,
        "needs_redraft": view.needs_redraft if view else False,
    }


def _views(
    database: Database, document_id: int, proposals: tuple[Proposal, ...], viewer: Actor
) -> dict[str, AmendmentView]:
    """Proponents' codes and base versions, which the circulated values do not carry."""
    ids = [int(p.reference.removeprefix("A-")) for p in proposals]
    if not ids:
        return {}
    with database.read() as db:
        tree = read_tree(db, document_id, viewer=viewer)
        rows = db.scalars(select(Amendment).where(Amendment.id.in_(ids))).all()
        return {v.reference: v for v in amendment_views(db, rows, tree=tree)}


def _first_issued(database: Database, document_id: int) -> date | None:
    with database.read() as db:
        first = db.scalar(select(func.min(Revision.seq)).where(Revision.document_id == document_id))
        if first is None:
            return None
        return db.scalar(
            select(Revision.issued_on).where(
                Revision.document_id == document_id, Revision.seq == first
            )
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "document"
