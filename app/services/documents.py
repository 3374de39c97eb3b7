"""Negotiations and their documents: create, import a draft, read the text and one provision."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import (
    Amendment,
    CoFacilitator,
    Delegation,
    Document,
    Negotiation,
    Provision,
    ProvisionVersion,
    Revision,
    User,
)
from app.db.session import Database
from app.domain.amendments import AmendmentState
from app.domain.clean_text import clean_optional_text, clean_text
from app.domain.errors import Invalid, NotFound
from app.domain.labels import LabelNode, ProvisionKind, Scheme, renumber
from app.domain.outline import Outline, OutlineProvision
from app.domain.roles import Actor
from app.services import events
from app.services.amendments import clean_wording, collisions, selected_views
from app.services.permissions import Action, can_read, require, require_in_negotiation
from app.services.revisions import freeze
from app.services.text import (
    DocumentTree,
    build_tree,
    cofacilitator_ids,
    find_delegation,
    load_directory,
    provision_views,
    read_tree,
)
from app.services.views import (
    AmendmentView,
    Collision,
    DocumentSummary,
    DocumentView,
    NegotiationView,
    ProvisionDetail,
    VersionView,
)


def create_negotiation(
    database: Database, *, actor: Actor, symbol: str, title: str, cofacilitators: Sequence[str]
) -> NegotiationView:
    """Only the secretariat opens a negotiation (and names its co-facilitators)."""
    require(actor, Action.CREATE_NEGOTIATION)
    symbol = clean_text(symbol, what="The symbol", max_length=100)
    title = clean_text(title, what="The title", max_length=500)
    if not symbol or not title:
        raise Invalid("A negotiation needs a symbol and a title.")
    with database.write() as db:
        if db.scalar(select(Negotiation.id).where(Negotiation.symbol == symbol)):
            raise Invalid(f"A negotiation with symbol {symbol!r} already exists.")
        negotiation = Negotiation(symbol=symbol, title=title)
        db.add(negotiation)
        db.flush()
        for code in cofacilitators:
            db.add(
                CoFacilitator(
                    negotiation_id=negotiation.id, delegation_id=find_delegation(db, code).id
                )
            )
        events.record(
            db,
            kind="negotiation.created",
            actor=actor,
            subject="negotiation",
            subject_id=negotiation.id,
            negotiation_id=negotiation.id,
            symbol=symbol,
        )
        db.flush()
        return _negotiation_view(db, negotiation)


def list_negotiations(database: Database, *, viewer: Actor | None = None) -> list[NegotiationView]:
    with database.read() as db:
        return [
            _negotiation_view(db, n, viewer)
            for n in db.scalars(select(Negotiation).order_by(Negotiation.id))
        ]


def get_negotiation(
    database: Database, *, negotiation_id: int, viewer: Actor | None = None
) -> NegotiationView:
    with database.read() as db:
        negotiation = db.get(Negotiation, negotiation_id)
        if negotiation is None:
            raise NotFound(f"There is no negotiation {negotiation_id}.")
        return _negotiation_view(db, negotiation, viewer)


def find_negotiation(database: Database, *, symbol: str) -> NegotiationView:
    with database.read() as db:
        negotiation = db.scalar(select(Negotiation).where(Negotiation.symbol == symbol))
        if negotiation is None:
            raise NotFound(f"There is no negotiation {symbol!r}.")
        return _negotiation_view(db, negotiation)


def import_outline(
    database: Database,
    *,
    actor: Actor,
    negotiation_id: int,
    outline: Outline,
    revision_name: str = "Zero draft",
    issued_on: date,
) -> DocumentView:
    """A draft enters Rolltext: its provisions get stable ids, version 1, and a first revision."""
    require(actor, Action.MANAGE_DOCUMENTS)
    if not outline.provisions:
        raise Invalid("The draft has no paragraphs.")
    with database.write() as db:
        _require_keeper(db, actor, negotiation_id)
        document = Document(
            negotiation_id=negotiation_id,
            title=clean_text(outline.title, what="The draft's title", max_length=500),
            subtitle=clean_optional_text(outline.subtitle, what="The draft's subtitle"),
            scheme=Scheme(outline.scheme),
        )
        db.add(document)
        db.flush()
        created: list[tuple[Provision, str]] = []
        _add_provisions(db, document, outline.provisions, None, created)
        db.flush()
        rows = [p for p, _ in created]
        tree = build_tree(document, rows)
        keys = renumber(
            document.scheme,
            [LabelNode(id=p.id, kind=p.kind, parent_id=p.parent_id, key=None) for p in tree.order],
        )
        for provision, text in created:
            key = keys.get(provision.id)
            if key is not None:
                provision.label_number = key.number
                provision.label_insert = key.insert
                provision.label_alt = key.alt
            version = ProvisionVersion(
                provision_id=provision.id,
                number=1,
                text=text,
                cause="imported",
                author_id=actor.user_id,
            )
            db.add(version)
            db.flush()
            provision.current_version_id = version.id
        db.flush()
        tree = build_tree(document, rows)
        freeze(
            db, tree, name=revision_name, issued_on=issued_on, renumber_labels=False, actor=actor
        )
        events.record(
            db,
            kind="document.imported",
            actor=actor,
            subject="document",
            subject_id=document.id,
            negotiation_id=negotiation_id,
            document_id=document.id,
            provisions=len(rows),
        )
        return DocumentView(
            id=document.id,
            negotiation_id=negotiation_id,
            title=document.title,
            subtitle=document.subtitle,
            scheme=document.scheme,
            provisions=tuple(provision_views(db, tree)),
        )


def set_visibility(
    database: Database, *, actor: Actor, document_id: int, visibility: str
) -> DocumentSummary:
    """Restricted (delegations only) or public (stakeholders and observers may read it)."""
    require(actor, Action.MANAGE_DOCUMENTS)
    if visibility not in ("restricted", "public"):
        raise Invalid("A document is 'restricted' (delegations only) or 'public'.")
    with database.write() as db:
        document = db.get(Document, document_id)
        if document is None:
            raise NotFound(f"There is no document {document_id}.")
        _require_keeper(db, actor, document.negotiation_id)
        before = document.visibility
        document.visibility = visibility
        events.record(
            db,
            kind="document.visibility",
            actor=actor,
            subject="document",
            subject_id=document.id,
            negotiation_id=document.negotiation_id,
            document_id=document.id,
            before=before,
            after=visibility,
        )
        db.flush()
        negotiation = db.get(Negotiation, document.negotiation_id)
        assert negotiation is not None
        view = _negotiation_view(db, negotiation)
        return next(d for d in view.documents if d.id == document_id)


def check_may_import(database: Database, *, actor: Actor, negotiation_id: int) -> None:
    """Refuse an import before its file is read: the negotiation must exist, and the actor keep
    its documents (the secretariat, or its co-facilitators)."""
    require(actor, Action.MANAGE_DOCUMENTS)
    with database.read() as db:
        _require_keeper(db, actor, negotiation_id)


def _require_keeper(db: Session, actor: Actor, negotiation_id: int) -> None:
    """The secretariat keeps every negotiation's documents; co-facilitators only their own's."""
    if db.get(Negotiation, negotiation_id) is None:
        raise NotFound(f"There is no negotiation {negotiation_id}.")
    require_in_negotiation(actor, cofacilitator_ids(db, negotiation_id), Action.MANAGE_DOCUMENTS)


def _add_provisions(
    db: Session,
    document: Document,
    items: Sequence[OutlineProvision],
    parent: Provision | None,
    created: list[tuple[Provision, str]],
) -> None:
    for position, item in enumerate(items):
        text = clean_wording(
            item.text, what=f"The {item.kind.replace('_', ' ')} {item.text[:40]!r}"
        )
        provision = Provision(
            document_id=document.id,
            parent_id=parent.id if parent else None,
            position=position,
            kind=ProvisionKind(item.kind),
        )
        db.add(provision)
        db.flush()
        created.append((provision, text))
        _add_provisions(db, document, item.children, provision, created)


def get_document(
    database: Database, *, document_id: int, viewer: Actor | None = None
) -> DocumentView:
    """The whole current text with labels, status and pending counts, in a few queries."""
    with database.read() as db:
        tree = read_tree(db, document_id, viewer=viewer)
        document = tree.document
        return DocumentView(
            id=document.id,
            negotiation_id=document.negotiation_id,
            title=document.title,
            subtitle=document.subtitle,
            scheme=document.scheme,
            provisions=tuple(provision_views(db, tree)),
        )


def refresh_document(
    database: Database,
    stale: DocumentView,
    provision_ids: Collection[int],
    *,
    viewer: Actor | None = None,
) -> DocumentView | None:
    """`stale` with these provisions read again: what `get_document` gives when only they
    changed since (none moved, none came or went). None if one of them is not in it."""
    with database.read() as db:
        tree = read_tree(db, stale.id, viewer=viewer)
        fresh = {v.id: v for v in provision_views(db, tree, only=provision_ids)}
    if fresh.keys() != set(provision_ids) or not fresh.keys() <= {p.id for p in stale.provisions}:
        return None
    return replace(stale, provisions=tuple(fresh.get(p.id, p) for p in stale.provisions))


def refresh_provision(
    database: Database,
    stale: ProvisionDetail,
    amendment_ids: Collection[int],
    *,
    viewer: Actor | None = None,
) -> ProvisionDetail:
    """`stale` with these proposals read again, when only they changed since (their words,
    proponents, positions or state: `events.PROPOSAL_KINDS`), and with them the paragraph's
    pending count and the collisions between its proposals. (Its words, status and place are
    as they were: those kinds change none of them.)"""
    provision_id = stale.provision.id
    with database.read() as db:
        tree = read_tree(db, stale.provision.document_id, viewer=viewer)
        fresh = selected_views(
            db,
            select(Amendment)
            .where(Amendment.provision_id == provision_id, Amendment.id.in_(amendment_ids))
            .order_by(Amendment.id),
            tree=tree,
        )
    by_id = {a.id: a for a in stale.amendments} | {a.id: a for a in fresh}
    amendment_list = [by_id[i] for i in sorted(by_id)]
    pending = sum(1 for a in amendment_list if a.state is AmendmentState.PENDING)
    return replace(
        stale,
        provision=replace(stale.provision, pending=pending),  # as `pending_counts` counts
        amendments=tuple(amendment_list),
        collisions=_collisions_after(stale.collisions, amendment_list, set(amendment_ids)),
    )


#: Past this many changed proposals, sweeping them all is cheaper than comparing each.
_FEW = 16


def _collisions_after(
    stale: tuple[Collision, ...], amendment_list: list[AmendmentView], changed: set[int]
) -> tuple[Collision, ...]:
    """A paragraph's collisions after some of its proposals changed: theirs computed again,
    the others' among themselves as they were; the same tuple if nothing changed (a position
    taken), so that what is kept of it stays kept."""
    if len(changed) > _FEW:
        fresh = collisions(amendment_list)
    else:
        unchanged = (c for c in stale if c.first not in changed and c.second not in changed)
        fresh = tuple(
            sorted(
                (*unchanged, *collisions(amendment_list, involving=changed)),
                key=lambda c: (c.first, c.second),
            )
        )
    return stale if fresh == stale else fresh


_ALT = re.compile(r" alt(?: \d+)?$")


def alternatives(tree: DocumentTree, provision_id: int) -> tuple[str, ...]:
    """The labels of a paragraph's family ("OP6", "OP6 alt", "OP6 alt 2"), if it has one."""
    me = tree.by_id(provision_id)
    label = tree.label(provision_id)
    if not label:
        return ()
    base = _ALT.sub("", label)
    family = tuple(
        tree.label(p.id)
        for p in tree.order
        if p.parent_id == me.parent_id
        and p.kind == me.kind
        and not p.deleted
        and tree.label(p.id)
        and _ALT.sub("", tree.label(p.id)) == base
    )
    return family if len(family) > 1 else ()


def get_provision(
    database: Database, *, provision_id: int, viewer: Actor | None = None
) -> ProvisionDetail:
    """One provision with its full history of versions and every proposal made on it."""
    with database.read() as db:
        provision = db.get(Provision, provision_id)
        if provision is None:
            raise NotFound(f"There is no provision {provision_id}.")
        try:
            tree = read_tree(db, provision.document_id, viewer=viewer)
        except NotFound as exc:
            raise NotFound(f"There is no provision {provision_id}.") from exc
        directory = load_directory(db)
        view = next(iter(provision_views(db, tree, directory, only={provision_id})), None)
        if view is None:
            raise NotFound(f"Provision {provision_id} is no longer in the text.")
        versions = db.execute(
            select(ProvisionVersion, User.display_name)
            .outerjoin(User, ProvisionVersion.author_id == User.id)
            .where(ProvisionVersion.provision_id == provision_id)
            .order_by(ProvisionVersion.number)
        )
        amendment_list = selected_views(
            db,
            select(Amendment).where(Amendment.provision_id == provision_id).order_by(Amendment.id),
            tree=tree,
            directory=directory,
        )
        return ProvisionDetail(
            provision=view,
            versions=tuple(
                VersionView(
                    number=v.number,
                    text=v.text,
                    cause=v.cause,
                    note=v.note,
                    amendment_id=v.amendment_id,
                    author=author,
                    created_at=v.created_at,
                    attributions=tuple(tuple(a) for a in v.attributions),  # type: ignore[misc]
                )
                for v, author in versions
            ),
            amendments=tuple(amendment_list),
            collisions=collisions(amendment_list),
            alternatives=alternatives(tree, provision_id),
        )


def _negotiation_view(
    db: Session, negotiation: Negotiation, viewer: Actor | None = None
) -> NegotiationView:
    cofacs = db.scalars(
        select(CoFacilitator.delegation_id).where(CoFacilitator.negotiation_id == negotiation.id)
    ).all()
    names = {
        id_: (short, code)
        for id_, short, code in db.execute(
            select(Delegation.id, Delegation.short, Delegation.code).where(
                Delegation.id.in_(cofacs)
            )
        )
    }
    documents = db.scalars(
        select(Document).where(Document.negotiation_id == negotiation.id).order_by(Document.id)
    ).all()
    summaries = []
    for document in documents:
        if viewer is not None and not can_read(viewer, document.visibility):
            continue
        # counts, not rows: every page header shows these three numbers
        by_status = db.execute(
            select(Provision.status, func.count())
            .where(
                Provision.document_id == document.id,
                Provision.removed_in_revision_id.is_(None),
                Provision.deleted.is_(False),
            )
            .group_by(Provision.status)
        ).all()
        pending = db.scalar(
            select(func.count()).where(
                Amendment.document_id == document.id, Amendment.state == AmendmentState.PENDING
            )
        )
        latest = db.scalar(
            select(Revision.name)
            .where(Revision.document_id == document.id)
            .order_by(Revision.seq.desc())
            .limit(1)
        )
        summaries.append(
            DocumentSummary(
                id=document.id,
                title=document.title,
                subtitle=document.subtitle,
                scheme=document.scheme,
                provisions=sum(count for _, count in by_status),
                pending=pending or 0,
                agreed=sum(count for status, count in by_status if status.is_agreed),
                latest_revision=latest,
                visibility=document.visibility,
            )
        )
    return NegotiationView(
        id=negotiation.id,
        symbol=negotiation.symbol,
        title=negotiation.title,
        cofacilitators=tuple(names[i][0] for i in cofacs),
        cofacilitator_codes=tuple(names[i][1] for i in cofacs),
        documents=tuple(summaries),
    )
