"""The life of a proposal: legal moves are allowed, every other one is refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.amendments import (
    AmendmentState,
    Decision,
    IllegalTransition,
    can_transition,
    transition,
)
from app.domain.errors import Invalid
from app.domain.provisions import (
    ProvisionStatus,
    check_open_for_proposals,
    check_status_change,
    status_label,
)


@pytest.mark.parametrize("target", [s for s in AmendmentState if s is not AmendmentState.PENDING])
def test_a_pending_proposal_can_reach_every_outcome(target: AmendmentState) -> None:
    assert transition(AmendmentState.PENDING, target, reference="A-1") is target


@given(st.sampled_from([s for s in AmendmentState if s.is_final]), st.sampled_from(AmendmentState))
def test_a_decided_proposal_never_changes(current: AmendmentState, target: AmendmentState) -> None:
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition, match=f"A-7 is already {current.value}"):
        transition(current, target, reference="A-7")


def test_decisions_map_to_outcomes() -> None:
    assert [d.outcome for d in Decision] == [
        AmendmentState.ACCEPTED,
        AmendmentState.BRACKETED,
        AmendmentState.REJECTED,
    ]


def test_pending_cannot_go_back_to_pending() -> None:
    with pytest.raises(IllegalTransition, match="cannot be reopened"):
        transition(AmendmentState.PENDING, AmendmentState.PENDING, reference="A-2")


@pytest.mark.parametrize("status", [s for s in ProvisionStatus if s.is_agreed])
def test_agreed_text_is_closed_to_proposals(status: ProvisionStatus) -> None:
    with pytest.raises(Invalid, match="closed to new proposals"):
        check_open_for_proposals(status, "OP3")


@pytest.mark.parametrize("status", [ProvisionStatus.NOT_DISCUSSED, ProvisionStatus.OPEN])
def test_open_text_takes_proposals(status: ProvisionStatus) -> None:
    check_open_for_proposals(status, "OP3")


def test_reservations() -> None:
    assert (
        status_label(ProvisionStatus.AGREED_PENDING, "Egypt") == "agreed in informals pending Egypt"
    )
    with pytest.raises(Invalid, match="needs the delegation"):
        check_status_change(ProvisionStatus.OPEN, ProvisionStatus.AGREED_PENDING, reservation=None)
    with pytest.raises(Invalid, match="only be recorded"):
        check_status_change(ProvisionStatus.OPEN, ProvisionStatus.AGREED, reservation="EGY")
    with pytest.raises(Invalid, match="cannot go back"):
        check_status_change(ProvisionStatus.OPEN, ProvisionStatus.NOT_DISCUSSED, reservation=None)
