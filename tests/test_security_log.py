"""The security log: each kind of event is written as a row and a log line, without tokens or
passwords; coordinators read it under Team → Beveiliging (newest first, by kind, a page at a
time); it is kept 12 months. And the rule for new passwords."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tests.conftest import CHEAP_HASH, HTMX, PASSWORD, in_db, make_case, utcnow
from webapp import models


def kinds() -> list[str]:
    return in_db(lambda: [e.kind for e in models.SecurityEvent.select()])


def only_event(kind: str) -> models.SecurityEvent:
    return in_db(lambda: models.SecurityEvent.get(models.SecurityEvent.kind == kind))


def test_a_failed_login_is_logged_with_the_account_and_address(client, mediator, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="vrijbaan.security")
    client.post("/login", data={"email": mediator.email, "password": "wrong password here"})
    event = only_event("login-failed")
    assert (event.user_id, event.address, event.route) == (
        mediator.id,
        "127.0.0.1",
        "auth.login_post",
    )
    [line] = [r.getMessage() for r in caplog.records if r.name == "vrijbaan.security"]
    assert line == (
        f"security-event kind=login-failed user={mediator.id} address=127.0.0.1 "
        "route=auth.login_post"
    )
    assert "wrong password" not in line
    client.post("/login", data={"email": "nobody@vrijbaan.test", "password": "whatever it is"})
    unknown = in_db(lambda: models.SecurityEvent.select().order_by(models.SecurityEvent.id)[1])
    assert (unknown.kind, unknown.user_id) == ("login-failed", None)


def test_lockout_and_throttling_are_logged(client, mediator) -> None:
    for _ in range(6):
        client.post("/login", data={"email": mediator.email, "password": "wrong password here"})
    assert kinds().count("account-locked") == 1
    assert kinds().count("login-throttled") == 1


def test_a_refused_form_is_logged(client, mediator) -> None:
    client.login(mediator)
    response = client.post("/account/language", data={"ui_language": "en"}, csrf=False)
    assert response.status_code == 400
    assert only_event("csrf").user_id == mediator.id


def test_a_try_at_someone_elses_case_is_logged_but_an_unknown_id_is_not(
    client, mediator, other_mediator
) -> None:
    theirs = make_case(other_mediator)
    client.login(mediator)
    assert client.get(f"/cases/{theirs.id}").status_code == 404
    assert client.get("/cases/999999").status_code == 404
    event = only_event("case-denied")
    assert (event.user_id, event.route) == (mediator.id, "cases.show")


def test_a_try_at_someone_elses_visit_is_logged(client, mediator, other_mediator) -> None:
    theirs = make_case(other_mediator)
    visit = in_db(
        lambda: models.Visit.create(
            case=theirs,
            mediator=other_mediator,
            contact_type="telefonisch",
            occurred_at=utcnow(),
            idempotency_key="k-visit-1",
        )
    )
    client.login(mediator)
    assert client.get(f"/visits/{visit.id}/edit").status_code == 404
    assert "case-denied" in kinds()


def test_unknown_links_are_logged_without_the_token(client, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="vrijbaan.security")
    token = "Zz" * 21 + "Q"
    assert client.get(f"/p/{token}").status_code == 404
    assert client.get(f"/a/{token}").status_code == 404
    assert client.get(f"/r/{token}").status_code == 404
    assert kinds() == ["link-unknown"] * 3
    routes = in_db(lambda: [e.route for e in models.SecurityEvent.select()])
    assert routes == ["portal.show", "attendance.show", "referrals.form"]
    assert not any(token in r.getMessage() for r in caplog.records)


def test_too_many_unknown_links_are_logged(client) -> None:
    for n in range(31):
        client.get(f"/p/{'x' * 42}{n % 10}")
    assert "link-throttled" in kinds()


def test_a_wrong_current_password_is_logged(client, mediator) -> None:
    client.login(mediator)
    data = {"current": "not my password", "new": "Fietsen langs het Schijn", "new_again": "x"}
    client.post("/account/password", data=data)
    assert only_event("password-check-failed").user_id == mediator.id


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_coordinators_read_the_log_newest_first(client, coordinator, mediator, headers) -> None:
    now = utcnow()
    in_db(
        lambda: [
            models.SecurityEvent.create(
                at=now - dt.timedelta(hours=n),
                kind="csrf" if n % 2 else "login-failed",
                user=mediator,
                address="10.0.0.7",
                route="auth.login_post",
            )
            for n in range(1, 5)
        ]
    )
    client.login(coordinator)
    page = client.get("/admin/security", headers=headers).get_data(as_text=True)
    rows = page.split('id="security-events"')[1]
    assert rows.index("Formulier geweigerd") < rows.index("Aanmelden mislukt")
    assert "Sara El Amrani" in rows and "10.0.0.7" in rows
    filtered = client.get("/admin/security?kind=csrf", headers=headers).get_data(as_text=True)
    rows = filtered.split('id="security-events"')[1]
    assert rows.count("Formulier geweigerd") == 2 and "Aanmelden mislukt" not in rows


def test_the_log_pages_hold_while_events_arrive(client, coordinator) -> None:
    now = utcnow()
    in_db(
        lambda: [
            models.SecurityEvent.create(at=now - dt.timedelta(minutes=n), kind="csrf")
            for n in range(60)
        ]
    )
    client.login(coordinator)
    first = client.get("/admin/security").get_data(as_text=True)
    assert first.count('class="item" id="security-') == 50
    more = first.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    in_db(lambda: models.SecurityEvent.create(kind="login-failed"))  # arrives meanwhile
    rest = client.get(more, headers=HTMX).get_data(as_text=True)
    assert rest.count('class="item" id="security-') == 10 and "<html" not in rest
    assert "Meer laden" not in rest


def test_mediators_cannot_read_the_log(client, mediator) -> None:
    client.login(mediator)
    assert client.get("/admin/security").status_code == 403
    assert client.get("/admin/security", headers=HTMX).status_code == 403


def test_the_log_keeps_twelve_months(runner, app) -> None:
    now = utcnow()
    in_db(
        lambda: [
            models.SecurityEvent.create(at=now - dt.timedelta(days=days), kind="csrf")
            for days in (1, 364, 366, 800)
        ]
    )
    result = runner.invoke(args=["prune-security-log"])
    assert result.exit_code == 0 and result.output.startswith("2 regels")
    left = in_db(lambda: sorted((now - e.at).days for e in models.SecurityEvent.select()))
    assert left == [1, 364]


# New passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "Dit wachtwoord gebruiken veel mensen"),
        ("Antwerpen2026!", "Dit wachtwoord gebruiken veel mensen"),
        ("qwertyqwerty", "Dit wachtwoord gebruiken veel mensen"),
        ("iloveyou123456", "Dit wachtwoord gebruiken veel mensen"),
        ("sara.elamrani2026", "Je naam of e-mailadres zit in dit wachtwoord"),
        ("ElAmrani op de fiets", "Je naam of e-mailadres zit in dit wachtwoord"),
    ],
)
def test_mijn_account_refuses_common_and_personal_passwords(
    client, mediator, password, message
) -> None:
    client.login(mediator)
    data = {"current": PASSWORD, "new": password, "new_again": password}
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert in_db(lambda: models.User.get_by_id(mediator.id).check_password(PASSWORD))


def test_the_password_field_explains_the_rule(client, mediator) -> None:
    client.login(mediator)
    page = client.get("/account").get_data(as_text=True)
    assert "geen veelgebruikt wachtwoord: die proberen aanvallers eerst" in page


def test_a_new_user_gets_no_common_password(client, coordinator) -> None:
    client.login(coordinator)
    data = {
        "name": "Jonas Claes",
        "email": "jonas.claes@vrijbaan.test",
        "role": "mediator",
        "service": "sport",
        "password": "jonasclaes123",
        "password_again": "jonasclaes123",
    }
    response = client.post("/admin/users", data=data)
    assert response.status_code == 422
    assert "Je naam of e-mailadres zit in dit wachtwoord" in response.get_data(as_text=True)
    common = {**data, "password": "football12345", "password_again": "football12345"}
    assert "veel mensen" in client.post("/admin/users", data=common).get_data(as_text=True)
    assert in_db(lambda: models.User.by_email("jonas.claes@vrijbaan.test")) is None


@pytest.mark.parametrize("command", ["create-user", "set-password"])
def test_the_command_line_refuses_a_common_password(runner, mediator, command) -> None:
    args = (
        [command, mediator.email]
        if command == "set-password"
        else [command, "nieuw@vrijbaan.test", "--name", "Nieuwe Persoon"]
    )
    result = runner.invoke(args=args, input="letmein12345\nletmein12345\n")
    assert result.exit_code == 1
    assert "veel mensen" in result.output


def test_seed_demo_gives_the_coordinator_an_app_and_prints_its_key(app, runner) -> None:
    import re

    import pyotp

    from tests.conftest import BrowserLikeClient
    from webapp.demo import DEMO_PASSWORD

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    key = re.search(r"voeg de sleutel ([A-Z2-7]{32})", result.output).group(1)
    app.test_client_class = BrowserLikeClient
    visitor = app.test_client()
    els = in_db(lambda: models.User.by_email("els.janssens@vrijbaan.demo"))
    in_db(lambda: models.User.update(password_hash=CHEAP_HASH).execute())
    visitor.refresh_csrf()
    step = visitor.post("/login", data={"email": els.email, "password": PASSWORD})
    assert step.headers["Location"] == "/twofactor/code"
    visitor.refresh_csrf()
    done = visitor.post("/twofactor/code", data={"code": pyotp.TOTP(key).now()})
    assert done.status_code == 303 and visitor.get("/").status_code == 200
    assert DEMO_PASSWORD in result.output
    assert "security" not in result.output  # the log's demo rows are not printed
    assert in_db(lambda: models.SecurityEvent.select().count()) >= 5
