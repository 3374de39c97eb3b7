"""The co-facilitators' use cases: decide, write compromises, settle brackets, mark status.

Every decision that changes words creates a new ProvisionVersion and carries every other pending
proposal on that provision onto it (rebase): each either moves onto the new wording or is marked
*needs redraft* with the reason. Nothing is silently dropped.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, insert, select, tuple_, update
from sqlalchemy.orm import Session

from app.db.models import Amendment, AmendmentWording, Provision, ProvisionVersion
from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState, Decision, transition
from app.domain.brackets import bracket_change, bracket_whole, resolve
from app.domain.diff import NeedsRedraft, rebase_all
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.labels import LabelNode, key_for_alternative, key_for_new
from app.domain.provisions import ProvisionStatus, check_status_change
from app.domain.roles import Actor
from app.services import events
from app.services.amendments import _stale, amendment_views, clean_wording
from app.services.permissions import (
    Action,
    require_cofacilitator_of,
    require_may_lift_reservation,
)
from app.services.text import (
    DocumentTree,
    build_tree,
    cofacilitator_ids,
    decode_diff,
    encode_diff,
    find_delegation,
    load_directory,
    load_tree,
    provision_views,
)
from app.services.views import AmendmentView, ProvisionView
from app.timeutil import utcnow


def decide(
    database: Database,
    *,
    actor: Actor,
    amendment_id: int,
    decision: Decision,
    expected_version: int | None = None,
    reason: str | None = None,
) -> AmendmentView:
    """Accept, bracket or reject one pending proposal."""
    with database.write() as db:
        amendment = db.get(Amendment, amendment_id)
        if amendment is None:
            raise NotFound(f"There is no proposal A-{amendment_id}.")
        tree = load_tree(db, amendment.document_id)
        require_cofacilitator_of(
            actor, cofacilitator_ids(db, tree.document.negotiation_id), Action.DECIDE
        )
        amendment.state = transition(
            amendment.state, decision.outcome, reference=amendment.reference
        )
        provision = db.get(Provision, amendment.provision_id)
        assert provision is not None
        if provision.removed_in_revision_id is not None and decision is not Decision.REJECT:
            raise Invalid(
                f"The provision {amendment.reference} was made on has left the text; "
                "the proposal can only be rejected."
            )
        version = _version(db, provision.current_version_id)
        if expected_version is not None and expected_version != version.number:
            raise Conflict(_stale(tree.describe(provision), expected_version, version.number))
        reason = (reason or "").strip() or None
        if decision is Decision.REJECT and not reason:
            raise Invalid("Say why the proposal is rejected: delegations read the reason.")
        if decision is not Decision.REJECT and amendment.needs_redraft:
            raise Invalid(
                f"{amendment.reference} no longer applies to the current text "
                f"({amendment.redraft_reason}); its proponent must redraft it first."
            )
        directory = load_directory(db)
        speaker = directory.speaker(amendment.delegation_id, amendment.group_id)
        wording = db.get(AmendmentWording, amendment.current_wording_id)
        assert wording is not None

        result: ProvisionVersion | None = None
        if decision is not Decision.REJECT:
            result = _apply(
                db, tree, provision, version, amendment, wording, decision, speaker, actor
            )
        amendment.decided_at = utcnow()
        amendment.decided_by_id = actor.user_id
        amendment.decision_reason = reason
        amendment.result_version_id = result.id if result else None
        if provision.status is ProvisionStatus.NOT_DISCUSSED:
            provision.status = ProvisionStatus.OPEN
        events.record(
            db,
            kind=f"amendment.{decision.outcome.value}",
            actor=actor,
            subject="amendment",
            subject_id=amendment.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            before_id=version.id,
            after_id=result.id if result else None,
            provision_id=provision.id,
            amendment_id=amendment.id,
            amendment_kind=amendment.kind.value,
            reason=reason,
        )
        db.flush()
        if amendment.kind is not AmendmentKind.WORDING and result is not None:
            tree = load_tree(db, amendment.document_id)  # a provision came, went or moved
        return amendment_views(db, [amendment], tree=tree, directory=directory)[0]


def _apply(
    db: Session,
    tree: DocumentTree,
    provision: Provision,
    version: ProvisionVersion,
    amendment: Amendment,
    wording: AmendmentWording,
    decision: Decision,
    speaker: str,
    actor: Actor,
) -> ProvisionVersion | None:
    bracket = decision is Decision.BRACKET
    cause = "bracketed" if bracket else "accepted"
    if amendment.kind is AmendmentKind.WORDING:
        if wording.base_version_id != version.id:
            raise Conflict(
                f"{amendment.reference} was written on an earlier wording of "
                f"{tree.describe(provision)}; reload and decide again."
            )
        assert wording.text is not None
        if bracket:
            bracketed = bracket_change(version.text, decode_diff(wording.diff))
            text, spans = bracketed.text, [[s, e, speaker] for s, e in bracketed.spans]
        else:
            text, spans = wording.text, []
        return new_version(
            db,
            tree,
            provision,
            text,
            cause=cause,
            actor=actor,
            amendment=amendment,
            attributions=spans,
        )
    if amendment.kind is AmendmentKind.INSERT_AFTER:
        assert wording.text is not None
        text = bracket_whole(wording.text) if bracket else wording.text
        spans = [[0, len(text), speaker]] if bracket else []
        created = _insert_after(db, tree, provision, amendment)
        first = ProvisionVersion(
            provision_id=created.id,
            number=1,
            text=text,
            cause=cause,
            amendment_id=amendment.id,
            author_id=actor.user_id,
            attributions=spans,
        )
        db.add(first)
        db.flush()
        created.current_version_id = first.id
        return first
    if amendment.kind is AmendmentKind.DELETE:
        if bracket:
            text = bracket_whole(version.text)
            return new_version(
                db,
                tree,
                provision,
                text,
                cause=cause,
                actor=actor,
                amendment=amendment,
                attributions=[[0, len(text), speaker]],
                note=f"proposed for deletion by {speaker}",
            )
        for p in _subtree(tree, provision):
            p.deleted = True
            _flag_pending(db, p.id, exclude=amendment.id, reason="the provision was deleted")
        return None
    if bracket:
        raise Invalid("A move cannot be bracketed: accept it or reject it.")
    _move(db, tree, provision, amendment.move_after_id)
    return None


def cf_text(
    database: Database,
    *,
    actor: Actor,
    provision_id: int,
    text: str,
    expected_version: int | None = None,
    supersedes: list[int] | None = None,
    note: str | None = None,
) -> ProvisionView:
    """The co-facilitators' own wording; proposals it answers are superseded, others rebased."""
    with database.write() as db:
        provision, tree, version = _cf_provision(db, actor, provision_id, expected_version)
        wording = clean_wording(text, what="The co-facilitators' wording")
        if wording == version.text:
            raise Invalid("The co-facilitators' wording is the same as the current text.")
        replaced = []
        for amendment_id in supersedes or []:
            amendment = db.get(Amendment, amendment_id)
            if amendment is None or amendment.document_id != tree.document.id:
                raise NotFound(f"There is no proposal A-{amendment_id} in this document.")
            amendment.state = transition(
                amendment.state, AmendmentState.SUPERSEDED, reference=amendment.reference
            )
            amendment.decided_at = utcnow()
            amendment.decided_by_id = actor.user_id
            amendment.decision_reason = "replaced by the co-facilitators' proposal"
            replaced.append(amendment)
        result = new_version(
            db,
            tree,
            provision,
            wording,
            cause="cf_proposal",
            actor=actor,
            note=(note or "").strip() or None,
        )
        for amendment in replaced:
            amendment.result_version_id = result.id
        if provision.status is ProvisionStatus.NOT_DISCUSSED:
            provision.status = ProvisionStatus.OPEN
        events.record(
            db,
            kind="provision.cf_proposal",
            actor=actor,
            subject="provision",
            subject_id=provision.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            before_id=version.id,
            after_id=result.id,
            provision_id=provision.id,
            superseded=[a.id for a in replaced],
        )
        return _provision_view(db, provision)


def resolve_brackets(
    database: Database,
    *,
    actor: Actor,
    provision_id: int,
    group: int,
    choice: int | None,
    expected_version: int | None = None,
) -> ProvisionView:
    """Settle a disputed passage by keeping one alternative (or none)."""
    with database.write() as db:
        provision, tree, version = _cf_provision(db, actor, provision_id, expected_version)
        try:
            text = resolve(version.text, group, choice)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        result = new_version(db, tree, provision, text, cause="brackets_resolved", actor=actor)
        events.record(
            db,
            kind="provision.brackets_resolved",
            actor=actor,
            subject="provision",
            subject_id=provision.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            before_id=version.id,
            after_id=result.id,
            provision_id=provision.id,
            group=group,
            choice=choice,
        )
        return _provision_view(db, provision)


def cf_alternative(
    database: Database,
    *,
    actor: Actor,
    provision_id: int,
    text: str,
    note: str | None = None,
) -> ProvisionView:
    """Table a whole-paragraph alternative ("OP6 alt"), after the paragraph's other alternatives."""
    with database.write() as db:
        provision, tree, _ = _cf_provision(db, actor, provision_id, None)
        key = provision.label_key
        if key is None:
            raise Invalid(
                f"{tree.describe(provision)} has no label, so it cannot have an alternative."
            )
        wording = clean_wording(text, what="The alternative wording")
        family = _alternatives(tree, provision)
        last = max(family, key=lambda p: p.position)
        siblings = [p.label_key for p in tree.order if p.label_key and _same_class(p, provision)]
        alt = key_for_alternative(key, siblings)
        _open_gap(db, provision.document_id, provision.parent_id, after_position=last.position)
        created = Provision(
            document_id=provision.document_id,
            parent_id=provision.parent_id,
            position=last.position + 1,
            kind=provision.kind,
            label_number=alt.number,
            label_insert=alt.insert,
            label_alt=alt.alt,
            status=ProvisionStatus.OPEN,
        )
        db.add(created)
        db.flush()
        first = ProvisionVersion(
            provision_id=created.id,
            number=1,
            text=wording,
            cause="cf_alternative",
            author_id=actor.user_id,
            note=(note or "").strip() or None,
        )
        db.add(first)
        db.flush()
        created.current_version_id = first.id
        events.record(
            db,
            kind="provision.alternative",
            actor=actor,
            subject="provision",
            subject_id=created.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            provision_id=created.id,
            alternative_to=provision.id,
        )
        return _provision_view(db, created)


def choose_alternative(database: Database, *, actor: Actor, provision_id: int) -> ProvisionView:
    """Keep this wording of a paragraph; its other alternatives are deleted from the text."""
    with database.write() as db:
        provision, tree, _ = _cf_provision(db, actor, provision_id, None)
        others = [
            p for p in _alternatives(tree, provision) if p.id != provision.id and not p.deleted
        ]
        if not others:
            raise Invalid(f"{tree.describe(provision)} has no alternative to choose from.")
        for other in others:
            for p in _subtree(tree, other):
                p.deleted = True
                _flag_pending(db, p.id, exclude=0, reason="another alternative was chosen")
        events.record(
            db,
            kind="provision.alternative_chosen",
            actor=actor,
            subject="provision",
            subject_id=provision.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            provision_id=provision.id,
            dropped=[o.id for o in others],
        )
        return _provision_view(db, provision)


def _same_class(a: Provision, b: Provision) -> bool:
    return a.kind == b.kind and a.parent_id == b.parent_id


def _alternatives(tree: DocumentTree, provision: Provision) -> list[Provision]:
    """The paragraph and its alternatives: same place, same number, any "alt"."""
    key = provision.label_key
    return [
        p
        for p in tree.order
        if _same_class(p, provision)
        and p.label_key is not None
        and key is not None
        and (p.label_key.number, p.label_key.insert) == (key.number, key.insert)
    ]


def set_status(
    database: Database,
    *,
    actor: Actor,
    provision_id: int,
    status: ProvisionStatus,
    reservation: str | None = None,
    expected_version: int | None = None,
) -> ProvisionView:
    """Mark a provision open, agreed pending a reservation, agreed ad ref, or agreed."""
    with database.write() as db:
        provision, tree, _ = _cf_provision(db, actor, provision_id, expected_version)
        check_status_change(provision.status, status, reservation=reservation)
        before = provision.status
        provision.status = status
        provision.reservation_delegation_id = (
            find_delegation(db, reservation).id if reservation else None
        )
        events.record(
            db,
            kind="provision.status",
            actor=actor,
            subject="provision",
            subject_id=provision.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            provision_id=provision.id,
            before=before.value,
            after=status.value,
            reservation=reservation,
        )
        return _provision_view(db, provision)


def lift_reservation(database: Database, *, actor: Actor, provision_id: int) -> ProvisionView:
    """The delegation holding a reservation gives it up: the provision is agreed ad ref."""
    with database.write() as db:
        provision = db.get(Provision, provision_id)
        if provision is None:
            raise NotFound(f"There is no provision {provision_id}.")
        tree = load_tree(db, provision.document_id)
        if provision.status is not ProvisionStatus.AGREED_PENDING:
            raise Invalid(f"{tree.describe(provision)} has no reservation to lift.")
        holder = provision.reservation_delegation_id
        require_may_lift_reservation(
            actor,
            holder_id=holder,
            holder_name=load_directory(db).delegation_short(holder) or "the delegation",
            cofacilitator_ids=cofacilitator_ids(db, tree.document.negotiation_id),
        )
        provision.status = ProvisionStatus.AGREED_AD_REF
        provision.reservation_delegation_id = None
        events.record(
            db,
            kind="provision.reservation_lifted",
            actor=actor,
            subject="provision",
            subject_id=provision.id,
            negotiation_id=tree.document.negotiation_id,
            document_id=tree.document.id,
            provision_id=provision.id,
        )
        return _provision_view(db, provision)


# -- the mechanics shared by every decision -----------------------------------------------------


def new_version(
    db: Session,
    tree: DocumentTree,
    provision: Provision,
    text: str,
    *,
    cause: str,
    actor: Actor,
    amendment: Amendment | None = None,
    attributions: list[list[object]] | None = None,
    note: str | None = None,
) -> ProvisionVersion:
    """Append the next version and carry every other pending proposal onto it."""
    current = _version(db, provision.current_version_id)
    clean_wording(text, what="The resulting text")
    version = ProvisionVersion(
        provision_id=provision.id,
        number=current.number + 1,
        text=text,
        cause=cause,
        amendment_id=amendment.id if amendment else None,
        author_id=actor.user_id,
        attributions=attributions or [],
        note=note,
    )
    db.add(version)
    db.flush()
    provision.current_version_id = version.id
    _rebase_pending(db, provision, current, version, exclude=amendment.id if amendment else None)
    return version


def _rebase_pending(
    db: Session,
    provision: Provision,
    old: ProvisionVersion,
    new: ProvisionVersion,
    *,
    exclude: int | None,
) -> None:
    """Carry each pending wording proposal onto `new`, or flag it: three queries in all."""
    pairs = db.execute(
        select(Amendment, AmendmentWording)
        .join(AmendmentWording, Amendment.current_wording_id == AmendmentWording.id)
        .where(
            Amendment.provision_id == provision.id,
            Amendment.state == AmendmentState.PENDING,
            Amendment.kind == AmendmentKind.WORDING,
        )
        .order_by(Amendment.id)  # the same history on every database
    ).all()
    pairs = [(a, w) for a, w in pairs if a.id != exclude]
    base_ids = {w.base_version_id for _, w in pairs} - {old.id, None}
    bases = {old.id: old.text}
    if base_ids:
        bases.update(
            db.execute(
                select(ProvisionVersion.id, ProvisionVersion.text).where(
                    ProvisionVersion.id.in_(base_ids)
                )
            ).all()
        )
    by_base: dict[int, list[tuple[Amendment, AmendmentWording]]] = defaultdict(list)
    for amendment, wording in pairs:
        assert wording.text is not None and wording.base_version_id is not None
        by_base[wording.base_version_id].append((amendment, wording))
    outcomes = []
    for base_id, group in by_base.items():
        texts = [w.text or "" for _, w in group]
        outcomes.extend(zip(group, rebase_all(bases[base_id], new.text, texts), strict=True))
    moved: list[tuple[Amendment, dict[str, object]]] = []
    for (amendment, wording), outcome in outcomes:
        if isinstance(outcome, NeedsRedraft):
            amendment.needs_redraft = True
            amendment.redraft_reason = outcome.reason
        elif outcome.already_in_text:
            amendment.state = AmendmentState.SUPERSEDED
            amendment.decided_at = utcnow()
            amendment.decision_reason = "its wording is now in the text"
            amendment.result_version_id = new.id
        else:
            wording_row = {
                "amendment_id": amendment.id,
                "seq": wording.seq + 1,
                "base_version_id": new.id,
                "text": outcome.proposed,
                "diff": encode_diff(outcome.ops),
                "reason": "rebased",
            }
            moved.append((amendment, wording_row))
    if moved:
        _move_onto(db, moved)


def _move_onto(db: Session, moved: list[tuple[Amendment, dict[str, object]]]) -> None:
    """Insert the rebased wordings and point their proposals at them: two statements, however
    many proposals a busy paragraph has (row by row, the ORM spends more time than the diffs).

    Each proposal moves only if it is still the one read (its lock); if one was revised or
    withdrawn meanwhile, the whole decision is refused rather than overwrite that change.
    """
    wording_ids = db.scalars(
        insert(AmendmentWording).returning(AmendmentWording.id, sort_by_parameter_order=True),
        [row for _, row in moved],
    ).all()
    targets = {amendment.id: wid for (amendment, _), wid in zip(moved, wording_ids, strict=True)}
    result = db.execute(
        update(Amendment)
        .where(tuple_(Amendment.id, Amendment.lock).in_([(a.id, a.lock) for a, _ in moved]))
        .values(
            current_wording_id=case(targets, value=Amendment.id),
            lock=Amendment.lock + 1,
            # one flagged by an earlier decision that now applies again no longer needs redraft
            needs_redraft=False,
            redraft_reason=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(moved):
        raise Conflict(
            "A pending proposal on this paragraph changed while the decision was being made; "
            "nothing was decided. Reload and decide again."
        )
    for amendment, _ in moved:
        db.expire(amendment, ["current_wording_id", "lock", "needs_redraft", "redraft_reason"])


def _flag_pending(db: Session, provision_id: int, *, exclude: int, reason: str) -> None:
    for amendment in db.scalars(
        select(Amendment).where(
            Amendment.provision_id == provision_id,
            Amendment.state == AmendmentState.PENDING,
            Amendment.id != exclude,
        )
    ):
        amendment.needs_redraft = True
        amendment.redraft_reason = reason


def _insert_after(
    db: Session, tree: DocumentTree, anchor: Provision, amendment: Amendment
) -> Provision:
    """Place the new provision right after its anchor; its label follows the anchor (OP5 bis)."""
    _open_gap(db, anchor.document_id, anchor.parent_id, after_position=anchor.position)
    created = Provision(
        document_id=anchor.document_id,
        parent_id=anchor.parent_id,
        position=anchor.position + 1,
        kind=amendment.new_kind or anchor.kind,
        status=ProvisionStatus.OPEN,
    )
    db.add(created)
    db.flush()
    placed = build_tree(tree.document, [*tree.order, created])
    nodes = [
        LabelNode(id=p.id, kind=p.kind, parent_id=p.parent_id, key=p.label_key, deleted=p.deleted)
        for p in placed.order
    ]
    key = key_for_new(tree.document.scheme, nodes, created.id)
    if key is not None:
        created.label_number, created.label_insert, created.label_alt = (
            key.number,
            key.insert,
            key.alt,
        )
    return created


def _move(db: Session, tree: DocumentTree, provision: Provision, after_id: int | None) -> None:
    if after_id is None:
        parent_id, position = provision.parent_id, 0
    else:
        after = tree.by_id(after_id)
        parent_id, position = after.parent_id, after.position + 1
        _open_gap(db, provision.document_id, parent_id, after_position=after.position)
    if after_id is None:
        _open_gap(db, provision.document_id, parent_id, after_position=-1)
    provision.parent_id = parent_id
    provision.position = position


def _open_gap(db: Session, document_id: int, parent_id: int | None, *, after_position: int) -> None:
    parent = (
        Provision.parent_id.is_(None) if parent_id is None else Provision.parent_id == parent_id
    )
    db.execute(
        update(Provision)
        .where(Provision.document_id == document_id, parent, Provision.position > after_position)
        .values(position=Provision.position + 1)
        .execution_options(synchronize_session="fetch")
    )


def _subtree(tree: DocumentTree, root: Provision) -> list[Provision]:
    ids = {root.id}
    found = [root]
    for p in tree.order:
        if p.parent_id in ids:
            ids.add(p.id)
            found.append(p)
    return found


def _cf_provision(
    db: Session, actor: Actor, provision_id: int, expected_version: int | None
) -> tuple[Provision, DocumentTree, ProvisionVersion]:
    provision = db.get(Provision, provision_id)
    if provision is None:
        raise NotFound(f"There is no provision {provision_id}.")
    tree = load_tree(db, provision.document_id)
    require_cofacilitator_of(
        actor, cofacilitator_ids(db, tree.document.negotiation_id), Action.DECIDE
    )
    version = _version(db, provision.current_version_id)
    if expected_version is not None and expected_version != version.number:
        raise Conflict(_stale(tree.describe(provision), expected_version, version.number))
    return provision, tree, version


def _version(db: Session, version_id: int | None) -> ProvisionVersion:
    version = db.get(ProvisionVersion, version_id) if version_id else None
    if version is None:
        raise NotFound("That version of the provision does not exist.")
    return version


def _provision_view(db: Session, provision: Provision) -> ProvisionView:
    db.flush()
    tree = load_tree(db, provision.document_id)
    return next(v for v in provision_views(db, tree) if v.id == provision.id)
