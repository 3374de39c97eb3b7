"""The compilation text: the base text with every pending proposal inline, as circulated
after a first reading, attributed (who proposed what) or unattributed (the same marks, no
names).

Layout (the legend at the top of the file says the same to the reader). The text runs in a
two-column table without borders: the left column is the label margin ("OP3", with the status
of an agreed paragraph under it, "[agreed ad ref]", and the row shaded green, or yellow when
agreed in informals pending a delegation), the right column the words.

* One proposal on a paragraph: marked inline, added words **bold and underlined**, deleted words
  struck through, each change followed by its proponents in bold parentheses
  "(EU; supported by Norway; opposed by Russian Federation)".
* Several proposals on one paragraph: the paragraph is printed once as it stands, then each
  proposal on its own line under it, "Alt. 1 (EU):", "Alt. 2 (G77 and China):", with its
  changes marked in the whole paragraph (the names are in the "Alt." label, not repeated
  after each change). Proposals to delete the paragraph print as the whole text struck through.
* A new paragraph prints where it would go, after its anchor and the anchor's sub-paragraphs,
  with its label in the margin ("OP5 bis", or "new after OP5" when it has none yet), all its
  words bold and underlined.
* A move prints as a note under the paragraph: "Proposal to move OP3 after OP7 (EU)".
* A deleted provision keeps its label, with "(deleted)" in place of its words.

Attributed compilations carry each justification as a Word comment by the first proponent,
dated when the proposal was made. Unattributed ones name no delegation anywhere in the file.
"""

from __future__ import annotations

from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Twips
from docx.table import Table
from lxml import etree

from app.docx.layout import (
    STYLE_BODY,
    STYLE_LEGEND,
    STYLE_SUBTITLE,
    STYLE_TITLE,
    TEXT_WIDTH,
    Block,
    Piece,
    add_row,
    date_text,
    new_document,
    new_paragraph_block,
    pieces,
    plain_pieces,
    save,
    title_blocks,
)
from app.docx.model import Circulated, Proposal
from app.docx.ooxml import Span, add_comment, append_spans, shade_cell
from app.docx.placement import Placed, Slot, place, wording_ops

__all__ = ["STATUS_COLOURS", "compilation", "markup_spans"]

#: Row shading by paragraph status: the colour code negotiators already read.
STATUS_COLOURS = {
    "agreed": "C6E0B4",
    "agreed_ad_ref": "E2EFDA",
    "agreed_pending": "FFF2CC",
}
_QUIET_STATUSES = {"open", "not_discussed", ""}
_MARGIN_WIDTH = 2041  # 3.6 cm
_SUB_INDENT = 567


def _split_edges(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    lead = text[: len(text) - len(text.lstrip())]
    return lead, core, text[len(lead) + len(core) :]


def markup_spans(items: Sequence[Piece], attribution: str | None = None) -> list[Span]:
    """Pieces as a compilation marks them: added words bold and underlined, deleted words
    struck through (the spaces at the edges of a change left plain), and after each change,
    when `attribution` is given, the proponents in bold parentheses."""
    out: list[Span] = []
    for i, piece in enumerate(items):
        if piece.change == "equal":
            out.append(Span(piece.text, italic=piece.italic, bold=piece.bold))
            continue
        before = items[i - 1].change if i else "equal"
        after = items[i + 1].change if i + 1 < len(items) else "equal"
        lead, core, trail = _split_edges(piece.text)
        # Inside one change (cut where the italics end) the spaces are marked too.
        if before == piece.change:
            lead, core = "", lead + core
        if after == piece.change:
            core, trail = core + trail, ""
        if piece.change == "insert" and before == "delete" and not lead:
            lead = " "  # "~~Recalling~~ **Reaffirming**": a deletion and its replacement apart
        marked = (
            Span(core, italic=piece.italic, bold=True, underline=True)
            if piece.change == "insert"
            else Span(core, italic=piece.italic, bold=piece.bold, strike=True)
        )
        out += [Span(lead), marked]
        if attribution and after == "equal":
            out += [Span(" "), Span(f"({attribution})", bold=True)]
        out.append(Span(trail))
    return [span for span in out if span.text]


def _inserted(block: Block) -> list[Piece]:
    return [
        Piece(p.text, "insert", p.italic, p.bold) for p in plain_pieces(block.text, block.emphasis)
    ]


def _deleted(block: Block) -> list[Piece]:
    return [
        Piece(p.text, "delete", p.italic, p.bold) for p in plain_pieces(block.text, block.emphasis)
    ]


class _Writer:
    """Writes the compilation table row by row."""

    def __init__(self, document: DocxDocument, doc: Circulated, *, attributed: bool) -> None:
        self.document = document
        self.doc = doc
        self.attributed = attributed
        self.table: Table = document.add_table(rows=0, cols=2)
        self.table.alignment = WD_TABLE_ALIGNMENT.LEFT
        self.table.autofit = False
        grid = self.table._tbl.tblGrid
        widths = (_MARGIN_WIDTH, TEXT_WIDTH - _MARGIN_WIDTH)
        for col, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
            col.set(qn("w:w"), str(width))

    def row(
        self, margin: list[Span], text: list[Span], *, status: str = "", indent: int = 0
    ) -> list[etree._Element]:
        """A row: label margin, then the words. Returns the runs of the words, one per span."""
        cells = add_row(self.table, (_MARGIN_WIDTH, TEXT_WIDTH - _MARGIN_WIDTH), STYLE_BODY)
        left, right = (cell.paragraphs[0] for cell in cells)
        left.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT  # labels do not justify
        if indent:
            right.paragraph_format.left_indent = Twips(indent)
        append_spans(left._p, margin)
        runs = append_spans(right._p, text)
        fill = STATUS_COLOURS.get(status)
        if fill:
            for cell in cells:
                shade_cell(cell._tc, fill)
        return runs

    def comment(self, runs: list[etree._Element], spans: list[Span], proposal: Proposal) -> None:
        """Attach the justification to the proposal's first attribution (or its first run)."""
        if not (self.attributed and proposal.justification and runs):
            return
        bold = [
            i for i, span in enumerate(spans) if span.bold and span.text.startswith(("(", "Alt."))
        ]
        anchor = runs[bold[0]] if bold else runs[0]
        add_comment(
            self.document,
            anchor,
            anchor,
            text=f"{proposal.reference}: {proposal.justification}",
            author=proposal.author,
            when=proposal.created_at,
        )

    def attribution(self, proposal: Proposal) -> str | None:
        return proposal.attribution if self.attributed else None


def _margin(block: Block) -> list[Span]:
    paragraph = block.paragraph
    assert paragraph is not None
    spans = [Span(paragraph.label, bold=True)]
    if paragraph.deleted:
        spans.append(Span("\n[deleted]", italic=True, size=9))
    elif paragraph.status not in _QUIET_STATUSES and paragraph.status_label:
        spans.append(Span(f"\n[{paragraph.status_label}]", italic=True, size=9))
    return spans


def _indent(block: Block) -> int:
    """Sub-paragraphs and list items sit indented in the words column."""
    paragraph = block.paragraph
    if paragraph is None or paragraph.kind not in ("subparagraph", "list_item"):
        return 0
    return _SUB_INDENT * max(block.list_level, 1)


def _proposal_pieces(block: Block, proposal: Proposal) -> list[Piece]:
    if proposal.kind == "delete":
        return _deleted(block)
    return pieces(wording_ops(block.text, proposal), block.emphasis)


def _write_slot(writer: _Writer, slot: Slot) -> None:
    block = slot.block
    paragraph = block.paragraph
    assert paragraph is not None
    status = "" if paragraph.deleted else paragraph.status
    indent = _indent(block)
    on_paragraph = slot.on_paragraph
    if paragraph.deleted:
        writer.row(_margin(block), [Span("(deleted)", italic=True)], status=status)
    elif len(on_paragraph) == 1:
        proposal = on_paragraph[0].proposal
        spans = markup_spans(_proposal_pieces(block, proposal), writer.attribution(proposal))
        runs = writer.row(_margin(block), spans, status=status, indent=indent)
        writer.comment(runs, spans, proposal)
    else:
        spans = markup_spans(plain_pieces(block.text, block.emphasis))
        writer.row(_margin(block), spans, status=status, indent=indent)
    if paragraph.deleted or len(on_paragraph) > 1:
        for number, placed in enumerate(on_paragraph, start=1):
            _write_alternative(writer, block, placed.proposal, number, indent)
    for placed in slot.moves:
        _write_move(writer, block, placed.proposal, indent)
    for placed in slot.new_after:
        _write_new(writer, placed)


def _write_alternative(
    writer: _Writer, block: Block, proposal: Proposal, number: int, indent: int
) -> None:
    label = f"Alt. {number}"
    if writer.attributed:
        label += f" ({proposal.attribution})"
    spans = [Span(label + ":", bold=True), Span(" ")]
    spans += markup_spans(_proposal_pieces(block, proposal))
    writer.comment(writer.row([], spans, indent=indent), spans, proposal)


def _write_move(writer: _Writer, block: Block, proposal: Proposal, indent: int) -> None:
    label = block.paragraph.label if block.paragraph else ""
    target = proposal.move_after_label or "another place"
    spans = [Span(f"Proposal to move {label or 'this paragraph'} after {target}", italic=True)]
    if writer.attributed:
        spans += [Span(" "), Span(f"({proposal.attribution})", bold=True)]
    writer.comment(writer.row([], spans, indent=indent), spans, proposal)


def _write_new(writer: _Writer, placed: Placed) -> None:
    proposal, anchor = placed.proposal, placed.anchor
    block = new_paragraph_block(
        writer.doc.scheme,
        anchor,
        key=f"new{placed.index}",
        text=proposal.text or "",
        label=proposal.new_label,
        kind=proposal.new_kind,
    )
    anchor_label = anchor.paragraph.label if anchor.paragraph else ""
    margin_label = proposal.new_label or (f"new after {anchor_label}" if anchor_label else "new")
    spans = markup_spans(_inserted(block), writer.attribution(proposal))
    runs = writer.row([Span(margin_label, bold=True)], spans, indent=_indent(block))
    writer.comment(runs, spans, proposal)


def _legend(document: DocxDocument, *, attributed: bool) -> None:
    """What the marks mean, at the top of the file."""

    def line(*spans: Span) -> None:
        paragraph = document.add_paragraph(style=STYLE_LEGEND)
        append_spans(paragraph._p, spans)

    line(Span("Legend", bold=True))
    line(Span("added words", bold=True, underline=True), Span(": words proposed for addition"))
    line(Span("deleted words", strike=True), Span(": words proposed for deletion"))
    if attributed:
        line(
            Span("(EU; supported by …; opposed by …)", bold=True),
            Span(
                ": after each change, the delegation or group that proposed it, then those "
                "supporting and opposing it; justifications are in the comments"
            ),
        )
    line(
        Span("Alt. 1, Alt. 2", bold=True),
        Span(
            ": where several proposals concern one paragraph, the paragraph is printed once "
            "as it stands and each proposal follows on its own line, marked in full"
        ),
    )
    line(
        Span("OP5 bis / new after OP5", bold=True),
        Span(": a proposed new paragraph, printed where it would go, all its words added"),
    )
    line(Span("Proposal to move", italic=True), Span(": a proposal to move a paragraph"))
    line(
        Span("[agreed ad ref]"),
        Span(
            ": status under the label; green rows are agreed or agreed ad ref, yellow rows "
            "agreed in informals pending a delegation; a deleted paragraph keeps its label"
        ),
    )
    line(Span("[ ]"), Span(": square brackets are part of the text: words not yet agreed"))
    document.add_paragraph(style=STYLE_LEGEND)


def compilation(doc: Circulated, proposals: Sequence[Proposal], *, attributed: bool) -> bytes:
    """The compilation text of `doc` with its pending `proposals` (see the module docstring
    for the layout). `attributed=False` gives the same text without any names."""
    kind = "attributed" if attributed else "unattributed"
    document = new_document(doc, running_title=f"{doc.title}: compilation ({kind})")
    heading = title_blocks(doc)
    for block in heading:
        if block.key in ("title", "subtitle"):
            style = STYLE_TITLE if block.key == "title" else STYLE_SUBTITLE
            paragraph = document.add_paragraph(style=style)
            append_spans(paragraph._p, [Span(block.text)])
    intro = document.add_paragraph(style=STYLE_SUBTITLE)
    append_spans(
        intro._p,
        [
            Span(
                f"Compilation of proposals ({kind}) on {doc.revision} of {date_text(doc.issued_on)}"
            )
        ],
    )
    _legend(document, attributed=attributed)
    writer = _Writer(document, doc, attributed=attributed)
    for block in heading:
        if block.key == "formula":
            writer.row([], [Span(block.text, italic=True)])
    for slot in place(doc, proposals):
        _write_slot(writer, slot)
    return save(document)
