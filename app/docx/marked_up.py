"""Read a delegation's marked-up copy of a circulated text back as proposed changes.

Delegations work in Word: they open the circulated text, switch on Track Changes and send the
file back. Typing those changes into Rolltext would take the secretariat days, so this module
reads them: which circulated revision the file is a copy of (from the custom properties every
export carries, else by matching its text), then, paragraph by paragraph, what the delegation
changes, deletes, inserts or moves — also where they forgot to track their changes.

The file's paragraphs *before* the delegation's changes (every revision rejected) are aligned
with the circulated paragraphs by their words, in order, so a printed number ("5 bis.", "(a)")
or a changed paragraph does not throw the rest off. The paragraphs *after* the changes (every
revision accepted) are then paired with those, through the Word paragraphs both views share.

Authors and dates in the file are informational only (Word may write "Author" and no date): the
delegation that uploads the file is the proponent. Nothing is saved here; the delegation sees the
report as a preview and confirms the changes it means.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Literal

from app.docx.importing import (
    Revision,
    View,
    WordBody,
    WordParagraph,
    clean_text,
    group_paragraphs,
    left_out,
    looks_operative,
    looks_preambular,
    read_body,
)
from app.docx.model import Circulated, Paragraph
from app.docx.safety import DocxPackage, open_docx, w
from app.domain.errors import Invalid
from app.domain.labels import LATIN_SUFFIXES

__all__ = ["MarkedUpReport", "ProposedChange", "read_marked_up"]

ChangeKind = Literal["wording", "delete", "insert_after", "move"]
IdentifiedBy = Literal["properties", "text"]

DOCUMENT_ID = "rolltext.document_id"
REVISION_SEQ = "rolltext.revision_seq"
_CUSTOM = "docProps/custom.xml"
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
# Below this share of circulated paragraphs found in the file, it is not a copy of the text.
MINIMUM_MATCH = 0.5
# Two paragraphs are "the same paragraph, reworded" from this share of words in common...
_SIMILAR = 0.5
# ...but only paragraphs this close count as "found" when deciding whether the file is a copy:
# two texts on the same subject share whole phrases ("safe, orderly and regular migration").
_FOUND = 0.8

_LATIN = "|".join(LATIN_SUFFIXES)
# A number printed in front of a paragraph: "5.", "5 bis.", "(a)", "(a bis)", "a)", "(iv)".
_LABEL = re.compile(
    rf"^(?:\d{{1,3}}(?:\s+(?:{_LATIN}))?\.|\((?:[a-z]{{1,6}}|\d{{1,3}})(?:\s+(?:{_LATIN}))?\)"
    rf"|[a-z]{{1,6}}\))(?=\s|$)"
)
_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"}
)


@dataclass(frozen=True, slots=True)
class ProposedChange:
    """One change the file proposes to the circulated text, for the delegation to confirm.

    provision_id is the circulated paragraph changed, deleted or moved; for "insert_after" it
    is the paragraph the new one follows (None: before the first paragraph), as is
    after_provision_id. `tracked` is False when the file differs from the circulated text
    without a tracked change (the delegation typed with Track Changes off).
    """

    kind: ChangeKind
    provision_id: int | None
    text: str | None = None  # wording, insert_after, move (when also reworded): the new words
    after_provision_id: int | None = None  # insert_after and move: where it goes
    authors: tuple[str, ...] = ()
    dates: tuple[datetime, ...] = ()
    tracked: bool = True
    label: str = ""  # the circulated label of provision_id, for the preview
    original: str | None = None  # the circulated words of provision_id
    new_kind: str | None = None  # insert_after: the kind of paragraph, as far as it shows

    def summary(self) -> str:
        """One line of the preview: 'OP2: change wording to "…"'."""
        where = self.label or "at the start"
        how = "" if self.tracked else " (not tracked)"
        match self.kind:
            case "wording":
                return f'{where}: change the wording to "{_excerpt(self.text or "")}"{how}'
            case "delete":
                return f"{where}: delete the paragraph{how}"
            case "insert_after":
                place = f"after {self.label}" if self.label else "before the first paragraph"
                return f'new paragraph {place}: "{_excerpt(self.text or "")}"{how}'
            case _:
                words = f', reworded "{_excerpt(self.text)}"' if self.text else ""
                return f"{where}: move the paragraph{words}{how}"


@dataclass(frozen=True, slots=True)
class MarkedUpReport:
    """What a marked-up file proposes, and how sure we are it is a copy of this revision."""

    identified_by: IdentifiedBy
    document_id: int | None
    revision_seq: int | None
    mismatch: str | None
    changes: tuple[ProposedChange, ...]
    warnings: tuple[str, ...]
    confidence: float  # share of the circulated paragraphs found in the file

    @property
    def preview(self) -> tuple[str, ...]:
        return tuple(change.summary() for change in self.changes)


def _excerpt(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _key(text: str) -> str:
    """What two printings of a paragraph have in common: words, not quotes, spaces or case."""
    text = unicodedata.normalize("NFKC", clean_text(text)).translate(_QUOTES)
    return strip_label(text).casefold()


def strip_label(text: str, circulated: str | None = None) -> str:
    """`text` without the number printed in front of it, unless the circulated words have it."""
    text = clean_text(text)
    match = _LABEL.match(text)
    if match is None:
        return text
    if circulated is not None and clean_text(circulated).startswith(match[0]):
        return text
    return text[match.end() :].lstrip()


def _custom_properties(package: DocxPackage) -> dict[str, str]:
    root = package.xml_or_none(_CUSTOM)
    if root is None:
        return {}
    found = {}
    for prop in root.iter(f"{{{_CUSTOM_NS}}}property"):
        name = prop.get("name")
        value = next((child.text for child in prop if child.text is not None), None)
        if name and value is not None:
            found[name] = value.strip()
    return found


def _as_int(value: str | None) -> int | None:
    """A property as written by Word (vt:i4 "7") or by LibreOffice (vt:r8 "7" or "7.0")."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return int(number) if number is not None and number.is_integer() else None


def _name(circulated: Circulated) -> str:
    return f"{circulated.symbol} {circulated.revision}".strip()


# --------------------------------------------------------------------------------------------
# Aligning the file with the circulated text
# --------------------------------------------------------------------------------------------


# A reworded paragraph is looked for among the file's paragraphs this far either side of where
# it would sit if the changed stretch were reworded one for one: this keeps a file rewritten
# from top to bottom from costing a comparison of every paragraph with every other.
_BAND = 25
_CANDIDATES = 3


def _similar_pairs(
    targets: Sequence[str], found: Sequence[str], left: Sequence[int], right: Sequence[int]
) -> dict[tuple[int, int], float]:
    """Share of words in common (difflib's ratio on words) of the plausible pairs.

    For each paragraph of the file, difflib's cheap bag-of-words bound picks the few likeliest
    circulated paragraphs near the diagonal; only those get the real (order-aware) ratio.
    """
    score: dict[tuple[int, int], float] = {}
    words = {i: targets[i].split() for i in left}
    matcher = SequenceMatcher(None, autojunk=False)
    for position, j in enumerate(right):
        matcher.set_seq2(found[j].split())  # difflib indexes the second sequence: reuse it
        diagonal = int(position * len(left) / max(len(right), 1))
        likely: list[tuple[float, int]] = []
        for i in left[max(0, diagonal - _BAND) : diagonal + _BAND + 1]:
            matcher.set_seq1(words[i])
            if matcher.real_quick_ratio() >= _SIMILAR:
                bound = matcher.quick_ratio()
                if bound >= _SIMILAR:
                    likely.append((bound, i))
        for _, i in sorted(likely, reverse=True)[:_CANDIDATES]:
            matcher.set_seq1(words[i])
            ratio = matcher.ratio()
            if ratio >= _SIMILAR:
                score[(i, j)] = ratio
    return score


def _pair_in_order(
    left: Sequence[int], right: Sequence[int], score: dict[tuple[int, int], float]
) -> list[tuple[int, int]]:
    """The order-preserving pairing of `left` with `right` with the highest total score.

    Only pairs with a positive score count; small inputs (a gap between matched paragraphs,
    or the Word paragraphs of one tracked change), so plain dynamic programming will do.
    """
    m, n = len(left), len(right)
    best = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(m - 1, -1, -1):
        for j in range(n - 1, -1, -1):
            pair = score.get((left[i], right[j]), 0.0)
            take = pair + best[i + 1][j + 1] if pair > 0 else 0.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs = []
    i = j = 0
    while i < m and j < n:
        pair = score.get((left[i], right[j]), 0.0)
        if pair > 0 and best[i][j] == pair + best[i + 1][j + 1]:
            pairs.append((left[i], right[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _align(targets: Sequence[str], found: Sequence[str]) -> dict[int, tuple[int, float]]:
    """Map indices of `found` (the file's paragraphs) to indices of `targets` (circulated),
    each with how alike the two are (1.0: the same words).

    Identical paragraphs anchor the alignment; between anchors, paragraphs are paired by the
    share of words they have in common, in order, so a reworded paragraph stays itself.
    """
    usable = [j for j, key in enumerate(found) if key]
    matcher = SequenceMatcher(None, list(targets), [found[j] for j in usable], autojunk=False)
    mapping: dict[int, tuple[int, float]] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                mapping[usable[j1 + offset]] = (i1 + offset, 1.0)
        elif tag == "replace":
            left = list(range(i1, i2))
            right = [usable[j] for j in range(j1, j2)]
            score = _similar_pairs(targets, found, left, right)
            for i, j in _pair_in_order(left, right, score):
                mapping[j] = (i, score[(i, j)])
    return mapping


# --------------------------------------------------------------------------------------------
# The file's paragraphs, before and after the delegation's changes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Group:
    """One paragraph of a view: the Word paragraphs it is made of, and its words."""

    members: tuple[int, ...]
    text: str

    @property
    def first(self) -> int:
        return self.members[0]


def _groups(paragraphs: Sequence[WordParagraph], view: View) -> list[_Group]:
    return [
        _Group(indices, clean_text("".join(paragraphs[i].text(view) for i in indices)))
        for indices in group_paragraphs(paragraphs, view)
    ]


def _kept(paragraph: WordParagraph) -> int:
    return sum(len(piece.text.strip()) for piece in paragraph.pieces if piece.kept)


def _components(paragraphs: Sequence[WordParagraph]) -> list[range]:
    """Runs of Word paragraphs that tracked paragraph marks tie together.

    A paragraph whose mark is untouched ends a paragraph in both views, so nothing before it
    is joined to anything after it.
    """
    out = []
    start = 0
    for index, paragraph in enumerate(paragraphs):
        if paragraph.mark_inserted is None and paragraph.mark_deleted is None:
            out.append(range(start, index + 1))
            start = index + 1
    if start < len(paragraphs):
        out.append(range(start, len(paragraphs)))
    return out


@dataclass(slots=True)
class _Reading:
    """The file read against one circulated revision."""

    circulated: Circulated
    paragraphs: Sequence[WordParagraph]
    originals: list[_Group]
    accepted: list[_Group]
    aligned: dict[int, Paragraph]  # original group index → circulated paragraph
    pairs: dict[int, int]  # original group index → accepted group index
    merged: set[int]  # original groups whose words went into another paragraph

    def revisions(self, groups: Sequence[_Group]) -> tuple[tuple[str, ...], tuple[datetime, ...]]:
        found: list[Revision] = []
        for group in groups:
            for index in group.members:
                found.extend(self.paragraphs[index].revisions)
        authors = tuple(dict.fromkeys(r.author for r in found if r.author))
        dates = tuple(sorted({r.date for r in found if r.date is not None}))
        return authors, dates

    def moved(self, groups: Sequence[_Group], kind: str) -> bool:
        return any(
            revision.kind == kind
            for group in groups
            for index in group.members
            for revision in self.paragraphs[index].revisions
        )


def _pair_views(
    paragraphs: Sequence[WordParagraph], originals: list[_Group], accepted: list[_Group]
) -> tuple[dict[int, int], set[int]]:
    """Pair each paragraph before the changes with the one it became, by the words it kept.

    The Word paragraph whose mark no revision touched ends a paragraph in both views: those two
    are one paragraph even when every word in it was retyped, so sharing it counts a little.
    """
    kept = [_kept(p) for p in paragraphs]
    by_member_o = {m: g for g, group in enumerate(originals) for m in group.members}
    by_member_a = {m: g for g, group in enumerate(accepted) for m in group.members}
    pairs: dict[int, int] = {}
    merged: set[int] = set()
    for component in _components(paragraphs):
        left = sorted({by_member_o[i] for i in component})
        right = sorted({by_member_a[i] for i in component})
        score: dict[tuple[int, int], float] = {}
        for i in component:
            untouched_mark = paragraphs[i].mark_inserted is None and not paragraphs[i].mark_deleted
            weight = kept[i] + (0.5 if untouched_mark else 0.0)
            if weight:
                key = (by_member_o[i], by_member_a[i])
                score[key] = score.get(key, 0.0) + weight
        for o, a in _pair_in_order(left, right, score):
            pairs[o] = a
        merged.update(o for (o, _a), weight in score.items() if weight >= 1 and o not in pairs)
    return pairs, merged


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def read_marked_up(data: bytes, circulated: Circulated) -> MarkedUpReport:
    """Read a marked-up copy of `circulated` into the changes it proposes.

    Refuses (Invalid) a file that is not a copy of this document: its custom properties name
    another document and its text does not match, or it has no properties and fewer than half
    of the circulated paragraphs are found in it.
    """
    package = open_docx(data)
    body = read_body(package)
    paragraphs = [p for p in body.paragraphs if not p.in_table]
    originals = _groups(paragraphs, "original")
    accepted = _groups(paragraphs, "accepted")
    targets = [p for p in circulated.paragraphs if not p.deleted]
    furniture = _furniture(circulated)
    keys = [_key(g.text) for g in originals]
    mapping = _align([_key(p.text) for p in targets], ["" if k in furniture else k for k in keys])
    found = sum(1 for _, likeness in mapping.values() if likeness >= _FOUND)
    confidence = found / len(targets) if targets else 0.0

    properties = _custom_properties(package)
    document_id = _as_int(properties.get(DOCUMENT_ID))
    revision_seq = _as_int(properties.get(REVISION_SEQ))
    identified_by: IdentifiedBy = "properties" if document_id is not None else "text"
    mismatch = _mismatch(circulated, document_id, revision_seq)
    other_document = document_id is not None and document_id != circulated.document_id
    if (identified_by == "text" or other_document) and confidence < MINIMUM_MATCH:
        raise Invalid(_not_a_copy(circulated, found, len(targets), mismatch))

    pairs, merged = _pair_views(paragraphs, originals, accepted)
    reading = _Reading(
        circulated=circulated,
        paragraphs=paragraphs,
        originals=originals,
        accepted=accepted,
        aligned={o: targets[t] for o, (t, _) in mapping.items()},
        pairs=pairs,
        merged=merged,
    )
    changes, change_warnings = _changes(reading)
    warnings = _file_warnings(package, body, identified_by, confidence, found, len(targets))
    warnings.extend(change_warnings)
    if not changes:
        warnings.append("No changes to the circulated text were found in this file.")
    return MarkedUpReport(
        identified_by=identified_by,
        document_id=document_id,
        revision_seq=revision_seq,
        mismatch=mismatch,
        changes=tuple(changes),
        warnings=tuple(dict.fromkeys(warnings)),
        confidence=confidence,
    )


def _furniture(circulated: Circulated) -> set[str]:
    """Lines an export prints that are not provisions: title, subtitle, symbol, formula."""
    lines = (circulated.title, circulated.subtitle, circulated.symbol, "The General Assembly,")
    return {_key(line) for line in lines if line}


def _mismatch(circulated: Circulated, document_id: int | None, seq: int | None) -> str | None:
    if document_id is None:
        return None
    if document_id != circulated.document_id:
        return (
            f"This file was exported from another document (document {document_id}), not from "
            f"{_name(circulated)}."
        )
    if seq is not None and seq != circulated.revision_seq:
        when = "an earlier" if seq < circulated.revision_seq else "a later"
        return (
            f"This file was exported from {when} revision (revision {seq}) of {circulated.symbol} "
            f"than {circulated.revision or 'the one'} now circulated (revision "
            f"{circulated.revision_seq}): its changes are compared with the text now circulated, "
            "so wording that changed between the two shows as untracked changes."
        )
    return None


def _not_a_copy(circulated: Circulated, found: int, total: int, mismatch: str | None) -> str:
    message = (
        f"This file does not look like a copy of {_name(circulated)}: only {found} of its "
        f"{total} paragraphs were found in it. Upload the marked-up copy of this text (the Word "
        "file Rolltext exported, with your changes tracked)."
    )
    return f"{message} {mismatch}" if mismatch else message


_OUTSIDE_BODY = re.compile(r"^word/(?:header|footer|footnotes|endnotes)\d*\.xml$")
_REVISION_TAGS = tuple(w(tag) for tag in ("ins", "del", "moveFrom", "moveTo"))


def _revised_outside_body(package: DocxPackage) -> bool:
    """Tracked changes in headers, footers or footnotes, which are not provisions."""
    for name in package.xml_parts():
        if _OUTSIDE_BODY.match(name):
            root = package.xml(name)
            if any(True for _ in root.iter(*_REVISION_TAGS)):
                return True
    return False


def _file_warnings(
    package: DocxPackage,
    body: WordBody,
    identified_by: IdentifiedBy,
    confidence: float,
    found: int,
    total: int,
) -> list[str]:
    """What the delegation should know about the file before confirming its changes."""
    warnings = []
    if identified_by == "text":
        warnings.append(
            f"This file carries no Rolltext properties: it was matched by its text ({found} of "
            f"{total} paragraphs found). Check that it is a copy of this revision."
        )
    elif confidence < MINIMUM_MATCH:
        warnings.append(
            f"Only {found} of {total} circulated paragraphs were found in this file: check the "
            "changes carefully."
        )
    if any(p.formatting_changed for p in body.paragraphs):
        warnings.append("Formatting changes were left out: Rolltext reads changes to words.")
    if body.comments:
        warnings.append(
            left_out(body.comments, "comment", "comments")
            + " Add a justification to a change when you confirm it."
        )
    if body.tables:
        warnings.append(left_out(body.tables, "table", "tables"))
    if any(p.in_table and p.tracked for p in body.paragraphs):
        warnings.append("Tracked changes inside tables were not read.")
    if _revised_outside_body(package):
        warnings.append(
            "Tracked changes in headers, footers or footnotes were not read: only the "
            "paragraphs of the text are."
        )
    return warnings


@dataclass(frozen=True, slots=True)
class _Event:
    """A change found at a place in the file, with the Word paragraphs it comes from."""

    position: float
    order: int  # at one position, changes to a paragraph come before paragraphs after it
    change: ProposedChange
    members: tuple[int, ...]


def _changes(reading: _Reading) -> tuple[list[ProposedChange], list[str]]:
    """Walk the file in order and say what each paragraph proposes."""
    circulated = reading.circulated
    originals, accepted = reading.originals, reading.accepted
    warnings: list[str] = []
    paired_accepted = set(reading.pairs.values())
    first_aligned = min(reading.aligned, default=len(originals))
    furniture = _furniture(circulated)

    events: list[_Event] = []
    for o, group in enumerate(originals):
        paragraph = reading.aligned.get(o)
        a = reading.pairs.get(o)
        if a is not None and not strip_label(accepted[a].text):
            a = None  # every word deleted, the paragraph mark left behind
        if paragraph is None:
            if a is None or o < first_aligned or not group.text or _key(group.text) in furniture:
                continue
            # A paragraph typed without Track Changes: it was never circulated.
            new = accepted[a]
            events.append(
                _Event(group.first, 1, _insertion(reading, new, tracked=False), new.members)
            )
            continue
        if a is None:
            authors, dates = reading.revisions([group])
            if o in reading.merged:
                warnings.append(
                    f"{paragraph.label or 'A paragraph'} was joined to the paragraph next to it: "
                    "it is proposed for deletion, and its words as part of the other paragraph."
                )
            deletion = ProposedChange(
                kind="delete",
                provision_id=paragraph.provision_id,
                authors=authors,
                dates=dates,
                tracked=any(reading.paragraphs[i].tracked for i in group.members),
                label=paragraph.label,
                original=paragraph.text,
            )
            events.append(_Event(group.first, 0, deletion, group.members))
            continue
        new_text = strip_label(accepted[a].text, paragraph.text)
        if clean_text(new_text) == clean_text(paragraph.text):
            continue
        before = strip_label(group.text, paragraph.text)
        authors, dates = reading.revisions([group, accepted[a]])
        wording = ProposedChange(
            kind="wording",
            provision_id=paragraph.provision_id,
            text=new_text,
            authors=authors,
            dates=dates,
            tracked=clean_text(before) == clean_text(paragraph.text),
            label=paragraph.label,
            original=paragraph.text,
        )
        events.append(_Event(group.first, 0, wording, group.members + accepted[a].members))
    for a, group in enumerate(accepted):
        if a in paired_accepted or not group.text:
            continue
        insertion = _insertion(reading, group, tracked=True)
        events.append(_Event(group.first, 1, insertion, group.members))

    found = {paragraph.provision_id for paragraph in reading.aligned.values()}
    for paragraph in circulated.paragraphs:
        if paragraph.deleted or paragraph.provision_id in found:
            continue
        deletion = ProposedChange(
            kind="delete",
            provision_id=paragraph.provision_id,
            tracked=False,
            label=paragraph.label,
            original=paragraph.text,
        )
        events.append(_Event(_position_of_missing(reading, paragraph), 0, deletion, ()))
    events.sort(key=lambda event: (event.position, event.order))
    return _moves(events, reading, warnings), warnings


def _position_of_missing(reading: _Reading, paragraph: Paragraph) -> float:
    """Where a circulated paragraph missing from the file would have been: just before the
    next circulated paragraph the file has (after any paragraph inserted before that)."""
    order = {p.provision_id: n for n, p in enumerate(reading.circulated.paragraphs)}
    wanted = order[paragraph.provision_id]
    later = [
        reading.originals[o].first
        for o, aligned in reading.aligned.items()
        if order[aligned.provision_id] > wanted
    ]
    return min(later, default=len(reading.paragraphs)) - 0.5


def _anchor(reading: _Reading, start: int) -> Paragraph | None:
    """The circulated paragraph a new paragraph starting at Word paragraph `start` follows."""
    before = [o for o in reading.aligned if reading.originals[o].first < start]
    return reading.aligned[max(before)] if before else None


_KIND_BY_LABEL = ((re.compile(r"^\d{1,3}(?:\s+\w+)?\.\s"), "operative"), (_LABEL, "subparagraph"))


def _insertion(reading: _Reading, group: _Group, *, tracked: bool) -> ProposedChange:
    anchor = _anchor(reading, group.first)
    authors, dates = reading.revisions([group]) if tracked else ((), ())
    return ProposedChange(
        kind="insert_after",
        provision_id=anchor.provision_id if anchor else None,
        text=strip_label(group.text),
        after_provision_id=anchor.provision_id if anchor else None,
        authors=authors,
        dates=dates,
        tracked=tracked,
        label=anchor.label if anchor else "",
        new_kind=_new_kind(reading, group, anchor),
    )


def _new_kind(reading: _Reading, group: _Group, anchor: Paragraph | None) -> str | None:
    """The kind of a new paragraph: from a number typed in front of it, else from the circulated
    paragraphs printed in the same Word style (when that style is used for one kind), else from
    its opening words, else its anchor's."""
    text = clean_text(group.text)
    for pattern, kind in _KIND_BY_LABEL:
        if pattern.match(text + " "):
            return kind
    style = reading.paragraphs[group.members[-1]].style_name
    kinds = [
        paragraph.kind
        for o, paragraph in reading.aligned.items()
        if reading.paragraphs[reading.originals[o].members[-1]].style_name == style
    ]
    common = max(set(kinds), key=kinds.count) if kinds else None
    if common is not None and kinds.count(common) >= 0.8 * len(kinds):
        return common
    if reading.circulated.scheme == "resolution" and looks_preambular(text):
        return "preambular"
    if reading.circulated.scheme == "resolution" and looks_operative(text):
        return "operative"
    return anchor.kind if anchor else None


def _moves(events: list[_Event], reading: _Reading, warnings: list[str]) -> list[ProposedChange]:
    """A deleted paragraph whose words come back elsewhere was moved.

    Word marks a move with moveFrom/moveTo; a cut and paste with Track Changes on shows as a
    deletion and an insertion of the same words. Either way it is one "move" proposal. Words
    moved from one paragraph into another stay a deletion and an insertion, with a warning.
    """
    changes = [event.change for event in events]
    deletions = [c for c in changes if c.kind == "delete" and c.tracked and c.original]
    insertions = [c for c in changes if c.kind == "insert_after" and c.tracked and c.text]
    replaced: dict[int, ProposedChange | None] = {}
    for deletion in deletions:
        match = next(
            (
                insertion
                for insertion in insertions
                if id(insertion) not in replaced
                and _key(insertion.text or "") == _key(deletion.original or "")
            ),
            None,
        )
        if match is None:
            continue
        replaced[id(match)] = None
        replaced[id(deletion)] = ProposedChange(
            kind="move",
            provision_id=deletion.provision_id,
            after_provision_id=match.after_provision_id,
            authors=tuple(dict.fromkeys(deletion.authors + match.authors)),
            dates=tuple(sorted(set(deletion.dates + match.dates))),
            tracked=True,
            label=deletion.label,
            original=deletion.original,
        )
    out = []
    partial_move = False
    for event in events:
        change = event.change
        if id(change) in replaced:
            substitute = replaced[id(change)]
            if substitute is not None:
                out.append(substitute)
            continue
        out.append(change)
        partial_move |= any(
            revision.kind in ("moveFrom", "moveTo")
            for index in event.members
            for revision in reading.paragraphs[index].revisions
        )
    if partial_move:
        warnings.append(
            "Some words were moved with Track Changes: they are proposed as a deletion where "
            "they were and an insertion where they went."
        )
    return out
