"""A new revision compared with the previous one, as tracked changes: each revision is
circulated as a clean text and as this comparison.

Provisions are matched by their stable id, never by position or wording, so a renumbered
paragraph shows only its number changed (old number deleted, new one inserted) and reworded
paragraphs show word-level changes (`app.domain.diff.word_diff`). Provisions only in the new
revision are inserted paragraphs, provisions gone (or deleted in the new revision) deleted
paragraphs; a provision that changed place among the others is deleted where it stood and
inserted where it now stands. A change of kind (preambular become operative) is also a
formatting revision of the paragraph style. Every revision is by the co-facilitators (or the
given author), dated the day the new revision was issued.
"""

from __future__ import annotations

from dataclasses import replace
from difflib import SequenceMatcher

from app.docx.layout import (
    Block,
    Piece,
    block_pieces,
    blocks,
    new_document,
    number_text,
    pieces,
    revision_spans,
    save,
    write_paragraph,
)
from app.docx.model import Circulated
from app.docx.ooxml import Mark, Revisions, mark_paragraph, set_style_change, track_revisions
from app.domain.diff import word_diff

__all__ = ["comparison"]


def _common_tabs(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n] == "\t":
        n += 1
    return a[:n]


def _changed(old: Block, new: Block) -> list[Piece]:
    """The pieces of a provision in both revisions: number and words, old to new."""
    items: list[Piece] = []
    old_number, new_number = number_text(old), number_text(new)
    if old_number == new_number:
        items.append(Piece(new_number, "equal"))
    else:
        # "\t1 bis.\t" -> "\t2.\t": the tabs stay, the old number goes, the new one comes.
        lead = _common_tabs(old_number, new_number)
        trail = _common_tabs(old_number[::-1], new_number[::-1])
        old_core = old_number[len(lead) : len(old_number) - len(trail)]
        new_core = new_number[len(lead) : len(new_number) - len(trail)]
        items += [
            Piece(lead, "equal"),
            Piece(old_core, "delete"),
            Piece(new_core, "insert"),
            Piece(trail, "equal"),
        ]
    items += pieces(word_diff(old.text, new.text), old.emphasis, new.emphasis)
    return [piece for piece in items if piece.text]


def comparison(old: Circulated, new: Circulated, *, author: str = "Co-facilitators") -> bytes:
    """`new` against `old` as tracked changes by `author`, dated `new.issued_on`."""
    document = new_document(
        new, running_title=f"{new.title}: {new.revision} compared with {old.revision}"
    )
    track_revisions(document)
    revisions = Revisions()
    mark = Mark(author, new.issued_on)
    old_blocks, new_blocks = blocks(old), blocks(new)

    def write(block: Block, items: list[Piece], **marks: Mark) -> None:
        p = write_paragraph(document, block.style, revision_spans(items, {None: mark}), revisions)
        if marks:
            mark_paragraph(p, revisions, **marks)

    def gone(block: Block) -> None:
        write(block, [replace(p, change="delete") for p in block_pieces(block)], deleted=mark)

    def added(block: Block) -> None:
        write(block, [replace(p, change="insert") for p in block_pieces(block)], inserted=mark)

    matcher = SequenceMatcher(
        None, [b.key for b in old_blocks], [b.key for b in new_blocks], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            for block in old_blocks[i1:i2]:
                gone(block)
            for block in new_blocks[j1:j2]:
                added(block)
            continue
        for old_block, new_block in zip(old_blocks[i1:i2], new_blocks[j1:j2], strict=True):
            p = write_paragraph(
                document,
                new_block.style,
                revision_spans(_changed(old_block, new_block), {None: mark}),
                revisions,
            )
            if old_block.style != new_block.style:
                old_id = document.styles[old_block.style].style_id
                set_style_change(p, revisions, mark, old_id)
    return save(document)
