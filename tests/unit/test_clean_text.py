"""The one rule for text fields: control characters and lone surrogates are refused, with where."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.clean_text import clean_optional_text, clean_text, first_refused
from app.domain.errors import Invalid

#: Text as people type it: letters, marks, numbers, punctuation, symbols, spaces, line breaks.
typed = st.text(
    st.characters(
        whitelist_categories=("L", "M", "N", "P", "S", "Zs"), whitelist_characters="\t\n\r"
    )
)


@given(typed)
def test_typed_text_is_accepted(value: str) -> None:
    assert first_refused(value) is None
    assert clean_text(value, what="The text", multiline=True) == (
        value.replace("\r\n", "\n").replace("\r", "\n").strip()
    )


@given(typed, st.characters(whitelist_categories=("Cc", "Cs")), typed)
def test_a_control_character_or_surrogate_is_refused_where_it_is(
    before: str, bad: str, after: str
) -> None:
    if bad in "\t\n\r":
        return
    with pytest.raises(Invalid) as refused:
        clean_text(before + bad + after, what="The statement", multiline=True)
    message = refused.value.message
    assert message.startswith("The statement contains ")
    assert f"U+{ord(bad):04X}) at character {len(before) + 1};" in message
    kind = "control character" if unicodedata.category(bad) == "Cc" else "lone surrogate"
    assert kind in message


def test_the_messages_name_the_character_and_its_position() -> None:
    with pytest.raises(Invalid, match=r"^The title contains a control character \(U\+0000\) at"):
        clean_text("Agenda\x00", what="The title")
    with pytest.raises(Invalid, match=r"a lone surrogate, U\+D800\) at character 3;"):
        clean_text("ab\ud800", what="The note")
    with pytest.raises(Invalid, match=r"the noncharacter U\+FFFF"):
        clean_text("\uffff", what="The note")


def test_one_line_fields_make_whitespace_single_spaces() -> None:
    assert clean_text("  Rev.1\t(draft)\r\n ", what="The name") == "Rev.1 (draft)"


def test_paragraph_fields_keep_line_breaks_and_tabs() -> None:
    value = "First point.\r\n\tSecond point.\rThird."
    assert clean_text(value, what="The statement", multiline=True) == (
        "First point.\n\tSecond point.\nThird."
    )


def test_a_real_character_outside_the_basic_plane_is_text() -> None:
    assert clean_text("Decides \U0001f30d to convene;", what="The wording") == (
        "Decides \U0001f30d to convene;"
    )


def test_length_is_counted_after_cleaning() -> None:
    assert clean_text("  abc  ", what="The name", max_length=3) == "abc"
    with pytest.raises(Invalid, match=r"^The name is longer than 3 characters\.$"):
        clean_text("abcd", what="The name", max_length=3)


def test_optional_fields_left_out_or_blank_are_none() -> None:
    assert clean_optional_text(None, what="The note") is None
    assert clean_optional_text(" \n ", what="The note", multiline=True) is None
    assert clean_optional_text(" a ", what="The note") == "a"
