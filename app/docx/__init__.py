"""Word import and export: pure functions from plain values (`app.docx.model`) to .docx bytes,
and back to text.

One module per export: `clean` (the clean text), `compilation` (proposals inline, attributed or
not), `tracked` (proposals as real Word revisions), `compare` (a revision against the previous
one, as revisions), `amendment_list` (every proposal in a table). `layout` holds the UN's look,
`ooxml` the XML the library lacks, `reading` the accept/reject reader.
"""

from app.docx.amendment_list import amendment_list
from app.docx.clean import clean_text
from app.docx.compare import comparison
from app.docx.compilation import compilation
from app.docx.model import Circulated, Paragraph, Proposal
from app.docx.reading import accept_all, custom_properties, read_paragraphs, reject_all
from app.docx.tracked import tracked_changes

__all__ = [
    "Circulated",
    "Paragraph",
    "Proposal",
    "accept_all",
    "amendment_list",
    "clean_text",
    "comparison",
    "compilation",
    "custom_properties",
    "read_paragraphs",
    "reject_all",
    "tracked_changes",
]
