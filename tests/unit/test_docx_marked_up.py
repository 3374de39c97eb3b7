"""A delegation's marked-up copy becomes proposed changes (app.docx.marked_up).

Most files are built in code with raw w:ins / w:del, each test showing the markup it reads. The
last tests use a real LibreOffice: it opens Rolltext's clean export, records changes and saves
.docx, and pandoc (--track-changes) checks independently what the file says.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from app.docx.clean import clean_text
from app.docx.marked_up import MarkedUpReport, ProposedChange, read_marked_up
from app.domain.errors import Invalid
from tests.docx_fixtures import libreoffice
from tests.docx_fixtures.circulated import SMALL_RESOLUTION, circulated
from tests.docx_fixtures.marked import copy_of
from tests.docx_fixtures.word import (
    ELEMENTS_PAPER,
    WordFile,
    dele,
    hyperlink,
    ins,
    move_from,
    move_to,
    run,
    sdt,
)

DOC = circulated(SMALL_RESOLUTION)
TEXT = {p.provision_id: p.text for p in DOC.paragraphs}
LABEL = {p.provision_id: p.label for p in DOC.paragraphs}
ID = {p.label: p.provision_id for p in DOC.paragraphs}
WHEN = (datetime(2024, 5, 6, 10, 0, tzinfo=UTC),)


def read(data: bytes) -> MarkedUpReport:
    return read_marked_up(data, DOC)


def wording(label: str, text: str, **changes: object) -> ProposedChange:
    values: dict[str, object] = {"authors": ("Author",), "dates": WHEN, "tracked": True}
    values.update(changes)
    pid = ID[label]
    return ProposedChange(
        "wording",
        pid,
        text,
        label=label,
        original=TEXT[pid],
        **values,  # type: ignore[arg-type]
    )


def deletion(label: str, **changes: object) -> ProposedChange:
    values: dict[str, object] = {"authors": ("Author",), "dates": WHEN, "tracked": True}
    values.update(changes)
    pid = ID[label]
    return ProposedChange("delete", pid, label=label, original=TEXT[pid], **values)  # type: ignore[arg-type]


def insertion(after: str | None, text: str, kind: str | None, **changes: object) -> ProposedChange:
    values: dict[str, object] = {"authors": ("Author",), "dates": WHEN, "tracked": True}
    values.update(changes)
    pid = ID[after] if after else None
    return ProposedChange(
        "insert_after",
        pid,
        text,
        after_provision_id=pid,
        label=after or "",
        new_kind=kind,
        **values,  # type: ignore[arg-type]
    )


# -- identifying the circulated revision ------------------------------------------------------


def test_an_untouched_copy_proposes_nothing() -> None:
    report = read(copy_of(DOC))

    assert (report.identified_by, report.document_id, report.revision_seq) == ("properties", 7, 2)
    assert report.mismatch is None
    assert report.confidence == 1.0
    assert report.changes == ()
    assert report.warnings == ("No changes to the circulated text were found in this file.",)


def test_without_properties_the_copy_is_matched_by_its_text() -> None:
    report = read(copy_of(DOC, with_properties=False, numbers=False))

    assert (report.identified_by, report.document_id, report.revision_seq) == ("text", None, None)
    assert report.confidence == 1.0
    assert report.warnings[0] == (
        "This file carries no Rolltext properties: it was matched by its text (12 of 12 "
        "paragraphs found). Check that it is a copy of this revision."
    )


def test_a_copy_of_an_earlier_revision_says_so() -> None:
    properties: dict[str, int | str] = {"rolltext.document_id": 7, "rolltext.revision_seq": 1}

    report = read(copy_of(DOC, properties=properties))

    assert report.identified_by == "properties"
    assert report.mismatch == (
        "This file was exported from an earlier revision (revision 1) of A/72/L.5 than Rev.1 "
        "now circulated (revision 2): its changes are compared with the text now circulated, so "
        "wording that changed between the two shows as untracked changes."
    )


def test_a_file_of_another_document_is_refused() -> None:
    other = circulated(ELEMENTS_PAPER.read_text(encoding="utf-8"), document_id=8)
    expected = (
        "This file does not look like a copy of A/72/L.5 Rev.1: only 0 of its 12 paragraphs were "
        "found in it. Upload the marked-up copy of this text (the Word file Rolltext exported, "
        "with your changes tracked)."
    )

    with pytest.raises(Invalid) as without_properties:
        read(copy_of(other, with_properties=False))
    with pytest.raises(Invalid) as with_properties:
        read(copy_of(other))

    assert without_properties.value.message == expected
    assert with_properties.value.message == (
        f"{expected} This file was exported from another document (document 8), not from "
        "A/72/L.5 Rev.1."
    )


def test_a_copy_whose_properties_name_another_document_but_whose_text_matches() -> None:
    properties: dict[str, int | str] = {"rolltext.document_id": 99, "rolltext.revision_seq": 2}

    report = read(copy_of(DOC, properties=properties))

    assert report.mismatch == (
        "This file was exported from another document (document 99), not from A/72/L.5 Rev.1."
    )
    assert report.changes == ()


# -- tracked changes -------------------------------------------------------------------------


def test_a_word_change() -> None:
    op2 = ["Requests the President of the General Assembly to appoint ", dele("two"), ins("three")]

    report = read(copy_of(DOC, edit={ID["OP2"]: [*op2, " co-facilitators;"]}))

    assert report.changes == (
        wording(
            "OP2",
            "Requests the President of the General Assembly to appoint three co-facilitators;",
        ),
    )
    assert report.warnings == ()
    assert report.preview == (
        'OP2: change the wording to "Requests the President of the General Assembly to appoint '
        'three co-facilitators;"',
    )


def test_an_inserted_paragraph() -> None:
    new = [ins("Decides to convene a stocktaking meeting in 2018;")]

    report = read(copy_of(DOC, after={ID["OP3"]: [new]}))

    assert report.changes == (
        insertion("OP3", "Decides to convene a stocktaking meeting in 2018;", "operative"),
    )
    assert report.preview == (
        'new paragraph after OP3: "Decides to convene a stocktaking meeting in 2018;"',
    )


def test_a_paragraph_inserted_by_pressing_enter_marks_the_previous_paragraph_mark() -> None:
    new = [ins("(d)\tprovide for the participation of stakeholders;")]

    report = read(copy_of(DOC, after={ID["OP1 (c)"]: [new]}, new_mark="enter"))

    assert report.changes == (
        insertion("OP1 (c)", "provide for the participation of stakeholders;", "subparagraph"),
    )


def test_a_paragraph_inserted_before_the_first() -> None:
    report = read(copy_of(DOC, before_first=[[ins("Recalling also the Charter,")]]))

    assert report.changes == (insertion(None, "Recalling also the Charter,", "preambular"),)
    assert report.preview == (
        'new paragraph before the first paragraph: "Recalling also the Charter,"',
    )


def test_a_deleted_paragraph() -> None:
    report = read(copy_of(DOC, edit={ID["PP2"]: [dele(TEXT[ID["PP2"]])]}, mark={ID["PP2"]: "del"}))

    assert report.changes == (deletion("PP2"),)
    assert report.preview == ("PP2: delete the paragraph",)


def test_a_deleted_last_paragraph_has_the_mark_before_it_deleted() -> None:
    """Word cannot delete the last paragraph mark, so it deletes the one before."""
    report = read(
        copy_of(
            DOC, edit={ID["OP4"]: [dele(TEXT[ID["OP4"]])]}, mark={ID["OP3"]: "del"}, numbers=False
        )
    )

    assert report.changes == (deletion("OP4"),)


def test_a_paragraph_retyped_from_scratch_is_a_new_wording_not_a_new_paragraph() -> None:
    op4 = [dele(TEXT[ID["OP4"]]), ins("Decides to remain actively seized of the question.")]

    report = read(copy_of(DOC, edit={ID["OP4"]: op4}, numbers=False))

    assert report.changes == (wording("OP4", "Decides to remain actively seized of the question."),)


def test_a_paragraph_whose_words_are_all_deleted_is_deleted() -> None:
    report = read(copy_of(DOC, edit={ID["OP3"]: [dele(TEXT[ID["OP3"]])]}))

    assert report.changes == (deletion("OP3"),)


def test_a_paragraph_split_in_two() -> None:
    word = WordFile()
    word.title(DOC.title)
    word.paragraph("The General Assembly,")
    for paragraph in DOC.paragraphs:
        if paragraph.provision_id == ID["PP1"]:
            word.paragraph(
                "Recalling its resolution 71/1 of 19 September 2016",
                dele(", entitled "),
                ins(","),
                mark="ins",
            )
            word.paragraph(
                ins("Recalling also the "), '"New York Declaration for Refugees and Migrants",'
            )
        else:
            word.paragraph(paragraph.text)

    report = read(word.bytes())

    assert report.changes == (
        wording("PP1", "Recalling its resolution 71/1 of 19 September 2016,"),
        insertion(
            "PP1",
            'Recalling also the "New York Declaration for Refugees and Migrants",',
            "preambular",
        ),
    )


def test_inserted_then_deleted_text_is_in_neither_view() -> None:
    sub_a = ["be held in 2018 ", ins(dele("in Geneva ")), "at United Nations Headquarters;"]
    sub_c = [
        "adopt the ",
        ins(dele("draft "), "final "),
        "global compact for safe, orderly and regular migration;",
    ]

    report = read(copy_of(DOC, edit={ID["OP1 (a)"]: sub_a, ID["OP1 (c)"]: sub_c}))

    assert report.changes == (
        wording(
            "OP1 (c)", "adopt the final global compact for safe, orderly and regular migration;"
        ),
    )


def test_runs_inside_hyperlinks_and_content_controls() -> None:
    op3 = [
        "Invites ",
        hyperlink("Member States", dele(" to contribute")),
        sdt(ins(" to give generously"), " to the Voluntary Trust Fund;"),
    ]

    report = read(copy_of(DOC, edit={ID["OP3"]: op3}))

    assert report.changes == (
        wording("OP3", "Invites Member States to give generously to the Voluntary Trust Fund;"),
    )


def test_anonymised_author_and_missing_date() -> None:
    op4 = [
        "Decides to remain ",
        dele("seized", author="Author", date=None),
        ins("actively seized", author="", date=None),
        " of the matter.",
    ]

    report = read(copy_of(DOC, edit={ID["OP4"]: op4}))

    assert report.changes == (
        wording("OP4", "Decides to remain actively seized of the matter.", dates=()),
    )


def test_authors_and_dates_of_several_revisions_are_all_kept() -> None:
    op4 = [
        "Decides to remain ",
        ins("actively ", author="Delegate B", date="2024-05-07T09:30:00Z"),
        "seized of the matter",
        dele(".", author="Author", date="2024-05-06T10:00:00Z"),
        ins(" until 2019.", author="Author"),
    ]

    report = read(copy_of(DOC, edit={ID["OP4"]: op4}))

    (change,) = report.changes
    assert change.text == "Decides to remain actively seized of the matter until 2019."
    assert change.authors == ("Delegate B", "Author")
    assert change.dates == (WHEN[0], datetime(2024, 5, 7, 9, 30, tzinfo=UTC))


# -- changes without Track Changes ----------------------------------------------------------


def test_an_untracked_change() -> None:
    pp3 = ["Noting with appreciation the contribution of migrants to sustainable development,"]

    report = read(copy_of(DOC, edit={ID["PP3"]: pp3}))

    assert report.changes == (wording("PP3", pp3[0], authors=(), dates=(), tracked=False),)
    assert report.preview[0].endswith("(not tracked)")


def test_an_untracked_change_next_to_a_tracked_one_is_flagged_untracked() -> None:
    pp3 = [
        "Noting with appreciation the contribution of migrants to ",
        ins("sustainable "),
        "development,",
    ]

    report = read(copy_of(DOC, edit={ID["PP3"]: pp3}))

    (change,) = report.changes
    assert (
        change.text
        == "Noting with appreciation the contribution of migrants to sustainable development,"
    )
    assert change.tracked is False
    assert change.authors == ("Author",)


def test_untracked_deletion_and_insertion() -> None:
    report = read(
        copy_of(
            DOC,
            leave_out=frozenset({ID["OP3"]}),
            after={ID["OP2"]: [["Decides to hold a stocktaking meeting;"]]},
            new_mark=None,
        )
    )

    assert report.changes == (
        insertion(
            "OP2",
            "Decides to hold a stocktaking meeting;",
            "operative",
            authors=(),
            dates=(),
            tracked=False,
        ),
        deletion("OP3", authors=(), dates=(), tracked=False),
    )


# -- moves, merges, formatting ---------------------------------------------------------------


def test_a_paragraph_moved_with_move_marks() -> None:
    op2 = TEXT[ID["OP2"]]

    report = read(
        copy_of(
            DOC,
            edit={ID["OP2"]: [move_from(op2)]},
            mark={ID["OP2"]: "moveFrom"},
            after={ID["OP3"]: [[move_to(op2)]]},
            new_mark="moveTo",
            numbers=False,
        )
    )

    assert report.changes == (
        ProposedChange(
            "move",
            ID["OP2"],
            after_provision_id=ID["OP3"],
            authors=("Author",),
            dates=WHEN,
            label="OP2",
            original=op2,
        ),
    )
    assert report.preview == ("OP2: move the paragraph",)


def test_a_paragraph_cut_and_pasted_with_tracking_is_a_move() -> None:
    pp1 = TEXT[ID["PP1"]]

    report = read(
        copy_of(
            DOC,
            edit={ID["PP1"]: [dele(pp1)]},
            mark={ID["PP1"]: "del"},
            after={ID["PP3"]: [[ins(pp1)]]},
        )
    )

    assert [(c.kind, c.provision_id, c.after_provision_id) for c in report.changes] == [
        ("move", ID["PP1"], ID["PP3"])
    ]


def test_words_moved_between_paragraphs_are_a_deletion_and_an_insertion_with_a_warning() -> None:
    op4 = ["Decides to remain seized of the matter", move_to(" for now"), "."]
    op3 = [
        "Invites Member States to contribute to the Voluntary Trust Fund",
        move_from(" for now"),
        ";",
    ]

    report = read(copy_of(DOC, edit={ID["OP3"]: op3, ID["OP4"]: op4}))

    assert [c.kind for c in report.changes] == ["wording"]
    assert report.changes[0].text == "Decides to remain seized of the matter for now."
    assert report.warnings == (
        "Some words were moved with Track Changes: they are proposed as a deletion where they "
        "were and an insertion where they went.",
    )


def test_two_paragraphs_merged() -> None:
    pp2 = [
        "Reaffirming the purposes and principles of the Charter of the United Nations",
        dele(","),
        ins(" and "),
    ]
    pp3 = [dele("N"), ins("n"), "oting the contribution of migrants to sustainable development,"]

    report = read(copy_of(DOC, edit={ID["PP2"]: pp2, ID["PP3"]: pp3}, mark={ID["PP2"]: "del"}))

    assert report.changes == (
        wording(
            "PP2",
            "Reaffirming the purposes and principles of the Charter of the United Nations and "
            "noting the contribution of migrants to sustainable development,",
        ),
        deletion("PP3"),
    )
    assert report.warnings == (
        "PP3 was joined to the paragraph next to it: it is proposed for deletion, and its words "
        "as part of the other paragraph.",
    )


def test_formatting_only_changes_are_left_out() -> None:
    bold_run = run("Decides", bold=True)
    bold_run.find(f"{{{bold_run.nsmap['w']}}}rPr").append(
        parse_xml(f'<w:rPrChange {nsdecls("w")} w:id="9" w:author="Author"><w:rPr/></w:rPrChange>')
    )

    report = read(copy_of(DOC, edit={ID["OP4"]: [bold_run, " to remain seized of the matter."]}))

    assert report.changes == ()
    assert report.warnings == (
        "Formatting changes were left out: Rolltext reads changes to words.",
        "No changes to the circulated text were found in this file.",
    )


def test_what_is_not_read_is_named() -> None:
    """Comments, tables, headers and footnotes are not provisions: the delegation is told."""
    data = copy_of(
        DOC, edit={ID["OP4"]: ["Decides to remain ", ins("actively "), "seized of the matter."]}
    )
    word = docx.Document(io.BytesIO(data))
    word.add_comment(word.paragraphs[-1].runs, text="Our capital insists.", author="Mexico")
    word.add_table(rows=1, cols=1).cell(0, 0).paragraphs[0]._p.append(ins("in a table"))
    word.sections[0].header.paragraphs[0]._p.append(ins("Draft"))
    out = io.BytesIO()
    word.save(out)

    report = read(out.getvalue())

    assert [c.text for c in report.changes] == ["Decides to remain actively seized of the matter."]
    assert report.warnings == (
        "1 comment was left out: Rolltext reads the paragraphs of the body only. Add a "
        "justification to a change when you confirm it.",
        "1 table was left out: Rolltext reads the paragraphs of the body only.",
        "Tracked changes inside tables were not read.",
        "Tracked changes in headers, footers or footnotes were not read: only the paragraphs of "
        "the text are.",
    )


def test_a_copy_with_word_list_numbering_instead_of_typed_numbers() -> None:
    word = WordFile()
    word.title(DOC.title)
    word.paragraph("The General Assembly,")
    numbers = word.list([("decimal", "%1."), ("lowerLetter", "(%2)"), ("lowerRoman", "(%3)")])
    for paragraph in DOC.paragraphs:
        text = paragraph.text
        if paragraph.provision_id == ID["OP2"]:
            content: list[object] = [text.replace("two ", ""), ins(" (two)")]
        else:
            content = [text]
        if paragraph.kind == "preambular":
            word.paragraph(*content)
        else:
            level = paragraph.label.count("(")
            word.paragraph(*content, numbering=(numbers, level))

    report = read(word.bytes())

    assert report.identified_by == "text"
    assert report.changes == (
        wording(
            "OP2",
            "Requests the President of the General Assembly to appoint co-facilitators; (two)",
            tracked=False,
        ),
    )


# -- a real LibreOffice ---------------------------------------------------------------------

LIBREOFFICE_AUTHOR = "Delegation of Mexico"
NEW_OP = "Decides to convene a stocktaking meeting in 2018;"
PAPER = circulated(ELEMENTS_PAPER.read_text(encoding="utf-8"), document_id=3, revision_seq=1)


@pytest.fixture(scope="module")
def libreoffice_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Rolltext's clean exports, edited in LibreOffice with change recording on: one soffice
    process for all of them."""
    why = libreoffice.missing()
    if why:
        pytest.fail(why)
    folder = tmp_path_factory.mktemp("libreoffice")
    jobs = {
        "resolution": (
            DOC,
            [
                {"replace": ["two co-facilitators", "three co-facilitators"]},
                {"append_paragraph": ["Voluntary Trust Fund", NEW_OP]},
                {"delete_paragraph": "Reaffirming the purposes"},
            ],
        ),
        "elements paper": (
            PAPER,
            [
                {"replace": ["a political declaration", "a concise political declaration"]},
                {"append_paragraph": ["means of implementation", "capacity-building"]},
            ],
        ),
    }
    paths = {}
    for name, (doc, _) in jobs.items():
        paths[name] = folder / f"{name}.docx"
        (folder / f"{name} clean.docx").write_bytes(clean_text(doc))
    libreoffice.edit_with_libreoffice(
        [
            {
                "source": str(folder / f"{name} clean.docx"),
                "target": str(paths[name]),
                "author": LIBREOFFICE_AUTHOR,
                "edits": edits,
            }
            for name, (_, edits) in jobs.items()
        ]
    )
    return paths


def test_a_resolution_marked_up_in_libreoffice(libreoffice_copies: dict[str, Path]) -> None:
    report = read(libreoffice_copies["resolution"].read_bytes())

    assert (report.identified_by, report.mismatch, report.warnings) == ("properties", None, ())
    # LibreOffice stamps each change with the second it was made: the three may straddle one.
    assert all(len(change.dates) == 1 for change in report.changes)
    by = {"authors": (LIBREOFFICE_AUTHOR,), "dates": ()}
    assert tuple(replace(change, dates=()) for change in report.changes) == (
        deletion("PP2", **by),
        wording(
            "OP2",
            "Requests the President of the General Assembly to appoint three co-facilitators;",
            **by,
        ),
        insertion("OP3", NEW_OP, "operative", **by),
    )


def test_an_elements_paper_marked_up_in_libreoffice(libreoffice_copies: dict[str, Path]) -> None:
    report = read_marked_up(libreoffice_copies["elements paper"].read_bytes(), PAPER)
    by_text = {p.text: p for p in PAPER.paragraphs}
    declaration = by_text["a political declaration"]
    means = by_text["means of implementation"]

    assert (report.identified_by, report.document_id, report.warnings) == ("properties", 3, ())
    assert [
        (c.kind, c.provision_id, c.text, c.new_kind, c.authors, c.tracked) for c in report.changes
    ] == [
        (
            "wording",
            declaration.provision_id,
            "a concise political declaration",
            None,
            (LIBREOFFICE_AUTHOR,),
            True,
        ),
        (
            "insert_after",
            means.provision_id,
            "capacity-building",
            "list_item",
            (LIBREOFFICE_AUTHOR,),
            True,
        ),
    ]


def _pandoc(path: Path, mode: str, to: str) -> str:
    pypandoc = pytest.importorskip("pypandoc") if False else __import__("pypandoc")
    return str(
        pypandoc.convert_file(str(path), to, extra_args=[f"--track-changes={mode}", "--wrap=none"])
    )


def _paragraphs(plain: str) -> list[str]:
    """Pandoc's plain text, one entry per paragraph, without printed numbers and bullets.

    Pandoc leaves an empty paragraph where it rejects a paragraph insertion: dropped here.
    """
    out = []
    for block in plain.split("\n\n"):
        text = " ".join(block.split())
        text = re.sub(r"^(?:\d+\.|\([a-z]+\)|-)(?:\s+|$)", "", text)
        if text:
            out.append(text)
    return out


@pytest.mark.parametrize("name", ["resolution", "elements paper"])
def test_pandoc_reads_the_libreoffice_copies_as_we_do(
    libreoffice_copies: dict[str, Path], name: str
) -> None:
    """An independent reader of tracked changes: our proposals are exactly pandoc's
    rejected → accepted paragraph differences, and it names the same author."""
    try:
        import pypandoc

        pypandoc.get_pandoc_version()
    except (ImportError, OSError) as error:
        pytest.fail(f"pandoc is needed (pip install pypandoc-binary): {error}")
    path = libreoffice_copies[name]
    doc = DOC if name == "resolution" else PAPER
    before = _paragraphs(_pandoc(path, "reject", "plain"))
    after = _paragraphs(_pandoc(path, "accept", "plain"))
    marked = _pandoc(path, "all", "markdown")

    oracle: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "replace":
            oracle += [("wording", text) for text in after[j1:j2]]
        elif tag == "delete":
            oracle += [("delete", text) for text in before[i1:i2]]
        elif tag == "insert":
            oracle += [("insert_after", text) for text in after[j1:j2]]
    ours = [
        (c.kind, c.original if c.kind == "delete" else c.text)
        for c in read_marked_up(path.read_bytes(), doc).changes
    ]

    formula = ["The General Assembly,"] if doc.scheme == "resolution" else []
    assert before == [*formula, *(p.text for p in doc.paragraphs)]  # title, subtitle: metadata
    assert ours == oracle
    assert len(oracle) == (3 if name == "resolution" else 2)
    assert marked.count(f'author="{LIBREOFFICE_AUTHOR}"') >= 2 * len(oracle)
