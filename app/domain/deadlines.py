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


def local_deadline(local: datetime, tz: str = NEW_YORK) -> datetime:
    """The UTC instant of a deadline given as a local date and time in `tz`."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=zone(tz)).astimezone(UTC)


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
