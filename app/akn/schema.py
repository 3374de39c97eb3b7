"""Validation against the Akoma Ntoso 3.0 schema Rolltext ships (app/akn/schema/).

The schema is the OASIS one (akomantoso30.xsd, with the W3C xml.xsd it imports next to it), so
validation needs no network and no other package. It is loaded once per process (~0.2 s).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMA_FILE = SCHEMA_DIR / "akomantoso30.xsd"


@cache
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE), parser))


def problems(root: etree._Element, *, limit: int = 10) -> list[str]:
    """What makes the document invalid, one line per error ("line 12: …"); [] when valid."""
    checker = schema()
    if checker.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in list(checker.error_log)[:limit]]


def is_valid(root: etree._Element) -> bool:
    return not problems(root, limit=1)
