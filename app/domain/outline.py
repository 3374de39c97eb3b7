"""Read a draft typed as plain text or Markdown into a tree of provisions.

Co-facilitators draft in e-mails and Word, not in Rolltext; `rolltext import-text FILE` and the
demo loader turn such a text into a document. Numbering and list markers are *not* kept: labels
(PP3, OP5 bis, (a), (i)) are Rolltext's job and must stay stable during a reading, so the outline
records only the kind of each provision, its wording and its place in the tree.

The format, line by line (a blank line ends a paragraph; a line wrapped inside one is joined to it
with one space)::

    # Title of the draft                  the first line; required
    > Elements of a Draft Resolution      optional subtitle, directly under the title

    ## Heading                            heading; "###", "####"… nest under the heading above
                                          (what follows belongs to it until a heading of the same
                                          or a higher level)
    A paragraph, and below it its list:   "paragraph" (the lead-in sentence of the list)
    - a bullet ("-", "*", "·" or "•")     "list_item", child of the paragraph just before it,
      - indented by 2+ spaces             or of the heading (or top level) when there is none;
                                          nested under the bullet above it

    The General Assembly,                 switches to the "resolution" scheme (not a provision)

    _Recalling_ its resolution 71/1,      "preambular": unnumbered paragraphs after that line
    1. _Decides_ that:                    "operative" (the number is dropped), anywhere
       (a) first;                         "subparagraph" of the operative paragraph above
           (i) first;                     "subparagraph" of the (a) above; "a)" and "i)" work too

Emphasis (``_x_``, ``*x*``, ``**x**``, ``__x__``) is removed: the italics of opening words are
derived from the kind of paragraph, never stored. A line "i)" after "h)" is the letter i unless it
is indented deeper than "h)"; "i)" anywhere else starts a roman list. The scheme is "resolution"
when the text has "The General Assembly," or numbered operative paragraphs, else "plain" (an
elements paper).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["heading", "preambular", "operative", "paragraph", "list_item", "subparagraph"]
Scheme = Literal["resolution", "plain"]


@dataclass(frozen=True, slots=True)
class OutlineProvision:
    """One provision as typed: its kind, its wording without any marker, and its children."""

    kind: Kind
    text: str
    children: tuple[OutlineProvision, ...] = ()


@dataclass(frozen=True, slots=True)
class Outline:
    """A whole draft as typed, ready to become a document with its first version."""

    title: str
    subtitle: str | None
    scheme: Scheme
    provisions: tuple[OutlineProvision, ...]


class OutlineError(ValueError):
    """The text cannot be read as an outline; the message names the line to fix."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"Line {line}: {message}")
        self.line = line


_HEADING = re.compile(r"^(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_SUBTITLE = re.compile(r"^>[ \t]?(?P<text>.*)$")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)[-*·•](?:[ \t]+(?P<text>.*))?$")
_NUMBERED = re.compile(r"^(?P<indent>[ \t]*)(?P<number>\d{1,3})\.(?:[ \t]+(?P<text>.*))?$")
_SUBPARAGRAPH = re.compile(
    r"^(?P<indent>[ \t]*)(?:\((?P<paren>[a-z]{1,6})\)|(?P<bare>[a-z]{1,6})\))[ \t]+(?P<text>\S.*)$"
)
_GENERAL_ASSEMBLY = re.compile(r"^the general assembly,?$", re.IGNORECASE)
_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_SPACES = re.compile(r"[ \t]+")


def _roman(number: int) -> str:
    numerals = ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
    out = []
    for value, letters in numerals:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


# Roman numerals stop at (xxxix): beyond, the letters (l), (c), (d) and (m) would be ambiguous.
_ROMAN_VALUES = {_roman(n): n for n in range(1, 40)}
_ROMAN_BY_VALUE = {n: numeral for numeral, n in _ROMAN_VALUES.items()}


def _is_letter(token: str) -> bool:
    """Letters (a)…(z), then (aa), (bb)…, the way long lists in UN texts continue."""
    return len(set(token)) == 1 and len(token) <= 2


def _next_letter(token: str | None) -> str:
    if token is None:
        return "a"
    if token[0] == "z":
        return "a" * (len(token) + 1)
    return chr(ord(token[0]) + 1) * len(token)


def _next_roman(token: str | None) -> str:
    return "i" if token is None else _ROMAN_BY_VALUE.get(_ROMAN_VALUES[token] + 1, "")


def strip_emphasis(text: str) -> str:
    """Drop Markdown emphasis markers, however nested, and keep the words."""
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text


@dataclass(slots=True, eq=False)
class _Node:
    kind: Kind
    parts: list[str]
    children: list[_Node] = field(default_factory=list)

    def freeze(self) -> OutlineProvision:
        return OutlineProvision(
            kind=self.kind,
            text=_clean(" ".join(self.parts)),
            children=tuple(child.freeze() for child in self.children),
        )


def _clean(text: str) -> str:
    return strip_emphasis(_SPACES.sub(" ", text).strip())


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


class _Reader:
    """Walks the lines once, remembering where the next bullet or sub-paragraph belongs."""

    def __init__(self) -> None:
        self.top: list[_Node] = []
        self.headings: list[tuple[int, _Node]] = []
        self.current: _Node | None = None  # the provision a wrapped line continues
        self.anchor: _Node | None = None  # the paragraph a new list hangs from
        self.bullets: list[tuple[int, _Node]] = []
        self.operative: _Node | None = None
        self.letter: _Node | None = None
        self.letter_token: str | None = None
        self.letter_indent = 0
        self.roman_token: str | None = None
        self.general_assembly = False
        self.operative_seen = False

    # -- where things go -------------------------------------------------------------------

    def container(self) -> list[_Node]:
        return self.headings[-1][1].children if self.headings else self.top

    def _close_paragraph_state(self) -> None:
        self.bullets.clear()
        self.operative = None
        self.letter = None
        self.letter_token = None
        self.roman_token = None

    def _start_block(self, kind: Kind, text: str) -> _Node:
        node = _Node(kind, [text])
        self.container().append(node)
        self.current = node
        self.anchor = node
        return node

    # -- one handler per kind of line ------------------------------------------------------

    def heading(self, level: int, text: str) -> None:
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        node = _Node("heading", [text])
        self.container().append(node)
        self.headings.append((level, node))
        self._close_paragraph_state()
        self.current = None
        self.anchor = None

    def general_assembly_line(self) -> None:
        self.general_assembly = True
        self._close_paragraph_state()
        self.current = None
        self.anchor = None

    def bullet(self, indent: int, text: str, line: int) -> None:
        while self.bullets and indent < self.bullets[-1][0] + 2:
            self.bullets.pop()
        if self.bullets:
            parent = self.bullets[-1][1].children
        elif indent >= 2:
            raise OutlineError(
                "this bullet is indented, but there is no bullet above it to nest under; "
                "remove the indentation or add the bullet it belongs to",
                line,
            )
        else:
            parent = self.anchor.children if self.anchor else self.container()
        node = _Node("list_item", [text])
        parent.append(node)
        self.bullets.append((indent, node))
        self.current = node

    def operative_paragraph(self, text: str) -> None:
        self._close_paragraph_state()
        self.operative = self._start_block("operative", text)
        self.operative_seen = True

    def subparagraph(self, token: str, indent: int, text: str) -> bool:
        """Add "(a)" or "(i)" under the open operative paragraph; False if there is none."""
        if self.operative is None:
            return False
        node = _Node("subparagraph", [text])
        if self._is_roman(token, indent):
            parent = self.letter or self.operative
            self.roman_token = token
        else:
            parent = self.operative
            self.letter, self.letter_token, self.letter_indent = node, token, indent
            self.roman_token = None
        parent.children.append(node)
        self.bullets.clear()
        self.current = node
        self.anchor = node
        return True

    def _is_roman(self, token: str, indent: int) -> bool:
        roman, letter = token in _ROMAN_VALUES, _is_letter(token)
        if roman != letter:
            return roman
        deeper = self.letter is not None and indent > self.letter_indent
        roman_next = token == _next_roman(self.roman_token)
        letter_next = token == _next_letter(self.letter_token)
        if roman_next and letter_next:
            return deeper
        if roman_next or letter_next:
            return roman_next
        return deeper

    def text_line(self, text: str) -> None:
        if self.current is not None:
            self.current.parts.append(text)
            return
        self._close_paragraph_state()
        kind: Kind = (
            "preambular" if self.general_assembly and not self.operative_seen else "paragraph"
        )
        self._start_block(kind, text)


def parse_outline(text: str) -> Outline:
    """Read an outline (see the module docstring for the format) or say which line is wrong."""
    lines = text.splitlines()
    index = _skip_blank(lines, 0)
    if index == len(lines):
        raise OutlineError("the text is empty; start with a title line such as '# Title'", 1)
    title_match = _HEADING.match(lines[index])
    if not title_match or len(title_match["hashes"]) != 1 or not title_match["text"]:
        raise OutlineError(
            "the first line must be the title, written '# Title of the draft'", index + 1
        )
    title = _clean(title_match["text"])
    index += 1

    subtitle_parts: list[str] = []
    after_title = _skip_blank(lines, index)
    while after_title < len(lines) and (sub := _SUBTITLE.match(lines[after_title])):
        subtitle_parts.append(sub["text"])
        after_title += 1
    if subtitle_parts:
        index = after_title
    subtitle = _clean(" ".join(subtitle_parts)) or None

    reader = _Reader()
    for number, raw in enumerate(lines[index:], start=index + 1):
        _read_line(reader, raw.rstrip(), number)

    provisions = tuple(node.freeze() for node in reader.top)
    scheme: Scheme = "resolution" if reader.general_assembly or reader.operative_seen else "plain"
    return Outline(title=title, subtitle=subtitle, scheme=scheme, provisions=provisions)


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _read_line(reader: _Reader, line: str, number: int) -> None:
    if not line.strip():
        reader.current = None
        return
    if heading := _HEADING.match(line):
        if len(heading["hashes"]) == 1:
            raise OutlineError("a document has one title ('# …'); use '## …' for a heading", number)
        if not heading["text"]:
            raise OutlineError("this heading has no text", number)
        reader.heading(len(heading["hashes"]), heading["text"])
        return
    if _SUBTITLE.match(line):
        raise OutlineError("a '>' subtitle belongs directly under the title", number)
    if reader.current is None and _GENERAL_ASSEMBLY.match(_clean(line)):
        reader.general_assembly_line()
        return
    if bullet := _BULLET.match(line):
        if not bullet["text"] or not bullet["text"].strip():
            raise OutlineError("this bullet has no text", number)
        reader.bullet(_indent_width(bullet["indent"]), bullet["text"], number)
        return
    if numbered := _NUMBERED.match(line):
        if not numbered["text"] or not numbered["text"].strip():
            raise OutlineError(f"paragraph {numbered['number']}. has no text", number)
        reader.operative_paragraph(numbered["text"])
        return
    sub = _SUBPARAGRAPH.match(line)
    if sub:
        token = sub["paren"] or sub["bare"]
        if (token in _ROMAN_VALUES or _is_letter(token)) and reader.subparagraph(
            token, _indent_width(sub["indent"]), sub["text"]
        ):
            return
    reader.text_line(line.strip())
