"""Word-level diffs and rebasing of amendments (app.domain.diff)."""

from __future__ import annotations

import itertools
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import diff as diff_module
from app.domain.diff import (
    _TOKEN,
    Change,
    DiffMismatch,
    DiffOp,
    NeedsRedraft,
    Rebased,
    apply_diff,
    changes,
    collisions,
    new_text,
    old_text,
    rebase,
    tokenize,
    word_diff,
)

# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

ZWJ_FAMILY = "👩\u200d👩\u200d👧"
CLUSTERS = [
    "e\u0301",  # e + combining acute
    "مُهاجِر",  # Arabic with harakat
    "اللاجِئِين",
    "الأُمَمِ",
    ZWJ_FAMILY,
    "👍🏽",  # skin tone
    "🏳️\u200d🌈",  # variation selector + ZWJ
    "🇫🇷",  # regional indicator pair
    "#️⃣",  # keycap
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag sequence
    "क्\u200dष",  # Devanagari with virama and ZWJ
    "ﾊﾟ",  # halfwidth katakana with voicing mark
]
PIECES = [
    *CLUSTERS,
    "联合国",
    "大会",
    "决定",
    "可持续发展",
    "Генеральная",
    "Ассамблея",
    "développement",
    "Ngā",
    "Assembly",
    "States",
    "the",
    "of",
    "2030",
    "70/1",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\u00a0",
    "\u3000",
    ",",
    ".",
    "،",
    "。",
    "«",
    "»",
    "—",
    "\u0301",  # a stray combining mark
    "\u200d",  # a stray ZWJ
]

mixed_text = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
any_text = st.text(max_size=60)
texts = st.one_of(mixed_text, any_text)

EXTENDERS = {"\u200c", "\u200d", "\uff9e", "\uff9f", "\u0e33", "\u0eb3"}


def is_extender(ch: str) -> bool:
    """Characters that continue the grapheme cluster before them (UAX #29 GB9, GB9a)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch).startswith("M")
        or ch in EXTENDERS
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def boundaries(tokens: list[str]) -> set[int]:
    out, pos = {0}, 0
    for token in tokens:
        pos += len(token)
        out.add(pos)
    return out


def op_boundaries(ops: tuple[DiffOp, ...], side: str) -> set[int]:
    """Offsets where ops start or end, in the old ("delete" side) or new text."""
    skip = "insert" if side == "old" else "delete"
    out, pos = {0}, 0
    for op in ops:
        if op.op != skip:
            pos += len(op.text)
        out.add(pos)
    return out


def pairs(hunks: tuple[Change, ...]) -> list[tuple[str, str]]:
    return [(h.deleted, h.inserted) for h in hunks]


# --------------------------------------------------------------------------------------------
# tokenize
# --------------------------------------------------------------------------------------------


@given(texts)
def test_tokens_join_back_to_the_text(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert all(tokens)


@given(texts)
def test_no_token_starts_inside_a_grapheme_cluster(text: str) -> None:
    tokens = tokenize(text)
    for previous, token in itertools.pairwise(tokens):
        assert not is_extender(token[0]), (previous, token)
        if previous.endswith("\u200d"):  # ZWJ joins what follows, unless a space or word does
            assert re.match(r"[\s\w]", token[0]), (previous, token)


@given(texts)
def test_fast_path_cuts_like_the_full_pattern(text: str) -> None:
    """tokenize skips the grapheme rules on text that needs none; the cut must be the same."""
    assert tokenize(text) == _TOKEN.findall(text)


@given(st.sampled_from(CLUSTERS), mixed_text, mixed_text)
def test_a_cluster_is_never_split(cluster: str, before: str, after: str) -> None:
    text = f"{before} {cluster} {after}"
    start = len(before) + 1
    cuts = boundaries(tokenize(text))
    assert not any(start < cut < start + len(cluster) for cut in cuts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the General Assembly,", ["the", " ", "General", " ", "Assembly", ","]),
        ("e\u0301te\u0301 ok", ["e\u0301te\u0301", " ", "ok"]),
        ("المُهاجِرين في", ["المُهاجِرين", " ", "في"]),
        (f"{ZWJ_FAMILY}👍🏽!", [ZWJ_FAMILY, "👍🏽", "!"]),
        ("🇫🇷🇩🇪", ["🇫🇷", "🇩🇪"]),
        ("联合国大会", ["联", "合", "国", "大", "会"]),
        ("2015年9月", ["2015", "年", "9", "月"]),
        ("Secretary-General's", ["Secretary", "-", "General", "'", "s"]),
        ("a \n\n b", ["a", " \n\n ", "b"]),
        ("", []),
    ],
)
def test_tokenize_examples(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


# --------------------------------------------------------------------------------------------
# word_diff, old_text, new_text, apply_diff
# --------------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(texts, texts)
def test_diff_round_trips(old: str, new: str) -> None:
    ops = word_diff(old, new)
    assert old_text(ops) == old
    assert new_text(ops) == new
    assert apply_diff(old, ops) == new


@settings(max_examples=200)
@given(texts, texts)
def test_diff_never_splits_a_word(old: str, new: str) -> None:
    ops = word_diff(old, new)
    assert op_boundaries(ops, "old") <= boundaries(tokenize(old))
    assert op_boundaries(ops, "new") <= boundaries(tokenize(new))


@given(texts, texts)
def test_diff_ops_are_merged_and_ordered(old: str, new: str) -> None:
    ops = word_diff(old, new)
    assert all(op.text for op in ops)
    for first, second in itertools.pairwise(ops):
        assert first.op != second.op
        assert (first.op, second.op) != ("insert", "delete")


def test_word_diff_replaces_whole_words() -> None:
    ops = word_diff(
        "Urges Member States to consider ratifying the Convention",
        "Urges Member States to ratify the Convention",
    )
    assert ops == (
        DiffOp("equal", "Urges Member States to "),
        DiffOp("delete", "consider ratifying"),
        DiffOp("insert", "ratify"),
        DiffOp("equal", " the Convention"),
    )


def test_word_diff_keeps_arabic_words_whole() -> None:
    ops = word_diff("حقوق المُهاجِرين", "حقوق اللاجِئِين")
    assert ops == (
        DiffOp("equal", "حقوق "),
        DiffOp("delete", "المُهاجِرين"),
        DiffOp("insert", "اللاجِئِين"),
    )


def test_word_diff_of_identical_and_empty_texts() -> None:
    assert word_diff("", "") == ()
    assert word_diff("Recalling", "Recalling") == (DiffOp("equal", "Recalling"),)
    assert word_diff("", "Recalling") == (DiffOp("insert", "Recalling"),)


def test_apply_diff_refuses_a_change_written_on_another_version() -> None:
    written_on = "Decides to convene the conference in 2018 in New York."
    current = "Decides to convene the conference in 2019 in Geneva."
    ops = word_diff(written_on, "Decides to convene the second conference in 2018 in New York.")
    with pytest.raises(DiffMismatch) as error:
        apply_diff(current, ops)
    assert str(error.value) == (
        'the change keeps "2018 in New York." at character 37, but the text there reads '
        '"2019 in Geneva.": the change was written on another version'
    )


def test_apply_diff_refuses_a_text_that_goes_on() -> None:
    with pytest.raises(DiffMismatch, match='goes on with " and Geneva"'):
        apply_diff("in New York and Geneva", word_diff("in New York", "at Headquarters"))


# --------------------------------------------------------------------------------------------
# changes and collisions
# --------------------------------------------------------------------------------------------


def test_changes_locate_hunks_in_the_old_text() -> None:
    old = "Decides to convene the conference in 2018 in New York"
    ops = word_diff(old, "Decides to convene the high-level conference in 2019 in New York")
    assert changes(ops) == (
        Change(23, 23, "", "high-level "),
        Change(37, 41, "2018", "2019"),
    )
    assert old[37:41] == "2018"


@given(texts, texts)
def test_changes_cover_exactly_the_non_equal_ops(old: str, new: str) -> None:
    ops = word_diff(old, new)
    hunks = changes(ops)
    assert "".join(h.deleted for h in hunks) == "".join(o.text for o in ops if o.op == "delete")
    assert "".join(h.inserted for h in hunks) == "".join(o.text for o in ops if o.op == "insert")
    for hunk in hunks:
        assert old[hunk.start : hunk.end] == hunk.deleted


OLD = "Decides to convene the conference in 2018 in New York, and requests a report."


def test_edits_to_the_same_word_collide() -> None:
    a = word_diff(OLD, OLD.replace("2018", "2019"))
    b = word_diff(OLD, OLD.replace("2018", "2020"))
    assert collisions(a, b) == ((Change(37, 41, "2018", "2019"), Change(37, 41, "2018", "2020")),)


def test_insertions_at_the_same_point_collide() -> None:
    a = word_diff(OLD, OLD.replace("the conference", "the second conference"))
    b = word_diff(OLD, OLD.replace("the conference", "the high-level conference"))
    assert len(collisions(a, b)) == 1


def test_distant_edits_do_not_collide() -> None:
    a = word_diff(OLD, OLD.replace("2018", "2019"))
    b = word_diff(OLD, OLD.replace("a report", "an oral report"))
    assert collisions(a, b) == ()


def test_neighbouring_words_separated_by_a_space_do_not_collide() -> None:
    a = word_diff(OLD, OLD.replace("2018", "2019"))
    b = word_diff(OLD, OLD.replace("in New", "at New"))
    assert collisions(a, b) == ()


def test_collisions_need_the_same_old_text() -> None:
    with pytest.raises(DiffMismatch):
        collisions(word_diff("a b", "a c"), word_diff("a b c", "a c"))


LETTERS = "abcdefghijklmnopqrstuvwxyzéمهج"
unique_words = st.lists(
    st.builds(str.__add__, st.sampled_from(LETTERS), st.text(LETTERS + "\u064f", max_size=5)),
    min_size=4,
    max_size=40,
    unique=True,
)


@given(unique_words, st.data())
def test_collisions_on_same_word_and_far_apart(words: list[str], data: st.DataObject) -> None:
    old = " ".join(words)
    i = data.draw(st.integers(0, len(words) - 1))
    j = data.draw(st.integers(0, len(words) - 1))

    def replace(index: int, by: str) -> tuple[DiffOp, ...]:
        return word_diff(old, " ".join([*words[:index], by, *words[index + 1 :]]))

    same = collisions(replace(i, "XX"), replace(i, "YY"))
    assert [(a.deleted, b.deleted) for a, b in same] == [(words[i], words[i])]
    if abs(i - j) >= 2:
        assert collisions(replace(i, "XX"), replace(j, "YY")) == ()


# --------------------------------------------------------------------------------------------
# rebase
# --------------------------------------------------------------------------------------------

V1 = (
    "Requests the Secretary-General to submit to the General Assembly at its seventy-ninth "
    "session a report on the implementation of the present resolution, including on "
    "progress made in 2018."
)


def test_rebase_combines_edits_to_different_words() -> None:
    v2 = V1.replace("seventy-ninth", "eightieth")
    amendment = V1.replace("a report", "a comprehensive report")
    result = rebase(V1, v2, amendment)
    assert result == Rebased(
        proposed=v2.replace("a report", "a comprehensive report"),
        ops=word_diff(v2, v2.replace("a report", "a comprehensive report")),
        already_in_text=False,
    )
    assert isinstance(result, Rebased)
    assert pairs(changes(result.ops)) == [("", "comprehensive ")]


def test_rebase_reports_words_changed_in_the_meantime() -> None:
    v2 = V1.replace("in 2018", "since 2018")
    amendment = V1.replace("in 2018", "in 2018 and 2019")
    assert rebase(V1, v2, amendment) == Rebased(
        proposed=v2.replace("since 2018", "since 2018 and 2019"),
        ops=word_diff(v2, v2.replace("since 2018", "since 2018 and 2019")),
        already_in_text=False,
    )
    amendment = V1.replace("in 2018", "by 2020")
    result = rebase(V1, v2, amendment)
    assert result == NeedsRedraft(
        reason='the words "in 2018" it changes were changed in the meantime',
        conflicting=("in 2018",),
    )


def test_rebase_names_a_single_word_and_insertions() -> None:
    v2 = V1.replace("seventy-ninth", "eightieth")
    result = rebase(V1, v2, V1.replace("seventy-ninth", "eighty-first"))
    assert isinstance(result, NeedsRedraft)
    assert result.conflicting == ("seventy-ninth",)
    assert "it changes were changed in the meantime" in result.reason

    v2 = V1.replace("a report", "a detailed report")
    result = rebase(V1, v2, V1.replace("a report", "a written report"))
    assert result == NeedsRedraft(
        reason=(
            'other words were inserted next to the word "a", where it inserts "written", '
            "in the meantime"
        ),
        conflicting=("a",),
    )


def test_rebase_when_the_new_version_already_says_it() -> None:
    amendment = V1.replace("a report", "an oral report")
    result = rebase(V1, amendment, amendment)
    assert result == Rebased(amendment, (DiffOp("equal", amendment),), already_in_text=True)


def test_rebase_onto_an_unchanged_version_keeps_the_amendment() -> None:
    amendment = V1.replace("a report", "an oral report")
    result = rebase(V1, V1, amendment)
    assert result == Rebased(amendment, word_diff(V1, amendment), already_in_text=False)


def test_rebase_in_chinese_and_arabic() -> None:
    old = "大会决定召开会议。"
    result = rebase(old, "大会决定于2025年召开会议。", "大会决定召开高级别会议。")
    assert isinstance(result, Rebased)
    assert result.proposed == "大会决定于2025年召开高级别会议。"

    old = "تُقرِّر الجمعية العامة عقد المؤتمر في عام 2018"
    result = rebase(old, old.replace("2018", "2019"), old.replace("المؤتمر", "مؤتمرٍ دولي"))
    assert isinstance(result, Rebased)
    assert result.proposed == old.replace("2018", "2019").replace("المؤتمر", "مؤتمرٍ دولي")


def test_rebase_carries_a_long_amendment_over_a_long_insertion() -> None:
    """Hunks longer than Match_MaxBits, pushed far from where they were written."""
    words = [f"w{i}" for i in range(300)]
    old = " ".join(words)
    inserted = " ".join(f"new{i}" for i in range(600))
    new = " ".join([*words[:10], inserted, *words[10:]])
    rewritten = " ".join(f"amended{i}" for i in range(50))
    proposed = " ".join([*words[:200], rewritten, *words[260:]])
    result = rebase(old, new, proposed)
    assert isinstance(result, Rebased)
    assert result.proposed == " ".join(
        [*words[:10], inserted, *words[10:200], rewritten, *words[260:]]
    )


def test_rebase_keeps_an_unambiguous_merge_that_diff_match_patch_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied: list[list[bool]] = []
    patch_apply = diff_module._PATCHER.patch_apply

    def spy(patches: object, text: str) -> tuple[str, list[bool]]:
        result: tuple[str, list[bool]] = patch_apply(patches, text)
        applied.append(result[1])
        return result

    monkeypatch.setattr(diff_module._PATCHER, "patch_apply", spy)
    result = rebase("w8 w5 w20 w14 w21", "W8 w14 W21", "w8 w5 w20 ins1 w14 w21")
    assert applied == [[False]]
    assert result == Rebased(
        "W8 ins1 w14 W21", word_diff("W8 w14 W21", "W8 ins1 w14 W21"), already_in_text=False
    )


def test_rebase_refuses_when_diff_match_patch_lands_elsewhere() -> None:
    """The new version changed "w19" right next to where "ins3" goes: dmp puts it a token off."""
    result = rebase(
        "w33 w21 w32 w31 w15 w19 w6 w32",
        "w33 ins1 w21 w31 w15 W19 w6",
        "w33 w21 w32 ins1 w31 w15 w19 ins3 w6 w32",
    )
    assert result == NeedsRedraft(
        reason=(
            'could not be re-applied: the words around the place where it inserts "ins1" were '
            "changed; could not be re-applied: the words around the place where it inserts "
            '"ins3" were changed'
        ),
        conflicting=("w32", "w19"),
    )


@settings(max_examples=200, deadline=None)
@given(texts, texts, texts)
def test_rebase_never_loses_an_amendment(old: str, new: str, proposed: str) -> None:
    result = rebase(old, new, proposed)
    if isinstance(result, NeedsRedraft):
        assert result.reason
        assert all(word and word in old for word in result.conflicting)
        return
    assert old_text(result.ops) == new
    assert new_text(result.ops) == result.proposed
    assert result.already_in_text == (result.proposed == new)
    if old == new:
        assert result.proposed == proposed
    for hunk in changes(word_diff(old, proposed)):
        assert hunk.inserted in result.proposed


@settings(max_examples=200, deadline=None)
@given(texts, texts)
def test_rebase_onto_the_same_version_is_the_amendment(old: str, proposed: str) -> None:
    result = rebase(old, old, proposed)
    assert isinstance(result, Rebased)
    assert result.proposed == proposed


@st.composite
def edit(draw: st.DrawFn, words: list[str], low: int, high: int, tag: str) -> list[str]:
    """Replace words[i:j] (low <= i <= j <= high) by new words; never a no-op."""
    i = draw(st.integers(low, high))
    j = draw(st.integers(i, high))
    count = draw(st.integers(0 if j > i else 1, 4))
    new_words = [f"{tag}{n}" for n in range(count)]
    return [*words[:i], *new_words, *words[j:]]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(PIECES[:20]) | st.from_regex(r"[a-zß-ÿ]{1,8}", fullmatch=True),
        min_size=6,
        max_size=40,
        unique=True,
    ),
    st.data(),
)
def test_rebase_of_edits_in_different_halves_combines_both(
    words: list[str], data: st.DataObject
) -> None:
    half = len(words) // 2
    # The base changes words before half-1, the amendment words after half: two words between.
    base = data.draw(edit(words, 0, half - 1, "base"))
    amended = data.draw(edit(words, half + 1, len(words), "amended"))
    expected = " ".join([*base[: len(base) - (len(words) - half)], *amended[half:]])

    old, new, proposed = " ".join(words), " ".join(base), " ".join(amended)
    result = rebase(old, new, proposed)
    assert isinstance(result, Rebased)
    assert result.proposed == expected
    assert not result.already_in_text
    assert pairs(changes(result.ops)) == pairs(changes(word_diff(old, proposed)))


_WORDS = ["the", "General", "Assembly", "decides", "to", "convene", "a", "conference", "in", "2018"]


@st.composite
def _edited(draw: st.DrawFn, base: list[str]) -> str:
    words = list(base)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(words) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "replace":
            words[i] = draw(st.sampled_from(["hold", "organise", "urgently", "2019"]))
        elif action == "insert":
            words.insert(i, draw(st.sampled_from(["also", "further", "inter alia"])))
        elif len(words) > 2:
            del words[i]
    return " ".join(words)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_find_collisions_agrees_with_comparing_every_pair(data: st.DataObject) -> None:
    base = _WORDS * 2
    old = " ".join(base)
    proposals = [data.draw(_edited(base)) for _ in range(data.draw(st.integers(2, 6)))]
    diffs = [(i, diff_module.word_diff(old, p)) for i, p in enumerate(proposals)]
    swept = {(a, b): set(pairs) for a, b, pairs in diff_module.find_collisions(diffs)}
    brute = {}
    for (i, a), (j, b) in itertools.combinations(diffs, 2):
        pairs = collisions(a, b)
        if pairs:
            brute[(i, j)] = set(pairs)
    assert swept == brute


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_find_collisions_of_a_few_is_the_whole_sweep_kept_to_them(data: st.DataObject) -> None:
    """What a paragraph's collisions need after some proposals changed: the same pairs, with
    the same hunks in the same order, as sweeping them all and keeping those pairs."""
    base = _WORDS * 2
    old = " ".join(base)
    proposals = [data.draw(_edited(base)) for _ in range(data.draw(st.integers(2, 7)))]
    diffs = [(i, diff_module.word_diff(old, p)) for i, p in enumerate(proposals)]
    few = data.draw(st.sets(st.integers(0, len(diffs) + 1), max_size=3))  # and unknown keys
    whole = diff_module.find_collisions(diffs)
    kept = [(a, b, pairs) for a, b, pairs in whole if a in few or b in few]
    assert diff_module.find_collisions(diffs, involving=few) == kept


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_rebase_all_equals_rebasing_one_at_a_time(data: st.DataObject) -> None:
    base = _WORDS * 2
    old = " ".join(base)
    new = data.draw(_edited(base))
    proposals = [data.draw(_edited(base)) for _ in range(data.draw(st.integers(1, 5)))]
    assert diff_module.rebase_all(old, new, proposals) == [rebase(old, new, p) for p in proposals]


@settings(max_examples=200, deadline=None)
@given(texts, texts, texts)
def test_touching_hunks_are_exactly_colliding_changes(base: str, a: str, b: str) -> None:
    from app.domain.diff import collisions, touching

    ops_a, ops_b = word_diff(base, a), word_diff(base, b)
    assert touching(changes(ops_a), changes(ops_b)) == bool(collisions(ops_a, ops_b))
