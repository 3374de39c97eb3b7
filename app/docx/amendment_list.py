"""The amendment list: every proposal on a revision, provision by provision, in a two-column
table, the text as circulated on the left and each proposal, marked up, on the right with its
proponents, supporters, opponents, state and justification.

Where the compilation shows the text with proposals, this list is the secretariat's record of
the proposals themselves: it shows every state (pending, accepted, rejected…), not only the
pending ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import _Cell
from lxml import etree

from app.docx.compilation import markup_spans
from app.docx.layout import (
    STYLE_BODY,
    STYLE_SUBTITLE,
    STYLE_TITLE,
    TEXT_WIDTH,
    Block,
    Piece,
    add_row,
    date_text,
    list_levels,
    new_document,
    new_paragraph_block,
    pieces,
    plain_pieces,
    plain_spans,
    provision_block,
    save,
    style_id,
)
from app.docx.model import Circulated, Proposal
from app.docx.ooxml import Span, append_spans, element
from app.docx.placement import wording_ops

__all__ = ["amendment_list"]

_LEFT = TEXT_WIDTH * 2 // 5
_RIGHT = TEXT_WIDTH - _LEFT


def _kind_title(proposal: Proposal, label: str) -> str:
    if proposal.kind == "wording":
        return f"Change of wording of {label}"
    if proposal.kind == "insert_after":
        new = f" ({proposal.new_label})" if proposal.new_label else ""
        return f"New paragraph after {label}{new}"
    if proposal.kind == "delete":
        return f"Deletion of {label}"
    if proposal.kind == "move":
        return f"Move of {label} after {proposal.move_after_label or 'another place'}"
    return f"{proposal.kind} ({label})"


def _marked(doc: Circulated, block: Block, proposal: Proposal) -> list[Span]:
    """The proposal marked as in a compilation (without the names: they follow)."""
    if proposal.kind == "wording":
        if proposal.state == "pending" or not proposal.diff:
            ops = wording_ops(block.text, proposal)
        else:
            ops = proposal.diff  # as written: the text may have moved on since
        return markup_spans(pieces(ops, block.emphasis))
    if proposal.kind == "insert_after":
        new = new_paragraph_block(
            doc.scheme,
            block,
            key="new",
            text=proposal.text or "",
            label=proposal.new_label,
            kind=proposal.new_kind,
        )
        items = [
            Piece(p.text, "insert", p.italic, p.bold) for p in plain_pieces(new.text, new.emphasis)
        ]
        return markup_spans(items)
    if proposal.kind == "delete":
        items = [
            Piece(p.text, "delete", p.italic, p.bold)
            for p in plain_pieces(block.text, block.emphasis)
        ]
        return markup_spans(items)
    return [Span(f"Move after {proposal.move_after_label or 'another place'}", italic=True)]


def _line(
    cell: _Cell, spans: Sequence[Span], *, first: bool = False, after: float | None = None
) -> None:
    """One paragraph of a cell, in the body style, not justified (a table column is narrow).
    Written as XML: through python-docx's setters, 60,000 of them took seconds."""
    tc = cell._tc
    paragraph = tc.find(_P) if first else etree.SubElement(tc, _P)
    assert paragraph is not None
    properties = element("w:pPr")
    paragraph.insert(0, properties)
    etree.SubElement(properties, _P_STYLE, {_VAL: _BODY})
    if after is not None:
        etree.SubElement(properties, _SPACING, {_AFTER: str(round(after * 20))})
    etree.SubElement(properties, _JC, {_VAL: "left"})
    append_spans(paragraph, spans)


_P, _P_STYLE, _SPACING, _JC = qn("w:p"), qn("w:pStyle"), qn("w:spacing"), qn("w:jc")
_VAL, _AFTER, _BODY = qn("w:val"), qn("w:after"), style_id(STYLE_BODY)


def _field(cell: _Cell, name: str, value: str) -> None:
    _line(cell, [Span(f"{name}: ", bold=True), Span(value)], after=1)


def _header_row(document: DocxDocument, cells: Sequence[_Cell], revision: str) -> None:
    for cell, text in zip(cells, (f"Text of {revision}", "Proposal"), strict=True):
        _line(cell, [Span(text, bold=True)], first=True)
    # Repeat the header on every page.
    row = cells[0]._tc.getparent()
    trpr = row.get_or_add_trPr()
    trpr.append(OxmlElement("w:tblHeader"))


def amendment_list(doc: Circulated, proposals: Sequence[Proposal]) -> bytes:
    """Every proposal on `doc`, grouped by the provision it concerns, in text order."""
    document = new_document(doc, running_title=f"{doc.title}: amendment list")
    title = document.add_paragraph(style=STYLE_TITLE)
    append_spans(title._p, [Span(doc.title)])
    intro = document.add_paragraph(style=STYLE_SUBTITLE)
    append_spans(
        intro._p,
        [Span(f"Proposals on {doc.revision} of {date_text(doc.issued_on)}: amendment list")],
    )
    known = {p.provision_id for p in doc.paragraphs}
    for proposal in proposals:
        if proposal.provision_id not in known:
            raise ValueError(
                f"Proposal {proposal.reference} concerns provision {proposal.provision_id}, "
                f"which is not in {doc.symbol} {doc.revision}."
            )

    table = document.add_table(rows=1, cols=2)
    table.style = document.styles["Table Grid"]
    table.autofit = False
    for col, width in zip(
        table._tbl.tblGrid.findall(qn("w:gridCol")), (_LEFT, _RIGHT), strict=True
    ):
        col.set(qn("w:w"), str(width))
    _header_row(document, table.rows[0].cells, doc.revision)

    levels = list_levels(doc.paragraphs)
    by_provision: dict[int, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        by_provision[proposal.provision_id].append(proposal)
    for paragraph in doc.paragraphs:
        mine = by_provision.get(paragraph.provision_id)
        if not mine:
            continue
        block = provision_block(doc.scheme, paragraph, levels.get(paragraph.provision_id, 1))
        label = paragraph.label or "the heading"
        margins: list[_Cell] = []
        for proposal in mine:
            left, right = add_row(table, (_LEFT, _RIGHT))
            margins.append(left)
            _line(
                right,
                [
                    Span(proposal.reference, bold=True),
                    Span(" — "),
                    Span(_kind_title(proposal, label), italic=True),
                ],
                first=True,
            )
            _line(right, _marked(doc, block, proposal))
            _field(right, "Proposed by", ", ".join(proposal.proponents) or "—")
            if proposal.supporters:
                _field(right, "Supported by", ", ".join(proposal.supporters))
            if proposal.opponents:
                _field(right, "Opposed by", ", ".join(proposal.opponents))
            when = proposal.created_at.astimezone(UTC)
            _field(right, "Submitted", f"{date_text(when.date())}, {when:%H:%M} UTC")
            _field(right, "State", proposal.state.replace("_", " "))
            if proposal.justification:
                _field(right, "Justification", proposal.justification)
        top = margins[0]
        margin = [Span(paragraph.label, bold=True)]
        if paragraph.deleted:
            margin.append(Span(" [deleted]", italic=True))
        elif paragraph.status_label:
            margin.append(Span(f" [{paragraph.status_label}]", italic=True))
        _line(top, margin, first=True)
        _line(top, plain_spans(plain_pieces(paragraph.text, block.emphasis)))
        if len(margins) > 1:  # one margin cell down the provision's rows; python-docx's
            top._tc.vMerge = "restart"  # merge() looks each row up again: quadratic
            for cell in margins[1:]:
                cell._tc.vMerge = "continue"
    return save(document)
