"""Reading a .docx with every tracked change accepted or rejected, on hand-written XML shaped
the way Word, LibreOffice and other tools write it."""

from __future__ import annotations

import zipfile
from datetime import date
from io import BytesIO

import docx
import pytest

from app.docx.ooxml import Mark, Revisions, Span, append_spans
from app.docx.reading import accept_all, custom_properties, read_paragraphs, reject_all

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="/word/main.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)


def package(body: str) -> bytes:
    """A minimal package whose main part (deliberately not word/document.xml) has `body`."""
    xml = f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/main.xml", xml)
    return out.getvalue()


def r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def d(text: str) -> str:
    return f'<w:r><w:delText xml:space="preserve">{text}</w:delText></w:r>'


def ins(content: str, author: str = "EU") -> str:
    return f'<w:ins w:id="1" w:author="{author}">{content}</w:ins>'


def dele(content: str, author: str = "EU") -> str:
    return f'<w:del w:id="2" w:author="{author}">{content}</w:del>'


def p(content: str, mark: str = "", style: str = "") -> str:
    ppr = ""
    if mark or style:
        mark_xml = f'<w:rPr><w:{mark} w:id="3" w:author="EU"/></w:rPr>' if mark else ""
        style_xml = f'<w:pStyle w:val="{style}"/>' if style else ""
        ppr = f"<w:pPr>{style_xml}{mark_xml}</w:pPr>"
    return f"<w:p>{ppr}{content}</w:p>"


def test_runs_inside_revisions() -> None:
    data = package(p(r("Decides ") + dele(d("to convene")) + ins(r("to hold")) + r(" a meeting;")))
    assert accept_all(data) == ["Decides to hold a meeting;"]
    assert reject_all(data) == ["Decides to convene a meeting;"]


def test_python_docx_alone_misses_inserted_words() -> None:
    """Why this reader exists: python-docx's Paragraph.text drops what is inside w:ins."""
    document = docx.Document()
    paragraph = document.add_paragraph()
    mark = Mark("EU", date(2017, 1, 20))
    append_spans(paragraph._p, [Span("Decides"), Span(" also", inserted=mark)], Revisions())
    out = BytesIO()
    document.save(out)
    assert docx.Document(BytesIO(out.getvalue())).paragraphs[-1].text == "Decides"
    assert accept_all(out.getvalue())[-1] == "Decides also"
    assert reject_all(out.getvalue())[-1] == "Decides"


def test_runs_hidden_in_containers() -> None:
    content = (
        '<w:hyperlink r:id="rId9" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships">'
        + r("link")
        + "</w:hyperlink>"
        + "<w:sdt><w:sdtPr/><w:sdtContent>"
        + r(" control")
        + "</w:sdtContent></w:sdt>"
        + '<w:smartTag w:uri="u" w:element="place">'
        + r(" Geneva")
        + "</w:smartTag>"
        + '<w:customXml w:element="x">'
        + r(" custom")
        + "</w:customXml>"
        + '<w:fldSimple w:instr=" PAGE ">'
        + r(" 7")
        + "</w:fldSimple>"
        + '<w:hyperlink w:anchor="x">'
        + ins(r(" inserted link"))
        + "</w:hyperlink>"
    )
    data = package(p(content))
    assert accept_all(data) == ["link control Geneva custom 7 inserted link"]
    assert reject_all(data) == ["link control Geneva custom 7"]


def test_block_level_content_controls() -> None:
    data = package("<w:sdt><w:sdtContent>" + p(r("Inside a control.")) + "</w:sdtContent></w:sdt>")
    assert accept_all(data) == ["Inside a control."]


def test_inserted_then_deleted_is_in_neither_view() -> None:
    data = package(p(r("Invites ") + ins(dele(d("all ")), "Canada") + r("States;")))
    assert accept_all(data) == ["Invites States;"]
    assert reject_all(data) == ["Invites States;"]


def test_moves() -> None:
    body = p(r("First") + '<w:moveFrom w:id="4" w:author="EU">' + d(" moved") + "</w:moveFrom>")
    body += p(r("Second") + '<w:moveTo w:id="5" w:author="EU">' + r(" moved") + "</w:moveTo>")
    data = package(body)
    assert accept_all(data) == ["First", "Second moved"]
    assert reject_all(data) == ["First moved", "Second"]


def test_special_characters() -> None:
    run = (
        "<w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t><w:noBreakHyphen/>"
        '<w:t>d</w:t><w:sym w:font="Symbol" w:char="2022"/><w:instrText> PAGE </w:instrText>'
        "</w:r>"
    )
    assert accept_all(package(p(run))) == ["a\tb\nc\u2011d\u2022"]


def test_paragraph_marks() -> None:
    # A deleted paragraph disappears when accepted.
    deleted = package(p(r("Keep.")) + p(dele(d("Gone.")), mark="del") + p(r("Next.")))
    assert accept_all(deleted) == ["Keep.", "Next."]
    assert reject_all(deleted) == ["Keep.", "Gone.", "Next."]
    # An inserted paragraph disappears when rejected.
    inserted = package(p(r("Keep.")) + p(ins(r("New.")), mark="ins") + p(r("Next.")))
    assert accept_all(inserted) == ["Keep.", "New.", "Next."]
    assert reject_all(inserted) == ["Keep.", "Next."]
    # An inserted mark alone is a split; a deleted mark alone a merge.
    split = package(p(r("One"), mark="ins") + p(r(" two.")))
    assert accept_all(split) == ["One", " two."]
    assert reject_all(split) == ["One two."]
    merge = package(p(r("One"), mark="del") + p(r(" two.")))
    assert accept_all(merge) == ["One two."]
    assert reject_all(merge) == ["One", " two."]
    # Deleting the last paragraph leaves nothing behind.
    last = package(p(r("Keep.")) + p(dele(d("Gone.")), mark="del"))
    assert accept_all(last) == ["Keep."]


def test_merged_paragraph_takes_the_style_of_the_surviving_mark() -> None:
    data = package(p(r("One"), mark="del", style="A") + p(r(" two."), style="B"))
    assert [(x.text, x.style) for x in read_paragraphs(data, "accept")] == [("One two.", "B")]
    assert [x.style for x in read_paragraphs(data, "reject")] == ["A", "B"]


def test_tables_and_row_revisions() -> None:
    row = "<w:tr>{trpr}<w:tc>{a}</w:tc><w:tc>{b}</w:tc></w:tr>"
    table = (
        "<w:tbl>"
        + row.format(trpr="", a=p(r("A1")), b=p(r("B1")))
        + row.format(
            trpr='<w:trPr><w:ins w:id="6" w:author="EU"/></w:trPr>',
            a=p(ins(r("A2"))),
            b=p(ins(r("B2"))),
        )
        + row.format(
            trpr='<w:trPr><w:del w:id="7" w:author="EU"/></w:trPr>',
            a=p(dele(d("A3"))),
            b=p(dele(d("B3"))),
        )
        + "</w:tbl>"
    )
    # Paragraphs never join across a table: the deleted mark before it stays apart.
    data = package(p(r("Before"), mark="del") + table + p(r("After")))
    assert accept_all(data) == ["Before", "A1", "B1", "A2", "B2", "After"]
    assert reject_all(data) == ["Before", "A1", "B1", "A3", "B3", "After"]


def test_custom_properties_absent() -> None:
    assert custom_properties(package(p(r("x")))) == {}


@pytest.mark.parametrize("view", ["accept", "reject"])
def test_empty_body(view: str) -> None:
    assert read_paragraphs(package(""), view) == []  # type: ignore[arg-type]
