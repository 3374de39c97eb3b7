"""Delegations' use cases: propose, revise, withdraw, support and oppose proposals."""

from __future__ import annotations

import functools
import sys
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from app.db import direct
from app.db.models import (
    Amendment,
    AmendmentWording,
    Position,
    Proponent,
    Provision,
    ProvisionVersion,
)
from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState
from app.domain.brackets import UnbalancedBrackets, check_balance
from app.domain.clean_text import clean_optional_text, clean_text
from app.domain.diff import find_collisions, word_diff
from app.domain.errors import Conflict, Invalid, NotAllowed, NotFound
from app.domain.labels import ProvisionKind
from app.domain.provisions import check_open_for_proposals
from app.domain.roles import Actor
from app.services import events
from app.services.permissions import Action, require, require_speaks_for
from app.services.process import check_proposals_open
from app.services.text import (
    Directory,
    DocumentTree,
    decode_diff,
    encode_diff,
    find_group,
    load_directory,
    read_tree,
)
from app.services.views import AmendmentView, Collision, WordingView
from app.timeutil import utcnow

MAX_TEXT = 20_000


def clean_wording(text: str | None, *, what: str = "The proposed wording") -> str:
    """Normalise a delegate's wording (a paragraph is one line of text) and refuse what no
    paragraph can be: nothing, characters that are not text, brackets that do not balance."""
    if text is None or not text.strip():
        raise Invalid(f"{what} is empty.")
    text = clean_text(text, what=what, max_length=MAX_TEXT)
    try:
        check_balance(text)
    except UnbalancedBrackets as exc:
        raise Invalid(f"{what} has unbalanced brackets: {exc.detail}.") from exc
    return text


def propose(
    database: Database,
    *,
    actor: Actor,
    provision_id: int,
    kind: AmendmentKind,
    text: str | None = None,
    after_id: int | None = None,
    new_kind: ProvisionKind | None = None,
    on_behalf_of: str | None = None,
    delegation: str | None = None,
    justification: str | None = None,
    expected_version: int | None = None,
) -> AmendmentView:
    """A delegation puts a proposal on the table; the same proposal twice joins as co-proponent."""
    with database.write() as db:
        return propose_in(
            db,
            actor=actor,
            provision_id=provision_id,
            kind=kind,
            text=text,
            after_id=after_id,
            new_kind=new_kind,
            on_behalf_of=on_behalf_of,
            delegation=delegation,
            justification=justification,
            expected_version=expected_version,
            alone=True,
        )


def propose_in(
    db: Session,
    *,
    actor: Actor,
    provision_id: int,
    kind: AmendmentKind,
    text: str | None = None,
    after_id: int | None = None,
    new_kind: ProvisionKind | None = None,
    on_behalf_of: str | None = None,
    delegation: str | None = None,
    justification: str | None = None,
    expected_version: int | None = None,
    alone: bool = False,
) -> AmendmentView:
    """The proposal use case inside a caller's transaction (adopting an input uses it).

    `alone`: nothing after it in the transaction looks for the new proposal or refers to it (the
    proposal use case on its own), so it may be written with the commit (`_insert_proposal`)."""
    require(actor, Action.PROPOSE)
    if delegation is not None and delegation != actor.delegation_code:
        raise NotAllowed(f"You cannot make proposals in the name of {delegation}.")
    proposed = _proposed_wording(kind, text)
    provision, version, new_ids = _provision_and_version(
        db, provision_id, kind, proposed, after_id, draw_ids=alone
    )
    tree = read_tree(db, provision.document_id)
    directory = load_directory(db)
    group = find_group(db, on_behalf_of) if on_behalf_of else None
    assert actor.delegation_id is not None
    require_speaks_for(
        actor,
        delegation_id=actor.delegation_id,
        group_id=group.id if group else None,
        delegation_name=directory.delegations[actor.delegation_id].short,
        group_name=group.short if group else None,
    )
    check_proposals_open(db, document_id=provision.document_id, delegation_id=actor.delegation_id)
    if provision.deleted or provision.removed_in_revision_id:
        raise Invalid(f"{tree.describe(provision)} has been deleted.")
    if expected_version is not None and expected_version != version.number:
        raise Conflict(_stale(tree.describe(provision), expected_version, version.number))
    if kind is not AmendmentKind.INSERT_AFTER:
        check_open_for_proposals(provision.status, tree.label(provision.id))

    diff: list[list[str]] = []
    move_after: Provision | None = None
    if kind is AmendmentKind.WORDING:
        assert proposed is not None
        if proposed == version.text:
            raise Invalid("The proposed wording is the same as the current text.")
        diff = encode_diff(word_diff(version.text, proposed))
    elif kind is AmendmentKind.INSERT_AFTER:
        assert proposed is not None
        new_kind = new_kind or provision.kind
        diff = encode_diff(word_diff("", proposed))
    elif kind is AmendmentKind.MOVE:
        move_after = _move_target(tree, provision, after_id)

    if provision.same_id is not None:  # the same proposal, pending: join it
        existing = db.get(Amendment, provision.same_id)
        assert existing is not None
        return _join(db, existing, actor, group.id if group else None, directory, tree)

    values = {
        "document_id": provision.document_id,
        "provision_id": provision.id,
        "kind": kind,
        "state": AmendmentState.PENDING,
        "move_after_id": move_after.id if move_after else None,
        "new_kind": new_kind if kind is AmendmentKind.INSERT_AFTER else None,
        "delegation_id": actor.delegation_id,
        "group_id": group.id if group else None,
        "author_id": actor.user_id,
        "justification": _justification(justification),
    }
    wording = {"seq": 1, "base_version_id": version.id, "text": proposed, "diff": diff}
    amendment, wording_id = _insert_proposal(db, values, wording, new_ids)
    speaker = _Speaker(actor.delegation_id, group.id if group else None)
    events.write_at_commit(
        db,
        _INSERT_PROPONENT,
        {
            "amendment_id": amendment.id,
            "delegation_id": speaker.delegation_id,
            "group_id": speaker.group_id,
            "user_id": actor.user_id,
        },
    )
    events.record(
        db,
        kind="amendment.proposed",
        actor=actor,
        subject="amendment",
        subject_id=amendment.id,
        negotiation_id=tree.document.negotiation_id,
        document_id=tree.document.id,
        after_id=wording_id,
        provision_id=provision.id,
        amendment_id=amendment.id,
    )
    # Everything the new proposal's view shows is known here: no need to read it back.
    return _view(
        amendment,
        wording=_Wording(proposed, diff, version.number, version.text),
        proponents=(speaker,),
        supporters=(),
        opponents=(),
        wordings=(),
        tree=tree,
        directory=directory,
    )


def revise(
    database: Database,
    *,
    actor: Actor,
    amendment_id: int,
    text: str | None = None,
    justification: str | None = None,
) -> AmendmentView:
    """The proponent redrafts its pending proposal on the current text; earlier wordings stay."""
    require(actor, Action.PROPOSE)
    with database.write() as db:
        amendment = _amendment(db, amendment_id)
        tree = read_tree(db, amendment.document_id)
        _require_proponent(db, actor, amendment)
        _require_pending(amendment)
        if amendment.kind not in (AmendmentKind.WORDING, AmendmentKind.INSERT_AFTER):
            raise Invalid("Only proposals with wording can be revised; withdraw and propose again.")
        assert actor.delegation_id is not None
        check_proposals_open(
            db, document_id=amendment.document_id, delegation_id=actor.delegation_id
        )
        provision = tree.by_id(amendment.provision_id)
        version = _current_version(db, provision)
        if amendment.kind is AmendmentKind.WORDING:
            proposed = clean_wording(text)
            if proposed == version.text:
                raise Invalid("The proposed wording is the same as the current text.")
            diff = encode_diff(word_diff(version.text, proposed))
        else:
            proposed = clean_wording(text, what="The new provision's wording")
            diff = encode_diff(word_diff("", proposed))
        previous = _wording(db, amendment)
        wording = AmendmentWording(
            amendment_id=amendment.id,
            seq=previous.seq + 1,
            base_version_id=version.id,
            text=proposed,
            diff=diff,
            reason="revised",
        )
        db.add(wording)
        db.flush()
        amendment.current_wording_id = wording.id
        amendment.needs_redraft = False
        amendment.redraft_reason = None
        if justification is not None:
            amendment.justification = _justification(justification)
        events.record(
            db,
            kind="amendment.revised",
            actor=actor,
            subject="amendment",
            subject_id=amendment.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            before_id=previous.id,
            after_id=wording.id,
            provision_id=provision.id,
            amendment_id=amendment.id,
        )
        return amendment_views(db, [amendment], tree=tree)[0]


def withdraw(database: Database, *, actor: Actor, amendment_id: int) -> AmendmentView:
    """A proponent withdraws; a proposal with other proponents stays on the table for them."""
    require(actor, Action.PROPOSE)
    with database.write() as db:
        amendment = _amendment(db, amendment_id)
        tree = read_tree(db, amendment.document_id)
        mine = _require_proponent(db, actor, amendment)
        _require_pending(amendment)
        now = utcnow()
        for proponent in mine:
            proponent.withdrawn_at = now
        remaining = [p for p in _proponents(db, amendment.id) if p.withdrawn_at is None]
        if not remaining:
            amendment.state = AmendmentState.WITHDRAWN
            amendment.decided_at = now
            amendment.decided_by_id = actor.user_id
        events.record(
            db,
            kind="amendment.withdrawn" if not remaining else "amendment.proponent_withdrew",
            actor=actor,
            subject="amendment",
            subject_id=amendment.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            provision_id=amendment.provision_id,
            amendment_id=amendment.id,
        )
        return amendment_views(db, [amendment], tree=tree)[0]


def take_position(
    database: Database, *, actor: Actor, amendment_id: int, stance: str | None
) -> AmendmentView:
    """Support ("supported by Norway"), oppose, or (stance None) take back one's position."""
    require(actor, Action.SUPPORT)
    if stance not in ("support", "oppose", None):
        raise Invalid("A position is 'support' or 'oppose'.")
    with database.write() as db:
        amendment, wording, stands = _amendment_and_stands(db, amendment_id)
        tree = read_tree(db, amendment.document_id)
        _require_pending(amendment)
        proponents = [row for row in stands if row.proponent]
        if actor.delegation_id in {p.delegation_id for p in proponents}:
            raise Invalid(
                "Your delegation made this proposal; it cannot also support or oppose it."
            )
        positions = {  # every delegation's, in the order taken: the view lists them all
            row.delegation_id: row for row in stands if not row.proponent
        }
        mine = positions.pop(actor.delegation_id, None)
        if stance is None:
            if mine is None:
                raise Invalid("Your delegation has taken no position on this proposal.")
            events.write_at_commit(db, _DELETE_POSITION, {"position": mine.id})
        elif mine is None:
            events.write_at_commit(  # nothing below reads it back: it goes with the commit
                db,
                _INSERT_POSITION,
                {
                    "amendment_id": amendment.id,
                    "delegation_id": actor.delegation_id,
                    "stance": stance,
                    "user_id": actor.user_id,
                },
            )
        else:
            events.write_at_commit(
                db,
                _CHANGE_POSITION,
                {"position": mine.id, "to": stance, "by": actor.user_id, "now": utcnow()},
            )
        events.record(
            db,
            kind=f"amendment.{stance or 'position_cleared'}",
            actor=actor,
            subject="amendment",
            subject_id=amendment.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            before_id=mine.id if mine else None,
            provision_id=amendment.provision_id,
            amendment_id=amendment.id,
            stance=stance,
        )
        # The view from what was read and written: no need to read it back.
        directory = load_directory(db)
        taken = [(p.id, p.delegation_id, p.stance) for p in positions.values()]
        if stance is not None:  # a changed stance keeps its place in the order, a new one ends it
            taken.append((mine.id if mine else sys.maxsize, actor.delegation_id, stance))
            taken.sort()
        names = directory.delegations
        return _view(
            amendment,
            wording=wording,
            proponents=proponents,
            supporters=[names[d].short for _, d, s in taken if s == "support"],
            opponents=[names[d].short for _, d, s in taken if s == "oppose"],
            wordings=(),
            tree=tree,
            directory=directory,
        )


def list_amendments(
    database: Database,
    *,
    document_id: int,
    provision_id: int | None = None,
    delegation: str | None = None,
    state: AmendmentState | None = None,
    limit: int = 100,
    offset: int = 0,
    viewer: Actor | None = None,
) -> list[AmendmentView]:
    with database.read() as db:
        tree = read_tree(db, document_id, viewer=viewer)
        query = select(Amendment).where(Amendment.document_id == document_id)
        if provision_id is not None:
            query = query.where(Amendment.provision_id == provision_id)
        if state is not None:
            query = query.where(Amendment.state == state)
        if delegation is not None:
            directory = load_directory(db)
            ids = [d.id for d in directory.delegations.values() if d.code == delegation]
            gids = [g.id for g in directory.groups.values() if g.code == delegation]
            if not ids and not gids:
                raise NotFound(f"There is no delegation or group with code {delegation!r}.")
            sub = select(Proponent.amendment_id).where(
                (Proponent.delegation_id.in_(ids) & Proponent.group_id.is_(None))
                | Proponent.group_id.in_(gids)
            )
            query = query.where(Amendment.id.in_(sub))
        return selected_views(
            db, query.order_by(Amendment.id).limit(limit).offset(offset), tree=tree
        )


def get_amendment(
    database: Database, *, amendment_id: int, viewer: Actor | None = None
) -> AmendmentView:
    with database.read() as db:
        amendment = _amendment(db, amendment_id)
        try:
            tree = read_tree(db, amendment.document_id, viewer=viewer)
        except NotFound as exc:
            raise NotFound(f"There is no proposal A-{amendment_id}.") from exc
        return amendment_views(db, [amendment], tree=tree, history=True)[0]


# -- views ------------------------------------------------------------------------------------


#: What a proposal's view reads of its row: `selected_views` selects these alone, so that a
#: list of 100 proposals costs no ORM objects.
VIEW_COLUMNS = (
    Amendment.id,
    Amendment.document_id,
    Amendment.provision_id,
    Amendment.kind,
    Amendment.state,
    Amendment.justification,
    Amendment.current_wording_id,
    Amendment.needs_redraft,
    Amendment.redraft_reason,
    Amendment.created_at,
    Amendment.decided_at,
    Amendment.decision_reason,
    Amendment.new_kind,
    Amendment.move_after_id,
)


def selected_views(
    db: Session,
    query: Select[Any],
    *,
    tree: DocumentTree,
    directory: Directory | None = None,
) -> list[AmendmentView]:
    """Views of the proposals `query` (a select of `Amendment`: filters, order, limit) finds.

    Their rows are read plain, and their wordings, proponents and positions by the same query
    as a subquery rather than by a list of ids: the SQL stays the same whatever the number of
    proposals, so PostgreSQL's prepared statements and SQLAlchemy's compiled cache apply."""
    rows = db.execute(query.with_only_columns(*VIEW_COLUMNS)).all()
    return amendment_views(db, rows, tree=tree, directory=directory, among=query)


def amendment_views(
    db: Session,
    amendments: Sequence[Any],
    *,
    tree: DocumentTree,
    directory: Directory | None = None,
    history: bool = False,
    among: Select[Any] | None = None,
) -> list[AmendmentView]:
    """Views of many proposals in a fixed number of queries, whatever their number
    (`among`: the query that selected them, see `selected_views`)."""
    if not amendments:
        return []
    directory = directory or load_directory(db)
    ids: Any = (
        [a.id for a in amendments] if among is None else among.with_only_columns(Amendment.id)
    )
    wording_ids: Any = (
        [a.current_wording_id for a in amendments]
        if among is None
        else among.with_only_columns(Amendment.current_wording_id)
    )
    wordings = {  # each current wording with the version it was written on, in one query
        w.id: w
        for w in db.execute(
            select(
                AmendmentWording.id,
                AmendmentWording.text,
                AmendmentWording.diff,
                ProvisionVersion.number.label("base_number"),
                ProvisionVersion.text.label("base_text"),
            )
            .outerjoin(ProvisionVersion, ProvisionVersion.id == AmendmentWording.base_version_id)
            .where(AmendmentWording.id.in_(wording_ids))
        )
    }
    proponents: dict[int, list[Any]] = defaultdict(list)
    for p in db.execute(
        select(Proponent.amendment_id, Proponent.delegation_id, Proponent.group_id)
        .where(Proponent.amendment_id.in_(ids), Proponent.withdrawn_at.is_(None))
        .order_by(Proponent.id)
    ):
        proponents[p.amendment_id].append(p)
    supporters: dict[int, list[str]] = defaultdict(list)
    opponents: dict[int, list[str]] = defaultdict(list)
    for pos in db.execute(
        select(Position.amendment_id, Position.delegation_id, Position.stance)
        .where(Position.amendment_id.in_(ids))
        .order_by(Position.id)
    ):
        target = supporters if pos.stance == "support" else opponents
        target[pos.amendment_id].append(directory.delegations[pos.delegation_id].short)
    histories: dict[int, list[Any]] = defaultdict(list)
    version_numbers: dict[int, int] = {}
    if history:
        for w in db.execute(
            select(
                AmendmentWording.amendment_id,
                AmendmentWording.seq,
                AmendmentWording.base_version_id,
                AmendmentWording.text,
                AmendmentWording.reason,
                AmendmentWording.created_at,
            )
            .where(AmendmentWording.amendment_id.in_(ids))
            .order_by(AmendmentWording.seq)
        ):
            histories[w.amendment_id].append(w)
        version_numbers = dict(
            db.execute(
                select(ProvisionVersion.id, ProvisionVersion.number).where(
                    ProvisionVersion.id.in_(
                        {w.base_version_id for ws in histories.values() for w in ws}
                    )
                )
            ).all()
        )
    return [
        _view(
            a,
            wording=wordings[a.current_wording_id] if a.current_wording_id else None,
            proponents=proponents.get(a.id, ()),
            supporters=supporters.get(a.id, ()),
            opponents=opponents.get(a.id, ()),
            wordings=tuple(
                WordingView(
                    seq=w.seq,
                    base_version=version_numbers.get(w.base_version_id)
                    if w.base_version_id
                    else None,
                    text=w.text,
                    reason=w.reason,
                    created_at=w.created_at,
                )
                for w in histories.get(a.id, ())
            ),
            tree=tree,
            directory=directory,
        )
        for a in amendments
    ]


@dataclass(frozen=True, slots=True)
class _Wording:
    """A proposal's current wording as `_view` reads it (a row of `amendment_views`)."""

    text: str | None
    diff: list[Any]
    base_number: int | None
    base_text: str | None


@dataclass(frozen=True, slots=True)
class _Speaker:
    delegation_id: int
    group_id: int | None


def _view(
    a: Any,
    *,
    wording: Any,
    proponents: Sequence[Any],
    supporters: Sequence[str],
    opponents: Sequence[str],
    wordings: tuple[WordingView, ...],
    tree: DocumentTree,
    directory: Directory,
) -> AmendmentView:
    """One proposal's view from its row and what was read about it (or is known already)."""
    return AmendmentView(
        id=a.id,
        reference=f"A-{a.id}",
        document_id=a.document_id,
        provision_id=a.provision_id,
        provision_label=tree.labels.get(a.provision_id, ""),
        kind=a.kind,
        state=a.state,
        proponents=tuple(directory.speaker(p.delegation_id, p.group_id) for p in proponents),
        proponent_codes=tuple(
            directory.speaker_code(p.delegation_id, p.group_id) for p in proponents
        ),
        supporters=tuple(supporters),
        opponents=tuple(opponents),
        justification=a.justification,
        base_version=wording.base_number if wording else None,
        base_text=wording.base_text if wording else None,
        proposed_text=wording.text if wording else None,
        diff=decode_diff(wording.diff) if wording else (),
        needs_redraft=a.needs_redraft,
        redraft_reason=a.redraft_reason,
        created_at=a.created_at,
        decided_at=a.decided_at,
        decision_reason=a.decision_reason,
        new_kind=a.new_kind,
        move_after_label=tree.labels.get(a.move_after_id) if a.move_after_id else None,
        wordings=wordings,
    )


def collisions(
    views: Sequence[AmendmentView], involving: Collection[int] | None = None
) -> tuple[Collision, ...]:
    """Pending wording proposals on the same version that touch the same words (with
    `involving`, only the collisions of those proposals)."""
    by_base: dict[int | None, list[AmendmentView]] = defaultdict(list)
    for v in views:
        pending = v.state is AmendmentState.PENDING and not v.needs_redraft
        if v.kind is AmendmentKind.WORDING and pending:
            by_base[v.base_version].append(v)
    found = []
    for group in by_base.values():
        for first, second, pairs in find_collisions([(v.id, v.diff) for v in group], involving):
            words = " / ".join(
                dict.fromkeys(a.deleted.strip() or "(insertion point)" for a, _ in pairs)
            )
            found.append(Collision(first=first, second=second, words=words))
    return tuple(sorted(found, key=lambda c: (c.first, c.second)))


# -- helpers ----------------------------------------------------------------------------------


def _stale(name: str, had: int, now: int) -> str:
    return (
        f"{name} has changed since you loaded it (you had version {had}, it is now version "
        f"{now}). Nothing was saved: review the current wording and try again."
    )


def _justification(text: str | None) -> str | None:
    return clean_optional_text(text, what="The justification", multiline=True, max_length=MAX_TEXT)


def _proposed_wording(kind: AmendmentKind, text: str | None) -> str | None:
    """The wording a proposal of this kind carries, cleaned (none for a move or a deletion)."""
    if kind is AmendmentKind.WORDING:
        return clean_wording(text)
    if kind is AmendmentKind.INSERT_AFTER:
        return clean_wording(text, what="The new provision's wording")
    if kind is AmendmentKind.DELETE and text:
        raise Invalid("A proposal to delete a provision takes no wording.")
    return None


def _provision_and_version(
    db: Session,
    provision_id: int,
    kind: AmendmentKind,
    text: str | None,
    after_id: int | None,
    *,
    draw_ids: bool,
) -> tuple[Any, _Version, tuple[int, int] | None]:
    """A provision (plain columns, with `same_id`: the pending proposal that says exactly the
    same thing, if any) and its current version, in one query; with `draw_ids`, on PostgreSQL,
    the ids of a new proposal and of its wording (`_insert_proposal`), unless it would join
    `same_id` or the provision is deleted (a proposal's number is used up only by a proposal,
    or by one refused later, e.g. on a stale version, as a rolled-back insert would)."""
    draw = draw_ids and db.get_bind().dialect.name == "postgresql"
    db.flush()  # (a caller's transaction may have written the provision: the statement sees it)
    rows = direct.execute(
        db.connection(),
        _provision_query(kind, to_top=after_id is None, draw_ids=draw),
        # the parameters its kind does not name are ignored
        {"provision": provision_id, "kind": kind, "text": text, "after": after_id},
    )
    if not rows:
        raise NotFound(f"There is no provision {provision_id}.")
    row = rows[0]
    new_ids = (row.new_id, row.new_wording_id) if draw and row.new_id is not None else None
    return row, _Version(row.version_id, row.number, row.text), new_ids


def _insert_proposal(
    db: Session,
    values: dict[str, Any],
    wording: dict[str, Any],
    new_ids: tuple[int, int] | None,
) -> tuple[Any, int]:
    """A new proposal (its row: `VIEW_COLUMNS`) and its first wording (its id).

    With ids drawn by the provision's read (`new_ids`: PostgreSQL, a proposal `alone` in its
    transaction), the two rows go with the commit, in one statement (each names the other; the
    keys are checked when it ends), and nothing waits for them. Otherwise, two inserts, and the
    proposal's link to its wording with the commit. Plain inserts either way, to the
    connection: they read nothing the session may hold unflushed, and its unit of work would
    cost more than they do."""
    if new_ids is not None:
        amendment_id, wording_id = new_ids
        now = utcnow()
        row = {
            **values,
            "id": amendment_id,
            "current_wording_id": wording_id,
            "needs_redraft": False,
            "created_at": now,
            "lock": 1,
        }
        first = {**wording, "id": wording_id, "reason": "proposed", "created_at": now}
        assert row.keys() == _PROPOSAL_COLUMNS and first.keys() == _WORDING_COLUMNS
        events.write_at_commit(
            db,
            _INSERT_PROPOSAL,
            {
                **{f"amendment_{k}": v for k, v in row.items()},
                **{f"wording_{k}": v for k, v in first.items()},
            },
        )
        return SimpleNamespace(**{c.key: row.get(c.key) for c in VIEW_COLUMNS}), wording_id
    connection = db.connection()
    amendment = connection.execute(_INSERT_AMENDMENT, values).one()
    wording_id = connection.execute(
        _INSERT_WORDING, {**wording, "amendment_id": amendment.id, "reason": "proposed"}
    ).scalar_one()
    events.write_at_commit(db, _SET_WORDING, {"amendment": amendment.id, "wording": wording_id})
    return amendment, wording_id


@dataclass(frozen=True, slots=True)
class _Version:
    id: int
    number: int
    text: str


def _current_version(db: Session, provision: Provision) -> ProvisionVersion:
    version = db.get(ProvisionVersion, provision.current_version_id)
    assert version is not None
    return version


def _amendment(db: Session, amendment_id: int) -> Amendment:
    amendment = db.get(Amendment, amendment_id)
    if amendment is None:
        raise NotFound(f"There is no proposal A-{amendment_id}.")
    return amendment


def _wording(db: Session, amendment: Amendment) -> AmendmentWording:
    wording = db.get(AmendmentWording, amendment.current_wording_id)
    assert wording is not None
    return wording


def _proponents(db: Session, amendment_id: int) -> list[Proponent]:
    return list(db.scalars(select(Proponent).where(Proponent.amendment_id == amendment_id)))


def _active_proponents(db: Session, amendment_id: int) -> list[Proponent]:
    return [p for p in _proponents(db, amendment_id) if p.withdrawn_at is None]


def _require_proponent(db: Session, actor: Actor, amendment: Amendment) -> list[Proponent]:
    """Only the delegation that made a proposal (or spoke for the group that did) may change it."""
    mine = [
        p
        for p in _active_proponents(db, amendment.id)
        if p.delegation_id == actor.delegation_id
        and (p.group_id is None or actor.speaks_for_group(p.group_id))
    ]
    if not mine:
        raise NotAllowed(f"Only the proponents of {amendment.reference} can change or withdraw it.")
    return mine


def _require_pending(amendment: Any) -> None:
    if amendment.state is not AmendmentState.PENDING:
        raise Invalid(f"Proposal A-{amendment.id} is {amendment.state.value}, no longer pending.")


class _Stand(NamedTuple):
    """Where one delegation stands on a proposal: a position (its stance), or a proponent."""

    proponent: bool
    id: int
    delegation_id: int
    group_id: int | None
    stance: str | None


def _amendment_and_stands(
    db: Session, amendment_id: int
) -> tuple[Any, _Wording | None, list[_Stand]]:
    """A proposal's row (`VIEW_COLUMNS`), its current wording with its base, and who stands
    where on it (`_STANDS`), in one query: the proposal's row first, then a row per stand."""
    # to the connection: the use case's first statement, nothing unflushed to see
    rows = direct.execute(db.connection(), _AMENDMENT_AND_STANDS, {"amendment": amendment_id})
    if not rows or rows[0].part != 0:
        raise NotFound(f"There is no proposal A-{amendment_id}.")
    row = rows[0]
    stands = [
        _Stand(
            r.stand_proponent, r.stand_id, r.stand_delegation_id, r.stand_group_id, r.stand_stance
        )
        for r in rows[1:]
    ]
    if row.current_wording_id is None:
        return row, None, stands
    return row, _Wording(row.wording_text, row.diff, row.base_number, row.base_text), stands


def _move_target(
    tree: DocumentTree, provision: Provision, after_id: int | None
) -> Provision | None:
    if after_id is None:
        return None
    target = tree.by_id(after_id)
    if target.id == provision.id:
        raise Invalid("A provision cannot be moved after itself.")
    node: Provision | None = target
    while node is not None:
        if node.parent_id == provision.id:
            raise Invalid("A provision cannot be moved inside itself.")
        node = tree.by_id(node.parent_id) if node.parent_id else None
    return target


@functools.cache
def _provision_query(kind: AmendmentKind, *, to_top: bool, draw_ids: bool) -> Select[Any]:
    same = select(Amendment.id).where(
        Amendment.provision_id == Provision.id,
        Amendment.kind == bindparam("kind", type_=Amendment.kind.type),
        Amendment.state == AmendmentState.PENDING,
    )
    if kind is AmendmentKind.MOVE:
        same = same.where(
            Amendment.move_after_id.is_(None)
            if to_top
            else Amendment.move_after_id == bindparam("after")
        )
    elif kind in (AmendmentKind.WORDING, AmendmentKind.INSERT_AFTER):
        same = same.join(
            AmendmentWording, Amendment.current_wording_id == AmendmentWording.id
        ).where(AmendmentWording.text == bindparam("text"))
        if kind is AmendmentKind.WORDING:  # written on the current text
            same = same.where(AmendmentWording.base_version_id == Provision.current_version_id)
    same_id = same.order_by(Amendment.id).limit(1).scalar_subquery().label("same_id")
    query = _PROVISION_AND_VERSION.add_columns(same_id)
    if not draw_ids:
        return query
    # PostgreSQL: the ids of a new proposal and its wording (`_insert_proposal`), drawn only if
    # there is to be one; MATERIALIZED, so that `same_id` is not computed a second time for it.
    found = query.cte("found").prefix_with("MATERIALIZED")
    new = and_(
        found.c.same_id.is_(None), ~found.c.deleted, found.c.removed_in_revision_id.is_(None)
    )

    def drawn(table: str) -> Any:
        return case((new, func.nextval(func.pg_get_serial_sequence(table, "id"))))

    return select(
        found,
        drawn("amendments").label("new_id"),
        drawn("amendment_wordings").label("new_wording_id"),
    )


def _join(
    db: Session,
    amendment: Amendment,
    actor: Actor,
    group_id: int | None,
    directory: Directory,
    tree: DocumentTree,
) -> AmendmentView:
    assert actor.delegation_id is not None
    for p in _active_proponents(db, amendment.id):
        if p.delegation_id == actor.delegation_id and p.group_id == group_id:
            raise Invalid(
                f"{directory.speaker(actor.delegation_id, group_id)} has already made this "
                f"proposal ({amendment.reference})."
            )
    db.execute(
        Position.__table__.delete().where(
            Position.amendment_id == amendment.id, Position.delegation_id == actor.delegation_id
        )
    )
    db.add(
        Proponent(
            amendment_id=amendment.id,
            delegation_id=actor.delegation_id,
            group_id=group_id,
            user_id=actor.user_id,
        )
    )
    db.flush()
    events.record(
        db,
        kind="amendment.joined",
        actor=actor,
        subject="amendment",
        subject_id=amendment.id,
        negotiation_id=tree.document.negotiation_id,
        document_id=tree.document.id,
        provision_id=amendment.provision_id,
        amendment_id=amendment.id,
    )
    view = amendment_views(db, [amendment], tree=tree, directory=directory)[0]
    return replace(view, joined=True)


__all__ = [
    "amendment_views",
    "collisions",
    "get_amendment",
    "list_amendments",
    "propose",
    "revise",
    "take_position",
    "withdraw",
]


# -- statements -------------------------------------------------------------------------------
# Built once: the statements of proposing and taking positions, which delegations make all day.
# (SQLAlchemy finds their compiled form in its cache either way; building them again per call
# cost more than the database took to answer them.)

_PROVISION_AND_VERSION = (
    select(
        Provision.id,
        Provision.document_id,
        Provision.kind,
        Provision.status,
        Provision.deleted,
        Provision.removed_in_revision_id,
        ProvisionVersion.id.label("version_id"),
        ProvisionVersion.number,
        ProvisionVersion.text,
    )
    .join(ProvisionVersion, ProvisionVersion.id == Provision.current_version_id)
    .where(Provision.id == bindparam("provision"))
)
#: Who stands where on one proposal: its positions, then its active proponents (no stance).
_STANDS = union_all(
    select(
        literal(False).label("proponent"),
        Position.id,
        Position.delegation_id,
        cast(null(), Proponent.group_id.type).label("group_id"),
        Position.stance,
    ).where(Position.amendment_id == bindparam("amendment")),
    select(literal(True), Proponent.id, Proponent.delegation_id, Proponent.group_id, null()).where(
        Proponent.amendment_id == bindparam("amendment"), Proponent.withdrawn_at.is_(None)
    ),
).subquery("stands")
#: A proposal with its wording (`part` 0), then its stands (`part` 1: positions in the order
#: taken, then proponents in the order they joined), in one query (`_amendment_and_stands`).
_PROPOSAL_PART = (
    select(
        literal(0).label("part"),
        *VIEW_COLUMNS,
        AmendmentWording.text.label("wording_text"),
        AmendmentWording.diff,
        ProvisionVersion.number.label("base_number"),
        ProvisionVersion.text.label("base_text"),
        *(cast(null(), c.type).label(f"stand_{c.name}") for c in _STANDS.c),
    )
    .outerjoin(AmendmentWording, AmendmentWording.id == Amendment.current_wording_id)
    .outerjoin(ProvisionVersion, ProvisionVersion.id == AmendmentWording.base_version_id)
    .where(Amendment.id == bindparam("amendment"))
)
_AMENDMENT_AND_STANDS = union_all(
    _PROPOSAL_PART,
    select(literal(1), *(null() for _ in range(len(VIEW_COLUMNS) + 4)), *_STANDS.c),
).order_by(literal_column("part"), literal_column("stand_proponent"), literal_column("stand_id"))
_INSERT_AMENDMENT = insert(Amendment.__table__).returning(*VIEW_COLUMNS)


def _insert_proposal_statement() -> Any:
    """`_insert_proposal` with the ids drawn: the proposal and its first wording in one
    statement (PostgreSQL), from parameters named `amendment_<column>` and `wording_<column>`
    (the wording's proposal is `amendment_id`, the proposal's own id)."""
    amendment, wording = Amendment.__table__, AmendmentWording.__table__
    new = insert(amendment).values(
        {c: bindparam(f"amendment_{c}", type_=amendment.c[c].type) for c in _PROPOSAL_COLUMNS}
    )
    return (
        insert(wording)
        .values(
            amendment_id=bindparam("amendment_id", type_=wording.c.amendment_id.type),
            **{c: bindparam(f"wording_{c}", type_=wording.c[c].type) for c in _WORDING_COLUMNS},
        )
        .add_cte(new.cte("new_amendment"))
        .inline()
    )


#: What `_insert_proposal` writes of a new proposal and of its first wording.
_PROPOSAL_COLUMNS = {
    "id", "document_id", "provision_id", "kind", "state", "move_after_id", "new_kind",
    "delegation_id", "group_id", "author_id", "justification", "current_wording_id",
    "needs_redraft", "created_at", "lock",
}  # fmt: skip
_WORDING_COLUMNS = {"id", "seq", "base_version_id", "text", "diff", "reason", "created_at"}
_INSERT_PROPOSAL = _insert_proposal_statement()
_INSERT_WORDING = insert(AmendmentWording.__table__).returning(AmendmentWording.id)
_SET_WORDING = (
    update(Amendment.__table__)
    .where(Amendment.id == bindparam("amendment"))
    .values(current_wording_id=bindparam("wording"))
)
# Sent with the commit (`events.write_at_commit`): inline, so that nothing waits for their keys.
_INSERT_PROPONENT = insert(Proponent.__table__).inline()
_INSERT_POSITION = insert(Position.__table__).inline()
_CHANGE_POSITION = (
    update(Position.__table__)
    .where(Position.id == bindparam("position"))
    .values(stance=bindparam("to"), user_id=bindparam("by"), at=bindparam("now"))
)
_DELETE_POSITION = delete(Position.__table__).where(Position.id == bindparam("position"))
