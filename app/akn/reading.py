"""Akoma Ntoso XML back into an Outline: the provisions, their kinds and their tree.

Rolltext's own export reads back exactly: each provision element says its kind in `class`.
Akoma Ntoso from other tools is read by its structure: in a resolution (`statement`, or any
document with a preamble formula) the preamble's containers, recitals and paragraphs are
preambular paragraphs and the body's `paragraph`s operative ones, with `point`s as
sub-paragraphs; elsewhere (`doc`) hierarchy elements with a `heading` are headings,
`paragraph`s are paragraphs and `point`s are bullets. Numbers are dropped: labels are
Rolltext's job.

The file is checked first: well-formed, no DOCTYPE (entities can attack a server), the Akoma
Ntoso 3.0 namespace, valid against the shipped schema. Anything else is refused with a message
that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from lxml import etree

from app.akn import AKN_NS, akn
from app.akn.schema import problems
from app.domain.outline import Kind, Outline, OutlineProvision, Scheme

MAX_BYTES = 20_000_000
KINDS: frozenset[str] = frozenset(
    ("heading", "preambular", "operative", "paragraph", "list_item", "subparagraph")
)
HIERARCHY = frozenset(
    akn(t)
    for t in (
        "alinea", "article", "book", "chapter", "clause", "division", "hcontainer", "indent",
        "level", "list", "paragraph", "part", "point", "proviso", "rule", "section",
        "subchapter", "subclause", "subdivision", "sublist", "subparagraph", "subpart",
        "subrule", "subsection", "subtitle", "title", "tome", "transitional",
    )
)  # fmt: skip
TRANSPARENT = frozenset({akn("list"), akn("sublist")})
POINTS = frozenset({akn("point"), akn("indent"), akn("alinea")})
CONTAINER_KINDS = {
    "preambularParagraph": "preambular",
    "operativeParagraph": "operative",
    "heading": "heading",
    "paragraph": "paragraph",
    "listItem": "list_item",
    "subparagraph": "subparagraph",
}


class AknError(ValueError):
    """Not an Akoma Ntoso document Rolltext can read; the message says why."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse(data: bytes) -> etree._Element:
    """The checked root element of an Akoma Ntoso 3.0 document."""
    if len(data) > MAX_BYTES:
        raise AknError(f"An Akoma Ntoso file is at most {MAX_BYTES // 1_000_000} MB.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise AknError(f"This is not well-formed XML ({error.msg or error}).") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise AknError(
            "This XML file has a document type declaration (DOCTYPE), which Akoma Ntoso never "
            "needs and which can be used to attack a server; remove it and upload again."
        )
    if root.tag != akn("akomaNtoso"):
        raise AknError(
            f"This is not an Akoma Ntoso 3.0 document: its root is {root.tag!r}, not "
            f"<akomaNtoso> in the namespace {AKN_NS}."
        )
    found = problems(root)
    if found:
        raise AknError("This Akoma Ntoso document does not follow the schema: " + "; ".join(found))
    return root


def read_akn(data: bytes) -> Outline:
    """The draft in an Akoma Ntoso file, ready for `documents.import_outline`."""
    root = parse(data)
    document = next((c for c in root if isinstance(c.tag, str)), None)
    if document is None or document.find(akn("mainBody")) is None:
        raise AknError("Rolltext reads documents with a mainBody (statement, doc, bill, act…).")
    preamble = document.find(akn("preamble"))
    scheme = _scheme(document, preamble)
    provisions: list[OutlineProvision] = []
    if preamble is not None:
        provisions.extend(_preamble(preamble))
    provisions.extend(_body(document.find(akn("mainBody")), scheme))
    if not provisions:
        raise AknError("This Akoma Ntoso document has no paragraphs of text.")
    title, subtitle = _title(document)
    return Outline(title=title, subtitle=subtitle, scheme=scheme, provisions=tuple(provisions))


# -- title and shape --------------------------------------------------------------------------


def _words(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _paragraphs(block: etree._Element | None) -> str:
    """The words of a block's own paragraphs (a list inside it is read as its children)."""
    if block is None:
        return ""
    own = [_words(p) for p in block if p.tag == akn("p")]
    return " ".join(w for w in own if w) or ("" if len(block) else _words(block))


def _title(document: etree._Element) -> tuple[str, str | None]:
    preface = document.find(akn("preface"))
    title = _words(preface.find(f".//{akn('docTitle')}")) if preface is not None else ""
    if not title and preface is not None:
        title = _words(preface.find(akn("longTitle")))
    if not title:
        name = document.find(
            f"{akn('meta')}/{akn('identification')}/{akn('FRBRWork')}/{akn('FRBRname')}"
        )
        title = name.get("value", "") if name is not None else ""
    subtitle = _words(preface.find(f".//{akn('docType')}")) if preface is not None else ""
    return (title or "Untitled draft"), (subtitle or None)


def _scheme(document: etree._Element, preamble: etree._Element | None) -> Scheme:
    classes = {e.get("class") for e in document.iter() if isinstance(e.tag, str)}
    if classes & {"preambular", "operative", "subparagraph"}:
        return "resolution"
    if classes & {"list_item"} or etree.QName(document).localname == "doc":
        return "plain"
    if preamble is not None and preamble.find(akn("formula")) is not None:
        return "resolution"
    return "resolution" if etree.QName(document).localname == "statement" else "plain"


def _kind(element: etree._Element, fallback: Kind) -> Kind:
    declared = str(element.get("class", ""))
    named = CONTAINER_KINDS.get(str(element.get("name", "")))
    for candidate in (declared, named):
        if candidate in KINDS:
            return cast(Kind, candidate)
    return fallback


# -- the preamble -----------------------------------------------------------------------------


def _preamble(preamble: etree._Element) -> Iterator[OutlineProvision]:
    for child in preamble:
        if not isinstance(child.tag, str) or child.tag == akn("formula"):
            continue
        if child.tag == akn("container"):
            yield _container(child)
        elif child.tag == akn("recitals"):
            for recital in child.iter(akn("recital")):
                yield OutlineProvision("preambular", _words(recital))
        elif text := _words(child):
            yield OutlineProvision("preambular", text)


def _container(element: etree._Element) -> OutlineProvision:
    first = next((c for c in element if c.tag == akn("p")), None)
    nested = tuple(_container(c) for c in element if c.tag == akn("container"))
    return OutlineProvision(_kind(element, "preambular"), _words(first), nested)


# -- the body ---------------------------------------------------------------------------------


def _body(parent: etree._Element, scheme: Scheme) -> Iterator[OutlineProvision]:
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if child.tag in TRANSPARENT:
            yield from _body(child, scheme)
        elif child.tag in HIERARCHY:
            yield _hierarchy(child, scheme)
        elif child.tag == akn("blockList"):
            for item in child.iter(akn("item")):
                yield OutlineProvision("list_item", _words(item))
        elif text := _words(child):
            yield OutlineProvision("operative" if scheme == "resolution" else "paragraph", text)


def _hierarchy(element: etree._Element, scheme: Scheme) -> OutlineProvision:
    heading = element.find(akn("heading"))
    fallback: Kind
    if element.tag in POINTS:
        fallback = "subparagraph" if scheme == "resolution" else "list_item"
    elif heading is not None:
        fallback = "heading"
    elif element.tag == akn("paragraph"):
        fallback = "operative" if scheme == "resolution" else "paragraph"
    else:
        fallback = "operative" if scheme == "resolution" else "paragraph"
    kind = _kind(element, fallback)
    intro = element.find(akn("intro"))
    content = element.find(akn("content"))
    children: list[OutlineProvision] = []
    if kind == "heading":
        text = _words(heading)
        if lead := _words(intro):
            children.append(OutlineProvision("paragraph", lead))
    else:
        text = _paragraphs(content if content is not None else intro)
        if not text and heading is not None:
            text = _words(heading)
        if content is not None:
            for listing in content.iter(akn("blockList")):
                children.extend(
                    OutlineProvision("list_item", _words(i)) for i in listing.iter(akn("item"))
                )
    children.extend(_body_children(element, scheme))
    return OutlineProvision(kind, text, tuple(children))


def _body_children(element: etree._Element, scheme: Scheme) -> Iterator[OutlineProvision]:
    for child in element:
        if child.tag in TRANSPARENT:
            yield from _body_children(child, scheme)
        elif child.tag in HIERARCHY:
            yield _hierarchy(child, scheme)
