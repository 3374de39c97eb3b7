"""The calendar on both databases: every row of the seed's mapping after the demo, with its
fuzzy date, focal point and place; keeping the calendar and who may; CSV and Word imports;
the iCalendar file read back by a standards parser; the API and the page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import httpx
import icalendar
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db.session import Database
from app.domain.calendar import MeetingKind, make_draft
from app.domain.errors import Invalid, NotAllowed, NotFound
from app.main import create_app
from app.services import accounts, calendar, documents, process, revisions
from app.services.demo import load_demo
from app.web.api import calendar as calendar_api
from app.web.pages import calendar as calendar_pages
from tests.conftest import World

PASSWORD = "correct horse battery"
TBD = "XXXX"

#: Every row of the mapping (Ver. 1 as of 17 November 2016), in its order:
#: (title, EDTF, focal points, place, place to be confirmed, regional process).
MAPPING = [
    ("ILO Governing Body Meeting", "2016-10-27/2016-11-10", ("ILO",), "Geneva", False, False),
    (
        "Global Forum on Migration and Development (GFMD) Dialogue on the Global Compact",
        "2016-11-14",
        ("GFMD",),
        "New York",
        False,
        False,
    ),
    (
        "United Nations Forum on Business and Human Rights",
        "2016-11-14/2016-11-16",
        ("OHCHR",),
        "Geneva",
        False,
        False,
    ),
    (
        "Move4Dev: From Ideas to Implementation – Second World Bank – EU Presidency Conference "
        "on Migration and the Global Development Agenda",
        "2016-12",
        ("World Bank",),
        None,
        False,
        False,
    ),
    (
        "Global Conference on Agenda 2030 and how to improve data on international migration",
        "2016-12-02/2016-12-03",
        ("DESA", "IOM"),
        "Berlin",
        False,
        False,
    ),
    ("IOM Council (meets annually)", "2016-12-05/2016-12-08", ("IOM",), "Geneva", False, False),
    (
        "ILO Asia Pacific Regional Management Meeting, Bali, Indonesia",
        "2016-12-06/2016-12-09",
        ("ILO",),
        "Bali, Indonesia",
        False,
        False,
    ),
    (
        "Ninth Global Forum on Migration and Development (GFMD) (meets annually)",
        "2016-12-10/2016-12-12",
        (),
        "Dhaka",
        False,
        False,
    ),
    ("Abu Dhabi Dialogue", "2017-01-23/2017-01-24", (), "Colombo, Sri Lanka", False, True),
    (
        "Friends of the Global Forum on Migration and Development",
        "2017-02-01/2017-02-02",
        ("GFMD",),
        "Germany",
        False,
        False,
    ),
    (
        "United Nations Department of Economic and Social Affairs (UNDESA) Annual Coordination "
        "Meeting on International Migration",
        "2017-02-16/2017-02-17",
        ("DESA",),
        "New York",
        False,
        False,
    ),
    (
        "Lunchtime side event to the United Nations Department of Economic and Social Affairs "
        "(UNDESA) Annual Coordination Meeting on International Migration - Integrating a gender "
        "perspective in the global compact for safe, orderly and regular migration (title TBC)",
        "2017-02-16",
        ("UN Women",),
        "New York",
        False,
        False,
    ),
    (
        "WHO Global Consultation on Migrant Health (2nd)",
        "2017-02-21/2017-02-23",
        (),
        "Colombo, Sri Lanka",
        False,
        False,
    ),
    (
        "IOM International Dialogue on Migration (twice a year)",
        "2017-03",
        ("IOM",),
        "Geneva",
        True,
        False,
    ),
    (
        "Side event to the Commission on the Status of Women - Integrating a gender perspective "
        "in the global compact for safe, orderly and regular migration (TBC)",
        "2017-03-13/2017-03-24",
        ("UN Women",),
        "New York",
        False,
        False,
    ),
    (
        "UN Human Rights Council enhanced interactive dialogue on migration (34th session)",
        TBD,
        ("OHCHR",),
        "Geneva",
        False,
        False,
    ),
    (
        "50th Session of the Commission on Population and Development (CPD)",
        "2017-04-03/2017-04-07",
        ("DESA",),
        "New York",
        False,
        False,
    ),
    (
        "Friends of the Global Forum on Migration and Development",
        "2017-04-05/2017-04-06",
        ("GFMD",),
        "Germany",
        False,
        False,
    ),
    (
        "Budapest Process - 10th Silk Routes Working Group Meeting / Final Conference of Silk "
        "Routes Partnership Project",
        TBD,
        (),
        "Turkey",
        True,
        True,
    ),
    ("Annual International Labour Conference", "2017-06", (), "Geneva", False, False),
    ("Global Forum on Migration and Development (annual)", TBD, (), "Berlin", False, False),
    ("4th Mayoral Forum on Mobility, Migration and Development", TBD, (), "Montreal", True, False),
    (
        "Tenth Global Forum on Migration and Development (meets annually)",
        "2017-06",
        (),
        "Berlin",
        False,
        False,
    ),
    ("UNIDO International Migration Conference", "2017-35", ("UNIDO",), None, True, False),
    (
        "Annual Meeting of the Global Knowledge Partnership on Migration and Development "
        "(KNOMAD) (meets annually)",
        "2017-07",
        ("World Bank",),
        "Berlin",
        True,
        False,
    ),
    (
        "ILO Latin America and Caribbean Labour Migration Tripartite Meeting",
        "2017-09",
        ("ILO",),
        "Mexico City, Mexico",
        False,
        False,
    ),
    (
        "IOM International Dialogue on Migration (twice a year)",
        "2017-10",
        ("IOM",),
        "Geneva",
        True,
        False,
    ),
    ("General Assembly Third Committee", "2017-09/2017-12", ("OHCHR",), None, False, False),
    (
        "ILO 10th European Regional Meeting",
        "2017-10-02/2017-10-05",
        ("ILO",),
        "Istanbul, Turkey",
        False,
        False,
    ),
    ("IOM Council", "2017-11", ("IOM",), "Geneva", False, False),
    ("UNIDO 17th General Conference", "2017-11-27/2017-12-01", ("UNIDO",), "Vienna", False, False),
    ("IOM Council (meets annually)", "2017-12", ("IOM",), "Geneva", False, False),
    (
        "Third High Level Dialogue on International Migration & Development",
        "[..2019]",
        (),
        None,
        False,
        False,
    ),
    (
        "11th Global Forum on Migration and Development (meets annually)",
        "[..2019]",
        (),
        "Rabat, Morocco",
        False,
        False,
    ),
    ("Bali Process (meets several times per year)", TBD, ("UNODC",), None, False, True),
    (
        "Prague Process (regular senior officials meeting; ministerial meetings every third)",
        TBD,
        (),
        None,
        False,
        True,
    ),
    (
        "Regional Conference on Migration (RCM or Puebla Process) (Annual meetings at both senior "
        "official and Vice-Ministerial level; regular working group meetings)",
        "[XXXX-05,XXXX-06,XXXX-11]",
        (),
        None,
        False,
        True,
    ),
    ("Intergovernmental Authority on Development (IGAD) RCP", TBD, (), None, False, True),
    (
        "Rabat Process (Euro-African Dialogue on Migration and Development) (meets annually)",
        TBD,
        (),
        None,
        False,
        True,
    ),
    (
        "South American Conference on Migration (SACM) (meets annually)",
        TBD,
        (),
        None,
        False,
        True,
    ),
    ("ASEAN Forum on Migrant Labour (meets annually)", TBD, ("ILO",), "Philippines", False, True),
    (
        "ILO - Arab States Regional Future of Work (will include sessions on labour migration)",
        TBD,
        ("ILO",),
        None,
        False,
        False,
    ),
    ("ECOWAS Migration Dialogue for West Africa (MIDWA)", TBD, ("ILO",), None, False, True),
    (
        "East Africa Community Regional Monitoring Group (review of Common Market Protocol)",
        TBD,
        ("ILO",),
        None,
        False,
        True,
    ),
    (
        "IOM International Dialogue on Migration (twice a year)",
        "2018",
        ("IOM",),
        None,
        False,
        False,
    ),
    ("International Conference of Labour Statisticians", "2018", ("ILO",), None, False, False),
    (
        "DESA's coordination meeting on international migration",
        "2018-02",
        ("DESA",),
        "New York",
        False,
        False,
    ),
    ("Commission on Population and Development (CPD)", "2018-04", ("DESA",), None, False, False),
    (
        "Tenth Global Forum on Migration and Development (meets annually)",
        "2018-06",
        (),
        "Berlin",
        False,
        False,
    ),
    (
        "Annual Meeting of the Global Knowledge Partnership on Migration and Development "
        "(KNOMAD) (meets annually)",
        "2018-07",
        (),
        "Berlin",
        False,
        False,
    ),
]


def _in_order(database: Database, negotiation_id: int, actor: accounts.Actor) -> list:
    view = calendar.list_meetings(database, negotiation_id=negotiation_id, viewer=actor)
    return sorted(view.meetings, key=lambda m: m.id)


def test_the_demo_holds_every_row_of_the_mapping(database: Database) -> None:
    load_demo(database)
    negotiation = documents.find_negotiation(database, symbol="GCM/modalities")
    observer = accounts.actor_for_username(database, username="observer")
    meetings = _in_order(database, negotiation.id, observer)
    own, mapped = meetings[:2], meetings[2:]
    assert [
        (m.title, m.edtf, m.focal_points, m.location, m.location_tbc, m.regional) for m in mapped
    ] == MAPPING
    assert all(m.kind is MeetingKind.RELATED for m in mapped if "ide event" not in m.title)
    assert all(m.description for m in mapped if m.title.startswith("Abu Dhabi"))
    by_title = {m.title: m for m in reversed(mapped)}  # the first of each title
    council = by_title["IOM Council (meets annually)"]
    assert (council.date_text, council.note) == (
        "December 5-8",
        "The session on the Global Compact is scheduled for Tuesday 6 December 2016.",
    )
    puebla = next(m for m in mapped if m.title.startswith("Regional Conference on Migration"))
    assert puebla.date_text == "Normally May or June, and November of each year"
    assert puebla.when == "every year in May, June or November"
    unido = by_title["UNIDO International Migration Conference"]
    assert (unido.when, unido.earliest, unido.latest) == (
        "third quarter of 2017",
        date(2017, 7, 1),
        date(2017, 9, 30),
    )
    assert unido.place == "place to be determined"
    assert by_title["Abu Dhabi Dialogue"].regional

    visit, consultation = own
    assert (visit.kind, visit.edtf, visit.location) == (MeetingKind.VISIT, "2016-12-01", "Geneva")
    assert (consultation.kind, consultation.edtf, consultation.hours) == (
        MeetingKind.INFORMAL_CONSULTATION,
        "2016-12-05",
        "15:00–18:00 (America/New_York)",
    )
    assert "Trusteeship Council" in (consultation.location or "")
    assert [(link.role, link.revision) for link in consultation.links] == [
        ("basis", "Elements paper"),
        ("outcome", "Rev.1"),
    ]
    assert [(link.role, link.revision) for link in visit.links] == [("basis", "Elements paper")]

    ics = calendar.export_ics(database, negotiation_id=negotiation.id, viewer=observer)
    parsed = icalendar.Calendar.from_ical(ics.content)
    events = parsed.walk("VEVENT")
    assert len(events) == ics.included == 34
    assert dict(ics.left_out) == {
        "date to be determined": 13,
        "only the year is known": 2,
        "only a bound ('no later than')": 2,
        "recurring, no year given": 1,
    }
    informal = next(e for e in events if e["UID"] == f"meeting-{consultation.id}@rolltext")
    new_york = ZoneInfo("America/New_York")
    assert informal.decoded("DTSTART") == datetime(2016, 12, 5, 15, 0, tzinfo=new_york)
    assert informal.decoded("DTEND") == datetime(2016, 12, 5, 18, 0, tzinfo=new_york)
    assert "Elements paper (basis)" in str(informal["DESCRIPTION"])
    assert parsed.walk("VTIMEZONE")


def test_filters_by_focal_point_place_year_and_kind(world: World) -> None:
    db, sec = world.database, world.secretariat
    for fields in (
        dict(
            title="IOM Council",
            date_text="December 5-8, 2016",
            location="Geneva",
            focal_points="IOM",
        ),
        dict(
            title="*Abu Dhabi Dialogue",
            date_text="January 23-24, 2017",
            location="Colombo, Sri Lanka",
        ),
        dict(
            title="UNIDO conference",
            date_text="Third Quarter 2017",
            location="TBD",
            focal_points="UNIDO",
        ),
        dict(
            title="Data conference",
            date_text="December 2-3, 2016",
            location="Berlin",
            focal_points="DESA, IOM",
        ),
        dict(
            title="Informal consultation",
            date_text="5 December 2016",
            start_time="15:00",
            end_time="18:00",
            kind="informal_consultation",
            location="New York",
        ),
        dict(title="Rabat Process", date_text="Date to be determined"),
    ):
        calendar.add_meeting(
            db, actor=sec, negotiation_id=world.negotiation_id, draft=make_draft(**fields)
        )

    def titles(**filters: object) -> list[str]:
        view = calendar.list_meetings(
            db, negotiation_id=world.negotiation_id, viewer=world.observer, **filters
        )
        return [m.title for m in view.meetings]

    assert titles() == [
        "Data conference",
        "Informal consultation",
        "IOM Council",
        "Abu Dhabi Dialogue",
        "UNIDO conference",
        "Rabat Process",
    ]
    assert titles(focal_point="iom") == ["Data conference", "IOM Council"]
    assert titles(place="Geneva") == ["IOM Council"]
    assert titles(year=2017) == ["Abu Dhabi Dialogue", "UNIDO conference"]
    assert titles(kind=MeetingKind.INFORMAL_CONSULTATION) == ["Informal consultation"]
    assert titles(regional=True) == ["Abu Dhabi Dialogue"]
    assert titles(undated=True) == ["Rabat Process"]
    view = calendar.list_meetings(db, negotiation_id=world.negotiation_id, viewer=world.observer)
    assert view.years == (2016, 2017)
    assert view.focal_points == ("DESA", "IOM", "UNIDO")
    nxt = calendar_pages.upcoming(db, world.negotiation_id)
    assert nxt.meetings == () or nxt.meetings[0].earliest >= nxt.today
    early = calendar.upcoming(db, world.negotiation_id, 2, today=date(2016, 12, 4))
    assert [m.title for m in early.meetings] == ["Informal consultation", "IOM Council"]
    assert early.undated == 1 and early.recent == ()
    # when nothing dated lies ahead, the last meetings held, latest first
    late = calendar.upcoming(db, world.negotiation_id, 2, today=date(2030, 1, 1))
    assert late.meetings == ()
    assert [m.title for m in late.recent] == ["UNIDO conference", "Abu Dhabi Dialogue"]


def test_who_keeps_the_calendar_and_links_to_revisions_and_deadlines(world: World) -> None:
    db = world.database
    draft = make_draft(title="Informal consultation", date_text="5 December 2016")
    for outsider in (world.eu, world.observer, world.stakeholder):
        with pytest.raises(NotAllowed):
            calendar.add_meeting(
                db, actor=outsider, negotiation_id=world.negotiation_id, draft=draft
            )
    meeting = calendar.add_meeting(
        db, actor=world.mexico, negotiation_id=world.negotiation_id, draft=draft
    )
    zero = revisions.list_revisions(db, viewer=world.mexico, document_id=world.document.id)[0]
    round_ = process.open_round(
        db,
        actor=world.mexico,
        document_id=world.document.id,
        name="Written proposals on the zero draft",
        deadline=datetime.now() + timedelta(days=10),
    )
    calendar.link_meeting(
        db, actor=world.mexico, meeting_id=meeting.id, role="basis", revision_id=zero.id
    )
    linked = calendar.link_meeting(
        db, actor=world.switzerland, meeting_id=meeting.id, role="deadline", round_id=round_.id
    )
    assert [(x.role, x.revision, x.round) for x in linked.links] == [
        ("basis", "Zero draft", None),
        ("deadline", None, "Written proposals on the zero draft"),
    ]
    assert linked.links[1].deadline
    with pytest.raises(Invalid, match="one revision or one round"):
        calendar.link_meeting(db, actor=world.mexico, meeting_id=meeting.id, role="basis")
    with pytest.raises(NotFound):
        calendar.link_meeting(
            db, actor=world.mexico, meeting_id=meeting.id, role="basis", revision_id=9999
        )
    with pytest.raises(NotAllowed):
        calendar.link_meeting(
            db, actor=world.eu, meeting_id=meeting.id, role="basis", revision_id=zero.id
        )
    fixed = calendar.update_meeting(
        db,
        actor=world.secretariat,
        meeting_id=meeting.id,
        draft=make_draft(
            title="Informal consultation",
            date_text="5 December 2016",
            start_time="15:00",
            end_time="18:00",
            location="Trusteeship Council (TBC)",
        ),
    )
    assert (fixed.start_time, fixed.timezone, fixed.place) == (
        "15:00",
        "America/New_York",
        "Trusteeship Council (TBC)",
    )
    assert len(fixed.links) == 2
    calendar.unlink_meeting(
        db, actor=world.mexico, meeting_id=meeting.id, link_id=fixed.links[0].id
    )
    calendar.delete_meeting(db, actor=world.mexico, meeting_id=meeting.id)
    with pytest.raises(NotFound):
        calendar.get_meeting(db, meeting_id=meeting.id, viewer=world.eu)


def test_csv_round_trip_and_refusals(world: World) -> None:
    db, sec = world.database, world.secretariat
    sheet = (
        b"Month/year,Event,Location,Focal Point\r\n"
        b'"December 2-3, 2016",Global Conference on data,Berlin,"DESA, IOM"\r\n'
        b"Third Quarter 2017,UNIDO International Migration Conference,TBD,UNIDO\r\n"
        b'"Normally May or June, and November of each year",*Puebla Process,,\r\n'
        b"No later than 2019,Third High Level Dialogue,,\r\n"
    )
    preview = calendar.import_meetings(
        db,
        actor=sec,
        negotiation_id=world.negotiation_id,
        data=sheet,
        filename="m.csv",
        save=False,
    )
    assert (preview.saved, len(preview.meetings)) == (False, 4)
    assert calendar.list_meetings(db, negotiation_id=world.negotiation_id, viewer=sec).total == 0
    report = calendar.import_meetings(
        db, actor=sec, negotiation_id=world.negotiation_id, data=sheet, filename="m.csv"
    )
    assert [(m.edtf, m.regional, m.location_tbc) for m in report.meetings] == [
        ("2016-12-02/2016-12-03", False, False),
        ("2017-35", False, True),
        ("[XXXX-05,XXXX-06,XXXX-11]", True, False),
        ("[..2019]", False, False),
    ]
    exported = calendar.export_csv(db, negotiation_id=world.negotiation_id, viewer=sec)
    other = documents.create_negotiation(
        db, actor=sec, symbol="GCM/other", title="Another", cofacilitators=["MEX"]
    )
    calendar.import_meetings(db, actor=sec, negotiation_id=other.id, data=exported.content)
    again = calendar.export_csv(db, negotiation_id=other.id, viewer=sec)
    assert again.content == exported.content

    bad = b"title,date_text\r\nA,early 2018\r\nB,December 5-8\r\nC,2017\r\n"
    with pytest.raises(Invalid) as refused:
        calendar.import_meetings(db, actor=sec, negotiation_id=other.id, data=bad)
    assert "line 2: 'early 2018' is too vague" in refused.value.message
    assert "line 3: 'December 5-8' has no year" in refused.value.message
    assert calendar.list_meetings(db, negotiation_id=other.id, viewer=sec).total == 4


def _mapping_docx() -> bytes:
    """A Word table laid out like the seed's mapping, page headers and page breaks included."""
    document = docx.Document()
    rows = [
        ("Month /year", "Event", "Location", "Focal Point"),
        ("December 2-3, 2016", "Global Conference on data:", "Berlin", "DESA, IOM"),
        ("", "Discussion on the follow-up to the Summit.", "", ""),
        (
            "December 5-8,\n(The session on the Global Compact is scheduled for Tuesday "
            "6 December 2016.)",
            "IOM Council (meets annually): The Council is the highest authority.",
            "Geneva",
            "IOM",
        ),
        ("Month /year", "Event", "Location", "Focal Point"),  # the header, again on a new page
        ("", "It will feature a high level panel.", "", ""),
        ("January 23-24, 2017", "*Abu Dhabi Dialogue:", "Colombo, Sri Lanka", ""),
        ("April 3-7, 2017", "50th Session of the CPD:", "", ""),
        ("", "", "New York", "DESA"),  # a place and focal point that slipped a page
        ("Date to be determined", "4th Mayoral Forum", "Montreal (tbc)", ""),
    ]
    table = document.add_table(rows=len(rows), cols=4)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            lines = value.split("\n")
            cell.text = lines[0]
            for extra in lines[1:]:
                cell.add_paragraph(extra)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_word_table_like_the_mapping(world: World) -> None:
    report = calendar.import_meetings(
        world.database,
        actor=world.secretariat,
        negotiation_id=world.negotiation_id,
        data=_mapping_docx(),
        filename="mapping.docx",
    )
    got = [
        (m.title, m.edtf, m.location, m.location_tbc, m.focal_points, m.regional, m.note)
        for m in report.meetings
    ]
    assert got == [
        (
            "Global Conference on data",
            "2016-12-02/2016-12-03",
            "Berlin",
            False,
            ("DESA", "IOM"),
            False,
            None,
        ),
        (
            "IOM Council (meets annually)",
            "2016-12-05/2016-12-08",
            "Geneva",
            False,
            ("IOM",),
            False,
            "The session on the Global Compact is scheduled for Tuesday 6 December 2016.",
        ),
        (
            "Abu Dhabi Dialogue",
            "2017-01-23/2017-01-24",
            "Colombo, Sri Lanka",
            False,
            (),
            True,
            None,
        ),
        (
            "50th Session of the CPD",
            "2017-04-03/2017-04-07",
            "New York",
            False,
            ("DESA",),
            False,
            None,
        ),
        ("4th Mayoral Forum", "XXXX", "Montreal", True, (), False, None),
    ]
    council = report.meetings[1]
    assert council.description == (
        "The Council is the highest authority.\n\nIt will feature a high level panel."
    )
    assert report.meetings[0].description == "Discussion on the follow-up to the Summit."


# -- the API and the page, on a test app with the calendar's routers mounted -----------------


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key="test-secret", database_url=world.database.url),
        database=world.database,
    )
    if not any(
        getattr(r, "path", "") == "/negotiations/{negotiation_id}/calendar" for r in app.routes
    ):
        app.include_router(calendar_api.router, prefix="/api/v1")
        app.include_router(calendar_pages.router)
    with TestClient(app) as c:
        yield c


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text

    def remember(response: httpx.Response) -> None:
        if token := response.headers.get("X-CSRF-Token"):
            client.headers["X-CSRF-Token"] = token

    if token := r.headers.get("X-CSRF-Token"):
        client.headers["X-CSRF-Token"] = token
    client.event_hooks["response"] = [remember]


def test_the_calendar_api(client: TestClient, world: World) -> None:
    base = f"/api/v1/negotiations/{world.negotiation_id}/meetings"
    _sign_in(client, "eu")
    r = client.post(base, json={"title": "Mine", "date_text": "December 2016"})
    assert r.status_code == 403
    _sign_in(client, "secretariat")
    r = client.post(base, json={"title": "Consultation", "date_text": "early 2018"})
    assert r.status_code == 422 and "too vague" in r.json()["message"]
    r = client.post(
        base,
        json={
            "title": "Informal consultation",
            "date_text": "5 December 2016",
            "start_time": "15:00",
            "end_time": "18:00",
            "kind": "informal_consultation",
            "location": "Trusteeship Council",
            "focal_points": ["Co-facilitators"],
        },
    )
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert (meeting["edtf"], meeting["when"], meeting["timezone"]) == (
        "2016-12-05",
        "5 December 2016",
        "America/New_York",
    )
    r = client.post(base, json={"title": "Puebla", "date_text": "every November"})
    assert r.json()["edtf"] == "XXXX-11"
    r = client.put(
        f"/api/v1/meetings/{meeting['id']}",
        json={"title": "Informal consultation", "edtf": "2016-12", "date_text": "December 2016"},
    )
    assert r.json()["date_form"] == "month"
    r = client.put(
        f"/api/v1/meetings/{meeting['id']}",
        json={"title": "Informal consultation", "edtf": "2016-12", "date_text": "2 May 2017"},
    )
    assert r.status_code == 422 and "its EDTF says 2016-12" in r.json()["message"]
    zero = revisions.list_revisions(
        world.database, viewer=world.mexico, document_id=world.document.id
    )[0]
    r = client.post(
        f"/api/v1/meetings/{meeting['id']}/links", json={"role": "basis", "revision_id": zero.id}
    )
    assert r.status_code == 201 and r.json()["links"][0]["revision"] == "Zero draft"

    _sign_in(client, "observer")
    listed = client.get(base, params={"year": 2016}).json()
    assert [m["title"] for m in listed["meetings"]] == ["Informal consultation"]
    assert client.get(base, params={"undated": "true"}).json()["meetings"][0]["title"] == "Puebla"
    r = client.get(f"{base}.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.headers["x-rolltext-left-out"] == "1"
    events = icalendar.Calendar.from_ical(r.content).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Informal consultation"]
    assert events[0].decoded("DTSTART") == date(2016, 12, 1)
    assert events[0].decoded("DTEND") == date(2017, 1, 1)
    assert str(events[0]["STATUS"]) == "TENTATIVE"
    assert "Date not fixed" in str(events[0]["DESCRIPTION"])
    csv_file = client.get(f"{base}.csv")
    assert csv_file.text.splitlines()[0].lstrip("\ufeff").startswith("date_text,edtf,")
    assert client.get("/api/v1/meetings/99999").status_code == 404

    _sign_in(client, "secretariat")
    r = client.post(
        f"{base}/import",
        files={"file": ("mapping.docx", _mapping_docx(), "application/octet-stream")},
        data={"preview": "true"},
    )
    assert r.status_code == 200 and len(r.json()["meetings"]) == 5
    assert client.delete(f"/api/v1/meetings/{meeting['id']}").status_code == 204


def test_the_calendar_page(client: TestClient, world: World) -> None:
    for fields in (
        dict(
            title="IOM Council",
            date_text="December 5-8, 2016",
            location="Geneva",
            focal_points="IOM",
        ),
        dict(title="UNIDO <conference>", date_text="Third Quarter 2017", focal_points="UNIDO"),
        dict(title="Rabat Process", date_text="Date to be determined", regional=True),
    ):
        calendar.add_meeting(
            world.database,
            actor=world.secretariat,
            negotiation_id=world.negotiation_id,
            draft=make_draft(**fields),
        )
    client.cookies.clear()
    page = f"/negotiations/{world.negotiation_id}/calendar"
    assert client.get(page, follow_redirects=False).status_code in (302, 303)
    _sign_in(client, "usa")
    html = client.get(page).text
    assert "December 2016" in html and "Third quarter of 2017" in html
    assert "Not yet dated" in html and "as written: “Third Quarter 2017”" in html
    assert "UNIDO &lt;conference&gt;" in html
    assert "Import meetings" not in html  # a delegate does not keep the calendar
    part = client.get(page, params={"focal_point": "IOM"}, headers={"HX-Request": "true"}).text
    assert part.startswith('<section id="agenda"') and "IOM Council" in part
    assert "UNIDO" not in part
    part = client.get(page, params={"year": "undated"}, headers={"HX-Request": "true"}).text
    assert "Rabat Process" in part and "IOM Council" not in part

    _sign_in(client, "secretariat")
    html = client.get(page).text
    assert "Import meetings" in html
    r = client.post(
        f"{page}/import",
        files={"file": ("m.csv", b"title,date_text\r\nA,early 2018\r\n", "text/csv")},
        headers={"Origin": "http://testserver"},
    )
    assert r.status_code == 422 and "too vague" in r.text
    r = client.post(
        f"{page}/import",
        files={"file": ("m.csv", b"title,date_text\r\nB,March 2017\r\n", "text/csv")},
        headers={"Origin": "http://testserver"},
    )
    assert r.status_code == 200 and "1 meetings added" in r.text

    from app.web.templating import env  # the home-page partial renders on its own

    ahead = calendar.upcoming(world.database, world.negotiation_id, today=date(2016, 12, 1))
    html = env.get_template("calendar/_next.html").render(upcoming=ahead)
    assert "5–8 December 2016" in html and "IOM Council" in html and "(Geneva)" in html
    assert "1 meeting still without a date" in html
    assert f'href="/negotiations/{world.negotiation_id}/calendar"' in html
