"""How far a paragraph has come: from not yet discussed to agreed.

Agreed paragraphs are closed to new proposals until the co-facilitators reopen them; a paragraph
"agreed in informals pending X" waits for delegation X to lift its reservation.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import Invalid


class ProvisionStatus(StrEnum):
    NOT_DISCUSSED = "not_discussed"
    OPEN = "open"
    AGREED_PENDING = "agreed_pending"
    AGREED_AD_REF = "agreed_ad_ref"
    AGREED = "agreed"

    @property
    def is_agreed(self) -> bool:
        return self in _AGREED

    @property
    def display(self) -> str:
        return _TITLES[self]


_AGREED = frozenset(
    {ProvisionStatus.AGREED_PENDING, ProvisionStatus.AGREED_AD_REF, ProvisionStatus.AGREED}
)

_TITLES = {
    ProvisionStatus.NOT_DISCUSSED: "not yet discussed",
    ProvisionStatus.OPEN: "open",
    ProvisionStatus.AGREED_PENDING: "agreed in informals pending",
    ProvisionStatus.AGREED_AD_REF: "agreed ad ref",
    ProvisionStatus.AGREED: "agreed",
}


def status_label(status: ProvisionStatus, reservation: str | None = None) -> str:
    """The words printed next to the label: "agreed in informals pending United States"."""
    if status is ProvisionStatus.AGREED_PENDING and reservation:
        return f"agreed in informals pending {reservation}"
    return status.display


def check_open_for_proposals(status: ProvisionStatus, label: str) -> None:
    """Agreed text is closed: a proposal on it must wait until the co-facilitators reopen it."""
    if status.is_agreed:
        raise Invalid(
            f"{label or 'This provision'} is {status.display}: it is closed to new proposals "
            "unless the co-facilitators reopen it."
        )


def check_status_change(
    current: ProvisionStatus, target: ProvisionStatus, *, reservation: str | None
) -> None:
    if target is ProvisionStatus.AGREED_PENDING and not reservation:
        raise Invalid("'Agreed in informals pending' needs the delegation holding the reservation.")
    if target is not ProvisionStatus.AGREED_PENDING and reservation:
        raise Invalid("A reservation can only be recorded with 'agreed in informals pending'.")
    if target is ProvisionStatus.NOT_DISCUSSED and current is not ProvisionStatus.NOT_DISCUSSED:
        raise Invalid("A provision that has been discussed cannot go back to 'not yet discussed'.")
