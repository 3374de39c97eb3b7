"""Who may do what — written once, here, and nowhere else.

The matrix says which roles may attempt an action at all; the checks below it add the rules that
depend on the case: a delegate speaks only for its own delegation or for a group it is authorised
for, and only the co-facilitators *of this negotiation* decide and issue revisions.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from app.domain.errors import NotAllowed
from app.domain.roles import Actor, Role


class Action(StrEnum):
    READ = "read"
    PROPOSE = "propose"
    SUPPORT = "support"
    DECIDE = "decide"
    SET_STATUS = "set_status"
    ISSUE_REVISION = "issue_revision"
    LIFT_RESERVATION = "lift_reservation"
    CREATE_NEGOTIATION = "create_negotiation"
    MANAGE_DOCUMENTS = "manage_documents"
    MANAGE_USERS = "manage_users"


MATRIX: dict[Action, frozenset[Role]] = {
    Action.READ: frozenset(Role),
    Action.PROPOSE: frozenset({Role.DELEGATE}),
    Action.SUPPORT: frozenset({Role.DELEGATE}),
    Action.DECIDE: frozenset({Role.COFACILITATOR}),
    Action.SET_STATUS: frozenset({Role.COFACILITATOR}),
    Action.ISSUE_REVISION: frozenset({Role.COFACILITATOR}),
    # the holding delegation's delegates, or the co-facilitators (require_may_lift_reservation)
    Action.LIFT_RESERVATION: frozenset({Role.DELEGATE, Role.COFACILITATOR}),
    Action.CREATE_NEGOTIATION: frozenset({Role.SECRETARIAT}),
    # the secretariat, and the co-facilitators in their own negotiations (require_in_negotiation)
    Action.MANAGE_DOCUMENTS: frozenset({Role.SECRETARIAT, Role.COFACILITATOR}),
    Action.MANAGE_USERS: frozenset({Role.SECRETARIAT}),
}

_WHAT = {
    Action.READ: "read this negotiation",
    Action.PROPOSE: "make proposals",
    Action.SUPPORT: "support or oppose proposals",
    Action.DECIDE: "decide on proposals",
    Action.SET_STATUS: "change the status of a provision",
    Action.ISSUE_REVISION: "issue revisions",
    Action.LIFT_RESERVATION: "lift reservations",
    Action.CREATE_NEGOTIATION: "create negotiations",
    Action.MANAGE_DOCUMENTS: "manage documents",
    Action.MANAGE_USERS: "manage accounts",
}

_ROLE_NAMES = {
    Role.SECRETARIAT: "the secretariat",
    Role.COFACILITATOR: "co-facilitators",
    Role.DELEGATE: "delegates",
    Role.STAKEHOLDER: "stakeholders",
    Role.OBSERVER: "observers",
}


def allowed(actor: Actor, action: Action) -> bool:
    return actor.role in MATRIX[action]


def require(actor: Actor, action: Action) -> None:
    if not allowed(actor, action):
        who = " and ".join(sorted(_ROLE_NAMES[r] for r in MATRIX[action]))
        raise NotAllowed(f"Your role ({actor.role.value}) cannot {_WHAT[action]}; only {who} can.")


def require_speaks_for(
    actor: Actor,
    *,
    delegation_id: int,
    group_id: int | None,
    delegation_name: str,
    group_name: str | None,
) -> None:
    """Nobody may speak in another delegation's name, nor for a group without its mandate."""
    if actor.delegation_id != delegation_id:
        raise NotAllowed(f"You are not a member of the delegation of {delegation_name}.")
    if group_id is not None and not actor.speaks_for_group(group_id):
        raise NotAllowed(f"You are not authorised to speak on behalf of {group_name}.")


NOT_HERE = "Only the co-facilitators of this negotiation can do this."


def require_cofacilitator_of(
    actor: Actor, cofacilitator_ids: Collection[int], action: Action
) -> None:
    require(actor, action)
    if actor.delegation_id not in cofacilitator_ids:
        raise NotAllowed(NOT_HERE)


def require_in_negotiation(
    actor: Actor, cofacilitator_ids: Collection[int], action: Action
) -> None:
    """The matrix's roles, where a co-facilitator acts only in the negotiations it facilitates
    (the secretariat serves them all): documents, visibility, the calendar."""
    require(actor, action)
    if actor.role is Role.COFACILITATOR and actor.delegation_id not in cofacilitator_ids:
        raise NotAllowed(NOT_HERE)


def require_may_lift_reservation(
    actor: Actor,
    *,
    holder_id: int | None,
    holder_name: str,
    cofacilitator_ids: Collection[int],
) -> None:
    """A reservation is its holder's to give up — a delegate of that delegation says so — or
    the co-facilitators of this negotiation record that it was lifted. No one else, whatever
    their role: the refusal names the holder rather than a role."""
    if allowed(actor, Action.LIFT_RESERVATION):
        if actor.role is Role.COFACILITATOR and actor.delegation_id in cofacilitator_ids:
            return
        if actor.role is Role.DELEGATE and actor.delegation_id == holder_id:
            return
    raise NotAllowed(
        f"Only a delegate of {holder_name}, which holds the reservation, or the co-facilitators "
        "of this negotiation can lift it."
    )


def can_read(actor: Actor | None, visibility: str) -> bool:
    """Restricted documents are for delegations and the process's officers; public ones for all."""
    if actor is None:
        return False
    if visibility == "public":
        return True
    return actor.role in (Role.SECRETARIAT, Role.COFACILITATOR, Role.DELEGATE)
