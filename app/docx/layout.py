"""How a UN draft looks in Word: styles, page, header and footer, and how each provision prints.

A resolution prints its title, "The General Assembly," in italics, preambular paragraphs
unnumbered with their opening words in italics, operative paragraphs numbered from their label
("OP5 bis" prints "5 bis.") with the opening verb in italics, sub-paragraphs "(a)" indented;
an elements paper prints headings, unnumbered paragraphs and bullets. Everything is Times New
Roman 12. Every export builds on the same `blocks` and `pieces`, so a paragraph reads the same
in the clean text, the compilation, the tracked changes and the comparison.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from io import BytesIO
from itertools import pairwise
from typing import Literal

import docx
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.paragraph import CT_P
from docx.shared import Pt, Twips
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from lxml import etree

from app.docx.model import Circulated, Paragraph
from app.docx.ooxml import (
    Mark,
    Revisions,
    Span,
    append_spans,
    element,
    field,
    set_custom_properties,
)
from app.domain.diff import DiffOp

__all__ = [
    "FONT",
    "TEXT_WIDTH",
    "Block",
    "Change",
    "Piece",
    "block_pieces",
    "blocks",
    "date_text",
    "list_levels",
    "new_document",
    "new_paragraph_block",
    "number_piece",
    "number_text",
    "opening_words",
    "pieces",
    "plain_pieces",
    "plain_spans",
    "printed_number",
    "provision_block",
    "revision_spans",
    "save",
    "title_blocks",
    "write_paragraph",
]

FONT = "Times New Roman"
_PAGE_WIDTH, _PAGE_HEIGHT, _MARGIN = 11906, 16838, 1417  # A4, 2.5 cm margins (twips)
TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_INDENT = 567  # 1 cm: the UN's first-line indent step

# Paragraph styles by role: one place to change how the whole family of exports looks.
STYLE_TITLE = "Title"
STYLE_SUBTITLE = "Subtitle"
STYLE_FORMULA = "UN Formula"
STYLE_PREAMBULAR = "UN Preambular"
STYLE_OPERATIVE = "UN Operative"
STYLE_BODY = "UN Body"
STYLE_SUB = ("UN Subparagraph 1", "UN Subparagraph 2", "UN Subparagraph 3")
STYLE_BULLET = ("List Bullet", "List Bullet 2", "List Bullet 3")
STYLE_HEADING = ("Heading 1", "Heading 2", "Heading 3")
STYLE_LEGEND = "UN Legend"

Emphasis = Literal["plain", "opening", "italic", "heading"]
Change = Literal["equal", "insert", "delete"]


# --------------------------------------------------------------------------------------------
# Words: opening words, printed numbers, dates
# --------------------------------------------------------------------------------------------

_ADVERB = (
    r"(?:also|further|again|once\s+again|once\s+more|deeply|strongly|firmly|fully|gravely|"
    r"seriously|profoundly|duly|warmly|urgently|emphatically|solemnly|sincerely|earnestly|"
    r"highly|greatly|particularly|especially|equally|furthermore|moreover|finally|likewise|"
    r"similarly|therefore|accordingly)"
)
_VERB = r"[^\W\d_][\w'’-]*"
_FEELING = (
    r"(?:(?:its|their)\s+)?(?:(?:deep|grave|serious|profound|sincere|full|strong|great|"
    r"particular|utmost|firm)\s+)?"
    r"(?:concern|appreciation|gratitude|support|satisfaction|regret|hope|alarm|interest|"
    r"condolences|sympathy|solidarity|commitment|determination|conviction)"
)
# Multiword openers: the words that stay in italics after these verbs ("Bearing in mind").
_CONTINUATIONS: tuple[tuple[str, str], ...] = (
    (r"bear(?:s|ing)?", r"in\s+mind"),
    (
        r"tak(?:e|es|ing)",
        rf"(?:(?:due|careful|full)\s+)?note(?:\s+with\s+{_FEELING})?|"
        r"(?:fully\s+)?into\s+(?:account|consideration)",
    ),
    (r"call(?:s|ing)?", r"upon|on|to\s+mind"),
    (r"not(?:e|es|ing)", rf"with\s+{_FEELING}"),
    (r"express(?:es|ing)?", _FEELING),
    (r"welcom(?:e|es|ing)", rf"with\s+{_FEELING}"),
    (r"look(?:s|ing)?", r"forward\s+to"),
    (r"guided", r"by"),
    (r"having", r"(?:also\s+)?(?:considered|examined|reviewed|heard|adopted|received|met)"),
    (r"reaffirm(?:s|ing)?", r"(?:its|their)\s+commitment"),
)
_OPENER = re.compile(
    rf"(?P<lead>[^\w]*)(?P<words>(?:{_ADVERB}\s+){{0,2}}(?P<verb>{_VERB}))", re.IGNORECASE
)
_TRAILING = re.compile(
    r"\s+(?:also|further|again|once\s+again|moreover|furthermore|in\s+particular)\b",
    re.IGNORECASE,
)


def opening_words(text: str) -> tuple[int, int]:
    """Where the opening words of a preambular or operative paragraph are, as (start, end).

    UN resolutions set them in italics: the verb ("Recalling", "Decides"), with an adverb
    before or after it ("Also requests", "Recalling further") and the fixed phrases
    ("Bearing in mind", "Taking note with appreciation", "Calls upon"). Leading brackets or
    quotes stay upright. (0, 0) when the text has no word to start with.
    """
    match = _OPENER.match(text)
    if match is None:
        return (0, 0)
    start, end = match.start("words"), match.end("words")
    verb = match["verb"].lower()
    for verbs, continuation in _CONTINUATIONS:
        if re.fullmatch(verbs, verb):
            more = re.compile(rf"\s+(?:{continuation})\b", re.IGNORECASE).match(text, end)
            if more:
                end = more.end()
            break
    more = _TRAILING.match(text, end)
    if more:
        end = more.end()
    return (start, end)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_text(day: date) -> str:
    """A date as UN documents print it: "5 February 2018" (no locale involved)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_LAST_GROUP = re.compile(r"\(([^()]*)\)\s*$")
_TOP_NUMBER = re.compile(r"^(?:OP|para\s*)\s*(\S.*)$")


def printed_number(scheme: str, kind: str, label: str) -> str:
    """The number a paragraph prints with, from its stable label.

    Resolution scheme: "OP5 bis" prints "5 bis.", "OP3 (a)" prints "(a)", "para 2" prints "2.";
    preambular paragraphs and headings print none. An elements paper prints no numbers.
    """
    if scheme != "resolution" or kind in ("heading", "preambular") or not label:
        return ""
    group = _LAST_GROUP.search(label)
    if group and kind in ("subparagraph", "list_item", "paragraph"):
        return f"({group[1]})"
    top = _TOP_NUMBER.match(label.strip())
    if top:
        return f"{top[1]}."
    return ""


def _sub_level(label: str, fallback: int) -> int:
    groups = label.count("(")
    return min(max(groups or fallback, 1), len(STYLE_SUB))


# --------------------------------------------------------------------------------------------
# Blocks: the printed paragraphs of a circulated text
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One printed paragraph: the title block or a provision, with its style and number."""

    key: str  # "title", "subtitle", "formula" or "p<provision_id>": what a comparison matches
    style: str
    number: str  # "5 bis.", "(a)" or ""
    text: str
    emphasis: Emphasis
    paragraph: Paragraph | None = None
    list_level: int = 0


def provision_block(scheme: str, paragraph: Paragraph, list_level: int = 1) -> Block:
    """How one provision prints: its style, number and which words are emphasised."""
    kind = paragraph.kind
    number = printed_number(scheme, kind, paragraph.label)
    emphasis: Emphasis = "plain"
    if kind == "heading":
        style = STYLE_HEADING[min(max(paragraph.depth, 0), len(STYLE_HEADING) - 1)]
        emphasis = "heading"
    elif scheme != "resolution":
        if kind in ("list_item", "subparagraph"):
            style = STYLE_BULLET[min(max(list_level, 1), len(STYLE_BULLET)) - 1]
        else:
            style = STYLE_BODY
    elif kind == "preambular":
        style, emphasis = STYLE_PREAMBULAR, "opening"
    elif kind == "operative":
        style, emphasis = STYLE_OPERATIVE, "opening"
    elif number.startswith("("):
        style = STYLE_SUB[_sub_level(paragraph.label, paragraph.depth) - 1]
    elif number:
        style = STYLE_OPERATIVE
    else:
        style = STYLE_BODY
    return Block(
        key=f"p{paragraph.provision_id}",
        style=style,
        number=number,
        text=paragraph.text,
        emphasis=emphasis,
        paragraph=paragraph,
        list_level=list_level,
    )


def list_levels(paragraphs: Sequence[Paragraph]) -> dict[int, int]:
    """Bullet nesting of list items: 1 under a paragraph, 2 under a list item, and so on."""
    levels: dict[int, int] = {}
    stack: list[tuple[int, int]] = []  # (depth, level) of the list items above
    for paragraph in paragraphs:
        while stack and stack[-1][0] >= paragraph.depth:
            stack.pop()
        if paragraph.kind in ("list_item", "subparagraph"):
            level = stack[-1][1] + 1 if stack else 1
            levels[paragraph.provision_id] = level
            stack.append((paragraph.depth, level))
        else:
            stack.clear()
    return levels


def title_blocks(doc: Circulated) -> list[Block]:
    """Title, subtitle and, in a resolution, "The General Assembly,"."""
    out = [Block("title", STYLE_TITLE, "", doc.title, "plain")]
    if doc.subtitle:
        out.append(Block("subtitle", STYLE_SUBTITLE, "", doc.subtitle, "plain"))
    if doc.scheme == "resolution":
        out.append(Block("formula", STYLE_FORMULA, "", "The General Assembly,", "italic"))
    return out


def blocks(doc: Circulated, *, with_title: bool = True) -> list[Block]:
    """The printed paragraphs of `doc` in order. Deleted provisions are not printed."""
    levels = list_levels(doc.paragraphs)
    out = title_blocks(doc) if with_title else []
    for paragraph in doc.paragraphs:
        if not paragraph.deleted:
            out.append(
                provision_block(doc.scheme, paragraph, levels.get(paragraph.provision_id, 1))
            )
    return out


def new_paragraph_block(
    scheme: str, anchor: Block, *, key: str, text: str, label: str | None, kind: str | None
) -> Block:
    """The block of a proposed new paragraph placed after `anchor` ("OP5 bis")."""
    assert anchor.paragraph is not None
    paragraph = replace(
        anchor.paragraph,
        kind=kind or anchor.paragraph.kind,
        label=label or "",
        text=text,
        status="not_discussed",
        status_label="",
        deleted=False,
    )
    return replace(provision_block(scheme, paragraph, anchor.list_level), key=key)


# --------------------------------------------------------------------------------------------
# Pieces: a block's words, emphasised and marked as kept, inserted or deleted
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of a paragraph's words: kept, inserted or deleted (by proposal `owner`)."""

    text: str
    change: Change
    italic: bool = False
    bold: bool = False
    owner: int | None = None


def _emphasis_range(text: str, emphasis: Emphasis) -> tuple[int, int]:
    if emphasis == "opening":
        return opening_words(text)
    if emphasis == "italic":
        return (0, len(text))
    return (0, 0)


def pieces(
    ops: Iterable[DiffOp | tuple[DiffOp, int | None]],
    emphasis: Emphasis,
    new_emphasis: Emphasis | None = None,
) -> list[Piece]:
    """Cut a (word) diff into pieces, splitting where the italics of the opening words end.

    Kept and inserted words take their italics from the new text, deleted words from the old
    one, so replacing "Recalling" by "Reaffirming" shows both in italics. Each op may carry
    the index of the proposal it comes from (`owner`).
    """
    items = [op if isinstance(op, tuple) else (op, None) for op in ops]
    old = "".join(op.text for op, _ in items if op.op != "insert")
    new = "".join(op.text for op, _ in items if op.op != "delete")
    new_emphasis = new_emphasis or emphasis
    old_range = _emphasis_range(old, emphasis)
    new_range = _emphasis_range(new, new_emphasis)
    old_bold = emphasis == "heading"
    new_bold = new_emphasis == "heading"
    out: list[Piece] = []
    o = n = 0
    for op, owner in items:
        if not op.text:
            continue
        if op.op == "delete":
            start, (lo, hi), bold = o, old_range, old_bold
            o += len(op.text)
        else:
            start, (lo, hi), bold = n, new_range, new_bold
            n += len(op.text)
            if op.op == "equal":
                o += len(op.text)
        cuts = sorted(
            {0, len(op.text), *(c - start for c in (lo, hi) if 0 < c - start < len(op.text))}
        )
        for a, b in pairwise(cuts):
            out.append(Piece(op.text[a:b], op.op, lo <= start + a < hi, bold, owner))
    return out


def plain_pieces(text: str, emphasis: Emphasis) -> list[Piece]:
    """The pieces of an unchanged text."""
    return pieces([DiffOp("equal", text)], emphasis)


def plain_spans(items: Iterable[Piece]) -> list[Span]:
    """Pieces as they print in a clean text (changes ignored: the caller chose the text)."""
    return [Span(p.text, italic=p.italic, bold=p.bold) for p in items]


def revision_spans(
    items: Sequence[Piece],
    marks: dict[int | None, Mark],
    *,
    deleted_by: Mark | None = None,
) -> list[Span]:
    """Pieces as tracked changes: inserted pieces in ``w:ins`` and deleted ones in ``w:del``
    by their owner's mark; with `deleted_by`, everything is (also) deleted by that mark."""
    out: list[Span] = []
    for piece in items:
        span = Span(piece.text, italic=piece.italic, bold=piece.bold)
        mark = marks.get(piece.owner)
        if piece.change == "insert":
            span = replace(span, inserted=mark, deleted=deleted_by)
        elif piece.change == "delete":
            span = replace(span, deleted=mark)
        elif deleted_by is not None:
            span = replace(span, deleted=deleted_by)
        out.append(span)
    return out


# --------------------------------------------------------------------------------------------
# The Word document: page, styles, header, footer, properties
# --------------------------------------------------------------------------------------------

_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
_THUMBNAIL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"
_CUSTOM_XML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml"


def _drop_template_leftovers(document: DocxDocument) -> None:
    """python-docx's default template carries a thumbnail of another document, a
    bibliography customXml part and a stylesWithEffects.xml that no longer matches the
    styles (validators flag it): none belongs in a circulated text."""
    part = document.part
    for rId, rel in list(part.rels.items()):
        if rel.reltype in (_STYLES_WITH_EFFECTS, _CUSTOM_XML):
            part.drop_rel(rId)
    package_rels = part.package.rels
    for rId, rel in list(package_rels.items()):
        if rel.reltype == _THUMBNAIL:
            del package_rels[rId]


def _reset_style(style: BaseStyle) -> None:
    """Forget the template's look (theme fonts, colours, borders) for one style."""
    for tag in ("w:pPr", "w:rPr"):
        for child in style.element.findall(qn(tag)):
            style.element.remove(child)


def _no_theme_fonts(document: DocxDocument) -> None:
    """Styles of the template name theme fonts (Calibri, Cambria): drop them, so that every
    style, used or not, falls back on Times New Roman."""
    for fonts in document.styles.element.iter(qn("w:rFonts")):
        for name in list(fonts.attrib):
            if name.endswith("Theme") or name.endswith("theme"):
                del fonts.attrib[name]


def _doc_defaults(document: DocxDocument) -> None:
    """Times New Roman 12 everywhere, complex scripts (Arabic) included; single spacing."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults is not None
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    assert rpr is not None
    for child in list(rpr):
        if child.tag != qn("w:lang"):
            rpr.remove(child)
    fonts = OxmlElement(
        "w:rFonts",
        {qn(f"w:{slot}"): FONT for slot in ("ascii", "eastAsia", "hAnsi", "cs")},
    )
    rpr.insert(0, fonts)
    lang = rpr.find(qn("w:lang"))
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag, {qn("w:val"): "24"})
        if lang is not None:
            lang.addprevious(size)
        else:
            rpr.append(size)
    ppr = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")
    if ppr is not None:
        for child in list(ppr):
            ppr.remove(child)
        ppr.append(
            OxmlElement(
                "w:spacing",
                {qn("w:after"): "0", qn("w:line"): "240", qn("w:lineRule"): "auto"},
            )
        )


def _paragraph_style(
    document: DocxDocument,
    name: str,
    *,
    size: float = 12,
    bold: bool = False,
    italic: bool = False,
    left: int = 0,
    first_line: int = 0,
    after: float = 6,
    before: float = 0,
    justify: bool = False,
    keep_with_next: bool = False,
    tabs: Sequence[int] = (),
    style_id: str | None = None,
) -> None:
    styles = document.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.quick_style = True
    if style_id:
        style.style_id = style_id
    _reset_style(style)
    font = style.font
    font.name = FONT
    font.size = Pt(size)
    font.bold = bold or None
    font.italic = italic or None
    if size != 12:
        sz_cs = OxmlElement("w:szCs", {qn("w:val"): str(round(size * 2))})
        rpr = style.element.get_or_add_rPr()
        rpr.append(sz_cs)
    fmt = style.paragraph_format
    fmt.left_indent = Twips(left) if left else None
    if first_line:
        fmt.first_line_indent = Twips(first_line)
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(before) if before else None
    if justify:
        fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.keep_with_next = keep_with_next or None
    for position in tabs:
        fmt.tab_stops.add_tab_stop(Twips(position))


def _character_style(document: DocxDocument, name: str, style_id: str, size: float) -> None:
    style = document.styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
    style.style_id = style_id
    style.font.size = Pt(size)


def _define_styles(document: DocxDocument) -> None:
    _no_theme_fonts(document)
    _doc_defaults(document)
    _paragraph_style(document, "Normal", after=0)
    _paragraph_style(document, STYLE_TITLE, size=14, bold=True, after=12, keep_with_next=True)
    _paragraph_style(document, STYLE_SUBTITLE, italic=True, after=12, keep_with_next=True)
    _paragraph_style(document, STYLE_FORMULA, first_line=_INDENT, after=6, keep_with_next=True)
    _paragraph_style(document, STYLE_PREAMBULAR, first_line=_INDENT, justify=True)
    # The number sits after a leading tab rather than in a first-line indent: LibreOffice
    # drops a first-line indent when the line also holds a tab.
    _paragraph_style(document, STYLE_OPERATIVE, justify=True, tabs=(_INDENT, 2 * _INDENT))
    _paragraph_style(document, STYLE_BODY, justify=True)
    for level, name in enumerate(STYLE_SUB, start=1):
        _paragraph_style(
            document,
            name,
            left=(level + 2) * _INDENT,
            first_line=-_INDENT,
            justify=True,
            tabs=((level + 2) * _INDENT,),
        )
    for name in STYLE_BULLET:
        style = document.styles[name]
        numbering = style.element.pPr.find(qn("w:numPr")) if style.element.pPr is not None else None
        _paragraph_style(document, name, justify=True, after=3)
        if numbering is not None:
            style.element.get_or_add_pPr().insert_element_before(
                numbering, "w:spacing", "w:ind", "w:jc"
            )
    for level, name in enumerate(STYLE_HEADING):
        _paragraph_style(
            document, name, bold=True, before=12 if level == 0 else 6, keep_with_next=True
        )
        style = document.styles[name]
        style.element.get_or_add_pPr().append(
            OxmlElement("w:outlineLvl", {qn("w:val"): str(level)})
        )
    _paragraph_style(document, STYLE_LEGEND, size=10, after=0)
    _paragraph_style(document, "Header", size=10, after=0, tabs=())
    _paragraph_style(document, "Footer", size=10, after=0, tabs=())
    for name in ("Header", "Footer"):
        stops = document.styles[name].paragraph_format.tab_stops
        stops.add_tab_stop(Twips(TEXT_WIDTH // 2), WD_TAB_ALIGNMENT.CENTER)
        stops.add_tab_stop(Twips(TEXT_WIDTH), WD_TAB_ALIGNMENT.RIGHT)
    _paragraph_style(document, "annotation text", size=10, after=0, style_id="CommentText")
    _character_style(document, "annotation reference", "CommentReference", 8)


def _page(document: DocxDocument, doc: Circulated, running_title: str) -> None:
    """A4, UN margins; the header names the document and revision, the footer gives the
    date of issue and the page number (a real PAGE field)."""
    section = document.sections[0]
    section.page_width, section.page_height = Twips(_PAGE_WIDTH), Twips(_PAGE_HEIGHT)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Twips(_MARGIN))
    section.header_distance = section.footer_distance = Twips(709)

    header = section.header
    header.is_linked_to_previous = False
    top = header.paragraphs[0]
    top.style = document.styles["Header"]
    append_spans(top._p, [Span(doc.symbol, bold=True), Span("\t\t" + doc.revision)])
    second = header.add_paragraph(style="Header")
    append_spans(second._p, [Span(running_title, italic=True)])

    footer = section.footer
    footer.is_linked_to_previous = False
    bottom = footer.paragraphs[0]
    bottom.style = document.styles["Footer"]
    append_spans(bottom._p, [Span(f"Issued {date_text(doc.issued_on)}\t\tPage ")])
    field(bottom._p, "PAGE")


def new_document(doc: Circulated, *, running_title: str | None = None) -> DocxDocument:
    """An empty Word document with the UN's styles, page set-up, header, footer and the
    properties that identify the Rolltext document and revision it was made from."""
    document = docx.Document()
    _drop_template_leftovers(document)
    body = document.element.body
    for paragraph in body.findall(qn("w:p")):
        body.remove(paragraph)
    _define_styles(document)
    _page(document, doc, running_title or doc.title)
    core = document.core_properties
    core.title = doc.title
    core.subject = f"{doc.symbol} {doc.revision}".strip()
    core.author = core.last_modified_by = "Rolltext"
    core.comments = ""
    core.keywords = ""
    core.revision = max(doc.revision_seq, 1)
    issued = datetime.combine(doc.issued_on, time(0), tzinfo=UTC)
    core.created = core.modified = issued
    set_custom_properties(
        document,
        {
            "rolltext.document_id": doc.document_id,
            "rolltext.revision_seq": doc.revision_seq,
            "rolltext.symbol": doc.symbol,
        },
    )
    return document


def write_paragraph(
    document: DocxDocument,
    style: str,
    spans: Iterable[Span],
    revisions: Revisions | None = None,
) -> CT_P:
    """Add one paragraph in `style` with `spans` and return its ``w:p``.

    Built with lxml before the section properties: python-docx's `add_paragraph` looks for
    its place among all the body's children each time, quadratic in a long document."""
    paragraph = element("w:p")
    properties = etree.SubElement(paragraph, qn("w:pPr"))
    etree.SubElement(properties, qn("w:pStyle"), {qn("w:val"): style_id(style)})
    body = document.element.body
    last = body[-1] if len(body) else None
    if last is not None and last.tag == qn("w:sectPr"):
        last.addprevious(paragraph)
    else:
        body.append(paragraph)
    append_spans(paragraph, spans, revisions)
    return paragraph  # type: ignore[return-value]


def style_id(name: str) -> str:
    """The id of the style named `name` in our documents: its name without spaces, as Word's
    own styles and python-docx's new ones are. Paragraphs get the id directly: python-docx
    would look the name up among every style with XPath, 3 ms a paragraph."""
    return name.replace(" ", "")


def number_text(block: Block) -> str:
    """The printed number with its tabs: "\t5 bis.\t" in an operative paragraph (the
    number at the indent), "(a)\t" in a sub-paragraph (hanging indent)."""
    if not block.number:
        return ""
    lead = "\t" if block.style == STYLE_OPERATIVE else ""
    return f"{lead}{block.number}\t"


def number_piece(block: Block) -> list[Piece]:
    """The printed number and its tabs, as a piece (a revision may change it)."""
    text = number_text(block)
    return [Piece(text, "equal")] if text else []


def block_pieces(block: Block) -> list[Piece]:
    """A block as printed unchanged: number, tab, words with their emphasis."""
    return number_piece(block) + plain_pieces(block.text, block.emphasis)


def add_row(table: Table, widths: Sequence[int], style: str | None = None) -> list[_Cell]:
    """A new row of cells `widths` twips wide, each with one paragraph in `style`.

    The XML is written directly: python-docx's `table.add_row().cells` re-reads every cell of
    the table each time (minutes for 8,000 proposals), and its property setters search for the
    right place of each element, which was a third of a compilation's time."""
    tr = table._tbl.add_tr()
    cells = []
    for width in widths:
        tc = etree.SubElement(tr, qn("w:tc"))
        properties = etree.SubElement(tc, qn("w:tcPr"))
        etree.SubElement(properties, qn("w:tcW"), {qn("w:w"): str(width), qn("w:type"): "dxa"})
        paragraph = etree.SubElement(tc, qn("w:p"))
        if style:
            paragraph_properties = etree.SubElement(paragraph, qn("w:pPr"))
            etree.SubElement(paragraph_properties, qn("w:pStyle"), {qn("w:val"): style_id(style)})
        cells.append(_Cell(tc, table))
    return cells


def save(document: DocxDocument) -> bytes:
    """The .docx bytes."""
    out = BytesIO()
    document.save(out)
    return out.getvalue()
