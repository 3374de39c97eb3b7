"""Paragraph labels: PP3, OP5 bis, OP6 alt, OP3 (a) (ii), or 3.2 bis in an elements paper.

Labels are stable during a reading: everyone's notes say "OP5 bis", so a label is stored with
the provision (a LabelKey given when it is created), never recomputed from its position. A
paragraph inserted after OP5 is OP5 bis, the next one OP5 ter; a deleted paragraph keeps its
label (shown as deleted) and a moved one keeps it too. Only a revision renumbers, densely, and
the revision records which old label became which new one.

Counting classes (the provisions numbered together):

* resolution scheme: every preambular paragraph of the document in one sequence (PP1, PP2…,
  whatever headings lie between them), every top-level operative paragraph in one sequence
  (OP1…), and the sub-paragraphs or list items of one paragraph among themselves ((a), (b)…).
  Headings have no label and are transparent: a paragraph under a heading is still "top level".
  A plain "paragraph" at top level (an annex, say) is numbered in its own sequence, "para 3".
* plain scheme (elements papers, outline numbering 3.2.1): the children of one parent, every
  kind counted, headings included.

Moving a provision keeps its key, so a move should stay within its counting class; a provision
moved to another class (another parent paragraph, or from preamble to operative part) needs a
new key from `key_for_new`, or its old label would collide with one already there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "LATIN_SUFFIXES",
    "LabelKey",
    "LabelNode",
    "ProvisionKind",
    "Scheme",
    "format_labels",
    "key_for_alternative",
    "key_for_insert",
    "key_for_new",
    "label_map",
    "latin_suffix",
    "letter",
    "parse_reference",
    "renumber",
    "roman",
]


class Scheme(StrEnum):
    """How a document numbers its provisions."""

    RESOLUTION = "resolution"
    PLAIN = "plain"  # elements paper: outline numbering


class ProvisionKind(StrEnum):
    HEADING = "heading"
    PREAMBULAR = "preambular"
    OPERATIVE = "operative"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    SUBPARAGRAPH = "subparagraph"


@dataclass(frozen=True, slots=True, order=True)
class LabelKey:
    """A stored label: OP5 bis is LabelKey(5, 1), OP6 alt 2 is LabelKey(6, 0, 2).

    `number` is the one given at the last renumbering (0 for a provision inserted before the
    first of its class); `insert` counts insertions after it (1 bis, 2 ter…); `alt` numbers
    alternative wordings of a whole paragraph (1 "alt", 2 "alt 2").
    """

    number: int
    insert: int = 0
    alt: int = 0


@dataclass(frozen=True, slots=True)
class LabelNode:
    """What labelling needs to know about one provision; a sequence of them is in reading order
    (a parent before its children)."""

    id: int
    kind: ProvisionKind
    parent_id: int | None
    key: LabelKey | None  # None for headings in the resolution scheme
    deleted: bool = False


# --------------------------------------------------------------------------------------------
# Words and numerals
# --------------------------------------------------------------------------------------------

#: The Latin multiplicative adverbs the UN uses for inserted paragraphs, from the 2nd to the 20th.
LATIN_SUFFIXES = (
    "bis",
    "ter",
    "quater",
    "quinquies",
    "sexies",
    "septies",
    "octies",
    "novies",
    "decies",
    "undecies",
    "duodecies",
    "terdecies",
    "quaterdecies",
    "quindecies",
    "sexdecies",
    "septdecies",
    "octodecies",
    "novodecies",
    "vicies",
)


def latin_suffix(n: int) -> str:
    """The word for the n-th paragraph inserted after the same one: 1 "bis", 2 "ter"…

    Beyond "vicies" (n = 19) there is no word in use; the ordinal is written as a figure,
    n + 1 (the 21st is "21": "OP5 21"), which stays unique and sorts correctly.
    """
    if n < 1:
        raise ValueError(f"An inserted paragraph is numbered from 1, not {n}.")
    if n <= len(LATIN_SUFFIXES):
        return LATIN_SUFFIXES[n - 1]
    return str(n + 1)


def letter(n: int) -> str:
    """Sub-paragraph letters: 1 "a" … 26 "z", then, as in UN documents, 27 "aa", 28 "bb"…"""
    if n < 1:
        raise ValueError(f"Letters count from 1, not {n}.")
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


_ROMAN = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)


def roman(n: int) -> str:
    """Second-level sub-paragraph numerals: 1 "i", 4 "iv", 9 "ix"."""
    if n < 1:
        raise ValueError(f"Roman numerals count from 1, not {n}.")
    out = []
    for value, numeral in _ROMAN:
        count, n = divmod(n, value)
        out.append(numeral * count)
    return "".join(out)


def _suffix_words(key: LabelKey) -> list[str]:
    words = []
    if key.insert:
        words.append(latin_suffix(key.insert))
    if key.alt:
        words.append("alt" if key.alt == 1 else f"alt {key.alt}")
    return words


# --------------------------------------------------------------------------------------------
# New keys during a reading
# --------------------------------------------------------------------------------------------


def key_for_insert(anchor: LabelKey | None, siblings: Iterable[LabelKey]) -> LabelKey:
    """The key of a provision inserted after `anchor` (None: before the first of its class).

    It takes the anchor's number and the next free insertion, so after OP5 come OP5 bis, then
    OP5 ter, even when OP5 ter is placed before OP5 bis. `siblings` are the keys of the whole
    counting class, deleted provisions included: a deleted OP5 bis keeps its label, so the next
    insertion is OP5 ter. Before the first provision comes PP0, then PP0 bis. An empty class
    starts at 1.
    """
    taken = list(siblings)
    if anchor is None:
        if not taken:
            return LabelKey(1)
        zeros = [k.insert for k in taken if k.number == 0]
        return LabelKey(0, max(zeros) + 1 if zeros else 0)
    inserts = [k.insert for k in taken if k.number == anchor.number]
    return LabelKey(anchor.number, max([anchor.insert, *inserts]) + 1)


def key_for_alternative(of: LabelKey, siblings: Iterable[LabelKey]) -> LabelKey:
    """An alternative wording of a whole paragraph: OP6 alt, then OP6 alt 2."""
    alts = [k.alt for k in siblings if (k.number, k.insert) == (of.number, of.insert)]
    return LabelKey(of.number, of.insert, max([of.alt, *alts]) + 1)


def key_for_new(scheme: Scheme, nodes: Sequence[LabelNode], new_id: int) -> LabelKey | None:
    """The key of a provision just placed in the text (`nodes`, in reading order, include it).

    Its anchor is the nearest provision of its counting class before it, so a preambular
    paragraph placed right after a heading still follows the last PP. Returns None for a
    heading in the resolution scheme, which has no label.
    """
    by_id = {n.id: n for n in nodes}
    new = by_id[new_id]
    cls = _class_of(scheme, new, by_id)
    if cls is None:
        return None
    anchor: LabelKey | None = None
    siblings: list[LabelKey] = []
    before = True
    for node in nodes:
        if node.id == new_id:
            before = False
            continue
        if node.key is None or _class_of(scheme, node, by_id) != cls:
            continue
        siblings.append(node.key)
        if before:
            anchor = node.key
    return key_for_insert(anchor, siblings)


# --------------------------------------------------------------------------------------------
# Counting classes
# --------------------------------------------------------------------------------------------

_TOP_PREFIX = {
    ProvisionKind.PREAMBULAR: "PP",
    ProvisionKind.OPERATIVE: "OP",
    ProvisionKind.PARAGRAPH: "para ",
}

_Class = tuple[str, int | None]


def _labelled_parent(node: LabelNode, by_id: dict[int, LabelNode]) -> LabelNode | None:
    """The nearest ancestor that is not a heading: headings do not count in a resolution."""
    parent = by_id.get(node.parent_id) if node.parent_id is not None else None
    while parent is not None and parent.kind is ProvisionKind.HEADING:
        parent = by_id.get(parent.parent_id) if parent.parent_id is not None else None
    return parent


def _class_of(scheme: Scheme, node: LabelNode, by_id: dict[int, LabelNode]) -> _Class | None:
    parent_id = node.parent_id if node.parent_id in by_id else None
    if scheme is Scheme.PLAIN:
        return ("children", parent_id)
    if node.kind is ProvisionKind.HEADING:
        return None
    parent = _labelled_parent(node, by_id)
    if parent is not None:
        return ("children", parent.id)
    return (_TOP_PREFIX.get(node.kind, "items"), None)


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _sub_label(level: int, key: LabelKey) -> str:
    """Sub-paragraph numbering by depth: (a), then (ii), then (A), then (1) from level 4 on.

    Number 0 (inserted before the first) prints as "0": "(0 bis)"."""
    n = key.number
    if n < 1:
        numeral = str(n)
    elif level == 1:
        numeral = letter(n)
    elif level == 2:
        numeral = roman(n)
    elif level == 3:
        numeral = letter(n).upper()
    else:
        numeral = str(n)
    return "(" + " ".join([numeral, *_suffix_words(key)]) + ")"


def _resolution_label(
    node: LabelNode, by_id: dict[int, LabelNode], memo: dict[int, tuple[str, int]]
) -> tuple[str, int]:
    """The label and the depth among labelled provisions (0 for PP/OP)."""
    if node.id in memo:
        return memo[node.id]
    if node.kind is ProvisionKind.HEADING or node.key is None:
        result = ("", -1)
    else:
        parent = _labelled_parent(node, by_id)
        if parent is None:
            prefix = _TOP_PREFIX.get(node.kind)
            if prefix is None:  # a list item with no paragraph above it
                result = (_sub_label(1, node.key), 1)
            else:
                result = (" ".join([f"{prefix}{node.key.number}", *_suffix_words(node.key)]), 0)
        else:
            base, depth = _resolution_label(parent, by_id, memo)
            level = max(depth, 0) + 1
            part = _sub_label(level, node.key)
            result = (f"{base} {part}" if base else part, level)
    memo[node.id] = result
    return result


def _plain_label(node: LabelNode, by_id: dict[int, LabelNode], memo: dict[int, str]) -> str:
    if node.id in memo:
        return memo[node.id]
    parent = by_id.get(node.parent_id) if node.parent_id is not None else None
    base = _plain_label(parent, by_id, memo) if parent is not None else ""
    if node.key is None:
        label = base
    else:
        own = " ".join([str(node.key.number), *_suffix_words(node.key)])
        label = f"{base}.{own}" if base else own
    memo[node.id] = label
    return label


def format_labels(scheme: Scheme, nodes: Sequence[LabelNode]) -> dict[int, str]:
    """The full label of every provision, as said in the room ("OP3 (a bis)", "3.2 alt").

    Deleted provisions keep theirs. Headings of a resolution get "" (they have no label).
    """
    by_id = {n.id: n for n in nodes}
    if scheme is Scheme.PLAIN:
        plain: dict[int, str] = {}
        return {n.id: _plain_label(n, by_id, plain) for n in nodes}
    memo: dict[int, tuple[str, int]] = {}
    return {n.id: _resolution_label(n, by_id, memo)[0] for n in nodes}


# --------------------------------------------------------------------------------------------
# Revisions
# --------------------------------------------------------------------------------------------


def _leaving(nodes: Sequence[LabelNode]) -> set[int]:
    """Deleted provisions leave the text at a revision, with everything under them."""
    by_id = {n.id: n for n in nodes}
    gone: set[int] = set()
    for node in nodes:
        parent = by_id.get(node.parent_id) if node.parent_id is not None else None
        if node.deleted or (parent is not None and parent.id in gone):
            gone.add(node.id)
    return gone


def renumber(scheme: Scheme, nodes: Sequence[LabelNode]) -> dict[int, LabelKey]:
    """Dense keys for a clean revision: 1, 2, 3… in reading order within each counting class.

    Deleted provisions (and what is under them) leave the text and get no key; "bis" and "ter"
    become plain numbers. An alternative ("OP6 alt") still in the text at a revision becomes a
    paragraph of its own (OP6 and OP6 alt become OP6 and OP7): the co-facilitators normally
    choose between them first. Headings of a resolution get no key.
    """
    gone = _leaving(nodes)
    by_id = {n.id: n for n in nodes if n.id not in gone}
    counters: dict[_Class, int] = {}
    keys: dict[int, LabelKey] = {}
    for node in nodes:
        if node.id in gone:
            continue
        cls = _class_of(scheme, node, by_id)
        if cls is None:
            continue
        counters[cls] = counters.get(cls, 0) + 1
        keys[node.id] = LabelKey(counters[cls])
    return keys


def label_map(
    scheme: Scheme, before: Sequence[LabelNode], after_keys: dict[int, LabelKey]
) -> dict[str, str]:
    """Old label -> new label, for the revision record ("OP5 bis" -> "OP6").

    Every labelled provision before the revision appears; one that left the text (no key in
    `after_keys`) maps to "".
    """
    old = format_labels(scheme, before)
    after = [
        LabelNode(n.id, n.kind, n.parent_id, after_keys.get(n.id))
        for n in before
        if n.id in after_keys or (scheme is Scheme.RESOLUTION and n.kind is ProvisionKind.HEADING)
    ]
    new = format_labels(scheme, after)
    return {old[n.id]: new.get(n.id, "") for n in before if old[n.id]}


# --------------------------------------------------------------------------------------------
# Reading labels as people say them
# --------------------------------------------------------------------------------------------

_REFERENCE = re.compile(
    r"^\s*(?P<prefix>PP|OP)\s*(?P<number>\d+)"
    r"(?:\s*(?P<insert>(?!alt)[a-z]+?|\d+(?=\s|$)))?"
    r"(?:\s*(?P<alt_word>alt)(?:\s*(?P<alt>\d+))?)?\s*\.?\s*$",
    re.IGNORECASE,
)


def parse_reference(text: str) -> tuple[str, LabelKey]:
    """Read a top-level label as delegates write it: "PP2bis", "OP7ter", "OP3quat", "op 6 alt 2".

    A Latin word may be shortened to any of its prefixes; the shortest word wins ("quat" is
    quater, "quin" quinquies). Raises ValueError when the text is not such a label.
    """
    match = _REFERENCE.match(text)
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a paragraph label such as 'OP5 bis'.")
    insert = 0
    word = match["insert"]
    if word:
        if word.isdigit():
            insert = int(word) - 1
            if insert <= len(LATIN_SUFFIXES):
                raise ValueError(f"{text.strip()!r}: write the Latin word, not {word}.")
        else:
            found = [s for s in LATIN_SUFFIXES if s.startswith(word.lower())]
            if not found:
                raise ValueError(f"{text.strip()!r}: {word!r} is not bis, ter, quater…")
            insert = LATIN_SUFFIXES.index(min(found, key=len)) + 1
    alt = int(match["alt"] or 1) if match["alt_word"] else 0
    return match["prefix"].upper(), LabelKey(int(match["number"]), insert, alt)
