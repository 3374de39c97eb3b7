"""A revision as Akoma Ntoso XML, in the UN's AKN4UN profile where it applies.

A draft resolution is `<statement name="resolution">`; an elements paper (plain scheme) is
`<doc name="elementsPaper">`. Both carry:

- `meta/identification`: FRBR Work (the document: its symbol, first date, the General Assembly
  or the co-facilitators as author), Expression (this revision: its date, its name as version
  number, English) and Manifestation (this XML file, made by Rolltext), with AKN URIs such as
  `/akn/un/statement/deliberation/unga/2016-11-23/gcm-modalities/eng@2016-12-15`;
- `preface`: symbol (`docNumber`), revision and date (`docStatus`, `docDate`), title
  (`longTitle/p/docTitle`), subtitle (`docType`);
- a resolution's `preamble`: `formula name="enactingAuthority"` ("The General Assembly,") and
  one `container name="preambularParagraph"` per preambular paragraph, opening words in `<i>`;
- `mainBody`: operative paragraphs as `paragraph` with `num` ("1.", "5 bis.") and `content/p`
  (or `intro/p` followed by their sub-paragraphs as `list/point`, "(a)", "(ii)"); headings as
  `hcontainer name="heading"` (resolution) or numbered `section` (elements paper); paragraphs
  and bullets as `paragraph` and `list/point`.

Every provision element carries `class` = its Rolltext kind (so a round trip is exact) and
`GUID` = its stable provision id, which stays the same across revisions while `eId` and `num`
follow the numbering of this revision. Provisions deleted in the rolling text (kept until the
next revision) are left out: the XML is the text as it would stand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from app.akn import AKN_NS, akn
from app.docx.model import Circulated, Paragraph

ROLLTEXT = "rolltext"
POINT_KINDS = ("list_item", "subparagraph")
CONTAINER_NAMES = {
    "preambular": "preambularParagraph",
    "operative": "operativeParagraph",
    "heading": "heading",
    "paragraph": "paragraph",
    "list_item": "listItem",
    "subparagraph": "subparagraph",
}
PREFIX = {
    "section": "sec",
    "paragraph": "para",
    "point": "point",
    "list": "list",
    "hcontainer": "hcontainer",
    "container": "container",
}
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(slots=True)
class _Node:
    paragraph: Paragraph
    children: list[_Node] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.paragraph.kind

    def has(self, kind: str) -> bool:
        return any(c.kind == kind or c.has(kind) for c in self.children)


def provision_tree(paragraphs: Sequence[Paragraph]) -> list[_Node]:
    """The provisions in reading order, as a tree by depth, without deleted ones (and what
    hangs under them)."""
    top: list[_Node] = []
    stack: list[_Node] = []
    skip_below: int | None = None
    for paragraph in paragraphs:
        if skip_below is not None and paragraph.depth > skip_below:
            continue
        skip_below = None
        if paragraph.deleted:
            skip_below = paragraph.depth
            continue
        node = _Node(paragraph)
        del stack[paragraph.depth :]
        (stack[-1].children if stack else top).append(node)
        stack.append(node)
    return top


def to_akn(
    text: Circulated, *, work_date: date | None = None, generated: date | None = None
) -> bytes:
    """The revision as an Akoma Ntoso document (UTF-8, with an XML declaration)."""
    resolution = text.scheme == "resolution"
    root = etree.Element(akn("akomaNtoso"), nsmap={None: AKN_NS})
    document = etree.SubElement(
        root,
        akn("statement" if resolution else "doc"),
        name="resolution" if resolution else "elementsPaper",
        contains="singleVersion",
    )
    _meta(document, text, work_date or text.issued_on, generated or date.today())
    _preface(document, text)
    nodes = provision_tree(text.paragraphs)
    split = 0
    if resolution:
        while split < len(nodes) and _belongs_to_preamble(nodes[split]):
            split += 1
        preamble = etree.SubElement(document, akn("preamble"))
        formula = etree.SubElement(preamble, akn("formula"), name="enactingAuthority")
        _p(formula, "The General Assembly,")
        counter: dict[str, int] = {}
        for node in nodes[:split]:
            _container(preamble, node, "preamble", counter)
    body = etree.SubElement(document, akn("mainBody"))
    _children(body, nodes[split:], "", resolution)
    if len(body) == 0:
        etree.SubElement(body, akn("p"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# -- metadata and title block -----------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


def work_uri(text: Circulated, work_date: date) -> str:
    kind = "statement/deliberation" if text.scheme == "resolution" else "doc/elementsPaper"
    return f"/akn/un/{kind}/unga/{work_date.isoformat()}/{_slug(text.symbol)}"


def _meta(document: etree._Element, text: Circulated, work_date: date, generated: date) -> None:
    meta = etree.SubElement(document, akn("meta"))
    identification = etree.SubElement(meta, akn("identification"), source=f"#{ROLLTEXT}")
    work = work_uri(text, work_date)
    expression = f"{work}/eng@{text.issued_on.isoformat()}"
    manifestation = f"{expression}/!main.xml"

    frbr = etree.SubElement(identification, akn("FRBRWork"))
    etree.SubElement(frbr, akn("FRBRthis"), value=f"{work}/!main")
    etree.SubElement(frbr, akn("FRBRuri"), value=work)
    etree.SubElement(frbr, akn("FRBRdate"), date=work_date.isoformat(), name="circulation")
    etree.SubElement(frbr, akn("FRBRauthor"), {"href": "#cofacilitators", "as": "#author"})
    etree.SubElement(frbr, akn("FRBRcountry"), value="un")
    etree.SubElement(frbr, akn("FRBRnumber"), value=_slug(text.symbol), showAs=text.symbol)
    etree.SubElement(frbr, akn("FRBRname"), value=text.title)

    frbr = etree.SubElement(identification, akn("FRBRExpression"))
    etree.SubElement(frbr, akn("FRBRthis"), value=f"{expression}/!main")
    etree.SubElement(frbr, akn("FRBRuri"), value=expression)
    etree.SubElement(frbr, akn("FRBRdate"), date=text.issued_on.isoformat(), name=text.revision)
    etree.SubElement(frbr, akn("FRBRauthor"), {"href": "#cofacilitators", "as": "#editor"})
    etree.SubElement(frbr, akn("FRBRversionNumber"), value=text.revision)
    etree.SubElement(frbr, akn("FRBRlanguage"), language="eng")

    frbr = etree.SubElement(identification, akn("FRBRManifestation"))
    etree.SubElement(frbr, akn("FRBRthis"), value=manifestation)
    etree.SubElement(frbr, akn("FRBRuri"), value=f"{expression}.akn")
    etree.SubElement(frbr, akn("FRBRdate"), date=generated.isoformat(), name="generation")
    etree.SubElement(frbr, akn("FRBRauthor"), href=f"#{ROLLTEXT}")
    etree.SubElement(frbr, akn("FRBRformat"), value="application/akn+xml")

    references = etree.SubElement(meta, akn("references"), source=f"#{ROLLTEXT}")
    for eid, href, show in (
        ("generalAssembly", "/akn/ontology/organizations/un/generalAssembly", "General Assembly"),
        ("cofacilitators", "/akn/ontology/roles/un/cofacilitators", "Co-facilitators"),
        (ROLLTEXT, "/akn/ontology/organizations/rolltext", "Rolltext"),
    ):
        etree.SubElement(references, akn("TLCOrganization"), eId=eid, href=href, showAs=show)


def _preface(document: etree._Element, text: Circulated) -> None:
    preface = etree.SubElement(document, akn("preface"))
    symbol = etree.SubElement(preface, akn("p"), {"class": "symbol"})
    etree.SubElement(symbol, akn("docNumber")).text = _xml(text.symbol)
    revision = etree.SubElement(preface, akn("p"), {"class": "revision"})
    status = etree.SubElement(revision, akn("docStatus"))
    status.text = _xml(text.revision)
    status.tail = ", "
    when = etree.SubElement(revision, akn("docDate"), date=text.issued_on.isoformat())
    when.text = f"{text.issued_on.day} {text.issued_on:%B %Y}"
    title = etree.SubElement(etree.SubElement(preface, akn("longTitle")), akn("p"))
    etree.SubElement(title, akn("docTitle")).text = _xml(text.title)
    if text.subtitle:
        subtitle = etree.SubElement(preface, akn("p"), {"class": "subtitle"})
        etree.SubElement(subtitle, akn("docType")).text = _xml(text.subtitle)


# -- the provisions ---------------------------------------------------------------------------


def _belongs_to_preamble(node: _Node) -> bool:
    if node.kind == "preambular":
        return not node.has("operative")
    if node.kind == "heading":
        return node.has("preambular") and not node.has("operative")
    return False


def _eid(parent: str, tag: str, counter: dict[str, int]) -> str:
    prefix = PREFIX[tag]
    counter[prefix] = counter.get(prefix, 0) + 1
    own = f"{prefix}_{counter[prefix]}"
    return f"{parent}__{own}" if parent else own


def _container(
    parent: etree._Element, node: _Node, parent_eid: str, counter: dict[str, int]
) -> None:
    """A preamble provision: containers nest, and hold their words in a first `p`."""
    eid = _eid(parent_eid, "container", counter)
    element = etree.SubElement(
        parent,
        akn("container"),
        name=CONTAINER_NAMES.get(node.kind, node.kind),
        eId=eid,
        GUID=_guid(node),
    )
    element.set("class", node.kind)
    _p(element, node.paragraph.text, italic=node.kind in ("preambular", "operative"))
    inner: dict[str, int] = {}
    for child in node.children:
        _container(element, child, eid, inner)


def _children(
    parent: etree._Element, nodes: Sequence[_Node], parent_eid: str, resolution: bool
) -> None:
    """Provisions under a hierarchy element; runs of sub-paragraphs or bullets go in a `list`."""
    counter: dict[str, int] = {}
    index = 0
    while index < len(nodes):
        node = nodes[index]
        if node.kind in POINT_KINDS:
            run = []
            while index < len(nodes) and nodes[index].kind in POINT_KINDS:
                run.append(nodes[index])
                index += 1
            eid = _eid(parent_eid, "list", counter)
            listing = etree.SubElement(parent, akn("list"), eId=eid)
            inner: dict[str, int] = {}
            for item in run:
                _hierarchy(listing, item, "point", eid, inner, resolution)
            continue
        if node.kind == "heading":
            tag = "hcontainer" if resolution else "section"
        elif node.kind == "preambular":
            tag = "hcontainer"
        else:
            tag = "paragraph"
        _hierarchy(parent, node, tag, parent_eid, counter, resolution)
        index += 1


def _hierarchy(
    parent: etree._Element,
    node: _Node,
    tag: str,
    parent_eid: str,
    counter: dict[str, int],
    resolution: bool,
) -> None:
    eid = _eid(parent_eid, tag, counter)
    element = etree.SubElement(parent, akn(tag), eId=eid, GUID=_guid(node))
    element.set("class", node.kind)
    if tag == "hcontainer":
        element.set("name", CONTAINER_NAMES.get(node.kind, node.kind))
    num = _num(node.paragraph, resolution)
    if num:
        etree.SubElement(element, akn("num")).text = num
    text = node.paragraph.text
    if node.kind == "heading":
        etree.SubElement(element, akn("heading")).text = _xml(text)
        _children(element, node.children, eid, resolution)
        return
    italic = node.kind in ("preambular", "operative")
    if node.children:
        _p(etree.SubElement(element, akn("intro")), text, italic=italic)
        _children(element, node.children, eid, resolution)
    else:
        _p(etree.SubElement(element, akn("content")), text, italic=italic)


def _num(paragraph: Paragraph, resolution: bool) -> str:
    """What a reader sees before the words: "1.", "5 bis.", "(a)", "3.2"; nothing for PPs,
    headings of a resolution and bullets of a resolution's paragraphs."""
    label = paragraph.label.strip()
    if not label:
        return ""
    if not resolution:
        return label
    if paragraph.kind == "operative":
        return label.removeprefix("OP").strip() + "."
    if paragraph.kind in POINT_KINDS:
        found = re.findall(r"\([^)]*\)", label)
        return found[-1] if found else label
    if paragraph.kind in ("preambular", "heading"):
        return ""
    return label


def _guid(node: _Node) -> str:
    return f"urn:rolltext:provision:{node.paragraph.provision_id}"


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _p(parent: etree._Element, text: str, *, italic: bool = False) -> etree._Element:
    """A paragraph of words; the opening words of a PP or an OP in `<i>`, as the UN prints them."""
    p = etree.SubElement(parent, akn("p"))
    text = _xml(text)
    start = end = 0
    if italic:
        from app.docx.layout import opening_words

        start, end = opening_words(text)
    if end > start:
        p.text = text[:start] or None
        emphasis = etree.SubElement(p, akn("i"))
        emphasis.text = text[start:end]
        emphasis.tail = text[end:] or None
    else:
        p.text = text
    return p
