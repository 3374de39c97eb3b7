"""Hand-built texts and proposals the Word export tests share: a small draft resolution and a
small elements paper, with accents and Arabic, and proposals of every kind.

The tests here only check that the samples are what the other tests assume.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from io import BytesIO

from lxml import etree

from app.docx.model import Circulated, Paragraph, Proposal
from app.domain.diff import apply_diff, word_diff

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
WHEN = datetime(2017, 1, 20, 10, 0, tzinfo=UTC)
WHEN_ISO = "2017-01-20T10:00:00Z"

PP1 = (
    "Recalling its resolution 71/1 of 19 September 2016, entitled “New York Declaration for "
    "Refugees and Migrants”,"
)
PP2 = (
    "Bearing in mind that the global compact will be presented for adoption at an "
    "intergovernmental conference on international migration in 2018,"
)
PP3 = (
    "Taking note with appreciation of the report of the Special Representative "
    "(الهجرة الآمنة والمنظمة والنظامية),"
)
OP1 = (
    "Decides that the intergovernmental conference will be convened under the auspices of "
    "the United Nations in [2018];"
)
OP1_BIS = "Also decides that the preparatory process will be organized in three phases:"
OP1_BIS_A = "Phase I: consultations, réunions thématiques and regional consultations;"
OP1_BIS_B = "Phase II: a stocktaking meeting in Geneva;"
OP2 = "Requests the Secretary-General to support the co-facilitators;"
OP3 = "Invites Member States to contribute to the trust fund;"
OP4 = "Decides to remain seized of the matter."

NEW_OP1_TER = "Further decides that the conference will be preceded by a preparatory meeting;"


def para(
    pid: int,
    kind: str,
    depth: int,
    label: str,
    text: str,
    status: str = "open",
    status_label: str = "open",
    *,
    deleted: bool = False,
) -> Paragraph:
    return Paragraph(pid, kind, depth, label, text, status, status_label, deleted)


def resolution() -> Circulated:
    """Rev.1 of a draft resolution: three PPs, OP1 with a reservation, OP1 bis with (a) and
    (b), OP2 deleted during the reading, OP3 and an agreed OP4."""
    return Circulated(
        symbol="A/71/L.58",
        title="Modalities for the intergovernmental negotiations of the global compact",
        subtitle="Draft resolution submitted by the President of the General Assembly",
        scheme="resolution",
        revision="Rev.1",
        issued_on=date(2017, 1, 26),
        document_id=7,
        revision_seq=2,
        paragraphs=(
            para(1, "preambular", 0, "PP1", PP1),
            para(2, "preambular", 0, "PP2", PP2, "agreed_ad_ref", "agreed ad ref"),
            para(3, "preambular", 0, "PP3", PP3),
            para(
                4,
                "operative",
                0,
                "OP1",
                OP1,
                "agreed_pending",
                "agreed in informals pending United States",
            ),
            para(5, "operative", 0, "OP1 bis", OP1_BIS),
            para(6, "subparagraph", 1, "OP1 bis (a)", OP1_BIS_A),
            para(7, "subparagraph", 1, "OP1 bis (b)", OP1_BIS_B),
            para(8, "operative", 0, "OP2", OP2, deleted=True),
            para(9, "operative", 0, "OP3", OP3),
            para(10, "operative", 0, "OP4", OP4, "agreed", "agreed"),
        ),
    )


def elements_paper() -> Circulated:
    """An elements paper: headings, unnumbered paragraphs and bullets."""
    return Circulated(
        symbol="GCM/EP/1",
        title="Modalities for the intergovernmental negotiations of the Global Compact",
        subtitle="Elements of a Draft Resolution",
        scheme="plain",
        revision="Zero draft",
        issued_on=date(2016, 12, 5),
        document_id=3,
        revision_seq=1,
        paragraphs=(
            para(
                21,
                "paragraph",
                0,
                "1",
                "With the adoption of the New York Declaration, "
                "Member States agreed to launch a process of negotiations.",
            ),
            para(22, "heading", 0, "2", "Scope of the Global Compact"),
            para(
                23,
                "paragraph",
                1,
                "2.1",
                "According to paragraph 2 of Annex II, the Global Compact would",
            ),
            para(
                24,
                "list_item",
                2,
                "2.1.1",
                "set out a range of principles, commitments and understandings;",
            ),
            para(
                25, "list_item", 3, "2.1.1.1", "including on migrants’ rights — là où nécessaire;"
            ),
            para(
                26, "list_item", 2, "2.1.2", "make an important contribution to global governance;"
            ),
            para(27, "heading", 1, "2.2", "a) Timeline"),
            para(
                28,
                "paragraph",
                2,
                "2.2.1",
                "Phase I: holding of broad consultations (المشاورات الإقليمية);",
            ),
        ),
    )


def proposal(
    reference: str,
    provision_id: int,
    kind: str,
    proponents: tuple[str, ...],
    *,
    base: str | None = None,
    text: str | None = None,
    supporters: tuple[str, ...] = (),
    opponents: tuple[str, ...] = (),
    justification: str | None = None,
    new_label: str | None = None,
    new_kind: str | None = None,
    move_after: str | None = None,
    state: str = "pending",
    created_at: datetime = WHEN,
) -> Proposal:
    diff = word_diff(base, text) if kind == "wording" and base is not None and text else ()
    return Proposal(
        reference=reference,
        provision_id=provision_id,
        kind=kind,
        proponents=proponents,
        supporters=supporters,
        opponents=opponents,
        justification=justification,
        created_at=created_at,
        diff=diff,
        text=text,
        new_label=new_label,
        move_after_label=move_after,
        state=state,
        new_kind=new_kind,
    )


PP1_A1 = PP1.replace("2016,", "2016 and its annexes,")
OP1_A2 = OP1.replace("[2018]", "2018")
OP1_A9 = OP1.replace("in [2018];", "in 2019;")
OP1_A10 = OP1.replace("auspices of", "auspices and at the Headquarters of")


def proposals() -> list[Proposal]:
    """Proposals that touch different words: all of them can be applied together."""
    return [
        proposal(
            "A-1",
            1,
            "wording",
            ("Holy See",),
            base=PP1,
            text=PP1_A1,
            supporters=("Mexico",),
            created_at=datetime(2017, 1, 19, 9, 30, tzinfo=UTC),
        ),
        proposal(
            "A-2",
            4,
            "wording",
            ("EU",),
            base=OP1,
            text=OP1_A2,
            supporters=("Norway",),
            opponents=("Russian Federation",),
            justification="The date is agreed in the modalities.",
        ),
        proposal(
            "A-3",
            5,
            "insert_after",
            ("G77 and China",),
            text=NEW_OP1_TER,
            new_label="OP1 ter",
            new_kind="operative",
            justification="A preparatory meeting helps smaller delegations.",
        ),
        proposal(
            "A-4",
            9,
            "delete",
            ("Russian Federation",),
            justification="Contributions are voluntary.",
        ),
        proposal("A-5", 3, "move", ("Egypt",), move_after="PP1"),
        proposal(
            "A-7",
            10,
            "wording",
            ("Canada",),
            base=OP4,
            text=OP4.replace("matter.", "matter at its next session."),
            state="rejected",
        ),
    ]


def overlapping() -> list[Proposal]:
    """Three proposals on OP1: A-9 changes the same words as A-2, A-10 other words."""
    return [
        *proposals(),
        proposal(
            "A-9",
            4,
            "wording",
            ("Mexico",),
            base=OP1,
            text=OP1_A9,
            justification="One more year is needed.",
        ),
        proposal("A-10", 4, "wording", ("Egypt",), base=OP1, text=OP1_A10),
    ]


def applied() -> Circulated:
    """`resolution()` with every pending proposal of `proposals()` applied: what Accept All
    must give."""
    doc = resolution()
    by_id = {p.provision_id: p for p in doc.paragraphs}
    new_op1_ter = para(11, "operative", 0, "OP1 ter", NEW_OP1_TER)
    order = [
        replace(by_id[1], text=PP1_A1),
        by_id[3],  # moved after PP1
        by_id[2],
        replace(by_id[4], text=OP1_A2),
        by_id[5],
        by_id[6],
        by_id[7],
        new_op1_ter,
        by_id[8],  # deleted: not printed
        # OP3 deleted by A-4
        by_id[10],
    ]
    return replace(doc, paragraphs=tuple(order))


def rev2() -> Circulated:
    """Rev.2 as the co-facilitators issue it: PP1 reworded, PP3 gone, OP1 bis renumbered OP2
    with its sub-paragraphs, a new OP3, OP3 and OP4 renumbered, a new subtitle."""
    old = {p.provision_id: p for p in resolution().paragraphs}
    return replace(
        resolution(),
        subtitle="Revised draft resolution submitted by the President of the General Assembly",
        revision="Rev.2",
        issued_on=date(2017, 2, 10),
        revision_seq=3,
        paragraphs=(
            replace(old[1], text=PP1.replace("Recalling", "Reaffirming")),
            old[2],
            replace(old[4], text=OP1_A2, status="agreed", status_label="agreed"),
            replace(old[5], label="OP2"),
            replace(old[6], label="OP2 (a)"),
            replace(old[7], label="OP2 (b)", text=OP1_BIS_B.replace("Geneva", "New York")),
            para(12, "operative", 0, "OP3", NEW_OP1_TER),
            replace(old[9], label="OP4"),
            replace(old[10], label="OP5"),
        ),
    )


# --------------------------------------------------------------------------------------------
# Reading helpers for the tests
# --------------------------------------------------------------------------------------------


def part(docx: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(BytesIO(docx)) as archive:
        return etree.fromstring(archive.read(name))


def part_names(docx: bytes) -> list[str]:
    with zipfile.ZipFile(BytesIO(docx)) as archive:
        return archive.namelist()


def all_text(docx: bytes) -> str:
    """Every text node of every XML part: to prove a name appears nowhere."""
    out = []
    with zipfile.ZipFile(BytesIO(docx)) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                root = etree.fromstring(archive.read(name))
                out.extend(root.itertext())
                out.extend(str(v) for el in root.iter() for v in el.attrib.values())
    return "\n".join(out)


def revisions(docx: bytes) -> list[etree._Element]:
    body = part(docx, "word/document.xml")
    return body.xpath("//w:ins | //w:del", namespaces=NS)


def revision_text(element: etree._Element) -> str:
    return "".join(element.xpath(".//w:t/text() | .//w:delText/text()", namespaces=NS))


# --------------------------------------------------------------------------------------------
# The samples are what the tests assume
# --------------------------------------------------------------------------------------------


def test_wording_proposals_are_written_on_their_paragraph() -> None:
    texts = {p.provision_id: p.text for p in resolution().paragraphs}
    for item in overlapping():
        if item.kind == "wording":
            assert apply_diff(texts[item.provision_id], item.diff) == item.text


def test_a1_inserts_words_in_the_middle() -> None:
    inserted = [op.text for op in overlapping()[0].diff if op.op == "insert"]
    assert inserted == [" and its annexes"]


def test_samples_carry_arabic_and_accents() -> None:
    texts = " ".join(p.text for d in (resolution(), elements_paper()) for p in d.paragraphs)
    assert re.search("[\u0600-\u06ff]", texts)
    assert "é" in texts
