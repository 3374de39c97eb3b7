"""Fuzzy meeting dates: every form of the seed's mapping, refusals, and properties checked
against an independent EDTF implementation (the `edtf` package)."""

from __future__ import annotations

import calendar
from datetime import date, time

import edtf  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import (
    MONTHS,
    DateForm,
    DateTextError,
    FuzzyDate,
    from_edtf,
    parse_date_text,
    parse_focal_points,
    parse_location,
    parse_time,
    split_regional_mark,
)

SEED_FORMS = [
    ("October 27 to November 10, 2016", "2016-10-27/2016-11-10", DateForm.DAYS),
    ("November 14, 2016", "2016-11-14", DateForm.EXACT),
    ("November 14 - 16, 2016", "2016-11-14/2016-11-16", DateForm.DAYS),
    ("December 2016", "2016-12", DateForm.MONTH),
    ("December 2-3, 2016", "2016-12-02/2016-12-03", DateForm.DAYS),
    ("December 10- 12, 2016", "2016-12-10/2016-12-12", DateForm.DAYS),
    ("April 5 to 6 2017", "2017-04-05/2017-04-06", DateForm.DAYS),
    ("November 27 to December 1, 2017", "2017-11-27/2017-12-01", DateForm.DAYS),
    ("Third Quarter 2017", "2017-35", DateForm.SEASON),
    ("GA Session 2017", "2017-09/2017-12", DateForm.SPAN),
    ("No later than 2019", "[..2019]", DateForm.BOUND),
    ("Date to be determined", "XXXX", DateForm.UNKNOWN),
    ("Dates to be determined", "XXXX", DateForm.UNKNOWN),
    (
        "Normally May or June, and November of each year",
        "[XXXX-05,XXXX-06,XXXX-11]",
        DateForm.RECURRING,
    ),
    ("2018", "2018", DateForm.YEAR),
    # the co-facilitators' letter
    ("5 December 2016", "2016-12-05", DateForm.EXACT),
    ("Tuesday 6 December 2016", "2016-12-06", DateForm.EXACT),
]

OTHER_FORMS = [
    ("2–3 December 2016", "2016-12-02/2016-12-03", DateForm.DAYS),
    ("27 October – 10 November 2016", "2016-10-27/2016-11-10", DateForm.DAYS),
    ("28 December 2016 - 3 January 2017", "2016-12-28/2017-01-03", DateForm.DAYS),
    ("Dec 5th, 2016", "2016-12-05", DateForm.EXACT),
    ("Q3 2017", "2017-35", DateForm.SEASON),
    ("fourth quarter of 2017", "2017-36", DateForm.SEASON),
    ("first half of 2018", "2018-40", DateForm.SEASON),
    ("2nd semester 2018", "2018-41", DateForm.SEASON),
    ("spring 2017", "2017-21", DateForm.SEASON),
    ("May-June 2017", "2017-05/2017-06", DateForm.SPAN),
    ("September 2017 to March 2018", "2017-09/2018-03", DateForm.SPAN),
    ("2017-2018", "2017/2018", DateForm.SPAN),
    ("May or June 2017", "[2017-05,2017-06]", DateForm.CHOICE),
    ("not later than 30 June 2018", "[..2018-06-30]", DateForm.BOUND),
    ("no later than the third quarter of 2017", "[..2017-09]", DateForm.BOUND),
    ("No earlier than March 2017", "[2017-03..]", DateForm.BOUND),
    ("every November", "XXXX-11", DateForm.RECURRING),
    ("annually in May", "XXXX-05", DateForm.RECURRING),
    ("TBD", "XXXX", DateForm.UNKNOWN),
    ("", "XXXX", DateForm.UNKNOWN),
    ("2016-12-05/2016-12-08", "2016-12-05/2016-12-08", DateForm.DAYS),
    ("[..2019]", "[..2019]", DateForm.BOUND),
]


@pytest.mark.parametrize(("text", "expected", "form"), SEED_FORMS + OTHER_FORMS)
def test_written_dates_become_edtf(text: str, expected: str, form: DateForm) -> None:
    value = parse_date_text(text)
    assert (value.edtf, value.form) == (expected, form)
    assert from_edtf(value.edtf) == value


def test_a_date_without_its_year_takes_it_from_the_context() -> None:
    assert parse_date_text("December 5-8", year=2016).edtf == "2016-12-05/2016-12-08"
    with pytest.raises(DateTextError, match="has no year"):
        parse_date_text("December 5-8")


def test_bounds_say_what_is_known_and_nothing_more() -> None:
    assert parse_date_text("December 2016") == FuzzyDate(
        "2016-12", DateForm.MONTH, date(2016, 12, 1), date(2016, 12, 31)
    )
    third = parse_date_text("Third Quarter 2017")
    assert (third.earliest, third.latest) == (date(2017, 7, 1), date(2017, 9, 30))
    bound = parse_date_text("No later than 2019")
    assert (bound.earliest, bound.latest, bound.dated) == (None, date(2019, 12, 31), False)
    for undated in ("Date to be determined", "Normally May or June, and November of each year"):
        value = parse_date_text(undated)
        assert (value.earliest, value.latest, value.dated, value.years()) == (
            None,
            None,
            False,
            range(0),
        )
    assert parse_date_text("2018").dated is False  # a year-long block helps nobody
    assert parse_date_text("GA Session 2017").years() == range(2017, 2018)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("early 2018", "too vague"),
        ("mid-2017", "too vague"),
        ("winter 2017", "Winter straddles two years"),
        ("sometime soon", "cannot read 'sometime'"),
        ("December 32, 2016", "out of range"),
        ("December 8-5, 2016", "ends before it starts"),
        ("5 2016", "which month"),
        ("No later than 2019)", r"cannot read '\)'"),
        ("every year in Smarch", "lists months"),
        ("2016-13", "months are 01 to 12"),
    ],
)
def test_what_cannot_be_placed_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(DateTextError, match=message):
        parse_date_text(text)


@pytest.mark.parametrize("value", ["2016-13", "[2017-05]", "{2017,2018}", "2017-24", "2016-02-30"])
def test_edtf_outside_the_subset_is_refused(value: str) -> None:
    with pytest.raises(DateTextError):
        from_edtf(value)


def test_descriptions_read_like_a_un_calendar() -> None:
    said = {t: parse_date_text(t).describe() for t, _, _ in SEED_FORMS}
    assert said["October 27 to November 10, 2016"] == "27 October – 10 November 2016"
    assert said["December 2-3, 2016"] == "2–3 December 2016"
    assert said["Third Quarter 2017"] == "third quarter of 2017"
    assert said["GA Session 2017"] == "September–December 2017"
    assert said["No later than 2019"] == "no later than 2019"
    assert said["Dates to be determined"] == "date to be determined"
    assert (
        said["Normally May or June, and November of each year"]
        == "every year in May, June or November"
    )


def test_location_focal_points_regional_mark_and_times() -> None:
    assert parse_location("Geneva (TBC)") == ("Geneva", True)
    assert parse_location("Montreal (tbc)") == ("Montreal", True)
    assert parse_location("TBD") == (None, True)
    assert parse_location(" ; ; ") == (None, False)
    assert parse_location("Bali, Indonesia") == ("Bali, Indonesia", False)
    assert parse_focal_points("DESA, IOM") == ("DESA", "IOM")
    assert parse_focal_points("ILO .") == ("ILO",)
    assert parse_focal_points("") == ()
    assert split_regional_mark("*Abu Dhabi Dialogue") == ("Abu Dhabi Dialogue", True)
    assert split_regional_mark("IOM Council") == ("IOM Council", False)
    assert parse_time("15:00") == time(15, 0)
    assert parse_time("9.30") == time(9, 30)
    assert parse_time("") is None
    with pytest.raises(DateTextError):
        parse_time("25:00")


# -- properties -------------------------------------------------------------------------------

days = st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31))


def _us(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def _uk(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


@st.composite
def written_ranges(draw: st.DrawFn) -> tuple[str, date, date]:
    """Two days in order, written the way calendars write ranges."""
    first = draw(days)
    length = draw(st.integers(min_value=1, max_value=60))
    last = date.fromordinal(first.toordinal() + length)
    month = MONTHS[first.month - 1]
    if last.year != first.year:
        text = draw(
            st.sampled_from([f"{_us(first)} to {_us(last)}", f"{_uk(first)} - {_uk(last)}"])
        )
    elif last.month != first.month:
        text = draw(
            st.sampled_from(
                [
                    f"{month} {first.day} to {MONTHS[last.month - 1]} {last.day}, {last.year}",
                    f"{first.day} {month} – {last.day} {MONTHS[last.month - 1]} {last.year}",
                ]
            )
        )
    else:
        text = draw(
            st.sampled_from(
                [
                    f"{month} {first.day}-{last.day}, {first.year}",
                    f"{month} {first.day} - {last.day}, {first.year}",
                    f"{month} {first.day} to {last.day} {first.year}",
                    f"{first.day}–{last.day} {month} {first.year}",
                ]
            )
        )
    return text, first, last


def _oracle(value: str) -> tuple[date | None, date | None]:
    """The first and last day the `edtf` package gives the same EDTF."""
    parsed = edtf.parse_edtf(value)

    def day(t: object) -> date | None:
        if isinstance(t, float):
            return None
        return date(t.tm_year, t.tm_mon, t.tm_mday)  # type: ignore[attr-defined]

    return day(parsed.lower_strict()), day(parsed.upper_strict())


@given(written_ranges())
@settings(max_examples=200)
def test_any_written_range_is_the_interval_of_its_days(case: tuple[str, date, date]) -> None:
    text, first, last = case
    value = parse_date_text(text)
    assert value.form is DateForm.DAYS
    assert value.edtf == f"{first.isoformat()}/{last.isoformat()}"
    assert (value.earliest, value.latest) == (first, last)
    assert _oracle(value.edtf) == (first, last)


@given(days, st.sampled_from([_us, _uk]))
def test_any_written_day_is_exact(day: date, style: object) -> None:
    value = parse_date_text(style(day))  # type: ignore[operator]
    assert (value.edtf, value.form, value.earliest, value.latest) == (
        day.isoformat(),
        DateForm.EXACT,
        day,
        day,
    )


years = st.integers(min_value=1950, max_value=2099)


@st.composite
def fuzzy_edtf(draw: st.DrawFn) -> str:
    """Any value of the subset Rolltext stores."""
    year = draw(years)
    month = draw(st.integers(1, 12))
    simple = [
        f"{year}",
        f"{year}-{month:02d}",
        f"{year}-{draw(st.sampled_from([21, 22, 23, *range(33, 42)]))}",
        draw(days).isoformat(),
    ]
    point = draw(st.sampled_from(simple))
    edge = draw(st.sampled_from([s for s in simple if len(s) != 7 or int(s[5:]) <= 12]))
    later = f"{year + draw(st.integers(0, 3))}-{draw(st.integers(1, 12)):02d}"
    months = sorted(set(draw(st.lists(st.integers(1, 12), min_size=2, max_size=4))))
    shapes = [
        point,
        f"[..{edge}]",
        f"[{edge}..]",
        "XXXX",
        "[" + ",".join(f"XXXX-{m:02d}" for m in months) + "]"
        if len(months) > 1
        else f"XXXX-{months[0]:02d}",
    ]
    if later > f"{year}-{month:02d}":
        shapes.append(f"{year}-{month:02d}/{later}")
        shapes.append(f"[{year}-{month:02d},{later}]")
    return draw(st.sampled_from(shapes))


@given(fuzzy_edtf())
@settings(max_examples=200)
def test_stored_values_agree_with_the_edtf_package(value: str) -> None:
    """Whatever Rolltext stores, a standard EDTF reader gives the same first and last day."""
    parsed = from_edtf(value)
    if parsed.form in (DateForm.RECURRING, DateForm.UNKNOWN):
        assert (parsed.earliest, parsed.latest) == (None, None)
        edtf.parse_edtf(parsed.edtf)  # still standard EDTF
        return
    low, high = _oracle(parsed.edtf)
    assert (parsed.earliest, parsed.latest) == (low, high)


@given(fuzzy_edtf())
@settings(max_examples=200)
def test_the_description_reads_back_as_the_same_date(value: str) -> None:
    """What the calendar prints is itself a date Rolltext reads: nothing is lost in between."""
    parsed = from_edtf(value)
    assert parse_date_text(parsed.describe()) == parsed


@given(years, st.integers(1, 12))
def test_a_month_is_its_days(year: int, month: int) -> None:
    value = parse_date_text(f"{MONTHS[month - 1]} {year}")
    assert value.earliest == date(year, month, 1)
    assert value.latest == date(year, month, calendar.monthrange(year, month)[1])
