"""Brackets: they always balance, every passage can be settled, and a bracketed proposal keeps
both the old and the new wording within reach."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.brackets import (
    BracketError,
    BracketGroup,
    UnbalancedBrackets,
    bracket_change,
    bracket_groups,
    bracket_whole,
    check_balance,
    count_brackets,
    is_balanced,
    resolve,
)
from app.domain.diff import DiffOp, word_diff
from app.domain.errors import Invalid

PARIS = "[below 1.5 °C [or] [well] below 2 °C]"
CONFERENCE = "[convene a conference][hold a high-level meeting]"

# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

WORDS = ["migrants", "refugees", "and", "or", "the", "1.5", "°C", "high-level", "States’"]
PUNCT = [",", ";", ".", "(", ")", ":"]

word = st.sampled_from(WORDS)
plain_piece = st.one_of(word, st.sampled_from(PUNCT), st.sampled_from([" ", "  ", "\t"]))
plain_text = st.lists(plain_piece, max_size=8).map("".join)


def _bracketed(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda t: f"[{t}]"),
        st.tuples(inner, inner).map(lambda ab: f"[{ab[0]}][{ab[1]}]"),
        st.tuples(inner, inner).map(lambda ab: f"[{ab[0]}] [or] [{ab[1]}]"),
        st.tuples(inner, inner).map(lambda ab: f"[{ab[0]} [or] {ab[1]}]"),
    )


# Balanced texts with brackets nested to any depth, "[or]" separators and empty pairs included.
balanced = st.recursive(
    plain_text,
    lambda inner: st.lists(st.one_of(inner, _bracketed(inner)), min_size=1, max_size=4).map(
        "".join
    ),
    max_leaves=10,
)


def _depths(text: str) -> list[int]:
    depth, out = 0, []
    for ch in text:
        out.append(depth)
        depth += (ch == "[") - (ch == "]")
    return out


def _ops_from(segments: list[tuple[str, str]]) -> list[DiffOp]:
    return [DiffOp(op, text) for op, text in segments]  # type: ignore[arg-type]


@st.composite
def any_change(draw: st.DrawFn) -> list[DiffOp]:
    """A tracked change on a balanced text: the text cut anywhere (through brackets too) into
    kept and deleted pieces, with insertions between them (balanced, or a lone bracket)."""
    old = draw(balanced)
    cuts = sorted(draw(st.sets(st.integers(0, len(old)), max_size=6)) | {0, len(old)})
    inserted = st.one_of(balanced, st.sampled_from(["[", "]", " ]", "[x "]))
    ops: list[DiffOp] = []
    for start, end in itertools.pairwise(cuts):
        if draw(st.booleans()):
            ops.append(DiffOp("insert", draw(inserted)))
        ops.append(DiffOp(draw(st.sampled_from(["equal", "delete"])), old[start:end]))
    if draw(st.booleans()):
        ops.append(DiffOp("insert", draw(inserted)))
    return ops


def _old(ops: list[DiffOp]) -> str:
    return "".join(op.text for op in ops if op.op != "insert")


def _new(ops: list[DiffOp]) -> str:
    return "".join(op.text for op in ops if op.op != "delete")


def _squash(text: str) -> str:
    """The words and marks of a text in order. A change of whitespace alone is applied rather
    than bracketed, and resolving tidies spaces, so spaces are not compared."""
    return "".join(text.split())


# --------------------------------------------------------------------------------------------
# Balance and counting
# --------------------------------------------------------------------------------------------


@given(balanced)
def test_generated_structures_balance_and_count(text: str) -> None:
    check_balance(text)
    assert is_balanced(text)
    assert count_brackets(text) == text.count("[")


def test_nested_brackets_are_allowed() -> None:
    check_balance(PARIS)
    assert count_brackets(PARIS) == 3
    assert count_brackets("no brackets at all") == 0


def test_stray_closing_bracket_is_located_for_the_delegate() -> None:
    text = "Reaffirming [the purposes] and principles] of the Charter"
    with pytest.raises(UnbalancedBrackets) as caught:
        check_balance(text)
    assert caught.value.position == text.index("] of")
    assert str(caught.value).startswith(
        "Unbalanced brackets: ']' at character 42 has no matching '['"
    )
    assert "principles] of" in str(caught.value)


def test_unclosed_bracket_is_located_for_the_delegate() -> None:
    text = "Noting [with concern [the situation] of migrants"
    with pytest.raises(UnbalancedBrackets) as caught:
        check_balance(text)
    assert caught.value.position == 7
    assert "'[' at character 8 is never closed" in str(caught.value)


def test_unbalanced_is_a_value_error_and_invalid() -> None:
    assert not is_balanced("]")
    with pytest.raises(ValueError):
        check_balance("[")
    with pytest.raises(Invalid):
        check_balance("[")


def test_count_ignores_stray_brackets() -> None:
    assert count_brackets("] [a] [") == 1


@given(balanced, st.data())
def test_a_stray_bracket_is_always_reported_at_a_bracket(text: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(text)))
    stray = data.draw(st.sampled_from("[]"))
    broken = text[:position] + stray + text[position:]
    with pytest.raises(UnbalancedBrackets) as caught:
        check_balance(broken)
    assert broken[caught.value.position] in "[]"
    if stray == "]" and (position == len(text) or _depths(text)[position] == 0):
        assert caught.value.position == position
    if stray == "[" and position == 0:
        assert caught.value.position == 0
    assert not is_balanced(broken)


# --------------------------------------------------------------------------------------------
# Disputed passages
# --------------------------------------------------------------------------------------------


def test_competing_wordings_form_one_passage() -> None:
    assert bracket_groups(CONFERENCE) == (
        BracketGroup(0, 0, len(CONFERENCE), ("convene a conference", "hold a high-level meeting")),
    )


def test_or_between_alternatives_is_a_separator() -> None:
    text = "to [convene] [or] [hold], and to [report]"
    first, second = bracket_groups(text)
    assert first.alternatives == ("convene", "hold")
    assert text[first.start : first.end] == "[convene] [or] [hold]"
    assert second == BracketGroup(1, text.index("[report]"), len(text), ("report",))


def test_the_word_or_itself_can_be_disputed() -> None:
    assert bracket_groups("A [or][and] B")[0].alternatives == ("or", "and")
    assert bracket_groups("A [OR] B")[0].alternatives == ("OR",)


def test_paris_notation_offers_the_options_inside_the_pair() -> None:
    (group,) = bracket_groups("Holding the increase " + PARIS + ".")
    assert group.alternatives == ("below 1.5 °C", "[well] below 2 °C")


def test_a_bracketed_passage_of_alternatives_stays_whole() -> None:
    (group,) = bracket_groups("[[A] [or] [B]]")
    assert group.alternatives == ("[A] [or] [B]",)


def test_resolve_competing_wordings() -> None:
    text = f"Decides to {CONFERENCE} in 2018;"
    assert resolve(text, 0, 0) == "Decides to convene a conference in 2018;"
    assert resolve(text, 0, 1) == "Decides to hold a high-level meeting in 2018;"
    assert resolve(text, 0, None) == "Decides to in 2018;"


def test_resolve_nested_paris_brackets_step_by_step() -> None:
    text = f"Holding the increase {PARIS} above pre-industrial levels;"
    second = resolve(text, 0, 1)
    assert second == "Holding the increase [well] below 2 °C above pre-industrial levels;"
    assert (
        resolve(second, 0, 0) == "Holding the increase well below 2 °C above pre-industrial levels;"
    )
    assert (
        resolve(second, 0, None) == "Holding the increase below 2 °C above pre-industrial levels;"
    )
    assert resolve(text, 0, 0) == "Holding the increase below 1.5 °C above pre-industrial levels;"
    assert resolve(text, 0, None) == "Holding the increase above pre-industrial levels;"


def test_resolve_tidies_the_whitespace_left_behind() -> None:
    assert resolve("migrants [and refugees], and", 0, None) == "migrants, and"
    assert resolve("migrants [and refugees] .", 0, None) == "migrants."
    assert resolve("([notably] States)", 0, None) == "(States)"
    assert resolve("States ([notably])", 0, None) == "States ()"
    assert resolve("[Recalling] its resolution", 0, None) == "its resolution"
    assert resolve("its resolution [71/1]", 0, None) == "its resolution"
    assert resolve("a [b] [or] [c] d", 0, 1) == "a c d"
    assert resolve("a  [b]  d", 0, 0) == "a b d"
    assert resolve("a[ b ]d", 0, 0) == "a b d"
    assert resolve("keep  this [x] and  this", 0, None) == "keep  this and  this"


def test_resolve_refuses_a_bad_passage_or_alternative() -> None:
    with pytest.raises(
        BracketError, match="no bracketed passage number 3: the text has 2 bracketed passages"
    ):
        resolve("[a] b [c]", 2, 0)
    with pytest.raises(ValueError, match="no bracketed passage number 0"):
        resolve("[a] b [c]", -1, 0)
    with pytest.raises(ValueError, match="has 2 alternatives: there is no alternative 3"):
        resolve(CONFERENCE, 0, 2)
    with pytest.raises(ValueError, match="has 2 alternatives"):
        resolve(CONFERENCE, 0, -1)
    with pytest.raises(ValueError, match="no brackets left"):
        resolve("clean text", 0, None)
    with pytest.raises(UnbalancedBrackets):
        resolve("[a", 0, 0)


@settings(max_examples=100)
@given(balanced, st.data())
def test_settling_every_passage_leaves_clean_text(text: str, data: st.DataObject) -> None:
    while True:
        groups = bracket_groups(text)
        if not groups:
            break
        assert count_brackets(text) > 0
        group = data.draw(st.sampled_from(groups))
        assert text[group.start] == "[" and text[group.end - 1] == "]"
        choice = data.draw(st.one_of(st.none(), st.integers(0, len(group.alternatives) - 1)))
        before = count_brackets(text)
        text = resolve(text, group.index, choice)
        assert is_balanced(text)
        assert count_brackets(text) < before
    assert "[" not in text and "]" not in text


# --------------------------------------------------------------------------------------------
# Bracketing a proposal
# --------------------------------------------------------------------------------------------


def test_insertion_keeps_its_space_outside_the_brackets() -> None:
    old = "safe, orderly and regular migration"
    ops = [DiffOp("equal", old), DiffOp("insert", " and refugees")]
    result = bracket_change(old, ops)
    assert result.text == "safe, orderly and regular migration [and refugees]"
    assert [result.text[a:b] for a, b in result.spans] == ["[and refugees]"]


def test_deletion_replacement_and_insertion() -> None:
    old = "Decides to convene a conference on migration in 2018;"
    ops = [
        DiffOp("equal", "Decides to "),
        DiffOp("delete", "convene a conference"),
        DiffOp("insert", "hold a high-level meeting"),
        DiffOp("equal", " on migration "),
        DiffOp("delete", "in 2018"),
        DiffOp("equal", ";"),
    ]
    result = bracket_change(old, ops)
    assert result.text == (
        "Decides to [convene a conference][hold a high-level meeting] on migration [in 2018];"
    )
    assert [result.text[a:b] for a, b in result.spans] == [
        "[convene a conference][hold a high-level meeting]",
        "[in 2018]",
    ]


def test_a_change_never_cuts_a_word() -> None:
    ops = [DiffOp("equal", "migrant"), DiffOp("insert", "s"), DiffOp("equal", " workers")]
    assert bracket_change("migrant workers", ops).text == "[migrant][migrants] workers"
    ops = [DiffOp("insert", "un"), DiffOp("equal", "documented migrants")]
    assert bracket_change("documented migrants", ops).text == (
        "[documented][undocumented] migrants"
    )
    ops = [DiffOp("equal", "data"), DiffOp("delete", " "), DiffOp("equal", "base")]
    assert bracket_change("data base", ops).text == "[data base][database]"
    ops = [
        DiffOp("equal", "to 1."),
        DiffOp("delete", "5"),
        DiffOp("insert", "0"),
        DiffOp("equal", " °C"),
    ]
    assert bracket_change("to 1.5 °C", ops).text == "to [1.5][1.0] °C"


def test_punctuation_changes_stay_small() -> None:
    old = "Decides to convene a conference;"
    ops = [
        DiffOp("equal", "Decides to convene a conference"),
        DiffOp("insert", ", as appropriate"),
        DiffOp("equal", ";"),
    ]
    assert bracket_change(old, ops).text == "Decides to convene a conference[, as appropriate];"


def test_changes_separated_by_spaces_only_make_one_passage() -> None:
    ops = [
        DiffOp("delete", "A"),
        DiffOp("insert", "X"),
        DiffOp("equal", " "),
        DiffOp("delete", "B"),
        DiffOp("insert", "Y"),
        DiffOp("equal", ", C"),
    ]
    result = bracket_change("A B, C", ops)
    assert result.text == "[A B][X Y], C"
    assert len(bracket_groups(result.text)) == 1


def test_whitespace_only_change_is_not_disputed() -> None:
    ops = [
        DiffOp("equal", "a"),
        DiffOp("delete", "  "),
        DiffOp("insert", " "),
        DiffOp("equal", "b"),
    ]
    result = bracket_change("a  b", ops)
    assert result == type(result)("a b", ())


def test_change_that_moves_a_bracket_takes_the_whole_pair() -> None:
    ops = [
        DiffOp("equal", "[A"),
        DiffOp("insert", "]"),
        DiffOp("equal", " B"),
        DiffOp("delete", "]"),
        DiffOp("equal", " C"),
    ]
    result = bracket_change("[A B] C", ops)
    assert result.text == "[[A B]][[A] B] C"
    assert bracket_groups(result.text)[0].alternatives == ("[A B]", "[A] B")


def test_bracket_change_refuses_a_change_written_on_another_text() -> None:
    with pytest.raises(BracketError, match="another version"):
        bracket_change("abc", [DiffOp("equal", "abd")])


def test_bracket_change_refuses_unbalanced_wording() -> None:
    with pytest.raises(UnbalancedBrackets, match="in the proposed text"):
        bracket_change("a b", [DiffOp("equal", "a b"), DiffOp("insert", " [c")])
    with pytest.raises(UnbalancedBrackets, match="in the current text"):
        bracket_change("a] b", [DiffOp("equal", "a] b")])


def _check_bracketed(old: str, ops: list[DiffOp]) -> None:
    if not is_balanced(_new(ops)):
        with pytest.raises(UnbalancedBrackets, match="in the proposed text"):
            bracket_change(old, ops)
        return
    result = bracket_change(old, ops)
    check_balance(result.text)
    assert sorted(result.spans) == list(result.spans)
    for start, end in result.spans:
        assert result.text[start] == "[" and result.text[end - 1] == "]"
        assert is_balanced(result.text[start:end])
    starts = {g.start: g for g in bracket_groups(result.text)}
    for start, end in result.spans:
        if start in starts:  # a passage of its own, unless glued to an existing one before it
            assert starts[start].end >= end


@settings(max_examples=100)
@given(any_change())
def test_bracketed_change_balances_for_any_change(ops: list[DiffOp]) -> None:
    _check_bracketed(_old(ops), ops)


@settings(max_examples=60)
@given(balanced, balanced)
def test_bracketed_change_balances_for_word_diffs(old: str, new: str) -> None:
    _check_bracketed(old, list(word_diff(old, new)))


clean_piece = st.one_of(
    st.sampled_from(["migrants", "refugees", "or", "the", "1.5", "°C", "high-level"]),
    st.sampled_from([",", ";", "."]),
    st.just(" "),
)
clean_text = st.lists(clean_piece, max_size=5).map("".join)
clean_segments = st.lists(
    st.tuples(st.sampled_from(["equal", "delete", "insert"]), clean_text), max_size=7
)


@settings(max_examples=200)
@given(clean_segments)
def test_both_wordings_stay_within_reach(segments: list[tuple[str, str]]) -> None:
    """Settling the bracketed passages can give back the old text and the proposed one."""
    ops = _ops_from(segments)
    old, new = _old(ops), _new(ops)
    result = bracket_change(old, ops)
    groups = {g.start: g for g in bracket_groups(result.text)}
    introduced = [groups[start] for start, _ in result.spans]
    assert len(introduced) == len(bracket_groups(result.text))
    if len(introduced) > 4:
        return
    outcomes = set()
    options = [[None, *range(len(g.alternatives))] for g in introduced]
    for choices in itertools.product(*options):
        text = result.text
        for group, choice in reversed(list(zip(introduced, choices, strict=True))):
            text = resolve(text, group.index, choice)
        outcomes.add(_squash(text))
    assert _squash(old) in outcomes
    assert _squash(new) in outcomes


def test_bracket_whole_paragraph() -> None:
    assert bracket_whole("Decides to convene a conference;") == "[Decides to convene a conference;]"
    assert bracket_whole("  Notes [with concern] the gap. ") == "  [Notes [with concern] the gap.] "
    assert bracket_whole("") == ""
    with pytest.raises(UnbalancedBrackets):
        bracket_whole("Notes [the gap.")


@settings(max_examples=50)
@given(balanced)
def test_bracket_whole_is_one_passage_dropped_at_once(text: str) -> None:
    whole = bracket_whole(text)
    check_balance(whole)
    if text.strip():
        groups = bracket_groups(whole)
        assert len(groups) == 1
        assert resolve(whole, 0, None).strip() == ""
