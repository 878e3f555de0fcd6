"""Managing the team: coordinators only; create, edit, deactivate (which logs people out)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.conftest import HTMX, PASSWORD, BrowserLikeClient, in_db, make_case, make_user
from webapp import models

NEW_PASSWORD = "Zomer aan de Schelde 2026"


def new_user_data(**overrides: str | None) -> dict[str, str]:
    data = {
        "name": "Jonas De Smet",
        "email": "Jonas.DeSmet@vrijbaan.test ",
        "role": "mediator",
        "service": "cultuur",
        "phone": "03 338 11 22",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def user_by_email(email: str) -> models.User | None:
    return in_db(lambda: models.User.by_email(email))


ADMIN_URLS = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users"),
    ("GET", "/admin/users/{id}/edit"),
    ("POST", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}/deactivate"),
    ("POST", "/admin/users/{id}/reactivate"),
    ("POST", "/admin/users/{id}/password"),
]


@pytest.mark.parametrize(("method", "url"), ADMIN_URLS)
def test_a_mediator_is_refused_every_admin_url(
    client, mediator, other_mediator, method, url
) -> None:
    client.login(mediator)
    response = client.open(url.format(id=other_mediator.id), method=method, data=new_user_data())
    assert response.status_code == 403
    assert "Deze pagina is voor de coördinatoren van het team." in response.get_data(as_text=True)
    assert in_db(lambda: models.User.get_by_id(other_mediator.id).active)
    assert user_by_email("jonas.desmet@vrijbaan.test") is None


def test_the_team_tab_leads_coordinators_to_the_users(client, coordinator, mediator) -> None:
    client.login(coordinator)
    assert 'href="/admin/users"' in client.get("/reports/").get_data(as_text=True)
    client.login(mediator)
    assert 'href="/admin/users"' not in client.get("/reports/").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_team_list(client, coordinator, mediator, other_mediator, headers) -> None:
    make_case(mediator)
    make_case(mediator)
    client.login(coordinator)
    response = client.get("/admin/users", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("<html" in page) == (headers == {})
    for user in (coordinator, mediator, other_mediator):
        assert user.name in page and user.email in page
    assert "2 open dossiers" in page and "0 open dossiers" in page


@pytest.mark.parametrize("url", ["/admin/users/new", "/admin/users/{id}/edit"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_forms(client, coordinator, mediator, url, headers) -> None:
    client.login(coordinator)
    response = client.get(url.format(id=mediator.id), headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("<html" in page) == (headers == {})
    assert 'name="role"' in page and 'name="service"' in page and 'name="phone"' in page


def test_create_a_user_with_a_typed_password(client, coordinator, app: Flask) -> None:
    client.login(coordinator)
    response = client.post("/admin/users", data=new_user_data())
    assert response.status_code == 303
    user = user_by_email("jonas.desmet@vrijbaan.test")
    assert user is not None and user.service == "cultuur" and user.role == "mediator"
    assert user.password_hash.startswith("pbkdf2:sha256:600000")
    audit = in_db(lambda: models.AuditEvent.get(models.AuditEvent.action == "create"))
    assert (audit.object_type, audit.object_id, audit.user_id) == ("user", user.id, coordinator.id)
    # The new person can log in.
    other = app.test_client()
    assert other.login(user, password=NEW_PASSWORD).status_code == 303


def test_create_a_user_with_a_generated_password_shown_once(client, coordinator, app) -> None:
    client.login(coordinator)
    data = new_user_data(password="", password_again="", generate="y")
    response = client.post("/admin/users", data=data)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = page.split('<code class="secret">')[1].split("</code>")[0]
    assert len(password) >= 12
    user = user_by_email("jonas.desmet@vrijbaan.test")
    assert password not in user.password_hash
    assert app.test_client().login(user, password=password).status_code == 303


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("name", {"name": ""}, "Vul de naam in."),
        ("name", {"name": "n" * 101}, "Maximaal 100 tekens."),
        ("email", {"email": ""}, "Vul het e-mailadres in."),
        ("email", {"email": "jonas at vrijbaan"}, "Dit is geen e-mailadres."),
        ("email", {"email": "SARA.elamrani@vrijbaan.test"}, "Er is al iemand met dit e-mailadres."),
        ("role", {"role": "admin"}, "Kies een rol uit de lijst."),
        ("role", {"role": ""}, "Kies een rol uit de lijst."),
        ("service", {"service": "politie"}, "Kies een dienst uit de lijst."),
        ("phone", {"phone": "bel me maar"}, "Een telefoonnummer heeft alleen cijfers"),
        (
            "password",
            {"password": "kort", "password_again": "kort"},
            "Een wachtwoord heeft minstens 12 tekens.",
        ),
        ("password", {"password": "", "password_again": ""}, "Typ een wachtwoord"),
        (
            "password_again",
            {"password_again": "Iets heel anders 2026"},
            "De twee wachtwoorden verschillen.",
        ),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_bad_input_on_the_new_user_form(
    client, coordinator, mediator, field, overrides, message, headers
) -> None:
    client.login(coordinator)
    response = client.post("/admin/users", data=new_user_data(**overrides), headers=headers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-error">{message}' in page
    if field != "name":
        assert 'value="Jonas De Smet"' in page  # what was typed stays
    assert 'value="Zomer aan de Schelde' not in page  # passwords are never sent back
    assert in_db(lambda: models.User.select().count()) == 2


def test_edit_role_service_and_phone(client, coordinator, mediator) -> None:
    client.login(coordinator)
    data = {
        "name": "Sara El Amrani",
        "role": "coordinator",
        "service": "jeugd",
        "phone": "03 338 22 11",
        "version": "1",
    }
    response = client.post(f"/admin/users/{mediator.id}", data=data)
    assert response.status_code == 303
    user = in_db(lambda: models.User.get_by_id(mediator.id))
    assert (user.role, user.service, user.phone) == ("coordinator", "jeugd", "03 338 22 11")


def test_languages_spoken_are_kept_and_shown_checked(client, coordinator, mediator) -> None:
    client.login(coordinator)
    data = {"name": mediator.name, "role": "mediator", "service": "ocmw", "version": "1"}
    response = client.post(f"/admin/users/{mediator.id}", data={**data, "languages": ["ar", "fr"]})
    assert response.status_code == 303
    assert in_db(lambda: models.User.get_by_id(mediator.id).language_list) == ["ar", "fr"]
    page = client.get(f"/admin/users/{mediator.id}/edit").get_data(as_text=True)
    assert 'value="ar" checked' in page.replace(' checked=""', " checked") or re.search(
        r'<input checked[^>]*value="ar"', page
    )
    refused = client.post(
        f"/admin/users/{mediator.id}", data={**data, "version": "2", "languages": ["xx"]}
    )
    assert refused.status_code == 422
    assert "Kies talen uit de lijst." in refused.get_data(as_text=True)
    # None chosen: the column is empty again.
    client.post(f"/admin/users/{mediator.id}", data={**data, "version": "2"})
    assert in_db(lambda: models.User.get_by_id(mediator.id).languages) is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"role": "god"}, "role", "Kies een rol uit de lijst."),
        ({"service": ""}, "service", "Kies een dienst uit de lijst."),
        ({"name": " "}, "name", "Vul de naam in."),
        ({"phone": "x" * 40}, "phone", "Een telefoonnummer"),
    ],
)
def test_bad_input_on_the_edit_form(client, coordinator, mediator, overrides, field, message):
    client.login(coordinator)
    data = {"name": "Sara El Amrani", "role": "mediator", "service": "ocmw", "phone": ""}
    data.update(overrides)
    response = client.post(f"/admin/users/{mediator.id}", data=data)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error">{message}' in response.get_data(as_text=True)
    assert in_db(lambda: models.User.get_by_id(mediator.id).service) == "ocmw"


def test_a_coordinator_cannot_demote_or_close_themselves(client, coordinator) -> None:
    client.login(coordinator)
    data = {"name": coordinator.name, "role": "mediator", "service": "ocmw", "phone": ""}
    response = client.post(f"/admin/users/{coordinator.id}", data=data)
    assert response.status_code == 422
    assert "Je kan je eigen rol niet afnemen." in response.get_data(as_text=True)
    client.post(f"/admin/users/{coordinator.id}/deactivate")
    assert in_db(lambda: models.User.get_by_id(coordinator.id).active)


def test_unknown_user_is_not_found(client, coordinator) -> None:
    client.login(coordinator)
    assert client.get("/admin/users/9999/edit").status_code == 404
    assert client.post("/admin/users/9999/deactivate").status_code == 404


def test_deactivation_ends_an_open_session(client, coordinator, mediator, app: Flask) -> None:
    app.test_client_class = BrowserLikeClient
    sara = app.test_client()
    sara.login(mediator)
    assert sara.get("/").status_code == 200
    client.login(coordinator)
    response = client.post(f"/admin/users/{mediator.id}/deactivate")
    assert response.status_code == 303
    # Sara's phone, still logged in a minute ago, is sent to the login page.
    after = sara.get("/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    # And she cannot log in again.
    refused = sara.post("/login", data={"email": mediator.email, "password": PASSWORD})
    assert refused.status_code == 401
    actions = in_db(lambda: [e.action for e in models.AuditEvent.select()])
    assert "deactivate" in actions
    page = client.get("/admin/users").get_data(as_text=True)
    assert "afgesloten" in page


def test_reactivation_lets_them_in_again(client, coordinator, mediator, app: Flask) -> None:
    client.login(coordinator)
    client.post(f"/admin/users/{mediator.id}/deactivate")
    response = client.post(f"/admin/users/{mediator.id}/reactivate", headers=HTMX)
    assert response.status_code == 204 and "/admin/users" in response.headers["HX-Location"]
    app.test_client_class = BrowserLikeClient
    assert app.test_client().login(mediator).status_code == 303


def test_a_forgotten_password_is_replaced_and_shown_once(
    client, coordinator, mediator, app: Flask
) -> None:
    app.test_client_class = BrowserLikeClient
    sara = app.test_client()
    sara.login(mediator)
    client.login(coordinator)
    assert "Nieuw wachtwoord maken" in client.get(f"/admin/users/{mediator.id}/edit").text
    response = client.post(f"/admin/users/{mediator.id}/password")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Nieuw wachtwoord voor Sara El Amrani" in page
    password = page.split('<code class="secret">')[1].split("</code>")[0]
    # Whoever knew the old password is out, and it no longer works; the new one does.
    assert "/login" in sara.get("/").headers["Location"]
    refused = sara.post("/login", data={"email": mediator.email, "password": PASSWORD})
    assert refused.status_code == 401
    assert sara.login(mediator, password=password).status_code == 303
    assert "password-reset" in in_db(lambda: [e.action for e in models.AuditEvent.select()])


def test_a_coordinator_changes_their_own_password_under_my_account(client, coordinator) -> None:
    client.login(coordinator)
    assert "Nieuw wachtwoord maken" not in client.get(f"/admin/users/{coordinator.id}/edit").text
    response = client.post(f"/admin/users/{coordinator.id}/password")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert client.login(coordinator).status_code == 303  # the password did not change


def test_the_users_list_shows_twenty_at_a_time_and_finds_by_name_or_address(
    client, coordinator, mediator
) -> None:
    for i in range(25):
        make_user(f"c{i:02d}@vrijbaan.test", f"Collega {i:02d}")
    gone = make_user("oud@vrijbaan.test", "Ümit Oud", active=False)
    make_case(gone)
    client.login(coordinator)
    page = client.get("/admin/users").get_data(as_text=True)
    assert page.count("/edit") == 20 and 'href="/admin/users?page=2"' in page
    everyone = client.get("/admin/users?page=2").get_data(as_text=True)
    assert everyone.count("/edit") == 28 and "?page=3" not in everyone
    # Active people first: the one who left comes last, with what is still to do.
    assert everyone.rindex("/admin/users/") == everyone.index(f"/admin/users/{gone.id}/edit")
    assert "wijs ze toe aan iemand anders" in everyone
    for typed in ("umit", "OUD@vrijbaan", "ümit oud"):
        found = client.get(f"/admin/users?q={typed}").get_data(as_text=True)
        assert found.count("/edit") == 1 and "Ümit Oud" in found, typed
    none = client.get("/admin/users?q=niemand").get_data(as_text=True)
    assert "Niemand gevonden voor ‘niemand’." in none


def test_security_names_ten_without_a_second_factor_and_links_to_the_rest(
    client, coordinator
) -> None:
    for i in range(13):
        make_user(f"c{i:02d}@vrijbaan.test", f"Collega {i:02d}")
    client.login(coordinator)
    page = client.get("/admin/security").get_data(as_text=True)
    hint = page.split("Nog geen tweede stap ingesteld:")[1].split("</p>")[0]
    assert hint.count("/edit") == 10 and "Collega 09" in hint and "Collega 10" not in hint
    assert 'href="/admin/users?zonder=tweede-stap">en nog 3 personen</a>' in hint
    listed = client.get("/admin/users?zonder=tweede-stap").get_data(as_text=True)
    assert listed.count("/edit") == 13 and coordinator.name not in listed.split("<ul")[1]
    assert "Alleen wie nog geen tweede stap instelde." in listed
