"""Reading plain-text / Markdown drafts into provision trees (app.domain.outline)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.outline import Outline, OutlineError, OutlineProvision, parse_outline

ELEMENTS_PAPER = Path(__file__).parents[2] / "app" / "demo" / "elements-paper.md"


def P(kind: str, text: str, *children: OutlineProvision) -> OutlineProvision:
    return OutlineProvision(kind, text, tuple(children))  # type: ignore[arg-type]


def shape(provisions: tuple[OutlineProvision, ...]) -> list[object]:
    """(kind, text, children) nested lists: short to compare, readable when a test fails."""
    return [(p.kind, p.text, shape(p.children)) for p in provisions]


# -- an elements paper ----------------------------------------------------------------------


def test_small_elements_paper() -> None:
    outline = parse_outline(
        """# Modalities
> Elements of a Draft Resolution

An opening paragraph.

## Scope

The compact would

- set out principles;
- deal with all aspects.

It could contain:

* a political declaration
· means of implementation

## Preparatory process

### a) Timeline

Phase I: consultations.

### b) Organization

#### i) Leadership structure

- co-facilitators, or
- a PrepCom.

## Trust Fund

A fund could be established.
"""
    )
    assert outline.title == "Modalities"
    assert outline.subtitle == "Elements of a Draft Resolution"
    assert outline.scheme == "plain"
    assert outline.provisions == (
        P("paragraph", "An opening paragraph."),
        P(
            "heading",
            "Scope",
            P(
                "paragraph",
                "The compact would",
                P("list_item", "set out principles;"),
                P("list_item", "deal with all aspects."),
            ),
            P(
                "paragraph",
                "It could contain:",
                P("list_item", "a political declaration"),
                P("list_item", "means of implementation"),
            ),
        ),
        P(
            "heading",
            "Preparatory process",
            P("heading", "a) Timeline", P("paragraph", "Phase I: consultations.")),
            P(
                "heading",
                "b) Organization",
                P(
                    "heading",
                    "i) Leadership structure",
                    P("list_item", "co-facilitators, or"),
                    P("list_item", "a PrepCom."),
                ),
            ),
        ),
        P("heading", "Trust Fund", P("paragraph", "A fund could be established.")),
    )


def test_nested_bullets_and_bullets_without_a_lead_in() -> None:
    outline = parse_outline(
        "# T\n\n- first\n  - nested\n    - deeper\n  - nested two\n- second\n\n## H\n\n- under H\n"
    )
    assert outline.subtitle is None
    assert shape(outline.provisions) == [
        (
            "list_item",
            "first",
            [
                ("list_item", "nested", [("list_item", "deeper", [])]),
                ("list_item", "nested two", []),
            ],
        ),
        ("list_item", "second", []),
        ("heading", "H", [("list_item", "under H", [])]),
    ]


def test_a_blank_line_inside_a_list_keeps_the_list_together() -> None:
    outline = parse_outline("# T\n\nLead-in:\n\n- one\n\n- two\n\nAfter the list.\n")
    assert shape(outline.provisions) == [
        ("paragraph", "Lead-in:", [("list_item", "one", []), ("list_item", "two", [])]),
        ("paragraph", "After the list.", []),
    ]


def test_heading_levels_close_at_the_same_or_higher_level() -> None:
    outline = parse_outline("# T\n\n## A\n\n#### A.deep\n\n### A.1\n\n## B\n\ntext\n")
    assert shape(outline.provisions) == [
        ("heading", "A", [("heading", "A.deep", []), ("heading", "A.1", [])]),
        ("heading", "B", [("paragraph", "text", [])]),
    ]


# -- a resolution ---------------------------------------------------------------------------


RESOLUTION = """# Modalities for the intergovernmental negotiations of the global compact

The General Assembly,

_Recalling_ its resolution 71/1 of 19 September 2016,

_Reaffirming_ the purposes and principles of the Charter of the United Nations,

_Recognizing_ the contribution of migrants
to sustainable development,

1. _Decides_ that the intergovernmental conference will be held in 2018;

2. _Also decides_ that the preparatory process will comprise:
   (a) consultations, including:
       (i) regional consultations;
       (ii) thematic sessions;
   (b) a stocktaking meeting;

3. _Requests_ the Secretary-General to provide the necessary support.
"""


def test_small_resolution() -> None:
    outline = parse_outline(RESOLUTION)
    assert outline.scheme == "resolution"
    assert outline.title == (
        "Modalities for the intergovernmental negotiations of the global compact"
    )
    assert shape(outline.provisions) == [
        ("preambular", "Recalling its resolution 71/1 of 19 September 2016,", []),
        (
            "preambular",
            "Reaffirming the purposes and principles of the Charter of the United Nations,",
            [],
        ),
        (
            "preambular",
            "Recognizing the contribution of migrants to sustainable development,",
            [],
        ),
        ("operative", "Decides that the intergovernmental conference will be held in 2018;", []),
        (
            "operative",
            "Also decides that the preparatory process will comprise:",
            [
                (
                    "subparagraph",
                    "consultations, including:",
                    [
                        ("subparagraph", "regional consultations;", []),
                        ("subparagraph", "thematic sessions;", []),
                    ],
                ),
                ("subparagraph", "a stocktaking meeting;", []),
            ],
        ),
        ("operative", "Requests the Secretary-General to provide the necessary support.", []),
    ]


def test_french_style_markers_without_indentation() -> None:
    outline = parse_outline(
        "# T\n\nThe General Assembly,\n1. Décide :\na) premier ;\ni) un ;\nb) second.\n"
    )
    assert shape(outline.provisions) == [
        (
            "operative",
            "Décide :",
            [
                ("subparagraph", "premier ;", [("subparagraph", "un ;", [])]),
                ("subparagraph", "second.", []),
            ],
        )
    ]


def test_i_after_h_is_the_letter_i() -> None:
    letters = "abcdefghijk"
    body = "".join(f"({c}) item {c};\n" for c in letters)
    outline = parse_outline(f"# T\n\n1. Decides:\n{body}")
    (operative,) = outline.provisions
    assert [child.text for child in operative.children] == [f"item {c};" for c in letters]
    assert all(not child.children for child in operative.children)


def test_i_after_h_indented_deeper_is_roman() -> None:
    outline = parse_outline(
        "# T\n\n1. Decides:\n  (h) eighth:\n     (i) first;\n     (ii) second;\n  (i) ninth.\n"
    )
    assert shape(outline.provisions) == [
        (
            "operative",
            "Decides:",
            [
                (
                    "subparagraph",
                    "eighth:",
                    [("subparagraph", "first;", []), ("subparagraph", "second;", [])],
                ),
                ("subparagraph", "ninth.", []),
            ],
        )
    ]


def test_v_and_x_follow_the_list_they_continue() -> None:
    romans = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"]
    body = "".join(f"({r}) r{r};\n" for r in romans)
    outline = parse_outline(f"# T\n\n1. Decides:\n(a) first:\n{body}(b) second.\n")
    (operative,) = outline.provisions
    first, second = operative.children
    assert [child.text for child in first.children] == [f"r{r};" for r in romans]
    assert second.text == "second."


def test_roman_directly_under_an_operative_paragraph() -> None:
    outline = parse_outline("# T\n\n1. Decides:\n(i) one;\n(ii) two.\n")
    assert shape(outline.provisions) == [
        ("operative", "Decides:", [("subparagraph", "one;", []), ("subparagraph", "two.", [])])
    ]


def test_numbered_paragraph_before_the_general_assembly_line_is_operative() -> None:
    outline = parse_outline("# Decision\n\n1. Decides to convene a meeting.\n")
    assert outline.scheme == "resolution"
    assert shape(outline.provisions) == [("operative", "Decides to convene a meeting.", [])]


def test_lettered_line_without_an_operative_paragraph_stays_text() -> None:
    outline = parse_outline("# T\n\na) not a sub-paragraph\n")
    assert outline.scheme == "plain"
    assert shape(outline.provisions) == [("paragraph", "a) not a sub-paragraph", [])]


def test_unnumbered_paragraph_after_operative_ones_is_a_paragraph() -> None:
    outline = parse_outline(
        "# T\n\nThe General Assembly,\n\nNoting,\n\n1. Decides.\n\nAnnex text\n"
    )
    assert [p.kind for p in outline.provisions] == ["preambular", "operative", "paragraph"]


def test_bullets_under_an_operative_paragraph_and_its_subparagraph() -> None:
    outline = parse_outline("# T\n\n1. Decides:\n- one\n(a) sub:\n- two\n")
    assert shape(outline.provisions) == [
        (
            "operative",
            "Decides:",
            [("list_item", "one", []), ("subparagraph", "sub:", [("list_item", "two", [])])],
        )
    ]


# -- text ---------------------------------------------------------------------------------


def test_wrapped_lines_are_joined_with_one_space() -> None:
    outline = parse_outline(
        "# A title\n\nA paragraph wrapped\n   over three   \nlines.\n\n"
        "- a bullet wrapped\n  over two lines\n\n1. An operative\n   paragraph;\n"
    )
    assert [p.text for p in outline.provisions] == [
        "A paragraph wrapped over three lines.",
        "An operative paragraph;",
    ]
    assert outline.provisions[0].children == (P("list_item", "a bullet wrapped over two lines"),)


def test_emphasis_is_stripped() -> None:
    outline = parse_outline(
        "# _Draft_ resolution\n> *Elements*\n\n"
        "_Recalling_ **also** __its__ ***resolution*** 71/1 and the A_RES_71_1 file, 2 * 3 * 4,\n\n"
        "*Noting* that a starred opening word is not a bullet,\n"
    )
    assert outline.title == "Draft resolution"
    assert outline.subtitle == "Elements"
    assert outline.provisions[0].text == (
        "Recalling also its resolution 71/1 and the A_RES_71_1 file, 2 * 3 * 4,"
    )
    assert outline.provisions[1] == P(
        "paragraph", "Noting that a starred opening word is not a bullet,"
    )


def test_unicode_and_arabic_text() -> None:
    outline = parse_outline(
        "# الاتفاق العالمي من أجل الهجرة الآمنة\n> عناصر مشروع قرار\n\n"
        "إن الجمعية العامة،\n\n- تحدد مجموعة من المبادئ؛\n"
        "- Réaffirme le droit souverain des États ;\n"
    )
    assert outline.title == "الاتفاق العالمي من أجل الهجرة الآمنة"
    assert outline.subtitle == "عناصر مشروع قرار"
    assert shape(outline.provisions) == [
        (
            "paragraph",
            "إن الجمعية العامة،",
            [
                ("list_item", "تحدد مجموعة من المبادئ؛", []),
                ("list_item", "Réaffirme le droit souverain des États ;", []),
            ],
        )
    ]


def test_title_only_and_blank_lines_around() -> None:
    outline = parse_outline("\n\n# Only a title  \n\n\n")
    assert outline == Outline(title="Only a title", subtitle=None, scheme="plain", provisions=())


def test_windows_line_endings_and_tabs() -> None:
    outline = parse_outline("# T\r\n\r\nLead:\r\n- one\r\n\t- nested\r\n")
    assert shape(outline.provisions) == [
        ("paragraph", "Lead:", [("list_item", "one", [("list_item", "nested", [])])])
    ]


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty"),
        ("  \n\n \n", 1, "empty"),
        ("Just a paragraph\n", 1, "title"),
        ("\n\n## A heading first\n", 3, "title"),
        ("#\n", 1, "title"),
        ("# T\n\nLead-in:\n  - indented without a parent\n", 4, "indented"),
        ("# T\n\n- ok\n\n## H\n\n   - indented after a heading\n", 7, "indented"),
        ("# T\n\n# Another title\n", 3, "one title"),
        ("# T\n\n## \n", 3, "heading has no text"),
        ("# T\n\ntext\n\n> a stray subtitle\n", 5, "subtitle"),
        ("# T\n\nLead-in:\n-\n", 4, "bullet has no text"),
        ("# T\n\n1.\n", 3, "no text"),
    ],
)
def test_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(OutlineError) as caught:
        parse_outline(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"Line {line}: ")
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


# -- the demo elements paper ----------------------------------------------------------------


def test_demo_elements_paper() -> None:
    outline = parse_outline(ELEMENTS_PAPER.read_text(encoding="utf-8"))
    assert outline.title == (
        "Modalities for the intergovernmental negotiations of the Global Compact "
        "for safe, orderly and regular migration"
    )
    assert outline.subtitle == "Elements of a Draft Resolution"
    assert outline.scheme == "plain"

    opening, mandate, scope, preparatory, conference, fund = outline.provisions
    assert opening.text.startswith("With the adoption of the New York Declaration")
    assert mandate.text.startswith("Based on Annex II")
    assert [p.kind for p in (opening, mandate)] == ["paragraph", "paragraph"]

    assert (scope.kind, scope.text) == ("heading", "Scope of the Global Compact")
    would, contains = scope.children
    assert would.text.endswith("the Global Compact would")
    assert [item.text.split()[0] for item in would.children] == [
        "set",
        "make",
        "present",
        "deal",
        "be",
    ]
    assert {item.kind for item in would.children} == {"list_item"}
    assert contains.text.endswith("It could contain the following main elements:")
    assert [item.text for item in contains.children] == [
        "a political declaration",
        "actionable commitments grounded in practical application",
        "means of implementation",
        "framework of follow-up and review of implementation",
    ]

    assert preparatory.text == "Preparatory process"
    timeline, organization, support, participation = preparatory.children
    assert timeline.text == "a) Timeline"
    assert [p.text.split(":")[0] for p in timeline.children] == [
        "Phase I",
        "Phase II",
        "Phase III (1st semester 2018)",
        "Phase IV (2nd semester 2018)",
    ]
    assert organization.text == "b) Organization of the process"
    lead_in, leadership, process, practicalities = organization.children
    assert lead_in.kind == "paragraph"
    assert lead_in.text.endswith("The following elements could be considered:")
    assert [h.text for h in (leadership, process, practicalities)] == [
        "i) Leadership structure",
        "ii) Preparatory process",
        "iii) Other practicalities",
    ]
    assert [item.text for item in leadership.children] == [
        "PGA-appointed co-facilitators to work closely with all Member States, or",
        "Establishment of a Preparatory Committee (PrepCom) with a bureau consisting of two "
        "co-chairs and (x) member states representing all regions nominated by their "
        "respective regional groups.",
    ]
    assert len(process.children) == 2
    assert [item.text for item in practicalities.children] == [
        "Number, frequency and locations of formal and informal meetings of the negotiating body"
    ]
    assert (support.text, participation.text) == ("c) Support structure", "d) Participation")
    assert support.children[0].text.startswith("According to paragraph 12 of Annex II")
    assert participation.children[0].text.startswith("Acknowledging the complexity of migration")

    assert conference.text == "Possible parameters for the intergovernmental conference in 2018"
    assert [item.kind for item in conference.children] == ["list_item", "list_item"]
    assert "in the second half of 2018 for the duration of 1-4 days" in (
        conference.children[0].text
    )
    assert fund.text == "Voluntary Trust Fund"
    assert fund.children[0].text.startswith("A Voluntary Trust Fund could be established")

    texts = list(_all_texts(outline.provisions))
    assert not any(mark in text for text in texts for mark in ("\uf0b7", "·", "  "))


def _all_texts(provisions: tuple[OutlineProvision, ...]) -> list[str]:
    out: list[str] = []
    for p in provisions:
        out.append(p.text)
        out.extend(_all_texts(p.children))
    return out


# -- round trip: render a tree as an outline, read it back -----------------------------------

_WORD = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéçأبتثجحمن"),
    min_size=1,
    max_size=8,
)
_TEXT = st.lists(
    st.tuples(_WORD, st.sampled_from(["", ",", ";", ":", "."])).map("".join),
    min_size=1,
    max_size=6,
).map(" ".join)


def _items(depth: int) -> st.SearchStrategy[OutlineProvision]:
    children = st.just(()) if depth == 0 else st.lists(_items(depth - 1), max_size=3).map(tuple)
    return st.builds(OutlineProvision, st.just("list_item"), _TEXT, children)


_ITEMS = st.lists(_items(2), max_size=3).map(tuple)
_PARAGRAPH = st.builds(OutlineProvision, st.just("paragraph"), _TEXT, _ITEMS)


def _section(depth: int) -> st.SearchStrategy[tuple[OutlineProvision, ...]]:
    """What may follow a heading: a list, paragraphs (with their lists), then sub-headings."""
    headings: st.SearchStrategy[tuple[OutlineProvision, ...]] = st.just(())
    if depth > 0:
        heading = st.builds(OutlineProvision, st.just("heading"), _TEXT, _section(depth - 1))
        headings = st.lists(heading, max_size=3).map(tuple)
    return st.tuples(_ITEMS, st.lists(_PARAGRAPH, max_size=3).map(tuple), headings).map(
        lambda parts: parts[0] + parts[1] + parts[2]
    )


_PLAIN = st.builds(Outline, _TEXT, st.none() | _TEXT, st.just("plain"), _section(3))


def _subparagraphs(depth: int) -> st.SearchStrategy[tuple[OutlineProvision, ...]]:
    children = st.just(()) if depth == 0 else _subparagraphs(depth - 1)
    size = 12 if depth else 6  # past (h) and (iv): the i/v ambiguity gets exercised
    return st.lists(
        st.builds(OutlineProvision, st.just("subparagraph"), _TEXT, children), max_size=size
    ).map(tuple)


_RESOLUTION = st.builds(
    Outline,
    _TEXT,
    st.none() | _TEXT,
    st.just("resolution"),
    st.tuples(
        st.lists(st.builds(OutlineProvision, st.just("preambular"), _TEXT, _ITEMS), max_size=4),
        st.lists(
            st.builds(OutlineProvision, st.just("operative"), _TEXT, _subparagraphs(1)),
            min_size=1,
            max_size=4,
        ),
    ).map(lambda parts: tuple(parts[0]) + tuple(parts[1])),
)


def _roman(n: int) -> str:
    return ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"][n]


def render(outline: Outline) -> str:
    """The outline as a person would type it, the way the module docstring describes."""
    lines = [f"# {outline.title}"]
    if outline.subtitle is not None:
        lines.append(f"> {outline.subtitle}")
    lines.append("")
    if outline.scheme == "resolution":
        lines += ["The General Assembly,", ""]
    number = 0
    for provision in outline.provisions:
        number += provision.kind == "operative"
        _render(provision, lines, level=2, number=number)
    return "\n".join(lines) + "\n"


def _render(p: OutlineProvision, lines: list[str], *, level: int, number: int = 0) -> None:
    if p.kind == "heading":
        lines += [f"{'#' * level} {p.text}", ""]
        for child in p.children:
            _render(child, lines, level=level + 1)
        return
    if p.kind == "list_item":
        _render_items((p,), lines, indent=0)
        lines.append("")
        return
    lines.append(f"{number}. {p.text}" if p.kind == "operative" else p.text)
    for index, child in enumerate(p.children):
        if child.kind == "subparagraph":
            lines.append(f"   ({chr(ord('a') + index)}) {child.text}")
            for sub_index, sub in enumerate(child.children):
                lines.append(f"       ({_roman(sub_index)}) {sub.text}")
    _render_items(tuple(c for c in p.children if c.kind == "list_item"), lines, indent=0)
    lines.append("")


def _render_items(items: tuple[OutlineProvision, ...], lines: list[str], *, indent: int) -> None:
    for item in items:
        lines.append(f"{' ' * indent}- {item.text}")
        _render_items(item.children, lines, indent=indent + 2)


@settings(max_examples=60, deadline=None)
@given(_PLAIN | _RESOLUTION)
def test_rendered_outline_reads_back_the_same(outline: Outline) -> None:
    assert parse_outline(render(outline)) == outline
