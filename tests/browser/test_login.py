"""Logging in at phone size in Chromium."""

from tests.browser.conftest import axe_violations, log_in, screenshot


def test_mediator_logs_in_on_a_phone(page, live_server, mediator) -> None:
    page.goto(f"{live_server}/")
    assert "/login" in page.url
    assert axe_violations(page) == []
    log_in(page, live_server, mediator)
    screenshot(page, "login-then-today")
    assert page.get_by_role("navigation", name="Hoofdmenu").is_visible()


def test_wrong_password_shows_the_error_and_keeps_the_email(page, live_server, mediator) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill(mediator.email)
    page.get_by_label("Wachtwoord").fill("not the password")
    page.get_by_role("button", name="Aanmelden").click()
    assert page.get_by_role("alert").inner_text().startswith("Dit e-mailadres en wachtwoord")
    assert page.get_by_label("E-mailadres").input_value() == mediator.email
