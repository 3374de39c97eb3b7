"""The document as it stands: its provisions in reading order, their labels and current words.

Shared by every use case that needs to know where a provision sits or what it is called, so that
labels are computed in exactly one way.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from app.db.models import (
    Amendment,
    CoFacilitator,
    Delegation,
    Document,
    Group,
    Provision,
    ProvisionVersion,
)
from app.db.peek import Peek
from app.db.session import shows_only_committed
from app.domain.amendments import AmendmentState
from app.domain.clean_text import clean_text
from app.domain.diff import DiffOp
from app.domain.errors import NotFound
from app.domain.labels import LabelKey, LabelNode, ProvisionKind, Scheme, format_labels
from app.domain.provisions import ProvisionStatus, status_label
from app.domain.roles import Actor
from app.services import events
from app.services.permissions import can_read
from app.services.views import ProvisionView

_OP_CODES = {"equal": "=", "delete": "-", "insert": "+"}
_OP_NAMES = {v: k for k, v in _OP_CODES.items()}


def encode_diff(ops: Iterable[DiffOp]) -> list[list[str]]:
    return [[_OP_CODES[op.op], op.text] for op in ops]


def decode_diff(data: Sequence[Sequence[str]]) -> tuple[DiffOp, ...]:
    return tuple(DiffOp(_OP_NAMES[code], text) for code, text in data)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ProvisionPlace:
    """A provision's place in the text, read without the ORM: what labels, reading order and
    messages need. Reading 300 of these costs a tenth of loading 300 `Provision` objects, and
    almost every request needs the whole document's outline (a label depends on its siblings)."""

    id: int
    document_id: int
    parent_id: int | None
    position: int
    kind: ProvisionKind
    label_number: int | None
    label_insert: int
    label_alt: int
    status: ProvisionStatus
    reservation_delegation_id: int | None
    deleted: bool
    current_version_id: int | None

    @property
    def label_key(self) -> LabelKey | None:
        if self.label_number is None:
            return None
        return LabelKey(self.label_number, self.label_insert, self.label_alt)


_PLACE_COLUMNS = tuple(getattr(Provision, f) for f in ProvisionPlace.__slots__)


@dataclass
class DocumentTree:
    """Provisions in reading order (depth-first by position), with depth and label.

    Its rows are `Provision` objects when the caller changes them (`load_tree`), and
    `ProvisionPlace` rows when it only reads (`read_tree`)."""

    document: Any  # a `Document` (load_tree) or a `DocumentRef` (read_tree)
    order: list[Any]
    depth: dict[int, int]
    labels: dict[int, str]

    def by_id(self, provision_id: int) -> Provision:
        for provision in self.order:
            if provision.id == provision_id:
                return provision
        raise NotFound(f"There is no provision {provision_id} in this document.")

    def siblings(self, parent_id: int | None) -> list[Provision]:
        return sorted((p for p in self.order if p.parent_id == parent_id), key=lambda p: p.position)

    def label(self, provision_id: int) -> str:
        return self.labels.get(provision_id, "")

    def describe(self, provision: Provision) -> str:
        """A name for messages: the label, or for an unlabelled heading its kind."""
        return self.labels.get(provision.id) or f"the {provision.kind.value.replace('_', ' ')}"


def get_document(db: Session, document_id: int, *, viewer: Actor | None = None) -> Document:
    """The document; with a `viewer`, only if they may read it (otherwise it does not exist)."""
    document = db.get(Document, document_id)
    if document is None or (viewer is not None and not can_read(viewer, document.visibility)):
        raise NotFound(f"There is no document {document_id}.")
    return document


def document_visibility(db: Session | Connection | Peek, document_id: int) -> str | None:
    """Who may read the document (`permissions.can_read`); None if there is no such document."""
    return db.scalar(_VISIBILITY, {"document_id": document_id})  # type: ignore[no-any-return]


_VISIBILITY = select(Document.visibility).where(Document.id == bindparam("document_id"))


def load_tree(db: Session, document_id: int, *, viewer: Actor | None = None) -> DocumentTree:
    document = get_document(db, document_id, viewer=viewer)
    rows = db.scalars(
        select(Provision).where(
            Provision.document_id == document_id, Provision.removed_in_revision_id.is_(None)
        )
    ).all()
    return build_tree(document, rows)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """The document of a `read_tree`: plain values, kept beyond the session that read them."""

    id: int
    negotiation_id: int
    title: str
    subtitle: str | None
    scheme: Scheme
    visibility: str


_REF_COLUMNS = tuple(getattr(Document, f) for f in DocumentRef.__slots__)


def _database_of(db: Session) -> Any:
    """What identifies a session's database in the caches below: its engine's pool, which
    reading and writing sessions share (they bind to differently configured engines)."""
    return db.get_bind().pool


class _KeptTrees:
    """The outline of each document, kept until the event log says it may have changed.

    Almost every request needs a document's whole outline (labels depend on siblings) and it
    changes far less often than it is read: 200 delegations opening 300 panels share one.
    A request that has read the log already (`events.reading`) checks a kept outline against
    that read; otherwise one query says whether anything but `events.AROUND_THE_TEXT`
    happened since. A writing transaction keeps what it read before its first flush
    (committed, as a reader's) and may use a kept tree, which shows the text as committed
    before it (the state its use case checks against)."""

    SIZE = 32

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary[Any, dict[int, tuple[int, DocumentTree]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self, db: Session, document_id: int) -> DocumentTree | None:
        kept = None
        if shows_only_committed(db):  # else its own changes are part of its outline
            with self._lock:
                kept = self._kept.get(_database_of(db), {}).get(document_id)
        if kept is not None:
            read = events.reading.get()
            if read is not None and read.unchanged_since(db, kept[0], document_id):
                return kept[1]
        if kept is None:
            stamp = events.stamp(db)
        else:
            stamp, moved = events.moved_since(db, kept[0], events.AROUND_THE_TEXT)
            if not moved:
                if stamp != kept[0]:
                    self._keep(db, document_id, stamp, kept[1])
                return kept[1]
        ref = db.execute(select(*_REF_COLUMNS).where(Document.id == document_id)).first()
        if ref is None:
            return None
        rows = db.execute(
            select(*_PLACE_COLUMNS).where(
                Provision.document_id == document_id, Provision.removed_in_revision_id.is_(None)
            )
        )
        tree = build_tree(DocumentRef(*ref), [ProvisionPlace(*row) for row in rows])
        if shows_only_committed(db):  # not a writer's own changes, which may yet roll back
            self._keep(db, document_id, stamp, tree)
        return tree

    def _keep(self, db: Session, document_id: int, stamp: int, tree: DocumentTree) -> None:
        with self._lock:
            trees = self._kept.setdefault(_database_of(db), {})
            trees[document_id] = (stamp, tree)
            while len(trees) > self.SIZE:
                del trees[next(iter(trees))]

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()


_trees = _KeptTrees()


def forget_kept_trees() -> None:
    """Drop every kept outline (the benchmarks' "cold": as after a change)."""
    _trees.forget()


def read_tree(db: Session, document_id: int, *, viewer: Actor | None = None) -> DocumentTree:
    """`load_tree` for a caller that only reads: the same order and labels, in plain rows,
    shared with every request until the next change."""
    tree = _trees.get(db, document_id)
    if tree is None or (viewer is not None and not can_read(viewer, tree.document.visibility)):
        raise NotFound(f"There is no document {document_id}.")
    return tree


def build_tree(document: Any, rows: Iterable[Any]) -> DocumentTree:
    children: dict[int | None, list[Any]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    for siblings in children.values():
        siblings.sort(key=lambda p: p.position)
    order: list[Any] = []
    depth: dict[int, int] = {}
    stack: list[tuple[Any, int]] = [(p, 0) for p in reversed(children[None])]
    while stack:
        provision, level = stack.pop()
        order.append(provision)
        depth[provision.id] = level
        stack.extend((c, level + 1) for c in reversed(children[provision.id]))
    nodes = [
        LabelNode(id=p.id, kind=p.kind, parent_id=p.parent_id, key=p.label_key, deleted=p.deleted)
        for p in order
    ]
    return DocumentTree(document, order, depth, format_labels(document.scheme, nodes))


def cofacilitator_ids(db: Session, negotiation_id: int) -> set[int]:
    return set(
        db.scalars(
            select(CoFacilitator.delegation_id).where(
                CoFacilitator.negotiation_id == negotiation_id
            )
        )
    )


@dataclass(frozen=True, slots=True)
class Party:
    """A delegation or a group as attributions name it, read without the ORM."""

    id: int
    code: str
    name: str
    short: str


@dataclass(frozen=True)
class Directory:
    """Short names of delegations and groups, for attributions ("EU", "G77 and China")."""

    delegations: dict[int, Party]
    groups: dict[int, Party]

    def delegation_short(self, delegation_id: int | None) -> str | None:
        return None if delegation_id is None else self.delegations[delegation_id].short

    def speaker(self, delegation_id: int, group_id: int | None) -> str:
        if group_id is not None:
            return self.groups[group_id].short
        return self.delegations[delegation_id].short

    def speaker_code(self, delegation_id: int, group_id: int | None) -> str:
        if group_id is not None:
            return self.groups[group_id].code
        return self.delegations[delegation_id].code


@dataclass(frozen=True, slots=True)
class _KeptDirectory:
    size: tuple[int, int]  # delegations, groups
    stamp: int  # the log's position when it was read (0: not known)
    directory: Directory


_directories: weakref.WeakKeyDictionary[Any, _KeptDirectory] = weakref.WeakKeyDictionary()


_DIRECTORY_SIZE = select(
    select(func.count()).select_from(Delegation).scalar_subquery(),
    select(func.count()).select_from(Group).scalar_subquery(),
)


def load_directory(db: Session) -> Directory:
    """Every delegation and group. Rows are only ever added (reference data, never edited,
    with a "directory.updated" event), so the directory is read again only when the log says
    so, or, for a caller that has not read the log, when their numbers change."""
    kept = _directories.get(_database_of(db))
    read = events.reading.get()
    stamp = read.stamp(db) if read is not None else None
    if kept is not None and read is not None and read.unchanged_since(db, kept.stamp, None):
        return kept.directory
    delegations, groups = db.execute(_DIRECTORY_SIZE).one()
    size = (int(delegations), int(groups))
    if kept is None or kept.size != size:
        directory = Directory(
            delegations={
                row.id: Party(*row)
                for row in db.execute(
                    select(Delegation.id, Delegation.code, Delegation.name, Delegation.short)
                )
            },
            groups={
                row.id: Party(*row)
                for row in db.execute(select(Group.id, Group.code, Group.name, Group.short))
            },
        )
    else:
        directory = kept.directory
    if shows_only_committed(db):
        _directories[_database_of(db)] = _KeptDirectory(size, stamp or 0, directory)
    return directory


def find_delegation(db: Session, code: str) -> Delegation:
    code = clean_text(code, what="The delegation code")
    delegation = db.scalar(select(Delegation).where(Delegation.code == code))
    if delegation is None:
        raise NotFound(f"There is no delegation with code {code!r}.")
    return delegation


def find_group(db: Session, code: str) -> Group:
    code = clean_text(code, what="The group code")
    group = db.scalar(select(Group).where(Group.code == code))
    if group is None:
        raise NotFound(f"There is no negotiating group with code {code!r}.")
    return group


def pending_counts(
    db: Session, document_id: int, provision_ids: Collection[int] | None = None
) -> dict[int, int]:
    query = select(Amendment.provision_id, func.count()).where(
        Amendment.state == AmendmentState.PENDING
    )
    if provision_ids is not None:  # by ix_amendments_provision_state, not the whole document's
        query = query.where(Amendment.provision_id.in_(provision_ids))
    else:
        query = query.where(Amendment.document_id == document_id)
    rows = db.execute(query.group_by(Amendment.provision_id))
    return {provision_id: count for provision_id, count in rows}


def provision_views(
    db: Session,
    tree: DocumentTree,
    directory: Directory | None = None,
    *,
    only: Collection[int] | None = None,
) -> list[ProvisionView]:
    """The provisions of the tree (or `only` these) with their current words and pending
    counts: two queries. One paragraph's panel asks for `only` it, not the 300."""
    order = tree.order if only is None else [p for p in tree.order if p.id in only]
    version_ids = [p.current_version_id for p in order if p.current_version_id]
    versions = (
        {
            v.id: v
            for v in db.scalars(
                select(ProvisionVersion).where(ProvisionVersion.id.in_(version_ids))
            )
        }
        if version_ids
        else {}
    )
    counts = pending_counts(db, tree.document.id, only)
    reservations = {p.reservation_delegation_id for p in order} - {None}
    shorts: dict[int, str] = {}
    if reservations:
        if directory is not None:
            shorts = {i: directory.delegations[i].short for i in reservations if i is not None}
        else:
            shorts = dict(
                db.execute(
                    select(Delegation.id, Delegation.short).where(Delegation.id.in_(reservations))
                ).all()
            )
    return [
        view_of(p, versions[p.current_version_id], tree, counts, shorts)
        for p in order
        if p.current_version_id
    ]


def view_of(
    provision: Provision,
    version: ProvisionVersion,
    tree: DocumentTree,
    counts: dict[int, int],
    reservation_names: dict[int, str],
) -> ProvisionView:
    reservation = (
        reservation_names.get(provision.reservation_delegation_id)
        if provision.reservation_delegation_id
        else None
    )
    return ProvisionView(
        id=provision.id,
        document_id=provision.document_id,
        parent_id=provision.parent_id,
        depth=tree.depth[provision.id],
        kind=provision.kind,
        label=tree.label(provision.id),
        text=version.text,
        version=version.number,
        version_id=version.id,
        status=provision.status,
        status_label=status_label(provision.status, reservation),
        reservation=reservation,
        deleted=provision.deleted,
        pending=counts.get(provision.id, 0),
    )
