"""The second factor: setting up the app under Mijn account, logging in with a code or a recovery
code, who must have it (coordinators; everyone once the team switch is on), a coordinator's reset,
asking the password again before grave actions, and how long a login lasts."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from flask import Flask

from tests.conftest import (
    HTMX,
    PASSWORD,
    TOTP_SECRET,
    BrowserLikeClient,
    fresh_code,
    in_db,
    make_case,
    make_user,
    utcnow,
)
from webapp import models


def device(app: Flask) -> BrowserLikeClient:
    """Another phone or computer: its own cookies."""
    app.test_client_class = BrowserLikeClient
    return app.test_client()


def give_app(user: models.User, secret: str = TOTP_SECRET) -> None:
    in_db(lambda: models.SecondFactor.create(user=user, secret=secret))


def password_step(client: BrowserLikeClient, user: models.User, password: str = PASSWORD):
    client.csrf_token = None
    response = client.post("/login", data={"email": user.email, "password": password})
    client.refresh_csrf()
    return response


def set_up_app(client: BrowserLikeClient) -> tuple[str, list[str]]:
    """Set up the app from Mijn account as a person would: read the key, type a code."""
    page = client.get("/account/second-factor").get_data(as_text=True)
    key = re.search(r'id="second-factor-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = client.post("/account/second-factor", data={"code": pyotp.TOTP(key).now()})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    codes = re.findall(r'<code class="secret">([a-z0-9]{5}-[a-z0-9]{5})</code>', response.text)
    return key, codes


def events(kind: str) -> list[models.SecurityEvent]:
    return in_db(
        lambda: list(models.SecurityEvent.select().where(models.SecurityEvent.kind == kind))
    )


# Setting up --------------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_the_key_and_stores_nothing_yet(client, mediator) -> None:
    client.login(mediator)
    response = client.get("/account/second-factor")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in page and 'class="qr"' in page  # drawn here, no image from elsewhere
    assert re.search(r'id="second-factor-secret">[A-Z2-7 ]{39}<', page)
    # Opening the page twice shows the same key (it waits in the session), stores nothing.
    assert (
        client.get("/account/second-factor")
        .get_data(as_text=True)
        .count(re.search(r'id="second-factor-secret">([A-Z2-7 ]+)<', page).group(1))
    )
    assert in_db(lambda: models.SecondFactor.select().count()) == 0


def test_a_wrong_code_does_not_switch_it_on(client, mediator) -> None:
    client.login(mediator)
    client.get("/account/second-factor")
    response = client.post("/account/second-factor", data={"code": "000000"})
    assert response.status_code == 422
    assert "Deze code klopt niet" in response.get_data(as_text=True)
    empty = client.post("/account/second-factor", data={"code": ""})
    assert empty.status_code == 422 and "Typ de 6 cijfers" in empty.get_data(as_text=True)
    assert in_db(lambda: models.SecondFactor.select().count()) == 0


def test_setting_up_shows_ten_recovery_codes_once_and_stores_them_hashed(client, mediator) -> None:
    client.login(mediator)
    key, codes = set_up_app(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = in_db(lambda: [c.code_hash for c in models.RecoveryCode.select()])
    assert len(stored) == 10
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in stored)
    factor = in_db(lambda: models.SecondFactor.get(models.SecondFactor.user == mediator.id))
    assert factor.secret == key
    # Shown once: Mijn account now says it is on and shows how many codes are left, not which.
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "Je hebt nog 10 herstelcodes." in page and codes[0] not in page
    assert "second-factor-on" in in_db(lambda: [e.action for e in models.AuditEvent.select()])
    # Switching on a second time answers 409 (the existing app stays).
    again = client.post("/account/second-factor", data={"code": pyotp.TOTP(key).now()})
    assert again.status_code == 409


def test_my_account_offers_the_second_factor(client, mediator) -> None:
    client.login(mediator)
    for headers in ({}, HTMX):
        page = client.get("/account", headers=headers).get_data(as_text=True)
        assert "Tweede stap instellen" in page


# Logging in --------------------------------------------------------------------------------


def test_login_asks_the_code_after_the_password(client, mediator) -> None:
    give_app(mediator)
    response = password_step(client, mediator)
    assert response.status_code == 303 and response.headers["Location"] == "/twofactor/code"
    # The password alone does not log in.
    assert client.get("/").status_code == 302
    assert "Tweede stap" in client.get("/twofactor/code").get_data(as_text=True)
    answer = client.post("/twofactor/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_code_of_the_step_before_is_accepted_for_a_slow_clock(client, mediator) -> None:
    give_app(mediator)
    password_step(client, mediator)
    previous = pyotp.TOTP(TOTP_SECRET).at(time.time() - 30)
    assert client.post("/twofactor/code", data={"code": previous}).status_code == 303


def test_a_code_is_good_only_once(app, mediator) -> None:
    give_app(mediator)
    code = pyotp.TOTP(TOTP_SECRET).now()
    first, second = device(app), device(app)
    password_step(first, mediator)
    assert first.post("/twofactor/code", data={"code": code}).status_code == 303
    password_step(second, mediator)
    refused = second.post("/twofactor/code", data={"code": code})
    assert refused.status_code == 401
    assert "al gebruikt" in refused.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_a_wrong_code_is_refused_logged_and_limited(client, mediator) -> None:
    give_app(mediator)
    password_step(client, mediator)
    for _ in range(5):
        assert client.post("/twofactor/code", data={"code": "123456"}).status_code == 401
    # The sixth try is refused without looking, even with the right code.
    right = client.post("/twofactor/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert right.status_code == 429
    assert "Te veel pogingen" in right.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert len(events("second-factor-failed")) == 5
    assert events("second-factor-failed")[0].user_id == mediator.id
    assert len(events("second-factor-throttled")) == 1


def test_the_code_step_without_a_password_first_goes_back_to_login(client, mediator) -> None:
    assert client.get("/twofactor/code").headers["Location"] == "/login"
    response = client.post("/twofactor/code", data={"code": "123456"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_a_recovery_code_works_once_and_not_twice(app, mediator) -> None:
    phone = device(app)
    phone.login(mediator)
    _, codes = set_up_app(phone)
    first, second = device(app), device(app)
    password_step(first, mediator)
    assert first.post("/twofactor/code", data={"code": codes[3].upper()}).status_code == 303
    assert first.get("/").status_code == 200
    password_step(second, mediator)
    assert second.post("/twofactor/code", data={"code": codes[3]}).status_code == 401
    assert len(events("recovery-code-used")) == 1
    assert "nog 9 herstelcodes" in phone.get("/account/second-factor").get_data(as_text=True)


def test_the_next_address_survives_the_second_step(client, mediator, case) -> None:
    give_app(mediator)
    client.csrf_token = None
    client.post(
        f"/login?next=/cases/{case.id}", data={"email": mediator.email, "password": PASSWORD}
    )
    client.refresh_csrf()
    answer = client.post("/twofactor/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert answer.headers["Location"] == f"/cases/{case.id}"


# Who must have it --------------------------------------------------------------------------


def test_a_coordinator_without_an_app_must_set_it_up_before_anything_else(client, app) -> None:
    boss = make_user("nadia.coord@vrijbaan.test", "Nadia Verbruggen", role="coordinator")
    in_db(lambda: models.SecondFactor.delete().execute())
    response = password_step(client, boss)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/account/second-factor")
    for url in ("/", "/cases/", "/admin/users", "/account"):
        sent = client.get(url)
        assert sent.status_code in (302, 303), url
        assert "/account/second-factor" in sent.headers["Location"]
    htmx = client.get("/cases/", headers=HTMX)
    assert "/account/second-factor" in htmx.headers["HX-Location"]
    assert "Je team vraagt een tweede stap" in client.get("/account/second-factor").text
    set_up_app(client)
    assert client.get("/admin/users").status_code == 200


def test_the_team_switch_asks_everyone(client, app, coordinator, mediator) -> None:
    sara = device(app)
    sara.login(mediator)
    assert sara.get("/").status_code == 200
    client.login(coordinator)
    page = client.get("/admin/security").get_data(as_text=True)
    assert "Sara El Amrani" in page  # listed as not set up yet
    response = client.post("/admin/security", data={"for_all": "y"})
    assert response.status_code == 303
    assert "Vanaf nu vraagt Vrijbaan iedereen" in client.get("/admin/security").text
    assert in_db(lambda: models.TeamSetting.is_on(models.SECOND_FACTOR_FOR_ALL))
    # Sara, already logged in, is sent to set it up at her next click.
    sent = sara.get("/cases/")
    assert "/account/second-factor" in sent.headers["Location"]
    # Tom, who had an app but logged in before the switch, gives a code once.
    tom = make_user("tom.peeters@vrijbaan.test", "Tom Peeters")
    tom_phone = device(app)
    tom_phone.login(tom)
    give_app(tom)
    asked = tom_phone.get("/cases/")
    assert "/twofactor/confirm" in asked.headers["Location"]
    confirm = tom_phone.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Je team vraagt nu een tweede stap" in confirm
    wrong = tom_phone.post(asked.headers["Location"], data={"confirm_secret": PASSWORD})
    assert wrong.status_code == 422 and "Geef een code uit je app" in wrong.text
    ok = tom_phone.post(asked.headers["Location"], data={"confirm_secret": fresh_code(tom)})
    assert ok.status_code == 303 and ok.headers["Location"] == "/cases/"
    assert tom_phone.get("/cases/").status_code == 200
    # Switched off again: mediators without an app are free again.
    client.post("/admin/security", data={})
    assert sara.get("/cases/").status_code == 200
    assert len(events("team-second-factor")) == 2


def test_the_security_page_is_for_coordinators_only(client, mediator) -> None:
    client.login(mediator)
    assert client.get("/admin/security").status_code == 403
    assert client.post("/admin/security", data={"for_all": "y"}).status_code == 403
    assert not in_db(lambda: models.TeamSetting.is_on(models.SECOND_FACTOR_FOR_ALL))


# A coordinator's reset ---------------------------------------------------------------------


def test_a_coordinator_resets_someones_second_factor(client, app, coordinator, mediator) -> None:
    sara = device(app)
    sara.login(mediator)
    set_up_app(sara)
    client.login(coordinator)
    page = client.get(f"/admin/users/{mediator.id}/edit").get_data(as_text=True)
    assert "Tweede stap wissen" in page
    response = client.post(f"/admin/users/{mediator.id}/second-factor/reset")
    assert response.status_code == 303
    assert "is overal afgemeld" in client.get(f"/admin/users/{mediator.id}/edit").text
    assert in_db(lambda: models.SecondFactor.of(mediator)) is None
    assert in_db(lambda: models.RecoveryCode.select().count()) == 0
    assert sara.get("/").status_code == 302  # her sessions ended
    audit = in_db(lambda: models.AuditEvent.get(models.AuditEvent.action == "second-factor-reset"))
    assert (audit.user_id, audit.object_id) == (coordinator.id, mediator.id)
    assert [e.user_id for e in events("second-factor-reset")] == [mediator.id]
    # With no app any more, she logs in with her password alone.
    assert password_step(sara, mediator).headers["Location"] == "/"


def test_a_coordinator_cannot_reset_their_own_here(client, coordinator) -> None:
    client.login(coordinator)
    client.post(f"/admin/users/{coordinator.id}/second-factor/reset")
    assert in_db(lambda: models.SecondFactor.of(coordinator)) is not None


# Asking again before grave actions ---------------------------------------------------------


def long_ago() -> None:
    """The password and code were given 11 minutes ago."""
    when = utcnow() - dt.timedelta(minutes=11)
    in_db(lambda: models.LoginSession.update(verified_at=when).execute())


def test_erasing_asks_again_after_ten_minutes_and_not_before(client, coordinator) -> None:
    case = make_case(coordinator)
    in_db(lambda: models.Case.update(status="closed").where(models.Case.id == case.id).execute())
    url = f"/cases/{case.id}/anonymise"
    assert client.login(coordinator) and client.get(url).status_code == 200
    long_ago()
    asked = client.get(url)
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"/twofactor/confirm?next=/cases/{case.id}/anonymise"
    confirm = client.get(asked.headers["Location"])
    assert "Bevestig dat jij het bent" in confirm.text
    wrong = client.post(asked.headers["Location"], data={"confirm_secret": "niet mijn wachtwoord"})
    assert wrong.status_code == 422 and "Dit klopt niet" in wrong.text
    assert len(events("reauth-failed")) == 1
    ok = client.post(asked.headers["Location"], data={"confirm_secret": PASSWORD})
    assert ok.status_code == 303 and ok.headers["Location"] == url
    assert client.get(url).status_code == 200


def test_a_code_also_confirms(client, coordinator) -> None:
    client.login(coordinator)
    long_ago()
    ok = client.post(
        "/twofactor/confirm?next=/admin/users", data={"confirm_secret": fresh_code(coordinator)}
    )
    assert ok.status_code == 303 and ok.headers["Location"] == "/admin/users"


def test_confirm_goes_only_to_a_page_of_this_site(client, mediator) -> None:
    client.login(mediator)
    ok = client.post(
        "/twofactor/confirm?next=https://evil.example/", data={"confirm_secret": PASSWORD}
    )
    assert ok.headers["Location"] == "/"


def test_deactivating_keeps_the_form_while_asking_again(client, coordinator, mediator) -> None:
    client.login(coordinator)
    long_ago()
    url = f"/admin/users/{mediator.id}/deactivate"
    asked = client.post(url)
    assert asked.status_code == 200 and "Bevestig dat jij het bent" in asked.text
    assert f'action="{url}"' in asked.text
    assert in_db(lambda: models.User.get_by_id(mediator.id).active)
    done = client.post(url, data={"confirm_secret": PASSWORD})
    assert done.status_code == 303
    assert not in_db(lambda: models.User.get_by_id(mediator.id).active)


def test_a_role_change_asks_again_and_keeps_what_was_typed(client, coordinator, mediator) -> None:
    client.login(coordinator)
    long_ago()
    url = f"/admin/users/{mediator.id}"
    data = {
        "name": "Sara El Amrani-Peeters",
        "role": "coordinator",
        "service": "jeugd",
        "version": str(mediator.version),
    }
    asked = client.post(url, data=data)
    assert asked.status_code == 200 and "Bevestig dat jij het bent" in asked.text
    for value in ("Sara El Amrani-Peeters", "coordinator", "jeugd"):
        assert f'value="{value}"' in asked.text
    assert in_db(lambda: models.User.get_by_id(mediator.id).role) == "mediator"
    done = client.post(url, data={**data, "confirm_secret": PASSWORD})
    assert done.status_code == 303
    saved = in_db(lambda: models.User.get_by_id(mediator.id))
    assert (saved.role, saved.name, saved.service) == ("coordinator", data["name"], "jeugd")


def test_other_edits_do_not_ask_again(client, coordinator, mediator) -> None:
    client.login(coordinator)
    long_ago()
    data = {
        "name": "Sara El Amrani",
        "role": "mediator",
        "service": "sport",
        "phone": "",
        "version": str(mediator.version),
    }
    assert client.post(f"/admin/users/{mediator.id}", data=data).status_code == 303


@pytest.mark.parametrize("action", ["password", "second-factor/reset"])
def test_resets_ask_again(client, coordinator, mediator, action) -> None:
    give_app(mediator, pyotp.random_base32())
    client.login(coordinator)
    long_ago()
    before = in_db(lambda: models.User.get_by_id(mediator.id).password_hash)
    asked = client.post(f"/admin/users/{mediator.id}/{action}")
    assert "Bevestig dat jij het bent" in asked.text
    assert in_db(lambda: models.User.get_by_id(mediator.id).password_hash) == before
    assert in_db(lambda: models.SecondFactor.of(mediator)) is not None


# How long a login lasts --------------------------------------------------------------------


def test_a_login_without_second_factor_lasts_two_hours_unused(client, mediator) -> None:
    client.login(mediator)
    hours = utcnow() - dt.timedelta(hours=1, minutes=50)
    in_db(lambda: models.LoginSession.update(last_seen_at=hours).execute())
    assert client.get("/").status_code == 200
    hours = utcnow() - dt.timedelta(hours=2, minutes=10)
    in_db(lambda: models.LoginSession.update(last_seen_at=hours).execute())
    assert client.get("/").status_code == 302


def test_a_login_without_second_factor_lasts_twelve_hours_at_most(client, mediator) -> None:
    client.login(mediator)
    in_db(
        lambda: models.LoginSession.update(created_at=utcnow() - dt.timedelta(hours=13)).execute()
    )
    assert client.get("/").status_code == 302


def own_device_login(client: BrowserLikeClient, user: models.User, own: bool) -> None:
    give_app(user)
    password_step(client, user)
    data = {"code": pyotp.TOTP(TOTP_SECRET).now(), **({"own_device": "y"} if own else {})}
    assert client.post("/twofactor/code", data=data).status_code == 303


def test_my_own_device_with_second_factor_stays_logged_in_longer(client, mediator) -> None:
    own_device_login(client, mediator, own=True)
    idle = utcnow() - dt.timedelta(hours=7)
    started = utcnow() - dt.timedelta(days=6)
    in_db(lambda: models.LoginSession.update(last_seen_at=idle, created_at=started).execute())
    assert client.get("/").status_code == 200
    in_db(lambda: models.LoginSession.update(created_at=utcnow() - dt.timedelta(days=8)).execute())
    assert client.get("/").status_code == 302


def test_a_device_not_marked_as_mine_keeps_the_short_lifetime(client, mediator) -> None:
    own_device_login(client, mediator, own=False)
    idle = utcnow() - dt.timedelta(hours=3)
    in_db(lambda: models.LoginSession.update(last_seen_at=idle).execute())
    assert client.get("/").status_code == 302


def test_the_code_step_lasts_five_minutes(client, mediator) -> None:
    give_app(mediator)
    password_step(client, mediator)
    with client.session_transaction() as cookie:
        pending = cookie["pending_login"]
        pending["at"] = (utcnow() - dt.timedelta(minutes=6)).isoformat()
        cookie["pending_login"] = pending
    late = client.post("/twofactor/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert late.status_code == 303 and late.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_a_coordinator_who_forgets_the_old_app_must_set_up_the_new_one(client, coordinator) -> None:
    client.login(coordinator)
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "Oude app vergeten" in page
    response = client.post("/account/second-factor/remove")
    assert response.status_code == 303
    assert in_db(lambda: models.SecondFactor.of(coordinator)) is None
    assert "Je app is vergeten" in client.get("/account/second-factor").text
    assert "/account/second-factor" in client.get("/cases/").headers["Location"]
    set_up_app(client)
    assert client.get("/cases/").status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client, mediator) -> None:
    client.login(mediator)
    _, old = set_up_app(client)
    long_ago()
    asked = client.post("/account/second-factor/recovery-codes")
    assert "Bevestig dat jij het bent" in asked.text
    fresh = client.post("/account/second-factor/recovery-codes", data={"confirm_secret": PASSWORD})
    new = re.findall(r'<code class="secret">([a-z0-9]{5}-[a-z0-9]{5})</code>', fresh.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert not in_db(lambda: models.RecoveryCode.use(mediator, old[0]))
    assert in_db(lambda: models.RecoveryCode.use(mediator, new[0]))
