"""What the Word exports are made from: plain values, as circulated.

The exporters depend on these values only (not on the service layer or the database), so any
past revision can be exported again exactly as it was circulated, from its stored values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.domain.diff import DiffOp

__all__ = ["Circulated", "Paragraph", "Proposal"]


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One provision as circulated, with its stable label ("OP5 bis") and status."""

    provision_id: int
    kind: str  # heading | preambular | operative | paragraph | list_item | subparagraph
    depth: int
    label: str
    text: str
    status: str  # a ProvisionStatus value, e.g. "agreed_ad_ref"
    status_label: str  # "agreed ad ref", "agreed in informals pending United States", "open"
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Proposal:
    """One attributed amendment to a provision, as a compilation prints it."""

    reference: str  # "A-12"
    provision_id: int
    kind: str  # wording | insert_after | delete | move
    proponents: tuple[str, ...]
    supporters: tuple[str, ...]
    opponents: tuple[str, ...]
    justification: str | None
    created_at: datetime  # timezone-aware (UTC)
    diff: tuple[DiffOp, ...]  # wording: the word diff from the paragraph's text to the proposal
    text: str | None  # the proposed text; for insert_after, the new provision's wording
    new_label: str | None  # insert_after: the label it would get ("OP5 bis"), if known
    move_after_label: str | None
    state: str  # "pending", "accepted", "bracketed", "rejected", "withdrawn", "superseded"
    new_kind: str | None = None  # insert_after: the new provision's kind (default: its anchor's)

    @property
    def attribution(self) -> str:
        """As a compilation prints it: "EU; supported by Norway; opposed by Russian Federation"."""
        parts = [", ".join(self.proponents)]
        if self.supporters:
            parts.append("supported by " + ", ".join(self.supporters))
        if self.opponents:
            parts.append("opposed by " + ", ".join(self.opponents))
        return "; ".join(part for part in parts if part)

    @property
    def author(self) -> str:
        """Who a tracked change is by: the first proponent."""
        return self.proponents[0] if self.proponents else "Unknown"


@dataclass(frozen=True, slots=True)
class Circulated:
    """A document as issued in one revision: its title block and provisions in reading order."""

    symbol: str
    title: str
    subtitle: str | None
    scheme: str  # "resolution" | "plain"
    revision: str  # "Rev.1"
    issued_on: date
    document_id: int
    revision_seq: int
    paragraphs: tuple[Paragraph, ...]
