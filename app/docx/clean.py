"""The clean text: a revision as circulated, without marks, in the UN's layout."""

from __future__ import annotations

from app.docx.layout import block_pieces, blocks, new_document, plain_spans, save, write_paragraph
from app.docx.model import Circulated

__all__ = ["clean_text"]


def clean_text(doc: Circulated) -> bytes:
    """The revision as a Word file: title, "The General Assembly," (resolutions), provisions
    in order with their numbers and italic opening words; deleted provisions are left out.

    Brackets are part of the words and print as they are.
    """
    document = new_document(doc)
    for block in blocks(doc):
        write_paragraph(document, block.style, plain_spans(block_pieces(block)))
    return save(document)
