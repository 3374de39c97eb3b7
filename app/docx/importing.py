"""Read a draft typed in Word into an Outline, and the Word reader the marked-up reader shares.

Co-facilitators type their drafts in Word. `import_draft` recognises the same shapes as the
plain-text outline format (app.domain.outline): title, subtitle, headings, paragraphs, bullets,
"The General Assembly,", preambular and operative paragraphs, sub-paragraphs (a) and (i). It does
so by translating each Word paragraph into one line of that format and letting `parse_outline`
build the tree, so a draft gets exactly the same tree whether it was typed in Word or as text.

Word hides text from naive readers (python-docx's `Paragraph.text` skips inserted runs and
deleted text), so `read_body` walks the XML itself: runs inside hyperlinks, content controls,
smart tags, custom XML and simple fields, and every tracked change, keeping for each piece of text
whether it was inserted or deleted, by whom and when. A view ("accepted" or "original") of the
same paragraphs is then one filter away; `group_paragraphs` joins paragraphs whose mark was
inserted or deleted, as Word does when changes are accepted or rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from lxml import etree

from app.docx.safety import DOCUMENT, DocxPackage, open_docx, w
from app.domain.errors import Invalid
from app.domain.labels import letter, roman
from app.domain.outline import Outline, OutlineError, OutlineProvision, parse_outline

__all__ = [
    "DraftReport",
    "ListLevel",
    "Piece",
    "Revision",
    "View",
    "WordBody",
    "WordParagraph",
    "group_paragraphs",
    "import_draft",
    "looks_operative",
    "looks_preambular",
    "read_body",
]

View = Literal["accepted", "original"]
RevisionKind = Literal["ins", "del", "moveFrom", "moveTo"]

_TRUE = {"1", "true", "on"}
_FALSE = {"0", "false", "off", "none"}
_SPACES = re.compile(r"\s+")


# --------------------------------------------------------------------------------------------
# What a Word paragraph holds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Revision:
    """One tracked change's mark: who and when are informational (Word may anonymise them)."""

    kind: RevisionKind
    author: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of text with the tracked changes around it.

    Text inside an insertion that was later deleted has both marks: it is in neither view.
    """

    text: str
    inserted: Revision | None = None
    deleted: Revision | None = None
    bold: bool = False

    def visible(self, view: View) -> bool:
        return (self.deleted is None) if view == "accepted" else (self.inserted is None)

    @property
    def kept(self) -> bool:
        """In both views: text the tracked changes did not touch."""
        return self.inserted is None and self.deleted is None


@dataclass(frozen=True, slots=True)
class ListLevel:
    """One level of a Word list (numbering.xml): "decimal", "lowerLetter", "bullet"…"""

    format: str
    text: str  # lvlText, e.g. "%1." or "(%2)"
    start: int = 1


@dataclass(frozen=True, slots=True)
class WordParagraph:
    """A body paragraph: its pieces of text, its mark's tracked change, and what Word shows."""

    pieces: tuple[Piece, ...]
    mark_inserted: Revision | None
    mark_deleted: Revision | None
    style_name: str  # lower-case built-in name: "normal", "heading 1", "title", "list bullet"
    heading_level: int | None  # from "heading N" or an outline level
    list_level: ListLevel | None
    list_ilvl: int
    list_id: str | None  # numId: paragraphs of one list share it
    list_label: str  # the number Word prints, rendered ("3.", "(a)", "•"), "" if none
    centred: bool
    left_indent: int  # twips
    in_table: bool
    formatting_changed: bool  # pPrChange / rPrChange: formatting-only revisions

    def text(self, view: View) -> str:
        return "".join(piece.text for piece in self.pieces if piece.visible(view))

    def bold(self, view: View) -> bool:
        """True if every visible non-space character is bold."""
        visible = [p for p in self.pieces if p.visible(view) and p.text.strip()]
        return bool(visible) and all(p.bold for p in visible)

    def mark_removed_in(self, view: View) -> bool:
        """Whether this paragraph's mark is gone in `view`, joining it to the next paragraph."""
        return (self.mark_deleted if view == "accepted" else self.mark_inserted) is not None

    @property
    def revisions(self) -> tuple[Revision, ...]:
        marks = [self.mark_inserted, self.mark_deleted]
        found = [r for r in marks if r is not None]
        for piece in self.pieces:
            found.extend(r for r in (piece.inserted, piece.deleted) if r is not None)
        return tuple(found)

    @property
    def tracked(self) -> bool:
        return bool(self.revisions)


@dataclass(frozen=True, slots=True)
class WordBody:
    """The body's paragraphs in reading order, and what the reader had to leave out."""

    paragraphs: tuple[WordParagraph, ...]
    tables: int = 0
    comments: int = 0
    footnotes: int = 0
    text_boxes: int = 0

    @property
    def tracked(self) -> bool:
        return any(p.tracked for p in self.paragraphs)


def group_paragraphs(paragraphs: Sequence[WordParagraph], view: View) -> list[tuple[int, ...]]:
    """Indices of the paragraphs that form each paragraph of `view`.

    A paragraph whose mark is deleted joins the next one when changes are accepted; one whose
    mark is inserted joins the next one when they are rejected (that is how Word records both a
    new paragraph and a split).
    """
    groups: list[tuple[int, ...]] = []
    current: list[int] = []
    for index, paragraph in enumerate(paragraphs):
        current.append(index)
        if not paragraph.mark_removed_in(view):
            groups.append(tuple(current))
            current = []
    if current:
        groups.append(tuple(current))
    return groups


def clean_text(text: str) -> str:
    """Whitespace as a reader sees it: tabs and line breaks are spaces, runs of them one."""
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


# --------------------------------------------------------------------------------------------
# Styles and numbering
# --------------------------------------------------------------------------------------------


def _int(value: str | None, default: int) -> int:
    """A number attribute; a damaged one is read as the default rather than refused."""
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


def _on(element: etree._Element | None) -> bool | None:
    """A WordprocessingML toggle (<w:b/>, <w:b w:val="0"/>): None when absent."""
    if element is None:
        return None
    value = element.get(w("val"))
    return value is None or value.lower() not in _FALSE


class _Styles:
    """styles.xml: names, inheritance (basedOn) and the properties a paragraph inherits."""

    def __init__(self, root: etree._Element | None) -> None:
        self.styles: dict[str, etree._Element] = {}
        self.default_paragraph: str | None = None
        self.default_bold = False
        if root is None:
            return
        for style in root.iter(w("style")):
            style_id = style.get(w("styleId"))
            if style_id is None:
                continue
            self.styles[style_id] = style
            if style.get(w("type")) == "paragraph" and style.get(w("default")) in _TRUE:
                self.default_paragraph = style_id
        defaults = root.find(f"{w('docDefaults')}/{w('rPrDefault')}/{w('rPr')}")
        if defaults is not None:
            self.default_bold = bool(_on(defaults.find(w("b"))))

    def chain(self, style_id: str | None) -> Iterator[etree._Element]:
        """The style and the styles it is based on, nearest first."""
        seen: set[str] = set()
        while style_id is not None and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style
            based = style.find(w("basedOn"))
            style_id = based.get(w("val")) if based is not None else None

    def name(self, style_id: str | None) -> str:
        style = self.styles.get(style_id or "")
        name = style.find(w("name")) if style is not None else None
        if name is not None and name.get(w("val")):
            return str(name.get(w("val"))).lower()
        return (style_id or "normal").lower()

    def paragraph_property(self, style_id: str | None, path: str) -> etree._Element | None:
        for style in self.chain(style_id):
            found = style.find(f"{w('pPr')}/{path}")
            if found is not None:
                return found
        return None

    def bold(self, style_id: str | None) -> bool | None:
        for style in self.chain(style_id):
            value = _on(style.find(f"{w('rPr')}/{w('b')}"))
            if value is not None:
                return value
        return None


_NUMBER_FORMATS = {"decimal", "decimalZero", "lowerLetter", "upperLetter", "lowerRoman"}


def _format_number(number: int, number_format: str) -> str:
    """The number as Word prints it in a list label (a list may start at 0: printed as is)."""
    if number < 1 and number_format not in ("none", "bullet"):
        return str(number)
    match number_format:
        case "lowerLetter":
            return letter(number)
        case "upperLetter":
            return letter(number).upper()
        case "lowerRoman":
            return roman(number)
        case "upperRoman":
            return roman(number).upper()
        case "none" | "bullet":
            return ""
        case "decimalZero":
            return f"{number:02d}"
        case _:
            return str(number)


class _Numbering:
    """numbering.xml: which list level a paragraph is at, and the number Word prints for it."""

    def __init__(self, root: etree._Element | None, styles: _Styles) -> None:
        self.styles = styles
        self.abstract: dict[str, dict[int, etree._Element]] = {}
        self.style_link: dict[str, str] = {}
        self.nums: dict[str, tuple[str, dict[int, etree._Element], dict[int, int]]] = {}
        self.counters: dict[str, list[int | None]] = {}
        if root is None:
            return
        for abstract in root.iter(w("abstractNum")):
            abstract_id = abstract.get(w("abstractNumId"), "")
            self.abstract[abstract_id] = {
                _int(lvl.get(w("ilvl")), 0): lvl for lvl in abstract.iter(w("lvl"))
            }
            link = abstract.find(w("numStyleLink"))
            if link is not None and link.get(w("val")):
                self.style_link[abstract_id] = str(link.get(w("val")))
        for num in root.iter(w("num")):
            num_id = num.get(w("numId"), "")
            abstract_ref = num.find(w("abstractNumId"))
            abstract_id = abstract_ref.get(w("val"), "") if abstract_ref is not None else ""
            overrides: dict[int, etree._Element] = {}
            starts: dict[int, int] = {}
            for override in num.iter(w("lvlOverride")):
                ilvl = _int(override.get(w("ilvl")), 0)
                lvl = override.find(w("lvl"))
                if lvl is not None:
                    overrides[ilvl] = lvl
                start = override.find(w("startOverride"))
                if start is not None:
                    starts[ilvl] = _int(start.get(w("val")), 1)
            self.nums[num_id] = (abstract_id, overrides, starts)

    def _abstract_for(self, num_id: str, depth: int = 0) -> str | None:
        if num_id not in self.nums or depth > 3:
            return None
        abstract_id = self.nums[num_id][0]
        link = self.style_link.get(abstract_id)
        if link is not None:
            linked = self.styles.paragraph_property(link, f"{w('numPr')}/{w('numId')}")
            if linked is not None and linked.get(w("val")):
                return self._abstract_for(str(linked.get(w("val"))), depth + 1)
        return abstract_id

    def _lvl(self, num_id: str, ilvl: int) -> etree._Element | None:
        if num_id not in self.nums:
            return None
        override = self.nums[num_id][1].get(ilvl)
        if override is not None:
            return override
        abstract_id = self._abstract_for(num_id)
        return self.abstract.get(abstract_id or "", {}).get(ilvl)

    def level(self, num_id: str, ilvl: int) -> ListLevel | None:
        lvl = self._lvl(num_id, ilvl)
        if lvl is None:
            return None
        format_element = lvl.find(w("numFmt"))
        text = lvl.find(w("lvlText"))
        start = lvl.find(w("start"))
        start_value = self.nums[num_id][2].get(ilvl)
        if start_value is None:
            start_value = _int(start.get(w("val")), 1) if start is not None else 1
        return ListLevel(
            format=format_element.get(w("val"), "decimal") if format_element is not None else "",
            text=text.get(w("val"), "") if text is not None else "",
            start=start_value,
        )

    def render(self, num_id: str, ilvl: int) -> str:
        """Count this item and return the label Word prints for it, e.g. "2." or "(b)"."""
        level = self.level(num_id, ilvl)
        if level is None:
            return ""
        key = self._abstract_for(num_id) or num_id
        counters = self.counters.setdefault(key, [])
        while len(counters) <= ilvl:
            counters.append(None)
        del counters[ilvl + 1 :]  # a new item restarts the levels below it
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else current + 1
        if level.format == "bullet":
            return level.text

        def number(match: re.Match[str]) -> str:
            at = int(match[1]) - 1
            if at >= len(counters):
                return ""
            at_level = self.level(num_id, at)
            value = counters[at]
            if value is None:
                value = at_level.start if at_level else 1
            return _format_number(value, at_level.format if at_level else "decimal")

        return re.sub(r"%(\d)", number, level.text)


# --------------------------------------------------------------------------------------------
# Walking the XML
# --------------------------------------------------------------------------------------------

# Containers whose children are runs (or more containers) of the same paragraph.
_RUN_CONTAINERS = {w(t) for t in ("hyperlink", "smartTag", "customXml", "fldSimple", "dir", "bdo")}
_REVISIONS: dict[str, RevisionKind] = {
    w("ins"): "ins",
    w("del"): "del",
    w("moveFrom"): "moveFrom",
    w("moveTo"): "moveTo",
}
_TEXT_BOXES = {w("drawing"), w("pict"), w("object")}
_MC_ALTERNATE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _revision(element: etree._Element) -> Revision:
    author = element.get(w("author"))
    return Revision(
        kind=_REVISIONS[element.tag],
        author=author.strip() if author and author.strip() else None,
        date=_date(element.get(w("date"))),
    )


@dataclass(slots=True)
class _Walk:
    """Everything one pass over the body collects; one instance per document."""

    styles: _Styles
    numbering: _Numbering
    paragraphs: list[WordParagraph] = field(default_factory=list)
    tables: int = 0
    footnotes: int = 0
    text_boxes: int = 0

    def block(self, parent: etree._Element, in_table: bool) -> None:
        for child in parent:
            tag = child.tag
            if tag == w("p"):
                self.paragraph(child, in_table)
            elif tag == w("tbl"):
                self.tables += not in_table
                for row in child.findall(w("tr")):  # a nested table is walked from its cell
                    for cell in row.findall(w("tc")):
                        self.block(cell, True)
            elif tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    self.block(content, in_table)
            elif tag in (w("customXml"), w("ins"), w("del"), w("moveTo"), w("moveFrom")):
                self.block(child, in_table)

    def paragraph(self, p: etree._Element, in_table: bool) -> None:
        ppr = p.find(w("pPr"))
        style_id = self.style_id(ppr)
        mark_inserted = mark_deleted = None
        formatting_changed = False
        if ppr is not None:
            mark = ppr.find(w("rPr"))
            if mark is not None:
                for child in mark:
                    if child.tag in (w("ins"), w("moveTo")):
                        mark_inserted = _revision(child)
                    elif child.tag in (w("del"), w("moveFrom")):
                        mark_deleted = _revision(child)
            formatting_changed = ppr.find(w("pPrChange")) is not None
        pieces: list[Piece] = []
        paragraph_bold = self.styles.bold(style_id)
        changed = self.runs(p, pieces, None, None, paragraph_bold)
        num_id, ilvl = self.numbering_of(ppr, style_id)
        level = self.numbering.level(num_id, ilvl) if num_id else None
        if level is not None and level.format == "none" and not level.text.strip("%0123456789"):
            level = None
        label = self.numbering.render(num_id, ilvl) if num_id and level else ""
        self.paragraphs.append(
            WordParagraph(
                pieces=tuple(pieces),
                mark_inserted=mark_inserted,
                mark_deleted=mark_deleted,
                style_name=self.styles.name(style_id),
                heading_level=self.heading_level(ppr, style_id),
                list_level=level,
                list_ilvl=ilvl,
                list_id=num_id if level else None,
                list_label=label,
                centred=self.centred(ppr, style_id),
                left_indent=self.left_indent(ppr, style_id, num_id, ilvl),
                in_table=in_table,
                formatting_changed=formatting_changed or changed,
            )
        )

    def runs(
        self,
        parent: etree._Element,
        out: list[Piece],
        inserted: Revision | None,
        deleted: Revision | None,
        paragraph_bold: bool | None,
    ) -> bool:
        """Collect the text of `parent`'s runs into `out`; True if formatting was revised."""
        changed = False
        for child in parent:
            tag = child.tag
            if tag == w("r"):
                changed |= self.run(child, out, inserted, deleted, paragraph_bold)
            elif tag in _REVISIONS:
                revision = _revision(child)
                if tag in (w("ins"), w("moveTo")):
                    changed |= self.runs(child, out, revision, deleted, paragraph_bold)
                else:
                    changed |= self.runs(child, out, inserted, revision, paragraph_bold)
            elif tag in _RUN_CONTAINERS:
                changed |= self.runs(child, out, inserted, deleted, paragraph_bold)
            elif tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    changed |= self.runs(content, out, inserted, deleted, paragraph_bold)
        return changed

    def run(
        self,
        r: etree._Element,
        out: list[Piece],
        inserted: Revision | None,
        deleted: Revision | None,
        paragraph_bold: bool | None,
    ) -> bool:
        rpr = r.find(w("rPr"))
        bold = paragraph_bold
        changed = False
        if rpr is not None:
            if _on(rpr.find(w("vanish"))):
                return False
            style = rpr.find(w("rStyle"))
            if style is not None:
                style_bold = self.styles.bold(style.get(w("val")))
                bold = style_bold if style_bold is not None else bold
            explicit = _on(rpr.find(w("b")))
            bold = explicit if explicit is not None else bold
            changed = rpr.find(w("rPrChange")) is not None
        is_bold = bool(self.styles.default_bold if bold is None else bold)
        for child in r:
            tag = child.tag
            text: str | None = None
            if tag in (w("t"), w("delText")):
                text = child.text or ""
            elif tag in (w("tab"), w("ptab")):
                text = "\t"
            elif tag in (w("br"), w("cr")):
                text = "" if child.get(w("type")) in ("page", "column") else " "
            elif tag == w("noBreakHyphen"):
                text = "-"
            elif tag in (w("footnoteReference"), w("endnoteReference")):
                self.footnotes += 1
            elif (tag in _TEXT_BOXES or tag == _MC_ALTERNATE) and any(
                True for _ in child.iter(w("txbxContent"))
            ):
                self.text_boxes += 1
            if text:
                out.append(Piece(text, inserted, deleted, is_bold))
        return changed

    def style_id(self, ppr: etree._Element | None) -> str | None:
        style = ppr.find(w("pStyle")) if ppr is not None else None
        if style is not None and style.get(w("val")):
            return str(style.get(w("val")))
        return self.styles.default_paragraph

    def numbering_of(self, ppr: etree._Element | None, style_id: str | None) -> tuple[str, int]:
        """The list (numId) and level of a paragraph: its own numPr, else its style's.

        numId 0 switches a style's numbering off.
        """
        num_pr = ppr.find(w("numPr")) if ppr is not None else None
        style_num = self.styles.paragraph_property(style_id, w("numPr"))
        num_id: str | None = None
        ilvl: int | None = None
        for source in (num_pr, style_num):
            if source is None:
                continue
            num = source.find(w("numId"))
            level = source.find(w("ilvl"))
            if num_id is None and num is not None:
                num_id = num.get(w("val"))
            if ilvl is None and level is not None:
                ilvl = _int(level.get(w("val")), 0)
        if not num_id or num_id == "0":
            return "", 0
        return str(num_id), min(max(ilvl or 0, 0), 8)

    def heading_level(self, ppr: etree._Element | None, style_id: str | None) -> int | None:
        name = self.styles.name(style_id)
        if match := re.fullmatch(r"heading\s*([1-9])", name):
            return int(match[1])
        level = ppr.find(w("outlineLvl")) if ppr is not None else None
        if level is None:
            level = self.styles.paragraph_property(style_id, w("outlineLvl"))
        if level is not None:
            value = _int(level.get(w("val")), 9)
            return value + 1 if 0 <= value < 9 else None
        return None

    def centred(self, ppr: etree._Element | None, style_id: str | None) -> bool:
        jc = ppr.find(w("jc")) if ppr is not None else None
        if jc is None:
            jc = self.styles.paragraph_property(style_id, w("jc"))
        return jc is not None and jc.get(w("val")) == "center"

    def left_indent(
        self, ppr: etree._Element | None, style_id: str | None, num_id: str, ilvl: int
    ) -> int:
        indent = ppr.find(w("ind")) if ppr is not None else None
        if indent is None and num_id:
            lvl = self.numbering._lvl(num_id, ilvl)
            indent = lvl.find(f"{w('pPr')}/{w('ind')}") if lvl is not None else None
        if indent is None:
            indent = self.styles.paragraph_property(style_id, w("ind"))
        if indent is None:
            return 0
        return _int(indent.get(w("left")) or indent.get(w("start")), 0)


def read_body(package: DocxPackage) -> WordBody:
    """Every body paragraph of a checked .docx, with its tracked changes, in reading order."""
    styles = _Styles(package.xml_or_none("word/styles.xml"))
    walk = _Walk(styles, _Numbering(package.xml_or_none("word/numbering.xml"), styles))
    body = package.xml(DOCUMENT).find(w("body"))
    if body is not None:
        walk.block(body, False)
    comments_part = package.xml_or_none("word/comments.xml")
    comments = len(comments_part.findall(w("comment"))) if comments_part is not None else 0
    return WordBody(
        paragraphs=tuple(walk.paragraphs),
        tables=walk.tables,
        comments=comments,
        footnotes=walk.footnotes,
        text_boxes=walk.text_boxes,
    )


# --------------------------------------------------------------------------------------------
# A draft typed in Word → the outline format → Outline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DraftReport:
    """What the import found, for the co-facilitator to check before the document is created."""

    outline: Outline
    recognised: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Line:
    """One paragraph of the accepted view, as the draft reader sees it."""

    text: str
    source: WordParagraph


_GENERAL_ASSEMBLY = re.compile(r"^the general assembly,?$", re.IGNORECASE)
# Another body's enacting formula ("The Human Rights Council,", "The Conference of the Parties,").
_FORMULA = re.compile(r"^The(?: [A-Z][\w’'-]*| (?:of|and|on|for|the)){1,7},$")
_PREAMBULAR = re.compile(
    r"^(?:(?:further|also|deeply|gravely|strongly|seriously|fully|firmly|profoundly|"
    r"particularly|noting|recalling)\s+)?"
    r"(?:recalling|reaffirming|affirming|noting|welcoming|recogni[sz]ing|acknowledging|"
    r"bearing in mind|concerned|convinced|emphasi[sz]ing|taking note|taking into account|"
    r"stressing|underlining|underscoring|considering|mindful|aware|guided|expressing|"
    r"determined|alarmed|believing|desiring|having|observing|seeking|cognizant|reiterating|"
    r"conscious|appreciating|deploring|commending|encouraged|reali[sz]ing|highlighting|"
    r"looking forward|regretting)\b",
    re.IGNORECASE,
)
_OPERATIVE_VERB = re.compile(
    r"^(?:(?:Also|Further|Strongly|Urgently|Once again|Again|Further also)\s+)?"
    r"[A-Z][a-z]+(?:s|es)\b"
)
_TYPED_BULLET = re.compile(r"^[-*·•▪◦‣–—\uf0b7\uf0a7o](?:[ \t\u00a0]+)(?P<text>\S.*)$")
_TYPED_NUMBER = re.compile(r"^\d{1,3}\.[ \t]+\S")
_TYPED_SUB = re.compile(r"^(?:\([a-z]{1,6}\)|[a-z]{1,6}\))[ \t]+\S")
_OUTLINE_SYNTAX = re.compile(r"^[#>]")
_BOLD_HEADING_MAX_WORDS = 12
_PREVIEW = 72


def looks_preambular(text: str) -> bool:
    """A preambular paragraph: opening words such as "Recalling", and a comma at the end."""
    return bool(_PREAMBULAR.match(text)) and text.endswith(",")


def looks_operative(text: str) -> bool:
    """An operative paragraph: a verb such as "Decides", and a semicolon or full stop at the end."""
    return bool(_OPERATIVE_VERB.match(text)) and text.endswith((";", ".", ":"))


def import_draft(data: bytes) -> DraftReport:
    """Read a .docx draft into an Outline, with a preview of what was recognised.

    Tracked changes are read as if accepted (with a warning): the draft is what its author
    meant to circulate.
    """
    package = open_docx(data)
    body = read_body(package)
    warnings = _body_warnings(body)
    lines = [
        _Line(text, source)
        for indices in group_paragraphs(body.paragraphs, "accepted")
        if not (source := body.paragraphs[indices[-1]]).in_table
        and (text := clean_text("".join(body.paragraphs[i].text("accepted") for i in indices)))
    ]
    if not lines:
        raise Invalid("This Word document has no paragraphs of text.")
    outline_text, origins = _Translator(lines, warnings).translate()
    try:
        outline = parse_outline(outline_text)
    except OutlineError as error:
        origin = origins.get(error.line, "")
        message = str(error).split(": ", 1)[-1]
        raise Invalid(
            f'This draft could not be read at the paragraph "{_excerpt(origin)}": {message}.'
        ) from None
    if not outline.provisions:
        raise Invalid(
            f'This draft has a title ("{_excerpt(outline.title)}") but no paragraphs after it.'
        )
    return DraftReport(
        outline=outline, recognised=_preview(outline), warnings=tuple(dict.fromkeys(warnings))
    )


def _body_warnings(body: WordBody) -> list[str]:
    warnings = []
    if body.tracked:
        warnings.append(
            "This draft contains tracked changes: it was imported as if all of them were "
            "accepted. Check the text before circulating it."
        )
    for count, singular, plural in (
        (body.tables, "table", "tables"),
        (body.text_boxes, "text box", "text boxes"),
        (body.footnotes, "footnote", "footnotes"),
        (body.comments, "comment", "comments"),
    ):
        if count:
            warnings.append(left_out(count, singular, plural))
    return warnings


def left_out(count: int, singular: str, plural: str) -> str:
    """What the reader skipped, said plainly so that nobody thinks it was kept."""
    if count == 1:
        return f"1 {singular} was left out: Rolltext reads the paragraphs of the body only."
    return f"{count} {plural} were left out: Rolltext reads the paragraphs of the body only."


def _excerpt(text: str, limit: int = _PREVIEW) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Translator:
    """Turns Word paragraphs into lines of the outline format, one paragraph per line.

    Word's own list numbering decides the kind where there is one; typed markers ("1.", "(a)",
    "- ") are left to the outline format, which reads them the same way in a text file.
    """

    def __init__(self, lines: list[_Line], warnings: list[str]) -> None:
        self.lines = lines
        self.warnings = warnings
        self.out: list[str] = []
        self.origins: dict[int, str] = {}
        self.resolution = False
        self.operative_open = False
        self.operative_count = 0
        self.operative_level = 0
        self.letter_count = 0
        self.roman_count = 0
        self.bullet_depth = -1
        self.bold_heading_level = 1
        self.top_heading = 1
        self.typed_indents: list[int] = []

    def emit(self, line: str, origin: str) -> None:
        self.out.append(line)
        self.origins[len(self.out)] = origin
        self.out.append("")

    def translate(self) -> tuple[str, dict[int, str]]:
        start = self.title_block()
        body = self.lines[start:]
        headings = [
            line.source.heading_level for line in body if line.source.heading_level is not None
        ]
        self.top_heading = min(headings, default=1)
        self.bold_heading_level = (max(headings) - self.top_heading + 2) if headings else 1
        has_formula = any(_GENERAL_ASSEMBLY.match(line.text) for line in body)
        switch_at = None if has_formula else self.implicit_preamble(body)
        for index, line in enumerate(body):
            if index == switch_at:
                self.warnings.append(
                    'No "The General Assembly," line was found: the paragraphs from "'
                    f'{_excerpt(line.text, 40)}" on were read as the preamble of a resolution.'
                )
                self.general_assembly("The General Assembly,")
            self.paragraph(line)
        return "\n".join(self.out) + "\n", self.origins

    # -- title and subtitle --------------------------------------------------------------------

    def title_block(self) -> int:
        """Emit the title and subtitle; return the index of the first body line."""
        window = self.lines[:12]
        index = next((i for i, line in enumerate(window) if self.title_kind(line)), None)
        same = self.title_kind(window[index]) if index is not None else None
        if index is None:
            index = 0
            self.warnings.append(
                f"No title was recognised (a paragraph in the Title style, or bold and centred): "
                f'the first paragraph, "{_excerpt(self.lines[0].text, 40)}", was taken as the '
                "title."
            )
        if index:
            skipped = "; ".join(f'"{_excerpt(line.text, 40)}"' for line in self.lines[:index])
            self.warnings.append(f"Left out before the title: {skipped}.")
        parts = [self.lines[index].text]
        end = index + 1
        while end < len(self.lines) and same and self.same_title(self.lines[end], same):
            parts.append(self.lines[end].text)
            end += 1
        self.emit("# " + " ".join(parts), parts[0])
        subtitle: list[str] = []
        while end < len(self.lines) and self.is_subtitle(self.lines[end], bool(subtitle)):
            subtitle.append(self.lines[end].text)
            end += 1
        if subtitle:
            self.emit("> " + " ".join(subtitle), subtitle[0])
        return end

    def title_kind(self, line: _Line) -> str | None:
        """How a title paragraph is recognised, so that a title on two lines joins up."""
        if line.source.style_name == "title":
            return "title"
        if line.source.heading_level == 1:
            return "heading 1"
        if self.bold_centred(line) and not _GENERAL_ASSEMBLY.match(line.text):
            return "bold centred"
        return None

    def bold_centred(self, line: _Line) -> bool:
        return line.source.centred and line.source.bold("accepted") and not line.source.list_level

    def same_title(self, line: _Line, kind: str) -> bool:
        return kind != "heading 1" and self.title_kind(line) == kind

    def is_subtitle(self, line: _Line, continuing: bool) -> bool:
        source = line.source
        if source.style_name == "subtitle":
            return True
        if continuing or _GENERAL_ASSEMBLY.match(line.text) or _FORMULA.match(line.text):
            return False
        return (
            source.centred
            and not source.bold("accepted")
            and source.list_level is None
            and source.heading_level is None
            and len(line.text) <= 200
        )

    # -- the body ------------------------------------------------------------------------------

    def implicit_preamble(self, body: list[_Line]) -> int | None:
        """Where a resolution without "The General Assembly," starts its preamble, if it is one.

        Preambular opening words ("Recalling …,") followed later by operative paragraphs make a
        resolution even when the enacting line was left out.
        """
        for index, line in enumerate(body):
            if _FORMULA.match(line.text):
                return None
            if looks_preambular(line.text):
                later = body[index + 1 :]
                if any(self.looks_operative_line(other) for other in later):
                    return index
                return None
        return None

    def looks_operative_line(self, line: _Line) -> bool:
        level = line.source.list_level
        if level is not None and level.format in _NUMBER_FORMATS:
            return line.source.list_ilvl == 0
        return bool(_TYPED_NUMBER.match(line.text))

    def paragraph(self, line: _Line) -> None:
        source, text = line.source, line.text
        if source.heading_level is not None or source.style_name == "title":
            level = (source.heading_level or 1) - self.top_heading + 2
            self.heading(max(2, min(level, 6)), text, source.list_label)
        elif _GENERAL_ASSEMBLY.match(text):
            self.general_assembly(text)
        elif _FORMULA.match(text) and not self.resolution:
            self.warnings.append(
                f'"{text}" was read as the line that opens the preamble, like "The General '
                'Assembly,"; it is not stored as a paragraph.'
            )
            self.general_assembly(text)
        elif source.list_level is not None:
            self.list_paragraph(line, source.list_level)
        elif self.is_bold_heading(line):
            self.heading(self.bold_heading_level + 1, text, "")
        else:
            self.typed(line)

    def heading(self, hashes: int, text: str, label: str) -> None:
        """Headings keep a number Word prints ("a) Timeline"), as a typed heading would."""
        shown = f"{label} {text}" if label.strip() and label.strip() not in "•·-" else text
        self.emit("#" * min(hashes, 6) + " " + shown, text)
        self.close()

    def general_assembly(self, text: str) -> None:
        self.emit("The General Assembly,", text)
        self.resolution = True
        self.close()

    def close(self) -> None:
        self.operative_open = False
        self.bullet_depth = -1
        self.typed_indents = []

    def is_bold_heading(self, line: _Line) -> bool:
        text = line.text
        return (
            line.source.bold("accepted")
            and len(text.split()) <= _BOLD_HEADING_MAX_WORDS
            and not text.endswith((",", ";", ":"))
            and not looks_preambular(text)
        )

    def bullet(self, ilvl: int, text: str, origin: str) -> None:
        depth = min(max(ilvl, 0), self.bullet_depth + 1)
        self.bullet_depth = depth
        self.emit("  " * depth + "- " + text, origin)

    def list_paragraph(self, line: _Line, level: ListLevel) -> None:
        source, text = line.source, line.text
        ilvl = source.list_ilvl
        numbered = level.format in _NUMBER_FORMATS or level.format.endswith("Roman")
        if level.format == "bullet" or not numbered:
            self.bullet(ilvl - (self.operative_level + 1 if self.operative_open else 0), text, text)
            return
        letter_format = level.format in ("lowerLetter", "upperLetter")
        roman_format = level.format in ("lowerRoman", "upperRoman")
        if self.operative_open and (ilvl > self.operative_level or letter_format or roman_format):
            depth = ilvl - self.operative_level
            if roman_format or (not letter_format and depth >= 2):
                self.roman_count += 1
                self.emit(f"      ({roman(self.roman_count)}) {text}", text)
            else:
                self.letter_count += 1
                self.roman_count = 0
                self.emit(f"   ({letter(self.letter_count)}) {text}", text)
            self.bullet_depth = -1
            return
        arabic = not letter_format and not roman_format
        if arabic and (self.resolution or looks_operative(text)):
            self.operative_count += 1
            self.emit(f"{self.operative_count}. {text}", text)
            self.operative_open = True
            self.operative_level = ilvl
            self.letter_count = self.roman_count = 0
            self.bullet_depth = -1
            return
        self.bullet(ilvl, text, text)

    def typed(self, line: _Line) -> None:
        text = line.text
        if bullet := _TYPED_BULLET.match(text):
            self.bullet(self.typed_bullet_depth(line.source.left_indent), bullet["text"], text)
            return
        if _TYPED_NUMBER.match(text):
            self.operative_count += 1
            self.operative_open = True
            self.operative_level = 0
            self.bullet_depth = -1
            self.emit(text, text)
            return
        if _TYPED_SUB.match(text) and self.operative_open:
            spaces = " " * (2 * self.indent_rank(line.source.left_indent))
            self.bullet_depth = -1
            self.emit(spaces + text, text)
            return
        self.close()
        # A paragraph that happens to start like outline syntax ("#", ">") stays text: a
        # no-break space in front is ignored by the format's markers and stripped from the text.
        self.emit(("\u00a0" + text) if _OUTLINE_SYNTAX.match(text) else text, text)

    def typed_bullet_depth(self, indent: int) -> int:
        """A typed bullet indented further than the one above it nests under it."""
        stack = self.typed_indents
        while stack and indent < stack[-1]:
            stack.pop()
        if not stack or indent > stack[-1]:
            stack.append(indent)
        return len(stack) - 1

    def indent_rank(self, indent: int) -> int:
        """How deep an indent is among the indents of typed paragraphs in this draft."""
        indents = sorted({line.source.left_indent for line in self.lines})
        return indents.index(indent) if indent in indents else 0


def _preview(outline: Outline) -> tuple[str, ...]:
    """One line per provision, labelled as a delegate would name it ("PP1", "OP2 (a)")."""
    lines = [f"title: {_excerpt(outline.title)}"]
    if outline.subtitle:
        lines.append(f"subtitle: {_excerpt(outline.subtitle)}")
    counters = {"preambular": 0, "operative": 0}

    def walk(provisions: tuple[OutlineProvision, ...], depth: int, parent: str) -> None:
        subs = 0
        for provision in provisions:
            label = ""
            if provision.kind in counters:
                counters[provision.kind] += 1
                prefix = "PP" if provision.kind == "preambular" else "OP"
                label = f"{prefix}{counters[provision.kind]} "
            elif provision.kind == "subparagraph":
                subs += 1
                roman_level = parent == "subparagraph"
                label = f"({roman(subs) if roman_level else letter(subs)}) "
            kind = provision.kind.replace("_", " ")
            lines.append(f"{'  ' * depth}{label}{kind}: {_excerpt(provision.text)}")
            walk(provision.children, depth + 1, provision.kind)

    walk(outline.provisions, 0, "")
    return tuple(lines)
