"""Stakeholder inputs and notifications, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app import timeutil
from app.domain.amendments import AmendmentKind, Decision
from app.domain.errors import Invalid, NotAllowed, NotFound
from app.services import amendments, decisions, documents, inputs, notifications, process
from tests.conftest import World

OP1 = "Decides to convene an intergovernmental conference on international migration in 2018;"


def test_stakeholder_inputs_stay_apart_until_a_delegation_adopts_one(world: World) -> None:
    with pytest.raises(NotFound):  # restricted: stakeholders cannot even see it
        inputs.submit_input(
            world.database,
            actor=world.stakeholder,
            document_id=world.document.id,
            text="x",
            organisation="NGO",
        )
    documents.set_visibility(
        world.database, actor=world.secretariat, document_id=world.document.id, visibility="public"
    )
    view = inputs.submit_input(
        world.database,
        actor=world.stakeholder,
        document_id=world.document.id,
        provision_id=world.provision("OP1"),
        organisation="Migrant Forum in Asia",
        text="Please add: with the participation of migrants' organisations.",
    )
    assert view.organisation == "Migrant Forum in Asia" and view.adopted_by is None
    with pytest.raises(NotAllowed, match="Written inputs are for stakeholders"):
        inputs.submit_input(
            world.database,
            actor=world.usa,
            document_id=world.document.id,
            text="x",
            organisation="USA",
        )
    with pytest.raises(Invalid, match="Name the organisation"):
        inputs.submit_input(
            world.database,
            actor=world.stakeholder,
            document_id=world.document.id,
            text="x",
            organisation=" ",
        )
    # not an amendment
    assert amendments.list_amendments(world.database, document_id=world.document.id) == []
    with pytest.raises(NotAllowed, match="cannot make proposals"):
        inputs.adopt_input(
            world.database,
            actor=world.stakeholder,
            input_id=view.id,
            provision_id=world.provision("OP1"),
            text=OP1 + " x",
        )
    proposal = inputs.adopt_input(
        world.database,
        actor=world.norway,
        input_id=view.id,
        provision_id=world.provision("OP1"),
        text=OP1.replace("2018;", "2018, with the participation of migrants' organisations;"),
    )
    assert proposal.proponents == ("Norway",)
    assert proposal.justification == "Adopted from the input of Migrant Forum in Asia."
    [listed] = inputs.list_inputs(world.database, document_id=world.document.id)
    assert listed.adopted_by == proposal.id
    with pytest.raises(Invalid, match="already been adopted"):
        inputs.adopt_input(
            world.database,
            actor=world.usa,
            input_id=view.id,
            provision_id=world.provision("OP1"),
            text=OP1 + " y",
        )


def test_notifications_since_the_last_visit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeutil, "utcnow", lambda: datetime(2017, 1, 12, 12, tzinfo=UTC))
    notifications.mark_seen(world.database, actor=world.usa)
    a = amendments.propose(
        world.database,
        actor=world.usa,
        provision_id=world.provision("OP1"),
        kind=AmendmentKind.WORDING,
        text=OP1.replace("2018", "2019"),
    )
    decisions.decide(
        world.database,
        actor=world.mexico,
        amendment_id=a.id,
        decision=Decision.REJECT,
        reason="No support in the room",
    )
    process.open_round(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        name="written proposals on Rev.1",
        deadline=datetime(2017, 1, 13, 18, 0),
    )
    silence = process.place_under_silence(
        world.database,
        actor=world.mexico,
        document_id=world.document.id,
        revision="0",
        deadline=datetime(2017, 1, 20, 18, 0),
    )
    process.break_silence(
        world.database, actor=world.russia, silence_id=silence.id, statement="We object."
    )
    seen = notifications.notifications(world.database, actor=world.usa)
    texts = [n.text for n in seen.notices]
    assert f"Your proposal A-{a.id} on OP1 was rejected (No support in the room)." in texts
    assert "Russian Federation broke silence." in texts
    assert any(
        t.startswith("Deadline for written proposals on Rev.1: Friday 13 January 2017")
        for t in texts
    )
    norway = notifications.notifications(world.database, actor=world.norway)
    assert not any("Your proposal" in n.text for n in norway.notices)
    notifications.mark_seen(world.database, actor=world.usa)
    after = notifications.notifications(world.database, actor=world.usa)
    assert [n.kind for n in after.notices] == ["deadline.soon"]
