"""Word exports, parsed back: the words, the marks a delegate reads (italic opening words,
bold-underlined additions, struck deletions, bold attributions), the tracked revisions with
their authors and dates, and the validity of every file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from io import BytesIO
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph
from openxml_audit import OpenXmlValidator

from app.docx import (
    accept_all,
    amendment_list,
    clean_text,
    comparison,
    compilation,
    custom_properties,
    reject_all,
    tracked_changes,
)
from app.docx.layout import opening_words, printed_number
from app.docx.model import Circulated
from tests.unit.test_docx_samples import (
    NEW_OP1_TER,
    NS,
    OP1,
    OP1_A2,
    OP1_A9,
    OP3,
    OP4,
    PP1,
    PP1_A1,
    PP2,
    PP3,
    WHEN_ISO,
    W,
    applied,
    elements_paper,
    overlapping,
    para,
    part,
    part_names,
    proposal,
    proposals,
    resolution,
    rev2,
    revision_text,
    revisions,
)
from tests.unit.test_docx_samples import all_text as every_text


@cache
def export(kind: str) -> bytes:
    """Each export built once for the whole module."""
    builders: dict[str, Callable[[], bytes]] = {
        "clean": lambda: clean_text(resolution()),
        "clean-elements": lambda: clean_text(elements_paper()),
        "clean-applied": lambda: clean_text(applied()),
        "clean-rev2": lambda: clean_text(rev2()),
        "compilation": lambda: compilation(resolution(), proposals(), attributed=True),
        "compilation-unattributed": lambda: compilation(
            resolution(), overlapping(), attributed=False
        ),
        "compilation-overlapping": lambda: compilation(
            resolution(), overlapping(), attributed=True
        ),
        "compilation-elements": lambda: compilation(
            elements_paper(), elements_proposals(), attributed=True
        ),
        "tracked": lambda: tracked_changes(resolution(), proposals()),
        "tracked-overlapping": lambda: tracked_changes(resolution(), overlapping()),
        "tracked-elements": lambda: tracked_changes(elements_paper(), elements_proposals()),
        "comparison": lambda: comparison(resolution(), rev2()),
        "amendment-list": lambda: amendment_list(resolution(), overlapping()),
    }
    return builders[kind]()


def elements_proposals() -> list:
    paper = {p.provision_id: p.text for p in elements_paper().paragraphs}
    return [
        proposal(
            "E-1",
            26,
            "wording",
            ("AOSIS",),
            base=paper[26],
            text=paper[26].replace("global", "global and regional"),
        ),
        proposal(
            "E-2",
            24,
            "insert_after",
            ("African Group",),
            text="address the drivers of migration;",
            new_label="2.1.1 bis",
            new_kind="list_item",
        ),
    ]


def open_docx(data: bytes) -> DocxDocument:
    return docx.Document(BytesIO(data))


def body_paragraphs(data: bytes) -> list[DocxParagraph]:
    return list(open_docx(data).paragraphs)


def find(data: bytes, words: str) -> DocxParagraph:
    """The body paragraph containing `words` (python-docx text: no tracked insertions)."""
    hits = [p for p in body_paragraphs(data) if words in p.text]
    assert len(hits) == 1, f"{len(hits)} paragraphs contain {words!r}"
    return hits[0]


def runs(paragraph: DocxParagraph) -> list[tuple[str, bool, bool, bool, bool]]:
    """(text, italic, bold, underline, strike) of each run with text."""
    return [
        (r.text, bool(r.italic), bool(r.bold), bool(r.underline), bool(r.font.strike))
        for r in paragraph.runs
        if r.text
    ]


def expected_lines(doc: Circulated) -> list[str]:
    """What the clean text reads, line by line."""
    return accept_all(clean_text(doc))


# --------------------------------------------------------------------------------------------
# Opening words and numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Recalling its resolution 71/1,", "Recalling"),
        ("Bearing in mind that the compact", "Bearing in mind"),
        ("Taking note with appreciation of the report", "Taking note with appreciation"),
        ("Taking into account the views", "Taking into account"),
        ("Also requests the Secretary-General", "Also requests"),
        ("Recalling further its resolution", "Recalling further"),
        ("Calls upon Member States", "Calls upon"),
        ("Decides to convene", "Decides"),
        ("Deeply concerned about", "Deeply concerned"),
        ("Noting with deep concern that", "Noting with deep concern"),
        ("Expressing its appreciation to", "Expressing its appreciation"),
        ("Guided by the purposes of the Charter", "Guided by"),
        ("Having considered the report", "Having considered"),
        ("Reaffirming its commitment to", "Reaffirming its commitment"),
        ("[Reaffirming] the importance", "Reaffirming"),
        ("يقرر أن يعقد مؤتمرا", "يقرر"),
        ("Réaffirmant sa résolution", "Réaffirmant"),
    ],
)
def test_opening_words(text: str, words: str) -> None:
    start, end = opening_words(text)
    assert text[start:end] == words


def test_opening_words_of_nothing() -> None:
    assert opening_words("") == (0, 0)
    assert opening_words("[…]") == (0, 0)


@pytest.mark.parametrize(
    ("scheme", "kind", "label", "number"),
    [
        ("resolution", "operative", "OP5", "5."),
        ("resolution", "operative", "OP5 bis", "5 bis."),
        ("resolution", "operative", "OP6 alt", "6 alt."),
        ("resolution", "subparagraph", "OP3 (a)", "(a)"),
        ("resolution", "subparagraph", "OP3 (a) (ii)", "(ii)"),
        ("resolution", "subparagraph", "OP3 (a bis)", "(a bis)"),
        ("resolution", "paragraph", "para 2", "2."),
        ("resolution", "preambular", "PP3", ""),
        ("resolution", "heading", "", ""),
        ("plain", "paragraph", "3.2", ""),
        ("plain", "list_item", "3.2.1", ""),
    ],
)
def test_printed_number(scheme: str, kind: str, label: str, number: str) -> None:
    assert printed_number(scheme, kind, label) == number


# --------------------------------------------------------------------------------------------
# Clean text
# --------------------------------------------------------------------------------------------


def test_clean_resolution_reads_as_circulated() -> None:
    doc = resolution()
    assert accept_all(export("clean")) == [
        doc.title,
        doc.subtitle,
        "The General Assembly,",
        PP1,
        PP2,
        PP3,
        f"\t1.\t{OP1}",
        "\t1 bis.\tAlso decides that the preparatory process will be organized in three phases:",
        "(a)\tPhase I: consultations, réunions thématiques and regional consultations;",
        "(b)\tPhase II: a stocktaking meeting in Geneva;",
        f"\t3.\t{OP3}",
        f"\t4.\t{OP4}",
    ]
    # No revisions: both views are the same text.
    assert reject_all(export("clean")) == accept_all(export("clean"))
    assert revisions(export("clean")) == []


def test_clean_resolution_formatting() -> None:
    data = export("clean")
    document = open_docx(data)
    paragraphs = document.paragraphs
    assert paragraphs[0].style.name == "Title"
    assert paragraphs[0].style.font.bold
    formula = find(data, "The General Assembly,")
    assert runs(formula) == [("The General Assembly,", True, False, False, False)]
    assert runs(find(data, "Taking note"))[0] == (
        "Taking note with appreciation",
        True,
        False,
        False,
        False,
    )
    assert runs(find(data, "Taking note"))[1][1] is False  # the rest is upright
    assert [r[:2] for r in runs(find(data, "Bearing in mind"))[:2]] == [
        ("Bearing in mind", True),
        (PP2.removeprefix("Bearing in mind"), False),
    ]
    op1 = runs(find(data, "convened under the auspices"))
    assert op1[0][:2] == ("\t1.\t", False)  # the number, between tabs
    assert op1[1][:2] == ("Decides", True)
    sub = find(data, "Phase I:")
    assert sub.style.name == "UN Subparagraph 1"
    assert not any(r[1] for r in runs(sub))  # sub-paragraphs have no italic opening
    assert find(data, "three phases").style.name == "UN Operative"
    assert find(data, "Recalling").style.name == "UN Preambular"
    # Brackets are words like any other.
    assert "[2018]" in find(data, "auspices").text
    # A deleted paragraph is not printed.
    assert not any("Requests the Secretary-General" in p.text for p in paragraphs)


def test_clean_text_is_times_new_roman_12() -> None:
    data = export("clean")
    styles = part(data, "word/styles.xml")
    fonts = styles.find(f"{{{W}}}docDefaults/{{{W}}}rPrDefault/{{{W}}}rPr/{{{W}}}rFonts")
    assert fonts is not None
    for slot in ("ascii", "hAnsi", "cs", "eastAsia"):
        assert fonts.get(f"{{{W}}}{slot}") == "Times New Roman"
    size = styles.find(f"{{{W}}}docDefaults/{{{W}}}rPrDefault/{{{W}}}rPr/{{{W}}}sz")
    assert size is not None and size.get(f"{{{W}}}val") == "24"
    normal = open_docx(data).styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size.pt == 12
    # No theme fonts left anywhere in the styles.
    assert not styles.xpath("//w:rFonts[@w:asciiTheme]", namespaces=NS)


def test_clean_header_footer_and_properties() -> None:
    data = export("clean")
    section = open_docx(data).sections[0]
    header = "\n".join(p.text for p in section.header.paragraphs)
    assert "A/71/L.58" in header and "Rev.1" in header
    assert resolution().title in header
    footer = section.footer.paragraphs[0]
    assert "Issued 26 January 2017" in footer.text
    instructions = footer._p.xpath(".//w:instrText/text()")
    assert [i.strip() for i in instructions] == ["PAGE"]
    assert footer._p.xpath(".//w:fldChar/@w:fldCharType") == ["begin", "separate", "end"]
    assert custom_properties(data) == {
        "rolltext.document_id": "7",
        "rolltext.revision_seq": "2",
        "rolltext.symbol": "A/71/L.58",
    }
    assert "docProps/custom.xml" in part_names(data)
    core = open_docx(data).core_properties
    assert core.title == resolution().title
    assert core.created.date().isoformat() == "2017-01-26"
    content_types = part(data, "[Content_Types].xml")
    assert any(
        o.get("PartName") == "/docProps/custom.xml"
        and o.get("ContentType").endswith("custom-properties+xml")
        for o in content_types
    )
    # Not a tracked document: the clean text does not switch Track Changes on.
    assert not part(data, "word/settings.xml").xpath("//w:trackRevisions", namespaces=NS)
    # python-docx's template leftovers are gone.
    assert not any("thumbnail" in n or "stylesWithEffects" in n for n in part_names(data))


def test_clean_elements_paper() -> None:
    data = export("clean-elements")
    paper = elements_paper()
    assert accept_all(data) == [paper.title, paper.subtitle] + [p.text for p in paper.paragraphs]
    assert "The General Assembly," not in accept_all(data)
    heading = find(data, "Scope of the Global Compact")
    assert heading.style.name == "Heading 1"
    assert all(r[2] for r in runs(heading))  # bold
    assert find(data, "a) Timeline").style.name == "Heading 2"
    assert find(data, "set out a range").style.name == "List Bullet"
    assert find(data, "including on migrants").style.name == "List Bullet 2"
    assert find(data, "make an important").style.name == "List Bullet"
    assert find(data, "According to paragraph 2").style.name == "UN Body"
    # Bullets are real list numbering (from the style), not typed characters.
    style = open_docx(data).styles["List Bullet"]
    assert style.element.xpath("./w:pPr/w:numPr/w:numId")
    # Elements papers number nothing and italicise nothing.
    assert not any(r[1] for p in body_paragraphs(data)[2:] for r in runs(p))


# --------------------------------------------------------------------------------------------
# Compilation
# --------------------------------------------------------------------------------------------


def table_rows(data: bytes) -> list[tuple[str, str, DocxParagraph]]:
    """(margin text, words text, words paragraph) of each row of the compilation table."""
    table: Table = open_docx(data).tables[0]
    out = []
    for row in table.rows:
        left, right = row.cells
        out.append((left.text, right.text, right.paragraphs[0]))
    return out


def row(data: bytes, words: str) -> tuple[str, str, DocxParagraph]:
    hits = [r for r in table_rows(data) if words in r[1]]
    assert len(hits) == 1, f"{len(hits)} rows contain {words!r}"
    return hits[0]


def test_compilation_marks_one_proposal_inline() -> None:
    data = export("compilation")
    margin, text, paragraph = row(data, "and its annexes")
    assert margin == "PP1"
    assert text == PP1.replace("2016,", "2016 and its annexes (Holy See; supported by Mexico),")
    marks = runs(paragraph)
    assert ("and its annexes", False, True, True, False) in marks  # bold + underlined
    assert ("(Holy See; supported by Mexico)", False, True, False, False) in marks
    assert marks[0] == ("Recalling", True, False, False, False)

    _, text, paragraph = row(data, "auspices")
    assert text == OP1.replace(
        "[2018]",
        "[2018] 2018 (EU; supported by Norway; opposed by Russian Federation)",
    )
    marks = runs(paragraph)
    assert ("[2018]", False, False, False, True) in marks  # struck through
    assert ("2018", False, True, True, False) in marks


def test_compilation_delete_new_paragraph_move_and_deleted() -> None:
    data = export("compilation")
    rows = table_rows(data)
    margins = [r[0].split("\n")[0] for r in rows]
    assert margins == [
        "",  # The General Assembly,
        "PP1",
        "PP2",
        "PP3",
        "",  # the move note
        "OP1",
        "OP1 bis",
        "OP1 bis (a)",
        "OP1 bis (b)",
        "OP1 ter",  # the new paragraph, after OP1 bis and its sub-paragraphs
        "OP2",
        "OP3",
        "OP4",
    ]
    _, text, paragraph = row(data, "trust fund")
    assert text == f"{OP3} (Russian Federation)"
    marks = runs(paragraph)
    assert marks[0] == ("Invites", True, False, False, True)
    assert marks[-1] == ("(Russian Federation)", False, True, False, False)
    assert all(m[4] for m in marks[:-1] if m[0].strip())

    _, text, paragraph = row(data, "preparatory meeting")
    assert text == f"{NEW_OP1_TER} (G77 and China)"
    marks = runs(paragraph)
    # All of it bold and underlined, the space after the italic opening words too.
    assert marks[:2] == [
        ("Further decides", True, True, True, False),
        (NEW_OP1_TER.removeprefix("Further decides"), False, True, True, False),
    ]

    assert row(data, "Proposal to move")[1] == "Proposal to move PP3 after PP1 (Egypt)"
    assert rows[10][:2] == ("OP2\n[deleted]", "(deleted)")
    # The rejected proposal is not in a compilation of pending proposals.
    assert "next session" not in "".join(r[1] for r in rows)


def test_compilation_status_in_the_margin() -> None:
    data = export("compilation")
    margin, _, paragraph = row(data, "auspices")
    assert margin == "OP1\n[agreed in informals pending United States]"
    assert row(data, "Bearing in mind")[0] == "PP2\n[agreed ad ref]"
    assert row(data, "remain seized")[0] == "OP4\n[agreed]"
    assert row(data, "trust fund")[0] == "OP3"  # open: nothing to say
    cell = paragraph._p.getparent()
    assert cell.xpath("./w:tcPr/w:shd/@w:fill") == ["FFF2CC"]
    assert row(data, "remain seized")[2]._p.getparent().xpath("./w:tcPr/w:shd/@w:fill") == [
        "C6E0B4"
    ]


def test_compilation_comments_carry_justifications() -> None:
    data = export("compilation")
    comments = part(data, "word/comments.xml").findall(f"{{{W}}}comment")
    by_author = {c.get(f"{{{W}}}author"): c for c in comments}
    assert set(by_author) == {"EU", "G77 and China", "Russian Federation"}
    eu = by_author["EU"]
    assert "".join(eu.itertext()) == "A-2: The date is agreed in the modalities."
    assert eu.get(f"{{{W}}}date") == WHEN_ISO
    assert eu.get(f"{{{W}}}initials") == "EU"
    # Anchored on the attribution.
    _, _, paragraph = row(data, "auspices")
    start = paragraph._p.xpath("./w:commentRangeStart")[0]
    anchored = start.getnext()
    attribution = "(EU; supported by Norway; opposed by Russian Federation)"
    assert anchored.xpath("string(.)") == attribution


def test_compilation_legend_at_the_top() -> None:
    data = export("compilation")
    texts = [p.text for p in body_paragraphs(data)]
    legend = texts.index("Legend")
    assert legend < 5
    assert any(t.startswith("added words: ") for t in texts[legend:])
    added = find(data, "words proposed for addition").runs[0]
    assert added.bold and added.underline
    struck = find(data, "words proposed for deletion").runs[0]
    assert struck.font.strike


def test_compilation_several_proposals_on_one_paragraph() -> None:
    data = export("compilation-overlapping")
    rows = table_rows(data)
    index = next(i for i, r in enumerate(rows) if r[0].startswith("OP1\n"))
    assert rows[index][1] == OP1  # printed once, as it stands
    assert not any(m[3] or m[4] for m in runs(rows[index][2]))
    alternatives = [r[1] for r in rows[index + 1 : index + 4]]
    assert alternatives == [
        "Alt. 1 (EU; supported by Norway; opposed by Russian Federation): "
        + OP1.replace("[2018]", "[2018] 2018"),
        "Alt. 2 (Mexico): " + OP1.replace("[2018]", "[2018] 2019"),
        "Alt. 3 (Egypt): " + OP1.replace("auspices of", "auspices and at the Headquarters of"),
    ]
    marks = runs(rows[index + 2][2])
    assert marks[0] == ("Alt. 2 (Mexico):", False, True, False, False)
    assert ("2019", False, True, True, False) in marks
    assert ("[2018]", False, False, False, True) in marks


def test_unattributed_compilation_names_nobody() -> None:
    data = export("compilation-unattributed")
    everything = every_text(data)
    for name in ("Holy See", "Norway", "Russian Federation", "G77", "Mexico", "Egypt", "Canada"):
        assert name not in everything
    assert not re.search(r"\bEU\b", everything)
    assert "word/comments.xml" not in part_names(data) or not part(
        data, "word/comments.xml"
    ).findall(f"{{{W}}}comment")
    # The marks are all there.
    _, text, paragraph = row(data, "and its annexes")
    assert text == PP1_A1
    assert ("and its annexes", False, True, True, False) in runs(paragraph)
    assert row(data, "Proposal to move")[1] == "Proposal to move PP3 after PP1"
    alternatives = [r[1] for r in table_rows(data) if r[1].startswith("Alt.")]
    assert [a.split(":")[0] for a in alternatives] == ["Alt. 1", "Alt. 2", "Alt. 3"]


def test_compilation_of_an_elements_paper() -> None:
    data = export("compilation-elements")
    margin, text, _ = row(data, "governance")
    assert margin == "2.1.2"
    assert text == "make an important contribution to global and regional (AOSIS) governance;"
    assert row(data, "drivers")[0] == "2.1.1 bis"
    # The new bullet comes after 2.1.1 and its own sub-bullet.
    margins = [r[0] for r in table_rows(data)]
    assert margins.index("2.1.1 bis") == margins.index("2.1.1.1") + 1


# --------------------------------------------------------------------------------------------
# Tracked changes
# --------------------------------------------------------------------------------------------


def test_tracked_changes_accept_and_reject() -> None:
    data = export("tracked")
    assert accept_all(data) == expected_lines(applied())
    assert reject_all(data) == expected_lines(resolution())


def test_tracked_changes_authors_dates_and_ids() -> None:
    data = export("tracked")
    marks = revisions(data)
    authors = {m.get(f"{{{W}}}author") for m in marks}
    assert authors == {"Holy See", "EU", "G77 and China", "Russian Federation", "Egypt"}
    dates = {m.get(f"{{{W}}}author"): m.get(f"{{{W}}}date") for m in marks}
    assert dates["Holy See"] == "2017-01-19T09:30:00Z"
    assert dates["EU"] == WHEN_ISO
    ids = [m.get(f"{{{W}}}id") for m in marks]
    assert len(ids) == len(set(ids))
    assert part(data, "word/settings.xml").xpath("//w:trackRevisions", namespaces=NS)
    # Deleted words are w:delText, never w:t.
    body = part(data, "word/document.xml")
    assert not body.xpath("//w:del//w:t", namespaces=NS)
    assert not body.xpath("//w:ins//w:delText[not(ancestor::w:del)]", namespaces=NS)


def test_tracked_wording_is_word_level() -> None:
    data = export("tracked")
    body = part(data, "word/document.xml")
    holy_see = body.xpath("//w:ins[@w:author='Holy See']", namespaces=NS)
    assert [revision_text(m) for m in holy_see] == [" and its annexes"]
    eu = body.xpath("//w:*[@w:author='EU']", namespaces=NS)
    assert [(m.tag.split("}")[1], revision_text(m)) for m in eu] == [
        ("del", "[2018]"),
        ("ins", "2018"),
    ]
    # Inserted and deleted runs keep the italics of the opening words.
    g77 = body.xpath("//w:ins[@w:author='G77 and China']/w:r", namespaces=NS)
    italic = [r.xpath("string(.)") for r in g77 if r.xpath("./w:rPr/w:i", namespaces=NS)]
    assert italic == ["Further decides"]


def test_tracked_paragraph_marks() -> None:
    data = export("tracked")
    body = part(data, "word/document.xml")
    inserted = body.xpath("//w:p[w:pPr/w:rPr/w:ins]", namespaces=NS)
    deleted = body.xpath("//w:p[w:pPr/w:rPr/w:del]", namespaces=NS)
    new = [p for p in inserted if "preparatory meeting" in "".join(p.itertext())]
    assert len(new) == 1
    assert new[0].xpath("string(w:pPr/w:rPr/w:ins/@w:author)", namespaces=NS) == "G77 and China"
    # Every run of an inserted paragraph is inside w:ins.
    assert not new[0].xpath("./w:r[w:t]", namespaces=NS)
    trust = [p for p in deleted if "trust fund" in "".join(p.itertext())]
    assert len(trust) == 1
    assert trust[0].xpath("string(w:pPr/w:rPr/w:del/@w:author)", namespaces=NS) == (
        "Russian Federation"
    )
    assert not trust[0].xpath("./w:r[w:t]", namespaces=NS)
    # The move: PP3 deleted where it stands, inserted after PP1, both by Egypt.
    moved = [p for p in inserted + deleted if "Special Representative" in "".join(p.itertext())]
    assert len(moved) == 2
    assert {a for p in moved for a in p.xpath(".//@w:author", namespaces=NS)} == {"Egypt"}
    # rPr is the last child of pPr and its ins/del come first.
    for p in inserted + deleted:
        ppr = p.find(f"{{{W}}}pPr")
        assert ppr[-1].tag == f"{{{W}}}rPr"
        assert ppr[-1][0].tag in (f"{{{W}}}ins", f"{{{W}}}del")


def test_tracked_comments() -> None:
    data = export("tracked")
    comments = part(data, "word/comments.xml").findall(f"{{{W}}}comment")
    texts = {c.get(f"{{{W}}}author"): "".join(c.itertext()) for c in comments}
    assert texts["EU"] == (
        "A-2 (EU; supported by Norway; opposed by Russian Federation): "
        "The date is agreed in the modalities."
    )
    assert texts["Russian Federation"].startswith("A-4 (Russian Federation): proposes to delete")
    assert "Canada" not in texts  # rejected proposals are not shown


def test_tracked_overlapping_proposals() -> None:
    data = export("tracked-overlapping")
    body = part(data, "word/document.xml")
    # A-10 touches other words than A-2: inline. A-9 changes "[2018]" too: an alternative.
    egypt_inline = body.xpath(
        "//w:p[not(w:pPr/w:rPr/w:ins)]//w:ins[@w:author='Egypt']", namespaces=NS
    )
    assert [revision_text(m).strip() for m in egypt_inline] == ["and at the Headquarters"]
    accepted = accept_all(data)
    op1 = accepted.index(
        f"\t1.\t{OP1_A2.replace('auspices of', 'auspices and at the Headquarters of')}"
    )
    assert accepted[op1 + 1] == f"\t1 alt.\t{OP1_A9}"
    alt = [
        p
        for p in body.xpath("//w:p[w:pPr/w:rPr/w:ins]", namespaces=NS)
        if "2019" in "".join(p.itertext())
    ]
    assert len(alt) == 1
    assert set(alt[0].xpath(".//@w:author", namespaces=NS)) == {"Mexico"}
    assert reject_all(data) == expected_lines(resolution())
    comments = part(data, "word/comments.xml").findall(f"{{{W}}}comment")
    mexico = [("".join(c.itertext())) for c in comments if c.get(f"{{{W}}}author") == "Mexico"]
    assert mexico == [
        "A-9 (Mexico): alternative wording of OP1, overlapping A-2. One more year is needed."
    ]


def test_tracked_delete_over_inline_wording() -> None:
    """Words one delegation inserts in a paragraph another proposes to delete are inserted
    and deleted: in neither view."""
    doc = resolution()
    props = [
        proposal(
            "B-1",
            9,
            "wording",
            ("Canada",),
            base=OP3,
            text=OP3.replace("trust fund", "voluntary trust fund"),
        ),
        proposal("B-2", 9, "delete", ("Russian Federation",)),
    ]
    data = tracked_changes(doc, props)
    body = part(data, "word/document.xml")
    nested = body.xpath(
        "//w:ins[@w:author='Canada']/w:del[@w:author='Russian Federation']", namespaces=NS
    )
    assert [revision_text(n) for n in nested] == ["voluntary "]
    assert not any("trust fund" in line for line in accept_all(data))
    assert reject_all(data) == expected_lines(doc)
    assert_valid(data, "nested")


def test_tracked_elements_paper() -> None:
    data = export("tracked-elements")
    accepted = accept_all(data)
    assert accepted[accepted.index("including on migrants’ rights — là où nécessaire;") + 1] == (
        "address the drivers of migration;"
    )
    assert "make an important contribution to global and regional governance;" in accepted
    assert reject_all(data) == expected_lines(elements_paper())
    new = find_inserted(data, "drivers")
    assert new.xpath("string(w:pPr/w:pStyle/@w:val)", namespaces=NS) == "ListBullet"


def find_inserted(data: bytes, words: str):  # type: ignore[no-untyped-def]
    body = part(data, "word/document.xml")
    hits = [p for p in body.iter(f"{{{W}}}p") if words in "".join(p.itertext())]
    assert len(hits) == 1
    return hits[0]


def test_proposal_on_an_unknown_provision_is_refused() -> None:
    stray = proposal("Z-1", 999, "delete", ("EU",))
    with pytest.raises(ValueError, match="Z-1"):
        tracked_changes(resolution(), [stray])
    with pytest.raises(ValueError, match="Z-1"):
        compilation(resolution(), [stray], attributed=True)


def test_stale_diff_is_recomputed_from_the_proposed_text() -> None:
    doc = resolution()
    stale = proposal(
        "S-1",
        9,
        "wording",
        ("Chile",),
        base="Invites States to contribute;",
        text=OP3.replace("trust fund", "fund"),
    )
    accepted = accept_all(tracked_changes(doc, [stale]))
    assert f"\t3.\t{OP3.replace('trust fund', 'fund')}" in accepted


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def test_comparison_accepts_to_the_new_and_rejects_to_the_old() -> None:
    data = export("comparison")
    assert accept_all(data) == expected_lines(rev2())
    assert reject_all(data) == expected_lines(resolution())


def test_comparison_revisions() -> None:
    data = export("comparison")
    marks = revisions(data)
    assert {m.get(f"{{{W}}}author") for m in marks} == {"Co-facilitators"}
    assert {m.get(f"{{{W}}}date") for m in marks} == {"2017-02-10T00:00:00Z"}
    body = part(data, "word/document.xml")
    # Word-level: only "Recalling" -> "Reaffirming" in PP1.
    pp1 = find_inserted(data, "resolution 71/1")
    assert [
        (m.tag.split("}")[1], revision_text(m))
        for m in pp1.xpath(".//w:ins|.//w:del", namespaces=NS)
    ] == [
        ("del", "Recalling"),
        ("ins", "Reaffirming"),
    ]
    # Renumbered: OP1 bis -> OP2, the old number deleted and the new one inserted.
    op2 = find_inserted(data, "three phases")
    assert [
        (m.tag.split("}")[1], revision_text(m))
        for m in op2.xpath(".//w:ins|.//w:del", namespaces=NS)
    ] == [
        ("del", "1 bis."),
        ("ins", "2."),
    ]
    # PP3 is gone: a deleted paragraph; the new OP3 an inserted one.
    assert find_inserted(data, "Special Representative").xpath("w:pPr/w:rPr/w:del", namespaces=NS)
    assert find_inserted(data, "preparatory meeting").xpath("w:pPr/w:rPr/w:ins", namespaces=NS)
    # The subtitle changed by one word.
    subtitle = find_inserted(data, "submitted by the President")
    changed = subtitle.xpath(".//w:ins|.//w:del", namespaces=NS)
    assert [revision_text(m) for m in changed] == ["Draft", "Revised draft"]
    ids = [m.get(f"{{{W}}}id") for m in body.xpath("//w:ins|//w:del", namespaces=NS)]
    assert len(ids) == len(set(ids))
    assert part(data, "word/settings.xml").xpath("//w:trackRevisions", namespaces=NS)
    assert custom_properties(data)["rolltext.revision_seq"] == "3"


def test_comparison_author_and_kind_change() -> None:
    old = resolution()
    moved = tuple(
        para(p.provision_id, "operative", 0, "OP0", p.text) if p.provision_id == 3 else p
        for p in old.paragraphs
    )
    new = replace(old, paragraphs=moved, revision="Rev.2")
    data = comparison(old, new, author="Mexico and Switzerland")
    assert {m.get(f"{{{W}}}author") for m in revisions(data)} == {"Mexico and Switzerland"}
    pp3 = find_inserted(data, "Special Representative")
    change = pp3.xpath("w:pPr/w:pPrChange", namespaces=NS)
    assert len(change) == 1
    assert change[0].xpath("string(w:pPr/w:pStyle/@w:val)", namespaces=NS) == "UNPreambular"
    assert pp3.xpath("string(w:pPr/w:pStyle/@w:val)", namespaces=NS) == "UNOperative"
    assert accept_all(data) == expected_lines(new)
    assert reject_all(data) == expected_lines(old)
    assert_valid(data, "kind-change")


# --------------------------------------------------------------------------------------------
# Amendment list
# --------------------------------------------------------------------------------------------


def test_amendment_list() -> None:
    data = export("amendment-list")
    table = open_docx(data).tables[0]
    assert {p.style.name for c in table.columns[1].cells for p in c.paragraphs} == {"UN Body"}
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Text of Rev.1", "Proposal"]
    assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader")
    rows = [(r.cells[0].text, r.cells[1].text, r.cells[1]) for r in table.rows[1:]]
    references = [r[1].split(" — ")[0] for r in rows]
    # In text order: PP1, PP3, OP1 (three proposals), OP1 bis, OP3, OP4.
    assert references == ["A-1", "A-5", "A-2", "A-9", "A-10", "A-3", "A-4", "A-7"]
    a2 = rows[2]
    assert a2[0].startswith("OP1 [agreed in informals pending United States]\n")
    assert rows[3][0] == a2[0] and rows[4][0] == a2[0]  # one merged cell for OP1
    lines = a2[1].split("\n")
    assert lines[0] == "A-2 — Change of wording of OP1"
    assert lines[1] == OP1.replace("[2018]", "[2018] 2018")
    assert lines[2:] == [
        "Proposed by: EU",
        "Supported by: Norway",
        "Opposed by: Russian Federation",
        "Submitted: 20 January 2017, 10:00 UTC",
        "State: pending",
        "Justification: The date is agreed in the modalities.",
    ]
    marked = runs(a2[2].paragraphs[1])
    assert ("[2018]", False, False, False, True) in marked
    assert ("2018", False, True, True, False) in marked
    assert rows[5][1].split("\n")[:2] == [
        "A-3 — New paragraph after OP1 bis (OP1 ter)",
        NEW_OP1_TER,
    ]
    assert rows[6][1].split("\n")[0] == "A-4 — Deletion of OP3"
    assert "State: rejected" in rows[7][1]
    assert rows[1][1].split("\n")[0] == "A-5 — Move of PP3 after PP1"


# --------------------------------------------------------------------------------------------
# Every file is valid Office Open XML
# --------------------------------------------------------------------------------------------


def assert_valid(data: bytes, name: str, directory: Path | None = None) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(directory or tmp) / f"{name}.docx"
        path.write_bytes(data)
        # A fresh validator for every file (~10 ms): openxml-audit 0.8.0 keeps what it read of
        # a package's other parts (the comments' ids…) under id(package), so once a checked
        # package is freed, the next one can be given its id and be checked against the
        # earlier file's comments. One shared validator failed 44 of 180 checks that way.
        result = OpenXmlValidator().validate(path)
        assert result.is_valid, "\n".join(str(e) for e in result.errors[:10])


@pytest.mark.parametrize(
    "kind",
    [
        "clean",
        "clean-elements",
        "compilation",
        "compilation-unattributed",
        "compilation-overlapping",
        "compilation-elements",
        "tracked",
        "tracked-overlapping",
        "tracked-elements",
        "comparison",
        "amendment-list",
    ],
)
def test_export_passes_openxml_audit(kind: str, tmp_path: Path) -> None:
    assert_valid(export(kind), kind, tmp_path)


def test_exports_module_gathers_the_five() -> None:
    from app.docx import exports

    assert exports.clean_text is clean_text
    assert exports.tracked_changes is tracked_changes
    assert exports.comparison is comparison
    assert exports.compilation is compilation
    assert exports.amendment_list is amendment_list


def test_arabic_survives() -> None:
    for kind in ("clean", "tracked", "compilation"):
        assert any("الهجرة الآمنة" in line for line in accept_all(export(kind)))
    assert any("الهجرة الآمنة" in line for line in reject_all(export("comparison")))
    assert any("الهجرة الآمنة" in line for line in accept_all(export("amendment-list")))
    assert any("réunions thématiques" in line for line in accept_all(export("clean")))


def test_paragraph_styles_written_by_id_exist_under_that_id() -> None:
    """Paragraphs get `style_id(name)` without a lookup: every style they can name must exist
    in a new document under exactly that id, or Word would show them as Normal."""
    from app.docx.layout import (
        STYLE_BODY,
        STYLE_BULLET,
        STYLE_FORMULA,
        STYLE_HEADING,
        STYLE_LEGEND,
        STYLE_OPERATIVE,
        STYLE_PREAMBULAR,
        STYLE_SUB,
        STYLE_SUBTITLE,
        STYLE_TITLE,
        new_document,
        style_id,
    )

    names = {STYLE_TITLE, STYLE_SUBTITLE, STYLE_FORMULA, STYLE_PREAMBULAR, STYLE_OPERATIVE}
    names |= {STYLE_BODY, STYLE_LEGEND, *STYLE_SUB, *STYLE_BULLET, *STYLE_HEADING}
    styles = new_document(resolution()).styles
    assert {name: styles[name].style_id for name in names} == {n: style_id(n) for n in names}
