"""The proposals as real Word revisions: a delegate opens the file in Word and sees each
proposal as a tracked change by its proponent, dated when it was made, and can accept or
reject it.

Layout (each revision is by the proposal's first proponent, ``w:date`` = its creation time):

* Wording proposals on one paragraph go inline as ``w:del``/``w:ins`` as long as they touch
  different words (`app.domain.diff.collisions`, which treats neighbouring or same-point
  changes as touching). Proposals are taken oldest first (the caller's order); one that
  touches words an earlier inline proposal already changes becomes an **alternative
  paragraph** inserted right after the paragraph: the whole proposed wording, numbered like
  the paragraph with "alt" ("5 alt."), as an inserted paragraph by its proponent, with a
  comment naming the proposal it overlaps. Accepting everything then keeps both wordings,
  for the room to choose; rejecting everything gives the base text back.
* A proposal to delete a paragraph marks its paragraph mark and all its runs deleted. Words
  inline proposals insert into it are then inserted *and* deleted (``w:ins`` around
  ``w:del``): in neither the accepted nor the rejected text. A second proposal to delete the
  same paragraph is a comment only.
* A new paragraph is an inserted paragraph (mark and runs) after its anchor and the anchor's
  sub-paragraphs, numbered from its proposed label ("5 bis.") when it has one.
* A move is a deletion of the paragraph (with its sub-paragraphs) where it stands and an
  insertion of the same words after the target; when that cannot be shown so (the target is
  unknown, or other proposals concern the paragraphs moved), it is a comment.
* Each proposal's reference, names and justification are in a Word comment on its paragraph.

Only pending proposals are shown; proposals on provisions already deleted are left out (the
compilation and the amendment list show them). Track Changes is left on in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from lxml import etree

from app.docx.layout import (
    Block,
    block_pieces,
    new_document,
    new_paragraph_block,
    number_piece,
    pieces,
    plain_spans,
    revision_spans,
    save,
    title_blocks,
    write_paragraph,
)
from app.docx.model import Circulated, Proposal
from app.docx.ooxml import Mark, Revisions, Span, add_comment, mark_paragraph, track_revisions
from app.docx.placement import Placed, Slot, place, subtree, wording_ops
from app.domain.diff import Change, DiffOp, changes, new_text, touching

__all__ = ["mark_of", "tracked_changes"]


def mark_of(proposal: Proposal) -> Mark:
    """The revision author and date of a proposal: its first proponent, when it was made."""
    return Mark(proposal.author, proposal.created_at)


def _alt_number(number: str) -> str:
    """ "5." -> "5 alt.", "(a)" -> "(a alt)": the number of an alternative wording."""
    if number.endswith("."):
        return number[:-1] + " alt."
    if number.endswith(")"):
        return number[:-1] + " alt)"
    return number


def _merged_ops(
    text: str, inline: Sequence[tuple[Placed, tuple[DiffOp, ...]]]
) -> list[tuple[DiffOp, int | None]]:
    """One diff of `text` carrying the changes of several non-touching proposals, each op
    tagged with its proposal (`owner`)."""
    hunks = sorted(
        ((change, placed.index) for placed, ops in inline for change in changes(ops)),
        key=lambda item: (item[0].start, item[0].end),
    )
    out: list[tuple[DiffOp, int | None]] = []
    pos = 0
    for change, owner in hunks:
        if change.start > pos:
            out.append((DiffOp("equal", text[pos : change.start]), None))
        if change.deleted:
            out.append((DiffOp("delete", change.deleted), owner))
        if change.inserted:
            out.append((DiffOp("insert", change.inserted), owner))
        pos = max(pos, change.end)
    if pos < len(text):
        out.append((DiffOp("equal", text[pos:]), None))
    return out


@dataclass(slots=True)
class _Move:
    """A move shown as deletion here and insertion after the target's sub-paragraphs."""

    placed: Placed
    moved: list[int]  # slot indices of the paragraph and its sub-paragraphs
    after: int  # slot index after which the words are inserted


@dataclass(slots=True)
class _Writer:
    document: DocxDocument
    doc: Circulated
    revisions: Revisions = field(default_factory=Revisions)

    def paragraph(
        self,
        style: str,
        spans: list[Span],
        *,
        inserted: Mark | None = None,
        deleted: Mark | None = None,
    ) -> etree._Element:
        p = write_paragraph(self.document, style, spans, self.revisions)
        if inserted is not None or deleted is not None:
            mark_paragraph(p, self.revisions, inserted=inserted, deleted=deleted)
        return p

    def comment(self, p: etree._Element, proposal: Proposal, note: str | None = None) -> None:
        """A comment on the whole paragraph: reference, names, note and justification."""
        parts = [note, proposal.justification]
        body = " ".join(part for part in parts if part)
        if not body:
            return
        children = [c for c in p if c.tag != qn("w:pPr")]
        if not children:
            return
        add_comment(
            self.document,
            children[0],
            children[-1],
            text=f"{proposal.reference} ({proposal.attribution}): {body}",
            author=proposal.author,
            when=proposal.created_at,
        )


def _label(slot: Slot) -> str:
    return slot.block.paragraph.label if slot.block.paragraph else ""


def _plan_moves(slots: Sequence[Slot]) -> tuple[dict[int, _Move], set[int]]:
    """Moves that can be shown as deletion + insertion, by moved slot; and the proposal
    indices of the moves left as comments."""
    by_label = {
        _label(slot): i
        for i, slot in enumerate(slots)
        if _label(slot) and slot.block.paragraph and not slot.block.paragraph.deleted
    }
    shown: dict[int, _Move] = {}
    taken: set[int] = set()
    as_comment: set[int] = set()
    for i, slot in enumerate(slots):
        for placed in slot.moves:
            moved = subtree(slots, i)
            target = by_label.get(placed.proposal.move_after_label or "")
            inside = {id(slots[j].block) for j in moved}
            busy = len(slot.moves) > 1 or any(
                slots[j].on_paragraph
                or (slots[j].moves and j != i)
                or any(id(new.anchor) in inside for new in slots[j].new_after)
                for j in moved
            )
            if (
                target is None
                or target in moved
                or busy
                or taken.intersection(moved)
                or slot.block.paragraph is None
                or slot.block.paragraph.deleted
            ):
                as_comment.add(placed.index)
                continue
            after = subtree(slots, target)[-1]
            shown[i] = _Move(placed, moved, after)
            taken.update(moved)
    return shown, as_comment


def _write_provision(writer: _Writer, slot: Slot, move_notes: Sequence[Placed]) -> None:
    """A provision with its inline changes, deletion and alternative paragraphs; moves that
    cannot be shown as revisions are comments on it."""
    block = slot.block
    inline: list[tuple[Placed, tuple[DiffOp, ...]]] = []
    inline_hunks: list[tuple[str, tuple[Change, ...]]] = []
    alternatives: list[tuple[Placed, tuple[DiffOp, ...], list[str]]] = []
    deletions: list[Placed] = []
    for placed in slot.on_paragraph:
        if placed.proposal.kind == "delete":
            deletions.append(placed)
            continue
        ops = wording_ops(block.text, placed.proposal)
        hunks = changes(ops)  # once per proposal, not once per pair (a busy paragraph has 400)
        overlaps = [ref for ref, other in inline_hunks if touching(hunks, other)]
        if overlaps:
            alternatives.append((placed, ops, overlaps))
        else:
            inline.append((placed, ops))
            inline_hunks.append((placed.proposal.reference, hunks))
    marks: dict[int | None, Mark] = {p.index: mark_of(p.proposal) for p in slot.on_paragraph}
    deleted_by = mark_of(deletions[0].proposal) if deletions else None
    items = number_piece(block) + pieces(_merged_ops(block.text, inline), block.emphasis)
    p = writer.paragraph(
        block.style, revision_spans(items, marks, deleted_by=deleted_by), deleted=deleted_by
    )
    for placed, _ in inline:
        writer.comment(p, placed.proposal)
    for number, placed in enumerate(deletions):
        note = (
            "proposes to delete this paragraph."
            if number == 0
            else (
                f"also proposes to delete this paragraph (see {deletions[0].proposal.reference})."
            )
        )
        writer.comment(p, placed.proposal, note)
    for placed in move_notes:
        target = placed.proposal.move_after_label or "another place"
        writer.comment(p, placed.proposal, f"proposes to move {_label(slot)} after {target}.")
    for placed, ops, overlaps in alternatives:
        alt = replace(block, number=_alt_number(block.number), text=new_text(ops))
        mark = mark_of(placed.proposal)
        spans = [replace(s, inserted=mark) for s in plain_spans(block_pieces(alt))]
        q = writer.paragraph(block.style, spans, inserted=mark)
        label = _label(slot) or "the paragraph above"  # headings have no label
        writer.comment(
            q,
            placed.proposal,
            f"alternative wording of {label}, overlapping {', '.join(overlaps)}.",
        )


def _write_inserted(writer: _Writer, block: Block, proposal: Proposal, note: str | None) -> None:
    mark = mark_of(proposal)
    spans = [replace(s, inserted=mark) for s in plain_spans(block_pieces(block))]
    p = writer.paragraph(block.style, spans, inserted=mark)
    writer.comment(p, proposal, note)


def _write_deleted(writer: _Writer, block: Block, mark: Mark) -> etree._Element:
    spans = [replace(s, deleted=mark) for s in plain_spans(block_pieces(block))]
    return writer.paragraph(block.style, spans, deleted=mark)


def tracked_changes(doc: Circulated, proposals: Sequence[Proposal]) -> bytes:
    """`doc` with its pending `proposals` as Word revisions (layout: module docstring)."""
    document = new_document(doc, running_title=f"{doc.title}: proposals as tracked changes")
    track_revisions(document)
    writer = _Writer(document, doc)
    for block in title_blocks(doc):
        writer.paragraph(block.style, plain_spans(block_pieces(block)))
    slots = place(doc, proposals)
    moves, move_comments = _plan_moves(slots)
    moved_from = {j: move for move in moves.values() for j in move.moved}
    arrivals: dict[int, list[_Move]] = {}
    for move in moves.values():
        arrivals.setdefault(move.after, []).append(move)

    for i, slot in enumerate(slots):
        paragraph = slot.block.paragraph
        assert paragraph is not None
        if not paragraph.deleted:
            if i in moved_from:
                move = moved_from[i]
                p = _write_deleted(writer, slot.block, mark_of(move.placed.proposal))
                if i == move.moved[0]:
                    target = move.placed.proposal.move_after_label
                    writer.comment(
                        p, move.placed.proposal, f"proposes to move this after {target}."
                    )
            else:
                notes = [placed for placed in slot.moves if placed.index in move_comments]
                _write_provision(writer, slot, notes)
        for placed in slot.new_after:
            block = new_paragraph_block(
                doc.scheme,
                placed.anchor,
                key=f"new{placed.index}",
                text=placed.proposal.text or "",
                label=placed.proposal.new_label,
                kind=placed.proposal.new_kind,
            )
            anchor = placed.anchor.paragraph.label if placed.anchor.paragraph else ""
            note = None
            if not placed.proposal.new_label:
                note = f"new paragraph after {anchor}." if anchor else "new paragraph."
            _write_inserted(writer, block, placed.proposal, note)
        for move in arrivals.get(i, []):
            for j in move.moved:
                _write_inserted(writer, slots[j].block, move.placed.proposal, None)
    return save(document)
