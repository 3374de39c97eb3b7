"""Deadlines of the process: written proposals by a date and time, silence until a date and time.

Co-facilitators set deadlines in a place's local time — New York unless they say otherwise — and
delegations read them that way ("Friday 13 January 2017, 18:00 New York time"). Rolltext stores
the instant in UTC together with the time zone it was set in, so the deadline is the same moment
for everyone and is printed the way it was announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.errors import Invalid

NEW_YORK = "America/New_York"

_PLACES = {
    "America/New_York": "New York",
    "Europe/Zurich": "Geneva",
    "Europe/Vienna": "Vienna",
    "Africa/Nairobi": "Nairobi",
    "UTC": "UTC",
}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"{name!r} is not a time zone (use a name such as America/New_York)."
        ) from exc


#: Deadlines fall in these years. Near the ends of the calendar (year 1, year 9999) an instant
#: cannot even be converted to every time zone, and no negotiation has a deadline there.
FIRST_YEAR, LAST_YEAR = 1900, 9000


def local_deadline(local: datetime, tz: str = NEW_YORK, *, what: str = "The deadline") -> datetime:
    """The UTC instant of a deadline given as a local date and time in `tz` (or with its own
    offset); a date outside FIRST_YEAR..LAST_YEAR is refused, naming `what`."""
    place = zone(tz)
    try:
        instant = (local if local.tzinfo is not None else local.replace(tzinfo=place)).astimezone(
            UTC
        )
    except OverflowError:
        instant = None
    if instant is None or not FIRST_YEAR <= instant.year <= LAST_YEAR:
        raise Invalid(
            f"{what} {local.isoformat(sep=' ')} is not a date Rolltext accepts: give a date "
            f"between the years {FIRST_YEAR} and {LAST_YEAR}."
        )
    return instant


def describe(instant: datetime, tz: str = NEW_YORK) -> str:
    """As announced: "Friday 13 January 2017, 18:00 New York time (EST)"."""
    local = instant.astimezone(zone(tz))
    place = _PLACES.get(tz, tz.rsplit("/", 1)[-1].replace("_", " "))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {place} time ({local.tzname()})"


@dataclass(frozen=True, slots=True)
class Window:
    """A round of written proposals: open until `deadline`, later only with a granted extension."""

    name: str
    deadline: datetime
    tz: str = NEW_YORK

    def check(self, now: datetime, *, late_until: datetime | None = None) -> None:
        if now <= self.deadline:
            return
        if late_until is not None and now <= late_until:
            return
        raise Invalid(
            f"The deadline for {self.name} passed on {describe(self.deadline, self.tz)}. "
            "Proposals are closed unless the co-facilitators reopen the round or grant your "
            "delegation a late submission."
        )
