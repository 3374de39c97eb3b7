"""Word-level diffs of provision text, and carrying amendments onto new versions.

An amendment is a tracked change against the version of a paragraph it was written on. Delegates
read and negotiate words, so a diff never splits a word (nor a letter with its accents, nor an
emoji): every text is cut into tokens, each distinct token becomes one character, and
diff-match-patch compares those character strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from diff_match_patch import diff_match_patch  # type: ignore[import-untyped]

__all__ = [
    "Change",
    "DiffMismatch",
    "DiffOp",
    "NeedsRedraft",
    "Op",
    "Rebased",
    "apply_diff",
    "changes",
    "collisions",
    "find_collisions",
    "new_text",
    "old_text",
    "rebase",
    "rebase_all",
    "tokenize",
    "word_diff",
]

Op = Literal["equal", "insert", "delete"]


@dataclass(frozen=True, slots=True)
class DiffOp:
    """One run of a tracked change: words kept, inserted or deleted."""

    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    """One hunk of an amendment, located in the text it was written on.

    Offsets let two amendments to the same version be checked for touching the same words.
    """

    start: int
    end: int
    deleted: str
    inserted: str


@dataclass(frozen=True, slots=True)
class Rebased:
    """A pending amendment carried onto a newer version of its paragraph."""

    proposed: str
    ops: tuple[DiffOp, ...]
    already_in_text: bool


@dataclass(frozen=True, slots=True)
class NeedsRedraft:
    """The paragraph changed under the amendment: its sponsor must redraft it by hand.

    We never guess where an amendment goes; the reason names the words in conflict.
    """

    reason: str
    conflicting: tuple[str, ...]


class DiffMismatch(ValueError):
    """A tracked change does not fit the text it is applied to (it was written on another
    version), so applying it would put words in the wrong place."""


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


def _ranges(codepoints: Iterable[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for cp in codepoints:
        if spans and spans[-1][1] == cp - 1:
            spans[-1] = (spans[-1][0], cp)
        else:
            spans.append((cp, cp))
    return spans


def _char_class(spans: Iterable[tuple[int, int]]) -> str:
    parts = []
    for lo, hi in spans:
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
    return "".join(parts)


def _extender_ranges() -> list[tuple[int, int]]:
    """Characters that belong to the grapheme cluster before them (UAX #29 Extend and
    SpacingMark): combining marks (Mn/Mc/Me: Arabic harakat, accents, Indic vowel signs),
    ZWNJ, variation selectors, emoji skin tones, emoji tag characters, halfwidth kana voicing
    marks and the Thai/Lao AM vowels. Splitting before one of them would split a letter."""
    marks = {
        cp
        for block in (range(0x20000), range(0xE0000, 0xE0200))
        for cp in block
        if unicodedata.category(chr(cp))[0] == "M"
    }
    marks.update({0x200C, 0xFF9E, 0xFF9F, 0x0E33, 0x0EB3})
    marks.update(range(0x1F3FB, 0x1F400))  # emoji modifiers (skin tones)
    marks.update(range(0xE0020, 0xE0080))  # tag characters (subdivision flags)
    return _ranges(sorted(marks))


# Scripts written without spaces between words: one token per character (with its marks),
# otherwise a whole Chinese sentence would be a single "word".
_CJK_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3001, 0x303F),  # CJK symbols and punctuation (not the ideographic space U+3000)
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31FF),  # Bopomofo extended, CJK strokes, Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9D),  # halfwidth Katakana
    (0x1B000, 0x1B16F),  # Kana supplement and extensions
    (0x20000, 0x3FFFF),  # CJK extensions B and beyond
)
# Grapheme_Cluster_Break=Prepend: these attach to the character *after* them.
_PREPEND_RANGES = (
    (0x0600, 0x0605),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x0D4E, 0x0D4E),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x111C2, 0x111C3),
    (0x1193F, 0x1193F),
    (0x11941, 0x11941),
    (0x11A3A, 0x11A3A),
    (0x11A84, 0x11A89),
    (0x11D46, 0x11D46),
)


def _char_set(spans: Sequence[tuple[int, int]]) -> str:
    """A regex matching one character of `spans`, fast on the common characters.

    `re` looks up characters of the Basic Multilingual Plane in a table but tries astral ranges
    one by one, so astral ranges are only tried on astral characters.
    """
    bmp = [(lo, min(hi, 0xFFFF)) for lo, hi in spans if lo <= 0xFFFF]
    astral = [(max(lo, 0x10000), hi) for lo, hi in spans if hi > 0xFFFF]
    if not astral:
        return f"[{_char_class(bmp)}]"
    return f"(?:[{_char_class(bmp)}]|(?=[\U00010000-\U0010ffff])[{_char_class(astral)}])"


_EXTENDER_RANGES = _extender_ranges()
_CJK = _char_set(_CJK_RANGES)
_EXT = _char_set(_EXTENDER_RANGES)
_PREP = _char_set(_PREPEND_RANGES)
_RI = "[\U0001f1e6-\U0001f1ff]"  # regional indicators: a flag is a pair of them
_WORD_CHAR = rf"(?:(?!{_CJK})[^\W_])"  # a letter or digit of a spaced script
# What may follow any character without starting a new grapheme cluster. A ZWJ also pulls in
# the symbol after it (emoji ZWJ sequences: families, rainbow flag); before a letter it needs
# not, as letters on both sides of it belong to one word anyway.
_GLUE = rf"(?:{_EXT}|\u200d(?:{_RI}{{1,2}}|[^\s\w\u200d])?)"
# Prepended marks (and a ZWJ with nothing before it) belong to the token after them.
_TOKEN = re.compile(
    rf"(?:{_PREP}|\u200d)*"
    rf"(?:\s+|{_RI}{{1,2}}|{_CJK}|{_WORD_CHAR}(?:{_WORD_CHAR}|{_GLUE})*|.){_GLUE}*",
    re.DOTALL,
)
# Text with none of these characters (most English, French, Spanish, Russian) has no grapheme
# cluster longer than one character and no unspaced script: a much simpler pattern cuts it
# the same way, three to four times faster.
_NEEDS_CLUSTERS = re.compile(
    "["
    + _char_class(
        [r for r in (*_EXTENDER_RANGES, *_CJK_RANGES, *_PREPEND_RANGES) if r[0] <= 0xFFFF]
    )
    + "\u200d\U00010000-\U0010ffff]"
)
_SIMPLE_TOKEN = re.compile(r"[^\W_]+|\s+|.", re.DOTALL)


def tokenize(text: str) -> list[str]:
    """Cut text into words, runs of whitespace and single punctuation marks or symbols.

    These are the units a delegate amends: a diff may only start or end between tokens, so a
    word, an accented or vowelled letter ("e\u0301", "مُ") or an emoji ("👩‍👩‍👧", "👍🏽") is
    never cut in two. Chinese and Japanese have no spaces, so each character is a token.
    """
    if _NEEDS_CLUSTERS.search(text):
        return _TOKEN.findall(text)
    return _SIMPLE_TOKEN.findall(text)


# --------------------------------------------------------------------------------------------
# Token encoding: one character per distinct token, so diff-match-patch works on words
# --------------------------------------------------------------------------------------------

# Code points used to stand for tokens, in order. They start with CJK ideographs so that all
# the usual ones are letters to diff-match-patch's boundary scoring (no token looks like a
# space or line break to it), they skip the surrogates, and they never use U+0001-U+0004,
# which patch_apply uses as padding.
_CODE_BLOCKS = (
    range(0x4E00, 0xA000),
    range(0x20000, 0x110000),
    range(0x100, 0x4E00),
    range(0xA000, 0xD800),
    range(0xE000, 0x20000),
)


def _code(index: int) -> str:
    for block in _CODE_BLOCKS:
        if index < len(block):
            return chr(block[index])
        index -= len(block)
    raise ValueError("too many distinct words to compare")


class _Codec:
    """A shared token alphabet: texts compared with each other must use the same one."""

    __slots__ = ("codes", "tokens")

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}

    def encode(self, text: str) -> str:
        codes = self.codes
        out = []
        for token in tokenize(text):
            code = codes.get(token)
            if code is None:
                code = _code(len(codes))
                codes[token] = code
                self.tokens[code] = token
            out.append(code)
        return "".join(out)

    def decode(self, encoded: str) -> str:
        return "".join(map(self.tokens.__getitem__, encoded))


# One configured instance for the module: no per-call set-up. Diff_Timeout = 0 because the
# default 1 s cut-off makes large diffs non-minimal and different from one run to the next.
_DMP = diff_match_patch()
_DMP.Diff_Timeout = 0
# The fuzzy patcher that double-checks rebased amendments. A patch remembers where its words
# were in the old version; a new version may add or remove any number of words before them, so
# distance from that spot must not count against a match. With the default Match_Distance
# (1000) a patch pushed ~500 words away was applied, without complaint, on the wrong words.
_PATCHER = diff_match_patch()
_PATCHER.Diff_Timeout = 0
_PATCHER.Match_Distance = 1_000_000_000
_DMP_OP: dict[int, Op] = {
    diff_match_patch.DIFF_EQUAL: "equal",
    diff_match_patch.DIFF_INSERT: "insert",
    diff_match_patch.DIFF_DELETE: "delete",
}
_DMP_CODE: dict[Op, int] = {op: code for code, op in _DMP_OP.items()}


def _normalise(raw: Iterable[tuple[int, str]]) -> tuple[DiffOp, ...]:
    """Merge runs of the same kind, drop empty ones, and put each change's deletion before its
    insertion: the form every reader of a tracked change expects."""
    ops: list[DiffOp] = []
    deleted: list[str] = []
    inserted: list[str] = []
    equal: list[str] = []

    def flush_change() -> None:
        if deleted:
            ops.append(DiffOp("delete", "".join(deleted)))
            deleted.clear()
        if inserted:
            ops.append(DiffOp("insert", "".join(inserted)))
            inserted.clear()

    for code, text in raw:
        if not text:
            continue
        op = _DMP_OP[code]
        if op == "equal":
            flush_change()
            equal.append(text)
            continue
        if equal:
            ops.append(DiffOp("equal", "".join(equal)))
            equal.clear()
        (deleted if op == "delete" else inserted).append(text)
    flush_change()
    if equal:
        ops.append(DiffOp("equal", "".join(equal)))
    return tuple(ops)


def _encoded_diff(old: str, new: str) -> tuple[DiffOp, ...]:
    """Diff two token-encoded strings. The semantic clean-up runs here, on the encoding: run
    after decoding it would move change boundaries into the middle of words again."""
    if old == new:
        return (DiffOp("equal", old),) if old else ()
    raw: list[tuple[int, str]] = _DMP.diff_main(old, new, False)
    _DMP.diff_cleanupSemantic(raw)
    return _normalise(raw)


def _decode_ops(ops: Iterable[DiffOp], codec: _Codec) -> tuple[DiffOp, ...]:
    return tuple(DiffOp(op.op, codec.decode(op.text)) for op in ops)


def word_diff(old: str, new: str) -> tuple[DiffOp, ...]:
    """The tracked change turning `old` into `new`, in whole words.

    Within a change the deletion comes before the insertion, as in a marked-up draft.
    """
    if old == new:
        return (DiffOp("equal", old),) if old else ()
    codec = _Codec()
    return _decode_ops(_encoded_diff(codec.encode(old), codec.encode(new)), codec)


def old_text(ops: Iterable[DiffOp]) -> str:
    """The text the tracked change was written on."""
    return "".join(op.text for op in ops if op.op != "insert")


def new_text(ops: Iterable[DiffOp]) -> str:
    """The text as the tracked change would leave it."""
    return "".join(op.text for op in ops if op.op != "delete")


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def apply_diff(base: str, ops: Iterable[DiffOp]) -> str:
    """Apply a tracked change to `base`, refusing if it was written on a different text.

    Kept and deleted words must match `base` exactly; anything else would put an amendment's
    words in the wrong place.
    """
    out: list[str] = []
    pos = 0
    for op in ops:
        if op.op == "insert":
            out.append(op.text)
            continue
        if not base.startswith(op.text, pos):
            raise DiffMismatch(_mismatch(base, pos, op))
        if op.op == "equal":
            out.append(op.text)
        pos += len(op.text)
    if pos != len(base):
        raise DiffMismatch(
            f'the change ends at character {pos}, but the text goes on with "'
            f'{_excerpt(base[pos:])}": the change was written on another version'
        )
    return "".join(out)


def _mismatch(base: str, pos: int, op: DiffOp) -> str:
    """Say where a change stops fitting the text, from the start of the word that differs."""
    found = base[pos : pos + len(op.text)]
    same = next(
        (i for i, (want, got) in enumerate(zip(op.text, found, strict=False)) if want != got),
        min(len(op.text), len(found)),
    )
    word_start = 0
    for token in tokenize(op.text):
        if word_start + len(token) > same:
            break
        word_start += len(token)
    role = "keeps" if op.op == "equal" else "deletes"
    return (
        f'the change {role} "{_excerpt(op.text[word_start:])}" at character '
        f'{pos + word_start}, but the text there reads "{_excerpt(found[word_start:])}": '
        "the change was written on another version"
    )


def changes(ops: Iterable[DiffOp]) -> tuple[Change, ...]:
    """The hunks of a tracked change, located in the text it was written on."""
    hunks: list[Change] = []
    pos = 0
    start = -1
    deleted: list[str] = []
    inserted: list[str] = []
    for op in ops:
        if op.op == "equal":
            if start >= 0:
                hunks.append(Change(start, pos, "".join(deleted), "".join(inserted)))
                start = -1
                deleted.clear()
                inserted.clear()
            pos += len(op.text)
            continue
        if start < 0:
            start = pos
        if op.op == "delete":
            deleted.append(op.text)
            pos += len(op.text)
        else:
            inserted.append(op.text)
    if start >= 0:
        hunks.append(Change(start, pos, "".join(deleted), "".join(inserted)))
    return tuple(hunks)


def _touch(a: Change, b: Change) -> bool:
    return a.start <= b.end and b.start <= a.end


def touching(hunks_a: Iterable[Change], hunks_b: Sequence[Change]) -> bool:
    """Whether two changes' hunks (of the same text) collide, as `collisions` counts them:
    for callers that compare one change with many and compute each change's hunks once."""
    return any(_touch(a, b) for a in hunks_a for b in hunks_b)


def collisions(
    ops_a: Sequence[DiffOp], ops_b: Sequence[DiffOp]
) -> tuple[tuple[Change, Change], ...]:
    """Pairs of hunks of two changes to the same text that touch the same words.

    Deliberately conservative: two insertions at the same point, or changes to neighbouring
    tokens with nothing between them, collide, because no rule says which goes first.
    """
    if old_text(ops_a) != old_text(ops_b):
        raise DiffMismatch("the two changes were not written on the same text")
    hunks_b = changes(ops_b)
    return tuple((a, b) for a in changes(ops_a) for b in hunks_b if _touch(a, b))


def find_collisions(
    diffs: Sequence[tuple[int, Sequence[DiffOp]]],
    involving: Collection[int] | None = None,
) -> list[tuple[int, int, tuple[tuple[Change, Change], ...]]]:
    """Every pair of changes (keyed by an id) to the same text that touch the same words.

    The co-facilitators' review of a busy paragraph compares hundreds of proposals: their hunks
    are swept in order of position, so the cost follows the number of hunks and of actual
    collisions, not the square of the number of proposals. Same rule as `collisions`.

    With `involving`, only the pairs that include one of those keys, as the whole sweep finds
    them: what a paragraph's collisions need after a few of its proposals changed, at the cost
    of those few (the others' hunks are swept only where they touch theirs).
    """
    hunks_of = {key: changes(ops) for key, ops in diffs}
    if involving is not None:
        theirs = [h for key in involving for h in hunks_of.get(key, ())]
        hunks_of = {
            key: hunks
            for key, hunks in hunks_of.items()
            if key in involving or any(_touch(h, t) for h in hunks for t in theirs)
        }
    hunks = sorted(
        ((change, key) for key, keyed in hunks_of.items() for change in keyed),
        key=lambda item: (item[0].start, item[0].end),
    )
    found: dict[tuple[int, int], list[tuple[Change, Change]]] = {}
    active: list[tuple[Change, int]] = []
    for change, key in hunks:
        active = [(c, k) for c, k in active if c.end >= change.start]
        for other, other_key in active:
            if other_key != key:
                pair = (other_key, key) if other_key < key else (key, other_key)
                hunk_pair = (other, change) if other_key < key else (change, other)
                found.setdefault(pair, []).append(hunk_pair)
        active.append((change, key))
    return [
        (a, b, tuple(pairs))
        for (a, b), pairs in sorted(found.items())
        if involving is None or a in involving or b in involving
    ]


# --------------------------------------------------------------------------------------------
# Carrying a pending amendment onto a new version of its paragraph
# --------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, str]:
    """How a reason names old words to a delegate: 'the word "X"' or 'the words "X Y"', with
    the matching "was" or "were"."""
    trimmed = text.strip()
    if sum(1 for token in tokenize(trimmed) if not token.isspace()) == 1:
        return f'the word "{_excerpt(trimmed)}"', "was"
    return f'the words "{_excerpt(trimmed)}"', "were"


def _word_near(old: str, codec: _Codec, offset: int) -> str:
    """The old word next to an insertion point: the one before it, or after it at the start."""
    words = [t for t in tokenize(codec.decode(old[:offset])) if not t.isspace()]
    if words:
        return words[-1]
    words = [t for t in tokenize(codec.decode(old[offset:])) if not t.isspace()]
    return words[0] if words else ""


def _conflict(old: str, codec: _Codec, base: Change, amendment: Change) -> tuple[str, str]:
    """Name the old words that an amendment hunk and a new-version hunk both touch.

    `old` is the token-encoded old version; the hunks are in its token coordinates.
    """
    inserted = f'"{_excerpt(codec.decode(amendment.inserted).strip())}"'
    words = codec.decode(amendment.deleted).strip()
    if words:
        named, verb = _words(words)
        return words, f"{named} it changes {verb} changed in the meantime"
    words = codec.decode(base.deleted).strip()
    if words:
        named, verb = _words(words)
        return words, f"{named} next to where it inserts {inserted} {verb} changed in the meantime"
    words = _word_near(old, codec, amendment.start)
    place = f"next to {_words(words)[0]}, " if words else ""
    return words, f"other words were inserted {place}where it inserts {inserted}, in the meantime"


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where a non-conflicting amendment hunk stands in the new version."""

    anchored: bool  # its words and untouched context occur once, where the merge puts them
    context_changed: bool  # the new version changed words within Patch_Margin tokens of it


def _placement(old: str, new: str, base: Sequence[Change], hunk: Change) -> _Placement:
    margin = int(_PATCHER.Patch_Margin)
    before = [b.end for b in base if b.end <= hunk.start]
    after = [b.start for b in base if b.start >= hunk.end]
    low = max([*before, hunk.start - margin, 0])
    high = min([*after, hunk.end + margin, len(old)])
    anchor = old[low:high]
    shift = sum(len(b.inserted) - (b.end - b.start) for b in base if b.end <= hunk.start)
    found = new.find(anchor) if anchor else -1
    return _Placement(
        anchored=found == low + shift and new.find(anchor, found + 1) == -1,
        context_changed=low > max(hunk.start - margin, 0)
        or high < min(hunk.end + margin, len(old)),
    )


def _unplaced(old: str, codec: _Codec, hunk: Change, placement: _Placement) -> tuple[str, str]:
    """Name an amendment hunk that cannot be carried over with certainty."""
    words = codec.decode(hunk.deleted).strip()
    if words:
        subject = f"{_words(words)[0]} it changes"
    else:
        words = _word_near(old, codec, hunk.start)
        subject = f'the place where it inserts "{_excerpt(codec.decode(hunk.inserted).strip())}"'
    if placement.context_changed:
        return words, f"could not be re-applied: the words around {subject} were changed"
    return words, f"could not be re-applied: {subject} cannot be located with certainty"


def _needs_redraft(pairs: Iterable[tuple[str, str]]) -> NeedsRedraft:
    words: dict[str, None] = {}
    reasons: dict[str, None] = {}
    for word, reason in pairs:
        if word:
            words.setdefault(word)
        reasons.setdefault(reason)
    return NeedsRedraft("; ".join(reasons), tuple(words))


def _merge(old: str, hunks: Iterable[Change]) -> str:
    """Apply non-touching hunks of both changes to the old text, in text order."""
    out: list[str] = []
    pos = 0
    for hunk in sorted(hunks, key=lambda h: (h.start, h.end)):
        out.append(old[pos : hunk.start])
        out.append(hunk.inserted)
        pos = hunk.end
    out.append(old[pos:])
    return "".join(out)


def rebase(old_base: str, new_base: str, proposed: str) -> Rebased | NeedsRedraft:
    """Carry an amendment written on `old_base` onto the paragraph's new version `new_base`.

    A pending amendment is never dropped or moved silently: either its changes land on the same
    words in the new version, or the sponsor is told which words changed under it.

    The merge is a deterministic 3-way merge in token space: the amendment's hunks and the new
    version's hunks, both against `old_base`, must not touch (see `collisions`). It is
    cross-checked with diff-match-patch's fuzzy patch of the amendment onto the new version,
    which must apply every patch and give the same text; if it lands anywhere else the
    amendment needs redrafting.

    Match_MaxBits (32) limits a patch to 32 characters, but here a character is a token, so
    most patches fit; longer ones are split by patch_apply, which in our trials (paragraphs of
    up to 300 words, hunks of up to 200 words) still applied them. Match_Distance is
    raised (see `_PATCHER`) so that a patch the new version pushed far away is not refused or,
    worse, fuzzily applied near its old offset. Should diff-match-patch still refuse a patch,
    the 3-way result is kept only when it is unambiguous: each amendment hunk, with up to
    Patch_Margin tokens of context the new version left alone, occurs exactly once in the new
    version, where the merge put it. Otherwise the amendment needs redrafting.
    """
    return rebase_all(old_base, new_base, [proposed])[0]


def rebase_all(
    old_base: str, new_base: str, proposals: Sequence[str]
) -> list[Rebased | NeedsRedraft]:
    """`rebase` for every pending amendment written on `old_base` at once.

    When a decision creates a new version, all the paragraph's pending amendments move
    together: the token alphabet and the new version's own change are worked out once, not
    once per amendment.
    """
    if old_base == new_base:
        return [
            Rebased(p, word_diff(new_base, p), already_in_text=new_base == p) for p in proposals
        ]
    codec = _Codec()
    old, new = codec.encode(old_base), codec.encode(new_base)
    base_ops = _encoded_diff(old, new)
    base_hunks = changes(base_ops)
    return [_rebase_one(codec, old, new, base_hunks, new_base, proposed) for proposed in proposals]


def _rebase_one(
    codec: _Codec,
    old: str,
    new: str,
    base_hunks: tuple[Change, ...],
    new_base: str,
    proposed: str,
) -> Rebased | NeedsRedraft:
    if new_base == proposed:
        return Rebased(proposed, word_diff(new_base, proposed), already_in_text=True)
    amended = codec.encode(proposed)
    amendment_ops = _encoded_diff(old, amended)
    amendment_hunks = changes(amendment_ops)
    clashes = [(b, a) for b in base_hunks for a in amendment_hunks if _touch(b, a)]
    if clashes:
        return _needs_redraft(_conflict(old, codec, b, a) for b, a in clashes)

    merged = _merge(old, base_hunks + amendment_hunks)

    patches = _PATCHER.patch_make(old, [(_DMP_CODE[op.op], op.text) for op in amendment_ops])
    patched, applied = _PATCHER.patch_apply(patches, new)
    if not (all(applied) and patched == merged):
        placements = [_placement(old, new, base_hunks, h) for h in amendment_hunks]
        if all(applied) or not all(p.anchored for p in placements):
            suspects = [
                (h, p)
                for h, p in zip(amendment_hunks, placements, strict=True)
                if p.context_changed or not p.anchored
            ]
            return _needs_redraft(
                _unplaced(old, codec, h, p)
                for h, p in suspects or zip(amendment_hunks, placements, strict=True)
            )
        # diff-match-patch refused a patch, but the 3-way merge is beyond doubt: keep it.

    text = codec.decode(merged)
    ops = _decode_ops(_encoded_diff(new, merged), codec)
    return Rebased(text, ops, already_in_text=text == new_base)
