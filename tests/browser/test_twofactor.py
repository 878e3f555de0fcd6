"""The second factor as a new team member meets it, in Chromium at phone size (360 px): set up the
authenticator app from Mijn account (reading the key the page shows, codes made with pyotp), log
out, log in with a code, log in with a recovery code, and be asked again before erasing data."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, enter_code, screenshot
from tests.conftest import PASSWORD, in_db, make_case, utcnow
from webapp import models

NARROW = {"width": 360, "height": 740}


def password_step(page: Any, base: str, user: models.User) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def log_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{base}/login")


def test_set_up_the_app_then_log_in_with_a_code_and_with_a_recovery_code(
    page: Any, live_server: str, mediator: models.User
) -> None:
    page.set_viewport_size(NARROW)
    password_step(page, live_server, mediator)
    page.wait_for_url(f"{live_server}/")
    page.get_by_role("link", name=re.compile(r"^Sara\W+mijn account$")).click()
    page.get_by_role("link", name="Tweede stap instellen").click()
    expect(page.get_by_role("heading", name="Tweede stap instellen")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "twofactor-set-up-360")
    assert axe_violations(page) == []
    key = page.locator("#second-factor-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(key)

    # A typo first: refused, said next to the field.
    page.get_by_label("Code uit je app").fill("123456")
    page.get_by_role("button", name="Tweede stap aanzetten").click()
    expect(page.locator(".error")).to_contain_text("Deze code klopt niet")
    page.get_by_label("Code uit je app").fill(totp.now())
    page.get_by_role("button", name="Tweede stap aanzetten").click()
    expect(page.get_by_role("heading", name="Je herstelcodes")).to_be_visible()
    codes = page.locator(".codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "twofactor-recovery-codes-360")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Ik heb ze bewaard").click()
    page.wait_for_url(f"{live_server}/")

    # Log out and in again: the password, then a code (the next one: this one is spent).
    log_out(page, live_server)
    password_step(page, live_server, mediator)
    page.wait_for_url(f"{live_server}/twofactor/code")
    expect(page.get_by_role("heading", name="Tweede stap")).to_be_visible()
    screenshot(page, "twofactor-code-360")
    assert axe_violations(page) == []
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_label("Dit is mijn eigen toestel").check()
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{live_server}/")
    assert in_db(lambda: models.LoginSession.get().own_device) is True

    # Phone lost: a recovery code gets in, once.
    log_out(page, live_server)
    password_step(page, live_server, mediator)
    page.wait_for_url(f"{live_server}/twofactor/code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{live_server}/")
    log_out(page, live_server)
    password_step(page, live_server, mediator)
    page.wait_for_url(f"{live_server}/twofactor/code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.locator(".error")).to_contain_text("al gebruikt")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_asked_again_before_erasing_personal_data(
    page: Any, live_server: str, coordinator: models.User
) -> None:
    page.set_viewport_size(NARROW)
    case = make_case(coordinator)
    in_db(lambda: models.Case.update(status="closed").where(models.Case.id == case.id).execute())
    password_step(page, live_server, coordinator)
    page.wait_for_url(f"{live_server}/twofactor/code")
    enter_code(page, live_server, coordinator)
    # Eleven minutes later...
    earlier = utcnow() - dt.timedelta(minutes=11)
    in_db(lambda: models.LoginSession.update(verified_at=earlier).execute())
    page.goto(f"{live_server}/cases/{case.id}/anonymise")
    expect(page.get_by_role("heading", name="Bevestig dat jij het bent")).to_be_visible()
    screenshot(page, "twofactor-confirm-360")
    assert axe_violations(page) == []
    page.get_by_label("Wachtwoord of code uit je app").fill("niet mijn wachtwoord")
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.locator(".error")).to_contain_text("Dit klopt niet")
    page.get_by_label("Wachtwoord of code uit je app").fill(PASSWORD)
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(f"{live_server}/cases/{case.id}/anonymise")
    screenshot(page, "twofactor-anonymise-after-confirm-360")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Persoonsgegevens wissen").click()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    expect(page.locator("[role=status]").filter(has_text="gewist")).not_to_have_count(0)
    person = in_db(lambda: models.Case.get_by_id(case.id).client)
    assert person.is_anonymised
