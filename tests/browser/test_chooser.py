"""Choosing an activity for a child on a phone: the list fits the child, says what it hides, and a
free activity enrols as "gratis" without a question about the cost."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, log_in, screenshot
from tests.conftest import in_db, make_case, make_client
from tests.test_activities import make_activity, make_provider
from webapp import models
from webapp.timeutil import local_today


def test_choose_what_fits_an_8_year_old_and_enrol_in_a_free_activity(
    page, live_server, mediator
) -> None:
    born = dt.date(local_today().year - 8, 1, 1)
    case = make_case(mediator, make_client(first_name="Rayan", birth_date=born))
    library = make_provider(name="Bibliotheek Permeke", kind="bibliotheek")
    make_activity(
        library,
        title="Voorleesuurtje",
        domain="cultuur",
        age_min=4,
        age_max=8,
        schedule="woensdag 14–15 uur",
        price_full_cents=0,
        price_reduced_cents=None,
    )
    make_activity(title="Kinderturnen", age_min=6, age_max=12)
    make_activity(title="Muziek voor volwassenen", domain="cultuur", age_min=18, age_max=None)
    make_activity(title="Filmklas", domain="cultuur", age_min=14, age_max=20)
    log_in(page, live_server, mediator)

    page.goto(f"{live_server}/cases/{case.id}")
    page.get_by_role("link", name="Inschrijven voor een activiteit").tap()
    page.wait_for_url(f"{live_server}/activities/cases/{case.id}/choose")
    results = page.locator("#activity-results")
    expect(results.locator(".title")).to_have_text(["Kinderturnen", "Voorleesuurtje"])
    notice = results.locator(".fit-hidden")
    expect(notice).to_contain_text("2 activiteiten passen niet bij 8 jaar")
    expect(page.get_by_label("8 jaar")).to_be_checked()
    assert axe_violations(page) == []
    for width in (320, 360):
        page.set_viewport_size({"width": width, "height": 740})
        screenshot(page, f"chooser-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    # "toon toch" shows them after all; ticking the chip again filters in place (htmx).
    notice.get_by_role("link", name="toon toch").tap()
    expect(results.locator(".title")).to_have_count(4)
    expect(page.get_by_label("8 jaar")).not_to_be_checked()
    page.get_by_label("8 jaar").check()
    expect(results.locator(".title")).to_have_text(["Kinderturnen", "Voorleesuurtje"])
    expect(results.locator(".fit-hidden")).to_contain_text("2 activiteiten")

    # Nothing for "turnen" with a typo: say what to try.
    page.get_by_label("Zoeken").fill("turnen leren")
    expect(results).to_contain_text("Niets gevonden voor ‘turnen leren’.")
    results.get_by_role("link", name="turnen", exact=True).tap()
    expect(results.locator(".title")).to_have_text(["Kinderturnen"])

    # The free activity: "gratis" is chosen already, saving works.
    page.goto(f"{live_server}/activities/cases/{case.id}/choose")
    page.get_by_role("link", name="Voorleesuurtje").tap()
    expect(page.get_by_label("gratis")).to_be_checked()
    screenshot(page, "chooser-enrol-free")
    page.get_by_role("button", name="Inschrijven").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}#case-offer")
    expect(page.get_by_text("Rayan is ingeschreven voor Voorleesuurtje.")).to_be_visible()
    enrolment = in_db(lambda: models.Enrolment.get(models.Enrolment.case == case.id))
    assert enrolment.cost_arrangement == "free"
