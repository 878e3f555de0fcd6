"""The place and the person, one tap away: the client's address as a map link, the phone as
tap-to-call in international form, the language and whether an interpreter is needed — on the
case page and Vandaag; the activity's place as a map link wherever it is shown; the referral
form asks the address for a home visit and accepting carries it into the client. Sharing a link
uses the phone on file and each link keeps its own share panel."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import quote, unquote

import pytest

from tests.conftest import HTMX, in_db, make_case, make_client
from tests.test_activities import enrol, make_activity
from tests.test_links import URL_RE
from tests.test_referrals import form_data, make_organisation, make_referral
from webapp import models
from webapp.models import international_phone
from webapp.timeutil import utcnow

OSM = "https://www.openstreetmap.org/search?query="


def map_links(page: str) -> list[str]:
    """The places a page links to on the map, as a person reads them."""
    hrefs = re.findall(
        r'<a class="[^"]*map-link[^"]*" href="([^"]+)" rel="noopener noreferrer"', page
    )
    return [unquote(unescape(h).removeprefix(OSM)) for h in hrefs if unescape(h).startswith(OSM)]


@pytest.mark.parametrize(
    ("typed", "dialled"),
    [
        ("0486 11 22 33", "+32486112233"),
        ("0486/11.22.33", "+32486112233"),
        ("03 123 45 67", "+3231234567"),
        ("+32 486 11 22 33", "+32486112233"),
        ("0032 486 11 22 33", "+32486112233"),
        ("+31 6 12345678", "+31612345678"),
        ("0049 30 1234567", "+49301234567"),
        ("486 11 22 33", "486112233"),  # unknown form: the digits as typed
        ("112", "112"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_phone_numbers_in_international_form(typed: str, dialled: str) -> None:
    assert international_phone(typed) == dialled


@pytest.fixture
def amina(mediator: models.User) -> models.Case:
    client = make_client(street="Turnhoutsebaan 12", postcode="2140", language="ar")
    return make_case(mediator, client)


def test_the_case_page_shows_where_and_how_to_reach_the_client(client, mediator, amina) -> None:
    client.login(mediator)
    page = client.get(f"/cases/{amina.id}").get_data(as_text=True)
    assert 'href="tel:+32486112233"' in page and "0486 11 22 33" in page
    assert map_links(page) == ["Turnhoutsebaan 12, 2140 Antwerpen"]
    assert "العربية" in page and "tolk nodig" not in page


def test_the_interpreter_is_set_in_the_client_form_and_shown(client, mediator, amina) -> None:
    client.login(mediator)
    form = client.get(f"/cases/{amina.id}/client").get_data(as_text=True)
    assert 'name="needs_interpreter"' in form and "Tolk nodig" in form
    data = {
        "version": "1",
        "first_name": "Amina",
        "last_name": "Bouzid",
        "birth_date": "2012-03-14",
        "phone": "0486 11 22 33",
        "street": "Turnhoutsebaan 12",
        "postcode": "2140",
        "district": "Borgerhout",
        "language": "ar",
        "card_type": "",
        "needs_interpreter": "y",
    }
    assert client.post(f"/cases/{amina.id}/client", data=data).status_code == 303
    assert in_db(lambda: models.Client.get_by_id(amina.client_id).needs_interpreter) is True
    page = client.get(f"/cases/{amina.id}").get_data(as_text=True)
    assert "tolk nodig" in page
    timeline = in_db(
        lambda: [
            e.detail
            for e in models.CaseEvent.select().where(models.CaseEvent.kind == "client_updated")
        ]
    )
    assert timeline == ["tolk nodig"]  # the only field that changed


def test_an_older_client_row_without_the_interpreter_answer_reads_as_no(
    client, mediator, amina
) -> None:
    in_db(
        lambda: (
            models.Client.update(needs_interpreter=None)
            .where(models.Client.id == amina.client_id)
            .execute()
        )
    )
    client.login(mediator)
    assert "tolk nodig" not in client.get(f"/cases/{amina.id}").get_data(as_text=True)
    form = client.get(f"/cases/{amina.id}/client").get_data(as_text=True)
    assert (
        'name="needs_interpreter"' in form
        and "checked" not in form.split('name="needs_interpreter"')[0][-80:]
    )


def plan(case: models.Case, mediator: models.User, kind: str, hours: int, place: str = ""):
    return in_db(
        lambda: models.Visit.create(
            case=case,
            mediator=mediator,
            contact_type=kind,
            occurred_at=utcnow() + dt.timedelta(hours=hours),
            planned=True,
            place=place,
            idempotency_key=f"plan-{kind}-{hours}",
        )
    )


@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx"])
def test_vandaag_shows_the_home_visit_address_phone_and_language(
    client, mediator, amina, fragment
) -> None:
    in_db(
        lambda: (
            models.Client.update(needs_interpreter=True)
            .where(models.Client.id == amina.client_id)
            .execute()
        )
    )
    plan(amina, mediator, "huisbezoek", 2, place="Bij de cliënt thuis")
    other = make_case(
        mediator,
        make_client(
            first_name="Kasia", last_name="Nowak", street="Kiel 3", language="nl", phone=""
        ),
    )
    plan(other, mediator, "telefonisch", 3)
    client.login(mediator)
    response = client.get("/", headers=HTMX if fragment else {})
    page = response.get_data(as_text=True)
    assert ("<html" in page) is not fragment
    # The home visit: the street to go to, not "Bij de cliënt thuis"; the phone to call ahead.
    assert map_links(page) == ["Turnhoutsebaan 12, 2140 Antwerpen"]
    assert "Bij de cliënt thuis" not in page
    assert 'href="tel:+32486112233"' in page
    assert "العربية" in page and "tolk nodig" in page
    # A phone call needs no address; a client without a phone has no call link.
    assert "Kiel 3" not in page and page.count('href="tel:') == 1


def test_the_activity_place_is_a_map_link_wherever_it_is_shown(client, mediator, amina) -> None:
    activity = make_activity()
    enrolment = enrol(amina, activity, mediator)
    place = "Te Boelaerlei 20, 2140 Antwerpen"
    client.login(mediator)
    for url in (
        f"/activities/{activity.id}",
        f"/activities/cases/{amina.id}/enrol/{activity.id}",
    ):
        assert map_links(client.get(url).get_data(as_text=True)) == [place], url
    case_page = client.get(f"/cases/{amina.id}").get_data(as_text=True)
    assert place in map_links(case_page)
    # Today's session on Vandaag.
    first = in_db(
        lambda: models.Session.select().where(models.Session.enrolment == enrolment).first()
    )
    in_db(
        lambda: (
            models.Session.update(starts_at=utcnow() + dt.timedelta(hours=1))
            .where(models.Session.id == first.id)
            .execute()
        )
    )
    assert map_links(client.get("/").get_data(as_text=True)) == [place]
    # The client's own page.
    response = client.post(f"/activities/cases/{amina.id}/client-link")
    portal = client.get(
        "/" + URL_RE.search(response.get_data(as_text=True)).group(1).split("/", 3)[3]
    )
    assert map_links(portal.get_data(as_text=True)) == [place]


# The referral form: where to go for a home visit -----------------------------------------------


@pytest.fixture
def token(app) -> str:
    from tests.test_referrals import issue_link

    return issue_link(make_organisation())


def test_a_home_visit_referral_needs_the_address(client, token) -> None:
    response = client.post(f"/r/{token}", data=form_data(street="", postcode=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Vul het adres in: waar gaan we op huisbezoek?" in page
    assert "Vul de postcode in." in page
    assert 'value="Yusuf"' in page  # the rest is kept
    assert in_db(lambda: models.Referral.select().count()) == 0
    bad = client.post(f"/r/{token}", data=form_data(postcode="21000"))
    assert bad.status_code == 422 and "Een postcode heeft 4 cijfers." in bad.get_data(as_text=True)


def test_a_referral_without_home_visit_needs_no_address(client, token) -> None:
    data = form_data(first_contact="permanentie", street="", postcode="")
    assert client.post(f"/r/{token}", data=data).status_code == 303
    stored = in_db(models.Referral.get)
    assert (stored.street, stored.postcode, stored.address) == ("", "", "")


def test_the_address_travels_from_the_referral_into_the_new_client(
    client, token, coordinator, mediator
) -> None:
    assert client.post(f"/r/{token}", data=form_data()).status_code == 303
    referral = in_db(models.Referral.get)
    assert (referral.street, referral.postcode) == ("Herentalsebaan 120", "2100")
    client.login(coordinator)
    shown = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert map_links(shown) == ["Herentalsebaan 120, 2100 Antwerpen"]
    assert 'href="tel:+32477123456"' in shown
    client.post(f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": "new"})
    new = in_db(lambda: models.Client.get(models.Client.first_name == "Yusuf"))
    assert (new.street, new.postcode, new.address) == (
        "Herentalsebaan 120",
        "2100",
        "Herentalsebaan 120, 2100 Antwerpen",
    )


def test_accepting_for_a_known_client_fills_a_missing_address_only(
    client, coordinator, mediator
) -> None:
    organisation = make_organisation()
    known = make_client(
        first_name="Yusuf", last_name="Demir", birth_date=dt.date(2013, 5, 2), street=""
    )
    moved = make_client(
        first_name="Yusuf", last_name="Demir", birth_date=dt.date(2013, 5, 2), street="Kiel 3"
    )
    for person in (known, moved):
        referral = make_referral(organisation, street="Herentalsebaan 120", postcode="2100")
        client.login(coordinator)
        client.post(
            f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": person.id}
        )
    assert in_db(lambda: models.Client.get_by_id(known.id).street) == "Herentalsebaan 120"
    assert in_db(lambda: models.Client.get_by_id(moved.id).street) == "Kiel 3"


# Sharing a link: to the number on file, each link in its own panel ------------------------------


def share_links(body: str) -> tuple[str, str]:
    sms = unescape(re.search(r'href="(sms:[^"]+)"', body).group(1))
    whatsapp = unescape(re.search(r'href="(https://wa\.me/[^"]+)"', body).group(1))
    return sms, whatsapp


@pytest.mark.parametrize(
    ("phone", "sms_to", "whatsapp_to"),
    [
        ("0486 11 22 33", "sms:+32486112233?body=", "https://wa.me/32486112233?text="),
        ("+31 6 12345678", "sms:+31612345678?body=", "https://wa.me/31612345678?text="),
        ("486 11 22 33", "sms:486112233?body=", "https://wa.me/?text="),
        ("", "sms:?body=", "https://wa.me/?text="),
    ],
)
def test_the_client_link_is_sent_to_the_clients_phone(
    client, mediator, phone, sms_to, whatsapp_to
) -> None:
    case = make_case(mediator, make_client(phone=phone))
    client.login(mediator)
    body = client.post(f"/activities/cases/{case.id}/client-link").get_data(as_text=True)
    sms, whatsapp = share_links(body)
    token = URL_RE.search(body).group(1).rsplit("/", 1)[1]
    assert sms.startswith(sms_to) and token in unquote(sms)
    assert whatsapp.startswith(whatsapp_to) and token in unquote(whatsapp)
    assert (f"Sms en WhatsApp gaan naar {phone}." in body) is bool(phone)


def test_the_provider_link_is_sent_to_the_providers_phone(client, mediator, amina) -> None:
    activity = make_activity()
    in_db(lambda: models.Provider.update(phone="03 288 11 22").execute())
    enrolment = enrol(amina, activity, mediator)
    client.login(mediator)
    url = f"/activities/cases/{amina.id}/enrolments/{enrolment.id}/provider-link"
    sms, whatsapp = share_links(client.post(url).get_data(as_text=True))
    assert sms.startswith("sms:+3232881122?body=")
    assert whatsapp.startswith("https://wa.me/3232881122?text=")
    assert quote("Amina B.") in sms


def test_each_link_keeps_its_own_share_panel(client, mediator, amina) -> None:
    enrolment = enrol(amina, make_activity(), mediator)
    client.login(mediator)
    mine = client.post(f"/activities/cases/{amina.id}/client-link", headers=HTMX)
    theirs = client.post(
        f"/activities/cases/{amina.id}/enrolments/{enrolment.id}/provider-link", headers=HTMX
    )
    mine_body, theirs_body = mine.get_data(as_text=True), theirs.get_data(as_text=True)
    # Each answer is its own card with its own panel: the provider's never replaces the client's.
    assert mine_body.startswith('<div class="card link-box" id="client-link"')
    assert theirs_body.startswith(f'<article class="card enrolment" id="enrolment-{enrolment.id}"')
    assert 'id="share-box-client"' in mine_body and "share-box-client" not in theirs_body
    assert f'id="share-box-enrolment-{enrolment.id}"' in theirs_body
    assert 'id="client-link"' not in theirs_body
    # The buttons ask for their own card, not the whole offer section.
    page = client.get(f"/cases/{amina.id}").get_data(as_text=True)
    assert 'hx-target="#client-link"' in page
    assert f'hx-target="#enrolment-{enrolment.id}"' in page
    assert 'hx-target="#case-offer"' not in page
    # Revoking answers with the same card, its panel gone.
    revoked = client.post(f"/activities/cases/{amina.id}/client-link/revoke", headers=HTMX)
    body = revoked.get_data(as_text=True)
    assert (
        body.startswith('<div class="card link-box" id="client-link"') and "share-box" not in body
    )
