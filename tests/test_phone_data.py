"""What a phone keeps (README, "Data on the phone") is wiped at the next contact after a
password reset, a second-factor reset or a deactivation, as logging out does; a login that
only went idle keeps it (unsent visits go out after the next login)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import HTMX, make_user
from webapp import models
from webapp.db import database
from webapp.timeutil import utcnow

WIPE = '"cache", "storage"'


@pytest.fixture
def phone(app, mediator):  # type: ignore[no-untyped-def]
    """The mediator's phone, logged in and used once."""
    from tests.conftest import BrowserLikeClient

    app.test_client_class = BrowserLikeClient
    browser = app.test_client()
    browser.login(mediator)
    assert browser.get("/").status_code == 200
    return browser


def test_a_password_reset_wipes_the_phone_at_its_next_request(client, coordinator, phone, mediator):  # type: ignore[no-untyped-def]
    client.login(coordinator)
    assert client.post(f"/admin/users/{mediator.id}/password").status_code == 200
    response = phone.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert response.headers["Clear-Site-Data"] == WIPE
    # Once: the login page and a new login on the phone do not wipe again.
    assert "Clear-Site-Data" not in phone.get("/login").headers


def test_a_second_factor_reset_wipes_the_phone_even_for_htmx(client, coordinator, app):  # type: ignore[no-untyped-def]
    other = make_user("jan.peeters@vrijbaan.test", "Jan Peeters", role="coordinator")
    from tests.conftest import BrowserLikeClient

    app.test_client_class = BrowserLikeClient
    phone = app.test_client()
    phone.login(other)
    assert phone.get("/").status_code == 200
    client.login(coordinator)
    assert client.post(f"/admin/users/{other.id}/second-factor/reset").status_code == 303
    response = phone.get("/cases/", headers=HTMX)
    assert response.status_code == 401 and response.headers["Clear-Site-Data"] == WIPE


def test_a_deactivation_wipes_the_phone(client, coordinator, phone, mediator):  # type: ignore[no-untyped-def]
    client.login(coordinator)
    assert client.post(f"/admin/users/{mediator.id}/deactivate").status_code == 303
    assert phone.get("/").headers.get("Clear-Site-Data") == WIPE


def test_a_login_that_went_idle_keeps_the_phones_data(phone, coordinator, client) -> None:
    with database.connection_context():
        models.LoginSession.update(last_seen_at=utcnow() - dt.timedelta(hours=3)).execute()
    response = phone.get("/")
    assert response.status_code == 302 and "Clear-Site-Data" not in response.headers
    # A reset long before this login does not count either.
    client.login(coordinator)
    assert "Clear-Site-Data" not in client.get("/").headers


def test_logging_out_wipes_the_phone(phone) -> None:
    assert phone.post("/logout").headers["Clear-Site-Data"] == WIPE
