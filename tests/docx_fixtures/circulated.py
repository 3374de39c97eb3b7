"""Circulated revisions for the tests, made from outlines the way the service makes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from app.docx.model import Circulated, Paragraph
from app.domain.labels import LabelNode, ProvisionKind, Scheme, format_labels, renumber
from app.domain.outline import Outline, OutlineProvision, parse_outline

SMALL_RESOLUTION = """# Modalities for the intergovernmental conference on international migration

The General Assembly,

_Recalling_ its resolution 71/1 of 19 September 2016, entitled "New York Declaration for \
Refugees and Migrants",

_Reaffirming_ the purposes and principles of the Charter of the United Nations,

_Noting_ the contribution of migrants to sustainable development,

1. _Decides_ that the intergovernmental conference shall:
   (a) be held in 2018 at United Nations Headquarters;
   (b) consist of:
       (i) plenary meetings;
       (ii) interactive multi-stakeholder panels;
   (c) adopt the global compact for safe, orderly and regular migration;
2. _Requests_ the President of the General Assembly to appoint two co-facilitators;
3. _Invites_ Member States to contribute to the Voluntary Trust Fund;
4. _Decides_ to remain seized of the matter.
"""


def circulated(
    outline: Outline | str,
    *,
    document_id: int = 7,
    revision_seq: int = 2,
    symbol: str = "A/72/L.5",
    revision: str = "Rev.1",
) -> Circulated:
    """The revision a co-facilitator would circulate for `outline`, labels renumbered densely."""
    if isinstance(outline, str):
        outline = parse_outline(outline)
    rows: list[tuple[int, OutlineProvision, int | None, int]] = []

    def walk(provisions: tuple[OutlineProvision, ...], parent: int | None, depth: int) -> None:
        for provision in provisions:
            rows.append((100 + len(rows), provision, parent, depth))
            walk(provision.children, rows[-1][0], depth + 1)

    walk(outline.provisions, None, 0)
    scheme = Scheme(outline.scheme)
    nodes = [LabelNode(i, ProvisionKind(p.kind), parent, None) for i, p, parent, _ in rows]
    keys = renumber(scheme, nodes)
    labels = format_labels(scheme, [replace(n, key=keys.get(n.id)) for n in nodes])
    return Circulated(
        symbol=symbol,
        title=outline.title,
        subtitle=outline.subtitle,
        scheme=outline.scheme,
        revision=revision,
        issued_on=date(2017, 3, 1),
        document_id=document_id,
        revision_seq=revision_seq,
        paragraphs=tuple(
            Paragraph(
                provision_id=i,
                kind=p.kind,
                depth=depth,
                label=labels.get(i, ""),
                text=p.text,
                status="open",
                status_label="open",
            )
            for i, p, _, depth in rows
        ),
    )
