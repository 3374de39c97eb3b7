"""Build Word files in code, the way Word writes them: styles, list numbering, tracked changes.

No binary fixtures are committed: each test builds the file it reads, so the file's content is
visible in the test. python-docx makes the package and styles; tracked changes, list numbering,
content controls and custom properties are raw WordprocessingML added with lxml, because that
is what a reader has to cope with.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml import etree

_ids = itertools.count(1000)
DATE = "2024-05-06T10:00:00Z"

# List definitions: (numFmt, lvlText) per level, as Word's list gallery writes them.
BULLETS = [("bullet", "•"), ("bullet", "o"), ("bullet", "▪")]
RESOLUTION_LIST = [("decimal", "%1."), ("lowerLetter", "(%2)"), ("lowerRoman", "(%3)")]


def run(
    text: str, *, bold: bool = False, italic: bool = False, deleted: bool = False
) -> etree._Element:
    """A w:r with its text in w:t (or w:delText inside a deletion)."""
    r = OxmlElement("w:r")
    if bold or italic:
        rpr = OxmlElement("w:rPr")
        if bold:
            rpr.append(OxmlElement("w:b"))
        if italic:
            rpr.append(OxmlElement("w:i"))
        r.append(rpr)
    t = OxmlElement("w:delText" if deleted else "w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    r.append(t)
    return r


def _revision(
    tag: str, children: Iterable[object], author: str | None, date: str | None
) -> etree._Element:
    element = OxmlElement(tag)
    element.set(qn("w:id"), str(next(_ids)))
    if author is not None:
        element.set(qn("w:author"), author)
    if date is not None:
        element.set(qn("w:date"), date)
    for child in children:
        element.append(run(child) if isinstance(child, str) else child)
    return element


def ins(
    *children: object, author: str | None = "Author", date: str | None = DATE
) -> etree._Element:
    """Inserted runs: w:ins around ordinary runs."""
    return _revision("w:ins", children, author, date)


def dele(*texts: object, author: str | None = "Author", date: str | None = DATE) -> etree._Element:
    """Deleted runs: w:del around runs whose text is in w:delText."""
    runs = [run(t, deleted=True) if isinstance(t, str) else t for t in texts]
    return _revision("w:del", runs, author, date)


def move_from(*texts: str, name: str = "move1", author: str = "Author") -> etree._Element:
    runs = [run(t, deleted=True) for t in texts]
    return _revision("w:moveFrom", runs, author, DATE)


def move_to(*texts: str, name: str = "move1", author: str = "Author") -> etree._Element:
    return _revision("w:moveTo", list(texts), author, DATE)


def hyperlink(*children: object) -> etree._Element:
    element = OxmlElement("w:hyperlink")
    element.set(qn("w:anchor"), "target")
    for child in children:
        element.append(run(child) if isinstance(child, str) else child)
    return element


def sdt(*children: object) -> etree._Element:
    """An inline content control (w:sdt/w:sdtContent), as Word's forms and citations write."""
    element = OxmlElement("w:sdt")
    element.append(OxmlElement("w:sdtPr"))
    content = OxmlElement("w:sdtContent")
    for child in children:
        content.append(run(child) if isinstance(child, str) else child)
    element.append(content)
    return element


def smart_tag(*children: object) -> etree._Element:
    element = OxmlElement("w:smartTag")
    element.set(qn("w:element"), "place")
    for child in children:
        element.append(run(child) if isinstance(child, str) else child)
    return element


def fld_simple(text: str, instruction: str = " DOCPROPERTY Title ") -> etree._Element:
    element = OxmlElement("w:fldSimple")
    element.set(qn("w:instr"), instruction)
    element.append(run(text))
    return element


class WordFile:
    """A .docx under construction, paragraph by paragraph."""

    def __init__(self) -> None:
        self.document = docx.Document()
        body = self.document.element.body
        for paragraph in body.findall(qn("w:p")):
            body.remove(paragraph)
        self._lists: dict[tuple[tuple[str, str], ...], int] = {}
        self._next_list = 90

    # -- paragraphs ----------------------------------------------------------------------------

    def paragraph(
        self,
        *content: object,
        style: str | None = None,
        centred: bool = False,
        indent: int | None = None,
        numbering: tuple[int, int] | None = None,
        mark: str | None = None,
        author: str | None = "Author",
        date: str | None = DATE,
    ) -> etree._Element:
        """Add a paragraph of runs (a str is a plain run), with an optional list number
        (numId, ilvl) and a tracked paragraph mark ("ins", "del", "moveFrom", "moveTo")."""
        paragraph = self.document.add_paragraph(style=style)
        p = paragraph._p
        if centred:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        ppr = p.get_or_add_pPr()
        if numbering is not None:
            num_pr = parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{numbering[1]}"/>'
                f'<w:numId w:val="{numbering[0]}"/></w:numPr>'
            )
            _insert_in_ppr(ppr, num_pr)
        if indent is not None:
            _insert_in_ppr(ppr, parse_xml(f'<w:ind {nsdecls("w")} w:left="{indent}"/>'))
        if mark is not None:
            rpr = OxmlElement("w:rPr")
            rpr.append(_revision(f"w:{mark}", (), author, date))
            ppr.append(rpr)
        for item in content:
            p.append(run(item) if isinstance(item, str) else item)
        return p

    def title(self, text: str) -> None:
        self.paragraph(text, style="Title")

    def subtitle(self, text: str) -> None:
        self.paragraph(text, style="Subtitle")

    def heading(self, text: str, level: int) -> None:
        self.paragraph(text, style=f"Heading {level}")

    def list_item(self, text: str, levels: Sequence[tuple[str, str]], ilvl: int = 0) -> None:
        """A paragraph numbered by Word (List Paragraph style + w:numPr)."""
        self.paragraph(text, style="List Paragraph", numbering=(self.list(levels), ilvl))

    # -- numbering.xml -------------------------------------------------------------------------

    def list(self, levels: Sequence[tuple[str, str]], *, restart: bool = False) -> int:
        """The numId of a list with these levels (one abstractNum per kind of list)."""
        key = tuple(levels)
        if key in self._lists and not restart:
            return self._lists[key]
        self._next_list += 1
        num_id = abstract_id = self._next_list
        lvls = "".join(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{escape(text, {chr(34): "&quot;"})}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{720 * (i + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
            for i, (fmt, text) in enumerate(levels)
        )
        numbering = self.document.part.numbering_part.element
        abstract = parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
            f'<w:multiLevelType w:val="hybridMultilevel"/>{lvls}</w:abstractNum>'
        )
        first_num = numbering.find(qn("w:num"))
        if first_num is not None:
            first_num.addprevious(abstract)
        else:
            numbering.append(abstract)
        numbering.append(
            parse_xml(
                f'<w:num {nsdecls("w")} w:numId="{num_id}">'
                f'<w:abstractNumId w:val="{abstract_id}"/></w:num>'
            )
        )
        self._lists[key] = num_id
        return num_id

    # -- package -------------------------------------------------------------------------------

    def properties(self, values: dict[str, int | str]) -> None:
        """docProps/custom.xml, as Rolltext's exports write it."""
        items = "".join(
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" '
            f'name="{name}">'
            + (
                f"<vt:i4>{value}</vt:i4>"
                if isinstance(value, int)
                else f"<vt:lpwstr>{value}</vt:lpwstr>"
            )
            + "</property>"
            for pid, (name, value) in enumerate(values.items(), start=2)
        )
        blob = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/docPropsVTypes">{items}</Properties>'
        ).encode()
        package = self.document.part.package
        part = Part(
            PackURI("/docProps/custom.xml"), CONTENT_TYPE.OFC_CUSTOM_PROPERTIES, blob, package
        )
        package.relate_to(part, RELATIONSHIP_TYPE.CUSTOM_PROPERTIES)

    def bytes(self) -> bytes:
        out = BytesIO()
        self.document.save(out)
        return out.getvalue()


_PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "numPr", "ind", "jc", "rPr")


def _insert_in_ppr(ppr: etree._Element, element: etree._Element) -> None:
    """Put a pPr child in schema order (numPr before ind before jc before rPr)."""
    rank = {qn(f"w:{tag}"): i for i, tag in enumerate(_PPR_ORDER)}
    mine = rank.get(element.tag, len(rank))
    for child in ppr:
        if rank.get(child.tag, -1) > mine:
            child.addprevious(element)
            return
    ppr.append(element)


# --------------------------------------------------------------------------------------------
# The demo elements paper, typed into Word
# --------------------------------------------------------------------------------------------

ELEMENTS_PAPER = Path(__file__).resolve().parents[2] / "app" / "demo" / "elements-paper.md"


def elements_paper_docx(markdown: str | None = None) -> bytes:
    """The seed's elements paper as a co-facilitator would type it in Word: Title and Subtitle
    styles, Heading 1-3, body paragraphs in Normal, and bullets from Word's bullet list."""
    text = markdown if markdown is not None else ELEMENTS_PAPER.read_text(encoding="utf-8")
    word = WordFile()
    pending: list[str] = []

    def flush() -> None:
        if pending:
            word.paragraph(" ".join(pending))
            pending.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        hashes = len(stripped) - len(stripped.lstrip("#"))
        if hashes == 1:
            flush()
            word.title(stripped[1:].strip())
        elif hashes > 1:
            flush()
            word.heading(stripped[hashes:].strip(), hashes - 1)
        elif stripped.startswith(">"):
            flush()
            word.subtitle(stripped[1:].strip())
        elif stripped.startswith("- "):
            flush()
            depth = (len(line) - len(line.lstrip())) // 2
            word.list_item(stripped[2:], BULLETS, depth)
        else:
            pending.append(stripped)
    flush()
    return word.bytes()
