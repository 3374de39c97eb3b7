"""The WordprocessingML layer python-docx lacks: formatted runs, tracked changes, fields,
comment anchors, settings and custom properties (ECMA-376 Part 1).

Everything that writes XML element by element lives here, so the rules Word enforces are kept
in one place: element order inside ``w:rPr``/``w:pPr``/``w:settings``, ``w:delText`` (not
``w:t``) inside deletions, a unique ``w:id`` on every revision mark, ``xml:space="preserve"``
on text with edge spaces, and paragraph-mark revisions so that an inserted or deleted paragraph
comes and goes as a whole when a delegate accepts or rejects it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from itertools import groupby
from typing import Literal
from xml.sax.saxutils import escape

from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import oxml_parser
from lxml import etree

__all__ = [
    "Mark",
    "Revisions",
    "Span",
    "add_comment",
    "anchor_comment",
    "append_spans",
    "field",
    "mark_paragraph",
    "set_custom_properties",
    "set_style_change",
    "shade_cell",
    "track_revisions",
    "w3c_datetime",
]

# Children of w:rPr in schema order (CT_RPr, EG_RPrBase); a paragraph mark's w:rPr
# (CT_ParaRPr) puts ins/del/moveFrom/moveTo before them and rPrChange after.
_RPR_ORDER = (
    "w:ins",
    "w:del",
    "w:moveFrom",
    "w:moveTo",
    "w:rStyle",
    "w:rFonts",
    "w:b",
    "w:bCs",
    "w:i",
    "w:iCs",
    "w:caps",
    "w:smallCaps",
    "w:strike",
    "w:dstrike",
    "w:outline",
    "w:shadow",
    "w:emboss",
    "w:imprint",
    "w:noProof",
    "w:snapToGrid",
    "w:vanish",
    "w:webHidden",
    "w:color",
    "w:spacing",
    "w:w",
    "w:kern",
    "w:position",
    "w:sz",
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
    "w:rPrChange",
)
# Children of w:pPr in schema order (CT_PPr).
_PPR_ORDER = (
    "w:pStyle",
    "w:keepNext",
    "w:keepLines",
    "w:pageBreakBefore",
    "w:framePr",
    "w:widowControl",
    "w:numPr",
    "w:suppressLineNumbers",
    "w:pBdr",
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
# Children of w:tcPr in schema order (CT_TcPr).
_TCPR_ORDER = (
    "w:cnfStyle",
    "w:tcW",
    "w:gridSpan",
    "w:hMerge",
    "w:vMerge",
    "w:tcBorders",
    "w:shd",
    "w:noWrap",
    "w:tcMar",
    "w:textDirection",
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
    "w:headers",
    "w:cellIns",
    "w:cellDel",
    "w:cellMerge",
    "w:tcPrChange",
)
# The part of CT_Settings that follows w:trackRevisions.
_AFTER_TRACK_REVISIONS = (
    "w:doNotTrackMoves",
    "w:doNotTrackFormatting",
    "w:documentProtection",
    "w:autoFormatOverride",
    "w:styleLockTheme",
    "w:styleLockQFSet",
    "w:defaultTabStop",
    "w:autoHyphenation",
    "w:consecutiveHyphenLimit",
    "w:hyphenationZone",
    "w:doNotHyphenateCaps",
    "w:showEnvelope",
    "w:summaryLength",
    "w:clickAndTypeStyle",
    "w:defaultTableStyle",
    "w:evenAndOddHeaders",
    "w:bookFoldRevPrinting",
    "w:bookFoldPrinting",
    "w:bookFoldPrintingSheets",
    "w:drawingGridHorizontalSpacing",
    "w:drawingGridVerticalSpacing",
    "w:displayHorizontalDrawingGridEvery",
    "w:displayVerticalDrawingGridEvery",
    "w:doNotUseMarginsForDrawingGridOrigin",
    "w:drawingGridHorizontalOrigin",
    "w:drawingGridVerticalOrigin",
    "w:doNotShadeFormData",
    "w:noPunctuationKerning",
    "w:characterSpacingControl",
    "w:printTwoOnOne",
    "w:strictFirstAndLastChars",
    "w:noLineBreaksAfter",
    "w:noLineBreaksBefore",
    "w:savePreviewPicture",
    "w:doNotValidateAgainstSchema",
    "w:saveInvalidXml",
    "w:ignoreMixedContent",
    "w:alwaysShowPlaceholderText",
    "w:doNotDemarcateInvalidXml",
    "w:saveXmlDataOnly",
    "w:useXSLTWhenSaving",
    "w:saveThroughXslt",
    "w:showXMLTags",
    "w:alwaysMergeEmptyNamespace",
    "w:updateFields",
    "w:hdrShapeDefaults",
    "w:footnotePr",
    "w:endnotePr",
    "w:compat",
    "w:docVars",
    "w:rsids",
    "m:mathPr",
    "w:attachedSchema",
    "w:themeFontLang",
    "w:clrSchemeMapping",
    "w:doNotIncludeSubdocsInStats",
    "w:doNotAutoCompressPictures",
    "w:forceUpgrade",
    "w:captions",
    "w:readModeInkLockDown",
    "w:smartTagType",
    "sl:schemaLibrary",
    "w:shapeDefaults",
    "w:doNotEmbedSmartTags",
    "w:decimalSymbol",
    "w:listSeparator",
)

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


@cache
def _tag(tag: str) -> tuple[str, dict[str, str]]:
    prefix = tag.partition(":")[0]
    return qn(tag), {prefix: nsmap[prefix]}


def element(tag: str, attrs: dict[str, str] | None = None) -> etree._Element:
    """python-docx's `OxmlElement` (the element class of the tag, its namespace declared),
    without parsing the prefixed tag again each time: a compilation makes 300,000 of them."""
    clark, namespaces = _tag(tag)
    return oxml_parser.makeelement(clark, attrib=attrs, nsmap=namespaces)


def w3c_datetime(moment: datetime | date) -> str:
    """xsd:dateTime in UTC with a "Z", as Word writes revision dates.

    A naive datetime is taken to be UTC already; a date is midnight UTC of that day.
    """
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0), tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Mark:
    """Who made a tracked change and when: becomes ``w:author`` and ``w:date``."""

    author: str
    date: datetime | date


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a paragraph with one formatting; `inserted`/`deleted` make it a revision.

    A span both inserted and deleted (by two authors) is text one delegation proposed and
    another proposes to delete with the whole paragraph: ``w:ins`` around ``w:del``, which is
    in neither the accepted nor the rejected text.
    """

    text: str
    italic: bool = False
    bold: bool = False
    underline: bool = False
    strike: bool = False
    size: float | None = None  # points; None: the paragraph style's size
    color: str | None = None  # "RRGGBB"
    inserted: Mark | None = None
    deleted: Mark | None = None


class Revisions:
    """Hands out the ``w:id`` of revision marks, unique within one document.

    Ids start high so they never meet the comment ids python-docx gives (0, 1, 2…).
    """

    def __init__(self, start: int = 1000) -> None:
        self._next = start

    def next_id(self) -> str:
        self._next += 1
        return str(self._next)

    def element(self, tag: Literal["w:ins", "w:del", "w:pPrChange"], mark: Mark) -> etree._Element:
        """A revision element with a fresh id, its author and date."""
        el = element(tag)
        el.set(qn("w:id"), self.next_id())
        el.set(qn("w:author"), mark.author)
        el.set(qn("w:date"), w3c_datetime(mark.date))
        return el


def insert_ordered(parent: etree._Element, child: etree._Element, order: Sequence[str]) -> None:
    """Insert `child` where the schema's sequence `order` wants it among `parent`'s children,
    replacing an existing child with the same tag."""
    tag = child.tag
    for existing in parent.findall(tag):
        parent.remove(existing)
    names = [qn(name) for name in order]
    position = names.index(tag) if tag in names else len(names)
    later = set(names[position + 1 :])
    for index, sibling in enumerate(parent):
        if sibling.tag in later:
            parent.insert(index, child)
            return
    parent.append(child)


_W = {name: qn(f"w:{name}") for name in (
    "r", "rPr", "b", "bCs", "i", "iCs", "strike", "color", "sz", "szCs", "u", "val",
    "t", "delText", "br", "tab",
)}  # fmt: skip


def _run_properties(run: etree._Element, span: Span) -> None:
    """The run's ``w:rPr``, if the span has any formatting (children in schema order)."""
    if not (span.bold or span.italic or span.strike or span.color or span.size or span.underline):
        return
    w = _W
    rpr = etree.SubElement(run, w["rPr"])
    if span.bold:
        etree.SubElement(rpr, w["b"])
        etree.SubElement(rpr, w["bCs"])
    if span.italic:
        etree.SubElement(rpr, w["i"])
        etree.SubElement(rpr, w["iCs"])
    if span.strike:
        etree.SubElement(rpr, w["strike"])
    if span.color:
        etree.SubElement(rpr, w["color"], {w["val"]: span.color})
    if span.size:
        half_points = str(round(span.size * 2))
        etree.SubElement(rpr, w["sz"], {w["val"]: half_points})
        etree.SubElement(rpr, w["szCs"], {w["val"]: half_points})
    if span.underline:
        etree.SubElement(rpr, w["u"], {w["val"]: "single"})


def make_run(span: Span) -> etree._Element:
    """One ``w:r``: tabs and line breaks become ``w:tab``/``w:br``, deleted text ``w:delText``.

    Children are made with lxml's SubElement (a compilation makes hundreds of thousands)."""
    w = _W
    run = element("w:r")
    _run_properties(run, span)
    text_tag = w["delText"] if span.deleted is not None else w["t"]
    for line_no, line in enumerate(span.text.split("\n")):
        if line_no:
            etree.SubElement(run, w["br"])
        for part_no, part in enumerate(line.split("\t")):
            if part_no:
                etree.SubElement(run, w["tab"])
            if part:
                text = etree.SubElement(run, text_tag)
                text.text = part
                if part != part.strip() or "  " in part:
                    text.set(_XML_SPACE, "preserve")
    return run


def _revision_key(span: Span) -> tuple[Mark | None, Mark | None]:
    return (span.inserted, span.deleted)


def append_spans(
    paragraph: etree._Element, spans: Iterable[Span], revisions: Revisions | None = None
) -> list[etree._Element]:
    """Append `spans` to a ``w:p`` as runs, grouping neighbours of one revision in one
    ``w:ins``/``w:del``. Returns the top-level children added (to anchor comments on)."""
    added: list[etree._Element] = []
    for (inserted, deleted), group in groupby((s for s in spans if s.text), key=_revision_key):
        runs = [make_run(span) for span in group]
        if inserted is None and deleted is None:
            container = None
        else:
            if revisions is None:
                raise ValueError("tracked changes need a Revisions counter")
            container = revisions.element("w:ins", inserted) if inserted else None
            if deleted is not None:
                del_el = revisions.element("w:del", deleted)
                if container is None:
                    container = del_el
                else:
                    container.append(del_el)
        if container is None:
            for run in runs:
                paragraph.append(run)
                added.append(run)
            continue
        inner = container if len(container) == 0 else container[0]
        for run in runs:
            inner.append(run)
        paragraph.append(container)
        added.append(container)
    return added


def _ppr(paragraph: etree._Element) -> etree._Element:
    ppr = paragraph.find(qn("w:pPr"))
    if ppr is None:
        ppr = element("w:pPr")
        paragraph.insert(0, ppr)
    return ppr


def mark_paragraph(
    paragraph: etree._Element,
    revisions: Revisions,
    *,
    inserted: Mark | None = None,
    deleted: Mark | None = None,
) -> None:
    """Mark the paragraph mark itself as inserted and/or deleted (``w:pPr/w:rPr/w:ins``).

    With its runs marked too, the paragraph appears or disappears as a whole: marking only
    the runs would leave an empty line behind after Accept (or Reject).
    """
    ppr = _ppr(paragraph)
    rpr = ppr.find(qn("w:rPr"))
    if rpr is None:
        rpr = element("w:rPr")
        insert_ordered(ppr, rpr, _PPR_ORDER)
    if inserted is not None:
        insert_ordered(rpr, revisions.element("w:ins", inserted), _RPR_ORDER)
    if deleted is not None:
        insert_ordered(rpr, revisions.element("w:del", deleted), _RPR_ORDER)


def set_style_change(
    paragraph: etree._Element, revisions: Revisions, mark: Mark, old_style_id: str
) -> None:
    """Record a change of paragraph style (a preambular paragraph become operative) as a
    formatting revision, so Reject restores the old style."""
    change = revisions.element("w:pPrChange", mark)
    old = element("w:pPr")
    old.append(element("w:pStyle", {qn("w:val"): old_style_id}))
    change.append(old)
    insert_ordered(_ppr(paragraph), change, _PPR_ORDER)


def shade_cell(cell: etree._Element, fill: str) -> None:
    """Shade a table cell (``w:tcPr/w:shd``): the status colours of a compilation."""
    tcpr = cell.find(qn("w:tcPr"))
    if tcpr is None:
        tcpr = element("w:tcPr")
        cell.insert(0, tcpr)
    shd = element("w:shd", {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill})
    insert_ordered(tcpr, shd, _TCPR_ORDER)


def field(paragraph: etree._Element, instruction: str, placeholder: str = "1") -> None:
    """Append a complex field (``PAGE``, ``NUMPAGES``) that Word and LibreOffice update."""

    def char(kind: str) -> etree._Element:
        run = element("w:r")
        run.append(element("w:fldChar", {qn("w:fldCharType"): kind}))
        return run

    paragraph.append(char("begin"))
    instr = element("w:r")
    text = etree.SubElement(instr, qn("w:instrText"))
    text.text = f" {instruction} "
    text.set(_XML_SPACE, "preserve")
    paragraph.append(instr)
    paragraph.append(char("separate"))
    paragraph.append(make_run(Span(placeholder)))
    paragraph.append(char("end"))


def anchor_comment(
    paragraph: etree._Element,
    first: etree._Element,
    last: etree._Element,
    comment_id: int,
) -> None:
    """Anchor comment `comment_id` on the children `first`…`last` of a ``w:p``.

    Unlike python-docx's ``add_comment`` this anchors on a revision container (``w:ins``)
    too, and keeps the reference run outside it, so the comment survives Reject.
    """
    cid = str(comment_id)
    first.addprevious(element("w:commentRangeStart", {qn("w:id"): cid}))
    end = element("w:commentRangeEnd", {qn("w:id"): cid})
    last.addnext(end)
    ref = element("w:r")
    rpr = element("w:rPr")
    rpr.append(element("w:rStyle", {qn("w:val"): "CommentReference"}))
    ref.append(rpr)
    ref.append(element("w:commentReference", {qn("w:id"): cid}))
    end.addnext(ref)
    if paragraph is not end.getparent():
        raise ValueError("a comment must be anchored on children of one paragraph")


def track_revisions(document: DocxDocument) -> None:
    """Turn on Track Changes in settings.xml: the next delegate's edits are tracked too."""
    order = ("w:trackRevisions", *_AFTER_TRACK_REVISIONS)
    insert_ordered(document.settings.element, element("w:trackRevisions"), order)


_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def set_custom_properties(document: DocxDocument, properties: dict[str, str | int]) -> None:
    """Write docProps/custom.xml (File > Properties > Custom in Word).

    These name the document and revision an export came from, so a delegation's marked-up
    copy can be matched to it when uploaded.
    """
    items = []
    for pid, (name, value) in enumerate(properties.items(), start=2):
        typed = (
            f"<vt:i4>{value}</vt:i4>"
            if isinstance(value, int)
            else f"<vt:lpwstr>{escape(value)}</vt:lpwstr>"
        )
        items.append(
            f'<property fmtid="{_FMTID}" pid="{pid}" name="{escape(name, {chr(34): "&quot;"})}">'
            f"{typed}</property>"
        )
    blob = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<Properties xmlns="{_CUSTOM_NS}" xmlns:vt="{_VT_NS}">{"".join(items)}</Properties>'
    ).encode()
    package = document.part.package
    part = Part(PackURI("/docProps/custom.xml"), CONTENT_TYPE.OFC_CUSTOM_PROPERTIES, blob, package)
    package.relate_to(part, RELATIONSHIP_TYPE.CUSTOM_PROPERTIES)


def initials(author: str) -> str:
    """What Word shows in a comment balloon: "EU", "RF" (Russian Federation), "GC" (G77 and
    China)."""
    words = author.split()
    if len(words) == 1 and words[0].isupper():
        return words[0][:4]
    return "".join(word[0] for word in words if word[:1].isupper())[:4] or author[:2].upper()


def add_comment(
    document: DocxDocument,
    first: etree._Element,
    last: etree._Element,
    *,
    text: str,
    author: str,
    when: datetime | date,
) -> int:
    """A Word comment by `author` dated `when`, anchored on the children `first`…`last` of
    one paragraph. Returns its id.

    Written here rather than with python-docx's `comments.add_comment`, which finds the next id
    by reading every comment so far (minutes for a compilation of 8,000 justified proposals) and
    stamps the comment with now() where an export must say when the proposal was made. Ids are
    0, 1, 2… in the order comments are added, which is all this module ever does.
    """
    comments = document.comments._comments_elm
    comment_id = len(comments)
    comment = element(
        "w:comment",
        {
            qn("w:id"): str(comment_id),
            qn("w:author"): author,
            qn("w:initials"): initials(author),
            qn("w:date"): w3c_datetime(when),
        },
    )
    for number, line in enumerate(text.split("\n")):
        paragraph = etree.SubElement(comment, qn("w:p"))
        style = etree.SubElement(etree.SubElement(paragraph, qn("w:pPr")), qn("w:pStyle"))
        style.set(qn("w:val"), "CommentText")
        if number == 0:  # Word's mark of where the comment's own text starts
            mark = etree.SubElement(paragraph, qn("w:r"))
            mark_style = etree.SubElement(etree.SubElement(mark, qn("w:rPr")), qn("w:rStyle"))
            mark_style.set(qn("w:val"), "CommentReference")
            etree.SubElement(mark, qn("w:annotationRef"))
        if line:
            words = etree.SubElement(etree.SubElement(paragraph, qn("w:r")), qn("w:t"))
            words.text = line
            words.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    comments.append(comment)
    anchor = first.getparent()
    assert anchor is not None
    anchor_comment(anchor, first, last, comment_id)
    return comment_id
