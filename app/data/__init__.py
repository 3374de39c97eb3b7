"""Reference data shipped with Rolltext: delegations and negotiating groups.

The two CSV files beside this module are plain data, read with :mod:`importlib.resources`;
nothing here depends on a country package at run time.

``delegations.csv`` (``code,name,short,kind,un_member_since``), sorted by name (accents and
case folded, as in the UN's own list, so "Côte d'Ivoire" follows "Costa Rica"):

* the 193 Member States of the United Nations (``kind`` = ``member_state``). ``code`` is the
  ISO 3166-1 alpha-3 code, ``name`` the short name in the UN's official list of Member States
  (e.g. "Bolivia (Plurinational State of)", "Gambia (Republic of The)", "Netherlands (Kingdom
  of the)", "Türkiye", "Viet Nam"), ``short`` what a chair says in the room and compilations
  print after a proposal (e.g. "United States", "United Kingdom", "Iran"; mostly the same as
  ``name``), ``un_member_since`` the year of admission (for successor States, the year the
  seat was first held: Russian Federation 1945, Germany 1973, Yemen 1947, Serbia 2000);
* the two non-member observer States, Holy See (``VAT``) and State of Palestine (``PSE``),
  ``kind`` = ``observer_state``, no admission year;
* the European Union (``EU``), ``kind`` = ``observer_organization``, no admission year.

``groups.csv`` (``code,name,short,members``; ``members`` is a space-separated list of
delegation codes, sorted):

* ``G77``: Group of 77 and China, 134 members including China and the State of Palestine
  (Azerbaijan joined in 2019; Bosnia and Herzegovina is no longer listed).
* UN regional groups (source of truth: the UN Department for General Assembly and Conference
  Management (DGACM) list "Regional groups of Member States"). Every Member State is in exactly
  one of them, except the United States of America:

  - ``AFRICAN-GROUP`` 54; ``EEG`` 23; ``GRULAC`` 33;
  - ``ASIA-PACIFIC`` 54. DGACM lists Kiribati in the Asia-Pacific States and marks Türkiye,
    which takes part fully in both Asia-Pacific and WEOG but counts in WEOG for electoral
    purposes; Türkiye is therefore left out here. The figure of 53 often quoted dates from
    before Kiribati joined the group (54 + 54 + 23 + 33 + 28 + the United States = 193);
  - ``WEOG`` 28, including Israel and Türkiye. The United States is not a member of any
    regional group: it attends WEOG meetings as an observer and is counted with WEOG for
    electoral purposes, but it is deliberately *not* listed among WEOG's members.

* ``EU``: the 27 member States of the European Union (so that the presidency can speak for
  them). The Union itself is the delegation ``EU``, not a member of this group.
* ``ARAB-GROUP``: the 22 members of the League of Arab States, including the State of
  Palestine and the Syrian Arab Republic (readmitted to the League in 2023).
* ``AOSIS``: 37. AOSIS has 39 members, but two of them, the Cook Islands and Niue, are not UN
  Member States nor delegations here, and are left out; so are AOSIS's associate members
  (non-self-governing territories such as Anguilla, Aruba, Guam...).
* ``LDC``: 44, the UN list of least developed countries as it stands since São Tomé and
  Príncipe graduated on 13 December 2024 (Vanuatu graduated in 2020, Bhutan in December
  2023). Next scheduled graduations: Bangladesh, Lao People's Democratic Republic and Nepal
  (24 November 2026), Solomon Islands (December 2027): update this file then.
* ``LLDC``: 32 landlocked developing countries (UN-OHRLLS list).
* ``CELAC``: 33, the same States as GRULAC.

Sources: the UN list of Member States (names, admission years), DGACM regional groups,
UN-OHRLLS (LDC, LLDC), g77.org, aosis.org, the League of Arab States; the first drafts were
generated from the PyPI packages ``country-converter`` 1.3.2 (names, admission years) and
``countrygroups`` 0.13.0 (group lists), then checked and corrected by hand (UN names, LDC
graduations, non-UN AOSIS members). Valid as of 2025; the least stable facts are the LDC list
(see above) and group memberships that change by a State's own decision (G77, AOSIS).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "DelegationRecord",
    "GroupRecord",
    "load_delegations",
    "load_groups",
]

MEMBER_STATE = "member_state"
OBSERVER_STATE = "observer_state"
OBSERVER_ORGANIZATION = "observer_organization"
KINDS = frozenset({MEMBER_STATE, OBSERVER_STATE, OBSERVER_ORGANIZATION})


@dataclass(frozen=True, slots=True)
class DelegationRecord:
    """One delegation: a Member State, a non-member observer State or the European Union."""

    code: str
    name: str
    short: str
    kind: str
    un_member_since: int | None


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """One negotiating group and the codes of the delegations it speaks for."""

    code: str
    name: str
    short: str
    members: tuple[str, ...]


def _read_csv(filename: str) -> list[dict[str, str]]:
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def load_delegations() -> tuple[DelegationRecord, ...]:
    """All delegations, in the order of the file (sorted by name)."""
    records: list[DelegationRecord] = []
    for row in _read_csv("delegations.csv"):
        kind = row["kind"]
        if kind not in KINDS:
            raise ValueError(f"delegations.csv: unknown kind {kind!r} for {row['code']!r}")
        since = row["un_member_since"].strip()
        records.append(
            DelegationRecord(
                code=row["code"],
                name=row["name"],
                short=row["short"],
                kind=kind,
                un_member_since=int(since) if since else None,
            )
        )
    return tuple(records)


@cache
def load_groups() -> tuple[GroupRecord, ...]:
    """All negotiating groups, in the order of the file."""
    return tuple(
        GroupRecord(
            code=row["code"],
            name=row["name"],
            short=row["short"],
            members=tuple(row["members"].split()),
        )
        for row in _read_csv("groups.csv")
    )
