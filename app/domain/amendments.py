"""The life of a proposal: what an amendment is and which moves of the co-facilitators are legal.

A proposal starts pending. The co-facilitators accept it (its words enter the text), bracket it
(its words enter the text in [square brackets], still disputed), or reject it; its proponent may
withdraw it; a compromise may supersede it. Those outcomes are final: a decided proposal is part
of the record and never changes again.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import Invalid


class AmendmentKind(StrEnum):
    WORDING = "wording"
    INSERT_AFTER = "insert_after"
    DELETE = "delete"
    MOVE = "move"

    @property
    def display(self) -> str:
        return _KIND_TITLES[self]


_KIND_TITLES = {
    AmendmentKind.WORDING: "change wording",
    AmendmentKind.INSERT_AFTER: "new provision",
    AmendmentKind.DELETE: "delete provision",
    AmendmentKind.MOVE: "move provision",
}


class AmendmentState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    BRACKETED = "bracketed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"

    @property
    def is_final(self) -> bool:
        return self is not AmendmentState.PENDING


class Decision(StrEnum):
    """What the co-facilitators may decide on a pending proposal."""

    ACCEPT = "accept"
    BRACKET = "bracket"
    REJECT = "reject"

    @property
    def outcome(self) -> AmendmentState:
        return {
            Decision.ACCEPT: AmendmentState.ACCEPTED,
            Decision.BRACKET: AmendmentState.BRACKETED,
            Decision.REJECT: AmendmentState.REJECTED,
        }[self]


_LEGAL: dict[AmendmentState, frozenset[AmendmentState]] = {
    AmendmentState.PENDING: frozenset(
        {
            AmendmentState.ACCEPTED,
            AmendmentState.BRACKETED,
            AmendmentState.REJECTED,
            AmendmentState.WITHDRAWN,
            AmendmentState.SUPERSEDED,
        }
    ),
}

_VERBS = {
    AmendmentState.ACCEPTED: "accepted",
    AmendmentState.BRACKETED: "bracketed",
    AmendmentState.REJECTED: "rejected",
    AmendmentState.WITHDRAWN: "withdrawn",
    AmendmentState.SUPERSEDED: "superseded",
    AmendmentState.PENDING: "reopened",
}


class IllegalTransition(Invalid):
    """A decided proposal is part of the record: it cannot be decided again."""


def transition(
    current: AmendmentState, target: AmendmentState, *, reference: str
) -> AmendmentState:
    """Return `target` if the move is legal, or refuse with the reason a delegate can read."""
    if target in _LEGAL.get(current, frozenset()):
        return target
    raise IllegalTransition(
        f"Proposal {reference} is already {current.value}; it cannot be {_VERBS[target]}."
    )


def can_transition(current: AmendmentState, target: AmendmentState) -> bool:
    return target in _LEGAL.get(current, frozenset())
