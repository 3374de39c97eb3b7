"""Akoma Ntoso (OASIS LegalDocML 1.0, schema 3.0) for Rolltext's texts, in and out.

Other tools of the UN system read and write legal texts as Akoma Ntoso, in the UN's AKN4UN
profile; a revision exported here validates against the official schema shipped in
`app/akn/schema/` and reads back to the same provisions. Like `app/docx/`, this package takes
and gives plain values (a circulated text, an Outline): no database, no web.

- `export.py`: a revision (`app.docx.model.Circulated`) → XML.
- `reading.py`: XML → `app.domain.outline.Outline`, which `documents.import_outline` takes.
- `schema.py`: validation against the shipped XSD.
"""

from __future__ import annotations

AKN_NS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
MEDIA_TYPE = "application/akn+xml"


def akn(tag: str) -> str:
    """The Clark name of an Akoma Ntoso element: akn("p") is "{…/akn/3.0}p"."""
    return f"{{{AKN_NS}}}{tag}"
