"""The front door: organisations and their form link, the public referral form, intake."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from urllib.parse import unquote

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_client, make_user
from webapp import models
from webapp.cases.sections import case_threshold_context
from webapp.links import MAX_FAILED_LOOKUPS
from webapp.models import database
from webapp.timeutil import utcnow
from webapp.today import today_referral_context


def make_organisation(**fields) -> models.ReferringOrganisation:
    values = {"name": "CAW Antwerpen", "kind": "caw", "email": "onthaal@caw.test"}
    values.update(fields)
    with database.connection_context():
        return models.ReferringOrganisation.create(**values)


def issue_link(organisation, by=None) -> str:
    with database.connection_context():
        _link, token = models.AccessLink.issue(
            "referral", valid_for=dt.timedelta(days=365), created_by=by, organisation=organisation
        )
    return token


def form_data(**overrides) -> dict:
    data = {
        "referrer_name": "Lies Verbruggen",
        "referrer_role": "maatschappelijk werker",
        "referrer_email": "Lies.Verbruggen@caw.test",
        "referrer_phone": "03 123 45 67",
        "first_name": "Yusuf",
        "last_name": "Demir",
        "birth_date": "2013-05-02",
        "phone": "0477 12 34 56",
        "language": "tr",
        "district": "Deurne",
        "household": "mama en drie kinderen (6, 9 en 12)",
        "domains": ["sport"],
        "interests": "voetbal",
        "question": "Yusuf wil graag bij een voetbalclub.",
        "known_thresholds": ["financieel", "taal"],
        "first_contact": "huisbezoek",
        "street": "Herentalsebaan 120",
        "postcode": "2100",
        "consent": "y",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


@pytest.fixture
def organisation(app):
    return make_organisation()


@pytest.fixture
def token(organisation):
    return issue_link(organisation)


def make_referral(organisation, **fields) -> models.Referral:
    values = {
        "idempotency_key": str(uuid.uuid4()),
        "referrer_name": "Lies Verbruggen",
        "referrer_email": "lies@caw.test",
        "first_name": "Yusuf",
        "last_name": "Demir",
        "birth_date": dt.date(2013, 5, 2),
        "district": "Deurne",
        "domains": "sport",
        "question": "Zoekt een voetbalclub",
        "known_thresholds": "financieel,taal",
        "first_contact": "huisbezoek",
        "consent_text": "akkoord",
    }
    values.update(fields)
    with database.connection_context():
        return models.Referral.submit(organisation, **values)


# The public form -------------------------------------------------------------------------------


def test_form_opens_anonymously_with_private_headers(client, token) -> None:
    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "CAW Antwerpen" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert re.search(r"<title>Doorverwijzen · Vrijbaan</title>", page)
    assert 'name="csrf_token"' in page and 'name="idempotency_key"' in page
    # The exact consent statement is on the page, next to its box.
    assert "gaat ermee akkoord" in page


def test_opening_the_form_changes_nothing(client, token) -> None:
    client.get(f"/r/{token}")
    assert in_db(lambda: models.AccessLink.get().last_used_at) is None
    assert in_db(lambda: models.Referral.select().count()) == 0


def test_unknown_token_is_404_and_failed_lookups_are_limited(client, app) -> None:
    assert client.get("/r/not-a-token").status_code == 404
    for _ in range(MAX_FAILED_LOOKUPS - 1):
        client.get("/r/still-not-a-token")
    response = client.get("/r/another-guess")
    assert response.status_code == 429
    assert "Even geduld" in response.get_data(as_text=True)


def test_referral_pages_are_private_like_every_link_page(client, token) -> None:
    for url in (f"/r/{token}", f"/r/{token}/opvolging", "/r/unknown-token-123"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"  # the token stays here
        assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_referral_sent_without_its_session_comes_back_as_typed(client, token) -> None:
    """The browser was closed between opening the form and sending it (its session cookie
    went with it): nothing is stored, nothing typed is lost, and one more tap sends it."""
    response = client.post(f"/r/{token}", data=form_data(), csrf=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "nog niet verstuurd: de pagina stond te lang open" in page
    assert 'value="Yusuf"' in page and "mama en drie kinderen (6, 9 en 12)" in page
    assert in_db(lambda: models.Referral.select().count()) == 0
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    again = client.post(f"/r/{token}", data={**form_data(), "csrf_token": fresh}, csrf=False)
    assert again.status_code == 303
    assert in_db(lambda: models.Referral.select().count()) == 1
    assert (
        in_db(
            lambda: models.SecurityEvent.select().where(models.SecurityEvent.kind == "csrf").count()
        )
        == 1
    )


def test_a_stale_form_on_an_unknown_link_is_still_not_found(client) -> None:
    response = client.post("/r/unknown-token-123", data=form_data(), csrf=False)
    assert response.status_code == 404
    assert "Yusuf" not in response.get_data(as_text=True)


def test_revoked_or_expired_link_is_410(client, organisation, token) -> None:
    new_token = issue_link(organisation)  # issuing a new link revokes the old one
    response = client.get(f"/r/{token}")
    assert response.status_code == 410
    assert "werkt niet meer" in response.get_data(as_text=True)
    assert client.get(f"/r/{new_token}").status_code == 200
    in_db(lambda: models.AccessLink.update(expires_at=utcnow() - dt.timedelta(days=1)).execute())
    assert client.get(f"/r/{new_token}").status_code == 410
    assert client.post(f"/r/{new_token}", data=form_data()).status_code == 410


def test_empty_form_shows_errors_next_to_fields(client, token) -> None:
    response = client.post(f"/r/{token}", data={"idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in (
        "Vul je naam in.",
        "Vul je e-mailadres in.",
        "Vul de voornaam in.",
        "Vul de familienaam in.",
        "Vul de geboortedatum in.",
        "Beschrijf kort de vraag.",
        "Kies hoe we de persoon het best eerst ontmoeten.",
        "Zonder akkoord van de persoon kunnen we niet verder.",
    ):
        assert message in page
    assert 'id="first_name-error"' in page and 'aria-invalid="true"' in page
    assert in_db(lambda: models.Referral.select().count()) == 0


def test_invalid_input_is_kept(client, token) -> None:
    data = form_data(referrer_email="geen-adres", birth_date="2099-01-01", consent="")
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Dit is geen e-mailadres." in page
    assert "Deze datum ligt in de toekomst." in page
    assert 'value="Yusuf"' in page and "Yusuf wil graag bij een voetbalclub." in page
    assert 'value="geen-adres"' in page
    assert data["idempotency_key"] in page  # the same key stays, so a retry is still one referral


def test_submit_stores_once_and_confirms_with_reference_only(client, token, organisation) -> None:
    data = form_data()
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 303
    confirmation = client.get(response.headers["Location"])
    page = confirmation.get_data(as_text=True)
    referral = in_db(models.Referral.get)
    assert re.fullmatch(r"VB-\d{4}-\d{4}", referral.reference)
    assert referral.reference in page
    assert "Yusuf" not in page and "Demir" not in page and "voetbal" not in page
    assert confirmation.headers["Cache-Control"] == "no-store"
    # Reloading the confirmation still shows no data.
    assert "Yusuf" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert referral.referrer_email == "lies.verbruggen@caw.test"
    assert referral.known_thresholds == "financieel,taal"
    assert referral.domains == "sport"
    assert referral.birth_date == dt.date(2013, 5, 2)
    assert "gaat ermee akkoord" in referral.consent_text
    assert referral.organisation_id == organisation.id
    assert in_db(lambda: models.AccessLink.get().last_used_at) is not None
    audit = in_db(lambda: models.AuditEvent.get(models.AuditEvent.object_type == "referral"))
    assert audit.action == "create" and audit.link is not None


def test_double_submit_is_one_referral_with_the_same_confirmation(client, token) -> None:
    data = form_data()
    first = client.post(f"/r/{token}", data=data)
    second = client.post(f"/r/{token}", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert in_db(lambda: models.Referral.select().count()) == 1


def test_post_without_csrf_token_is_refused(client, token) -> None:
    response = client.post(f"/r/{token}", data=form_data(), csrf=False)
    assert response.status_code == 400
    assert in_db(lambda: models.Referral.select().count()) == 0


def test_confirmation_of_another_organisation_is_not_found(client, token) -> None:
    other = make_organisation(name="Atlas", kind="atlas")
    referral = make_referral(other)
    assert client.get(f"/r/{token}/ontvangen/{referral.reference}").status_code == 404


# Organisations and their links -------------------------------------------------------------------


def test_coordinator_adds_an_organisation_and_makes_its_link(client, coordinator) -> None:
    client.login(coordinator)
    response = client.post(
        "/referrals/organisations",
        data={"name": "Huis van het Kind Borgerhout", "kind": "huis_van_het_kind", "email": ""},
    )
    assert response.status_code == 303
    org = in_db(models.ReferringOrganisation.get)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Er is geen werkende link." in page
    made = client.post(f"/referrals/organisations/{org.id}/link", headers=HTMX)
    assert made.status_code == 200
    fragment = made.get_data(as_text=True)
    assert "<html" not in fragment
    url = re.search(r'value="(http[^"]+/r/[^"]+)"', fragment).group(1)
    token = url.rsplit("/", 1)[1]
    assert in_db(lambda: models.AccessLink.get().token_hash) == models.token_hash(token)
    assert token not in client.get(f"/referrals/organisations/{org.id}").get_data(as_text=True)
    assert client.get(f"/r/{token}").status_code == 200
    client.post(f"/referrals/organisations/{org.id}/link/revoke")
    assert client.get(f"/r/{token}").status_code == 410


def test_organisation_form_validates(client, coordinator) -> None:
    client.login(coordinator)
    response = client.post("/referrals/organisations", data={"name": "", "email": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Vul de naam in." in page and "Dit is geen e-mailadres." in page


def test_archived_organisation_form_stops_working(client, coordinator, organisation, token) -> None:
    client.login(coordinator)
    response = client.post(
        f"/referrals/organisations/{organisation.id}",
        data={"name": organisation.name, "kind": "caw", "archived": "y", "version": "1"},
    )
    assert response.status_code == 200
    assert client.get(f"/r/{token}").status_code == 410


# Intake -----------------------------------------------------------------------------------------


COORDINATOR_URLS = [
    ("GET", "/referrals/"),
    ("GET", "/referrals/organisations"),
    ("GET", "/referrals/{rid}"),
    ("POST", "/referrals/{rid}/accept"),
    ("POST", "/referrals/{rid}/decline"),
    ("GET", "/referrals/organisations/{oid}"),
    ("POST", "/referrals/organisations/{oid}/link"),
]


@pytest.mark.parametrize(("method", "url"), COORDINATOR_URLS)
def test_intake_is_for_coordinators_only(client, mediator, organisation, method, url) -> None:
    referral = make_referral(organisation)
    client.login(mediator)
    response = client.open(url.format(rid=referral.id, oid=organisation.id), method=method)
    assert response.status_code == 403
    assert in_db(lambda: models.Referral.get().status) == "new"


def test_wrong_ids_are_not_found(client, coordinator) -> None:
    client.login(coordinator)
    assert client.get("/referrals/999").status_code == 404
    assert client.post("/referrals/999/accept").status_code == 404
    assert client.get("/referrals/organisations/999").status_code == 404


def test_waiting_referrals_are_listed_for_the_coordinator(client, coordinator, organisation):
    make_referral(organisation)
    client.login(coordinator)
    page = client.get("/referrals/").get_data(as_text=True)
    assert "Yusuf Demir" in page and "CAW Antwerpen" in page
    context = in_db(lambda: today_referral_context(coordinator))
    assert [r.first_name for r in context["waiting_referrals"]] == ["Yusuf"]
    assert (
        in_db(lambda: today_referral_context(make_user("m@x.test", "M")))["waiting_referrals"] == []
    )


def test_accept_opens_a_case_for_a_new_client(client, coordinator, mediator, organisation):
    referral = make_referral(organisation)
    client.login(coordinator)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Nieuwe cliënt aanmaken" in page and "al een cliënt" not in page
    response = client.post(
        f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": "new"}
    )
    assert response.status_code == 303
    referral = in_db(lambda: models.Referral.get_by_id(referral.id))
    assert referral.status == "accepted" and referral.handled_by_id == coordinator.id
    case = in_db(lambda: models.Case.get_by_id(referral.case_id))
    # "Aanvaarden en dossier openen" opens the new case.
    assert response.headers["Location"] == f"/cases/{case.id}"
    opened = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Doorverwijzing {referral.reference} aanvaard" in opened and "Yusuf Demir" in opened
    assert case.mediator_id == mediator.id and case.source == "doorverwijzing"
    assert case.interests == "sport" and "voetbalclub" in case.question
    assert case.current_position == 2  # "Aanmelding" done
    client_row = in_db(lambda: models.Client.get_by_id(case.client_id))
    assert (client_row.first_name, client_row.birth_date) == ("Yusuf", dt.date(2013, 5, 2))
    kinds = in_db(
        lambda: [e.kind for e in models.CaseEvent.select().where(models.CaseEvent.case == case)]
    )
    assert "referral_accepted" in kinds
    categories = in_db(
        lambda: sorted(
            t.category.key
            for t in models.CaseThreshold.select().where(models.CaseThreshold.case == case)
        )
    )
    assert categories == ["financieel", "taal"]
    shown = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    mailto = re.search(r'href="(mailto:[^"]+)"', shown).group(1)
    assert mailto.startswith("mailto:lies%40caw.test?subject=")
    assert "aanvaard" in unquote(mailto) and "Yusuf" not in unquote(mailto)
    assert mediator.name in unquote(mailto)


def test_accept_offers_matching_client_and_links_when_chosen(
    client, coordinator, mediator, organisation
):
    existing = make_client(first_name="yusuf", last_name="DEMIR", birth_date=dt.date(2013, 5, 2))
    make_client(first_name="Yusuf", last_name="Demir", birth_date=dt.date(2014, 5, 2))
    referral = make_referral(organisation)
    client.login(coordinator)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Er is al een cliënt met deze naam en geboortedatum" in page
    assert f'value="{existing.id}"' in page
    # Nothing is chosen for the coordinator when there is a match.
    refused = client.post(f"/referrals/{referral.id}/accept", data={"mediator": ""})
    assert refused.status_code == 422
    assert "Kies: een bestaande cliënt of een nieuwe." in refused.get_data(as_text=True)
    assert "Kies een bemiddelaar." in refused.get_data(as_text=True)
    response = client.post(
        f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": existing.id}
    )
    assert response.status_code == 303
    referral = in_db(lambda: models.Referral.get_by_id(referral.id))
    assert referral.client_id == existing.id
    assert in_db(lambda: models.Client.select().count()) == 2


def test_accept_refuses_a_client_that_does_not_match(client, coordinator, mediator, organisation):
    stranger = make_client(first_name="Anna", last_name="Nowak")
    referral = make_referral(organisation)
    client.login(coordinator)
    response = client.post(
        f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": stranger.id}
    )
    assert response.status_code == 422
    assert in_db(lambda: models.Referral.get_by_id(referral.id).status) == "new"


def test_accept_twice_is_a_conflict(client, coordinator, mediator, organisation):
    referral = make_referral(organisation)
    client.login(coordinator)
    data = {"mediator": mediator.id, "client": "new"}
    assert client.post(f"/referrals/{referral.id}/accept", data=data).status_code == 303
    again = client.post(f"/referrals/{referral.id}/accept", data=data)
    assert again.status_code == 409
    assert "Iemand anders heeft deze doorverwijzing net behandeld" in again.get_data(as_text=True)
    assert in_db(lambda: models.Case.select().count()) == 1


def test_decline_needs_a_reason_and_prefills_the_mail(client, coordinator, organisation):
    referral = make_referral(organisation)
    client.login(coordinator)
    refused = client.post(f"/referrals/{referral.id}/decline", data={"reason": ""})
    assert refused.status_code == 422
    assert "Schrijf kort waarom." in refused.get_data(as_text=True)
    response = client.post(
        f"/referrals/{referral.id}/decline",
        data={"reason": "Woont buiten Antwerpen; we verwezen door naar de gemeente Schoten."},
    )
    assert response.status_code == 303
    referral = in_db(lambda: models.Referral.get_by_id(referral.id))
    assert referral.status == "declined" and referral.case_id is None
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    mailto = unquote(re.search(r'href="(mailto:[^"]+)"', page).group(1))
    assert "Woont buiten Antwerpen" in mailto


def test_the_referral_shows_on_the_case(client, coordinator, mediator, organisation):
    referral = make_referral(organisation)
    client.login(coordinator)
    client.post(f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": "new"})
    case_id = in_db(lambda: models.Referral.get_by_id(referral.id).case_id)
    context = in_db(lambda: case_threshold_context(models.Case.get_by_id(case_id)))
    assert context["referral"].organisation.name == "CAW Antwerpen"
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Doorverwezen door Lies Verbruggen (CAW Antwerpen)" in page


def test_intake_list_runs_a_fixed_number_of_queries(client, coordinator, organisation):
    client.login(coordinator)
    make_referral(organisation)
    with count_queries() as few:
        client.get("/referrals/")
    for i in range(30):
        make_referral(organisation, first_name=f"Persoon{i}")
    with count_queries() as many:
        client.get("/referrals/")
    assert len(few) == len(many)


# The referrer's status list (a closed loop) ------------------------------------------------------


def _accepted(referral, coordinator, mediator) -> models.Case:
    with database.connection_context():
        return referral.accept(coordinator, mediator, None)


def _contact(case, mediator, **fields) -> None:
    values = {
        "case": case,
        "mediator": mediator,
        "contact_type": "huisbezoek",
        "occurred_at": utcnow() - dt.timedelta(days=1),
        "idempotency_key": str(uuid.uuid4()),
        "notes": "Mama vertelt over de schulden",
    }
    values.update(fields)
    with database.connection_context():
        models.Visit.create(**values)


def _statuses(page: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<span class="reference">([^<]+)</span> <span class="badge[^"]*">([^<]+)</span>', page
    )


def test_referrer_follows_each_status_and_sees_nothing_else(
    client, token, organisation, coordinator, mediator
) -> None:
    received = make_referral(organisation, first_name="Amira", last_name="Haddad")
    accepted = make_referral(organisation, first_name="Bilal", last_name="Amrani")
    contacted = make_referral(organisation, first_name="Chaima", last_name="Bouzid")
    enrolled = make_referral(organisation, first_name="Dario", last_name="Rossi")
    closed = make_referral(organisation, first_name="Eva", last_name="Janssens")
    declined = make_referral(organisation, first_name="Fatma", last_name="Yilmaz")
    accepted_case = _accepted(accepted, coordinator, mediator)
    _contact(_accepted(contacted, coordinator, mediator), mediator)
    # A planned contact, or one that did not reach the person, is no first contact.
    _contact(accepted_case, mediator, planned=True, occurred_at=utcnow() + dt.timedelta(days=1))
    enrolled_case = _accepted(enrolled, coordinator, mediator)
    _contact(enrolled_case, mediator, contact_made=False)
    with database.connection_context():
        provider = models.Provider.create(name="KFC Borgerhout")
        activity = models.Activity.create(provider=provider, title="Voetbal U11", domain="sport")
        models.Enrolment.create(case=enrolled_case, activity=activity)
        closed_case = _accepted(closed, coordinator, mediator)
        models.Case.update(status="closed", closed_at=utcnow()).where(
            models.Case.id == closed_case.id
        ).execute()
        declined.decline(coordinator, "Woont buiten Antwerpen")

    response = client.get(f"/r/{token}/opvolging")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert dict(_statuses(page)) == {
        received.reference: "ontvangen",
        accepted.reference: "aanvaard",
        contacted.reference: "eerste contact gemaakt",
        enrolled.reference: "ingeschreven voor een activiteit",
        closed.reference: "afgesloten",
        declined.reference: "afgesloten",
    }
    # The referrer recognises their own by reference and their own first name …
    assert "door Lies" in page
    # … and sees no referred person, note, threshold, mediator or reason.
    for secret in (
        "Amira",
        "Haddad",
        "Bilal",
        "Dario",
        "Yilmaz",
        "Verbruggen",
        "Deurne",
        "voetbalclub",
        "schulden",
        "Financieel",
        "financieel",
        "Woont buiten",
        mediator.first_name,
        "Voetbal U11",
        "lies@caw.test",
    ):
        assert secret not in page, secret


def test_referrer_sees_only_their_own_organisations_referrals(client, token, organisation):
    ours = make_referral(organisation)
    other = make_organisation(name="Atlas", kind="atlas")
    theirs = make_referral(other, referrer_name="Karim Atlas")
    other_token = issue_link(other)
    page = client.get(f"/r/{token}/opvolging").get_data(as_text=True)
    assert ours.reference in page and theirs.reference not in page and "Karim" not in page
    other_page = client.get(f"/r/{other_token}/opvolging").get_data(as_text=True)
    assert theirs.reference in other_page and ours.reference not in other_page


def test_status_list_of_unknown_or_revoked_link_is_refused(client, token, organisation) -> None:
    make_referral(organisation)
    assert client.get("/r/no-such-token/opvolging").status_code == 404
    issue_link(organisation)  # replaces (revokes) the old link
    response = client.get(f"/r/{token}/opvolging")
    assert response.status_code == 410
    assert "VB-" not in response.get_data(as_text=True)
    with database.connection_context():
        models.ReferringOrganisation.update(archived=True).execute()
    fresh = issue_link(organisation)
    assert client.get(f"/r/{fresh}/opvolging").status_code == 410


def test_status_list_changes_nothing_and_runs_fixed_queries(
    client, token, organisation, coordinator, mediator
) -> None:
    for _ in range(3):
        _contact(_accepted(make_referral(organisation), coordinator, mediator), mediator)
    client.get(f"/r/{token}/opvolging")  # warm up
    before = in_db(
        lambda: (
            models.AccessLink.get().last_used_at,
            models.AuditEvent.select().count(),
            models.Referral.select().count(),
        )
    )
    with count_queries() as queries:
        client.get(f"/r/{token}/opvolging")
    few = len(queries)
    for _ in range(3):
        _contact(_accepted(make_referral(organisation), coordinator, mediator), mediator)
    with count_queries() as queries:
        client.get(f"/r/{token}/opvolging")
    assert len(queries) == few
    after = in_db(
        lambda: (
            models.AccessLink.get().last_used_at,
            models.AuditEvent.select().count(),
            models.Referral.select().count() - 3,
        )
    )
    assert after == before


def test_status_list_shows_the_newest_twenty_and_the_rest_on_request(
    client, token, organisation, coordinator, mediator
) -> None:
    now = utcnow()
    sent = [
        make_referral(organisation, submitted_at=now - dt.timedelta(hours=i)) for i in range(25)
    ]
    newest_first = [r.reference for r in sent]
    # One accepted referral on each page: both pages look up the statuses of their cases.
    _contact(_accepted(sent[0], coordinator, mediator), mediator)
    _accepted(sent[22], coordinator, mediator)
    url = f"/r/{token}/opvolging"

    with count_queries() as first_queries:
        first = client.get(url).get_data(as_text=True)
    assert [ref for ref, _status in _statuses(first)] == newest_first[:20]
    assert dict(_statuses(first))[sent[0].reference] == "eerste contact gemaakt"
    # "Meer tonen": a plain link to the second page, which htmx asks for in its place.
    assert "Meer tonen" in first
    assert f'href="{url}?page=2"' in first and f'hx-get="{url}?page=2"' in first

    with count_queries() as more_queries:
        response = client.get(f"{url}?page=2", headers=HTMX)
    more = response.get_data(as_text=True)
    assert [ref for ref, _status in _statuses(more)] == newest_first[20:]
    assert dict(_statuses(more))[sent[22].reference] == "aanvaard"
    assert "<html" not in more and "<ul" not in more and "Meer tonen" not in more
    assert response.headers["Cache-Control"] == "no-store"
    assert len(more_queries) == len(first_queries)

    plain = client.get(f"{url}?page=2").get_data(as_text=True)  # without JavaScript
    assert [ref for ref, _status in _statuses(plain)] == newest_first
    assert "<html" in plain and "Meer tonen" not in plain
    # A number that is no page shows the first one.
    assert _statuses(client.get(f"{url}?page=x").get_data(as_text=True)) == _statuses(first)


def test_status_list_says_show_more_in_english_too(client, token, organisation) -> None:
    for _ in range(21):
        make_referral(organisation)
    page = client.get(f"/r/{token}/opvolging", headers={"Accept-Language": "en"})
    assert "Show more" in page.get_data(as_text=True)


def test_confirmation_is_a_success_message_with_a_way_to_follow(client, token) -> None:
    response = client.post(f"/r/{token}", data=form_data(), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert '<p class="notice ok" role="status">' in page
    assert f"/r/{token}/opvolging" in page


def test_referral_without_first_contact_after_a_week_is_marked(
    client, coordinator, mediator, organisation
) -> None:
    old = utcnow() - dt.timedelta(days=9)
    waiting_late = make_referral(organisation, first_name="Laat", submitted_at=old)
    make_referral(organisation, first_name="Vers")  # sent today: not late
    accepted_late = make_referral(organisation, first_name="Nooit", submitted_at=old)
    met = make_referral(organisation, first_name="Gezien", submitted_at=old)
    _accepted(accepted_late, coordinator, mediator)
    _contact(_accepted(met, coordinator, mediator), mediator)
    client.login(coordinator)
    for url in ("/", "/referrals/"):
        page = client.get(url).get_data(as_text=True)
        late = page.split('id="late-referrals"')[1].split("</ul>")[0]
        assert waiting_late.reference in late and accepted_late.reference in late, url
        assert "Vers Demir" not in late and met.reference not in late, url


def test_a_case_waits_for_a_first_contact_however_its_contacts_change(
    app, coordinator, mediator, organisation
) -> None:
    """The mark the late list reads (Case.waiting_since) follows what the raw rows say after
    each change, by form or by script: a contact recorded, planned, not reached, removed, put
    back, moved to another case; a second referral; the case's own referral declined."""
    old = utcnow() - dt.timedelta(days=9)
    first = make_referral(organisation, first_name="Wacht", submitted_at=old)
    case = _accepted(first, coordinator, mediator)
    other = _accepted(make_referral(organisation, submitted_at=old), coordinator, mediator)

    def raw(case_id: int) -> dt.datetime | None:
        """What waiting_since must be, from the rows, in Python."""
        reached = [
            v
            for v in models.Visit.select().where(models.Visit.case == case_id)
            if not v.planned and v.contact_made and v.removed_at is None
        ]
        if reached:
            return None
        sent = [
            r.submitted_at
            for r in models.Referral.select().where(models.Referral.case == case_id)
            if r.status == "accepted"
        ]
        return min(sent) if sent else None

    def late() -> list[int]:
        return [r.case_id for r in models.referrals_without_first_contact() if r.case_id]

    def check(expect_late: bool) -> None:
        def run() -> None:
            for c in (case, other):
                stored = models.Case.get_by_id(c.id).waiting_since
                assert stored == raw(c.id), c.id
            assert (case.id in late()) is expect_late

        in_db(run)

    check(expect_late=True)
    _contact(case, mediator, planned=True, occurred_at=utcnow() + dt.timedelta(days=2))
    check(expect_late=True)  # only planned
    _contact(case, mediator, contact_made=False)
    check(expect_late=True)  # tried, did not reach them
    _contact(case, mediator)
    check(expect_late=False)
    in_db(
        lambda: (
            models.Visit.update(removed_at=utcnow(), removed_reason="dubbel")
            .where(models.Visit.case == case.id, models.Visit.contact_made == True)  # noqa: E712
            .execute()
        )
    )
    check(expect_late=True)  # the contact was removed: waiting again
    in_db(
        lambda: models.Visit.update(removed_at=None).where(models.Visit.case == case.id).execute()
    )
    check(expect_late=False)
    in_db(
        lambda: (
            models.Visit.update(case=other.id)
            .where(models.Visit.case == case.id, models.Visit.contact_made == True)  # noqa: E712
            .execute()
        )
    )
    check(expect_late=True)  # recorded on the wrong case, moved: this one waits again
    in_db(lambda: models.Visit.delete().where(models.Visit.case == other.id).execute())
    check(expect_late=True)
    second = make_referral(organisation, first_name="Later", submitted_at=utcnow())
    in_db(
        lambda: (
            models.Referral.update(case=case.id, status="accepted")
            .where(models.Referral.id == second.id)
            .execute()
        )
    )
    check(expect_late=True)  # still waits since the oldest referral
    in_db(
        lambda: (
            models.Referral.update(status="declined")
            .where(models.Referral.id == first.id)
            .execute()
        )
    )
    check(expect_late=False)  # waits since the newer one: not late yet


def test_a_contact_put_back_while_another_is_removed_keeps_the_case_met(
    database_url, coordinator, mediator, organisation
) -> None:
    """Each change recounts the case's contacts in an UPDATE of the case's own row: side by
    side, the removal waits for the case row, and PostgreSQL then works its recount out again
    on what the other committed (a recount written to another table would need a lock of its
    own: closed_client, open_case_search)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time")
    import psycopg

    referral = make_referral(organisation, submitted_at=utcnow() - dt.timedelta(days=9))
    case = _accepted(referral, coordinator, mediator)
    _contact(case, mediator, removed_at=utcnow(), removed_reason="dubbel")
    _contact(case, mediator)
    removed, kept = in_db(
        lambda: [v.id for v in models.Visit.select().where(models.Visit.case == case.id)]
    )
    assert in_db(lambda: models.Case.get_by_id(case.id).waiting_since) is None
    put_back = "UPDATE visit SET removed_at = NULL WHERE id = %s"
    remove = "UPDATE visit SET removed_at = now() WHERE id = %s"
    with psycopg.connect(database_url) as one, psycopg.connect(database_url) as other:
        one.execute(put_back, (removed,))  # a transaction, not committed yet
        thread = threading.Thread(target=lambda: (other.execute(remove, (kept,)), other.commit()))
        thread.start()
        thread.join(timeout=1)
        waited = thread.is_alive()
        one.commit()
        thread.join(timeout=10)
    # One contact still reached the person: the case is not waiting.
    assert in_db(lambda: models.Case.get_by_id(case.id).waiting_since) is None
    assert waited  # the removal's recount waited for the contact put back


def test_the_late_list_reads_the_oldest_waiting_cases_only(
    app, coordinator, mediator, organisation
) -> None:
    """However many cases wait, the list takes the oldest few along an index: the query
    holds a LIMIT on the waiting cases, and finds the oldest first."""
    cases = []
    for days in (30, 12, 20, 9):
        referral = make_referral(organisation, submitted_at=utcnow() - dt.timedelta(days=days))
        cases.append((days, _accepted(referral, coordinator, mediator)))
    found = in_db(lambda: [r.case_id for r in models.referrals_without_first_contact(limit=2)])
    by_age = [c.id for _days, c in sorted(cases, key=lambda pair: -pair[0])]
    assert found == by_age[:2]
