"""Akoma Ntoso out and in, without a database: valid against the shipped OASIS schema, and read
back to the same provisions — for hand-made texts, other tools' markup and random trees."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from app.akn import akn
from app.akn.export import to_akn
from app.akn.reading import AknError, read_akn
from app.akn.schema import problems
from app.docx.model import Circulated, Paragraph
from app.domain.outline import Outline, OutlineProvision, parse_outline

RESOLUTION = """\
# Safe, orderly and regular migration
> Draft resolution

The General Assembly,

_Recalling_ the New York Declaration for Refugees and Migrants of 19 September 2016,

_Reaffirming_ the purposes and principles of the Charter of the United Nations,

1. _Decides_ to convene an intergovernmental conference on international migration in 2018;

2. _Requests_ the President of the General Assembly to appoint two co-facilitators:

   (a) to lead open, transparent and inclusive consultations with States;

       (i) in New York;

       (ii) and in Geneva;

   (b) to integrate the Geneva-based migration expertise;

3. _Invites_ Member States to contribute to the [voluntary] trust fund.
"""

ELEMENTS = """\
# Modalities for the intergovernmental negotiations
> Elements of a Draft Resolution

With the adoption of the New York Declaration Member States have agreed to launch a process.

## Scope of the Global Compact

According to paragraph 2 of Annex II, the Global Compact would

- set out a range of principles;
  - in all its dimensions;
- make an important contribution to global governance.

## Preparatory process

### a) Timeline

Phase I: holding of broad, open, transparent and inclusive thematic consultations.

- Number, frequency and locations of meetings
"""


def circulated(outline: Outline, *, revision: str = "Rev.1") -> Circulated:
    """The values a revision is circulated from, for an outline (labels are not needed here:
    a few are given so the numbers show)."""
    paragraphs: list[Paragraph] = []
    counter = [0]

    def walk(items: tuple[OutlineProvision, ...], depth: int) -> None:
        for item in items:
            counter[0] += 1
            label = f"OP{counter[0]}" if item.kind == "operative" else str(counter[0])
            paragraphs.append(
                Paragraph(
                    provision_id=counter[0],
                    kind=item.kind,
                    depth=depth,
                    label=label,
                    text=item.text,
                    status="open",
                    status_label="open",
                )
            )
            walk(item.children, depth + 1)

    walk(outline.provisions, 0)
    return Circulated(
        symbol="GCM/test",
        title=outline.title,
        subtitle=outline.subtitle,
        scheme=outline.scheme,
        revision=revision,
        issued_on=date(2016, 12, 15),
        document_id=1,
        revision_seq=1,
        paragraphs=tuple(paragraphs),
    )


def test_a_resolution_validates_and_reads_back() -> None:
    outline = parse_outline(RESOLUTION)
    xml = to_akn(circulated(outline), work_date=date(2016, 11, 23), generated=date(2016, 12, 16))
    root = etree.fromstring(xml)
    assert problems(root) == []
    statement = root[0]
    assert (statement.tag, statement.get("name")) == (akn("statement"), "resolution")
    assert root.findtext(f".//{akn('docTitle')}") == "Safe, orderly and regular migration"
    formula = root.find(f".//{akn('preamble')}/{akn('formula')}")
    assert formula.get("name") == "enactingAuthority"
    pps = root.findall(f".//{akn('preamble')}/{akn('container')}")
    assert [p.get("name") for p in pps] == ["preambularParagraph"] * 2
    assert pps[0].findtext(f"{akn('p')}/{akn('i')}") == "Recalling"
    ops = root.findall(f"{akn('statement')}/{akn('mainBody')}/{akn('paragraph')}")
    assert [op.findtext(akn("num")) for op in ops] == ["3.", "4.", "9."]
    points = ops[1].findall(f"{akn('list')}/{akn('point')}")
    assert len(points) == 2 and points[0].find(akn("intro")) is not None
    assert ops[1].find(akn("intro")) is not None and ops[0].find(akn("content")) is not None
    uri = root.find(f".//{akn('FRBRExpression')}/{akn('FRBRuri')}").get("value")
    assert uri == "/akn/un/statement/deliberation/unga/2016-11-23/gcm-test/eng@2016-12-15"
    assert read_akn(xml) == outline


def test_an_elements_paper_validates_and_reads_back() -> None:
    outline = parse_outline(ELEMENTS)
    xml = to_akn(circulated(outline))
    root = etree.fromstring(xml)
    assert problems(root) == []
    assert (root[0].tag, root[0].get("name")) == (akn("doc"), "elementsPaper")
    assert root.find(f".//{akn('preamble')}") is None
    sections = root.findall(f".//{akn('mainBody')}/{akn('section')}")
    assert [s.findtext(akn("heading")) for s in sections] == [
        "Scope of the Global Compact",
        "Preparatory process",
    ]
    assert sections[0].find(f"{akn('paragraph')}/{akn('list')}/{akn('point')}") is not None
    assert read_akn(xml) == outline


def test_deleted_provisions_are_left_out() -> None:
    text = circulated(parse_outline(RESOLUTION))
    paragraphs = list(text.paragraphs)
    second_op = next(i for i, p in enumerate(paragraphs) if p.text.startswith("Requests"))
    paragraphs[second_op] = Paragraph(**{**_fields(paragraphs[second_op]), "deleted": True})
    kept = read_akn(to_akn(Circulated(**{**_fields(text), "paragraphs": tuple(paragraphs)})))
    assert [p.text[:7] for p in kept.provisions] == ["Recalli", "Reaffir", "Decides", "Invites"]


def _fields(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


OTHER_TOOL = b"""<?xml version="1.0" encoding="UTF-8"?>
<akomaNtoso xmlns="http://docs.oasis-open.org/legaldocml/ns/akn/3.0">
  <statement name="resolution">
    <meta>
      <identification source="#other">
        <FRBRWork><FRBRthis value="/akn/un/statement/deliberation/unga/2016/1/!main"/>
          <FRBRuri value="/akn/un/statement/deliberation/unga/2016/1"/>
          <FRBRdate date="2016-09-19" name="adoption"/><FRBRauthor href="#ga"/>
          <FRBRcountry value="un"/></FRBRWork>
        <FRBRExpression><FRBRthis value="/akn/un/statement/deliberation/unga/2016/1/eng/!main"/>
          <FRBRuri value="/akn/un/statement/deliberation/unga/2016/1/eng"/>
          <FRBRdate date="2016-09-19" name="adoption"/><FRBRauthor href="#ga"/>
          <FRBRlanguage language="eng"/></FRBRExpression>
        <FRBRManifestation>
          <FRBRthis value="/akn/un/statement/deliberation/unga/2016/1/eng/!main.xml"/>
          <FRBRuri value="/akn/un/statement/deliberation/unga/2016/1/eng.xml"/>
          <FRBRdate date="2016-09-20" name="markup"/><FRBRauthor href="#ga"/></FRBRManifestation>
      </identification>
    </meta>
    <preface><longTitle><p><docTitle>New York Declaration</docTitle></p></longTitle></preface>
    <preamble>
      <formula name="enactingFormula"><p>The General Assembly,</p></formula>
      <recitals><recital><p><i>Recalling</i> the Charter,</p></recital></recitals>
    </preamble>
    <mainBody>
      <paragraph eId="para_1"><num>1.</num>
        <content><p><i>Adopts</i> the Declaration;</p></content></paragraph>
      <paragraph eId="para_2"><num>2.</num><intro><p><i>Decides</i>:</p></intro>
        <list eId="para_2__list_1">
          <point eId="para_2__list_1__point_a"><num>(a)</num>
            <content><p>to launch;</p></content></point>
        </list>
      </paragraph>
    </mainBody>
  </statement>
</akomaNtoso>
"""


def test_another_tools_resolution_is_read_by_its_structure() -> None:
    outline = read_akn(OTHER_TOOL)
    assert (outline.title, outline.scheme) == ("New York Declaration", "resolution")
    assert outline.provisions == (
        OutlineProvision("preambular", "Recalling the Charter,"),
        OutlineProvision("operative", "Adopts the Declaration;"),
        OutlineProvision(
            "operative", "Decides:", (OutlineProvision("subparagraph", "to launch;"),)
        ),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<akomaNtoso", "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><akomaNtoso '
            b'xmlns="http://docs.oasis-open.org/legaldocml/ns/akn/3.0"/>',
            "DOCTYPE",
        ),
        (b'<akomaNtoso xmlns="http://example.org/other"/>', "not an Akoma Ntoso 3.0 document"),
        (
            b'<akomaNtoso xmlns="http://docs.oasis-open.org/legaldocml/ns/akn/3.0">'
            b"<statement><mainBody/></statement></akomaNtoso>",
            "does not follow the schema",
        ),
    ],
)
def test_what_is_not_akoma_ntoso_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(AknError, match=message):
        read_akn(data)


# -- random trees -----------------------------------------------------------------------------

words = (
    st.text(
        alphabet=st.sampled_from("abcdefghij klmnop[]()“”’;:,.-–&<>\"'éçØ"), min_size=1, max_size=40
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)


def _items(
    kind: str, children: st.SearchStrategy[tuple[OutlineProvision, ...]]
) -> st.SearchStrategy[OutlineProvision]:
    return st.builds(OutlineProvision, st.just(kind), words, children)


none: st.SearchStrategy[tuple[OutlineProvision, ...]] = st.just(())
bullets = st.lists(
    _items("list_item", st.lists(_items("list_item", none), max_size=2).map(tuple)), max_size=3
).map(tuple)
plain_para = _items("paragraph", bullets)
plain_heading = _items(
    "heading",
    st.lists(
        st.one_of(plain_para, _items("heading", st.lists(plain_para, max_size=2).map(tuple))),
        max_size=3,
    ).map(tuple),
)
plain = st.lists(
    st.one_of(plain_para, plain_heading, _items("list_item", none)), min_size=1, max_size=6
).map(tuple)

romans = st.lists(_items("subparagraph", none), max_size=2).map(tuple)
letters = st.lists(_items("subparagraph", romans), max_size=3).map(tuple)
operatives = st.lists(_items("operative", letters), min_size=1, max_size=4)
preambulars = st.lists(_items("preambular", none), max_size=3)
resolution = st.builds(lambda pp, op: tuple(pp) + tuple(op), preambulars, operatives)


@given(st.one_of(plain.map(lambda p: ("plain", p)), resolution.map(lambda p: ("resolution", p))))
@settings(max_examples=60, deadline=None)
def test_any_outline_survives_the_round_trip(
    case: tuple[str, tuple[OutlineProvision, ...]],
) -> None:
    scheme, provisions = case
    outline = Outline(title="Any draft", subtitle=None, scheme=scheme, provisions=provisions)  # type: ignore[arg-type]
    xml = to_akn(circulated(outline))
    assert problems(etree.fromstring(xml)) == []
    assert read_akn(xml) == outline
