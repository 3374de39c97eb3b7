"""A delegation's copy of a circulated text, marked up in code: what Word saves after editing.

`copy_of` prints a circulated revision the way Rolltext's clean text does (title, "The General
Assembly,", numbers typed before each paragraph, a paragraph style per kind, custom properties)
and lets a test replace any paragraph's runs with tracked changes, insert paragraphs, delete
paragraph marks, or leave paragraphs out, without tracking, as careless delegates do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from docx.enum.style import WD_STYLE_TYPE

from app.docx.model import Circulated, Paragraph
from tests.docx_fixtures.word import WordFile

STYLES = {
    "preambular": "UN Preambular",
    "operative": "UN Operative",
    "subparagraph": "UN Subparagraph",
    "heading": "Heading 1",
}


def printed_number(paragraph: Paragraph) -> str:
    """ "\\t5 bis.\\t" for OP5 bis, "(a)\\t" for OP1 (a), "" for a preambular paragraph."""
    if paragraph.kind == "operative":
        return "\t" + re.sub(r"^OP", "", paragraph.label) + ".\t"
    if paragraph.kind == "subparagraph":
        return paragraph.label.split()[-1] + "\t"
    return ""


def copy_of(
    doc: Circulated,
    *,
    properties: dict[str, int | str] | None = None,
    with_properties: bool = True,
    edit: dict[int, Sequence[object]] | None = None,
    mark: dict[int, str] | None = None,
    after: dict[int, list[Sequence[object]]] | None = None,
    before_first: list[Sequence[object]] | None = None,
    leave_out: frozenset[int] = frozenset(),
    numbers: bool = True,
    new_mark: str | None = "ins",
    author: str | None = "Author",
) -> bytes:
    """A copy of `doc` as the delegation saves it.

    edit[id] replaces the paragraph's words (its printed number stays in front); mark[id] gives
    its paragraph mark a tracked change ("del", "ins", "moveFrom", "moveTo"); after[id] adds
    paragraphs after it, their runs given as they are (tracked or not), their paragraph marks
    marked `new_mark` ("ins", "moveTo", None for untracked). With new_mark="enter" the mark of
    the paragraph before is marked inserted instead, as Word and LibreOffice record pressing
    Enter at the end of a paragraph.
    """
    word = WordFile()
    for style in {*STYLES.values()} - {"Heading 1"}:
        word.document.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
    word.title(doc.title)
    if doc.subtitle:
        word.subtitle(doc.subtitle)
    if doc.scheme == "resolution":
        word.paragraph("The General Assembly,")
    for content in before_first or []:
        word.paragraph(*content, mark="ins", author=author)
    for paragraph in doc.paragraphs:
        pid = paragraph.provision_id
        style = STYLES.get(paragraph.kind)
        if pid not in leave_out and not paragraph.deleted:
            number = printed_number(paragraph) if numbers else ""
            words = (edit or {}).get(pid, [paragraph.text])
            new = (after or {}).get(pid, [])
            word.paragraph(
                *([number] if number else []),
                *words,
                style=style,
                mark="ins" if new and new_mark == "enter" else (mark or {}).get(pid),
                author=author,
            )
        for content in (after or {}).get(pid, []):
            own_mark = None if new_mark == "enter" else new_mark
            word.paragraph(*content, style=style, mark=own_mark, author=author)
    if with_properties:
        word.properties(
            properties
            if properties is not None
            else {
                "rolltext.document_id": doc.document_id,
                "rolltext.revision_seq": doc.revision_seq,
                "rolltext.symbol": doc.symbol,
            }
        )
    return word.bytes()
