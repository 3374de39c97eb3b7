"""Drafts typed in Word become outlines (app.docx.importing), the same as typed as text."""

from __future__ import annotations

import pytest

from app.docx.clean import clean_text
from app.docx.importing import import_draft
from app.domain.errors import Invalid
from app.domain.outline import Outline, OutlineProvision, parse_outline
from tests.docx_fixtures.circulated import SMALL_RESOLUTION, circulated
from tests.docx_fixtures.word import (
    BULLETS,
    ELEMENTS_PAPER,
    RESOLUTION_LIST,
    WordFile,
    dele,
    elements_paper_docx,
    fld_simple,
    hyperlink,
    ins,
    run,
    sdt,
    smart_tag,
)


def shape(provisions: tuple[OutlineProvision, ...]) -> list[object]:
    """(kind, text, children) nested lists: short to compare, readable when a test fails."""
    return [(p.kind, p.text, shape(p.children)) for p in provisions]


def assert_same(actual: Outline, expected: Outline) -> None:
    assert (actual.title, actual.subtitle, actual.scheme) == (
        expected.title,
        expected.subtitle,
        expected.scheme,
    )
    assert shape(actual.provisions) == shape(expected.provisions)
    assert actual == expected


# -- the seed's elements paper ---------------------------------------------------------------


def test_elements_paper_typed_in_word_reads_as_its_outline() -> None:
    report = import_draft(elements_paper_docx())

    assert_same(report.outline, parse_outline(ELEMENTS_PAPER.read_text(encoding="utf-8")))
    assert report.warnings == ()
    assert report.recognised[:3] == (
        "title: Modalities for the intergovernmental negotiations of the Global Compact…",
        "subtitle: Elements of a Draft Resolution",
        "paragraph: With the adoption of the New York Declaration for Refugees and Migrants…",
    )
    assert "heading: Scope of the Global Compact" in report.recognised
    assert "  heading: a) Timeline" in report.recognised
    assert "    list item: a political declaration" in report.recognised


def test_nested_word_bullets_nest_and_a_level_too_deep_is_brought_up() -> None:
    word = WordFile()
    word.title("Elements")
    word.paragraph("The compact could contain:")
    word.list_item("a declaration", BULLETS, 0)
    word.list_item("with principles", BULLETS, 1)
    word.list_item("commitments", BULLETS, 0)
    word.paragraph("Other elements:")
    word.list_item("skipped a level", BULLETS, 2)

    outline = import_draft(word.bytes()).outline

    assert shape(outline.provisions) == [
        (
            "paragraph",
            "The compact could contain:",
            [
                ("list_item", "a declaration", [("list_item", "with principles", [])]),
                ("list_item", "commitments", []),
            ],
        ),
        ("paragraph", "Other elements:", [("list_item", "skipped a level", [])]),
    ]
    assert outline.scheme == "plain"


# -- resolutions --------------------------------------------------------------------------------

PPS = (
    ("Recalling", " its resolution 71/1 of 19 September 2016,"),
    ("Reaffirming", " the purposes and principles of the Charter of the United Nations,"),
)
OP1 = "Decides that the intergovernmental conference shall:"
OP1_SUBS = ("be held in 2018;", "consist of:", "adopt the global compact;")
OP1_B_ROMANS = ("plenary meetings;", "interactive multi-stakeholder panels;")
OP2 = "Invites the following to contribute:"
OP2_SUBS = tuple(f"contributor number {n};" for n in range(1, 11))  # (a)…(j): (i) is a letter
OP3 = "Decides to remain seized of the matter."

RESOLUTION_TEXT = (
    "# Modalities for the intergovernmental conference\n\nThe General Assembly,\n\n"
    + "".join(f"_{a}_{b}\n\n" for a, b in PPS)
    + f"1. {OP1}\n   (a) {OP1_SUBS[0]}\n   (b) {OP1_SUBS[1]}\n"
    + f"       (i) {OP1_B_ROMANS[0]}\n       (ii) {OP1_B_ROMANS[1]}\n   (c) {OP1_SUBS[2]}\n"
    + f"2. {OP2}\n"
    + "".join(f"   ({chr(97 + n)}) {text}\n" for n, text in enumerate(OP2_SUBS))
    + f"3. {OP3}\n"
)


def _resolution_preface(word: WordFile) -> None:
    word.paragraph("A/72/L.5")
    word.paragraph("Seventy-second session")
    word.paragraph(run("Modalities for the intergovernmental conference", bold=True), centred=True)
    word.paragraph(run("The General Assembly,", italic=True))
    for opening, rest in PPS:
        word.paragraph(run(opening, italic=True), rest)


def test_resolution_with_word_numbering() -> None:
    word = WordFile()
    _resolution_preface(word)
    numbers = word.list(RESOLUTION_LIST)

    def item(text: str, ilvl: int) -> None:
        word.paragraph(text, style="List Paragraph", numbering=(numbers, ilvl))

    item(OP1, 0)
    item(OP1_SUBS[0], 1)
    item(OP1_SUBS[1], 1)
    item(OP1_B_ROMANS[0], 2)
    item(OP1_B_ROMANS[1], 2)
    item(OP1_SUBS[2], 1)
    item(OP2, 0)
    for text in OP2_SUBS:
        item(text, 1)
    item(OP3, 0)

    report = import_draft(word.bytes())

    assert_same(report.outline, parse_outline(RESOLUTION_TEXT))
    assert report.warnings == ('Left out before the title: "A/72/L.5"; "Seventy-second session".',)
    assert report.recognised[:8] == (
        "title: Modalities for the intergovernmental conference",
        "PP1 preambular: Recalling its resolution 71/1 of 19 September 2016,",
        "PP2 preambular: Reaffirming the purposes and principles of the Charter of the United Na…",
        "OP1 operative: Decides that the intergovernmental conference shall:",
        "  (a) subparagraph: be held in 2018;",
        "  (b) subparagraph: consist of:",
        "    (i) subparagraph: plenary meetings;",
        "    (ii) subparagraph: interactive multi-stakeholder panels;",
    )
    assert "  (i) subparagraph: contributor number 9;" in report.recognised


def test_resolution_with_typed_numbers() -> None:
    word = WordFile()
    _resolution_preface(word)
    word.paragraph(f"1.\t{OP1}")
    word.paragraph(f"(a)\t{OP1_SUBS[0]}", indent=1134)
    word.paragraph(f"(b)\t{OP1_SUBS[1]}", indent=1134)
    word.paragraph(f"(i)\t{OP1_B_ROMANS[0]}", indent=1701)
    word.paragraph(f"(ii)\t{OP1_B_ROMANS[1]}", indent=1701)
    word.paragraph(f"(c)\t{OP1_SUBS[2]}", indent=1134)
    word.paragraph(f"2.\t{OP2}")
    for n, text in enumerate(OP2_SUBS):
        word.paragraph(f"({chr(97 + n)})\t{text}", indent=1134)
    word.paragraph(f"3.\t{OP3}")

    assert_same(import_draft(word.bytes()).outline, parse_outline(RESOLUTION_TEXT))


def test_preamble_without_the_general_assembly_line_is_still_a_preamble() -> None:
    word = WordFile()
    word.title("Draft resolution")
    word.paragraph(run("Recalling", italic=True), " its resolution 71/1,")
    word.paragraph("1.\tDecides to convene a conference;")

    report = import_draft(word.bytes())

    assert shape(report.outline.provisions) == [
        ("preambular", "Recalling its resolution 71/1,", []),
        ("operative", "Decides to convene a conference;", []),
    ]
    assert report.warnings == (
        'No "The General Assembly," line was found: the paragraphs from "Recalling its '
        'resolution 71/1," on were read as the preamble of a resolution.',
    )


def test_another_bodys_enacting_formula_opens_the_preamble() -> None:
    word = WordFile()
    word.title("Draft resolution")
    word.paragraph("The Human Rights Council,")
    word.paragraph("Guided by the Charter,")
    word.list_item("Decides to hold a panel;", RESOLUTION_LIST)

    report = import_draft(word.bytes())

    assert shape(report.outline.provisions) == [
        ("preambular", "Guided by the Charter,", []),
        ("operative", "Decides to hold a panel;", []),
    ]
    assert report.warnings == (
        '"The Human Rights Council," was read as the line that opens the preamble, like "The '
        'General Assembly,"; it is not stored as a paragraph.',
    )


def test_a_decimal_list_in_an_elements_paper_is_a_list_unless_it_reads_as_operative() -> None:
    word = WordFile()
    word.title("Elements")
    word.paragraph("The conference would consider:")
    word.list_item("the political declaration", RESOLUTION_LIST)
    word.list_item("the commitments", RESOLUTION_LIST)

    outline = import_draft(word.bytes()).outline

    assert outline.scheme == "plain"
    assert shape(outline.provisions) == [
        (
            "paragraph",
            "The conference would consider:",
            [("list_item", "the political declaration", []), ("list_item", "the commitments", [])],
        )
    ]


# -- headings ---------------------------------------------------------------------------------


def test_short_bold_lines_are_headings_under_the_styled_ones() -> None:
    word = WordFile()
    word.paragraph(run("Draft elements", bold=True), centred=True)
    word.paragraph("Subtitle line, centred", centred=True)
    word.heading("Scope", 1)
    word.paragraph(run("Principles", bold=True))
    word.paragraph("A paragraph under the bold heading.")
    word.paragraph(run("Not a heading, because it ends with a colon:", bold=True))

    outline = import_draft(word.bytes()).outline

    assert (outline.title, outline.subtitle) == ("Draft elements", "Subtitle line, centred")
    under_bold_heading = [
        ("paragraph", "A paragraph under the bold heading.", []),
        ("paragraph", "Not a heading, because it ends with a colon:", []),
    ]
    assert shape(outline.provisions) == [
        ("heading", "Scope", [("heading", "Principles", under_bold_heading)])
    ]


def test_numbered_headings_keep_the_number_word_prints() -> None:
    word = WordFile()
    word.title("Elements")
    headings = word.list([("lowerLetter", "%1)")])
    word.paragraph("Timeline", style="Heading 1", numbering=(headings, 0))
    word.paragraph("Phase I.")
    word.paragraph("Organization", style="Heading 1", numbering=(headings, 0))
    word.paragraph("Phase II.")

    outline = import_draft(word.bytes()).outline

    assert shape(outline.provisions) == [
        ("heading", "a) Timeline", [("paragraph", "Phase I.", [])]),
        ("heading", "b) Organization", [("paragraph", "Phase II.", [])]),
    ]


def test_title_in_heading_1_with_sections_in_heading_2() -> None:
    word = WordFile()
    word.heading("The title", 1)
    word.heading("Section", 2)
    word.heading("Subsection", 3)
    word.paragraph("Text.")

    outline = import_draft(word.bytes()).outline

    assert outline.title == "The title"
    assert shape(outline.provisions) == [
        ("heading", "Section", [("heading", "Subsection", [("paragraph", "Text.", [])])])
    ]


def test_first_paragraph_is_the_title_when_nothing_looks_like_one() -> None:
    word = WordFile()
    word.paragraph("Just a line")
    word.paragraph("# not a heading, > nor a subtitle")
    word.paragraph("> quoted")

    report = import_draft(word.bytes())

    assert report.outline.title == "Just a line"
    assert shape(report.outline.provisions) == [
        ("paragraph", "# not a heading, > nor a subtitle", []),
        ("paragraph", "> quoted", []),
    ]
    assert report.warnings == (
        "No title was recognised (a paragraph in the Title style, or bold and centred): the "
        'first paragraph, "Just a line", was taken as the title.',
    )


# -- text Word hides from naive readers -------------------------------------------------------


def test_runs_inside_hyperlinks_content_controls_smart_tags_and_fields_are_read() -> None:
    word = WordFile()
    word.title("Draft")
    word.paragraph(
        "See ",
        hyperlink("resolution ", smart_tag("71/1")),
        sdt(", entitled "),
        fld_simple("New York Declaration"),
        ".",
    )

    outline = import_draft(word.bytes()).outline

    assert shape(outline.provisions) == [
        ("paragraph", "See resolution 71/1, entitled New York Declaration.", [])
    ]


def test_tracked_changes_are_imported_as_accepted_with_a_warning() -> None:
    word = WordFile()
    word.title("Draft")
    word.paragraph("The conference ", dele("might"), ins("shall"), " be held in 2018.")
    word.paragraph(ins("A paragraph that was inserted."), mark="ins")
    word.paragraph(dele("A paragraph that was deleted."), mark="del")
    word.paragraph("Last ", ins(dele("never seen "), "paragraph."))

    report = import_draft(word.bytes())

    assert shape(report.outline.provisions) == [
        ("paragraph", "The conference shall be held in 2018.", []),
        ("paragraph", "A paragraph that was inserted.", []),
        ("paragraph", "Last paragraph.", []),
    ]
    assert report.warnings == (
        "This draft contains tracked changes: it was imported as if all of them were accepted. "
        "Check the text before circulating it.",
    )


def test_tables_are_left_out_with_a_warning() -> None:
    word = WordFile()
    word.title("Draft")
    word.paragraph("Before the table.")
    word.document.add_table(rows=1, cols=2).cell(0, 0).text = "in a cell"
    word.paragraph("After the table.")

    report = import_draft(word.bytes())

    assert shape(report.outline.provisions) == [
        ("paragraph", "Before the table.", []),
        ("paragraph", "After the table.", []),
    ]
    assert report.warnings == (
        "1 table was left out: Rolltext reads the paragraphs of the body only.",
    )


def test_a_title_alone_is_refused() -> None:
    word = WordFile()
    word.title("Only a title")

    with pytest.raises(Invalid) as refused:
        import_draft(word.bytes())

    assert (
        refused.value.message
        == 'This draft has a title ("Only a title") but no paragraphs after it.'
    )


# -- round trip with the exporter -------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [SMALL_RESOLUTION, ELEMENTS_PAPER.read_text(encoding="utf-8")],
    ids=["resolution", "elements-paper"],
)
def test_a_clean_text_exported_by_rolltext_imports_back_to_the_same_provisions(source: str) -> None:
    expected = parse_outline(source)

    report = import_draft(clean_text(circulated(expected)))

    assert_same(report.outline, expected)
    assert report.warnings == ()
