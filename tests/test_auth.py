"""Getting in and out: login, lockout, CSRF, htmx on an expired session, create-user."""

import datetime as dt

import pytest

from tests.conftest import HTMX, PASSWORD, BrowserLikeClient, in_db
from webapp import models
from webapp.auth import MAX_FAILURES_PER_ACCOUNT
from webapp.timeutil import utcnow


def test_login_page_has_labelled_fields_and_csrf(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'for="email"' in page and 'autocomplete="username"' in page
    assert 'name="csrf_token"' in page


def test_login_then_today_then_logout(client, mediator) -> None:
    response = client.login(mediator)
    assert response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    out = client.post("/logout")
    assert out.status_code == 303
    assert "storage" in out.headers["Clear-Site-Data"]
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_in_plain_dutch_and_keeps_the_email(client, mediator) -> None:
    response = client.post("/login", data={"email": mediator.email, "password": "wrong"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "horen niet bij elkaar" in page
    assert f'value="{mediator.email}"' in page


def test_empty_login_shows_errors_next_to_fields(client) -> None:
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Vul je e-mailadres in." in page and "Vul je wachtwoord in." in page


def test_account_locks_after_repeated_failures(client, mediator) -> None:
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        client.post("/login", data={"email": mediator.email, "password": "nope"})
    # Even the right password is refused while the account is locked.
    response = client.post("/login", data={"email": mediator.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Te veel pogingen" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, mediator) -> None:
    response = client.post(
        "/login", data={"email": mediator.email, "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert "formulier is verlopen" in response.get_data(as_text=True)


def test_expired_session_on_htmx_request_redirects_the_whole_page(client) -> None:
    response = client.get("/cases/", headers={**HTMX, "HX-Current-URL": "http://localhost/cases/"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_login_redirect_only_follows_local_next(client, mediator) -> None:
    client.csrf_token = None
    client.refresh_csrf()
    response = client.post(
        "/login?next=https://evil.example/", data={"email": mediator.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_deactivated_user_loses_the_session(client, mediator) -> None:
    client.login(mediator)
    in_db(lambda: models.User.update(active=False).where(models.User.id == mediator.id).execute())
    assert client.get("/").status_code == 302


def test_a_copy_of_the_cookie_is_worthless_after_logout(client, mediator) -> None:
    client.login(mediator)
    copied = client.get_cookie("session").value
    client.post("/logout")
    client.set_cookie("session", copied)
    assert client.get("/").status_code == 302


def device(app) -> BrowserLikeClient:
    """Another phone or computer: its own cookies."""
    app.test_client_class = BrowserLikeClient
    return app.test_client()


def test_logging_out_on_one_device_leaves_the_other(app, mediator) -> None:
    phone, desktop = device(app), device(app)
    phone.login(mediator)
    desktop.login(mediator)
    phone.post("/logout")
    assert phone.get("/").status_code == 302
    assert desktop.get("/").status_code == 200


def test_ending_all_sessions_logs_out_every_device(app, mediator) -> None:
    phone, desktop = device(app), device(app)
    phone.login(mediator)
    desktop.login(mediator)
    in_db(lambda: models.User.get_by_id(mediator.id).end_sessions())
    assert phone.get("/").status_code == 302 and desktop.get("/").status_code == 302


def test_a_session_left_unused_ends(client, mediator) -> None:
    client.login(mediator)
    assert client.get("/").status_code == 200
    idle = utcnow() - models.LoginSession.IDLE - dt.timedelta(minutes=1)
    in_db(lambda: models.LoginSession.update(last_seen_at=idle).execute())
    assert client.get("/").status_code == 302


def test_using_a_session_keeps_it_alive(client, mediator) -> None:
    client.login(mediator)
    a_while_ago = utcnow() - dt.timedelta(hours=1)
    in_db(lambda: models.LoginSession.update(last_seen_at=a_while_ago).execute())
    assert client.get("/").status_code == 200
    [row] = in_db(lambda: list(models.LoginSession.select()))
    assert row.last_seen_at > a_while_ago
    assert len(row.key_hash) == 64  # only a hash of the cookie's key is stored


def test_passwords_are_hashed_with_pbkdf2_600000(app) -> None:
    user = models.User(email="x@y.be", name="X")
    user.set_password("a long enough password")
    assert user.password_hash.startswith("pbkdf2:sha256:600000$")
    assert user.check_password("a long enough password")


@pytest.mark.parametrize(
    ("stdin", "expected_code", "expected_text"),
    [
        ("a good long password\na good long password\n", 0, "aangemaakt"),
        ("a good long password\nanother password!!\n", 1, "verschillen"),
        ("short\nshort\n", 1, "minstens 12"),
    ],
)
def test_create_user_asks_the_password_twice(runner, stdin, expected_code, expected_text) -> None:
    result = runner.invoke(
        args=[
            "create-user",
            "New.Person@Vrijbaan.test",
            "--name",
            "Nieuwe Persoon",
            "--role",
            "coordinator",
        ],
        input=stdin,
    )
    assert result.exit_code == expected_code, result.output
    assert expected_text in result.output
    user = in_db(lambda: models.User.by_email("new.person@vrijbaan.test"))
    assert (user is not None) == (expected_code == 0)
    if user:
        assert user.role == "coordinator"
        assert user.check_password("a good long password")
        # The real cost, whatever cheaper hash the other tests' fixtures use.
        assert user.password_hash.startswith("pbkdf2:sha256:600000$")


def test_create_user_refuses_a_taken_email(runner, mediator) -> None:
    result = runner.invoke(
        args=["create-user", mediator.email, "--name", "Dubbel"],
        input="x" * 12 + "\n" + "x" * 12 + "\n",
    )
    assert result.exit_code == 1
    assert "al een gebruiker" in result.output


@pytest.mark.parametrize(
    ("stdin", "expected_code", "expected_text"),
    [
        ("a new long password\na new long password\n", 0, "overal afgemeld"),
        ("a new long password\nanother password!!\n", 1, "verschillen"),
        ("short\nshort\n", 1, "minstens 12"),
    ],
)
def test_set_password_from_the_command_line(
    app, runner, mediator, stdin, expected_code, expected_text
) -> None:
    app.test_client_class = BrowserLikeClient
    phone = app.test_client()
    phone.login(mediator)
    result = runner.invoke(args=["set-password", "SARA.elamrani@vrijbaan.test"], input=stdin)
    assert result.exit_code == expected_code, result.output
    assert expected_text in result.output
    user = in_db(lambda: models.User.get_by_id(mediator.id))
    assert user.check_password("a new long password") is (expected_code == 0)
    assert user.check_password(PASSWORD) is (expected_code != 0)
    # The fixtures' cheap hash is replaced by one of the real cost.
    assert user.password_hash.startswith("pbkdf2:sha256:600000$") is (expected_code == 0)
    # Done: the phone that was logged in is out. Refused: nothing changed.
    assert (phone.get("/").status_code == 302) is (expected_code == 0)


def test_set_password_for_nobody_says_so(runner) -> None:
    result = runner.invoke(args=["set-password", "niemand@vrijbaan.test"], input="x\nx\n")
    assert result.exit_code == 1
    assert "Er is geen gebruiker met niemand@vrijbaan.test." in result.output
