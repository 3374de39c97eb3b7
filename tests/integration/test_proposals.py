"""Delegations' use cases on both databases: propose, join, redraft, withdraw, support, oppose."""

from __future__ import annotations

import pytest

from app.domain.amendments import AmendmentKind, AmendmentState, Decision
from app.domain.errors import Conflict, Invalid, NotAllowed, NotFound
from app.domain.provisions import ProvisionStatus
from app.services import amendments, decisions, documents, events
from tests.conftest import World

OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


def test_imported_text_has_labels_versions_and_a_zero_draft(world: World) -> None:
    labels = [p.label for p in world.document.provisions]
    assert labels == ["PP1", "PP2", "OP1", "OP2", "OP2 (a)", "OP2 (b)", "OP3"]
    assert world.text("OP1") == OP1
    assert all(p.version == 1 for p in world.document.provisions)


def test_propose_wording_stores_word_diff(world: World) -> None:
    view = amendments.propose(
        world.database,
        actor=world.eu,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=OP1.replace("in 2018", "in the second half of 2018"),
        on_behalf_of="EU",
        justification="Time to prepare.",
    )
    assert view.state is AmendmentState.PENDING
    assert view.proponents == ("EU",)
    assert view.base_version == 1
    inserted = [op.text for op in view.diff if op.op == "insert"]
    assert inserted == ["the second half of "]
    assert "".join(op.text for op in view.diff if op.op != "insert") == OP1


@pytest.mark.parametrize(
    ("kind", "words", "group", "after"),
    [
        (AmendmentKind.WORDING, OP1.replace("2018", "2019"), "EU", None),
        (AmendmentKind.INSERT_AFTER, "Also decides to meet again in 2020;", None, None),
        (AmendmentKind.DELETE, None, "EU", None),
        (AmendmentKind.MOVE, None, None, "OP2"),
    ],
)
def test_a_new_proposals_view_is_the_one_read_back(
    world: World, kind: AmendmentKind, words: str | None, group: str | None, after: str | None
) -> None:
    """`propose` builds the new proposal's view from what it wrote, without reading it back
    (on PostgreSQL it is written with the commit): it must be exactly what a later read gives."""
    op1 = world.provision("OP1")
    made = amendments.propose(
        world.database, actor=world.eu, provision_id=op1, kind=kind, text=words,
        on_behalf_of=group, justification="Why not.",
        after_id=world.provision(after) if after else None,
    )  # fmt: skip
    read = amendments.list_amendments(
        world.database, document_id=world.document.id, provision_id=op1
    )
    assert [made] == [a for a in read if a.id == made.id]
    detail = documents.get_provision(world.database, provision_id=op1)
    assert made in detail.amendments


def test_joining_a_proposal_uses_up_no_number(world: World) -> None:
    """A proposal's number (A-n) is drawn with the provision's read on PostgreSQL: only when a
    new proposal is to be made, so joining the same wording leaves no gap in the numbers."""
    op1 = world.provision("OP1")
    wording = OP1.replace("in 2018", "in 2019")
    first = amendments.propose(
        world.database, actor=world.eu, provision_id=op1, kind=AmendmentKind.WORDING,
        text=wording,
    )  # fmt: skip
    joined = amendments.propose(
        world.database, actor=world.usa, provision_id=op1, kind=AmendmentKind.WORDING,
        text=wording,
    )  # fmt: skip
    assert joined.id == first.id and joined.proponents == ("EU", "United States")
    second = amendments.propose(
        world.database, actor=world.norway, provision_id=op1, kind=AmendmentKind.WORDING,
        text=OP1.replace("in 2018", "in 2020"),
    )  # fmt: skip
    assert second.id == first.id + 1


def test_a_position_on_a_proposal_no_longer_there(world: World) -> None:
    """A withdrawn proposal nobody took a position on (its read finds no stand), and one that
    does not exist, are refused as such."""
    made = amendments.propose(
        world.database, actor=world.eu, provision_id=world.provision("OP1"),
        kind=AmendmentKind.DELETE,
    )  # fmt: skip
    amendments.withdraw(world.database, actor=world.eu, amendment_id=made.id)
    with pytest.raises(Invalid, match="withdrawn, no longer pending"):
        amendments.take_position(
            world.database, actor=world.usa, amendment_id=made.id, stance="support"
        )
    with pytest.raises(NotFound, match=f"There is no proposal A-{made.id + 1000}."):
        amendments.take_position(
            world.database, actor=world.usa, amendment_id=made.id + 1000, stance="support"
        )


def test_a_positions_answer_is_the_proposal_read_back(world: World) -> None:
    """`take_position` builds the proposal's view from what it read and wrote: after every kind
    of change (a new position, a changed stance, one taken back) it is what a later read gives,
    supporters and opponents in the order their positions were first taken."""
    op1 = world.provision("OP1")
    proposal = amendments.propose(
        world.database, actor=world.eu, provision_id=op1, kind=AmendmentKind.WORDING,
        text=OP1.replace("in 2018", "in 2019"), justification="Later.",
    )  # fmt: skip
    steps = [
        (world.norway, "support"),
        (world.russia, "oppose"),
        (world.usa, "support"),
        (world.norway, "oppose"),  # changed: keeps its place
        (world.russia, None),  # taken back
        (world.russia, "support"),  # taken again: now last
    ]
    for actor, stance in steps:
        answer = amendments.take_position(
            world.database, actor=actor, amendment_id=proposal.id, stance=stance
        )
        read = amendments.list_amendments(
            world.database, document_id=world.document.id, provision_id=op1
        )
        assert [answer] == [a for a in read if a.id == proposal.id], (actor, stance)
    assert answer.supporters == ("United States", "Russian Federation")
    assert answer.opponents == ("Norway",)


def test_a_write_sent_with_the_commit_and_refused_fails_the_whole_use_case(
    world: World,
) -> None:
    """Positions and proponents are written with the commit (`events.write_at_commit`): one
    the database refuses there (a second position of the same delegation, as two clicks racing
    would make) fails the use case as a conflict, and nothing of it, its event included, is
    kept."""
    proposal = amendments.propose(
        world.database, actor=world.eu, provision_id=world.provision("OP1"),
        kind=AmendmentKind.DELETE,
    )  # fmt: skip
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=proposal.id, stance="support"
    )
    with world.database.read() as db:
        before = events.stamp(db)
    second = {
        "amendment_id": proposal.id,
        "delegation_id": world.norway.delegation_id,
        "stance": "oppose",
        "user_id": world.norway.user_id,
    }
    with pytest.raises(Conflict), world.database.write() as db:
        events.write_at_commit(db, amendments._INSERT_POSITION, second)
        events.record(db, kind="amendment.oppose", actor=world.norway, subject="amendment",
                      subject_id=proposal.id, document_id=world.document.id)  # fmt: skip
    with world.database.read() as db:
        assert events.stamp(db) == before
    view = amendments.get_amendment(world.database, amendment_id=proposal.id)
    assert view.supporters == ("Norway",) and view.opponents == ()


def test_same_wording_twice_joins_as_co_proponent(world: World) -> None:
    text = OP1.replace("in 2018", "in 2018, in New York")
    first = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=text,
    )
    second = amendments.propose(
        world.database,
        actor=world.russia,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=text,
    )
    assert second.id == first.id and second.joined
    assert second.proponents == ("United States", "Russian Federation")
    with pytest.raises(Invalid, match="already made this proposal"):
        amendments.propose(
            world.database,
            actor=world.usa,
            provision_id=world.provision("OP1"),
            kind=AmendmentKind.WORDING,
            text=text,
        )
    listed = amendments.list_amendments(world.database, document_id=world.document.id)
    assert len(listed) == 1


def test_refusals(world: World) -> None:
    op1 = world.provision("OP1")
    with pytest.raises(Invalid, match="same as the current text"):
        amendments.propose(
            world.database, actor=world.usa, provision_id=op1, kind=AmendmentKind.WORDING, text=OP1
        )
    with pytest.raises(Invalid, match="unbalanced brackets"):
        amendments.propose(
            world.database,
            actor=world.usa,
            provision_id=op1,
            kind=AmendmentKind.WORDING,
            text=OP1 + " [in New York",
        )
    with pytest.raises(NotAllowed, match="not authorised to speak on behalf of G77"):
        amendments.propose(
            world.database,
            actor=world.usa,
            provision_id=op1,
            kind=AmendmentKind.WORDING,
            text=OP1 + " x",
            on_behalf_of="G77",
        )
    with pytest.raises(NotAllowed, match="in the name of NOR"):
        amendments.propose(
            world.database,
            actor=world.usa,
            provision_id=op1,
            kind=AmendmentKind.WORDING,
            text=OP1 + " x",
            delegation="NOR",
        )
    for outsider in (world.stakeholder, world.observer, world.secretariat, world.mexico):
        with pytest.raises(NotAllowed, match="cannot make proposals"):
            amendments.propose(
                world.database,
                actor=outsider,
                provision_id=op1,
                kind=AmendmentKind.WORDING,
                text=OP1 + " x",
            )
    with pytest.raises(Conflict, match="you had version 3, it is now version 1"):
        amendments.propose(
            world.database,
            actor=world.usa,
            provision_id=op1,
            kind=AmendmentKind.WORDING,
            text=OP1 + " x",
            expected_version=3,
        )
    assert amendments.list_amendments(world.database, document_id=world.document.id) == []


def test_agreed_provision_refuses_proposals_until_reopened(world: World) -> None:
    op3 = world.provision("OP3")
    decisions.set_status(
        world.database, actor=world.mexico, provision_id=op3, status=ProvisionStatus.AGREED_AD_REF
    )
    with pytest.raises(Invalid, match="OP3 is agreed ad ref: it is closed to new proposals"):
        amendments.propose(
            world.database, actor=world.usa, provision_id=op3, kind=AmendmentKind.DELETE
        )
    decisions.set_status(
        world.database, actor=world.mexico, provision_id=op3, status=ProvisionStatus.OPEN
    )
    view = amendments.propose(
        world.database, actor=world.usa, provision_id=op3, kind=AmendmentKind.DELETE
    )
    assert view.kind is AmendmentKind.DELETE


def test_redraft_keeps_the_chain_of_wordings(world: World) -> None:
    op1 = world.provision("OP1")
    view = amendments.propose(
        world.database,
        actor=world.norway,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=OP1.replace("2018", "2019"),
    )
    amendments.revise(
        world.database,
        actor=world.norway,
        amendment_id=view.id,
        text=OP1.replace("2018", "2018 or 2019"),
    )
    with pytest.raises(NotAllowed, match="Only the proponents"):
        amendments.revise(world.database, actor=world.usa, amendment_id=view.id, text=OP1 + " x")
    full = amendments.get_amendment(world.database, amendment_id=view.id)
    assert [w.text for w in full.wordings] == [
        OP1.replace("2018", "2019"),
        OP1.replace("2018", "2018 or 2019"),
    ]
    assert [w.reason for w in full.wordings] == ["proposed", "revised"]
    assert full.proposed_text == OP1.replace("2018", "2018 or 2019")


def test_support_oppose_and_withdraw(world: World) -> None:
    op1 = world.provision("OP1")
    view = amendments.propose(
        world.database,
        actor=world.egypt,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        on_behalf_of="G77",
        text=OP1.replace("migration", "migration and development"),
    )
    assert view.proponents == ("G77 and China",)
    amendments.take_position(
        world.database, actor=world.norway, amendment_id=view.id, stance="support"
    )
    amendments.take_position(world.database, actor=world.usa, amendment_id=view.id, stance="oppose")
    view = amendments.take_position(
        world.database, actor=world.russia, amendment_id=view.id, stance="support"
    )
    assert view.supporters == ("Norway", "Russian Federation")
    assert view.opponents == ("United States",)
    assert view.attribution == (
        "G77 and China; supported by Norway, Russian Federation; opposed by United States"
    )
    view = amendments.take_position(
        world.database, actor=world.usa, amendment_id=view.id, stance=None
    )
    assert view.opponents == ()
    with pytest.raises(Invalid, match="cannot also support"):
        amendments.take_position(
            world.database, actor=world.egypt, amendment_id=view.id, stance="support"
        )
    with pytest.raises(NotAllowed, match="Only the proponents"):
        amendments.withdraw(world.database, actor=world.norway, amendment_id=view.id)
    view = amendments.withdraw(world.database, actor=world.egypt, amendment_id=view.id)
    assert view.state is AmendmentState.WITHDRAWN
    with pytest.raises(Invalid, match="withdrawn, no longer pending"):
        amendments.take_position(
            world.database, actor=world.norway, amendment_id=view.id, stance="support"
        )


def test_a_co_proponent_withdrawing_leaves_the_proposal_to_the_others(world: World) -> None:
    op1 = world.provision("OP1")
    text = OP1.replace("in 2018", "in Morocco in 2018")
    view = amendments.propose(
        world.database, actor=world.usa, provision_id=op1, kind=AmendmentKind.WORDING, text=text
    )
    amendments.propose(
        world.database, actor=world.norway, provision_id=op1, kind=AmendmentKind.WORDING, text=text
    )
    view = amendments.withdraw(world.database, actor=world.usa, amendment_id=view.id)
    assert view.state is AmendmentState.PENDING
    assert view.proponents == ("Norway",)


def test_filters(world: World) -> None:
    op1, op3 = world.provision("OP1"), world.provision("OP3")
    a = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=OP1 + " Yes.",
    )
    amendments.propose(
        world.database,
        actor=world.eu,
        provision_id=op3,
        kind=AmendmentKind.DELETE,
        on_behalf_of="EU",
    )
    decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=a.id,
        decision=Decision.REJECT,
        reason="No support.",
    )

    def by(**kw: object) -> list[int]:
        listed = amendments.list_amendments(world.database, document_id=world.document.id, **kw)  # type: ignore[arg-type]
        return [v.id for v in listed]

    assert len(by()) == 2
    assert by(provision_id=op1) == [a.id]
    assert by(delegation="USA") == [a.id]
    assert len(by(delegation="EU")) == 1
    assert by(state=AmendmentState.REJECTED) == [a.id]
    assert len(by(state=AmendmentState.PENDING)) == 1
    detail = documents.get_provision(world.database, provision_id=op1)
    assert [v.id for v in detail.amendments] == [a.id]
