"""The client's own page: what it shows (and what not), languages, the calendar file, "I can't
come", GET without side effects, the headers, CSRF."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.conftest import in_db, make_case, make_client
from tests.test_activities import enrol, make_activity
from tests.test_links import create_client_link, path_of
from webapp import models
from webapp.db import database
from webapp.timeutil import LOCAL, local_today, to_utc, utcnow

TRANSLATIONS = Path(__file__).resolve().parents[1] / "webapp" / "translations"


@pytest.fixture
def portal(client, mediator):
    """A client with a case, an enrolment with two sessions and their personal link (path)."""
    case = make_case(mediator, question="Zoekt een sportclub; thuis moeilijk (privé)")
    with database.connection_context():
        models.CaseThreshold.create(
            case=case,
            category=models.ThresholdCategory.get(models.ThresholdCategory.key == "financieel"),
            note="schulden bij de huisbaas",
        )
        models.Visit.create(
            case=case,
            mediator=mediator,
            contact_type="huisbezoek",
            occurred_at=utcnow(),
            notes="Vader werkt 's nachts",
            idempotency_key="k1",
        )
    first = dt.datetime.combine(next_saturday(), dt.time(10, 0))
    enrol(case, make_activity(), mediator, starts=[to_utc(first), to_utc(first + dt.timedelta(7))])
    client.login(mediator)
    url = path_of(create_client_link(client, case))
    return {"case": case, "url": url, "first": first}


def next_saturday() -> dt.date:
    today = local_today()
    return today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)


def anonymous(app):
    from tests.conftest import BrowserLikeClient

    app.test_client_class = BrowserLikeClient
    return app.test_client()


def test_the_page_shows_the_next_activity_in_plain_words(app, portal) -> None:
    visitor = anonymous(app)
    response = visitor.get(portal["url"] + "?lang=nl")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    first = portal["first"]
    months = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ]
    assert f"zaterdag {first.day} {months[first.month - 1]} om 10 uur" in body
    assert "Voetbal U13" in body and "Te Boelaerlei 20" in body
    assert "openstreetmap.org/search?query=" in body
    assert "aan de ingang" in body  # meeting point
    assert "Sara gaat met je mee." in body and 'href="tel:0470123456"' in body
    assert "sportschoenen" in body and "Je betaalt € 37." in body
    assert "Zet in mijn agenda" in body and "Ik kan niet komen" in body
    assert body.count("Voetbal U13") >= 2  # the later session too


def test_the_page_shows_nothing_else_of_the_case(app, portal) -> None:
    body = anonymous(app).get(portal["url"] + "?lang=nl").get_data(as_text=True)
    for private in ("Bouzid", "El Amrani", "schulden", "Vader werkt", "privé", "Zoekt een"):
        assert private not in body, private
    title = re.search(r"<title>(.*?)</title>", body).group(1)
    assert "Amina" not in title


def test_the_page_opens_in_the_clients_language_and_switches(app, portal) -> None:
    visitor = anonymous(app)
    arabic = visitor.get(portal["url"]).get_data(as_text=True)  # Amina prefers Arabic
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "نشاطك القادم" in arabic  # "your next activity"
    assert "السبت" in arabic  # Saturday
    for code in ("nl", "en", "fr", "ar"):
        assert f'href="?lang={code}" hreflang="{code}"' in arabic
    english = visitor.get(portal["url"] + "?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english and "Your next activity" in english
    assert "Saturday" in english and "I can't come" in english
    french = visitor.get(portal["url"] + "?lang=fr").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french and "Votre prochaine activité" in french
    assert "samedi" in french
    unknown = visitor.get(portal["url"] + "?lang=xx").get_data(as_text=True)
    assert '<html lang="ar"' in unknown


def test_a_client_without_a_supported_language_gets_dutch(app, client, mediator) -> None:
    case = make_case(mediator, make_client(first_name="Kasia", language="pl"))
    client.login(mediator)
    url = path_of(create_client_link(client, case))
    body = anonymous(app).get(url).get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in body and "Er staat nu niets gepland." in body
    assert "Sara is je bemiddelaar." in body


def test_opening_the_page_twice_changes_nothing(app, portal) -> None:
    def snapshot():
        with database.connection_context():
            return [
                [tuple(r) for r in database.execute_sql(f'SELECT * FROM "{m._meta.table_name}"')]  # noqa: S608
                for m in models.ALL_MODELS
            ]

    before = snapshot()
    visitor = anonymous(app)
    for _ in range(2):
        assert visitor.get(portal["url"]).status_code == 200
        assert visitor.get(portal["url"] + "/agenda.ics").status_code == 200
    assert snapshot() == before


def test_link_page_headers(app, portal) -> None:
    visitor = anonymous(app)
    for url in (portal["url"], portal["url"] + "/agenda.ics", "/p/unknown-token-123"):
        response = visitor.get(url)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "noindex" in response.headers["X-Robots-Tag"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_calendar_file_has_the_sessions_at_brussels_time(app, portal) -> None:
    response = anonymous(app).get(portal["url"] + "/agenda.ics")
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 2
    start = events[0].decoded("dtstart")
    assert start.tzinfo is not None
    assert start.astimezone(LOCAL).replace(tzinfo=None) == portal["first"]
    assert str(events[0]["summary"]) == "Voetbal U13"
    assert "Te Boelaerlei 20" in str(events[0]["location"])
    assert calendar.walk("VTIMEZONE")  # a calendar app knows what Europe/Brussels means


def test_i_cant_come_reaches_the_mediator(app, portal, mediator) -> None:
    visitor = anonymous(app)
    page = visitor.get(portal["url"] + "?lang=nl").get_data(as_text=True)
    session_id = re.search(r'name="session" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = visitor.post(
        portal["url"] + "/cant-come?lang=nl",
        data={"csrf_token": token, "session": session_id, "message": "Ik ben ziek"},
        csrf=False,
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?lang=nl")
    after = visitor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sara weet nu dat je niet kan komen." in after
    session = in_db(lambda: models.Session.get_by_id(int(session_id)))
    assert session.cant_come_message == "Ik ben ziek" and session.cant_come_at
    events = in_db(
        lambda: list(models.CaseEvent.select().where(models.CaseEvent.kind == "cant_come"))
    )
    assert len(events) == 1 and "Ik ben ziek" in events[0].detail and events[0].actor_id is None
    link = in_db(lambda: models.AccessLink.get(models.AccessLink.purpose == "client"))
    assert link.last_used_at is not None
    audit = in_db(lambda: models.AuditEvent.get(models.AuditEvent.action == "cant_come"))
    assert audit.link == link.id and audit.user_id is None
    # The mediator sees it on Vandaag's context and on the case page.
    with database.connection_context():
        now = utcnow()
        messages = models.today_offer_context(mediator, now, now + dt.timedelta(days=2))
    assert [s.cant_come_message for s in messages["offer_messages"]] == ["Ik ben ziek"]


def test_i_cant_come_without_csrf_token_is_refused(app, portal) -> None:
    visitor = anonymous(app)
    page = visitor.get(portal["url"]).get_data(as_text=True)
    session_id = re.search(r'name="session" value="(\d+)"', page).group(1)
    response = visitor.post(
        portal["url"] + "/cant-come", data={"session": session_id, "message": "x"}, csrf=False
    )
    assert response.status_code == 400
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert in_db(lambda: models.Session.get_by_id(int(session_id)).cant_come_at) is None


def test_i_cant_come_bad_input(app, portal) -> None:
    visitor = anonymous(app)
    page = visitor.get(portal["url"] + "?lang=nl").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    session_id = re.search(r'name="session" value="(\d+)"', page).group(1)
    long = visitor.post(
        portal["url"] + "/cant-come?lang=nl",
        data={"csrf_token": token, "session": session_id, "message": "x" * 301},
        csrf=False,
    )
    assert long.status_code == 422
    body = long.get_data(as_text=True)
    assert "maximaal 300 tekens" in body and "x" * 301 in body
    other = visitor.post(
        portal["url"] + "/cant-come",
        data={"csrf_token": token, "session": "999999", "message": ""},
        csrf=False,
    )
    assert other.status_code == 410
    missing = visitor.post(portal["url"] + "/cant-come", data={"csrf_token": token}, csrf=False)
    assert missing.status_code == 422
    assert (
        in_db(lambda: models.CaseEvent.select().where(models.CaseEvent.kind == "cant_come").count())
        == 0
    )


def test_another_clients_session_cannot_be_cancelled(app, portal, mediator) -> None:
    other = make_case(mediator, make_client(first_name="Youssef", language="nl"))
    enrolment = enrol(other, make_activity(title="Zwemmen"), mediator)
    other_session = in_db(lambda: enrolment.sessions[0].id)
    visitor = anonymous(app)
    page = visitor.get(portal["url"]).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = visitor.post(
        portal["url"] + "/cant-come",
        data={"csrf_token": token, "session": str(other_session)},
        csrf=False,
    )
    assert response.status_code == 410
    assert in_db(lambda: models.Session.get_by_id(other_session).cant_come_at) is None


def test_a_revoked_link_cannot_post(app, portal) -> None:
    visitor = anonymous(app)
    page = visitor.get(portal["url"]).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    session_id = re.search(r'name="session" value="(\d+)"', page).group(1)
    with database.connection_context():
        models.AccessLink.update(revoked_at=utcnow()).execute()
    response = visitor.post(
        portal["url"] + "/cant-come", data={"csrf_token": token, "session": session_id}, csrf=False
    )
    assert response.status_code == 410


def test_the_gone_page_speaks_the_visitors_language(app) -> None:
    visitor = anonymous(app)
    body = visitor.get("/p/unknown-token-123?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in body and "هذا الرابط لم يعد يعمل" in body
    body = visitor.get(
        "/p/unknown-token-123", headers={"Accept-Language": "fr-BE,fr;q=0.9"}
    ).get_data(as_text=True)
    assert "Ce lien ne fonctionne plus" in body


def test_the_catalogs_compile_and_the_committed_mo_files_are_fresh() -> None:
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for language in ("en", "fr", "ar"):
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(po.open("rb"), locale=language)
        problems = [(m.id, errors) for m, errors in catalog.check()]
        assert problems == [], (language, problems)  # e.g. a %(name)s lost in translation
        compiled = BytesIO()
        write_mo(compiled, catalog)
        assert compiled.getvalue() == po.with_suffix(".mo").read_bytes(), (
            f"{language}: run `pybabel compile -d webapp/translations`"
        )


def test_every_string_of_the_link_pages_is_translated() -> None:
    from babel.messages.pofile import read_po

    templates = Path(__file__).resolve().parents[1] / "templates"
    sources = [
        *(templates / "portal").glob("*.html"),
        *(templates / "attendance").glob("*.html"),
    ]
    wanted = set()
    for source in sources:
        wanted |= set(re.findall(r"_\('([^']+)'", source.read_text()))
    for language in ("en", "fr", "ar"):
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(po.open("rb"))
        missing = [m for m in wanted if not (catalog.get(m) and catalog.get(m).string)]
        assert missing == [], (language, missing)


def test_the_mediator_sees_the_link_as_fine_when_logged_in_too(client, mediator, portal) -> None:
    # A mediator who opens the client's link sees the client's page, not the team's menu.
    client.login(mediator)
    body = client.get(portal["url"]).get_data(as_text=True)
    assert 'aria-label="Hoofdmenu"' not in body
