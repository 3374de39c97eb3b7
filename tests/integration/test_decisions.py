"""The co-facilitators' use cases on both databases: decisions, rebase, brackets, revisions."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app.db.models import Event, ProvisionVersion
from app.domain.amendments import AmendmentKind, AmendmentState, Decision
from app.domain.errors import Conflict, Invalid, NotAllowed
from app.domain.labels import ProvisionKind
from app.domain.provisions import ProvisionStatus
from app.services import amendments, decisions, documents, revisions
from tests.conftest import World

OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


def propose(world: World, actor, label: str, text: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return amendments.propose(
        world.database,
        actor=actor,
        provision_id=world.provision(label),
        kind=kw.pop("kind", AmendmentKind.WORDING),
        text=text,
        **kw,
    )


def test_accept_makes_a_new_version_and_rebases_the_others(world: World) -> None:
    a = propose(world, world.usa, "OP1", OP1.replace("to convene", "to hold"))
    b = propose(world, world.eu, "OP1", OP1.replace("in 2018", "in the second half of 2018"))
    c = propose(world, world.russia, "OP1", OP1.replace("to convene", "to organise"))
    decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=a.id,
        decision=Decision.ACCEPT,
        expected_version=1,
    )
    assert world.text("OP1") == OP1.replace("to convene", "to hold")
    b2 = amendments.get_amendment(world.database, amendment_id=b.id)
    assert b2.state is AmendmentState.PENDING and not b2.needs_redraft
    assert b2.base_version == 2
    assert b2.proposed_text == OP1.replace("to convene", "to hold").replace(
        "in 2018", "in the second half of 2018"
    )
    assert [w.reason for w in b2.wordings] == ["proposed", "rebased"]
    c2 = amendments.get_amendment(world.database, amendment_id=c.id)
    assert c2.needs_redraft and "convene" in (c2.redraft_reason or "")
    assert c2.base_version == 1  # still on the wording it was written on
    with pytest.raises(Invalid, match="must redraft it first"):
        decisions.decide(
            world.database, actor=world.mexico, amendment_id=c.id, decision=Decision.ACCEPT
        )
    amendments.revise(
        world.database,
        actor=world.russia,
        amendment_id=c.id,
        text=OP1.replace("to convene", "to hold, in Morocco,"),
    )
    c3 = amendments.get_amendment(world.database, amendment_id=c.id)
    assert not c3.needs_redraft and c3.base_version == 2


def test_a_flagged_proposal_that_applies_again_after_a_later_change_is_no_longer_flagged(
    world: World,
) -> None:
    """A proposal that needed redrafting keeps the wording it was written on; when a later
    version makes that wording apply again (here the conflicting change is undone), it is
    carried over like any other and may be decided without a redraft."""
    usa = propose(world, world.usa, "OP1", OP1.replace("in 2018", "in 2019"))
    eu = propose(world, world.eu, "OP1", OP1.replace("in 2018", "in 2020"))
    decisions.decide(world.database, actor=world.mexico, amendment_id=eu.id,
                     decision=Decision.ACCEPT)  # fmt: skip
    flagged = amendments.get_amendment(world.database, amendment_id=usa.id)
    assert flagged.needs_redraft and flagged.base_version == 1
    back = propose(world, world.russia, "OP1", OP1)  # the 2018 of the first version again
    decisions.decide(world.database, actor=world.mexico, amendment_id=back.id,
                     decision=Decision.ACCEPT)  # fmt: skip
    carried = amendments.get_amendment(world.database, amendment_id=usa.id)
    assert not carried.needs_redraft and carried.redraft_reason is None
    assert carried.base_version == 3 and carried.proposed_text == OP1.replace("2018", "2019")
    assert [w.reason for w in carried.wordings] == ["proposed", "rebased"]
    decisions.decide(world.database, actor=world.mexico, amendment_id=usa.id,
                     decision=Decision.ACCEPT)  # fmt: skip
    assert world.text("OP1") == OP1.replace("in 2018", "in 2019")


def test_collisions_are_reported(world: World) -> None:
    a = propose(world, world.usa, "OP1", OP1.replace("to convene", "to hold"))
    b = propose(world, world.russia, "OP1", OP1.replace("to convene", "to organise"))
    propose(world, world.eu, "OP1", OP1.replace("in 2018", "in 2019"))
    detail = documents.get_provision(world.database, provision_id=world.provision("OP1"))
    assert [(c.first, c.second) for c in detail.collisions] == [(a.id, b.id)]
    assert "convene" in detail.collisions[0].words


def test_bracket_puts_alternatives_in_the_text_with_attribution(world: World) -> None:
    a = propose(
        world,
        world.eu,
        "OP1",
        OP1.replace("in 2018", "in the second half of 2018"),
        on_behalf_of="EU",
    )
    decisions.decide(
        world.database, actor=world.switzerland, amendment_id=a.id, decision=Decision.BRACKET
    )
    text = world.text("OP1")
    assert "[" in text and "second half of" in text
    detail = documents.get_provision(world.database, provision_id=world.provision("OP1"))
    latest = detail.versions[-1]
    assert latest.cause == "bracketed" and latest.number == 2
    assert [a[2] for a in latest.attributions] == ["EU"]
    start, end, _ = latest.attributions[0]
    assert text[start] == "[" and text[end - 1] == "]"
    # the co-facilitators later settle the passage by keeping the new alternative
    decisions.resolve_brackets(
        world.database, actor=world.mexico, provision_id=world.provision("OP1"), group=0, choice=0
    )
    assert "[" not in world.text("OP1")
    assert world.text("OP1") == OP1.replace("in 2018", "in the second half of 2018")


def test_reject_needs_a_reason_and_decided_is_final(world: World) -> None:
    a = propose(world, world.usa, "OP1", OP1 + " Yes.")
    with pytest.raises(Invalid, match="Say why"):
        decisions.decide(
            world.database, actor=world.mexico, amendment_id=a.id, decision=Decision.REJECT
        )
    decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=a.id,
        decision=Decision.REJECT,
        reason="Out of scope.",
    )
    with pytest.raises(Invalid, match=f"A-{a.id} is already rejected; it cannot be accepted"):
        decisions.decide(
            world.database, actor=world.mexico, amendment_id=a.id, decision=Decision.ACCEPT
        )
    assert world.text("OP1") == OP1


def test_only_this_negotiations_cofacilitators_decide(world: World) -> None:
    a = propose(world, world.usa, "OP1", OP1 + " Yes.")
    for actor in (world.usa, world.secretariat, world.stakeholder, world.observer):
        with pytest.raises(NotAllowed):
            decisions.decide(
                world.database, actor=actor, amendment_id=a.id, decision=Decision.ACCEPT
            )
    with pytest.raises(Conflict, match="you had version 7"):
        decisions.decide(
            world.database,
            actor=world.mexico,
            amendment_id=a.id,
            decision=Decision.ACCEPT,
            expected_version=7,
        )
    assert (
        amendments.get_amendment(world.database, amendment_id=a.id).state is AmendmentState.PENDING
    )


def test_new_provision_gets_bis_then_ter_and_deleted_keeps_its_label(world: World) -> None:
    x = propose(
        world,
        world.egypt,
        "OP1",
        "Decides also to hold regional consultations;",
        kind=AmendmentKind.INSERT_AFTER,
        on_behalf_of="G77",
    )
    y = propose(
        world,
        world.eu,
        "OP1",
        "Stresses the whole-of-society approach;",
        kind=AmendmentKind.INSERT_AFTER,
    )
    d = propose(world, world.usa, "OP3", kind=AmendmentKind.DELETE)
    for amendment in (x, y, d):
        decisions.decide(
            world.database, actor=world.mexico, amendment_id=amendment.id, decision=Decision.ACCEPT
        )
    text = documents.get_document(world.database, document_id=world.document.id)
    labels = [(p.label, p.deleted) for p in text.provisions]
    assert labels == [
        ("PP1", False),
        ("PP2", False),
        ("OP1", False),
        ("OP1 ter", False),
        ("OP1 bis", False),
        ("OP2", False),
        ("OP2 (a)", False),
        ("OP2 (b)", False),
        ("OP3", True),
    ]
    new = next(p for p in text.provisions if p.label == "OP1 bis")
    assert new.kind is ProvisionKind.OPERATIVE and new.text.startswith("Decides also")
    # the revision renumbers densely, drops the deleted OP3 and records the map
    rev = revisions.issue_revision(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    assert rev.label_map["OP1 ter"] == "OP2" and rev.label_map["OP1 bis"] == "OP3"
    assert rev.label_map["OP2"] == "OP4" and rev.label_map["OP3"] == ""
    assert [e.label for e in rev.entries] == [
        "PP1",
        "PP2",
        "OP1",
        "OP2",
        "OP3",
        "OP4",
        "OP4 (a)",
        "OP4 (b)",
    ]
    after = documents.get_document(world.database, document_id=world.document.id)
    assert [p.label for p in after.provisions] == [e.label for e in rev.entries]


def test_bracketed_new_provision_and_deletion(world: World) -> None:
    x = propose(
        world,
        world.egypt,
        "OP2 (b)",
        "to take into account remittances;",
        kind=AmendmentKind.INSERT_AFTER,
        on_behalf_of="G77",
    )
    d = propose(world, world.usa, "OP3", kind=AmendmentKind.DELETE)
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=x.id, decision=Decision.BRACKET
    )
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=d.id, decision=Decision.BRACKET
    )
    assert world.text("OP2 (b bis)") == "[to take into account remittances;]"
    assert world.text("OP3").startswith("[Invites") and world.text("OP3").endswith("]")


def test_move_keeps_label_until_revision(world: World) -> None:
    m = propose(
        world, world.norway, "OP3", kind=AmendmentKind.MOVE, after_id=world.provision("OP1")
    )
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=m.id, decision=Decision.ACCEPT
    )
    text = documents.get_document(world.database, document_id=world.document.id)
    assert [p.label for p in text.provisions] == [
        "PP1",
        "PP2",
        "OP1",
        "OP3",
        "OP2",
        "OP2 (a)",
        "OP2 (b)",
    ]
    with pytest.raises(Invalid, match="cannot be bracketed"):
        m2 = propose(
            world, world.norway, "OP1", kind=AmendmentKind.MOVE, after_id=world.provision("OP2")
        )
        decisions.decide(
            world.database, actor=world.mexico, amendment_id=m2.id, decision=Decision.BRACKET
        )


def test_cf_text_supersedes_and_rebases(world: World) -> None:
    a = propose(world, world.usa, "OP1", OP1.replace("to convene", "to hold"))
    b = propose(world, world.russia, "OP1", OP1.replace("to convene", "to organise"))
    c = propose(world, world.eu, "OP1", OP1.replace("in 2018", "in the second half of 2018"))
    decisions.cf_text(
        world.database,
        actor=world.mexico,
        provision_id=world.provision("OP1"),
        text=OP1.replace("to convene", "to hold"),
        supersedes=[a.id, b.id],
        expected_version=1,
    )
    states = {
        v.id: v.state
        for v in amendments.list_amendments(world.database, document_id=world.document.id)
    }
    assert states == {
        a.id: AmendmentState.SUPERSEDED,
        b.id: AmendmentState.SUPERSEDED,
        c.id: AmendmentState.PENDING,
    }
    detail = documents.get_provision(world.database, provision_id=world.provision("OP1"))
    assert detail.versions[-1].cause == "cf_proposal"


def test_status_and_reservation(world: World) -> None:
    op3 = world.provision("OP3")
    with pytest.raises(Invalid, match="needs the delegation"):
        decisions.set_status(
            world.database,
            actor=world.mexico,
            provision_id=op3,
            status=ProvisionStatus.AGREED_PENDING,
        )
    view = decisions.set_status(
        world.database,
        actor=world.mexico,
        provision_id=op3,
        status=ProvisionStatus.AGREED_PENDING,
        reservation="USA",
    )
    assert view.status_label == "agreed in informals pending United States"
    with pytest.raises(NotAllowed):
        decisions.lift_reservation(world.database, actor=world.russia, provision_id=op3)
    view = decisions.lift_reservation(world.database, actor=world.usa, provision_id=op3)
    assert view.status is ProvisionStatus.AGREED_AD_REF


def test_any_revision_can_be_rebuilt_exactly(world: World) -> None:
    zero = revisions.get_revision(world.database, document_id=world.document.id, ref="0")
    a = propose(world, world.usa, "OP1", OP1.replace("to convene", "to hold"))
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=a.id, decision=Decision.ACCEPT
    )
    revisions.issue_revision(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    again = revisions.get_revision(world.database, document_id=world.document.id, ref="Zero draft")
    assert again.entries == zero.entries
    assert next(e.text for e in again.entries if e.label == "OP1") == OP1
    rev1 = revisions.get_revision(world.database, document_id=world.document.id, ref="Rev.1")
    assert next(e.text for e in rev1.entries if e.label == "OP1").startswith("Decides to hold")
    with pytest.raises(Invalid, match="already has a revision named"):
        revisions.issue_revision(
            world.database,
            actor=world.mexico,
            document_id=world.document.id,
            name="Rev.1",
            issued_on=date(2016, 12, 16),
        )


def test_every_change_is_in_the_event_log(world: World) -> None:
    a = propose(world, world.usa, "OP1", OP1.replace("to convene", "to hold"))
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=a.id, decision=Decision.ACCEPT
    )
    with world.database.read() as db:
        kinds = db.scalars(select(Event.kind).order_by(Event.id)).all()
        accepted = db.scalar(select(Event).where(Event.kind == "amendment.accepted"))
        assert accepted is not None
        before = db.get(ProvisionVersion, accepted.before_id)
        after = db.get(ProvisionVersion, accepted.after_id)
        assert before is not None and after is not None
        assert (before.number, after.number) == (1, 2)
    assert kinds[-2:] == ["amendment.proposed", "amendment.accepted"]
    assert "document.imported" in kinds


def test_two_cofacilitators_deciding_at_once_leave_one_history(world: World) -> None:
    """Both decide on OP1 at once: one wins, the other gets a clear conflict, nothing half-done."""
    a = propose(world, world.usa, "OP1", OP1.replace("to convene", "to hold"))
    b = propose(world, world.eu, "OP1", OP1.replace("in 2018", "in 2019"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def run(name: str, actor, amendment_id: int) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            decisions.decide(
                world.database,
                actor=actor,
                amendment_id=amendment_id,
                decision=Decision.ACCEPT,
                expected_version=1,
            )
            outcomes[name] = "ok"
        except Conflict as exc:
            outcomes[name] = exc

    threads = [
        threading.Thread(target=run, args=("mx", world.mexico, a.id)),
        threading.Thread(target=run, args=("ch", world.switzerland, b.id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(str(type(o).__name__) for o in outcomes.values()) == ["Conflict", "str"]
    loser = next(o for o in outcomes.values() if isinstance(o, Conflict))
    assert "changed" in loser.message
    with world.database.read() as db:
        numbers = db.scalars(
            select(ProvisionVersion.number).where(
                ProvisionVersion.provision_id == world.provision("OP1")
            )
        ).all()
        accepted = db.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "amendment.accepted")
        )
    assert sorted(numbers) == [1, 2]
    assert accepted == 1
    states = sorted(
        v.state.value
        for v in amendments.list_amendments(world.database, document_id=world.document.id)
    )
    assert states == ["accepted", "pending"]


def test_whole_paragraph_alternatives(world: World) -> None:
    op1 = world.provision("OP1")
    alt = decisions.cf_alternative(
        world.database,
        actor=world.mexico,
        provision_id=op1,
        text="Decides to hold a high-level meeting in 2018;",
    )
    alt2 = decisions.cf_alternative(
        world.database,
        actor=world.mexico,
        provision_id=op1,
        text="Decides to consider the matter further;",
    )
    assert (alt.label, alt2.label) == ("OP1 alt", "OP1 alt 2")
    text = documents.get_document(world.database, document_id=world.document.id)
    assert [p.label for p in text.provisions][2:6] == ["OP1", "OP1 alt", "OP1 alt 2", "OP2"]
    decisions.choose_alternative(world.database, actor=world.mexico, provision_id=alt.id)
    text = documents.get_document(world.database, document_id=world.document.id)
    deleted = {p.label for p in text.provisions if p.deleted}
    assert deleted == {"OP1", "OP1 alt 2"}
    rev = revisions.issue_revision(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    assert [e.label for e in rev.entries][2:4] == ["OP1", "OP2"]
    assert rev.entries[2].text == "Decides to hold a high-level meeting in 2018;"
    with pytest.raises(NotAllowed):
        decisions.cf_alternative(world.database, actor=world.usa, provision_id=alt.id, text="x y")


def test_proposals_on_a_deleted_provision_are_flagged_then_only_rejectable(world: World) -> None:
    d = propose(world, world.usa, "OP3", kind=AmendmentKind.DELETE)
    w = propose(world, world.eu, "OP3", world.text("OP3").replace("Invites", "Urges"))
    decisions.decide(
        world.database, actor=world.mexico, amendment_id=d.id, decision=Decision.ACCEPT
    )
    flagged = amendments.get_amendment(world.database, amendment_id=w.id)
    assert flagged.needs_redraft and flagged.redraft_reason == "the provision was deleted"
    revisions.issue_revision(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="Rev.1",
        issued_on=date(2016, 12, 15),
    )
    with pytest.raises(Invalid, match="has left the text"):
        decisions.decide(
            world.database, actor=world.mexico, amendment_id=w.id, decision=Decision.ACCEPT
        )
    done = decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=w.id,
        decision=Decision.REJECT,
        reason="The paragraph was deleted.",
    )
    assert done.state is AmendmentState.REJECTED


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite: one writer at once
def test_a_proposal_revised_while_a_decision_rebases_it_is_not_overwritten(world: World) -> None:
    """The rebase moves all pending proposals in one statement; one that changed after it was
    read (its lock moved on) refuses the whole decision instead of losing the revision."""
    from app.db.models import Amendment
    from app.services.decisions import _move_onto

    b = propose(world, world.eu, "OP1", OP1.replace("in 2018", "in the second half of 2018"))
    refused = pytest.raises(Conflict, match="changed while the decision was being made")
    with refused, world.database.write() as db:
        stale = db.get(Amendment, b.id)
        assert stale is not None
        amendments.revise(  # commits in its own transaction meanwhile
            world.database, actor=world.eu, amendment_id=b.id, text=OP1 + " bis"
        )
        row = {"amendment_id": b.id, "seq": 9, "base_version_id": None, "text": "x"}
        _move_onto(db, [(stale, {**row, "diff": [], "reason": "rebased"})])
    kept = amendments.get_amendment(world.database, amendment_id=b.id)
    assert kept.proposed_text == OP1 + " bis"
    assert [w.reason for w in kept.wordings] == ["proposed", "revised"]
