"""Shipped reference data: delegations.csv and groups.csv."""

from __future__ import annotations

import unicodedata

import pytest

from app.data import DelegationRecord, GroupRecord, load_delegations, load_groups

REGIONAL = ("AFRICAN-GROUP", "ASIA-PACIFIC", "EEG", "GRULAC", "WEOG")


def _delegations() -> dict[str, DelegationRecord]:
    return {d.code: d for d in load_delegations()}


def _groups() -> dict[str, GroupRecord]:
    return {g.code: g for g in load_groups()}


def _members(code: str) -> set[str]:
    return set(_groups()[code].members)


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def test_counts_by_kind() -> None:
    kinds = [d.kind for d in load_delegations()]
    assert kinds.count("member_state") == 193
    assert kinds.count("observer_state") == 2
    assert kinds.count("observer_organization") == 1
    assert len(kinds) == 196


def test_observers() -> None:
    delegations = _delegations()
    assert delegations["VAT"].name == "Holy See"
    assert delegations["PSE"].name == "State of Palestine"
    assert {delegations["VAT"].kind, delegations["PSE"].kind} == {"observer_state"}
    eu = delegations["EU"]
    assert (eu.name, eu.short, eu.kind, eu.un_member_since) == (
        "European Union",
        "EU",
        "observer_organization",
        None,
    )


def test_codes_names_and_shorts_unique() -> None:
    records = load_delegations()
    for attribute in ("code", "name", "short"):
        values = [getattr(d, attribute) for d in records]
        assert len(values) == len(set(values)), attribute


def test_codes_are_iso_alpha3_except_eu() -> None:
    for d in load_delegations():
        if d.code == "EU":
            continue
        assert len(d.code) == 3 and d.code.isascii() and d.code.isupper(), d.code


def test_sorted_by_name() -> None:
    names = [d.name for d in load_delegations()]
    assert names == sorted(names, key=_fold)


def test_admission_years() -> None:
    for d in load_delegations():
        if d.kind == "member_state":
            assert d.un_member_since is not None and 1945 <= d.un_member_since <= 2011, d.code
        else:
            assert d.un_member_since is None, d.code
    delegations = _delegations()
    expected = {"SSD": 2011, "CHE": 2002, "MNE": 2006, "TLS": 2002, "USA": 1945, "DEU": 1973}
    for code, year in expected.items():
        assert delegations[code].un_member_since == year, code
    # 51 original Members, less Czechoslovakia and Yugoslavia (Czechia 1993, Serbia 2000).
    originals = [d for d in load_delegations() if d.un_member_since == 1945]
    assert len(originals) == 49


@pytest.mark.parametrize(
    ("code", "name", "short"),
    [
        ("USA", "United States of America", "United States"),
        ("GBR", "United Kingdom of Great Britain and Northern Ireland", "United Kingdom"),
        ("RUS", "Russian Federation", "Russian Federation"),
        ("IRN", "Iran (Islamic Republic of)", "Iran"),
        ("BOL", "Bolivia (Plurinational State of)", "Bolivia"),
        ("VEN", "Venezuela (Bolivarian Republic of)", "Venezuela"),
        ("KOR", "Republic of Korea", "Republic of Korea"),
        ("PRK", "Democratic People's Republic of Korea", "Democratic People's Republic of Korea"),
        ("TUR", "Türkiye", "Türkiye"),
        ("CIV", "Côte d'Ivoire", "Côte d'Ivoire"),
        ("NLD", "Netherlands (Kingdom of the)", "Netherlands"),
        ("FSM", "Micronesia (Federated States of)", "Micronesia"),
        ("VNM", "Viet Nam", "Viet Nam"),
        ("CZE", "Czechia", "Czechia"),
        ("SWZ", "Eswatini", "Eswatini"),
        ("MKD", "North Macedonia", "North Macedonia"),
        ("TZA", "United Republic of Tanzania", "United Republic of Tanzania"),
        ("MDA", "Republic of Moldova", "Republic of Moldova"),
        ("LAO", "Lao People's Democratic Republic", "Lao People's Democratic Republic"),
        ("SYR", "Syrian Arab Republic", "Syrian Arab Republic"),
    ],
)
def test_un_names(code: str, name: str, short: str) -> None:
    d = _delegations()[code]
    assert (d.name, d.short) == (name, short)


GROUP_SIZES = {
    "G77": 134,
    "AFRICAN-GROUP": 54,
    "ASIA-PACIFIC": 54,
    "EEG": 23,
    "GRULAC": 33,
    "WEOG": 28,
    "EU": 27,
    "ARAB-GROUP": 22,
    "AOSIS": 37,
    "LDC": 44,
    "LLDC": 32,
    "CELAC": 33,
}


def test_group_codes_and_sizes() -> None:
    groups = _groups()
    assert len(groups) == len(load_groups())
    assert {code: len(g.members) for code, g in groups.items()} == GROUP_SIZES
    assert groups["G77"].short == "G77 and China"
    assert groups["G77"].name == "Group of 77 and China"


def test_group_members_exist_and_are_unique() -> None:
    delegations = _delegations()
    for g in load_groups():
        assert len(g.members) == len(set(g.members)), g.code
        assert list(g.members) == sorted(g.members), g.code
        for member in g.members:
            assert member in delegations, (g.code, member)
            assert delegations[member].kind != "observer_organization", (g.code, member)


def test_regional_groups_partition_member_states_except_usa() -> None:
    member_states = {d.code for d in load_delegations() if d.kind == "member_state"}
    seen: set[str] = set()
    for code in REGIONAL:
        members = _members(code)
        assert members <= member_states, code
        assert not (seen & members), code
        seen |= members
    assert member_states - seen == {"USA"}


def test_spot_checks() -> None:
    assert "CHN" in _members("G77")
    assert "PSE" in _members("G77")
    assert "PSE" in _members("ARAB-GROUP")
    assert "SYR" in _members("ARAB-GROUP")
    assert "CHE" not in _members("EU")
    assert "GBR" not in _members("EU")
    assert "EU" not in _members("EU")
    assert "MEX" in _members("CELAC")
    assert "MEX" in _members("GRULAC")
    assert "MEX" not in _members("G77")
    assert _members("CELAC") == _members("GRULAC")
    assert "TUR" in _members("WEOG")
    assert "TUR" not in _members("ASIA-PACIFIC")
    assert "KIR" in _members("ASIA-PACIFIC")
    assert "ISR" in _members("WEOG")
    assert "USA" not in _members("WEOG")
    assert "STP" not in _members("LDC")
    assert "BTN" not in _members("LDC")
    assert {"AGO", "BGD", "HTI", "TUV"} <= _members("LDC")
    assert {"BOL", "PRY", "MNG", "MKD"} <= _members("LLDC")
    assert {"SGP", "CUB", "MDV", "FJI"} <= _members("AOSIS")
    assert "VAT" not in set().union(*(g.members for g in load_groups()))


def test_loaders_are_cached() -> None:
    assert load_delegations() is load_delegations()
    assert load_groups() is load_groups()
