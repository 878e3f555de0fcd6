"""Mijn account: a team member changes their password and screen language, and logs out the
devices they no longer have."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import HTMX, PASSWORD, BrowserLikeClient, in_db
from webapp import models

NEW_PASSWORD = "Fietsen langs het Schijn 2026"


def change(client, **overrides: str):  # type: ignore[no-untyped-def]
    data = {"current": PASSWORD, "new": NEW_PASSWORD, "new_again": NEW_PASSWORD, **overrides}
    return client.post("/account/password", data=data)


def second_device(app: Flask, user: models.User) -> BrowserLikeClient:
    app.test_client_class = BrowserLikeClient
    device = app.test_client()
    device.login(user)
    return device


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_my_account_shows_who_i_am(client, mediator, headers) -> None:
    client.login(mediator)
    response = client.get("/account", headers=headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sara El Amrani" in page and "sara.elamrani@vrijbaan.test" in page
    assert "Wachtwoord wijzigen" in page
    assert ("<html" in page) is (headers == {})


def test_the_top_bar_leads_to_my_account(client, mediator) -> None:
    client.login(mediator)
    assert 'href="/account"' in client.get("/").get_data(as_text=True)


def test_change_my_password(client, mediator, app: Flask) -> None:
    client.login(mediator)
    phone = second_device(app, mediator)
    response = change(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "Je wachtwoord is gewijzigd. Je andere toestellen zijn afgemeld." in page
    # This device stays logged in, the other one is out; only the new password works.
    assert client.get("/").status_code == 200
    assert "/login" in phone.get("/").headers["Location"]
    refused = phone.post("/login", data={"email": mediator.email, "password": PASSWORD})
    assert refused.status_code == 401
    assert phone.login(mediator, password=NEW_PASSWORD).status_code == 303
    assert "password" in in_db(lambda: [e.action for e in models.AuditEvent.select()])


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("current", {"current": ""}, "Vul je huidige wachtwoord in."),
        ("current", {"current": "raden maar raden maar"}, "Dit is niet je huidige wachtwoord."),
        ("new", {"new": "", "new_again": ""}, "Vul een nieuw wachtwoord in."),
        ("new", {"new": "kort", "new_again": "kort"}, "Een wachtwoord heeft minstens 12 tekens."),
        ("new", {"new": PASSWORD, "new_again": PASSWORD}, "Kies een ander wachtwoord"),
        ("new", {"new": "x" * 201, "new_again": "x" * 201}, "Maximaal 200 tekens."),
        ("new_again", {"new_again": "Iets heel anders 2026"}, "De twee wachtwoorden verschillen."),
        ("new_again", {"new_again": ""}, "Typ het nieuwe wachtwoord nog eens."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_bad_input_on_the_password_form(client, mediator, field, overrides, message, headers):
    client.login(mediator)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "new_again": NEW_PASSWORD, **overrides},
        headers=headers,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page and message in page
    assert in_db(lambda: models.User.get_by_id(mediator.id).check_password(PASSWORD))


def test_guessing_the_current_password_is_stopped(client, mediator) -> None:
    client.login(mediator)
    for _ in range(5):
        assert change(client, current="raden maar raden maar").status_code == 422
    # Even the right password is refused for a while now: a stolen phone cannot keep guessing.
    response = change(client)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert 'id="current-error"' in page and "Te veel pogingen" in page
    assert in_db(lambda: models.User.get_by_id(mediator.id).check_password(PASSWORD))


def test_the_password_form_needs_the_csrf_token(client, mediator) -> None:
    client.login(mediator)
    data = {"current": PASSWORD, "new": NEW_PASSWORD, "new_again": NEW_PASSWORD}
    assert client.post("/account/password", data=data, csrf=False).status_code == 400
    assert in_db(lambda: models.User.get_by_id(mediator.id).check_password(PASSWORD))


def test_choose_the_screen_language(client, mediator) -> None:
    client.login(mediator)
    dutch_browser = {"Accept-Language": "nl-BE,nl;q=0.9"}
    response = client.post("/account/language", data={"ui_language": "en"})
    assert response.status_code == 303
    assert "The language has been saved." in client.get("/account").get_data(as_text=True)
    page = client.get("/", headers=dutch_browser).get_data(as_text=True)
    assert '<html lang="en"' in page and "Log out" in page
    # Back to "like my browser": an English browser gets English, a Dutch one Dutch.
    client.post("/account/language", data={"ui_language": ""})
    assert '<html lang="nl"' in client.get("/", headers=dutch_browser).get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en"' in english


def test_an_unknown_language_is_refused(client, mediator) -> None:
    client.login(mediator)
    response = client.post("/account/language", data={"ui_language": "tlh"})
    assert response.status_code == 422
    assert "Kies een taal uit de lijst." in response.get_data(as_text=True)
    assert in_db(lambda: models.User.get_by_id(mediator.id).ui_language) is None


def test_log_out_my_other_devices(client, mediator, other_mediator, app: Flask) -> None:
    client.login(mediator)
    assert "Je bent nergens anders aangemeld." in client.get("/account").get_data(as_text=True)
    phone, tablet = second_device(app, mediator), second_device(app, mediator)
    colleague = second_device(app, other_mediator)
    page = client.get("/account").get_data(as_text=True)
    assert "Je bent ook aangemeld op 2 andere toestellen." in page
    response = client.post("/account/sessions/end")
    assert response.status_code == 303
    assert "Afgemeld op 2 andere toestellen." in client.get("/account").get_data(as_text=True)
    assert client.get("/").status_code == 200
    for device in (phone, tablet):
        assert "/login" in device.get("/").headers["Location"]
    assert colleague.get("/").status_code == 200


def test_a_password_made_by_the_coordinator_asks_to_be_replaced(
    client, coordinator, mediator, app: Flask
) -> None:
    client.login(coordinator)
    page = client.post(f"/admin/users/{mediator.id}/password").get_data(as_text=True)
    given = page.split('<code class="secret">')[1].split("</code>")[0]
    app.test_client_class = BrowserLikeClient
    sara = app.test_client()
    sara.login(mediator, password=given)
    notice = "Je wachtwoord werd door een coördinator gemaakt."
    assert notice in sara.get("/").get_data(as_text=True)
    assert notice in sara.get("/cases/").get_data(as_text=True)
    account = sara.get("/account").get_data(as_text=True)
    assert "Je coördinator maakte je wachtwoord en kent het dus." in account
    assert change(sara, current=given).status_code == 303
    assert notice not in sara.get("/").get_data(as_text=True)
    assert in_db(lambda: models.User.get_by_id(mediator.id).password_given_at) is None


def test_a_password_of_your_own_asks_nothing(client, mediator, coordinator) -> None:
    client.login(mediator)
    assert "door een coördinator gemaakt" not in client.get("/").get_data(as_text=True)
    # A new colleague's first password is the coordinator's doing too.
    client.login(coordinator)
    data = {"name": "Jonas De Smet", "email": "jonas@vrijbaan.test", "role": "mediator"}
    client.post("/admin/users", data={**data, "service": "sport", "generate": "y"})
    jonas = in_db(lambda: models.User.by_email("jonas@vrijbaan.test"))
    assert jonas.password_given_at is not None
