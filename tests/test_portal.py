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
from webapp.today import today_offer_context

TRANSLATIONS = Path(__file__).resolve().parents[1] / "webapp" / "translations"
CLIENT_LANGUAGES = ("nl", "en", "fr", "ar", "tr", "pl", "ro", "uk")
ENDONYMS = {
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "ro": "Română",
    "uk": "Українська",
}


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
    assert "sportschoenen" in body and "Je betaalt € 37 met je UiTPAS." in body
    assert "kansentarief" not in body and "bemiddelaar" not in body  # no jargon
    assert "Zet in de agenda van je telefoon" in body and "Ik kan niet komen" in body
    assert "Sara helpt je graag." in body
    assert body.count("Voetbal U13") >= 2  # the later session too


def test_the_page_shows_nothing_else_of_the_case(app, portal) -> None:
    response = anonymous(app).get(portal["url"] + "?lang=nl")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Voetbal U13" in body  # the page itself
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
    for code, name in ENDONYMS.items():
        assert f'href="?lang={code}" hreflang="{code}" lang="{code}"' in arabic
        assert f">{name}</a>" in arabic
    english = visitor.get(portal["url"] + "?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english and "Your next activity" in english
    assert "Saturday" in english and "I can't come" in english
    french = visitor.get(portal["url"] + "?lang=fr").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french and "Votre prochaine activité" in french
    assert "samedi" in french
    unknown = visitor.get(portal["url"] + "?lang=xx").get_data(as_text=True)
    assert '<html lang="ar"' in unknown


def test_a_client_without_a_supported_language_gets_dutch(app, client, mediator) -> None:
    case = make_case(mediator, make_client(first_name="Ayaan", language="so"))
    client.login(mediator)
    url = path_of(create_client_link(client, case))
    body = anonymous(app).get(url).get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in body and "Er staat nu niets gepland." in body
    assert "Sara helpt je graag." in body


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
    events = list(calendar.walk("VEVENT"))
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
        messages = today_offer_context(mediator, now, now + dt.timedelta(days=2))
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

    for language in CLIENT_LANGUAGES[1:]:
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(po.open("rb"), locale=language)
        problems = [(m.id, errors) for m, errors in catalog.check()]
        assert problems == [], (language, problems)  # e.g. a %(name)s lost in translation
        compiled = BytesIO()
        write_mo(compiled, catalog)
        assert compiled.getvalue() == po.with_suffix(".mo").read_bytes(), (
            f"{language}: run `pybabel compile -d webapp/translations`"
        )


def link_page_strings() -> set[str]:
    """Every marked string of the link pages: their templates, their views, the phrase lists."""
    root = Path(__file__).resolve().parents[1]
    sources = [
        *(root / "templates" / "portal").glob("*.html"),
        *(root / "templates" / "attendance").glob("*.html"),
    ]
    wanted = set()
    for source in sources:
        wanted |= set(re.findall(r"_\('([^']+)'", source.read_text()))
    for source in (root / "webapp" / "portal.py", root / "webapp" / "attendance.py"):
        wanted |= set(re.findall(r'_l?\(\s*"([^"]+)"', source.read_text()))
    wanted |= {str(v._args[0]) for v in models.MEETING_POINTS.values()}
    wanted |= {str(v._args[0]) for v in models.THINGS_TO_BRING.values()}
    return wanted


def test_every_string_of_the_link_pages_is_translated() -> None:
    from babel.messages.pofile import read_po

    wanted = link_page_strings()
    for language in CLIENT_LANGUAGES[1:]:
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(po.open("rb"))
        missing = [m for m in wanted if not (catalog.get(m) and catalog.get(m).string)]
        assert missing == [], (language, missing)


def test_the_mediator_sees_the_link_as_fine_when_logged_in_too(client, mediator, portal) -> None:
    # A mediator who opens the client's link sees the client's page, not the team's menu.
    client.login(mediator)
    response = client.get(portal["url"])
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Voetbal U13" in body
    assert 'aria-label="Hoofdmenu"' not in body


def choose_phrases(portal, meeting: str = "entrance", bring: str = "swimwear,towel") -> None:
    with database.connection_context():
        models.Session.update(meeting_point_key=meeting).execute()
        models.Activity.update(bring_keys=bring).execute()


def test_chosen_phrases_speak_the_clients_language_and_free_text_stays_dutch(app, portal) -> None:
    choose_phrases(portal)
    visitor = anonymous(app)
    arabic = visitor.get(portal["url"] + "?lang=ar").get_data(as_text=True)
    assert "عند المدخل." in arabic  # "At the entrance."
    assert "ملابس السباحة" in arabic and "منشفة" in arabic  # swimwear, a towel
    # What the mediator typed stays Dutch, marked as such in Arabic, with lang="nl".
    assert '<bdi lang="nl">aan de ingang</bdi>' in arabic
    assert '<bdi lang="nl">sportschoenen, drinkbus</bdi>' in arabic
    assert arabic.count('class="lang-mark">(باللغة الهولندية)</span>') == 2
    dutch = visitor.get(portal["url"] + "?lang=nl").get_data(as_text=True)
    assert "Aan de ingang." in dutch and "Zwemkledij" in dutch and "Een handdoek" in dutch
    assert "lang-mark" not in dutch  # no "(in Dutch)" on the Dutch page
    ics = Calendar.from_ical(visitor.get(portal["url"] + "/agenda.ics?lang=en").data)
    description = str(ics.walk("VEVENT")[0]["description"])
    assert "At the entrance. aan de ingang" in description
    assert "Swimwear, A towel, sportschoenen, drinkbus" in description


def test_the_page_has_no_untranslated_string_in_any_language(app, portal) -> None:
    choose_phrases(portal, bring=",".join(models.THINGS_TO_BRING))
    visitor = anonymous(app)
    dutch = visitor.get(portal["url"] + "?lang=nl").get_data(as_text=True)
    # The Dutch words that were shown: every marked string's literal parts (placeholders cut
    # out), and the Dutch day and month names.
    shown = {"zaterdag", "januari", "februari", "maart", "april", "mei", "juni", "juli"}
    shown |= {"augustus", "september", "oktober", "november", "december", " om "}
    for message in link_page_strings():
        for part in re.split(r"%\(\w+\)s", message):
            if len(part.strip(" .,:?!")) >= 4 and part in dutch:
                shown.add(part)
    assert "Je volgende activiteit" in shown and "Zwemkledij" in shown
    free_text = ("aan de ingang", "sportschoenen, drinkbus", "Voetbal U13", "Te Boelaerlei")
    for language in CLIENT_LANGUAGES[1:]:
        body = visitor.get(portal["url"] + f"?lang={language}").get_data(as_text=True)
        assert f'<html lang="{language}"' in body
        visible = re.sub(r"<bdi lang=\"nl\">.*?</bdi>|<[^>]+>", " ", body)
        left = sorted(w for w in shown if w in visible and w.strip().lower() not in free_text)
        assert left == [], (language, left)


def test_read_aloud_button_carries_the_next_activity_in_the_page_language(app, portal) -> None:
    choose_phrases(portal)
    visitor = anonymous(app)
    body = visitor.get(portal["url"] + "?lang=en").get_data(as_text=True)
    button = re.search(r"<button[^>]*data-speak=\"([^\"]+)\"[^>]*>", body)
    assert button and " hidden" in button.group(0) and 'data-lang="en"' in button.group(0)
    spoken = button.group(1)
    assert spoken.startswith("Voetbal U13 Saturday")
    assert "At the entrance." in spoken and "Sara will go with you." in spoken
    assert "Bring: Swimwear, A towel." in spoken and "UiTPAS" in spoken
    assert "aan de ingang" not in spoken  # Dutch free text is not read in an English voice
    assert 'src="/static/read-aloud.js"' in body


def test_i_can_come_after_all_until_the_session_starts(app, portal, mediator) -> None:
    visitor = anonymous(app)
    page = visitor.get(portal["url"] + "?lang=nl").get_data(as_text=True)
    session_id = re.search(r'name="session" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    visitor.post(
        portal["url"] + "/cant-come?lang=nl",
        data={"csrf_token": token, "session": session_id, "message": "Ziek"},
        csrf=False,
    )
    page = visitor.get(portal["url"] + "?lang=nl").get_data(as_text=True)
    assert "Ik kan toch komen" in page
    response = visitor.post(
        portal["url"] + "/can-come?lang=nl",
        data={"csrf_token": token, "session": session_id},
        csrf=False,
    )
    assert response.status_code == 303
    after = visitor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fijn! Sara weet nu dat je toch komt." in after and "Ik kan toch komen" not in after
    session = in_db(lambda: models.Session.get_by_id(int(session_id)))
    assert session.cant_come_at is None and session.cant_come_message == ""
    kinds = in_db(lambda: [e.kind for e in models.CaseEvent.select().order_by(models.CaseEvent.id)])
    assert kinds[-2:] == ["cant_come", "can_come_again"]
    with database.connection_context():
        now = utcnow()
        messages = today_offer_context(mediator, now, now + dt.timedelta(days=9))
    assert messages["offer_messages"] == []
    # The mediator reads both on the case's timeline.
    mediator_client = anonymous(app)
    mediator_client.login(mediator)
    case_page = mediator_client.get(f"/cases/{portal['case'].id}").get_data(as_text=True)
    assert "Kan niet komen" in case_page and "Kan toch komen" in case_page
    # Taking back twice, or once the session began, is refused.
    again = visitor.post(
        portal["url"] + "/can-come", data={"csrf_token": token, "session": session_id}, csrf=False
    )
    assert again.status_code == 410
    with database.connection_context():
        models.Session.update(
            cant_come_at=utcnow(), starts_at=utcnow() - dt.timedelta(minutes=5)
        ).where(models.Session.id == int(session_id)).execute()
    began = visitor.post(
        portal["url"] + "/can-come", data={"csrf_token": token, "session": session_id}, csrf=False
    )
    assert began.status_code == 410
    assert in_db(lambda: models.Session.get_by_id(int(session_id)).cant_come_at) is not None


def test_the_mediator_chooses_phrases_in_the_forms(client, mediator, case) -> None:
    from tests.test_activities import enrol_data, make_provider

    client.login(mediator)
    provider = make_provider()
    data = {
        "provider": str(provider.id),
        "title": "Zwemles",
        "domain": "sport",
        "price_full": "0",
        "bring": ["towel", "swimwear", "not-a-phrase"],
        "what_to_bring": "1 euro voor het kastje",
        "version": "1",
    }
    assert client.post("/activities/", data=data).status_code == 303
    activity = in_db(lambda: models.Activity.get(models.Activity.title == "Zwemles"))
    assert activity.bring_keys == "swimwear,towel"  # known keys only, in the list's order
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert re.search(r'value="towel"[^>]*checked|checked[^>]*value="towel"', form)
    assert "Een drinkfles met water" in form and "Nog iets meebrengen (in het Nederlands)" in form
    enrol_page = client.get(f"/activities/cases/{case.id}/enrol/{activity.id}")
    assert "We halen je thuis op." in enrol_page.get_data(as_text=True)
    response = client.post(
        f"/activities/cases/{case.id}/enrol/{activity.id}",
        data=enrol_data(cost_arrangement="free", meeting_point_key="home", weekly="0"),
    )
    assert response.status_code == 303
    session = in_db(models.Session.get)
    assert session.meeting_point_key == "home"
    assert session.meeting_point == "aan de ingang van de kantine"
    bad = client.post(
        f"/activities/cases/{case.id}/enrol/{activity.id}",
        data=enrol_data(cost_arrangement="free", meeting_point_key="nowhere"),
    )
    assert bad.status_code == 422
    assert (
        in_db(
            lambda: (
                models.Session.select().where(models.Session.meeting_point_key == "nowhere").count()
            )
        )
        == 0
    )


def test_the_client_page_stays_small(app, portal) -> None:
    import gzip

    choose_phrases(portal, bring=",".join(models.THINGS_TO_BRING))
    for language in CLIENT_LANGUAGES:
        body = anonymous(app).get(portal["url"] + f"?lang={language}").data
        assert len(gzip.compress(body)) <= 14 * 1024, language
