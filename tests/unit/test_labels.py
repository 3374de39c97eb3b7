"""Labels: stable during a reading (OP5 bis stays OP5 bis whatever happens around it), dense
after a revision, with a record of which old label became which new one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.labels import (
    LATIN_SUFFIXES,
    LabelKey,
    LabelNode,
    ProvisionKind,
    Scheme,
    format_labels,
    key_for_alternative,
    key_for_insert,
    key_for_new,
    label_map,
    latin_suffix,
    letter,
    parse_reference,
    renumber,
    roman,
)

H = ProvisionKind.HEADING
PP = ProvisionKind.PREAMBULAR
OP = ProvisionKind.OPERATIVE
PARA = ProvisionKind.PARAGRAPH
ITEM = ProvisionKind.LIST_ITEM
SUB = ProvisionKind.SUBPARAGRAPH
R = Scheme.RESOLUTION
PLAIN = Scheme.PLAIN


def node(
    id: int, kind: ProvisionKind, parent: int | None, *key: int, deleted: bool = False
) -> LabelNode:
    return LabelNode(id, kind, parent, LabelKey(*key) if key else None, deleted)


# --------------------------------------------------------------------------------------------
# Words and numerals
# --------------------------------------------------------------------------------------------


def test_latin_suffixes_in_order() -> None:
    assert [latin_suffix(n) for n in range(1, 11)] == [
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
    ]
    assert LATIN_SUFFIXES[-9:] == (
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
    assert latin_suffix(19) == "vicies"
    assert latin_suffix(20) == "21"
    assert latin_suffix(30) == "31"
    with pytest.raises(ValueError):
        latin_suffix(0)


def test_letters_follow_un_usage() -> None:
    assert [letter(n) for n in (1, 2, 26, 27, 28, 52, 53)] == [
        "a",
        "b",
        "z",
        "aa",
        "bb",
        "zz",
        "aaa",
    ]
    with pytest.raises(ValueError):
        letter(0)


def test_roman_numerals() -> None:
    assert [roman(n) for n in (1, 2, 3, 4, 5, 9, 10, 14, 40, 49, 90, 1994)] == [
        "i",
        "ii",
        "iii",
        "iv",
        "v",
        "ix",
        "x",
        "xiv",
        "xl",
        "xlix",
        "xc",
        "mcmxciv",
    ]
    with pytest.raises(ValueError):
        roman(0)


# --------------------------------------------------------------------------------------------
# Keys during a reading
# --------------------------------------------------------------------------------------------


def test_insert_after_takes_the_next_latin_suffix() -> None:
    op5, op6 = LabelKey(5), LabelKey(6)
    assert key_for_insert(op5, [op5, op6]) == LabelKey(5, 1)
    # OP5 bis exists (even placed after a later insertion, or deleted): next is OP5 ter
    assert key_for_insert(op5, [op5, LabelKey(5, 1), op6]) == LabelKey(5, 2)
    assert key_for_insert(LabelKey(5, 1), [op5, LabelKey(5, 1)]) == LabelKey(5, 2)
    assert key_for_insert(LabelKey(6, 0, 1), [op6, LabelKey(6, 0, 1)]) == LabelKey(6, 1)


def test_insert_before_the_first() -> None:
    pp1 = LabelKey(1)
    assert key_for_insert(None, [pp1]) == LabelKey(0)
    assert key_for_insert(None, [LabelKey(0), pp1]) == LabelKey(0, 1)
    assert key_for_insert(None, []) == LabelKey(1)


def test_alternative_of_a_paragraph() -> None:
    op6 = LabelKey(6)
    assert key_for_alternative(op6, [op6]) == LabelKey(6, 0, 1)
    assert key_for_alternative(op6, [op6, LabelKey(6, 0, 1)]) == LabelKey(6, 0, 2)
    assert key_for_alternative(LabelKey(6, 0, 1), [op6, LabelKey(6, 0, 1)]) == LabelKey(6, 0, 2)
    assert key_for_alternative(LabelKey(5, 1), [LabelKey(5), LabelKey(5, 1)]) == LabelKey(5, 1, 1)


def test_new_paragraph_after_a_heading_follows_the_last_of_its_class() -> None:
    nodes = [
        node(1, PP, None, 1),
        node(2, PP, None, 2),
        node(3, H, None),
        node(99, PP, 3),  # placed first under the heading
        node(4, PP, 3, 3),
        node(5, OP, None, 1),
    ]
    assert key_for_new(R, nodes, 99) == LabelKey(2, 1)
    assert key_for_new(R, [node(99, H, None), *nodes[:3]], 99) is None
    assert key_for_new(PLAIN, [node(99, H, None), *nodes[:3]], 99) == LabelKey(0)


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

RESOLUTION = [
    node(1, PP, None, 0, 1),
    node(2, PP, None, 1),
    node(3, H, None),
    node(4, PP, 3, 2),
    node(5, PP, 3, 2, 1, deleted=True),
    node(6, OP, None, 3),
    node(7, SUB, 6, 1),
    node(8, SUB, 6, 1, 1),
    node(9, SUB, 6, 2),
    node(10, SUB, 9, 2),
    node(11, SUB, 10, 1),
    node(12, SUB, 11, 4),
    node(13, OP, None, 5, 2),
    node(14, OP, None, 6, 0, 1),
    node(15, OP, None, 6, 0, 2),
    node(16, OP, None, 5, 1, 1),
]


def test_resolution_labels_as_said_in_the_room() -> None:
    assert format_labels(R, RESOLUTION) == {
        1: "PP0 bis",
        2: "PP1",
        3: "",
        4: "PP2",
        5: "PP2 bis",
        6: "OP3",
        7: "OP3 (a)",
        8: "OP3 (a bis)",
        9: "OP3 (b)",
        10: "OP3 (b) (ii)",
        11: "OP3 (b) (ii) (A)",
        12: "OP3 (b) (ii) (A) (4)",
        13: "OP5 ter",
        14: "OP6 alt",
        15: "OP6 alt 2",
        16: "OP5 bis alt",
    }


def test_sub_items_before_the_first_and_without_a_paragraph() -> None:
    nodes = [
        node(1, OP, None, 1),
        node(2, SUB, 1, 0, 1),
        node(3, ITEM, None, 2),
        node(4, ITEM, 3, 1),
    ]
    assert format_labels(R, nodes) == {1: "OP1", 2: "OP1 (0 bis)", 3: "(b)", 4: "(b) (i)"}
    annex = [node(1, OP, None, 1), node(2, H, None), node(3, PARA, 2, 1), node(4, PARA, 2, 1, 1)]
    assert format_labels(R, annex) == {1: "OP1", 2: "", 3: "para 1", 4: "para 1 bis"}


def test_plain_outline_numbers() -> None:
    nodes = [
        node(1, H, None, 3),
        node(2, PARA, 1, 2),
        node(3, ITEM, 2, 1),
        node(4, PARA, 1, 2, 1),
        node(5, PARA, 1, 2, 0, 1),
        node(6, H, None, 3, 1),
        node(7, ITEM, 6, 1),
    ]
    assert format_labels(PLAIN, nodes) == {
        1: "3",
        2: "3.2",
        3: "3.2.1",
        4: "3.2 bis",
        5: "3.2 alt",
        6: "3 bis",
        7: "3 bis.1",
    }


# --------------------------------------------------------------------------------------------
# Revisions
# --------------------------------------------------------------------------------------------


def test_revision_renumbers_densely_and_records_the_map() -> None:
    keys = renumber(R, RESOLUTION)
    assert 3 not in keys and 5 not in keys  # the heading, the deleted PP2 bis
    after = [replace(n, key=keys.get(n.id), deleted=False) for n in RESOLUTION if n.id != 5]
    labels = format_labels(R, after)
    assert [labels[i] for i in (1, 2, 4)] == ["PP1", "PP2", "PP3"]
    assert [labels[i] for i in (6, 13, 14, 15, 16)] == ["OP1", "OP2", "OP3", "OP4", "OP5"]
    assert [labels[i] for i in (7, 8, 9, 10, 11, 12)] == [
        "OP1 (a)",
        "OP1 (b)",
        "OP1 (c)",
        "OP1 (c) (i)",
        "OP1 (c) (i) (A)",
        "OP1 (c) (i) (A) (1)",
    ]
    assert label_map(R, RESOLUTION, keys) == {
        "PP0 bis": "PP1",
        "PP1": "PP2",
        "PP2": "PP3",
        "PP2 bis": "",
        "OP3": "OP1",
        "OP3 (a)": "OP1 (a)",
        "OP3 (a bis)": "OP1 (b)",
        "OP3 (b)": "OP1 (c)",
        "OP3 (b) (ii)": "OP1 (c) (i)",
        "OP3 (b) (ii) (A)": "OP1 (c) (i) (A)",
        "OP3 (b) (ii) (A) (4)": "OP1 (c) (i) (A) (1)",
        "OP5 ter": "OP2",
        "OP6 alt": "OP3",
        "OP6 alt 2": "OP4",
        "OP5 bis alt": "OP5",
    }


def test_a_deleted_paragraph_leaves_with_its_sub_paragraphs() -> None:
    nodes = [
        node(1, OP, None, 1, deleted=True),
        node(2, SUB, 1, 1),
        node(3, OP, None, 2),
        node(4, SUB, 3, 1),
    ]
    keys = renumber(R, nodes)
    assert keys == {3: LabelKey(1), 4: LabelKey(1)}
    assert label_map(R, nodes, keys) == {
        "OP1": "",
        "OP1 (a)": "",
        "OP2": "OP1",
        "OP2 (a)": "OP1 (a)",
    }


def test_plain_revision() -> None:
    nodes = [
        node(1, H, None, 0),
        node(2, H, None, 1),
        node(3, PARA, 2, 1, 1),
        node(4, PARA, 2, 1),
        node(5, H, None, 2, deleted=True),
        node(6, H, None, 3),
    ]
    keys = renumber(PLAIN, nodes)
    assert keys == {1: LabelKey(1), 2: LabelKey(2), 3: LabelKey(1), 4: LabelKey(2), 6: LabelKey(3)}
    assert label_map(PLAIN, nodes, keys) == {
        "0": "1",
        "1": "2",
        "1.1 bis": "2.1",
        "1.1": "2.2",
        "2": "",
        "3": "3",
    }


# --------------------------------------------------------------------------------------------
# Stability during a reading, as a property
# --------------------------------------------------------------------------------------------


@dataclass
class Draft:
    """A document tree edited the way a reading edits it: insert, delete, move."""

    scheme: Scheme
    children: dict[int | None, list[int]] = field(default_factory=lambda: {None: []})
    kinds: dict[int, ProvisionKind] = field(default_factory=dict)
    parents: dict[int, int | None] = field(default_factory=dict)
    keys: dict[int, LabelKey | None] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)

    def nodes(self) -> list[LabelNode]:
        out: list[LabelNode] = []
        stack = list(reversed(self.children[None]))
        while stack:
            i = stack.pop()
            out.append(
                LabelNode(i, self.kinds[i], self.parents[i], self.keys[i], i in self.deleted)
            )
            stack.extend(reversed(self.children[i]))
        return out

    def insert(self, kind: ProvisionKind, parent: int | None, index: int) -> int:
        new = len(self.kinds) + 1
        self.kinds[new], self.parents[new], self.keys[new] = kind, parent, None
        self.children[new] = []
        siblings = self.children[parent]
        siblings.insert(min(index, len(siblings)), new)
        self.keys[new] = key_for_new(self.scheme, self.nodes(), new)
        return new


def _apply(draft: Draft, data: st.DataObject) -> None:
    action = data.draw(st.sampled_from(["insert", "insert", "delete", "move"]))
    ids = list(draft.kinds)
    if action == "insert" or not ids:
        parent = data.draw(st.sampled_from([None, *ids]))
        if draft.scheme is Scheme.PLAIN:
            kind = data.draw(st.sampled_from([H, PARA, ITEM]))
        elif parent is None or draft.kinds[parent] is H:
            kind = data.draw(st.sampled_from([PP, OP, H]))
        else:
            kind = SUB
        draft.insert(kind, parent, data.draw(st.integers(0, len(draft.children[parent]))))
    elif action == "delete":
        draft.deleted.add(data.draw(st.sampled_from(ids)))
    else:
        moved = data.draw(st.sampled_from(ids))
        old_parent = draft.parents[moved]
        targets = [old_parent]
        if draft.scheme is Scheme.RESOLUTION and draft.kinds[moved] in (PP, OP):
            # headings are transparent: a PP or OP may move to another section
            targets += [None, *(i for i, k in draft.kinds.items() if k is H and i != moved)]
            targets = [t for t in targets if not _inside(draft, t, moved)]
        parent = data.draw(st.sampled_from(targets))
        draft.children[old_parent].remove(moved)
        index = data.draw(st.integers(0, len(draft.children[parent])))
        draft.children[parent].insert(index, moved)
        draft.parents[moved] = parent


def _inside(draft: Draft, target: int | None, moved: int) -> bool:
    while target is not None:
        if target == moved:
            return True
        target = draft.parents[target]
    return False


def _check_unique(labels: dict[int, str]) -> None:
    shown = [label for label in labels.values() if label]
    assert len(shown) == len(set(shown)), shown


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([Scheme.RESOLUTION, Scheme.PLAIN]), st.data())
def test_labels_are_stable_during_a_reading(scheme: Scheme, data: st.DataObject) -> None:
    draft = Draft(scheme)
    labels: dict[int, str] = {}
    for _ in range(data.draw(st.integers(1, 30))):
        _apply(draft, data)
        now = format_labels(scheme, draft.nodes())
        for provision_id, label in labels.items():
            assert now[provision_id] == label
        _check_unique(now)
        labels = now


def _dense(labels: list[str], numeral: str) -> None:
    assert labels == [numeral.format(n) for n in range(1, len(labels) + 1)]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([Scheme.RESOLUTION, Scheme.PLAIN]), st.data())
def test_a_revision_leaves_dense_labels(scheme: Scheme, data: st.DataObject) -> None:
    draft = Draft(scheme)
    for _ in range(data.draw(st.integers(1, 30))):
        _apply(draft, data)
    before = draft.nodes()
    keys = renumber(scheme, before)
    mapping = label_map(scheme, before, keys)
    old = format_labels(scheme, before)

    # deleted provisions and everything under them leave the text; the rest keep a key
    by_id = {n.id: n for n in before}
    gone: set[int] = set()
    for n in before:
        if n.deleted or n.parent_id in gone:
            gone.add(n.id)
    for n in before:
        labelled = scheme is Scheme.PLAIN or n.kind is not H
        assert (n.id in keys) == (labelled and n.id not in gone)

    after = [replace(n, key=keys.get(n.id), deleted=False) for n in before if n.id not in gone]
    new = format_labels(scheme, after)
    _check_unique(new)
    assert not any(re.search(r"bis|ter|alt|\b0\b|\(0", label) for label in new.values())
    # every labelled provision is in the record; survivors map to their new label
    assert set(mapping) == {label for label in old.values() if label}
    for n in before:
        if old[n.id]:
            assert mapping[old[n.id]] == new.get(n.id, "")
            assert (mapping[old[n.id]] == "") == (n.id in gone)

    by_parent: dict[int | None, list[LabelNode]] = {}
    for n in after:
        by_parent.setdefault(n.parent_id, []).append(n)
    if scheme is Scheme.PLAIN:
        for siblings in by_parent.values():
            assert [n.key for n in siblings] == [LabelKey(i) for i in range(1, len(siblings) + 1)]
        return
    _dense([new[n.id] for n in after if n.kind is PP], "PP{}")
    _dense([new[n.id] for n in after if n.kind is OP], "OP{}")
    styles: dict[int, Callable[[int], str]] = {
        1: letter,
        2: roman,
        3: lambda i: letter(i).upper(),
        4: str,
    }
    for parent, siblings in by_parent.items():
        if parent is None or by_id[parent].kind is H:
            continue
        level = _level(by_id, parent) + 1
        numerals = [new[n.id].rsplit(" ", 1)[-1] for n in siblings]
        assert numerals == [f"({styles[min(level, 4)](i)})" for i in range(1, len(siblings) + 1)]


def _level(by_id: dict[int, LabelNode], provision_id: int) -> int:
    """Depth among labelled provisions: 0 for a PP or OP."""
    level = 0
    parent = by_id[provision_id].parent_id
    while parent is not None:
        if by_id[parent].kind is not H:
            level += 1
        parent = by_id[parent].parent_id
    return level


# --------------------------------------------------------------------------------------------
# Labels as people type them
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PP2bis", ("PP", LabelKey(2, 1))),
        ("OP7ter", ("OP", LabelKey(7, 2))),
        ("OP3quat", ("OP", LabelKey(3, 3))),
        ("op 5 quin", ("OP", LabelKey(5, 4))),
        ("OP6 alt", ("OP", LabelKey(6, 0, 1))),
        ("OP6alt2", ("OP", LabelKey(6, 0, 2))),
        ("OP5 bis alt", ("OP", LabelKey(5, 1, 1))),
        ("OP5bisalt 2", ("OP", LabelKey(5, 1, 2))),
        ("PP0 bis", ("PP", LabelKey(0, 1))),
        ("OP5 21", ("OP", LabelKey(5, 20))),
        (" OP12 ", ("OP", LabelKey(12))),
    ],
)
def test_parse_reference(text: str, expected: tuple[str, LabelKey]) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text", ["OP", "OP5 bus", "XX5", "OP5 3", "OP (a)", "OP5 alt bis"])
def test_parse_reference_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_reference(text)


@given(st.sampled_from(["PP", "OP"]), st.integers(0, 99), st.integers(0, 25), st.integers(0, 3))
def test_parse_reads_what_format_writes(prefix: str, number: int, insert: int, alt: int) -> None:
    key = LabelKey(number, insert, alt)
    kind = PP if prefix == "PP" else OP
    label = format_labels(R, [LabelNode(1, kind, None, key)])[1]
    assert parse_reference(label) == (prefix, key)
