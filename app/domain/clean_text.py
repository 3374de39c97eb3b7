"""Text as people type it — and the characters that are not text, refused in every field.

Every text a person sends (a wording, a justification, a statement, a name, a code looked up)
passes through `clean_text` in the service that takes it, whether it came from the JSON API, a
form, a Word file or the command line. Refused, with the position, so nothing half-visible is
stored:

- control characters (NUL, BEL, ESC… — Unicode category Cc): invisible on the page, forbidden in
  the XML of Word and Akoma Ntoso exports, and PostgreSQL cannot store a NUL at all;
- lone surrogates (U+D800–U+DFFF): half of a character, which no encoding can write;
- the noncharacters U+FFFE and U+FFFF, which XML cannot hold either.

Tabs and line breaks are whitespace, not refused: a field that may hold paragraphs (a
justification, a statement) keeps them, with Windows and old Mac line ends made "\\n"; a
one-line field (a name, a title, a code) gets each run of whitespace made one space.
"""

from __future__ import annotations

import re

from app.domain.errors import Invalid

__all__ = ["check_text", "clean_optional_text", "clean_text", "first_refused"]

#: Control characters (category Cc) except tab, line feed and carriage return; surrogates;
#: the two noncharacters XML refuses.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def first_refused(value: str) -> tuple[int, str] | None:
    """(0-based position, reason) of the first character no text field accepts, else None."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        reason = f"an invalid character (a lone surrogate, U+{code:04X})"
    elif code in (0xFFFE, 0xFFFF):
        reason = f"an invalid character (the noncharacter U+{code:04X})"
    else:
        reason = f"a control character (U+{code:04X})"
    return found.start(), reason


def check_text(value: str, *, what: str) -> None:
    """Refuse `value` if it holds a character that is not text (see the module doc)."""
    refused = first_refused(value)
    if refused is not None:
        position, reason = refused
        raise Invalid(
            f"{what} contains {reason} at character {position + 1}; remove it and send the "
            "text again."
        )


def clean_text(
    value: str, *, what: str, multiline: bool = False, max_length: int | None = None
) -> str:
    """`value` as stored: refused characters raise `Invalid` naming `what` and the position;
    surrounding whitespace is dropped; inner whitespace kept (multiline) or made single spaces.

    `what` starts the message: "The justification", "The round's name".
    """
    check_text(value, what=what)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    else:
        value = " ".join(value.split())
    if max_length is not None and len(value) > max_length:
        raise Invalid(f"{what} is longer than {max_length:,} characters.")
    return value


def clean_optional_text(
    value: str | None, *, what: str, multiline: bool = False, max_length: int | None = None
) -> str | None:
    """`clean_text` for a field that may be left out: None (or only whitespace) is None."""
    if value is None:
        return None
    return clean_text(value, what=what, multiline=multiline, max_length=max_length) or None
