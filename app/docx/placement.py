"""Where each proposal shows in an export: on its paragraph, as a new paragraph after its
anchor, or as a note. The compilation, the tracked changes and the amendment list all place
proposals this one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.docx.layout import Block, list_levels, provision_block
from app.docx.model import Circulated, Proposal
from app.domain.diff import DiffOp, old_text, word_diff

__all__ = ["Placed", "Slot", "place", "subtree", "wording_ops"]


@dataclass(frozen=True, slots=True)
class Placed:
    """A proposal with its position in the caller's list (its `owner` index in pieces)."""

    index: int
    proposal: Proposal
    anchor: Block  # the provision the proposal is on (or, for a new paragraph, after)


@dataclass(slots=True)
class Slot:
    """One printed provision with what the proposals do to it."""

    block: Block
    on_paragraph: list[Placed] = field(default_factory=list)  # wording and delete
    moves: list[Placed] = field(default_factory=list)
    new_after: list[Placed] = field(default_factory=list)  # printed after this slot


def wording_ops(text: str, proposal: Proposal) -> tuple[DiffOp, ...]:
    """The proposal's word diff against the paragraph as printed.

    A diff written on another version of the paragraph is recomputed from the proposed text
    (a tracked change must never put words in the wrong place); without one it is refused.
    """
    if proposal.diff and old_text(proposal.diff) == text:
        return proposal.diff
    if proposal.text is not None:
        return word_diff(text, proposal.text)
    raise ValueError(
        f"Proposal {proposal.reference} was written on another version of its paragraph "
        "and carries no proposed text: it cannot be shown."
    )


def subtree(slots: Sequence[Slot], i: int) -> list[int]:
    """Slot `i` and the slots under it (its sub-paragraphs): a new paragraph proposed "after
    OP5" comes after OP5's sub-paragraphs, and moving OP5 moves them too."""
    paragraph = slots[i].block.paragraph
    depth = paragraph.depth if paragraph is not None else 0
    out = [i]
    for j in range(i + 1, len(slots)):
        other = slots[j].block.paragraph
        if other is None or other.depth <= depth:
            break
        out.append(j)
    return out


def place(
    doc: Circulated, proposals: Sequence[Proposal], *, pending_only: bool = True
) -> list[Slot]:
    """The provisions of `doc` in order, deleted ones included (`Slot.block.paragraph.deleted`
    says whether it prints), each with its proposals in the caller's order (oldest first, as
    the services give them). Only pending proposals unless `pending_only` is False.

    Raises ValueError for a proposal on a provision that is not in the document.
    """
    levels = list_levels(doc.paragraphs)
    slots = [
        Slot(provision_block(doc.scheme, p, levels.get(p.provision_id, 1))) for p in doc.paragraphs
    ]
    by_id = {p.provision_id: i for i, p in enumerate(doc.paragraphs)}
    after: list[tuple[int, int, Placed]] = []  # (slot, -anchor depth, proposal)
    for index, proposal in enumerate(proposals):
        if pending_only and proposal.state != "pending":
            continue
        i = by_id.get(proposal.provision_id)
        if i is None:
            raise ValueError(
                f"Proposal {proposal.reference} concerns provision {proposal.provision_id}, "
                f"which is not in {doc.symbol} {doc.revision}."
            )
        placed = Placed(index, proposal, slots[i].block)
        if proposal.kind == "insert_after":
            after.append((subtree(slots, i)[-1], -doc.paragraphs[i].depth, placed))
        elif proposal.kind == "move":
            slots[i].moves.append(placed)
        else:
            slots[i].on_paragraph.append(placed)
    # After one slot, a new paragraph after a deeper anchor comes first: a new (b bis) of
    # OP3 goes before a new OP3 bis. sorted() is stable: the caller's order stays otherwise.
    for end, _, placed in sorted(after, key=lambda item: (item[0], item[1])):
        slots[end].new_after.append(placed)
    return slots
