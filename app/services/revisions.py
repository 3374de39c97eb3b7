"""Revisions: named, frozen snapshots of the whole document (Zero draft, Rev.1, Rev.2…).

Issuing a revision is when labels change: deleted provisions leave the text, and — unless the
co-facilitators keep bis/ter for now — every provision gets a dense number. The revision keeps
the old → new label map, and its entries record exactly which version of which provision stood
where, so it can be rebuilt (and exported again) at any time.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import (
    Delegation,
    Provision,
    ProvisionVersion,
    Revision,
    RevisionEntry,
)
from app.db.session import Database
from app.domain.clean_text import clean_text
from app.domain.errors import Invalid, NotFound
from app.domain.labels import LabelNode, label_map, renumber
from app.domain.roles import Actor
from app.services import events
from app.services.permissions import Action, require_cofacilitator_of
from app.services.text import (
    DocumentTree,
    build_tree,
    cofacilitator_ids,
    get_document,
    load_tree,
    read_tree,
)
from app.services.views import RevisionEntryView, RevisionView

MAX_NAME = 100


def preview_renumbering(
    database: Database, *, document_id: int, viewer: Actor | None = None
) -> dict[str, str]:
    """The labels a renumbering revision would change (old → new; "" leaves the text)."""
    with database.read() as db:
        tree = read_tree(db, document_id, viewer=viewer)
        return {old: new for old, new in _label_changes(tree).items() if old != new}


def issue_revision(
    database: Database,
    *,
    actor: Actor,
    document_id: int,
    name: str,
    issued_on: date,
    renumber_labels: bool = True,
) -> RevisionView:
    with database.write() as db:
        tree = load_tree(db, document_id)
        require_cofacilitator_of(
            actor, cofacilitator_ids(db, tree.document.negotiation_id), Action.ISSUE_REVISION
        )
        revision = freeze(
            db, tree, name=name, issued_on=issued_on, renumber_labels=renumber_labels, actor=actor
        )
        events.record(
            db,
            kind="revision.issued",
            actor=actor,
            subject="revision",
            subject_id=revision.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            name=revision.name,
        )
        return revision_view(db, revision)


def freeze(
    db: Session,
    tree: DocumentTree,
    *,
    name: str,
    issued_on: date,
    renumber_labels: bool,
    actor: Actor | None,
) -> Revision:
    """Snapshot the document as it stands now (shared by import, which freezes the zero draft)."""
    name = clean_text(name or "", what="The revision name")
    if not name:
        raise Invalid("A revision needs a name, such as 'Rev.1'.")
    if len(name) > MAX_NAME:
        raise Invalid(f"A revision name is at most {MAX_NAME} characters.")
    document = tree.document
    if db.scalar(
        select(Revision.id).where(Revision.document_id == document.id, Revision.name == name)
    ):
        raise Invalid(f"This document already has a revision named {name!r}.")
    last = db.scalar(select(func.max(Revision.seq)).where(Revision.document_id == document.id))
    seq = 0 if last is None else last + 1
    changes: dict[str, str] = {}
    if renumber_labels:
        changes = _label_changes(tree)
        keys = renumber(document.scheme, _nodes(tree))
    revision = Revision(
        document_id=document.id,
        seq=seq,
        name=name,
        issued_on=issued_on,
        renumbered=renumber_labels,
        label_map=changes,
        created_by_id=actor.user_id if actor else None,
    )
    db.add(revision)
    db.flush()
    removed = {p.id for p in tree.order if p.deleted or _has_deleted_ancestor(tree, p)}
    for provision in tree.order:
        if provision.id in removed:
            provision.removed_in_revision_id = revision.id
        elif renumber_labels:
            key = keys.get(provision.id)
            provision.label_number = key.number if key else None
            provision.label_insert = key.insert if key else 0
            provision.label_alt = key.alt if key else 0
    db.flush()
    survivors = [p for p in tree.order if p.id not in removed]
    fresh = build_tree(document, survivors)
    names = _reservation_names(db, survivors)
    for ordinal, provision in enumerate(fresh.order):
        assert provision.current_version_id is not None
        db.add(
            RevisionEntry(
                revision_id=revision.id,
                ordinal=ordinal,
                provision_id=provision.id,
                version_id=provision.current_version_id,
                parent_provision_id=provision.parent_id,
                depth=fresh.depth[provision.id],
                kind=provision.kind,
                label=fresh.label(provision.id),
                status=provision.status,
                reservation=names.get(provision.reservation_delegation_id or 0),
            )
        )
    db.flush()
    return revision


def list_revisions(
    database: Database, *, document_id: int, viewer: Actor | None = None
) -> list[RevisionView]:
    with database.read() as db:
        get_document(db, document_id, viewer=viewer)
        rows = db.scalars(
            select(Revision).where(Revision.document_id == document_id).order_by(Revision.seq)
        ).all()
        return [revision_view(db, r, entries=False) for r in rows]


def get_revision(
    database: Database, *, document_id: int, ref: str, viewer: Actor | None = None
) -> RevisionView:
    """A revision by sequence number ("0", "1") or name ("Rev.1")."""
    with database.read() as db:
        get_document(db, document_id, viewer=viewer)
        return revision_view(db, find_revision(db, document_id, ref))


def revision_number(ref: str) -> int | None:
    """The sequence number a reference names ("0", "1"), or None for a name ("Rev.1").

    Only plain digits, and few enough for a database integer: "²" or a 30-digit number is no
    revision number (and can then only be a name no revision has).
    """
    if ref.isascii() and ref.isdigit() and len(ref) <= 9:
        return int(ref)
    return None


def find_revision(db: Session, document_id: int, ref: str) -> Revision:
    """A revision of the document by number or name; NotFound names the reference asked for."""
    ref = clean_text(ref, what="The revision reference")
    number = revision_number(ref)
    revision = db.scalar(
        select(Revision).where(
            Revision.document_id == document_id,
            Revision.seq == number if number is not None else Revision.name == ref,
        )
    )
    if revision is None:
        raise NotFound(f"This document has no revision {ref!r}.")
    return revision


def revision_view(db: Session, revision: Revision, *, entries: bool = True) -> RevisionView:
    rows: tuple[RevisionEntryView, ...] = ()
    if entries:
        pairs = db.execute(
            select(RevisionEntry, ProvisionVersion)
            .join(ProvisionVersion, RevisionEntry.version_id == ProvisionVersion.id)
            .where(RevisionEntry.revision_id == revision.id)
            .order_by(RevisionEntry.ordinal)
        )
        rows = tuple(
            RevisionEntryView(
                provision_id=e.provision_id,
                parent_id=e.parent_provision_id,
                depth=e.depth,
                kind=e.kind,
                label=e.label,
                text=v.text,
                version=v.number,
                status=e.status,
                reservation=e.reservation,
            )
            for e, v in pairs
        )
    return RevisionView(
        id=revision.id,
        document_id=revision.document_id,
        seq=revision.seq,
        name=revision.name,
        issued_on=revision.issued_on,
        renumbered=revision.renumbered,
        label_map=dict(revision.label_map),
        created_at=revision.created_at,
        entries=rows,
    )


def _nodes(tree: DocumentTree) -> list[LabelNode]:
    return [
        LabelNode(
            id=p.id,
            kind=p.kind,
            parent_id=p.parent_id,
            key=p.label_key,
            deleted=p.deleted or _has_deleted_ancestor(tree, p),
        )
        for p in tree.order
    ]


def _label_changes(tree: DocumentTree) -> dict[str, str]:
    nodes = _nodes(tree)
    keys = renumber(tree.document.scheme, nodes)
    return label_map(tree.document.scheme, nodes, keys)


def _has_deleted_ancestor(tree: DocumentTree, provision: Provision) -> bool:
    parent_id = provision.parent_id
    while parent_id is not None:
        parent = tree.by_id(parent_id)
        if parent.deleted:
            return True
        parent_id = parent.parent_id
    return False


def _reservation_names(db: Session, provisions: list[Provision]) -> dict[int, str]:
    ids = {p.reservation_delegation_id for p in provisions if p.reservation_delegation_id}
    if not ids:
        return {}
    return dict(
        db.execute(select(Delegation.id, Delegation.short).where(Delegation.id.in_(ids))).all()
    )
