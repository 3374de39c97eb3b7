"""Dates of meetings as negotiators write them, kept as uncertain as they are.

The calendar of a negotiation is full of dates nobody knows yet: "December 2-3, 2016" is exact,
but "December 2016", "Third Quarter 2017", "No later than 2019", "Normally May or June, and
November of each year" and "Date to be determined" are not, and turning them into a fake exact
day would mislead the people planning travel around them. So each date is stored in the
Extended Date/Time Format (EDTF, the profile of ISO 8601-2 maintained by the Library of
Congress), which says exactly as much as the text does, next to the original wording.

How each written form maps to EDTF (`parse_date_text`):

=========================================  ==============================  ===========
written                                    EDTF                            form
=========================================  ==============================  ===========
November 14, 2016 / 14 November 2016       2016-11-14                      exact
December 2-3, 2016 / 2–3 December 2016     2016-12-02/2016-12-03           days
October 27 to November 10, 2016            2016-10-27/2016-11-10           days
December 2016                              2016-12                         month
Third Quarter 2017 / Q3 2017               2017-35  (ISO 8601-2 quarter)   season
first half of 2018 / 1st semester 2018     2018-40  (semester)             season
spring 2017 (northern: Mar–May)            2017-21                         season
2018                                       2018                            year
May-June 2017 / 2017-2018                  2017-05/2017-06, 2017/2018      span
GA Session 2017                            2017-09/2017-12                 span
May or June 2017                           [2017-05,2017-06]  (one of)     choice
No later than 2019                         [..2019]  (that or earlier)     bound
No earlier than March 2017                 [2017-03..]                     bound
Normally May or June, and November of      [XXXX-05,XXXX-06,XXXX-11]       recurring
each year                                  (one of these months, any year)
Date(s) to be determined / TBD             XXXX  (year unspecified)        unknown
=========================================  ==============================  ===========

"GA Session 2017" is the main part of the General Assembly's regular session, which runs from
September to December; a recurring pattern has no year, so each of its meetings is "one of these
months of an unspecified year" and the yearly recurrence is its form. "Winter" and vague words
("early 2018", "mid-2017") are refused with a message rather than guessed. A date without a
year ("December 5-8") needs the year from its context (`year=`).

`from_edtf` reads the same subset back, so an EDTF typed by hand (or read from a CSV file)
gives the same value as the text it stands for. Everything here is pure: no database, no web.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

__all__ = [
    "DateForm",
    "DateTextError",
    "FuzzyDate",
    "MeetingDraft",
    "MeetingKind",
    "from_edtf",
    "make_draft",
    "parse_date_text",
    "parse_focal_points",
    "parse_location",
    "parse_time",
    "read_mapping_table",
    "split_regional_mark",
]


class DateTextError(ValueError):
    """The text is not a date Rolltext can place; the message says what to write instead."""


class DateForm(StrEnum):
    """How precisely a date is known: what a calendar may and may not do with it."""

    EXACT = "exact"  # one day
    DAYS = "days"  # consecutive days
    MONTH = "month"
    SEASON = "season"  # a quarter, a semester, a season of the year
    YEAR = "year"
    SPAN = "span"  # from one month (or year) to another
    CHOICE = "choice"  # one of several dates or months
    BOUND = "bound"  # no later than / no earlier than
    RECURRING = "recurring"  # every year, in one of these months
    UNKNOWN = "unknown"  # to be determined


class MeetingKind(StrEnum):
    """What a calendar entry is: the co-facilitators' own meetings, or a related process's."""

    INFORMAL_CONSULTATION = "informal_consultation"
    FORMAL_SESSION = "formal_session"
    INTERSESSIONAL = "intersessional"
    VISIT = "visit"
    SIDE_EVENT = "side_event"
    RELATED = "related"  # a meeting of another process, as the Secretariat's mapping lists it

    @property
    def display(self) -> str:
        return {
            MeetingKind.INFORMAL_CONSULTATION: "informal consultation",
            MeetingKind.FORMAL_SESSION: "formal session",
            MeetingKind.INTERSESSIONAL: "intersessional meeting",
            MeetingKind.VISIT: "visit",
            MeetingKind.SIDE_EVENT: "side event",
            MeetingKind.RELATED: "related process",
        }[self]


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

#: ISO 8601-2 sub-year groupings Rolltext reads and writes: (first month, last month, name).
#: Winter (24) straddles two years and is left out rather than placed in the wrong one.
GROUPINGS: dict[int, tuple[int, int, str]] = {
    21: (3, 5, "spring"),
    22: (6, 8, "summer"),
    23: (9, 11, "autumn"),
    33: (1, 3, "first quarter of"),
    34: (4, 6, "second quarter of"),
    35: (7, 9, "third quarter of"),
    36: (10, 12, "fourth quarter of"),
    37: (1, 4, "first four months of"),
    38: (5, 8, "second four months of"),
    39: (9, 12, "last four months of"),
    40: (1, 6, "first half of"),
    41: (7, 12, "second half of"),
}


@dataclass(frozen=True, slots=True)
class FuzzyDate:
    """A date as precisely as it is known: its EDTF, and the first and last days it may be.

    `earliest`/`latest` are None where the date has no bound on that side (a "no later than",
    a recurring or unknown date); they exist so the calendar can sort and filter by year.
    """

    edtf: str
    form: DateForm
    earliest: date | None
    latest: date | None

    @property
    def dated(self) -> bool:
        """Can it be put in a calendar as a block of days, without inventing anything?

        Days, months, quarters and spans or choices of them can; a bare year (or span of
        years) cannot usefully — a year-long block hides everything else in a calendar —, and
        bounds, recurring and unknown dates have no block at all.
        """
        if self.form not in (
            DateForm.EXACT,
            DateForm.DAYS,
            DateForm.MONTH,
            DateForm.SEASON,
            DateForm.SPAN,
            DateForm.CHOICE,
        ):
            return False
        return all(len(part) >= 7 for part in re.split(r"[/,]", self.edtf.strip("[]")))

    @property
    def exact(self) -> bool:
        return self.form in (DateForm.EXACT, DateForm.DAYS)

    def years(self) -> range:
        """The years it may fall in (empty when unbounded on a side)."""
        if self.earliest is None or self.latest is None:
            return range(0)
        return range(self.earliest.year, self.latest.year + 1)

    def describe(self) -> str:
        """The date in UN style ("2–3 December 2016", "third quarter of 2017"); parses back."""
        return _describe(self.edtf)


# -- reading EDTF -----------------------------------------------------------------------------

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_ANY_YEAR_MONTH = re.compile(r"^XXXX-(\d{2})$")


def _point(value: str) -> tuple[date, date, str]:
    """One EDTF date (day, month, year or sub-year grouping): its first and last day and unit."""
    if m := _DAY.match(value):
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError as exc:
            raise DateTextError(f"{value!r} is not a day of the calendar.") from exc
        return day, day, "day"
    if m := _MONTH.match(value):
        year, number = int(m[1]), int(m[2])
        if 1 <= number <= 12:
            return (*_month_bounds(year, number, number), "month")
        if number in GROUPINGS:
            first, last, _ = GROUPINGS[number]
            return (*_month_bounds(year, first, last), "season")
        raise DateTextError(
            f"{value!r}: months are 01 to 12; quarters 33 to 36, semesters 40 and 41."
        )
    if m := _YEAR.match(value):
        year = int(m[1])
        return date(year, 1, 1), date(year, 12, 31), "year"
    raise DateTextError(
        f"{value!r} is not an EDTF date Rolltext reads (YYYY, YYYY-MM, YYYY-MM-DD)."
    )


def _month_bounds(year: int, first: int, last: int) -> tuple[date, date]:
    if year < 1:
        raise DateTextError("Year 0 is not a year of the calendar.")
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def from_edtf(value: str) -> FuzzyDate:
    """Read an EDTF value of the subset in the module docstring, or say why not."""
    value = value.strip()
    if value == "XXXX":
        return FuzzyDate(value, DateForm.UNKNOWN, None, None)
    if _ANY_YEAR_MONTH.match(value):
        _check_month(value)
        return FuzzyDate(value, DateForm.RECURRING, None, None)
    if value.startswith("[") and value.endswith("]"):
        return _set(value)
    if value.startswith("../") or value.endswith("/.."):
        inner = value[3:] if value.startswith("../") else value[:-3]
        first, last, unit = _point(inner)
        if unit == "season":
            raise DateTextError(f"{value!r}: bound an interval by a day, month or year.")
        if value.startswith("../"):
            return FuzzyDate(f"[..{inner}]", DateForm.BOUND, None, last)
        return FuzzyDate(f"[{inner}..]", DateForm.BOUND, first, None)
    if "/" in value:
        start_text, _, end_text = value.partition("/")
        start, _, start_unit = _point(start_text)
        _, end, end_unit = _point(end_text)
        if end < start:
            raise DateTextError(f"{value!r} ends before it starts.")
        if start_unit == end_unit == "day":
            return FuzzyDate(value, DateForm.DAYS, start, end)
        return FuzzyDate(value, DateForm.SPAN, start, end)
    first, last, unit = _point(value)
    form = {
        "day": DateForm.EXACT,
        "month": DateForm.MONTH,
        "season": DateForm.SEASON,
        "year": DateForm.YEAR,
    }[unit]
    return FuzzyDate(value, form, first, last)


def _check_month(value: str) -> None:
    number = int(value[-2:])
    if not 1 <= number <= 12:
        raise DateTextError(f"{value!r}: months are 01 to 12.")


def _set(value: str) -> FuzzyDate:
    inner = value[1:-1].strip()
    if inner.startswith("..") or inner.endswith(".."):
        edge = inner.strip(".")
        first, last, unit = _point(edge)
        if unit == "season":
            raise DateTextError(f"{value!r}: bound a set by a day, month or year.")
        if inner.startswith(".."):
            return FuzzyDate(value, DateForm.BOUND, None, last)
        return FuzzyDate(value, DateForm.BOUND, first, None)
    members = [m.strip() for m in inner.split(",")]
    if len(members) < 2 or any(not m for m in members):
        raise DateTextError(f"{value!r}: a set lists two dates or more, separated by commas.")
    if all(_ANY_YEAR_MONTH.match(m) for m in members):
        for m in members:
            _check_month(m)
        return FuzzyDate(value, DateForm.RECURRING, None, None)
    bounds = [_point(m) for m in members]
    return FuzzyDate(value, DateForm.CHOICE, min(b[0] for b in bounds), max(b[1] for b in bounds))


# -- reading what people write ----------------------------------------------------------------

_MONTH_WORDS = {name.lower(): n for n, name in enumerate(MONTHS, start=1)}
_MONTH_WORDS.update({name[:3].lower(): n for n, name in enumerate(MONTHS, start=1)})
_MONTH_WORDS["sept"] = 9
_WEEKDAYS = {d.lower() for d in calendar.day_name} | {d.lower() for d in calendar.day_abbr}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_ORDINALS |= {"fourth": 4, "4th": 4, "last": 0}
_FOUR_MONTHS_ORDINALS = {"first": 1, "second": 2, "last": 3}
_SEASONS = {"spring": 21, "summer": 22, "autumn": 23, "fall": 23}
_DASHES = re.compile(r"\s*[-–—‒]\s*")
_UNKNOWN = re.compile(
    r"^(?:(?:the\s+)?dates?\s+)?(?:(?:is|are|still|yet)\s+)*(?:to\s+be\s+"
    r"(?:determined|confirmed|announced|decided|fixed|set)|tbd|tbc|tba|unknown|not\s+yet\s+"
    r"(?:set|known|fixed|decided))$|^(?:dates?\s+)?(?:tbd|tbc|tba)$|^$"
)
_LATEST = re.compile(r"^(?:no|not)\s+later\s+than\s+(?:the\s+end\s+of\s+)?(.+)$|^by\s+(.+)$")
_EARLIEST = re.compile(r"^(?:no|not)\s+earlier\s+than\s+(.+)$|^not\s+before\s+(.+)$")
_YEARLY = re.compile(
    r"\b(?:of\s+)?(?:each|every)\s+year\b|\bannually\b|\byearly\b|\bevery\s+year\b"
)
_EVERY = re.compile(r"^(?:every|each)\s+(.+)$")
_HEDGES = re.compile(r"^(?:normally|usually|generally|typically|regularly)\b[,\s]*")
_GA_SESSION = re.compile(
    r"^(?:the\s+)?(?:ga|general\s+assembly)(?:\s+regular)?\s+session,?\s+(?:of\s+)?(\d{4})$"
)
_QUARTER = re.compile(r"^(\w+)\s+quarter,?\s+(?:of\s+)?(\d{4})$|^q([1-4])\s+(\d{4})$")
_HALF = re.compile(r"^(\w+)\s+(?:half|semester),?\s+(?:of\s+)?(\d{4})$|^h([12])\s+(\d{4})$")
_SEASON = re.compile(r"^(\w+)\s+(?:of\s+)?(\d{4})$")
_FOUR_MONTHS = re.compile(r"^(first|second|last)\s+four\s+months\s+of\s+(\d{4})$")
_VAGUE = re.compile(r"\b(?:early|mid|late|beginning|end|around|about|circa|approximately)\b")
_TOKEN = re.compile(r"[a-z]+|\d+(?:st|nd|rd|th)?|-|,|/|\.")


def parse_date_text(text: str, *, year: int | None = None) -> FuzzyDate:
    """Read a date as a calendar or a letter writes it (see the module docstring).

    `year` is the year of the context, used only when the text gives none ("December 5-8").
    An EDTF value is accepted as it is.
    """
    raw = " ".join(text.split())
    if raw and (raw[0].isdigit() or raw[0] in "[X.") and not re.search(r"[a-wyz]", raw.lower()):
        try:
            return from_edtf(raw)
        except DateTextError as exc:
            try:
                return _from_text(raw, year)
            except DateTextError:
                if " " in raw:
                    raise
                raise exc from None
    return _from_text(raw, year)


def _from_text(raw: str, year: int | None) -> FuzzyDate:
    cleaned = raw.lower().strip(" .;:")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = cleaned[1:-1].strip(" .;:")
    if _UNKNOWN.match(cleaned):
        return FuzzyDate("XXXX", DateForm.UNKNOWN, None, None)
    if m := _LATEST.match(cleaned):
        return _bound(_simple(m[1] or m[2], year, raw), latest=True, raw=raw)
    if m := _EARLIEST.match(cleaned):
        return _bound(_simple(m[1] or m[2], year, raw), latest=False, raw=raw)
    recurring = _recurring(cleaned, raw)
    if recurring is not None:
        return recurring
    if m := _GA_SESSION.match(cleaned):
        return from_edtf(f"{m[1]}-09/{m[1]}-12")
    return _simple(cleaned, year, raw)


def _bound(point: FuzzyDate, *, latest: bool, raw: str) -> FuzzyDate:
    """'No later than X': X or earlier. A quarter or a half is bounded by its last (or first)
    month, which says the same and keeps the value inside what EDTF sets may hold."""
    if point.form not in (DateForm.EXACT, DateForm.MONTH, DateForm.SEASON, DateForm.YEAR):
        raise DateTextError(f"{raw!r}: bound it by one day, month, quarter or year.")
    assert point.earliest is not None and point.latest is not None
    edtf = point.edtf
    if point.form is DateForm.SEASON:
        edge = point.latest if latest else point.earliest
        edtf = f"{edge.year:04d}-{edge.month:02d}"
    if latest:
        return FuzzyDate(f"[..{edtf}]", DateForm.BOUND, None, point.latest)
    return FuzzyDate(f"[{edtf}..]", DateForm.BOUND, point.earliest, None)


def _simple(text: str, year: int | None, raw: str) -> FuzzyDate:
    """A day, days, month, season, year, span or choice (no bounds, no recurrence)."""
    text = text.strip(" .,;:")
    text = text[4:] if text.startswith("the ") else text
    grouping = _grouping(text)
    if grouping is not None:
        return grouping
    if _VAGUE.search(text):
        raise DateTextError(
            f"{raw!r} is too vague to place: write the months ('May-June 2017'), a quarter "
            "('second quarter of 2017'), a half ('first half of 2018'), or 'no later than …'."
        )
    tokens = _tokens(re.sub(r"[–—‒]", "-", text), raw)
    if "or" in tokens:
        return _choice(tokens, year, raw)
    return _range(tokens, year, raw)


def _grouping(text: str) -> FuzzyDate | None:
    if m := _QUARTER.match(text):
        number = int(m[3]) if m[3] else _ORDINALS.get(m[1], -1)
        if number == 0:
            number = 4
        if 1 <= number <= 4:
            return from_edtf(f"{m[2] or m[4]}-{32 + number}")
    if m := _HALF.match(text):
        number = int(m[3]) if m[3] else _ORDINALS.get(m[1], -1)
        if number == 0:
            number = 2
        if number in (1, 2):
            return from_edtf(f"{m[2] or m[4]}-{39 + number}")
    if m := _FOUR_MONTHS.match(text):
        return from_edtf(f"{m[2]}-{36 + _FOUR_MONTHS_ORDINALS[m[1]]}")
    if (m := _SEASON.match(text)) and m[1] in _SEASONS:
        return from_edtf(f"{m[2]}-{_SEASONS[m[1]]}")
    if (m := _SEASON.match(text)) and m[1] == "winter":
        raise DateTextError(
            "Winter straddles two years: write the months instead ('December 2017-February 2018')."
        )
    return None


def _tokens(text: str, raw: str) -> list[str]:
    """Words reduced to M<n> (month), D<n> (day), Y<n> (year), 'to' and 'or'."""
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        gap = text[position : match.start()]
        position = match.end()
        if gap.strip():
            raise DateTextError(f"{raw!r}: cannot read {gap.strip()!r}.")
        word = match.group()
        if word in _MONTH_WORDS:
            out.append(f"M{_MONTH_WORDS[word]}")
        elif word[0].isdigit():
            digits = re.match(r"\d+", word)
            assert digits is not None
            number = digits.group()
            if len(number) == 4:
                out.append(f"Y{number}")
            elif len(number) <= 2:
                out.append(f"D{int(number)}")
            else:
                raise DateTextError(f"{raw!r}: {word!r} is neither a day nor a year.")
        elif word in ("-", "to", "through", "till", "until", "/"):
            out.append("to")
        elif word in ("or",):
            out.append("or")
        elif word in (",", ".", "of", "the", "and", "from", "on", "in") or word in _WEEKDAYS:
            continue
        else:
            raise DateTextError(
                f"{raw!r}: cannot read {word!r}. Write a date such as 'December 2-3, 2016', "
                "'December 2016', 'Third Quarter 2017', 'No later than 2019' or "
                "'Date to be determined', or its EDTF ('2016-12-02/2016-12-03')."
            )
    if text[position:].strip():
        raise DateTextError(f"{raw!r}: cannot read {text[position:].strip()!r}.")
    if not out:
        raise DateTextError(f"{raw!r} has no date in it.")
    return out


@dataclass(frozen=True, slots=True)
class _Point:
    """One written date, perhaps without its year yet: month and day may be missing too."""

    year: int | None
    month: int | None
    day: int | None

    def with_year(self, year: int | None) -> _Point:
        return self if self.year is not None else _Point(year, self.month, self.day)

    def edtf(self, raw: str) -> str:
        if self.year is None:
            raise DateTextError(f"{raw!r} has no year: add it ('December 5-8, 2016').")
        if self.month is None:
            if self.day is not None:
                raise DateTextError(f"{raw!r}: which month is day {self.day} in?")
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        try:
            date(self.year, self.month, self.day)
        except ValueError as exc:
            raise DateTextError(f"{raw!r}: {exc}.") from exc
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def _point_tokens(tokens: list[str], raw: str) -> _Point:
    """M D Y, D M Y, M D, D M, M Y, M, Y — and a bare D (its month comes from the other end)."""
    kinds = "".join(t[0] for t in tokens)
    values = [int(t[1:]) for t in tokens]
    shapes = {
        "MDY": lambda v: _Point(v[2], v[0], v[1]),
        "DMY": lambda v: _Point(v[2], v[1], v[0]),
        "MD": lambda v: _Point(None, v[0], v[1]),
        "DM": lambda v: _Point(None, v[1], v[0]),
        "DY": lambda v: _Point(v[1], None, v[0]),
        "MY": lambda v: _Point(v[1], v[0], None),
        "M": lambda v: _Point(None, v[0], None),
        "Y": lambda v: _Point(v[0], None, None),
        "D": lambda v: _Point(None, None, v[0]),
    }
    if kinds not in shapes:
        raise DateTextError(
            f"{raw!r}: cannot tell the day, month and year apart. Write 'December 2-3, 2016' "
            "or '2-3 December 2016'."
        )
    return shapes[kinds](values)


def _split(tokens: list[str], separator: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token == separator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _complete(points: list[_Point], year: int | None, raw: str) -> list[_Point]:
    """Give every point the year and month written once at the end (or at the start)."""
    last = points[-1]
    first = points[0]
    done: list[_Point] = []
    for point in points:
        if point.day is not None and point.month is None:
            month = last.month if last.month is not None else first.month
            point = _Point(point.year, month, point.day)
        done.append(point.with_year(last.year if last.year is not None else year))
    if done[-1].year is None and year is None:
        raise DateTextError(f"{raw!r} has no year: add it ('December 5-8, 2016').")
    return done


def _range(tokens: list[str], year: int | None, raw: str) -> FuzzyDate:
    parts = _split(tokens, "to")
    if len(parts) > 2 or any(not p for p in parts):
        raise DateTextError(f"{raw!r}: write one date, or a start and an end ('2-3 December').")
    points = _complete([_point_tokens(p, raw) for p in parts], year, raw)
    if len(points) == 1:
        return from_edtf(points[0].edtf(raw))
    start, end = points
    if (start.month is None) != (end.month is None) or (start.day is None) != (end.day is None):
        raise DateTextError(f"{raw!r}: the start and the end are not written alike.")
    edtf = f"{start.edtf(raw)}/{end.edtf(raw)}"
    try:
        value = from_edtf(edtf)
    except DateTextError as exc:
        raise DateTextError(f"{raw!r} ends before it starts (or is not a date).") from exc
    assert value.earliest is not None and value.latest is not None
    if value.earliest == value.latest:
        return from_edtf(start.edtf(raw))
    return value


def _choice(tokens: list[str], year: int | None, raw: str) -> FuzzyDate:
    parts = _split(tokens, "or")
    if "to" in tokens or any(not p for p in parts):
        raise DateTextError(f"{raw!r}: write the alternatives as 'May or June 2017'.")
    points = _complete([_point_tokens(p, raw) for p in parts], year, raw)
    members = sorted(dict.fromkeys(p.edtf(raw) for p in points))
    if len(members) == 1:
        return from_edtf(members[0])
    return from_edtf("[" + ",".join(members) + "]")


def _recurring(cleaned: str, raw: str) -> FuzzyDate | None:
    """'Normally May or June, and November of each year', 'every November', 'annually in May'."""
    text = _HEDGES.sub("", cleaned)
    yearly = _YEARLY.search(text)
    every = _EVERY.match(text)
    if yearly is None and every is None:
        return None
    body = _YEARLY.sub(" ", text) if yearly else every[1] if every else text
    words = [w for w in re.split(r"[\s,/]+|\b(?:or|and|in)\b", body) if w and w.strip()]
    months: set[int] = set()
    for word in words:
        word = word.strip(" .;:")
        if not word:
            continue
        if word not in _MONTH_WORDS:
            raise DateTextError(
                f"{raw!r}: a yearly date lists months ('Normally May or June, and November of "
                "each year'); anything more precise needs the year."
            )
        months.add(_MONTH_WORDS[word])
    if not months:
        raise DateTextError(f"{raw!r}: which months of the year?")
    members = [f"XXXX-{m:02d}" for m in sorted(months)]
    edtf = members[0] if len(members) == 1 else "[" + ",".join(members) + "]"
    return FuzzyDate(edtf, DateForm.RECURRING, None, None)


# -- writing dates the UN way -----------------------------------------------------------------


def _describe(edtf: str) -> str:
    value = from_edtf(edtf)
    form = value.form
    if form is DateForm.UNKNOWN:
        return "date to be determined"
    if form is DateForm.RECURRING:
        names = [MONTHS[int(m[-2:]) - 1] for m in edtf.strip("[]").split(",")]
        return "every year in " + _either(names)
    if form is DateForm.BOUND:
        inner = edtf.strip("[]").strip(".")
        prefix = "no later than" if edtf.startswith("[..") else "no earlier than"
        return f"{prefix} {_describe(inner)}"
    if form is DateForm.CHOICE:
        return _either([_describe(m) for m in edtf.strip("[]").split(",")])
    assert value.earliest is not None and value.latest is not None
    first, last = value.earliest, value.latest
    if form is DateForm.EXACT:
        return _day(first)
    if form is DateForm.DAYS:
        if first.year != last.year:
            return f"{_day(first)} – {_day(last)}"
        if first.month != last.month:
            return f"{first.day} {MONTHS[first.month - 1]} – {_day(last)}"
        return f"{first.day}–{last.day} {MONTHS[first.month - 1]} {first.year}"
    if form is DateForm.MONTH:
        return f"{MONTHS[first.month - 1]} {first.year}"
    if form is DateForm.SEASON:
        _, _, name = GROUPINGS[int(edtf[-2:])]
        return f"{name} {first.year}"
    if form is DateForm.YEAR:
        return str(first.year)
    start, _, end = edtf.partition("/")
    if len(start) == len(end) == 4:
        return f"{start}–{end}"
    if first.year == last.year and len(start) == len(end) == 7:
        return f"{MONTHS[first.month - 1]}–{MONTHS[last.month - 1]} {first.year}"
    return f"{_describe(start)} – {_describe(end)}"


def _day(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# -- the other columns of a calendar ----------------------------------------------------------

_TBC = re.compile(r"\s*\(?\b(?:tbc|tbd|to be (?:confirmed|determined))\b\)?\s*$", re.IGNORECASE)


def parse_location(text: str | None) -> tuple[str | None, bool]:
    """'Geneva (TBC)' → ('Geneva', True); 'TBD' → (None, True): the flag is kept apart from the
    place so the calendar can filter by place and still say it is not confirmed."""
    cleaned = " ".join((text or "").split()).strip(" ;,.·")
    if not cleaned:
        return None, False
    tbc = bool(_TBC.search(cleaned))
    place = _TBC.sub("", cleaned).strip(" ;,.") if tbc else cleaned
    return (place or None), tbc


def parse_focal_points(text: str | None) -> tuple[str, ...]:
    """'DESA, IOM' → ('DESA', 'IOM'): entities that answer for a meeting, in the given order."""
    parts = re.split(r"\s*(?:,|;|/|\band\b|&)\s*", text or "")
    return tuple(dict.fromkeys(p.strip(" .·") for p in parts if p.strip(" .·")))


def split_regional_mark(title: str) -> tuple[str, bool]:
    """The Secretariat's mapping marks regional consultative processes with '*' before the
    title: the mark becomes a flag, the title loses it."""
    stripped = title.strip()
    if stripped.startswith("*"):
        return stripped.lstrip("* ").strip(), True
    return stripped, False


_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})$")


def parse_time(text: str | None) -> time | None:
    """'15:00' (or '15.00', '15h00') → 15:00; empty → None."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    m = _TIME.match(cleaned)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise DateTextError(f"{text!r} is not a time of day; write it as 15:00.")
    return time(int(m[1]), int(m[2]))


# -- a meeting as entered, imported or loaded -------------------------------------------------

MAX_TITLE = 500
MAX_DATE_TEXT = 200
MAX_PLACE = 200
NEW_YORK = "America/New_York"


@dataclass(frozen=True, slots=True)
class MeetingDraft:
    """A meeting checked and ready to be stored: whatever the source (form, CSV, Word table,
    the demo), it goes through `make_draft`, so every entry obeys the same rules."""

    title: str
    date: FuzzyDate
    date_text: str
    kind: MeetingKind = MeetingKind.RELATED
    description: str | None = None
    note: str | None = None
    location: str | None = None
    location_tbc: bool = False
    focal_points: tuple[str, ...] = ()
    regional: bool = False
    start_time: time | None = None
    end_time: time | None = None
    timezone: str | None = None
    source: str | None = None


def _text_or_none(value: str | None) -> str | None:
    cleaned = "\n\n".join(
        " ".join(p.split()) for p in re.split(r"\n\s*\n", (value or "").strip()) if p.strip()
    )
    return cleaned or None


def make_draft(
    *,
    title: str,
    date_text: str | None = None,
    edtf: str | None = None,
    year: int | None = None,
    kind: MeetingKind | str = MeetingKind.RELATED,
    description: str | None = None,
    note: str | None = None,
    location: str | None = None,
    location_tbc: bool | None = None,
    focal_points: str | tuple[str, ...] | list[str] = (),
    regional: bool = False,
    start_time: time | str | None = None,
    end_time: time | str | None = None,
    timezone: str | None = None,
    source: str | None = None,
) -> MeetingDraft:
    """Check one meeting. The date comes from its EDTF when given (the text is then only its
    label, but must not contradict it), else from the text; neither means "to be determined".

    `location_tbc` None reads the flag from the place as written ("Geneva (TBC)").
    """
    name, marked = split_regional_mark(" ".join((title or "").split()))
    if not name:
        raise DateTextError("A meeting needs a title.")
    if len(name) > MAX_TITLE:
        raise DateTextError(f"A meeting title is at most {MAX_TITLE} characters.")
    written = " ".join((date_text or "").split())
    if len(written) > MAX_DATE_TEXT:
        raise DateTextError(f"The date as written is at most {MAX_DATE_TEXT} characters.")
    if edtf and edtf.strip():
        value = from_edtf(edtf)
        if written:
            _check_agrees(written, value, year)
    else:
        value = parse_date_text(written, year=year)
    place, tbc = parse_location(location)
    if location_tbc is not None:
        tbc = location_tbc or tbc
    if place and len(place) > MAX_PLACE:
        raise DateTextError(f"A place is at most {MAX_PLACE} characters.")
    points = (
        parse_focal_points(focal_points)
        if isinstance(focal_points, str)
        else tuple(p.strip() for p in focal_points if p and p.strip())
    )
    start = start_time if isinstance(start_time, time) or start_time is None else None
    end = end_time if isinstance(end_time, time) or end_time is None else None
    if isinstance(start_time, str):
        start = parse_time(start_time)
    if isinstance(end_time, str):
        end = parse_time(end_time)
    zone_name = (timezone or "").strip() or None
    if start is not None or end is not None:
        if value.form is not DateForm.EXACT:
            raise DateTextError("Hours can be given only for a meeting on one known day.")
        if start is None:
            raise DateTextError("Give the starting time too.")
        if end is not None and end <= start:
            raise DateTextError("A meeting ends after it starts.")
        zone_name = zone_name or NEW_YORK
    else:
        zone_name = None
    return MeetingDraft(
        title=name,
        date=value,
        date_text=written or value.describe(),
        kind=MeetingKind(kind),
        description=_text_or_none(description),
        note=_text_or_none(note),
        location=place,
        location_tbc=tbc,
        focal_points=points,
        regional=regional or marked,
        start_time=start,
        end_time=end,
        timezone=zone_name,
        source=_text_or_none(source),
    )


def _check_agrees(written: str, value: FuzzyDate, year: int | None) -> None:
    """A written date that reads as another date than its EDTF is a typing mistake."""
    context = year if year is not None else value.earliest.year if value.earliest else None
    try:
        read = parse_date_text(written, year=context)
    except DateTextError:
        return  # a label Rolltext cannot read; the EDTF says what it means
    if read.edtf != value.edtf:
        raise DateTextError(
            f"The date {written!r} reads as {read.edtf}, but its EDTF says {value.edtf}."
        )


# -- the Secretariat's mapping table, as Word (or OCR) gives it ------------------------------

_HEADER_WORDS = {
    "date": ("month", "date", "year", "when"),
    "title": ("event", "meeting", "title"),
    "location": ("location", "place", "venue", "where"),
    "focal": ("focal",),
}
_NOTE = re.compile(r"\(([^()]*)\)\.?\s*$")
_A_YEAR = re.compile(r"\b(19|20)\d{2}\b")


@dataclass(slots=True)
class _Row:
    number: int
    date_text: str
    note: str | None
    year: int | None
    title: str
    description: list[str]
    location: str
    focal: str


def _columns(header: Sequence[str]) -> dict[str, int] | None:
    """Which column holds what, from a header row such as 'Month/year | Event | Location |
    Focal Point' (None if the row is not a header)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        words = cell.lower()
        for field, keys in _HEADER_WORDS.items():
            if field not in found and any(k in words for k in keys):
                found[field] = index
                break
    if "date" in found and "title" in found:
        return found
    return None


def _cell(cells: Sequence[Sequence[str]], columns: dict[str, int], field: str) -> list[str]:
    index = columns.get(field)
    if index is None or index >= len(cells):
        return []
    return [" ".join(p.split()) for p in cells[index] if p.strip()]


def read_mapping_table(
    rows: Sequence[Sequence[Sequence[str]]], *, source: str | None = None
) -> list[MeetingDraft]:
    """Meetings from a table like the Secretariat's mapping: each row a list of cells, each
    cell its paragraphs. The header row (repeated on every page) names the columns; a row
    without a date continues the event above it (its description, or a place and focal point
    that slipped onto the next page); a note in parentheses under a date becomes the note; a
    date without a year takes it from its note or from the row above.

    Raises DateTextError naming every row whose date cannot be placed, so nothing is half
    imported.
    """
    columns: dict[str, int] | None = None
    built: list[_Row] = []
    problems: list[str] = []
    for number, cells in enumerate(rows, start=1):
        flat = [" ".join(" ".join(p.split()) for p in cell if p.strip()) for cell in cells]
        if not any(flat):
            continue
        header = _columns(flat)
        if header is not None:
            columns = header
            continue
        if columns is None:
            columns = {"date": 0, "title": 1, "location": 2, "focal": 3}

        when, event = " ".join(_cell(cells, columns, "date")), _cell(cells, columns, "title")
        place = " ".join(_cell(cells, columns, "location"))
        focal = " ".join(_cell(cells, columns, "focal"))
        if not when:
            if not built:
                if event:
                    problems.append(f"row {number}: an event without a date")
                continue
            last = built[-1]
            last.description.extend(event)
            last.location = last.location or place
            last.focal = last.focal or focal
            continue
        if not event:
            problems.append(f"row {number}: the date {when!r} has no event next to it")
            continue
        note = None
        if match := _NOTE.search(when):
            note = match[1].strip()
            when = when[: match.start()].strip(" ,;")
        context = _A_YEAR.search(note or "")
        year = int(context.group()) if context else built[-1].year if built else None
        first, rest = event[0], event[1:]
        title, _, lead = first.partition(": ")
        description = ([lead.strip()] if lead.strip() else []) + rest
        built.append(
            _Row(number, when, note, year, title.strip().rstrip(":"), description, place, focal)
        )
    drafts: list[MeetingDraft] = []
    for row in built:
        try:
            lowered = row.title.lower()
            drafts.append(
                make_draft(
                    title=row.title,
                    date_text=row.date_text,
                    year=row.year,
                    kind=MeetingKind.SIDE_EVENT if "side event" in lowered else MeetingKind.RELATED,
                    description="\n\n".join(row.description),
                    note=row.note,
                    location=row.location,
                    focal_points=row.focal,
                    source=source,
                )
            )
        except DateTextError as exc:
            problems.append(f"row {row.number} ({row.title[:40]}): {exc}")
        if drafts and drafts[-1].date.earliest is not None:
            row.year = drafts[-1].date.earliest.year
    if problems:
        raise DateTextError("The table cannot be imported: " + "; ".join(problems) + ".")
    return drafts
