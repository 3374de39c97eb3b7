"""Reading a .docx back as text, with every tracked change accepted or every one rejected.

python-docx's ``Paragraph.text`` skips everything inside ``w:ins`` and drops ``w:delText``: a
delegation's marked-up file would read as neither its proposal nor the base text. So the body
XML is walked here: runs hide inside ``w:ins``/``w:del``, ``w:moveTo``/``w:moveFrom``,
hyperlinks, content controls (``w:sdt``), smart tags, custom XML and simple fields; text
inserted and then deleted (``w:del`` inside ``w:ins``) is in neither view; and paragraph marks
carry revisions of their own: a paragraph whose mark is removed in a view joins the next
paragraph, so a deleted paragraph disappears when accepted and an inserted one when rejected.
Table rows inserted or deleted as a whole are honoured too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from lxml import etree

__all__ = ["ReadParagraph", "accept_all", "custom_properties", "read_paragraphs", "reject_all"]

View = Literal["accept", "reject"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


# Revision containers: hidden in the accepted view (deletions) or the rejected one (insertions).
_GONE_IF_ACCEPTED = {_w("del"), _w("moveFrom")}
_GONE_IF_REJECTED = {_w("ins"), _w("moveTo")}
# Containers whose children are read as if they stood in the paragraph itself.
_TRANSPARENT = {
    _w("hyperlink"),
    _w("smartTag"),
    _w("customXml"),
    _w("fldSimple"),
    _w("sdt"),
    _w("sdtContent"),
    _w("dir"),
    _w("bdo"),
}
_BLOCK_TRANSPARENT = {_w("sdt"), _w("sdtContent"), _w("customXml")}
_TEXT = {_w("t"), _w("delText")}


@dataclass(frozen=True, slots=True)
class ReadParagraph:
    """A paragraph in one view: its text and its paragraph style id ("UNOperative")."""

    text: str
    style: str | None


def _gone(element: etree._Element, view: View) -> bool:
    return element.tag in (_GONE_IF_ACCEPTED if view == "accept" else _GONE_IF_REJECTED)


def _run_text(run: etree._Element) -> str:
    parts: list[str] = []
    for child in run:
        tag = child.tag
        if tag in _TEXT:
            parts.append(child.text or "")
        elif tag == _w("tab") or tag == _w("ptab"):
            parts.append("\t")
        elif tag in (_w("br"), _w("cr")):
            parts.append("\n")
        elif tag == _w("noBreakHyphen"):
            parts.append("\u2011")
        elif tag == _w("sym"):
            code = child.get(_w("char"))
            if code:
                parts.append(chr(int(code, 16)))
    return "".join(parts)


def _inline_text(parent: etree._Element, view: View) -> str:
    parts: list[str] = []
    for child in parent:
        tag = child.tag
        if not isinstance(tag, str) or _gone(child, view):
            continue
        if tag == _w("r"):
            parts.append(_run_text(child))
        elif tag in _GONE_IF_ACCEPTED or tag in _GONE_IF_REJECTED or tag in _TRANSPARENT:
            parts.append(_inline_text(child, view))
    return "".join(parts)


def _mark_removed(paragraph: etree._Element, view: View) -> bool:
    """Is this paragraph's mark gone in `view` (so it joins the next paragraph)?"""
    rpr = paragraph.find(f"{_w('pPr')}/{_w('rPr')}")
    return rpr is not None and any(_gone(child, view) for child in rpr)


def _style(paragraph: etree._Element) -> str | None:
    style = paragraph.find(f"{_w('pPr')}/{_w('pStyle')}")
    return style.get(_w("val")) if style is not None else None


def _row_gone(row: etree._Element, view: View) -> bool:
    trpr = row.find(_w("trPr"))
    return trpr is not None and any(_gone(child, view) for child in trpr)


def _container_paragraphs(container: etree._Element, view: View) -> Iterator[ReadParagraph]:
    """Paragraphs of a body or table cell, with paragraph marks applied, and of the tables
    in it, in reading order. Paragraphs never join across a table or cell boundary."""
    pending: list[str] = []
    pending_style: str | None = None

    for child in _blocks(container):
        if child.tag == _w("tbl"):
            if pending:
                yield ReadParagraph("".join(pending), pending_style)
                pending, pending_style = [], None
            for row in child.iter(_w("tr")):
                if _row_gone(row, view):
                    continue
                for cell in row.findall(_w("tc")):
                    yield from _container_paragraphs(cell, view)
            continue
        text = _inline_text(child, view)
        if not pending:
            pending_style = _style(child)
        pending.append(text)
        if not _mark_removed(child, view):
            # The surviving mark carries the paragraph's properties.
            yield ReadParagraph("".join(pending), _style(child))
            pending, pending_style = [], None
    if pending and "".join(pending):
        # The container's last paragraph lost its mark: what is left of it stays a paragraph
        # (a body or cell always ends with one); if nothing is left, it is gone.
        yield ReadParagraph("".join(pending), pending_style)


def _blocks(container: etree._Element) -> Iterator[etree._Element]:
    for child in container:
        if child.tag in (_w("p"), _w("tbl")):
            yield child
        elif child.tag in _BLOCK_TRANSPARENT:
            yield from _blocks(child)


def _main_part(archive: zipfile.ZipFile) -> str:
    rels = etree.fromstring(archive.read("_rels/.rels"))
    for rel in rels.iter(f"{{{_REL}}}Relationship"):
        if rel.get("Type") == _OFFICE_DOC:
            return (rel.get("Target") or "word/document.xml").lstrip("/")
    return "word/document.xml"


def read_paragraphs(docx: bytes, view: View) -> list[ReadParagraph]:
    """Every paragraph of the main text (tables included, in order) as it reads once all
    tracked changes are accepted (`view="accept"`) or all rejected (`"reject"`)."""
    with zipfile.ZipFile(BytesIO(docx)) as archive:
        root = etree.fromstring(archive.read(_main_part(archive)))
    body = root.find(_w("body"))
    if body is None:
        return []
    return list(_container_paragraphs(body, view))


def accept_all(docx: bytes) -> list[str]:
    """Paragraph texts as they would be after Accept All Changes."""
    return [p.text for p in read_paragraphs(docx, "accept")]


def reject_all(docx: bytes) -> list[str]:
    """Paragraph texts as they would be after Reject All Changes."""
    return [p.text for p in read_paragraphs(docx, "reject")]


def custom_properties(docx: bytes) -> dict[str, str]:
    """docProps/custom.xml as name -> value text: the exports store there which Rolltext
    document and revision a file came from (``rolltext.document_id``…)."""
    with zipfile.ZipFile(BytesIO(docx)) as archive:
        try:
            data = archive.read("docProps/custom.xml")
        except KeyError:
            return {}
    root = etree.fromstring(data)
    out: dict[str, str] = {}
    for prop in root.iter(f"{{{_CUSTOM}}}property"):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return out
