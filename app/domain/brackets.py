"""Square brackets: text that is not agreed.

Brackets always balance, and negotiation ends when none is left ("clean text"). A disputed
passage is one bracketed text, or competing alternatives side by side
(``[convene a conference][hold a high-level meeting]``, ``[A] [or] [B]``), or, as in the Paris
texts, options inside one pair (``[below 1.5 °C [or] [well] below 2 °C]``). The co-facilitators
settle a passage by keeping one alternative or dropping it; a proposal they do not accept yet
enters the text in brackets.

Positions are 0-based string offsets (``position`` attributes, spans); messages meant for a
delegate count characters from 1, as a word processor does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.diff import DiffOp
from app.domain.errors import Invalid

__all__ = [
    "BracketError",
    "BracketGroup",
    "BracketedText",
    "UnbalancedBrackets",
    "bracket_change",
    "bracket_groups",
    "bracket_whole",
    "check_balance",
    "count_brackets",
    "is_balanced",
    "resolve",
]

OPEN = "["
CLOSE = "]"
#: Whitespace that tidying may collapse. Non-breaking spaces ("1.5\u00a0°C") are left alone.
_SPACE = " \t"
_NO_SPACE_BEFORE = ",;:.)!?"
_NO_SPACE_AFTER = "("
#: Characters that end a word when deciding whether a change cuts a word in two.
_WORD_BREAKS = frozenset(',;:.!?()[]{}"“”«»„')


class BracketError(Invalid, ValueError):
    """A bracket operation is impossible; the message says why, for a delegate to read.

    It is an ``Invalid`` (the web layer answers 422) and a ``ValueError`` (plain Python callers).
    """


class UnbalancedBrackets(BracketError):
    """Brackets must always balance: a stray one makes every later passage ambiguous.

    `detail` is the message without its "Unbalanced brackets: " opening, for a caller that
    names the text itself ("The proposed wording has unbalanced brackets: …").
    """

    def __init__(self, message: str, position: int, detail: str | None = None) -> None:
        super().__init__(message)
        self.position = position
        self.detail = detail or message


# --------------------------------------------------------------------------------------------
# Matching pairs
# --------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Pair:
    open: int
    close: int = -1
    children: list[_Pair] = field(default_factory=list)


def _excerpt(text: str, position: int, width: int = 20) -> str:
    start, end = max(0, position - width), min(len(text), position + width + 1)
    words = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + words + ("…" if end < len(text) else "")


def _parse(text: str, what: str = "") -> list[_Pair]:
    """The top-level bracket pairs of `text`, each with its nested pairs."""
    top: list[_Pair] = []
    stack: list[_Pair] = []
    prefix = f"Unbalanced brackets in {what}: " if what else "Unbalanced brackets: "
    for i, ch in enumerate(text):
        if ch == OPEN:
            pair = _Pair(i)
            (stack[-1].children if stack else top).append(pair)
            stack.append(pair)
        elif ch == CLOSE:
            if not stack:
                detail = (
                    f"']' at character {i + 1} has no matching '[' (near \"{_excerpt(text, i)}\")"
                )
                raise UnbalancedBrackets(prefix + detail, i, detail)
            stack.pop().close = i
    if stack:
        first = stack[0].open
        others = len(stack) - 1
        more = (
            f"; {others} more '[' {'is' if others == 1 else 'are'} not closed either"
            if others
            else ""
        )
        detail = (
            f"'[' at character {first + 1} is never closed (near \"{_excerpt(text, first)}\"){more}"
        )
        raise UnbalancedBrackets(prefix + detail, first, detail)
    return top


def _partners(text: str, what: str) -> dict[int, int]:
    """Each bracket's position mapped to its partner's; raises if `text` does not balance."""
    partners: dict[int, int] = {}
    todo = _parse(text, what)
    while todo:
        pair = todo.pop()
        partners[pair.open] = pair.close
        partners[pair.close] = pair.open
        todo.extend(pair.children)
    return partners


def check_balance(text: str) -> None:
    """Refuse text whose brackets do not balance, naming the first stray bracket."""
    _parse(text)


def is_balanced(text: str) -> bool:
    try:
        _parse(text)
    except UnbalancedBrackets:
        return False
    return True


def count_brackets(text: str) -> int:
    """Bracket pairs at every depth, "[or]" included: the figure negotiators quote ("916
    brackets"). Stray brackets in unbalanced text are not counted."""
    depth = pairs = 0
    for ch in text:
        if ch == OPEN:
            depth += 1
        elif ch == CLOSE and depth:
            depth -= 1
            pairs += 1
    return pairs


# --------------------------------------------------------------------------------------------
# Disputed passages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BracketGroup:
    """A disputed passage, as the co-facilitators settle it: keep one alternative, or drop it.

    `alternatives` are the competing wordings without their outer brackets; brackets nested
    inside an alternative stay in it and become passages of their own once it is kept.
    """

    index: int
    start: int
    end: int
    alternatives: tuple[str, ...]


def _is_or(text: str, pair: _Pair) -> bool:
    return text[pair.open + 1 : pair.close].strip().lower() == "or"


def _has_free_words(text: str, start: int, end: int, children: Sequence[_Pair]) -> bool:
    """Does text[start:end] hold words outside the brackets nested in it?"""
    pos = start
    for child in children:
        if child.close < start or child.open >= end:
            continue
        if text[pos : child.open].strip():
            return True
        pos = child.close + 1
    return bool(text[pos:end].strip())


def _alternatives(text: str, pair: _Pair) -> list[str]:
    """The wordings one pair offers.

    Usually its content. In the Paris notation "[below 1.5 °C [or] [well] below 2 °C]" a "[or]"
    directly inside the pair separates options made of free words; "[[A] [or] [B]]" (a whole
    disputed passage, itself bracketed) is left as one alternative.
    """
    content = text[pair.open + 1 : pair.close]
    separators = [c for c in pair.children if _is_or(text, c)]
    if not separators:
        return [content]
    bounds = [pair.open + 1]
    for sep in separators:
        bounds += [sep.open, sep.close + 1]
    bounds.append(pair.close)
    pieces = list(zip(bounds[::2], bounds[1::2], strict=True))
    if any(not text[a:b].strip() for a, b in pieces):
        return [content]
    if not any(_has_free_words(text, a, b, pair.children) for a, b in pieces):
        return [content]
    return [text[a:b].strip() for a, b in pieces]


def _runs(text: str, top: Sequence[_Pair]) -> list[list[_Pair]]:
    """Top-level pairs separated by nothing but whitespace form one passage."""
    runs: list[list[_Pair]] = []
    for pair in top:
        if runs and not text[runs[-1][-1].close + 1 : pair.open].strip():
            runs[-1].append(pair)
        else:
            runs.append([pair])
    return runs


def bracket_groups(text: str) -> tuple[BracketGroup, ...]:
    """The disputed passages of a text, in reading order.

    A passage is a run of top-level bracket pairs separated only by whitespace. A "[or]" pair
    between two alternatives separates them; at either end of a run it is an alternative (the
    word "or" itself under dispute, as in "[or][and]").
    """
    groups: list[BracketGroup] = []
    for run in _runs(text, _parse(text)):
        alternatives: list[str] = []
        for i, pair in enumerate(run):
            if 0 < i < len(run) - 1 and _is_or(text, pair):
                continue
            alternatives.extend(_alternatives(text, pair))
        groups.append(
            BracketGroup(len(groups), run[0].open, run[-1].close + 1, tuple(alternatives))
        )
    return tuple(groups)


def _join(left: str, right: str) -> str:
    """Glue two pieces of a paragraph where a passage was removed or kept.

    One space where words meet, none before punctuation or after an opening parenthesis, none
    at the start or end of the paragraph.
    """
    left_core, right_core = left.rstrip(_SPACE), right.lstrip(_SPACE)
    if len(left_core) == len(left) and len(right_core) == len(right):
        return left + right
    if not left_core or not right_core or left_core[-1] == "\n" or right_core[0] == "\n":
        return left_core + right_core
    if right_core[0] in _NO_SPACE_BEFORE or left_core[-1] in _NO_SPACE_AFTER:
        return left_core + right_core
    return f"{left_core} {right_core}"


def resolve(text: str, group_index: int, choice: int | None) -> str:
    """Settle one disputed passage: keep alternative `choice` (its own nested brackets stay,
    to be settled next) or, with None, drop the passage. Both indices count from 0."""
    groups = bracket_groups(text)
    if not groups:
        raise BracketError("This text has no brackets left: there is nothing to settle.")
    if not 0 <= group_index < len(groups):
        count = len(groups)
        raise BracketError(
            f"There is no bracketed passage number {group_index + 1}: the text has "
            f"{count} bracketed passage{'s' if count != 1 else ''}."
        )
    group = groups[group_index]
    if choice is None:
        kept = ""
    elif 0 <= choice < len(group.alternatives):
        kept = group.alternatives[choice]
    else:
        options = len(group.alternatives)
        raise BracketError(
            f"Bracketed passage {group_index + 1} has {options} "
            f"alternative{'s' if options != 1 else ''}: there is no alternative {choice + 1}."
        )
    left, right = text[: group.start], text[group.end :]
    if not kept.strip():
        return _join(left, right)
    return _join(_join(left, kept), right)


# --------------------------------------------------------------------------------------------
# Bracketing a proposal
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BracketedText:
    """A paragraph with a proposal entered in brackets; `spans` (with the brackets) are the
    passages the proposal introduced, so each can be attributed to its proponent."""

    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class _Hunk:
    """One change: old[os:oe] becomes new[ns:ne]."""

    os: int
    oe: int
    ns: int
    ne: int


def _in_word(text: str, i: int) -> bool:
    """Is text[i] part of a word (a decimal point or comma between digits counts)?"""
    if not 0 <= i < len(text):
        return False
    ch = text[i]
    if ch.isspace():
        return False
    if ch in ".," and 0 < i < len(text) - 1:
        return text[i - 1].isdigit() and text[i + 1].isdigit()
    return ch not in _WORD_BREAKS


def _hunks(ops: Sequence[DiffOp]) -> list[_Hunk]:
    hunks: list[_Hunk] = []
    o = n = 0
    current: _Hunk | None = None
    for op in ops:
        if op.op == "equal":
            current = None
            o += len(op.text)
            n += len(op.text)
            continue
        if current is None:
            current = _Hunk(o, o, n, n)
            hunks.append(current)
        if op.op == "delete":
            o += len(op.text)
            current.oe = o
        else:
            n += len(op.text)
            current.ne = n
    return hunks


class _Pairing:
    """Where each bracket's partner is, with the bracket positions sorted for range queries."""

    __slots__ = ("partners", "positions")

    def __init__(self, text: str, what: str) -> None:
        self.partners = _partners(text, what)
        self.positions = sorted(self.partners)

    def closure(self, start: int, end: int) -> tuple[int, int]:
        """The range around [start, end) reaching the partner of every bracket in it; a hunk
        grows until this is itself, so that what goes inside new brackets balances."""
        lo, hi = start, end
        k = bisect_left(self.positions, start)
        while k < len(self.positions) and self.positions[k] < end:
            partner = self.partners[self.positions[k]]
            lo, hi = min(lo, partner), max(hi, partner + 1)
            k += 1
        return lo, hi


def _settle(hunks: list[_Hunk], old: str, new: str, po: _Pairing, pn: _Pairing) -> None:
    """Grow and merge the hunks until each can go in brackets on its own.

    A hunk grows to whole words (a change never cuts a word in two: "migrant[s]" becomes
    "[migrant][migrants]"), to whole bracket pairs of the old and the new text (so the result
    balances), and absorbs a neighbour separated from it by whitespace only (two passages side
    by side would read as alternatives of one). A settled hunk stays settled while later ones
    grow: a later one that reaches it is merged into it, and the merged hunk is settled again.
    """
    i = 0
    while i < len(hunks):
        h = hunks[i]
        prev_oe, prev_ne = (hunks[i - 1].oe, hunks[i - 1].ne) if i else (0, 0)
        last = i + 1 == len(hunks)
        next_os, next_ns = (len(old), len(new)) if last else (hunks[i + 1].os, hunks[i + 1].ns)

        lo_o, hi_o = po.closure(h.os, h.oe)
        lo_n, hi_n = pn.closure(h.ns, h.ne)
        left = max(h.os - lo_o, h.ns - lo_n)
        right = max(hi_o - h.oe, hi_n - h.ne)
        if _in_word(old, h.os - 1) and (_in_word(old, h.os) or _in_word(new, h.ns)):
            w = h.os
            while _in_word(old, w - 1):
                w -= 1
            left = max(left, h.os - w)
        if _in_word(old, h.oe) and (_in_word(old, h.oe - 1) or _in_word(new, h.ne - 1)):
            w = h.oe
            while _in_word(old, w):
                w += 1
            right = max(right, w - h.oe)

        if i and (
            h.os - left <= prev_oe
            or h.ns - left <= prev_ne
            or not old[prev_oe : h.os - left].strip()
        ):
            hunks[i - 1 : i + 1] = [_Hunk(hunks[i - 1].os, h.oe, hunks[i - 1].ns, h.ne)]
            i -= 1
        elif not last and (
            h.oe + right >= next_os
            or h.ne + right >= next_ns
            or not old[h.oe + right : next_os].strip()
        ):
            nxt = hunks[i + 1]
            hunks[i : i + 2] = [_Hunk(h.os, nxt.oe, h.ns, nxt.ne)]
        elif left or right:
            hunks[i] = _Hunk(h.os - left, h.oe + right, h.ns - left, h.ne + right)
        else:
            i += 1


def _split_space(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, core, ""
    lead = text[: len(text) - len(text.lstrip())]
    return lead, core, text[len(lead) + len(core) :]


def bracket_change(old: str, ops: Sequence[DiffOp]) -> BracketedText:
    """The "bracket" decision: a disputed change enters the text in brackets instead of being
    accepted, so the room can still choose.

    Each change becomes one passage: deleted words "[deleted words]", inserted words
    "[inserted words]", replaced words "[old words][new words]". Spaces around a change stay
    outside its brackets (inserting " and refugees" gives " [and refugees]"). A change of
    whitespace alone is not disputed and is applied as it is. Both `old` and the proposed text
    must balance; the result then balances too.

    A passage entered right next to an existing one (only spaces between them) reads as more
    alternatives of that passage: that is what the bracket notation says, not a choice made here.
    """
    ops = [op for op in ops if op.text]
    if "".join(op.text for op in ops if op.op != "insert") != old:
        raise BracketError(
            "The proposed change was written on another version of this paragraph; "
            "it cannot be bracketed into the current text."
        )
    new = "".join(op.text for op in ops if op.op != "delete")
    po = _Pairing(old, "the current text")
    pn = _Pairing(new, "the proposed text")
    hunks = _hunks(ops)
    _settle(hunks, old, new, po, pn)

    out: list[str] = []
    spans: list[tuple[int, int]] = []
    size = 0
    pos = 0

    def emit(piece: str) -> None:
        nonlocal size
        out.append(piece)
        size += len(piece)

    for h in hunks:
        emit(old[pos : h.os])
        pos = h.oe
        d_lead, deleted, d_trail = _split_space(old[h.os : h.oe])
        i_lead, inserted, i_trail = _split_space(new[h.ns : h.ne])
        if not deleted and not inserted:
            emit(new[h.ns : h.ne])
            continue
        emit(max(d_lead, i_lead, key=len))
        start = size
        if deleted:
            emit(f"{OPEN}{deleted}{CLOSE}")
        if inserted:
            emit(f"{OPEN}{inserted}{CLOSE}")
        spans.append((start, size))
        emit(max(d_trail, i_trail, key=len))
    emit(old[pos:])
    return BracketedText("".join(out), tuple(spans))


def bracket_whole(text: str) -> str:
    """A whole paragraph not agreed (proposed for deletion, or new and not yet accepted) goes in
    one pair of brackets, its closing punctuation inside: "[Decides to …;]"."""
    check_balance(text)
    lead, core, trail = _split_space(text)
    if not core:
        return text
    return f"{lead}{OPEN}{core}{CLOSE}{trail}"
