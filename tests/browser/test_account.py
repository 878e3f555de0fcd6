"""Mijn account at phone size: a mediator reaches it from the top bar, makes a typing mistake,
changes the password, and switches the screens to English and back."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import PASSWORD, in_db
from webapp import models

NEW_PASSWORD = "Fietsen langs het Schijn 2026"


def test_change_password_and_language(page: Any, live_server: str, mediator) -> None:
    log_in(page, live_server, mediator)
    page.get_by_role("link", name=re.compile(r"^Sara\W+mijn account$")).click()
    expect(page.get_by_role("heading", name="Mijn account", level=1)).to_be_visible()

    # A slip of the thumb: the error shows next to the field and the focus goes there.
    page.get_by_label("Huidig wachtwoord").fill(PASSWORD)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nog eens").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    error = page.locator("#new_again-error")
    expect(error).to_have_text("De twee wachtwoorden verschillen.")
    expect(page.get_by_label("Nieuw wachtwoord nog eens")).to_be_focused()

    page.get_by_label("Huidig wachtwoord").fill(PASSWORD)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nog eens").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    expect(page.locator(".flash")).to_have_text("Je wachtwoord is gewijzigd.")
    assert in_db(lambda: models.User.get_by_id(mediator.id).check_password(NEW_PASSWORD))

    page.get_by_label("English").check()
    page.get_by_role("button", name="Taal bewaren").click()
    expect(page.get_by_role("heading", name="My account", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "account-english")
    page.get_by_role("link", name="Today").click()
    expect(page).to_have_url(live_server + "/")  # the page has come, not only its menu
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Sara\W+my account$")).click()
    expect(page.get_by_role("heading", name="My account", level=1)).to_be_visible()
    page.get_by_label("Nederlands").check()
    page.get_by_role("button", name="Save language").click()
    expect(page.get_by_role("heading", name="Mijn account", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
