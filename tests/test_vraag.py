"""/vraag: a person asks for help themselves; it lands in intake as source 'zelf'. The walk-in
hours coordinators keep, and the poster."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from html import unescape as html_unescape
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from itsdangerous import TimestampSigner

from tests.conftest import BrowserLikeClient, count_queries, in_db, make_client
from webapp import models
from webapp.models import database
from webapp.portal import CLIENT_LANGUAGES
from webapp.timeutil import local_today
from webapp.vraag.forms import MIN_SECONDS

ROOT = Path(__file__).resolve().parents[1]


def opened(seconds_ago: float = 60, key: str = "test-secret") -> str:
    """The signed time a form was opened, as the page would have made it seconds_ago."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - seconds_ago)

    return Then(key, salt="vraag-opened").sign(uuid.uuid4().hex).decode()


def answers(**overrides) -> dict:
    data = {
        "for_whom": "kind",
        "age": "9",
        "likes": ["zwemmen", "muziek"],
        "name": "Fatima El Amrani",
        "phone": "0486 11 22 33",
        "email": "",
        "whatsapp": "y",
        "language": "ar",
        "call_moment": "namiddag",
        "consent": "y",
        "website": "",
        "opened": opened(),
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def visitor(app, address: str = "198.51.100.7") -> BrowserLikeClient:
    app.test_client_class = BrowserLikeClient
    guest = app.test_client()
    guest.environ_base["REMOTE_ADDR"] = address
    return guest


def referrals() -> list[models.Referral]:
    return in_db(lambda: list(models.Referral.select().order_by(models.Referral.id)))


def make_hours(**fields) -> models.WalkInHours:
    values = {
        "place": "OCMW sociaal centrum Kiel",
        "address": "Abdijstraat 154, 2020 Antwerpen",
        "weekday": 2,
        "starts": dt.time(13),
        "ends": dt.time(16),
        "note": "",
    }
    values.update(fields)
    with database.connection_context():
        return models.WalkInHours.create(**values)


# The page and the request ----------------------------------------------------------------------


def test_the_page_opens_without_an_account_and_asks_only_what_the_issue_lists(app) -> None:
    response = visitor(app).get("/vraag")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert '<html lang="nl"' in page and "Ik zoek iets om te doen" in page
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', page))
    assert names == {
        "csrf_token",
        "idempotency_key",
        "opened",
        "for_whom",
        "age",
        "likes",
        "name",
        "phone",
        "email",
        "whatsapp",
        "language",
        "call_moment",
        "consent",
        "website",
    }
    # The honeypot is not there for people: hidden, not focusable, not announced.
    trap = re.search(r'<div class="vraag-extra" aria-hidden="true">.*?</div>', page, re.DOTALL)
    assert trap and 'tabindex="-1"' in trap.group(0)
    assert ".vraag-extra { display: none; }" in (ROOT / "static" / "app.css").read_text()


def test_opening_the_page_the_confirmation_and_the_poster_changes_nothing(app) -> None:
    make_hours()
    guest = visitor(app)
    with count_queries() as queries:
        guest.get("/vraag")
        guest.get("/vraag?lang=ar")
        guest.get("/vraag/affiche")
        guest.get("/vraag/ontvangen?t=nonsense")
    assert not [q for q in queries if not q.lstrip().upper().startswith("SELECT")]
    assert referrals() == []


def test_a_request_lands_in_intake_as_zelf_and_the_confirmation_says_when(app) -> None:
    guest = visitor(app)
    response = guest.post("/vraag?lang=ar", data=answers())
    assert response.status_code == 303
    [referral] = referrals()
    assert referral.source == "zelf" and referral.organisation_id is None
    assert (referral.first_name, referral.for_whom, referral.age) == ("Fatima El Amrani", "kind", 9)
    assert (referral.phone, referral.language, referral.call_moment) == (
        "0486 11 22 33",
        "ar",
        "namiddag",
    )
    assert referral.whatsapp is True and referral.email is None
    assert referral.domains == "sport,cultuur" and referral.interests == "zwemmen, muziek"
    assert referral.first_contact == "bellen" and referral.status == "new"
    # The consent is stored in the words the person read (Arabic here).
    assert referral.consent_text and re.search("[\u0600-\u06ff]", referral.consent_text)
    # The summary for the team is Dutch, whatever the page's language.
    assert "voor mijn kind, 9 jaar" in referral.question and "'s namiddags" in referral.question
    page = guest.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in page
    until = local_today() + models.FIRST_CONTACT_TERM
    assert str(until.day) in page and "Fatima" not in page and "0486" not in page
    # Switching the language keeps the confirmation (not the empty form).
    [dutch] = re.findall(r'href="([^"]*lang=nl)"', page)
    again = guest.get("/vraag/ontvangen" + html_unescape(dutch))
    assert again.status_code == 200
    assert '<html lang="nl"' in again.get_data(as_text=True)
    assert "We bellen je" in again.get_data(as_text=True)


def test_double_submit_stores_one_request_with_the_same_confirmation(app) -> None:
    guest = visitor(app)
    data = answers()
    first = guest.post("/vraag", data=data)
    second = guest.post("/vraag", data=data)
    assert first.status_code == second.status_code == 303
    assert len(referrals()) == 1


def test_every_field_refuses_bad_input_next_to_it_and_keeps_what_was_typed(app) -> None:
    guest = visitor(app)
    bad = answers(
        for_whom="iedereen",
        age="negen",
        likes=["zwemmen", "paardrijden"],
        name="",
        phone="bel me",
        email="geen-adres",
        language="xx",
        call_moment="nacht",
        consent=None,
        idempotency_key="abc",
    )
    response = guest.post("/vraag", data=bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("for_whom", "age", "likes", "name", "phone", "email", "language"):
        assert f'id="{field}-error"' in page, field
    assert 'id="call_moment-error"' in page and 'id="consent-error"' in page
    assert "Vul je naam in." in page and "Zonder je akkoord kunnen we je niet helpen." in page
    assert 'value="negen"' in page and 'value="bel me"' in page and 'value="geen-adres"' in page
    assert referrals() == []


def test_phone_or_email_is_needed_and_every_field_has_a_size_limit(app) -> None:
    guest = visitor(app)
    page = guest.post("/vraag", data=answers(phone="", email="")).get_data(as_text=True)
    assert "Vul een telefoonnummer of een e-mailadres in." in page
    long = answers(name="N" * 81, email="a@" + "b" * 250 + ".be", age="1234", phone="0" * 25)
    page = guest.post("/vraag", data=long).get_data(as_text=True)
    assert page.count('class="error"') >= 4
    assert "Maximaal 80 tekens." in page
    assert guest.post("/vraag", data=answers(website="x" * 20_000)).status_code == 413
    assert referrals() == []


def test_age_out_of_range_is_refused_in_plain_dutch(app) -> None:
    page = visitor(app).post("/vraag", data=answers(age="140")).get_data(as_text=True)
    assert "Vul een leeftijd in met cijfers, bijvoorbeeld 9." in page
    assert referrals() == []


def test_email_only_is_fine_and_the_confirmation_says_we_mail(app) -> None:
    guest = visitor(app)
    response = guest.post(
        "/vraag", data=answers(phone="", email="Fatima@Example.be", whatsapp=None)
    )
    [referral] = referrals()
    assert referral.email == "fatima@example.be" and referral.first_contact == "mailen"
    assert referral.whatsapp is False
    page = guest.get(response.headers["Location"]).get_data(as_text=True)
    assert "We mailen je uiterlijk op" in page


def test_a_request_sent_without_its_session_comes_back_as_typed(app) -> None:
    """The phone's browser was closed between opening the form and sending it (the session
    cookie went with it): nothing is stored, nothing typed is lost, one more tap sends it."""
    guest = visitor(app)
    response = guest.post("/vraag", data=answers(name="Fatima Çelik"), csrf=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Kijk je antwoorden nog eens na en druk op Versturen." in page
    assert 'value="Fatima Çelik"' in page and 'value="0486 11 22 33"' in page
    assert referrals() == []
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    again = guest.post("/vraag", data={**answers(), "csrf_token": fresh}, csrf=False)
    assert again.status_code == 303
    assert len(referrals()) == 1


# Against programs ------------------------------------------------------------------------------


def test_the_honeypot_gets_the_same_answer_and_stores_nothing(app) -> None:
    guest = visitor(app)
    trapped = guest.post("/vraag", data=answers(website="https://spam.example"))
    honest = guest.post("/vraag", data=answers())
    assert trapped.status_code == honest.status_code == 303
    assert trapped.headers["Location"].split("?")[0] == honest.headers["Location"].split("?")[0]
    a = guest.get(trapped.headers["Location"]).get_data(as_text=True)
    b = guest.get(honest.headers["Location"]).get_data(as_text=True)
    # The same page, word for word (the CSRF token in the head is signed with the time).
    assert re.search(r"<main.*</main>", a, re.DOTALL).group(0) == re.search(
        r"<main.*</main>", b, re.DOTALL
    ).group(0)
    assert len(referrals()) == 1  # only the honest one


def test_too_fast_or_a_forged_stamp_keeps_the_input_for_one_more_tap(app) -> None:
    guest = visitor(app)
    for stamp in (opened(seconds_ago=0), opened(key="not-our-key"), "", opened(2 * 86400)):
        response = guest.post("/vraag", data=answers(opened=stamp, name="Fatima"))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "Kijk je antwoorden nog eens na en druk op Versturen." in page
        assert 'value="Fatima"' in page
    assert referrals() == []
    # The page came back with a new stamp: the same answers pass once a person took their time.
    fresh = re.search(r'name="opened" type="hidden" value="([^"]+)"', page).group(1)
    assert fresh != stamp
    assert MIN_SECONDS >= 3
    assert guest.post("/vraag", data=answers(opened=opened(MIN_SECONDS + 1))).status_code == 303
    assert len(referrals()) == 1


def test_the_limit_per_address_refuses_only_that_address(app) -> None:
    from webapp.vraag.public import MAX_PER_ADDRESS

    guest = visitor(app, "203.0.113.5")
    for _ in range(MAX_PER_ADDRESS):
        assert guest.post("/vraag", data=answers()).status_code == 303
    refused = guest.post("/vraag", data=answers(name="Nog iemand"))
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Probeer het over een uur opnieuw" in page and 'value="Nog iemand"' in page
    assert len(referrals()) == MAX_PER_ADDRESS
    # Another address (another family) is not affected.
    assert visitor(app, "203.0.113.6").post("/vraag", data=answers()).status_code == 303
    assert len(referrals()) == MAX_PER_ADDRESS + 1
    kinds = in_db(lambda: [e.kind for e in models.SecurityEvent.select()])
    assert kinds == ["vraag-throttled"]


def test_the_limit_counts_the_visitor_behind_the_proxy(database_url) -> None:
    from webapp import create_app
    from webapp.vraag.public import MAX_PER_ADDRESS

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": False,
            "PROXIES": 1,
        }
    )
    balancer = visitor(app, "10.0.0.1")  # every visitor arrives from the load balancer
    for _ in range(MAX_PER_ADDRESS):
        response = balancer.post(
            "/vraag", data=answers(), headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert response.status_code == 303
    assert (
        balancer.post(
            "/vraag", data=answers(), headers={"X-Forwarded-For": "198.51.100.1"}
        ).status_code
        == 429
    )
    other = balancer.post("/vraag", data=answers(), headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 303


# Languages -------------------------------------------------------------------------------------


def vraag_strings() -> set[str]:
    """Every marked string of /vraag, its confirmation and poster (templates, views, forms)."""
    wanted: set[str] = set()
    for source in (ROOT / "templates" / "vraag").glob("*.html"):
        if source.name.startswith("hours"):
            continue  # the coordinator's screens: Dutch and English
        wanted |= set(re.findall(r"_\('([^']+)'", source.read_text()))
    for name in ("public.py", "forms.py"):
        source = ROOT / "webapp" / "vraag" / name
        for _line, message, _comments, _context in extract_from_file(
            "python", str(source), keywords={"_": None, "_l": None}
        ):
            wanted.add(message)
    walk_in_form = ROOT / "webapp" / "vraag" / "forms.py"
    text = walk_in_form.read_text().split("class WalkInHoursForm")[1]
    wanted -= set(re.findall(r'_l\(\s*"([^"]+)"', text))  # the coordinator's form
    wanted -= {"Kies een uur tussen 7 en 22 uur."}
    wanted |= {str(v._args[0]) for v in models.CALL_MOMENTS.values()}
    wanted -= {"Zelf gevraagd via /vraag: %(who)s, %(age)s jaar. Best bellen: %(moment)s."}
    # Shared strings the page shows: the error summary, the validators, the map link.
    wanted |= {
        "Controleer de velden met een fout.",
        "Maximaal %(max)d tekens.",
        "Dit is geen e-mailadres.",
        "Een telefoonnummer heeft alleen cijfers, spaties en +.",
        "op de kaart",
    }
    return wanted


def test_every_string_of_the_front_door_is_translated() -> None:
    wanted = vraag_strings()
    assert "Ik zoek iets om te doen" in wanted and "Wanneer bellen we je best?" in wanted
    for language in list(CLIENT_LANGUAGES)[1:]:
        po = ROOT / "webapp" / "translations" / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(po.open("rb"))
        missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
        assert missing == [], (language, missing)


def test_every_language_renders_with_nothing_dutch_left(app) -> None:
    make_hours(note="niet in de schoolvakanties")
    guest = visitor(app)
    dutch = guest.get("/vraag?lang=nl").get_data(as_text=True)
    dutch += guest.post("/vraag?lang=nl", data=answers(name="", consent=None)).get_data(
        as_text=True
    )
    shown = set()
    for message in vraag_strings():
        for part in re.split(r"%\(\w+\)s", message):
            if len(part.strip(" .,:?!…")) >= 4 and part in dutch:
                shown.add(part)
    assert "Ik zoek iets om te doen" in shown and "Vul je naam in." in shown
    same_words = {}
    for language in list(CLIENT_LANGUAGES)[1:]:
        po = ROOT / "webapp" / "translations" / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(po.open("rb"))
        same_words[language] = {m.id for m in catalog if m.id and m.string == m.id}
    # Proper names (the place, its address) and what a coordinator typed (lang="nl") stay.
    for language in list(CLIENT_LANGUAGES)[1:]:
        pages = [
            guest.get(f"/vraag?lang={language}").get_data(as_text=True),
            guest.post(f"/vraag?lang={language}", data=answers(name="", consent=None)).get_data(
                as_text=True
            ),
        ]
        received = guest.post(f"/vraag?lang={language}", data=answers())
        pages.append(guest.get(received.headers["Location"]).get_data(as_text=True))
        for body in pages:
            assert f'<html lang="{language}"' in body
            assert ('dir="rtl"' in body) == (language == "ar")
            visible = re.sub(r'<bdi lang="nl">.*?</bdi>|<[^>]+>', " ", body)
            # A word that is the same in both languages ("sport") is not left behind.
            left = sorted(w for w in shown if w in visible and w not in same_words[language])
            assert left == [], (language, left)


# Intake ----------------------------------------------------------------------------------------


def test_the_coordinator_finds_it_in_intake_and_accepts_it(client, coordinator, mediator) -> None:
    response = visitor(client.application).post("/vraag", data=answers())
    assert response.status_code == 303
    [referral] = referrals()
    client.login(coordinator)
    listed = client.get("/referrals/").get_data(as_text=True)
    assert "Fatima El Amrani" in listed and "zelf gevraagd via /vraag" in listed
    assert "/vraag/permanenties/" in listed  # the way to the hours and the poster
    shown = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "voor een kind" in shown and "9 jaar" in shown and "'s namiddags (14–17 uur)" in shown
    assert "Doorverwijzer</h2>" not in shown
    accepted = client.post(
        f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": "new"}
    )
    assert accepted.status_code == 303
    referral = in_db(lambda: models.Referral.get_by_id(referral.id))
    case = in_db(lambda: models.Case.get_by_id(referral.case_id))
    assert case.source == "zelf" and case.mediator_id == mediator.id
    person = in_db(lambda: models.Client.get_by_id(case.client_id))
    assert (person.first_name, person.phone, person.language) == (
        "Fatima El Amrani",
        "0486 11 22 33",
        "ar",
    )
    tasks = in_db(lambda: [t.text for t in models.Task.select().where(models.Task.case == case)])
    assert tasks == ["Eerste contact: bellen"]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Zelf gevraagd via /vraag op" in page
    shown = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "mailto:" not in shown.split("referral-decision")[1].split("</div>")[0]


def test_a_known_phone_number_is_offered_as_the_same_person(client, coordinator) -> None:
    known = make_client(first_name="Fatima", last_name="El Amrani", phone="+32 486 11 22 33")
    visitor(client.application).post("/vraag", data=answers())
    [referral] = referrals()
    client.login(coordinator)
    shown = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Er is al een cliënt met dit telefoonnummer." in shown
    assert f'value="{known.id}"' in shown


def test_a_declined_request_has_no_mail_to_a_referrer(client, coordinator) -> None:
    visitor(client.application).post("/vraag", data=answers())
    [referral] = referrals()
    client.login(coordinator)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Bel of mail de persoon om het uit te leggen." in page
    response = client.post(f"/referrals/{referral.id}/decline", data={"reason": "Buiten Antwerpen"})
    assert response.status_code == 303
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Buiten Antwerpen" in page and "Laat de doorverwijzer het weten" not in page


# Walk-in hours and the poster ------------------------------------------------------------------


def hours_form(**overrides) -> dict:
    data = {
        "place": "OCMW sociaal centrum Kiel",
        "address": "Abdijstraat 154, 2020 Antwerpen",
        "weekday": "2",
        "starts": "13:00",
        "ends": "16:00",
        "note": "",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_coordinator_adds_changes_and_removes_walk_in_hours(client, coordinator, app) -> None:
    client.login(coordinator)
    new = client.get("/vraag/permanenties/nieuw")
    assert new.status_code == 200 and new.mimetype == "text/html"
    assert client.post("/vraag/permanenties/", data=hours_form()).status_code == 303
    [hours] = in_db(lambda: list(models.WalkInHours.select()))
    listed = client.get("/vraag/permanenties/").get_data(as_text=True)
    assert "dinsdag 13:00–16:00 · OCMW sociaal centrum Kiel" in listed
    page = visitor(app).get("/vraag").get_data(as_text=True)
    assert "dinsdag 13:00–16:00" in page
    osm = "https://www.openstreetmap.org/search?query="
    assert osm + "Abdijstraat%20154%2C%202020%20Antwerpen" in page
    arabic = visitor(app).get("/vraag?lang=ar").get_data(as_text=True)
    assert "الثلاثاء" in arabic  # Tuesday, in the page's language

    edit = client.get(f"/vraag/permanenties/{hours.id}/bewerken").get_data(as_text=True)
    assert 'value="Abdijstraat 154, 2020 Antwerpen"' in edit
    response = client.post(
        f"/vraag/permanenties/{hours.id}", data=hours_form(active=None, weekday="4", version="1")
    )
    assert response.status_code == 303
    assert "OCMW sociaal centrum Kiel" not in visitor(app).get("/vraag").get_data(as_text=True)
    assert "niet getoond" in client.get("/vraag/permanenties/").get_data(as_text=True)

    assert client.post(f"/vraag/permanenties/{hours.id}/verwijderen").status_code == 303
    assert in_db(lambda: models.WalkInHours.select().count()) == 0


def test_a_stale_edit_of_walk_in_hours_shows_what_differs_and_keeps_the_input(
    client, coordinator
) -> None:
    client.login(coordinator)
    client.post("/vraag/permanenties/", data=hours_form())
    hours = in_db(models.WalkInHours.get)
    # A colleague moves the hours to Thursday while this coordinator's form (version 1) is open.
    moved = client.post(
        f"/vraag/permanenties/{hours.id}", data=hours_form(weekday="4", version="1")
    )
    assert moved.status_code == 303
    stale = client.post(
        f"/vraag/permanenties/{hours.id}", data=hours_form(place="Sociaal Huis Kiel", version="1")
    )
    assert stale.status_code == 409
    assert stale.mimetype == "text/html"
    page = stale.get_data(as_text=True)
    assert "Iemand anders bewaarde deze permanentie terwijl jij ze aanpaste." in page
    assert 'value="Sociaal Huis Kiel"' in page  # this coordinator's input is kept
    assert "donderdag" in page  # what is stored now, next to it
    assert (
        in_db(lambda: models.WalkInHours.get_by_id(hours.id).place) == "OCMW sociaal centrum Kiel"
    )
    # "Toch mijn versie bewaren": the form now carries the stored version.
    assert 'name="version" type="hidden" value="2"' in page
    kept = client.post(
        f"/vraag/permanenties/{hours.id}", data=hours_form(place="Sociaal Huis Kiel", version="2")
    )
    assert kept.status_code == 303
    assert in_db(lambda: models.WalkInHours.get_by_id(hours.id).place) == "Sociaal Huis Kiel"


def test_walk_in_hours_form_refuses_bad_input_in_plain_dutch(client, coordinator) -> None:
    client.login(coordinator)
    bad = hours_form(place="", address="x" * 161, weekday="9", starts="25:00", ends="")
    response = client.post("/vraag/permanenties/", data=bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Vul de plaats in." in page and "Maximaal 160 tekens." in page
    assert "Vul het einduur in." in page
    for field in ("place", "address", "weekday", "starts", "ends"):
        assert f'id="{field}-error"' in page, field
    page = client.post(
        "/vraag/permanenties/", data=hours_form(starts="16:00", ends="13:00")
    ).get_data(as_text=True)
    assert "Het einduur komt na het beginuur." in page
    page = client.post(
        "/vraag/permanenties/", data=hours_form(starts="05:00", ends="06:00")
    ).get_data(as_text=True)
    assert "Kies een uur tussen 7 en 22 uur." in page
    assert in_db(lambda: models.WalkInHours.select().count()) == 0


HOURS_URLS = [
    ("GET", "/vraag/permanenties/"),
    ("GET", "/vraag/permanenties/nieuw"),
    ("POST", "/vraag/permanenties/"),
    ("GET", "/vraag/permanenties/{id}/bewerken"),
    ("POST", "/vraag/permanenties/{id}"),
    ("POST", "/vraag/permanenties/{id}/verwijderen"),
]


@pytest.mark.parametrize(("method", "url"), HOURS_URLS)
def test_mediators_cannot_manage_walk_in_hours(client, mediator, method, url) -> None:
    hours = make_hours()
    client.login(mediator)
    response = client.open(url.format(id=hours.id), method=method, data=hours_form(place="X"))
    assert response.status_code == 403
    assert in_db(lambda: models.WalkInHours.get_by_id(hours.id).place) != "X"


@pytest.mark.parametrize(("method", "url"), HOURS_URLS)
def test_walk_in_hours_need_a_login(app, method, url) -> None:
    hours = make_hours()
    response = visitor(app).open(url.format(id=hours.id), method=method, data=hours_form())
    assert response.status_code in (302, 303, 401)
    assert in_db(lambda: models.WalkInHours.select().count()) == 1


def test_wrong_walk_in_hours_ids_are_not_found(client, coordinator) -> None:
    client.login(coordinator)
    assert client.get("/vraag/permanenties/999/bewerken").status_code == 404
    assert client.post("/vraag/permanenties/999", data=hours_form()).status_code == 404
    assert client.post("/vraag/permanenties/999/verwijderen").status_code == 404


def test_the_poster_holds_the_qr_code_of_the_public_address_every_language_and_the_hours(
    app,
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://vrijbaan.example.be"
    make_hours()
    page = visitor(app).get("/vraag/affiche").get_data(as_text=True)
    assert "<svg" in page and 'class="qr"' in page
    assert "https://vrijbaan.example.be/vraag" in page
    for code in CLIENT_LANGUAGES:
        assert f'<li lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in page
    assert "dinsdag 13:00–16:00" in page and "Abdijstraat 154" in page
    assert "openstreetmap" not in page  # paper gets the address, not a link
    import segno  # the code on the page is the one of exactly the public address

    expected = segno.make("https://vrijbaan.example.be/vraag", error="m").svg_inline(
        scale=4, border=2, omitsize=True
    )
    path = re.search(r' d="([^"]+)"', expected).group(1)
    assert f' d="{path}"' in page


def test_the_page_runs_a_fixed_number_of_queries(app) -> None:
    guest = visitor(app)
    make_hours()
    with count_queries() as few:
        guest.get("/vraag")
    for day in range(1, 8):
        make_hours(weekday=day, place=f"Plaats {day}")
    with count_queries() as many:
        guest.get("/vraag")
    assert len(few) == len(many)


def test_a_request_never_accepted_is_erased_after_its_term_e_mail_included(app) -> None:
    from webapp.models import apply_retention
    from webapp.timeutil import utcnow

    visitor(app).post("/vraag", data=answers(email="fatima@example.be"))
    with database.connection_context():
        models.Referral.update(submitted_at=utcnow() - dt.timedelta(days=200)).execute()
    in_db(apply_retention)
    [referral] = referrals()
    assert referral.first_name != "Fatima El Amrani" and referral.referrer_name == ""
    assert (referral.phone, referral.email, referral.question) == ("", None, "")
